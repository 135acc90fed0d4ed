# Two commands on a fresh machine: `make demo` runs the product, `make test` runs the tests.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# A real Asterisk 22 for tests/asterisk/, built once from ../shared/asterisk into a cache outside
# the clone (reused by later runs on the same machine).
ASTERISK_PREFIX ?= $(or $(CTI_ASTERISK_PREFIX),/var/cache/cti-asterisk/22.10.1)
ASTERISK_BUILD := ../shared/asterisk/build.sh

.PHONY: install demo run test test-asterisk asterisk bench lint clean

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

# Every test; the real-Asterisk suite runs wherever Asterisk can be built (else it is skipped,
# with the reason printed).
test: install asterisk
	CTI_ASTERISK_PREFIX=$(ASTERISK_PREFIX) $(BIN)/python -m pytest -q

# The real-Asterisk suite alone; fails if Asterisk cannot be built here.
test-asterisk: install
	CTI_ASTERISK_PREFIX=$(ASTERISK_PREFIX) bash $(ASTERISK_BUILD)
	CTI_ASTERISK_PREFIX=$(ASTERISK_PREFIX) $(BIN)/python -m pytest -q tests/asterisk

asterisk:
	@if [ -x $(ASTERISK_PREFIX)/sbin/asterisk ]; then :; \
	elif [ ! -f $(ASTERISK_BUILD) ]; then echo "real Asterisk: $(ASTERISK_BUILD) not found, suite skipped"; \
	elif ! tests/asterisk/can_build.sh; then echo "real Asterisk: build tools missing (see asterisk-conf/README.md), suite skipped"; \
	else CTI_ASTERISK_PREFIX=$(ASTERISK_PREFIX) bash $(ASTERISK_BUILD) || echo "real Asterisk: build failed, suite skipped"; fi

bench: install
	$(BIN)/python -m bench

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache
