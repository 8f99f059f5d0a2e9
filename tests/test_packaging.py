"""Packaging: the declared environment, the supported Pythons, the notebooks' metadata, the wheel.

* environment.yml (conda), pyproject.toml (pip) and constraints.txt (the pinned reference
  environment) agree: the same packages, environment.yml pins the versions of constraints.txt,
  and those versions satisfy pyproject's bounds. environment.yml is parsed by hand (it is a
  flat YAML list, so no YAML library is needed), pyproject with the standard library.
* The supported Python range is stated once in pyproject.toml and repeated truthfully in the
  README and the ruff target.
* The committed notebooks carry the metadata that JupyterLab writes when it opens them, so
  opening and saving one leaves the file unchanged.
* A wheel built from the checkout carries every bundled data set, and an installed wheel
  loads them (marked ``wheel``: it builds and installs into a fresh virtual environment).
"""

import importlib
import io
import json
import pickle
import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import tomllib
import zipfile
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from ipykernel.ipkernel import IPythonKernel
from ipykernel.kernelspec import KERNEL_NAME, get_kernel_dict
from packaging.specifiers import SpecifierSet
from packaging.version import Version

import churnlab
from churnlab.datasets import cdnow, load_cdnow, load_cdnow_summary, load_retail_sample

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

#: conda-only entries that have no pip counterpart: the package manager and the local install.
CONDA_ONLY = {"pip"}

_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(.*?)\s*$")


def _normalise(name: str) -> str:
    # PEP 503 name normalisation: case-insensitive, runs of - _ . are equivalent
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_requirement(text: str) -> tuple[str, str]:
    """Split 'numpy >= 1.24' into ('numpy', '>=1.24') with bounds sorted and spaces removed."""
    match = _REQUIREMENT.match(text)
    if match is None:
        raise ValueError(f"cannot parse requirement {text!r}")
    name, spec = match.groups()
    bounds = sorted(part.replace(" ", "") for part in spec.split(",") if part.strip())
    return _normalise(name), ",".join(bounds)


def conda_requirements(text: str) -> dict[str, str]:
    """Requirements of a conda environment file: its `dependencies` list and `pip:` sub-list.

    Handles the flat layout of environment.yml (comments, `- item` lines, one nested `- pip:`
    list); anything else raises so that a layout change is noticed.
    """
    requirements: dict[str, str] = {}
    in_dependencies = False
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        if not line.startswith((" ", "-")):
            in_dependencies = line.strip() == "dependencies:"
            continue
        if not in_dependencies:
            continue
        item = line.strip()
        if not item.startswith("- "):
            raise ValueError(f"unexpected line in the dependencies of environment.yml: {raw!r}")
        item = item[2:].strip()
        if item == "pip:":
            continue
        if item.startswith("-e ") or item.startswith("--"):
            continue  # the project itself, installed in editable mode
        name, spec = parse_requirement(item)
        if name in requirements:
            raise ValueError(f"{name} is listed twice in environment.yml")
        requirements[name] = spec
    return requirements


def pyproject_requirements(data: dict) -> dict[str, str]:
    project = data["project"]
    requirements = {"python": parse_requirement("python" + project["requires-python"])[1]}
    listed = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        listed.extend(extra)
    for text in listed:
        name, spec = parse_requirement(text.split(";", 1)[0])
        if name in requirements and requirements[name] != spec:
            raise ValueError(f"{name} has different bounds in two pyproject lists")
        requirements[name] = spec
    return requirements


def constraints_pins(text: str) -> tuple[dict[str, str], str]:
    """The pinned versions of constraints.txt by normalised name, and its reference Python."""
    pins: dict[str, str] = {}
    reference_python = None
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("#"):
            match = re.fullmatch(r"# Reference Python: (\d+\.\d+)", line)
            if match:
                reference_python = match.group(1)
            continue
        if not line:
            continue
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", line)
        if match is None:
            raise ValueError(f"constraints.txt: {raw!r} is not a plain 'name==version' pin")
        pins[_normalise(match.group(1))] = match.group(2)
    if reference_python is None:
        raise ValueError("constraints.txt names no '# Reference Python: X.Y'")
    return pins, reference_python


@pytest.fixture(scope="module")
def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


@pytest.fixture(scope="module")
def conda() -> dict[str, str]:
    return conda_requirements((ROOT / "environment.yml").read_text())


@pytest.fixture(scope="module")
def pip(pyproject) -> dict[str, str]:
    return pyproject_requirements(pyproject)


@pytest.fixture(scope="module")
def constraints() -> tuple[dict[str, str], str]:
    return constraints_pins((ROOT / "constraints.txt").read_text())


# --- environment.yml, pyproject.toml and constraints.txt ---------------------------------------


def test_same_dependency_names(conda, pip):
    assert set(conda) - CONDA_ONLY == set(pip)


def test_core_dependencies_are_in_both(conda, pip):
    for name in ("numpy", "scipy", "pandas", "scikit-learn", "matplotlib"):
        assert name in conda and name in pip


def test_environment_pins_the_reference_versions(conda, constraints):
    pins, _ = constraints
    listed = {name: spec for name, spec in conda.items() if name not in CONDA_ONLY | {"python"}}
    differ = {
        name: (spec, "==" + pins[name]) if name in pins else (spec, "not pinned")
        for name, spec in listed.items()
        if spec != "==" + pins.get(name, "")
    }
    assert differ == {}


def test_environment_python_is_the_reference_python(conda, constraints):
    _, reference_python = constraints
    assert conda["python"] == "=" + reference_python  # conda: 3.11 and any patch release


def test_reference_versions_satisfy_pyproject(pip, constraints):
    pins, reference_python = constraints
    assert Version(reference_python) in SpecifierSet(pip["python"])
    outside = {}
    for name, spec in pip.items():
        if name == "python":
            continue
        if name not in pins:
            outside[name] = (spec, "not pinned")
        elif Version(pins[name]) not in SpecifierSet(spec):
            outside[name] = (spec, pins[name])
    assert outside == {}


def test_constraints_parser_reads_pins_and_the_reference_python():
    text = "# header\n# Reference Python: 3.12\nScikit_Learn==1.9.1\nLifetimes==0.11.3\n"
    assert constraints_pins(text) == ({"scikit-learn": "1.9.1", "lifetimes": "0.11.3"}, "3.12")
    with pytest.raises(ValueError, match="plain 'name==version'"):
        constraints_pins("# Reference Python: 3.11\nnumpy>=2\n")
    with pytest.raises(ValueError, match="Reference Python"):
        constraints_pins("numpy==2.4.6\n")


def test_the_hand_parser_reads_what_a_yaml_parser_reads():
    yaml = pytest.importorskip("yaml")  # installed with jupyterlab; the hand parser needs none
    data = yaml.safe_load((ROOT / "environment.yml").read_text())
    flat = []
    for item in data["dependencies"]:
        if isinstance(item, dict):
            flat.extend(p for p in item["pip"] if not p.startswith("-e "))
        else:
            flat.append(item)
    expected = dict(parse_requirement(item) for item in flat)
    assert conda_requirements((ROOT / "environment.yml").read_text()) == expected


def test_parser_handles_bounds_names_and_nesting():
    text = (
        "name: x\n"
        "channels:\n  - conda-forge\n"
        "dependencies:\n"
        "  - python=3.11\n"
        "  - Scikit_Learn >=1.6, <2  # comment\n"
        "  - pip\n"
        "  - pip:\n"
        "      - lifetimes==0.11.3\n"
        "      - -e .\n"
    )
    assert conda_requirements(text) == {
        "python": "=3.11",
        "scikit-learn": "<2,>=1.6",
        "pip": "",
        "lifetimes": "==0.11.3",
    }
    assert "conda-forge" not in conda_requirements(text)


def test_parser_rejects_a_changed_layout():
    with pytest.raises(ValueError, match="unexpected line"):
        conda_requirements("dependencies:\n  numpy: 1\n")


# --- supported Pythons ----------------------------------------------------------------------


def test_supported_pythons_are_stated_the_same_everywhere(pyproject):
    """requires-python, the README's set-up line and ruff's target name the same range."""
    supported = SpecifierSet(pyproject["project"]["requires-python"])
    lowest, highest = re.search(
        r"only Python (3\.\d+) to (3\.\d+) and `make`", (ROOT / "README.md").read_text()
    ).groups()
    minors = [f"3.{minor}" for minor in range(6, 20) if f"3.{minor}" in supported]
    assert (minors[0], minors[-1]) == (lowest, highest)
    assert pyproject["tool"]["ruff"]["target-version"] == "py" + lowest.replace(".", "")


def test_this_interpreter_is_supported(pyproject):
    running = ".".join(map(str, sys.version_info[:3]))
    assert Version(running) in SpecifierSet(pyproject["project"]["requires-python"])


# --- the domain figures' documentation ------------------------------------------------------


def test_code_cites_the_domain_notes_in_the_repository():
    """Comments and docstrings cite docs/domain.md, which exists, not a file outside it."""
    assert (ROOT / "docs" / "domain.md").is_file()
    files = [*(ROOT / "churnlab").rglob("*.py"), *(ROOT / "tests").rglob("*.py"), *NOTEBOOKS]
    files.remove(Path(__file__).resolve())  # this test names the file it looks for
    bare = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in files
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"(?<![\w/])domain\.md", line)
    ]
    assert bare == []


def _defined_in_churnlab(reference: str) -> bool:
    """Whether 'economics.LEAK_CEILING' (or 'churnlab.defection', ...) exists in churnlab."""
    parts = reference.removeprefix("churnlab.").split(".")
    for split in range(len(parts), 0, -1):
        try:
            found = importlib.import_module("churnlab." + ".".join(parts[:split]))
        except ModuleNotFoundError:
            continue
        for name in parts[split:]:
            if not hasattr(found, name):
                return False
            found = getattr(found, name)
        return True
    return False


def test_domain_notes_name_only_what_the_package_defines():
    """Every `module.NAME` that docs/domain.md points to exists in churnlab."""
    text = (ROOT / "docs" / "domain.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`((?:[a-z_]+\.)+[A-Za-z_]+)`", text))
    assert len(named) >= 30
    assert [reference for reference in sorted(named) if not _defined_in_churnlab(reference)] == []
    assert not _defined_in_churnlab("economics.NO_SUCH_FIGURE")
    assert not _defined_in_churnlab("no_such_module.NAME")


# --- notebook metadata -------------------------------------------------------------------------


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 5


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_kernelspec_is_what_jupyterlab_writes(path):
    """JupyterLab sets the kernelspec from the kernel it starts; a different one marks the
    notebook modified on open. `make notebooks` writes this one (see the Makefile)."""
    spec = get_kernel_dict()
    metadata = json.loads(path.read_text(encoding="utf-8"))["metadata"]
    assert metadata["kernelspec"] == {
        "display_name": spec["display_name"],  # "Python 3 (ipykernel)"
        "language": spec["language"],
        "name": KERNEL_NAME,
    }


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_language_info_is_the_reference_kernel(path, constraints):
    """JupyterLab also writes the kernel's language_info; its version is the Python the
    outputs were produced with, the reference Python of constraints.txt."""
    _, reference_python = constraints
    stored = json.loads(path.read_text(encoding="utf-8"))["metadata"]["language_info"]
    kernel = IPythonKernel.language_info
    assert {k: v for k, v in stored.items() if k != "version"} == {
        k: v for k, v in kernel.items() if k != "version"
    }
    assert stored["version"].rsplit(".", 1)[0] == reference_python


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_saves_byte_for_byte(path):
    """Saving in JupyterLab writes the notebook with nbformat (jupyter_server's contents
    manager): the committed file is already in that form."""
    text = path.read_text(encoding="utf-8")
    out = io.StringIO()
    nbformat.write(nbformat.reads(text, as_version=nbformat.NO_CONVERT), out)
    assert out.getvalue() == text


# --- the bundled data in a source checkout and in a wheel -------------------------------------


def _data_files() -> dict[str, Path]:
    return {p.relative_to(DATA).as_posix(): p for p in sorted(DATA.rglob("*")) if p.is_file()}


def test_a_checkout_reads_the_top_level_data_folder():
    assert cdnow.DATA_DIR == DATA
    assert not (ROOT / "churnlab" / "_data").exists()  # only the built wheel has the copy
    assert {"cdnow", "retail_sample"} <= {p.name for p in DATA.iterdir() if p.is_dir()}
    assert all((p / "README.md").is_file() for p in DATA.iterdir() if p.is_dir())


def test_a_missing_data_file_is_a_clear_error():
    with pytest.raises(FileNotFoundError, match="data/ folder"):
        cdnow.data_path("no_such_data_set", "x.csv")


#: Files and folders of a checkout that a build must not see (environments, build output).
_NOT_SOURCE = shutil.ignore_patterns(
    ".git",
    ".venv",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    ".pytest_cache",
    ".hypothesis",
    ".ipynb_checkpoints",
    "figures",
    "reports",
)


def _run(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(args, capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, f"{args}\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def source_copy(tmp_path_factory) -> Path:
    """A copy of the checkout, so that building never writes build/ into the working tree."""
    source = tmp_path_factory.mktemp("checkout") / "churnlab"
    shutil.copytree(ROOT, source, ignore=_NOT_SOURCE)
    return source


@pytest.fixture(scope="module")
def wheel(source_copy, tmp_path_factory) -> Path:
    """Build the wheel offline: no index, no build isolation (setuptools from this venv)."""
    out = tmp_path_factory.mktemp("dist")
    _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index"]
        + ["--quiet", "--wheel-dir", str(out), str(source_copy)]
    )
    (built,) = out.glob("churnlab-*.whl")
    return built


@pytest.mark.wheel
def test_wheel_carries_every_bundled_data_file(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        for relative, path in _data_files().items():
            packaged = f"churnlab/_data/{relative}"
            assert packaged in names, f"{packaged} missing from {wheel.name}"
            assert archive.read(packaged) == path.read_bytes(), packaged
    assert {name.split("/", 1)[0] for name in names} == {
        "churnlab",
        f"churnlab-{churnlab.__version__}.dist-info",
    }


@pytest.mark.wheel
def test_wheel_carries_every_module_and_the_metadata(wheel, pyproject):
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "churnlab").rglob("*.py")}
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata = archive.read(f"churnlab-{churnlab.__version__}.dist-info/METADATA").decode()
    assert modules <= names
    assert "License-Expression: MIT" in metadata.splitlines()
    (requires_python,) = re.findall(r"^Requires-Python: (.+)$", metadata, flags=re.M)
    assert SpecifierSet(requires_python) == SpecifierSet(pyproject["project"]["requires-python"])


@pytest.mark.wheel
def test_sdist_carries_the_data_folder(source_copy, tmp_path):
    """A wheel built from the sdist (as `python -m build` does) needs data/ in the sdist."""
    result = _run(
        [
            sys.executable,
            "-c",
            "import sys; from setuptools import build_meta as b; print(b.build_sdist(sys.argv[1]))",
            str(tmp_path),
        ],
        cwd=source_copy,
    )
    sdist = tmp_path / result.stdout.strip().splitlines()[-1]
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    assert {"setup.py", "pyproject.toml"} | {f"data/{r}" for r in _data_files()} <= names


#: Run in the fresh environment: load every bundled data set, pickle the results.
_LOAD_ALL = """
import pickle, sys
import churnlab
from churnlab.datasets import cdnow, load_cdnow, load_cdnow_summary, load_retail_sample
loaded = {
    "churnlab": churnlab.__file__,
    "data_dir": str(cdnow.DATA_DIR),
    "sample": load_cdnow("sample"),
    "master": load_cdnow("master"),
    "summary": load_cdnow_summary(),
    "retail": load_retail_sample(),
}
with open(sys.argv[1], "wb") as file:
    pickle.dump(loaded, file)
"""


@pytest.mark.wheel
def test_installed_wheel_loads_cdnow_and_the_retail_sample(wheel, tmp_path):
    """Install the wheel into a fresh virtual environment and load the data from outside the
    checkout. The environment has no pip and borrows the dependencies (numpy, pandas, ...) of
    this one through a .pth line; a .pth file in a borrowed folder is not processed, so this
    environment's editable churnlab stays invisible there."""
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = venv / "bin" / "python"
    _run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps"]
        + ["--no-index", "--quiet", str(wheel)]
    )
    site_packages = Path(
        _run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]
        ).stdout.strip()
    )
    (site_packages / "_borrowed_dependencies.pth").write_text(sysconfig.get_paths()["purelib"])
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    # -I: no current directory, PYTHONPATH or user site on sys.path
    _run([str(python), "-I", "-c", _LOAD_ALL, str(tmp_path / "loaded.pkl")], cwd=outside)
    with open(tmp_path / "loaded.pkl", "rb") as file:
        loaded = pickle.load(file)

    assert Path(loaded["churnlab"]).is_relative_to(site_packages)
    assert Path(loaded["data_dir"]) == site_packages / "churnlab" / "_data"
    assert loaded["sample"].shape == (6919, 4) and loaded["master"].shape == (69659, 4)
    # the same tables as the checkout's data/ gives
    pd.testing.assert_frame_equal(loaded["sample"], load_cdnow("sample"))
    pd.testing.assert_frame_equal(loaded["master"], load_cdnow("master"))
    pd.testing.assert_frame_equal(loaded["summary"], load_cdnow_summary())
    retail = load_retail_sample()
    assert len(loaded["retail"].customers) == 4000
    for name in retail.TABLES:
        pd.testing.assert_frame_equal(getattr(loaded["retail"], name), getattr(retail, name))
    assert loaded["retail"].truth == retail.truth
