"""The presentation style and the figure export helper (churnlab/plots/style.py)."""

import xml.etree.ElementTree as ET

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pytest
from PIL import Image

from churnlab.plots import (
    PALETTE,
    SLIDE_SIZE,
    export,
    figure_problems,
    figure_title,
    style_context,
    use_style,
)
from churnlab.plots.style import STYLE

# File signatures (magic numbers) of the three formats, from their specifications.
SIGNATURES = {"png": b"\x89PNG\r\n\x1a\n", "svg": b"<?xml", "pdf": b"%PDF-"}
ALT = "Bars rising from 1 to 3 customers, with a line falling from 2 to 0 and back to 1."


def _make_figure():
    with style_context():
        fig, ax = plt.subplots()
        ax.plot([0, 1, 2], [2, 0, 1], label="a line")
        ax.bar([0, 1, 2], [1, 2, 3], label="bars")
        ax.set_title("A title")
        ax.set_xlabel("Week")
        ax.set_ylabel("Customers")
        ax.legend()
    return fig


def _export(fig, name, **kwargs):
    return export(fig, name, alt_text=kwargs.pop("alt_text", ALT), **kwargs)


@pytest.fixture
def figure():
    fig = _make_figure()
    yield fig
    plt.close(fig)


def test_export_writes_each_format_with_its_signature(figure, tmp_path):
    paths = _export(figure, "01_example", directory=tmp_path / "figures")
    assert [p.name for p in paths] == [
        "01_example.png",
        "01_example.svg",
        "01_example.pdf",
        "01_example.txt",
    ]
    for path in paths[:3]:
        fmt = path.suffix[1:]
        assert path.read_bytes().startswith(SIGNATURES[fmt]), fmt


def test_export_only_the_requested_formats(figure, tmp_path):
    paths = _export(figure, "only_png", formats=["png"], directory=tmp_path)
    assert [p.name for p in paths] == ["only_png.png", "only_png.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["only_png.png", "only_png.txt"]


@pytest.mark.parametrize("fmt", ["png", "svg", "pdf"])
def test_the_same_figure_built_twice_exports_byte_identical_files(tmp_path, fmt):
    # what makes committed figures reproducible: re-running a notebook rebuilds each figure
    files = []
    for folder in ("a", "b"):
        fig = _make_figure()
        files.append(_export(fig, "twice", formats=[fmt], directory=tmp_path / folder)[0])
        plt.close(fig)
    assert files[0].read_bytes() == files[1].read_bytes()


@pytest.mark.parametrize("fmt", ["png", "svg", "pdf"])
def test_saving_a_figure_without_layout_engine_twice_is_byte_identical(figure, tmp_path, fmt):
    figure.set_layout_engine("none")
    first = _export(figure, "twice", formats=[fmt], directory=tmp_path / "a")[0].read_bytes()
    second = _export(figure, "twice", formats=[fmt], directory=tmp_path / "b")[0].read_bytes()
    assert first == second


@pytest.mark.parametrize("fmt", ["png", "svg", "pdf"])
def test_saving_the_same_figure_twice_is_byte_identical(figure, tmp_path, fmt):
    first = _export(figure, "twice", formats=[fmt], directory=tmp_path / "a")[0].read_bytes()
    second = _export(figure, "twice", formats=[fmt], directory=tmp_path / "b")[0].read_bytes()
    assert first == second


def test_exported_files_carry_no_dates_or_software_versions(figure, tmp_path):
    svg, pdf, _ = _export(figure, "meta", formats=["svg", "pdf"], directory=tmp_path)
    assert b"<dc:date>" not in svg.read_bytes()
    assert b"Matplotlib v" not in svg.read_bytes()
    assert b"/CreationDate" not in pdf.read_bytes()
    assert b"/Producer" not in pdf.read_bytes()


@pytest.mark.parametrize("name", ["", "sub/name", "name.png", "../up"])
def test_bad_names_raise(figure, tmp_path, name):
    with pytest.raises(ValueError, match="bare file stem"):
        _export(figure, name, directory=tmp_path)


def test_unknown_format_raises_and_writes_nothing(figure, tmp_path):
    with pytest.raises(ValueError, match="jpg"):
        _export(figure, "x", formats=["png", "jpg"], directory=tmp_path / "out")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_non_figure_raises(tmp_path):
    fig, ax = plt.subplots()
    with pytest.raises(TypeError, match="Figure"):
        _export(ax, "x", directory=tmp_path)
    plt.close(fig)


def test_style_context_applies_the_style_only_inside():
    before = tuple(mpl.rcParams["figure.figsize"])
    with style_context():
        assert tuple(mpl.rcParams["figure.figsize"]) == SLIDE_SIZE
        assert mpl.rcParams["axes.prop_cycle"].by_key()["color"] == list(PALETTE)
    assert tuple(mpl.rcParams["figure.figsize"]) == before


def test_use_style_sets_every_style_entry():
    with mpl.rc_context():
        use_style()
        for key, value in STYLE.items():
            if key == "axes.prop_cycle":
                assert mpl.rcParams[key] == value
            elif isinstance(value, tuple):
                assert tuple(mpl.rcParams[key]) == value, key
            else:
                assert mpl.rcParams[key] == value, key


def test_slide_size_is_16_by_9():
    # 16:9 is the widescreen slide ratio
    assert SLIDE_SIZE[0] / SLIDE_SIZE[1] == pytest.approx(16 / 9)


# --- alt text -------------------------------------------------------------------------------
ALT_SPECIAL = 'Share of "churners" (a < b & c) falls: 70% -> 20%, noted \\ back-slash.'


def test_alt_text_and_title_are_in_every_file(figure, tmp_path):
    png, svg, pdf, txt = _export(figure, "alt", directory=tmp_path, alt_text=ALT_SPECIAL)
    # PNG: tEXt/iTXt chunks, as read by an image library
    text = Image.open(png).text
    assert text["Description"] == ALT_SPECIAL
    assert text["Title"] == "A title"
    # SVG: <title> and <desc> are the first children of the root, the root names them
    root = ET.fromstring(svg.read_bytes())
    ns = "{http://www.w3.org/2000/svg}"
    assert [child.tag for child in root][:2] == [f"{ns}title", f"{ns}desc"]
    assert root[0].text == "A title"
    assert root[1].text == ALT_SPECIAL
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "churnlab-title churnlab-desc"
    # PDF: the document information dictionary (a PDF text string: UTF-16 with a byte-order
    # mark when not plain ASCII; parentheses and back-slashes escaped)
    data = pdf.read_bytes()
    assert b"/Title (A title)" in data
    subject = data[data.index(b"/Subject (") + len(b"/Subject (") :]
    expected = ALT_SPECIAL.encode("latin-1").replace(b"\\", b"\\\\")
    expected = expected.replace(b"(", b"\\(").replace(b")", b"\\)")
    assert subject.startswith(expected + b")")
    # the sidecar for reports and slide software
    assert txt.read_text(encoding="utf-8") == ALT_SPECIAL + "\n"


def test_alt_text_outside_latin1_survives_every_format(figure, tmp_path):
    alt = "NPS rises from \u22125 to +26 \u2192 composition, not service (\u2248 +20 points)."
    png, svg, pdf, txt = _export(figure, "unicode", directory=tmp_path, alt_text=alt)
    assert Image.open(png).text["Description"] == alt
    assert ET.fromstring(svg.read_bytes())[1].text == alt
    utf16 = b"\xfe\xff" + alt.encode("utf-16-be")
    assert utf16 in pdf.read_bytes().replace(b"\\(", b"(").replace(b"\\)", b")")
    assert txt.read_text(encoding="utf-8").strip() == alt


def test_alt_text_whitespace_is_collapsed_to_one_line(figure, tmp_path):
    *_, txt = _export(figure, "ws", directory=tmp_path, alt_text="  Two\n  lines\tof text. ")
    assert txt.read_text(encoding="utf-8") == "Two lines of text.\n"


def test_alt_text_is_required(figure, tmp_path):
    with pytest.raises(TypeError, match="alt_text"):
        export(figure, "x", directory=tmp_path)
    for empty in ["", "   \n"]:
        with pytest.raises(ValueError, match="alt_text"):
            export(figure, "x", directory=tmp_path, alt_text=empty)
    assert not any(tmp_path.iterdir())


def test_changing_the_alt_text_changes_the_files(tmp_path):
    files = {}
    for alt in ("First description.", "Second description."):
        fig = _make_figure()
        files[alt] = _export(fig, "x", directory=tmp_path / alt[:5], alt_text=alt)
        plt.close(fig)
    for a, b in zip(*files.values(), strict=True):
        assert a.read_bytes() != b.read_bytes(), a.suffix


# --- a figure that stands on its own ------------------------------------------------------------
def test_a_complete_figure_has_no_problems(figure):
    assert figure_problems(figure) == []
    assert figure_title(figure) == "A title"


def test_missing_title_and_labels_are_refused_and_nothing_is_written(tmp_path):
    with style_context():
        fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    problems = figure_problems(fig)
    assert problems == [
        "no title: set a suptitle or a title on every plot",
        "axes 1: x axis has tick labels but no label",
        "axes 1: y axis has tick labels but no label",
    ]
    with pytest.raises(ValueError, match="no title.*x axis has tick labels but no label"):
        _export(fig, "bare", directory=tmp_path / "out")
    assert not (tmp_path / "out").exists()
    plt.close(fig)


def test_a_suptitle_stands_for_the_plots_titles():
    with style_context():
        fig, (left, right) = plt.subplots(1, 2)
    for ax in (left, right):
        ax.plot([0, 1], [0, 1])
        ax.set(xlabel="Share contacted (%)", ylabel="Share reached (%)")
    left.set_title("Gains")
    assert figure_problems(fig) == ["no title: set a suptitle or a title on every plot"]
    fig.suptitle("The top 10% of the list holds 13% of the churners")
    assert figure_problems(fig) == []
    assert figure_title(fig) == "The top 10% of the list holds 13% of the churners"
    plt.close(fig)


def test_axes_without_tick_labels_need_no_label_and_twins_need_their_own():
    with style_context():
        fig, ax = plt.subplots()
    ax.barh([0, 1], [0.4, 0.6])
    ax.set_xticks([])
    ax.set_yticks([0, 1], labels=["first", "loyal"])
    ax.set(title="Ladder", ylabel="Stage")
    assert figure_problems(fig) == []
    twin = ax.twinx()
    twin.plot([0, 1], [0.2, 0.9])
    assert figure_problems(fig) == ["axes 2: y axis has tick labels but no label"]
    twin.set_ylabel("Cumulative share")
    assert figure_problems(fig) == []
    # the twin is not a plot of its own: its missing title is no problem, nor its title
    assert figure_title(fig) == "Ladder"
    plt.close(fig)


def test_a_colour_bar_needs_a_label():
    with style_context():
        fig, ax = plt.subplots()
    mesh = ax.pcolormesh(np.arange(9.0).reshape(3, 3))
    ax.set(title="Heat map", xlabel="Frequency", ylabel="Recency (weeks)")
    bar = fig.colorbar(mesh, ax=ax)
    assert figure_problems(fig) == ["colour bar 2: y axis has tick labels but no label"]
    bar.set_label("P(alive)")
    assert figure_problems(fig) == []
    plt.close(fig)


def test_text_too_small_to_read_is_refused(figure):
    figure.axes[0].annotate("tiny note", (1, 1), fontsize=8)
    (problem,) = figure_problems(figure)
    assert problem == "text smaller than 10 pt: 'tiny note' (8 pt)"
    assert figure_problems(figure, min_font_size=8) == []


@pytest.mark.parametrize("fmt", ["png", "svg", "pdf"])
def test_a_rasterised_heat_map_exports_byte_identical_files(tmp_path, fmt):
    # heat maps embed their cells as one image in SVG and PDF: that image must not vary either
    files = []
    for folder in ("a", "b"):
        with style_context():
            fig, ax = plt.subplots()
            mesh = ax.pcolormesh(np.arange(12.0).reshape(3, 4), rasterized=True)
            fig.colorbar(mesh, ax=ax, label="P(alive)")
            ax.set(title="Heat map", xlabel="Frequency", ylabel="Recency (weeks)")
        files.append(_export(fig, "mesh", formats=[fmt], directory=tmp_path / folder)[0])
        plt.close(fig)
    assert files[0].read_bytes() == files[1].read_bytes()
