"""The presentation style and the figure export helper.

One style for every figure: 16:9 at slide size, fonts readable from the back of a room, one
palette. :func:`export` writes PNG for slides and SVG/PDF for print, byte-identical each time
the same figure is saved (dates, software names and random ids are stripped).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import matplotlib as mpl
import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure

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

STYLE: dict = {
    "figure.figsize": SLIDE_SIZE,
    "figure.dpi": 100,
    "figure.constrained_layout.use": True,
    "font.size": 13,
    "axes.titlesize": 16,
    "axes.titleweight": "bold",
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


def export(
    fig: Figure,
    name: str,
    formats: Iterable[str] = ("png", "svg", "pdf"),
    directory: str | Path = "figures",
    *,
    dpi: int = 200,
) -> list[Path]:
    """Save ``fig`` as ``directory/name.<format>`` for each format; return the paths written.

    PNG is for slides, SVG and PDF for print. Files carry no dates, software versions or
    random ids, and the figure's layout is computed once and then frozen, so saving the same
    figure twice gives byte-identical files.

    Parameters
    ----------
    fig : matplotlib Figure
    name : str
        File stem, e.g. ``"01_tracking"``; no folder and no extension.
    formats : iterable of {'png', 'svg', 'pdf'}
    directory : str or Path
        Created when missing.
    dpi : int
        Resolution of the PNG.

    Examples
    --------
    >>> import tempfile, matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> _ = ax.plot([0, 1], [1, 0])
    >>> paths = export(fig, "example", directory=tempfile.mkdtemp())
    >>> [p.suffix for p in paths]
    ['.png', '.svg', '.pdf']
    >>> plt.close(fig)
    """
    if not isinstance(fig, Figure):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    dpi = check_number(dpi, "dpi", low=1, integer=True)
    if not name or Path(name).name != name or Path(name).suffix:
        raise ValueError(f"name={name!r} must be a bare file stem such as '01_tracking'")
    formats = tuple(formats)
    unknown = [f for f in formats if f not in _METADATA]
    if unknown:
        raise ValueError(f"formats {unknown} are not supported; use png, svg and/or pdf")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    if fig.get_layout_engine() is not None:
        # A layout engine (constrained layout, in the churnlab style) runs again on every save
        # and moves the axes by tiny amounts, so two saves would differ. Run it once, then freeze
        # the geometry: every later save draws exactly the same figure.
        fig.draw_without_rendering()
        fig.set_layout_engine("none")
    paths = []
    with mpl.rc_context({"svg.hashsalt": "churnlab"}):
        for fmt in formats:
            path = directory / f"{name}.{fmt}"
            fig.savefig(path, format=fmt, dpi=dpi, metadata=_METADATA[fmt], bbox_inches="tight")
            paths.append(path)
    return paths
