# Two commands on a fresh machine: `make demo` runs the product, `make test` runs the tests.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo run test bench lint clean

install: $(STAMP)

$(STAMP): pyproject.toml package-lock.json
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	# axe-core for the browser tests' accessibility check (no browser download: Debian's chromium)
	if command -v npm >/dev/null 2>&1; then npm ci --no-audit --no-fund --silent; fi
	touch $(STAMP)

demo: install
	$(BIN)/python -m cti.demo

run: install
	$(BIN)/python -m cti.app

test: install
	$(BIN)/python -m pytest -q

bench: install
	$(BIN)/python -m bench

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache
