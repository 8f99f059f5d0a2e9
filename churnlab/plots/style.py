"""The presentation style and the figure export helper.

One style for every figure: 16:9 at slide size, fonts readable from the back of a room, one
colour-blind-safe palette. :func:`export` writes PNG for slides and SVG/PDF for print,
byte-identical each time the same figure is saved (dates, software names and random ids are
stripped), with the figure's alt text in every file. It refuses a figure that would not stand
on its own as a slide (:func:`figure_problems`): no title, an axis without a label, text too
small to read.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from xml.sax.saxutils import escape

import matplotlib as mpl
import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.text import Text

from churnlab._validation import check_number

#: The palette, in the order series are drawn (colour-blind safe, after Okabe & Ito 2008).
PALETTE: tuple[str, ...] = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # green
    "#D55E00",  # vermillion
    "#CC79A7",  # purple
    "#56B4E9",  # sky blue
    "#F0E442",  # yellow
    "#000000",  # black
)

#: Slide size in inches (16:9).
SLIDE_SIZE: tuple[float, float] = (10.0, 5.625)

#: The smallest font size (points, on a figure of slide size) that :func:`export` accepts.
MIN_FONT_SIZE: float = 10.0

STYLE: dict = {
    "figure.figsize": SLIDE_SIZE,
    "figure.dpi": 100,
    "figure.constrained_layout.use": True,
    "font.size": 13,
    # the suptitle states the finding (the slide's headline); axes titles say what is plotted
    "figure.titlesize": 17,
    "figure.titleweight": "bold",
    "axes.titlesize": 14,
    "axes.titleweight": "normal",
    "axes.labelsize": 14,
    "xtick.labelsize": 12,
    "ytick.labelsize": 12,
    "legend.fontsize": 12,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.prop_cycle": mpl.cycler(color=list(PALETTE)),
    "image.cmap": "viridis",
    "lines.linewidth": 2.2,
    "savefig.dpi": 200,
    "savefig.bbox": "tight",
    "svg.hashsalt": "churnlab",
    "svg.fonttype": "path",
    "pdf.fonttype": 42,
}

_METADATA = {
    "png": {"Software": None},
    "svg": {"Date": None, "Creator": None},
    "pdf": {"CreationDate": None, "ModDate": None, "Creator": None, "Producer": None},
}


def use_style() -> None:
    """Apply the churnlab presentation style to every figure made from now on.

    >>> use_style()
    >>> import matplotlib as mpl
    >>> tuple(mpl.rcParams["figure.figsize"])
    (10.0, 5.625)
    """
    mpl.rcParams.update(STYLE)


def axes_or_new(ax: Axes | None) -> Axes:
    """``ax`` itself, or the Axes of a new figure when ``ax`` is None.

    Every plot function starts with it, so that it draws into the Axes it is given and makes a
    figure of its own only when it is given none.

    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> axes_or_new(ax) is ax
    True
    >>> plt.close("all")
    """
    if ax is None:
        _, ax = plt.subplots()
    return ax


@contextmanager
def style_context() -> Iterator[None]:
    """The presentation style inside a ``with`` block only."""
    with mpl.rc_context(STYLE):
        yield


def figure_title(fig: Figure) -> str:
    """The figure's title: its suptitle, else the titles of its axes joined by "; ".

    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> _ = ax.set_title("Churn by decile")
    >>> figure_title(fig)
    'Churn by decile'
    >>> _ = fig.suptitle("Nine in ten of the top decile leave")
    >>> figure_title(fig)
    'Nine in ten of the top decile leave'
    >>> plt.close(fig)
    """
    suptitle = fig._suptitle.get_text().strip() if fig._suptitle is not None else ""
    if suptitle:
        return suptitle
    titles = [_axes_title(ax) for ax in _plot_axes(fig)]
    return "; ".join(t for t in titles if t)


def figure_problems(fig: Figure, *, min_font_size: float = MIN_FONT_SIZE) -> list[str]:
    """What keeps ``fig`` from being a slide that stands on its own; empty when nothing does.

    A figure needs a title (a suptitle, or a title on every plot), a label on every axis that
    shows tick labels (colour bars included), and no visible text smaller than
    ``min_font_size`` points. :func:`export` refuses a figure with any of these problems.
    The figure is drawn once (without rendering) so that tick labels are known.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> _ = ax.plot([0, 1], [3, 5])
    >>> for problem in figure_problems(fig):
    ...     print(problem)
    no title: set a suptitle or a title on every plot
    axes 1: x axis has tick labels but no label
    axes 1: y axis has tick labels but no label
    >>> _ = ax.set(title="Sales", xlabel="Year", ylabel="Sales (USD)")
    >>> figure_problems(fig)
    []
    >>> plt.close(fig)
    """
    fig.draw_without_rendering()
    problems = []
    has_suptitle = fig._suptitle is not None and fig._suptitle.get_text().strip()
    plots = _plot_axes(fig)
    if not has_suptitle and (not plots or not all(_axes_title(ax) for ax in plots)):
        problems.append("no title: set a suptitle or a title on every plot")
    for number, ax in enumerate(_shown_axes(fig), start=1):
        what = "colour bar" if _is_colorbar(ax) else "axes"
        for name, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
            if not axis.get_visible():
                continue
            shows_ticks = any(
                t.get_visible() and t.get_text().strip() for t in axis.get_ticklabels()
            )
            if shows_ticks and not axis.get_label_text().strip():
                problems.append(f"{what} {number}: {name} axis has tick labels but no label")
    small = sorted(
        {
            f"{t.get_text().strip()[:40]!r} ({t.get_fontsize():g} pt)"
            for t in fig.findobj(Text)
            if t.get_visible() and t.get_text().strip() and t.get_fontsize() < min_font_size
        }
    )
    if small:
        problems.append(f"text smaller than {min_font_size:g} pt: " + ", ".join(small))
    return problems


def export(
    fig: Figure,
    name: str,
    formats: Iterable[str] = ("png", "svg", "pdf"),
    directory: str | Path = "figures",
    *,
    alt_text: str,
    dpi: int = 200,
) -> list[Path]:
    """Save ``fig`` as ``directory/name.<format>`` with its alt text; return the paths written.

    PNG is for slides, SVG and PDF for print. The figure must stand on its own as a slide:
    :func:`figure_problems` lists what is missing (a title, axis labels, readable text) and
    any problem is an error. ``alt_text`` describes the figure for readers who cannot see it
    (what is plotted and what it shows); it is required and written into every file: the PNG
    ``Description`` text chunk (the title as ``Title``), the SVG ``<title>`` and ``<desc>``
    elements, the PDF ``Subject`` (the title as ``Title``), and ``directory/name.txt``.

    Files carry no dates, software versions or random ids, and the figure's layout is
    computed once and then frozen, so saving the same figure twice gives byte-identical
    files.

    Parameters
    ----------
    fig : matplotlib Figure
    name : str
        File stem, e.g. ``"01_tracking"``; no folder and no extension.
    formats : iterable of {'png', 'svg', 'pdf'}
    directory : str or Path
        Created when missing.
    alt_text : str
        The figure described in words, one or a few sentences; not empty.
    dpi : int
        Resolution of the PNG.

    Returns
    -------
    list of Path
        One file per format, then the alt-text file ``name.txt``.

    Raises
    ------
    ValueError
        For an empty ``alt_text``, a bad ``name`` or format, or a figure with problems.

    Examples
    --------
    >>> import tempfile, matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> _ = ax.plot([2022, 2023, 2024], [1.0, 0.8, 0.7])
    >>> _ = ax.set(title="Sales fell 30% in two years", xlabel="Year", ylabel="Sales (USD m)")
    >>> paths = export(fig, "example", directory=tempfile.mkdtemp(),
    ...                alt_text="Line chart of yearly sales, falling from 1.0 to 0.7 million USD.")
    >>> [p.suffix for p in paths]
    ['.png', '.svg', '.pdf', '.txt']
    >>> plt.close(fig)
    """
    if not isinstance(fig, Figure):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    dpi = check_number(dpi, "dpi", low=1, integer=True)
    if not name or Path(name).name != name or Path(name).suffix:
        raise ValueError(f"name={name!r} must be a bare file stem such as '01_tracking'")
    if not isinstance(alt_text, str) or not alt_text.strip():
        raise ValueError(
            f"alt_text={alt_text!r}: describe the figure in words (what is plotted and what it "
            "shows) for readers who cannot see it"
        )
    alt_text = " ".join(alt_text.split())
    formats = tuple(formats)
    unknown = [f for f in formats if f not in _METADATA]
    if unknown:
        raise ValueError(f"formats {unknown} are not supported; use png, svg and/or pdf")
    problems = figure_problems(fig)
    if problems:
        raise ValueError(f"figure {name!r} is not ready for a slide: " + "; ".join(problems))
    title = figure_title(fig)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    if fig.get_layout_engine() is not None:
        # A layout engine (constrained layout, in the churnlab style) runs again on every save
        # and moves the axes by tiny amounts, so two saves would differ. Run it once, then freeze
        # the geometry: every later save draws exactly the same figure.
        fig.draw_without_rendering()
        fig.set_layout_engine("none")
    described = {
        "png": {"Title": title, "Description": alt_text},
        "svg": {"Title": title, "Description": alt_text},
        "pdf": {"Title": title, "Subject": alt_text},
    }
    paths = []
    with mpl.rc_context({"svg.hashsalt": "churnlab"}):
        for fmt in formats:
            path = directory / f"{name}.{fmt}"
            metadata = {**_METADATA[fmt], **described[fmt]}
            buffer = io.BytesIO()
            fig.savefig(buffer, format=fmt, dpi=dpi, metadata=metadata, bbox_inches="tight")
            data = buffer.getvalue()
            if fmt == "svg":
                data = _svg_with_title(data, title, alt_text)
            path.write_bytes(data)
            paths.append(path)
    sidecar = directory / f"{name}.txt"
    sidecar.write_text(alt_text + "\n", encoding="utf-8")
    paths.append(sidecar)
    return paths


def _svg_with_title(svg: bytes, title: str, description: str) -> bytes:
    """``svg`` with ``<title>`` and ``<desc>`` as the first children of the root element, where
    screen readers and browsers look for an SVG's accessible name and description."""
    start = svg.index(b"<svg")
    end = svg.index(b">", start) + 1
    elements = (
        f'\n <title id="churnlab-title">{escape(title)}</title>'
        f'\n <desc id="churnlab-desc">{escape(description)}</desc>'
    ).encode()
    tag = svg[start:end].replace(
        b"<svg", b'<svg role="img" aria-labelledby="churnlab-title churnlab-desc"', 1
    )
    return svg[:start] + tag + elements + svg[end:]


def _is_colorbar(ax: Axes) -> bool:
    return getattr(ax, "_colorbar", None) is not None


def _shown_axes(fig: Figure) -> list[Axes]:
    return [ax for ax in fig.get_axes() if ax.get_visible() and ax.axison]


def _plot_axes(fig: Figure) -> list[Axes]:
    """The figure's plots: shown axes that are neither colour bars nor twins of another."""
    shown = _shown_axes(fig)
    twins = {
        id(ax)
        for ax in shown
        for other in ax.get_shared_x_axes().get_siblings(ax)
        + ax.get_shared_y_axes().get_siblings(ax)
        if other is not ax
        and other in shown
        and shown.index(other) < shown.index(ax)
        and _same_box(ax, other)
    }
    return [ax for ax in shown if not _is_colorbar(ax) and id(ax) not in twins]


def _same_box(a: Axes, b: Axes) -> bool:
    return a.get_position().bounds == b.get_position().bounds


def _axes_title(ax: Axes) -> str:
    parts = (ax.get_title(loc) for loc in ("center", "left", "right"))
    return " ".join(p.strip() for p in parts if p.strip())
