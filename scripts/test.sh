#!/usr/bin/env bash
# The test command behind `make test` and `.ci/run`: make sure PostgreSQL and Apache Kafka
# are running (starting what is absent, stopping afterwards what this script started), then
# run ruff, mypy and pytest. With CI=true a missing broker or database fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
started=()

stop_started() {
  for service in "${started[@]}"; do
    bash "scripts/$service.sh" stop || echo "warning: could not stop $service" >&2
  done
}
trap stop_started EXIT

start_service() {  # start_service NAME: record it when this run started it
  local output
  if output=$(bash "scripts/$1.sh" start); then
    echo "$output"
    if grep -q '^started' <<<"$output"; then started+=("$1"); fi
    return 0
  fi
  echo "$output"
  return 1
}

if ! start_service postgres; then
  echo "!!! PostgreSQL could not be started: its tests will be skipped (failed when CI=true)" >&2
fi
if command -v java >/dev/null && command -v mvn >/dev/null; then
  if [ -z "${KAFKA_BOOTSTRAP_SERVERS:-}" ]; then
    start_service kafka || echo "!!! Kafka could not be started: its tests will be skipped (failed when CI=true)" >&2
    export KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:9092
  fi
else
  echo "!!! no Java or Maven on this machine: the Kafka tests will be SKIPPED (failed when CI=true)" >&2
fi

echo "--- ruff"
$BIN/ruff check .
$BIN/ruff format --check .
echo "--- mypy"
$BIN/mypy
echo "--- pytest"
$BIN/pytest "$@"
