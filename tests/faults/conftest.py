"""Fault tests kill and starve real processes and take minutes: they run only when asked
for with `-m faults` (`make test-faults`), never in the default `make test`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.faults.own_kafka import BOOTSTRAP, forget_log, kafka_script


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
