# The two commands of the README: `make run` (hub + demo on the embedded default) and
# `make test` (ruff, mypy and pytest against real PostgreSQL and Apache Kafka).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat setup.cfg pyproject.toml | sha256sum | cut -c1-12)

.PHONY: run test test-faults install lint typecheck services-start services-stop clean bench

$(STAMP): setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

# The demo's connectors read and write under var/ (var/inbox, var/outbox) and checkpoints come
# every 10 s so the console proves fresh entries soon; both can be overridden from the shell.
run: $(STAMP)
	$(BIN)/exchange init
	EXCHANGE_CONNECTOR_ROOT=$${EXCHANGE_CONNECTOR_ROOT:-var} \
	EXCHANGE_AUDIT_CHECKPOINT_SECONDS=$${EXCHANGE_AUDIT_CHECKPOINT_SECONDS:-10} \
	exec $(BIN)/exchange demo run

test: $(STAMP)
	bash scripts/test.sh

# Slow fault tests (processes killed, PostgreSQL and Kafka restarted, rate limits shared
# through Redis): see docs/reliability.md. Fairness as a latency is measured by `make bench`.
test-faults: $(STAMP)
	bash scripts/test.sh -m faults tests/faults

bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

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
