# Two commands do everything on a fresh clone (Python 3.11+):
#   make demo   install, then train and use a model on the bundled example
#   make test   install with test extras, then run the test suite
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install demo test bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install -q -e .

demo: install
	$(BIN)/mlexpert fit examples/churn.csv --target churned --time 60 --out out/churn-model
	$(BIN)/mlexpert predict out/churn-model examples/churn.csv --keep customer_id --out out/churn-predictions.csv
	@head -5 out/churn-predictions.csv

test: $(BIN)/python
	$(BIN)/pip install -q -e ".[test,nn,serve,onnx,postgres]"
	bash scripts/setup-browser.sh
	bash scripts/setup-postgres.sh
	MLEXPERT_REQUIRE_BROWSER=1 MLEXPERT_REQUIRE_POSTGRES=1 $(BIN)/python -m pytest -n 2 --durations=15 tests

bench: install
	$(BIN)/python benchmarks/run.py --budget 60

clean:
	rm -rf out .pytest_cache
