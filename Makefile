# Every target bootstraps its own virtualenv, so a fresh machine needs only Python 3.11 and pip.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint typecheck docs docs-serve pytest fuzz bench image clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/quaybot serve --setup-if-unconfigured

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/hadolint Dockerfile

typecheck: $(STAMP)
	$(BIN)/mypy --strict bot

# The documentation site; strict: a broken link or anchor, or a page left out of the nav, fails.
docs: $(STAMP)
	$(BIN)/mkdocs build --strict --quiet

docs-serve: $(STAMP)
	$(BIN)/mkdocs serve --dev-addr 127.0.0.1:8000

pytest: $(STAMP)
	$(BIN)/pytest

test: lint typecheck docs pytest

# The fuzzers with 15 times their CI examples (6 to 7 minutes on 2 cores): a longer hunt, same properties.
fuzz: $(STAMP)
	QUAYBOT_FUZZ_SCALE=15 $(BIN)/pytest tests/test_fuzz_parser.py tests/test_fuzz_events.py tests/e2e/test_hostile.py

# The container image, built with podman and run as a user would (docs/install/container.md).
image: $(STAMP)
	bash .ci/image

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .hypothesis site

bench: $(STAMP)
	$(BIN)/python -m bench.run
