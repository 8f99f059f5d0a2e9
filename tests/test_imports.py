"""``import churnlab`` and the everyday first line load neither scikit-learn, scipy.stats nor
matplotlib (issue 8: the import must take under 0.5 s; ``benchmarks/bench_import.py`` times it).

Each check runs in a fresh interpreter, since the test session itself has long imported
everything; it fails as soon as a module imported by these lines imports one of them up front
again.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import churnlab

#: Modules that must not be loaded by the lines below, with what each costs to import.
HEAVY = {
    "sklearn": "scikit-learn, about 0.6 s with what it imports",
    "scipy.stats": "about 0.4 s",
    "matplotlib": "pyplot alone about 0.3 s",
    "scipy.optimize": "about 0.1 s with scipy.linalg and scipy.sparse; loaded by the first fit",
    "scipy.linalg": "about 0.05 s",
}

EVERYDAY = """
import churnlab
from churnlab import (
    BetaGeo, BetaGeoBetaBinomial, GammaGamma, ModifiedBetaGeo, ParetoNBD,
    calibration_holdout_split, clv_interval, compare_models, customer_lifetime_value,
    inspect_transactions, prediction_interval, predictive_total_interval, rfm_summary,
)
import churnlab.models
from churnlab.models import *
"""


def loaded_after(code: str) -> dict:
    """Run ``code`` in a fresh interpreter; which :data:`HEAVY` modules it left loaded."""
    report = (
        "\nimport json, sys\n"
        f"print(json.dumps({{'file': churnlab.__file__, "
        f"'loaded': sorted(m for m in {sorted(HEAVY)!r} if m in sys.modules)}}))\n"
    )
    root = str(Path(churnlab.__file__).resolve().parents[1])  # the churnlab under test
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.run(
        [sys.executable, "-c", code + report],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert Path(result["file"]).resolve() == Path(churnlab.__file__).resolve()
    return result


@pytest.mark.parametrize(
    "code",
    [
        "import churnlab",
        EVERYDAY,
        "import churnlab\nfrom churnlab.datasets import load_cdnow, load_cdnow_summary",
    ],
    ids=["import churnlab", "everyday names", "datasets"],
)
def test_no_heavy_module_is_imported_up_front(code):
    loaded = loaded_after(code)["loaded"]
    assert loaded == [], {name: HEAVY[name] for name in loaded}


def test_the_check_sees_a_heavy_import():
    # the same check on a line that does load them: it would catch a regression
    loaded = loaded_after("import churnlab\nimport churnlab.churn, churnlab.plots")["loaded"]
    assert {"sklearn", "scipy.stats", "matplotlib"} <= set(loaded)


def test_the_first_fit_loads_the_optimizer_without_scikit_learn():
    code = (
        "import churnlab\n"
        "from churnlab.datasets import load_cdnow_summary\n"
        "model = churnlab.BetaGeo().fit(load_cdnow_summary())\n"
        "model.summary, repr(model), model._repr_html_()\n"
    )
    assert loaded_after(code)["loaded"] == ["scipy.linalg", "scipy.optimize"]
