# Two commands do all the set-up on a fresh machine:
#   make repro   create/reuse .venv from requirements.txt, then run the DVC pipeline
#   make test    create/reuse .venv, then run the default test suite
VENV ?= .venv
PY := $(VENV)/bin/python
export PATH := $(abspath $(VENV))/bin:$(PATH)
export PYTHONUNBUFFERED := 1

.PHONY: setup repro test test-slow test-all lint clean

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements.txt
	touch $@

repro: setup
	dvc repro

test: setup
	$(PY) -m pytest -q -m "not slow"

test-slow: setup
	$(PY) -m pytest -q -m slow

test-all: setup
	$(PY) -m pytest -q

# ruff (lint and format check) and mypy on the library, the stages and the tools (pyproject.toml)
lint: setup
	$(VENV)/bin/ruff check pipeline stages tools
	$(VENV)/bin/ruff format --check pipeline stages tools
	$(VENV)/bin/mypy

# Removes the DVC stages' cached outputs only (never a git-tracked file: the .gitignore files
# DVC writes and the report under reports/ stay); `dvc repro` then restores them from the cache.
clean:
	rm -rf data/code/ data/inputs/*/ data/prepared/*/ data/init/*/*/ data/runs/*/*/ data/eval/*.json data/params_checked.txt reports/tuning/*/*/
