"""The presentation style and the figure export helper (churnlab/plots/style.py)."""

import matplotlib as mpl
import matplotlib.pyplot as plt
import pytest

from churnlab.plots import PALETTE, SLIDE_SIZE, export, style_context, use_style
from churnlab.plots.style import STYLE

# File signatures (magic numbers) of the three formats, from their specifications.
SIGNATURES = {"png": b"\x89PNG\r\n\x1a\n", "svg": b"<?xml", "pdf": b"%PDF-"}


def _make_figure():
    with style_context():
        fig, ax = plt.subplots()
        ax.plot([0, 1, 2], [2, 0, 1], label="a line")
        ax.bar([0, 1, 2], [1, 2, 3], label="bars")
        ax.set_title("A title")
        ax.legend()
    return fig


@pytest.fixture
def figure():
    fig = _make_figure()
    yield fig
    plt.close(fig)


def test_export_writes_each_format_with_its_signature(figure, tmp_path):
    paths = export(figure, "01_example", directory=tmp_path / "figures")
    assert [p.name for p in paths] == ["01_example.png", "01_example.svg", "01_example.pdf"]
    for path in paths:
        fmt = path.suffix[1:]
        assert path.read_bytes().startswith(SIGNATURES[fmt]), fmt


def test_export_only_the_requested_formats(figure, tmp_path):
    paths = export(figure, "only_png", formats=["png"], directory=tmp_path)
    assert [p.name for p in paths] == ["only_png.png"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["only_png.png"]


@pytest.mark.parametrize("fmt", ["png", "svg", "pdf"])
def test_the_same_figure_built_twice_exports_byte_identical_files(tmp_path, fmt):
    # what makes committed figures reproducible: re-running a notebook rebuilds each figure
    files = []
    for folder in ("a", "b"):
        fig = _make_figure()
        files.append(export(fig, "twice", formats=[fmt], directory=tmp_path / folder)[0])
        plt.close(fig)
    assert files[0].read_bytes() == files[1].read_bytes()


@pytest.mark.parametrize("fmt", ["png", "svg", "pdf"])
def test_saving_a_figure_without_layout_engine_twice_is_byte_identical(figure, tmp_path, fmt):
    figure.set_layout_engine("none")
    first = export(figure, "twice", formats=[fmt], directory=tmp_path / "a")[0].read_bytes()
    second = export(figure, "twice", formats=[fmt], directory=tmp_path / "b")[0].read_bytes()
    assert first == second


@pytest.mark.parametrize("fmt", ["png", "svg", "pdf"])
def test_saving_the_same_figure_twice_is_byte_identical(figure, tmp_path, fmt):
    first = export(figure, "twice", formats=[fmt], directory=tmp_path / "a")[0].read_bytes()
    second = export(figure, "twice", formats=[fmt], directory=tmp_path / "b")[0].read_bytes()
    assert first == second


def test_exported_files_carry_no_dates_or_software_versions(figure, tmp_path):
    svg, pdf = export(figure, "meta", formats=["svg", "pdf"], directory=tmp_path)
    assert b"<dc:date>" not in svg.read_bytes()
    assert b"Matplotlib v" not in svg.read_bytes()
    assert b"/CreationDate" not in pdf.read_bytes()
    assert b"/Producer" not in pdf.read_bytes()


@pytest.mark.parametrize("name", ["", "sub/name", "name.png", "../up"])
def test_bad_names_raise(figure, tmp_path, name):
    with pytest.raises(ValueError, match="bare file stem"):
        export(figure, name, directory=tmp_path)


def test_unknown_format_raises_and_writes_nothing(figure, tmp_path):
    with pytest.raises(ValueError, match="jpg"):
        export(figure, "x", formats=["png", "jpg"], directory=tmp_path / "out")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_non_figure_raises(tmp_path):
    fig, ax = plt.subplots()
    with pytest.raises(TypeError, match="Figure"):
        export(ax, "x", directory=tmp_path)
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
