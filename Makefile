# The two commands that do everything on a fresh machine: `make demo` and `make test`.
# Both create .venv and install what they need (only when pyproject.toml changed).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test check lint typecheck bench knative clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/culturemesh demo

test: $(STAMP)
	$(BIN)/pytest -q

check: lint typecheck
	$(BIN)/culturemesh validate

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

bench: $(STAMP)
	@for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

knative: $(STAMP)
	$(BIN)/culturemesh build knative

clean:
	rm -rf $(VENV) .culturemesh .pytest_cache .mypy_cache .ruff_cache
