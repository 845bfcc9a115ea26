"""A Kafka broker of the fault tests' own (`scripts/kafka.sh` with `KAFKA_PORT`), which they
may stop and start: never the shared broker on 9092, nor the benchmark's on 19092."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FAULTS_KAFKA_PORT = int(os.environ.get("EXCHANGE_FAULTS_KAFKA_PORT", "29092"))
BOOTSTRAP = f"127.0.0.1:{FAULTS_KAFKA_PORT}"


def kafka_script(command: str) -> str:
    """Run `scripts/kafka.sh COMMAND` for the fault tests' broker; its standard output."""
    result = subprocess.run(
        ["bash", str(REPO / "scripts" / "kafka.sh"), command],
        env={**os.environ, "KAFKA_PORT": str(FAULTS_KAFKA_PORT)},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def forget_log() -> None:
    """Remove the stopped broker's log, so that it starts empty (no earlier run's audit
    events on `exchange.audit`)."""
    shutil.rmtree(REPO / ".tools" / "kafka" / f"data-{FAULTS_KAFKA_PORT}", ignore_errors=True)
