"""environment.yml (conda) and pyproject.toml (pip) declare the same dependencies.

Both files are parsed: the conda list by hand (it is a flat YAML list, so no YAML library is
needed), pyproject with the standard library's TOML reader. Names and version bounds must
agree, so that either route builds the same environment.
"""

import re
import sys
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parents[1]

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


@pytest.fixture(scope="module")
def conda() -> dict[str, str]:
    return conda_requirements((ROOT / "environment.yml").read_text())


@pytest.fixture(scope="module")
def pip() -> dict[str, str]:
    return pyproject_requirements(tomllib.loads((ROOT / "pyproject.toml").read_text()))


def test_same_dependency_names(conda, pip):
    assert set(conda) - CONDA_ONLY == set(pip)


def test_same_version_bounds(conda, pip):
    differ = {name: (conda[name], pip[name]) for name in pip if conda.get(name) != pip[name]}
    assert differ == {}


def test_core_dependencies_are_in_both(conda, pip):
    for name in ("numpy", "scipy", "pandas", "scikit-learn", "matplotlib"):
        assert name in conda and name in pip


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
        "  - Scikit_Learn >=1.6, <2  # comment\n"
        "  - pip\n"
        "  - pip:\n"
        "      - lifetimes==0.11.3\n"
        "      - -e .\n"
    )
    assert conda_requirements(text) == {
        "scikit-learn": "<2,>=1.6",
        "pip": "",
        "lifetimes": "==0.11.3",
    }
    assert "conda-forge" not in conda_requirements(text)


def test_parser_rejects_a_changed_layout():
    with pytest.raises(ValueError, match="unexpected line"):
        conda_requirements("dependencies:\n  numpy: 1\n")
