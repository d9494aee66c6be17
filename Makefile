# The two commands of README.md: `make run` (demo -> ETL -> dashboard) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DATA ?= data
PORT ?= 8050
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test lint install install-test browser axe postgres redis demo clean

run: install  ## demo feeds -> ETL -> dashboard on http://127.0.0.1:$(PORT) (embedded SQLite)
	@if [ ! -f $(DATA)/.demo-generated ]; then \
	  $(BIN)/carekpi demo generate --out $(DATA)/inbox && touch $(DATA)/.demo-generated; fi
	$(BIN)/carekpi db upgrade
	$(BIN)/carekpi etl run
	$(BIN)/carekpi serve --port $(PORT)

test: install-test browser axe postgres redis  ## everything the tests need, then the whole suite
	$(BIN)/ruff check .
	$(BIN)/pytest -n 2 --dist loadgroup --headless $(PYTEST_ARGS)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

install-test: $(VENV)/.installed-test
$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@ $(VENV)/.installed

browser:  ## Debian's Chromium, ChromeDriver (dash_duo tests) and poppler's pdftoppm (board pack)
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	  ( $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium chromium-driver )
	@command -v pdftoppm >/dev/null || \
	  ( $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq poppler-utils )  # board-pack pages

AXE_VERSION ?= 4.14.1
AXE_JS := build/axe/node_modules/axe-core/axe.min.js
axe: $(AXE_JS)  ## npm's axe-core for the accessibility checks of the browser tests (read from disk)
$(AXE_JS):
	@command -v npm >/dev/null || ( $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq npm )
	npm install --silent --no-audit --no-fund --prefix build/axe axe-core@$(AXE_VERSION)

postgres:  ## start the local PostgreSQL when it is installed but stopped
	@if command -v pg_ctlcluster >/dev/null && ! pg_isready -q -h 127.0.0.1; then \
	  $(SUDO) pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start; \
	  for i in 1 2 3 4 5 6 7 8 9 10; do pg_isready -q -h 127.0.0.1 && break; sleep 1; done; fi

redis:  ## the shared cache and sign-in counters of the production tests: start Redis if stopped
	@command -v redis-cli >/dev/null || ( $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq redis-server )
	@redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 || redis-server --daemonize yes --bind 127.0.0.1 >/dev/null

lint: install-test
	$(BIN)/ruff check .

clean:
	rm -rf $(DATA)
