# cowspec: `make check` checks the kernel model and writes its diagrams; `make test` runs
# the tests. Both build the virtual environment in .venv/ first (`make install`).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
COWSPEC := $(BIN)/cowspec
EXAMPLES := $(wildcard spec/examples/*.cow)

KERNEL_SPECS := $(wildcard spec/kernel/*.cow)

.PHONY: install check check-wide check-progress test bench lint docs clean graphviz fuzz

install: $(VENV)/.installed graphviz

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev,distributed]'
	touch $@

# Graphviz's `dot` renders the diagrams. Without it, diagrams and their tests are skipped;
# make installs nothing system-wide (CI's .ci/run does, as root).
graphviz:
	@command -v dot >/dev/null 2>&1 || echo "note: Graphviz's dot is missing, so diagrams" \
	  "cannot be drawn and their tests are skipped; install it with" \
	  "'sudo apt-get install graphviz' (Debian, Ubuntu) or 'brew install graphviz' (macOS)"

# The main job: every example, then every model of every kernel spec (docgen checks them,
# judges each verdict against what the spec says it should be, and writes docs/model.md
# and docs/diagrams/ from the results), then the kernel model's progress properties.
check: install
	@set -e; for spec in $(EXAMPLES); do \
	  echo "== $$spec"; $(COWSPEC) check $$spec --all-models; done
	$(BIN)/python -m explorer.docgen
	@$(MAKE) --no-print-directory check-progress

# The kernel models at wider bounds (the `-wide` models; docs/kernel-model.md, "Bounds"):
# slower than the others, so not part of `make test` (`make check` documents them too).
check-wide: install
	@set -e; for spec in $(KERNEL_SPECS); do \
	  for model in $$(sed -n 's/^model \([A-Za-z0-9.-]*-wide\) .*/\1/p' $$spec); do \
	    echo "== $$spec $$model"; $(COWSPEC) check $$spec --model $$model; done; done

# The kernel model's progress properties (temporal: docs/kernel-model.md, "Progress" and
# "The GUP retry loop") in every version model (declared once, in
# spec/kernel/lib/versions.cow): cow.cow's with GUP as one step (kernel-progress.cow),
# then GUP's follow-fault-retry loop step by step (gup-retry.cow). Not in `make test`
# (about 10 s of CPU per model and spec, most of it outside the search); `make check`
# runs it last.
PROGRESS_SPECS := spec/liveness/kernel-progress.cow spec/liveness/gup-retry.cow
check-progress: install
	@set -e; for spec in $(PROGRESS_SPECS); do \
	  for model in $$(sed -n 's/^model \([A-Za-z0-9.-]*\) .*/\1/p' \
	    spec/kernel/lib/versions.cow); do echo "== $$spec $$model"; $(COWSPEC) check \
	    $$spec --include spec/kernel --model $$model --no-scenarios --summary; done; done

# Every generated document: the kernel model's and the explorer reference's diagrams, and
# the diagram of the packages drawn from the import graph (docs/explorer.md).
docs: install
	$(BIN)/python -m explorer.docgen
	COWSPEC=$(COWSPEC) docs/images/explorer/generate.sh
	$(BIN)/python docs/images/architecture/generate.py

test: install
	$(BIN)/python -m pytest -q

# A fuzz campaign (not part of `make test`): FUZZ_MINUTES of mutated specs, each run capped
# at FUZZ_MEMORY_MB of address space; new crashes, hangs and blow-ups are kept under
# tests/fuzz_regressions/, which `make test` runs again.
FUZZ_MINUTES ?= 10
FUZZ_MEMORY_MB ?= 2048
fuzz: install
	nice -n 10 $(BIN)/python tests/fuzz_campaign.py --minutes $(FUZZ_MINUTES) \
	  --memory-mb $(FUZZ_MEMORY_MB)

bench: install
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[bench]'
	$(BIN)/python -m explorer.bench

# ruff, and the import contract of pyproject.toml ([tool.importlinter]): layers, no engine
# importing the registry. Private names across modules: tests/test_architecture.py.
lint: install
	$(BIN)/ruff check pyspec explorer tests
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) .pytest_cache
