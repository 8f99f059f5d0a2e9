# churnlab: every target creates (or reuses) the project's virtual environment in .venv first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
NOTEBOOKS := $(sort $(wildcard notebooks/*.ipynb))

export PYTHONHASHSEED := 0

.PHONY: report test lab notebooks lint bench clean constraints

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]" -c constraints.txt
	@touch $(STAMP)

## report: execute every notebook on the bundled data (figures -> figures/, HTML copies -> reports/),
## then `churnlab report` on the bundled retail transactions, as an analyst runs it on a file
report: $(STAMP)
	@mkdir -p figures reports
	$(BIN)/jupyter nbconvert --to html --execute --ExecutePreprocessor.timeout=1800 \
		--output-dir reports $(NOTEBOOKS)
	$(BIN)/churnlab report data/retail_sample/transactions.csv --title "retail sample (bundled)" \
		--out reports/retail_sample --no-progress
	@echo "figures: $$(ls figures | wc -l) files in figures/; HTML reports in reports/"

## test: unit tests, doctests and the notebooks' stored outputs (nbval)
test: $(STAMP)
	$(BIN)/python -m pytest

## lab: JupyterLab on the notebooks
lab: $(STAMP)
	$(BIN)/jupyter lab notebooks

## notebooks: re-execute the notebooks in place, refreshing their committed outputs
notebooks: $(STAMP)
	@mkdir -p figures
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.timeout=1800 $(NOTEBOOKS)

lint: $(STAMP)
	$(BIN)/ruff check churnlab tests benchmarks notebooks
	$(BIN)/ruff format --check churnlab tests benchmarks

## bench: the benchmarks against lifetimes (minutes; not part of the test suite)
bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

## constraints: re-pin the reference environment from .venv (after a deliberate upgrade)
constraints: $(STAMP)
	@sed -n '/^#/p' constraints.txt > constraints.tmp
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^churnlab' \
		| sed 's/$$/ ; python_version >= "3.11"/' >> constraints.tmp
	@mv constraints.tmp constraints.txt

clean:
	rm -rf figures reports
