# churnlab: every target creates (or reuses) the project's virtual environment in .venv first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
NOTEBOOKS := $(sort $(wildcard notebooks/*.ipynb))

export PYTHONHASHSEED := 0

.PHONY: report test lab notebooks lint bench clean constraints

# JupyterLab writes the kernel's spec (name, display name, language) into every notebook it
# opens; nbconvert keeps whatever the file says. `make notebooks` first writes the spec of the
# installed ipykernel, so that opening and saving a notebook in JupyterLab leaves it unchanged
# (tests/test_packaging.py checks the committed metadata).
define SET_KERNELSPEC
import sys
import nbformat
from ipykernel.kernelspec import KERNEL_NAME, get_kernel_dict
spec = get_kernel_dict()
kernelspec = {"display_name": spec["display_name"], "language": spec["language"], "name": KERNEL_NAME}
for path in sys.argv[1:]:
    nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    if nb.metadata.get("kernelspec") != kernelspec:
        nb.metadata["kernelspec"] = kernelspec
        nbformat.write(nb, path, version=nbformat.NO_CONVERT)
endef
export SET_KERNELSPEC

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
	$(BIN)/python -c "$$SET_KERNELSPEC" $(NOTEBOOKS)
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.timeout=1800 $(NOTEBOOKS)

## lint: ruff (rules and formatting); CI (.ci/run) runs it with the tests
lint: $(STAMP)
	$(BIN)/ruff check churnlab tests benchmarks notebooks setup.py
	$(BIN)/ruff format --check churnlab tests benchmarks setup.py

## bench: the benchmarks against lifetimes (minutes; not part of the test suite)
bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

## constraints: re-pin the reference environment from .venv (after a deliberate upgrade)
constraints: $(STAMP)
	@python=$$($(BIN)/python -c 'import sys; print("%d.%d" % sys.version_info[:2])'); \
		sed -n '/^#/p' constraints.txt \
		| sed "s/^# Reference Python: .*/# Reference Python: $$python/" > constraints.tmp
	$(BIN)/python -m pip freeze --all --exclude-editable | grep -v -E '^(churnlab|pip)==' \
		>> constraints.tmp
	@mv constraints.tmp constraints.txt

clean:
	rm -rf figures reports
