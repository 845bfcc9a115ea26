# The two commands of the README: `make run` (hub + demo on the embedded default) and
# `make test` (ruff, mypy and pytest against real PostgreSQL and Apache Kafka).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat setup.cfg pyproject.toml | sha256sum | cut -c1-12)

.PHONY: run test install lint typecheck services-start services-stop clean

$(STAMP): setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/exchange init
	exec $(BIN)/exchange serve

test: $(STAMP)
	bash scripts/test.sh

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

services-start:
	bash scripts/postgres.sh start && bash scripts/kafka.sh start

services-stop:
	-bash scripts/kafka.sh stop
	-bash scripts/postgres.sh stop

clean:
	rm -rf $(VENV) .tools .pytest_cache .mypy_cache .ruff_cache
