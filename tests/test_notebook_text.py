"""What a reader of the notebooks sees: money that renders as money, figures with alt text.

JupyterLab and the HTML reports (nbconvert, with MathJax) typeset text between two dollar signs
as mathematics: "spent $35 per purchase ... averaged $300" renders as an italic formula with
the spaces gone. An escaped ``\\$`` does not help either: JupyterLab 4 and nbconvert's HTML
both still typeset it (checked in headless Chromium). So the notebooks write money with a
currency code, "USD 1,234" or "EUR 300", which no renderer treats as mathematics.

HTML and Markdown outputs are typeset too (a DataFrame cell holding "$35" would break the
same way); plain-text and stream outputs are not, but are held to the same convention.
"""

import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("*.ipynb"))

# a dollar sign, escaped or not, before an amount: "$35", "\$1", "$ 1,200", "$-5"
DOLLAR_AMOUNT = re.compile(r"\\?\$\s?[-+]?\d")


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def _passages(notebook: dict):
    """(where, text) for every Markdown cell and every text output of a code cell."""
    for i, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] == "markdown":
            yield f"cell {i} (Markdown)", _text(cell["source"])
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                yield f"cell {i} ({output['name']})", _text(output["text"])
            for mime in ("text/markdown", "text/html", "text/plain", "text/latex"):
                if mime in output.get("data", {}):
                    yield f"cell {i} ({mime} output)", _text(output["data"][mime])


def _dollar_amounts(notebook: dict) -> list[str]:
    found = []
    for where, text in _passages(notebook):
        for line in text.splitlines():
            if DOLLAR_AMOUNT.search(line):
                found.append(f"{where}: {line.strip()}")
    return found


def test_the_notebooks_are_found():
    assert len(NOTEBOOKS) >= 5


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_money_is_written_with_a_currency_code_not_a_dollar_sign(path):
    found = _dollar_amounts(json.loads(path.read_text(encoding="utf-8")))
    assert not found, (
        f"{path.name}: a dollar sign before an amount renders as mathematics in JupyterLab and "
        "the HTML reports; write 'USD 1,234' (or the data's currency code) instead:\n"
        + "\n".join(found)
    )


@pytest.mark.parametrize(
    "text",
    [
        "The 946 repeat buyers spent $35 per purchase, one averaged $300.",
        "A contact costs \\$1, the voucher \\$10.",
        "profit of $ 1,200",
    ],
)
def test_dollar_amounts_are_caught(text):
    notebook = {"cells": [{"cell_type": "markdown", "source": [text]}]}
    assert _dollar_amounts(notebook) == [f"cell 0 (Markdown): {text}"]


@pytest.mark.parametrize(
    "text", ["worth USD 35 a year", "EUR 1,234.50 refunded", "costs x$ and y", "$x^2$ is maths"]
)
def test_money_with_a_currency_code_passes(text):
    notebook = {"cells": [{"cell_type": "markdown", "source": [text]}]}
    assert _dollar_amounts(notebook) == []


def test_html_outputs_are_checked_too():
    cell = {
        "cell_type": "code",
        "source": ["df"],
        "outputs": [{"output_type": "execute_result", "data": {"text/html": ["<td>$35</td>"]}}],
    }
    assert _dollar_amounts({"cells": [cell]}) == ["cell 0 (text/html output): <td>$35</td>"]


def _export_calls(source: str) -> list[str]:
    """The text of every ``export(...)`` call in a code cell (parentheses balanced)."""
    calls = []
    for match in re.finditer(r"\bexport\(", source):
        depth, end = 0, match.end() - 1
        for end in range(match.end() - 1, len(source)):
            depth += {"(": 1, ")": -1}.get(source[end], 0)
            if depth == 0:
                break
        calls.append(source[match.start() : end + 1])
    return calls


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_exported_figure_is_given_alt_text(path):
    # export() itself refuses a figure without alt text, title or axis labels when the
    # notebook runs (nbval); this names the offending call without running anything
    notebook = json.loads(path.read_text(encoding="utf-8"))
    calls = [
        call
        for cell in notebook["cells"]
        if cell["cell_type"] == "code"
        for call in _export_calls(_text(cell["source"]))
    ]
    if "from churnlab.plots import export" in json.dumps(notebook):
        assert calls, f"{path.name} imports export but exports no figure"
    missing = [call for call in calls if "alt_text=" not in call]
    assert not missing, f"{path.name}: export() without alt_text:\n" + "\n".join(missing)
