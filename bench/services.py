"""The infrastructure a run needs: Apache Kafka and PostgreSQL, started through the
repository's scripts when they are not already up, and stopped only if this run started
them."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.errors import BenchError

REPOSITORY = Path(__file__).resolve().parents[1]
# The bench runs its own broker: the hub's audit topic and writer group have fixed names,
# and sharing the test broker would mix this run's audit log with other hubs' under test.
BENCH_KAFKA_PORT = 19092
POSTGRES_SERVER_URL = "postgresql+psycopg://exchange:exchange@127.0.0.1:5433/exchange_test"
_ALREADY_RUNNING = "already running"


@contextmanager
def running_service(script: str, port_variable: str = "", port: int = 0) -> Iterator[None]:
    """Start `scripts/<script>` unless it reports the service already running; on exit,
    stop it only when this call started it (other engineers' runs share the service).
    `port_variable`, when given, names the script's port setting, set to `port`."""
    environment = {**os.environ, port_variable: str(port)} if port_variable else None
    started = _start(script, environment)
    try:
        yield
    finally:
        if started:
            subprocess.run(
                ["bash", str(REPOSITORY / "scripts" / script), "stop"],
                check=False,
                capture_output=True,
                env=environment,
            )


def _start(script: str, environment: dict[str, str] | None) -> bool:
    completed = subprocess.run(
        ["bash", str(REPOSITORY / "scripts" / script), "start"],
        check=False,
        capture_output=True,
        text=True,
        env=environment,
    )
    said = completed.stdout + completed.stderr
    if completed.returncode != 0:
        raise BenchError(f"scripts/{script} start failed: {said.strip()[-500:]}")
    return _ALREADY_RUNNING not in said
