# posaid: `make run` to try it, `make test` to prove it. Both build .venv from pyproject.toml.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test tools check bench clean

# `make run` installs what running needs; the test extras come only with `make test`.
$(BIN)/posaid: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.test-extras: $(BIN)/posaid
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

run: $(BIN)/posaid
	$(BIN)/posaid serve --demo

check: $(BIN)/posaid
	$(BIN)/posaid content check

# Browser tests drive Debian's Chromium, Node runs the phone's pure modules (the masking parity
# tests), certutil gives the HTTPS test's Chromium a trust store of its own; install whichever is
# missing when we can (root), else say how.
TOOLS := chromium:chromium node:nodejs certutil:libnss3-tools
tools:
	@missing=""; for pair in $(TOOLS); do command -v $${pair%%:*} >/dev/null 2>&1 || missing="$$missing $${pair#*:}"; done; \
	if [ -z "$$missing" ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	else \
		echo "Missing:$$missing: run 'sudo apt-get install$$missing' (Debian), then 'make test' again." >&2; exit 1; \
	fi

test: $(VENV)/.test-extras tools
	$(BIN)/posaid content check
	$(BIN)/pytest

bench: $(VENV)/.test-extras
	@for script in bench/[!_]*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) var .pytest_cache
