# posaid: `make run` to try it, `make test` to prove it. Both build .venv from pyproject.toml.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test chromium check bench clean

$(BIN)/posaid: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

run: $(BIN)/posaid
	$(BIN)/posaid serve --demo

check: $(BIN)/posaid
	$(BIN)/posaid content check

# Browser tests drive Debian's Chromium; install it when we can (root), else say how.
chromium:
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
		echo "Chromium is missing: run 'sudo apt-get install chromium' (Debian), then 'make test' again." >&2; exit 1; \
	fi

test: $(BIN)/posaid chromium
	$(BIN)/posaid content check
	$(BIN)/pytest

bench: $(BIN)/posaid
	@for script in bench/[!_]*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) var .pytest_cache
