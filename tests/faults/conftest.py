"""Fault tests kill and starve real processes and take minutes: they run only when asked
for with `-m faults` (`make test-faults`), never in the default `make test`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.hub_process import BackgroundCommand, HubProcess
from tests.faults.own_kafka import BOOTSTRAP, forget_log, kafka_script
from tests.fixtures.database import fresh_postgres_database


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect (not skip: they are not missing, only elsewhere) unless `-m faults`."""
    if "faults" in (config.getoption("markexpr") or ""):
        return
    faults = [item for item in items if item.get_closest_marker("faults") is not None]
    if faults:
        config.hook.pytest_deselected(items=faults)
        items[:] = [item for item in items if item.get_closest_marker("faults") is None]


@pytest.fixture
def faults_broker() -> Iterator[str]:
    """The fault tests' own broker, started empty (no earlier run's audit events) and
    stopped afterwards; the test may stop and start it in between."""
    kafka_script("stop")
    forget_log()
    if "already running" in kafka_script("start"):
        pytest.skip(f"something else listens on {BOOTSTRAP}: not ours to restart")
    yield BOOTSTRAP
    kafka_script("stop")


@pytest.fixture
def deployment(faults_broker: str, postgres_url: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    """The production shape's settings (`EXCHANGE_*`) for hub processes, the audit writer
    and connector workers: a fresh PostgreSQL database, the faults broker, no rate limit,
    and a connector root in tmp_path."""
    with fresh_postgres_database(postgres_url) as url:
        yield {
            "EXCHANGE_DATABASE_URL": url,
            "EXCHANGE_TRANSPORT": "kafka",
            "EXCHANGE_KAFKA_BOOTSTRAP_SERVERS": faults_broker,
            "EXCHANGE_RATE_LIMIT_PER_PRINCIPAL": "",
            "EXCHANGE_TOPIC_PARTITIONS": "3",
            "EXCHANGE_AUDIT_CHECKPOINT_EVERY": "50",
            "EXCHANGE_CONNECTOR_ROOT": str(tmp_path / "connectors"),
            "EXCHANGE_CONNECTOR_POLL_INTERVAL_S": "0.05",
        }


@pytest.fixture
def stop_afterwards() -> Iterator[list[HubProcess | BackgroundCommand]]:
    """Processes a test appends here are stopped when it ends, however it ends (a test
    stops them itself where the order matters; stopping twice does nothing)."""
    started: list[HubProcess | BackgroundCommand] = []
    yield started
    for process in reversed(started):
        process.stop()
