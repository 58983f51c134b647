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

# checkov (Terraform policy checks) pins packaging, boto3 and networkx versions that clash with
# the project's, so it gets a venv of its own; the tests find it at .venv/bin/checkov.
CHECKOV := $(VENV)/tools/checkov/bin/checkov
$(CHECKOV): | $(STAMP)
	$(PYTHON) -m venv $(VENV)/tools/checkov
	$(VENV)/tools/checkov/bin/pip install --quiet checkov==3.3.30
	ln -sf ../tools/checkov/bin/checkov $(BIN)/checkov

demo: $(STAMP)
	$(BIN)/culturemesh demo

test: $(STAMP) $(CHECKOV)
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
	$(BIN)/culturemesh build terraform

clean:
	rm -rf $(VENV) .culturemesh .pytest_cache .mypy_cache .ruff_cache
