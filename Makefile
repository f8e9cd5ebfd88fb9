# One venv. The demo installs only the app, as a plain (not editable) install: setuptools
# warns about every editable mode of a flat layout, and a first run shows no warning. It
# is reinstalled when a source file changes; the tests install it editable, with their tools.
VENV := .venv
PY := $(VENV)/bin/python
APP := $(VENV)/.app
STAMP := $(VENV)/.installed
SOURCES := $(shell find db devices tui -name '*.py' -o -name '*.tcss' -o -name '*.j2' -o -name '*.css')

.PHONY: demo fresh-demo test check bench clean

$(APP): pyproject.toml $(SOURCES)
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q .
	touch $(APP)

$(STAMP): $(APP)
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

# The demo plant is kept between runs (shopfloor-demo.db); fresh-demo builds it anew.
demo: $(APP)
	$(VENV)/bin/shopfloor demo

fresh-demo: $(APP)
	$(VENV)/bin/shopfloor demo --fresh

test: $(STAMP)
	$(PY) -m pytest -q

check: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

bench: $(STAMP)
	$(PY) -m bench

clean:
	rm -rf $(VENV)
