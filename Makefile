# Redline: `make demo` serves the demo site, `make test` runs every test (browser tests included).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
CHROMIUM ?= /usr/bin/chromium
STAMP := $(VENV)/.installed

.PHONY: demo test test-slow bench browser clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

DEMO_EDITOR := editor@kestrel.example
DEMO_PASSWORD := quiet harbour lantern 42

demo: $(STAMP)
	$(BIN)/redline init-db
	$(BIN)/redline import policies --if-empty
	@$(BIN)/redline user list | grep -q " $(DEMO_EDITOR)$$" || \
	  printf '%s\n' "$(DEMO_PASSWORD)" | $(BIN)/redline user add $(DEMO_EDITOR) --role admin --name "Demo Editor" --password-file -
	$(BIN)/redline notify --once --quiet
	@echo "Demo admin and editor: $(DEMO_EDITOR) / $(DEMO_PASSWORD) (local demo only)"
	PORT=$(PORT) $(BIN)/redline serve --port $(PORT)

# Debian's chromium: Playwright cannot download its own browser here.
browser:
	@if [ ! -x "$(CHROMIUM)" ]; then \
	  echo "Installing Debian's chromium for the browser tests..."; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  ( $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends chromium ) \
	  || { echo "ERROR: could not install chromium (apt-get install -y --no-install-recommends chromium)."; \
	       echo "The browser tests need $(CHROMIUM); they never skip."; exit 1; }; \
	fi
	@test -x "$(CHROMIUM)" || { echo "ERROR: no browser at $(CHROMIUM): the browser tests cannot run."; exit 1; }

test: $(STAMP) browser
	REDLINE_CHROMIUM=$(CHROMIUM) $(BIN)/python -m pytest -m "not slow" -p no:cacheprovider

test-slow: $(STAMP) browser
	REDLINE_CHROMIUM=$(CHROMIUM) $(BIN)/python -m pytest -m slow -p no:cacheprovider

bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) test-results build *.egg-info src/*.egg-info
