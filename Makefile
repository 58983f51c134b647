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

# morph-kgc (the reference RML engine: the oracle of tests/linkeddata and the baseline of
# bench/bench_map.py) pins an older rdflib than ours, so it too gets a venv of its own.
MORPH_KGC := $(VENV)/tools/morph-kgc/bin/python
$(MORPH_KGC): | $(STAMP)
	$(PYTHON) -m venv $(VENV)/tools/morph-kgc
	$(VENV)/tools/morph-kgc/bin/pip install --quiet morph-kgc==2.10.0

demo: $(STAMP)
	$(BIN)/culturemesh demo

test: $(STAMP) $(CHECKOV) $(MORPH_KGC)
	$(BIN)/pytest -q

check: lint typecheck
	$(BIN)/culturemesh validate

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

bench: $(STAMP) $(MORPH_KGC)
	@for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

knative: $(STAMP)
	$(BIN)/culturemesh build knative
	$(BIN)/culturemesh build terraform

clean:
	rm -rf $(VENV) .culturemesh .pytest_cache .mypy_cache .ruff_cache
