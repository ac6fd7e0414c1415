# cowspec: `make check` checks the kernel model and writes its diagrams; `make test` runs
# the tests. Both build the virtual environment in .venv/ first (`make install`).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
COWSPEC := $(BIN)/cowspec
EXAMPLES := $(wildcard spec/examples/*.cow)
KERNEL_SPECS := $(wildcard spec/kernel/*.cow)

.PHONY: install check test bench lint docs clean graphviz

install: $(VENV)/.installed graphviz

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

# Graphviz's `dot` renders the diagrams; Debian's package, installed when missing.
graphviz:
	@command -v dot >/dev/null 2>&1 || { \
	  echo "installing Debian's graphviz (dot is missing)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null; }

# The main job: every example and every kernel model, each verdict judged against what
# the spec says it should be, then the diagrams and generated docs.
check: install
	@set -e; for spec in $(EXAMPLES); do \
	  echo "== $$spec"; $(COWSPEC) check $$spec --all-models; done
	@set -e; for spec in $(KERNEL_SPECS); do \
	  echo "== $$spec"; $(COWSPEC) check $$spec --all-models; done
	$(MAKE) --no-print-directory docs

docs: install
	$(BIN)/python -m explorer.docgen

test: install
	$(BIN)/python -m pytest -q

bench: install
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[bench]'
	$(BIN)/python -m explorer.bench

lint: install
	$(BIN)/ruff check pyspec explorer tests

clean:
	rm -rf $(VENV) .pytest_cache
