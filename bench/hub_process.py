"""The hub under test: `exchange init`, then `exchange serve` (gunicorn, the production
settings of docker-compose.yml) and `exchange audit writer`, as separate processes on
127.0.0.1, on real Kafka and the chosen store."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import requests

from bench.errors import BenchError
from bench.memory import children_of

EXCHANGE = str(Path(sys.executable).with_name("exchange"))
START_DEADLINE_S = 60.0
STOP_DEADLINE_S = 30.0
POLL_S = 0.2

# The production shape of docker-compose.yml, on this machine's loopback.
PRODUCTION_SETTINGS = {
    "EXCHANGE_TRANSPORT": "kafka",
    "EXCHANGE_TOPIC_PARTITIONS": "6",
    "EXCHANGE_TOPIC_REPLICATION_FACTOR": "1",
    "EXCHANGE_HOST": "127.0.0.1",
    "EXCHANGE_WORKERS": "2",
    "EXCHANGE_THREADS": "8",
    "EXCHANGE_LOG_FORMAT": "json",
    "EXCHANGE_LOG_LEVEL": "INFO",
    # The per-principal limit (600/minute in production) would refuse the one department
    # that drives the load here: a run measures capacity, not that policy.
    "EXCHANGE_RATE_LIMIT_PER_PRINCIPAL": "",
}


@dataclass(frozen=True)
class RunningHub:
    """A hub serving at `url`; `admin_key_file` signs as its first administrator."""

    url: str
    data_dir: Path
    admin_key_file: Path
    server_pid: int
    writer_pid: int
    environment: dict[str, str]
    work_dir: Path

    @property
    def connector_root(self) -> Path:
        """Where connector workers of this deployment keep keys and files."""
        return Path(self.environment["EXCHANGE_CONNECTOR_ROOT"])

    def worker_pids(self) -> list[int]:
        """The gunicorn worker processes (children of the arbiter)."""
        return children_of(self.server_pid)


@contextmanager
def running_hub(
    work_dir: Path,
    database_url: str,
    kafka_bootstrap: str,
    workers: int = 2,
    settings: Mapping[str, str] | None = None,
) -> Iterator[RunningHub]:
    """Initialise a deployment in `work_dir` and serve it until the block ends; `settings`
    (`EXCHANGE_*`) override the production ones."""
    port = _free_port()
    data_dir = work_dir / "var"
    environment = {
        **_without_exchange_variables(os.environ),
        **PRODUCTION_SETTINGS,
        "EXCHANGE_DATA_DIR": str(data_dir),
        "EXCHANGE_DATABASE_URL": database_url,
        "EXCHANGE_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "EXCHANGE_PORT": str(port),
        "EXCHANGE_WORKERS": str(workers),
        "EXCHANGE_CONNECTOR_ROOT": str(data_dir / "connectors"),
        **(settings or {}),
    }
    _run_init(environment, work_dir)
    url = f"http://127.0.0.1:{port}"
    with ExitStack() as stack:
        server_log = stack.enter_context(open(work_dir / "serve.log", "wb"))
        writer_log = stack.enter_context(open(work_dir / "writer.log", "wb"))
        server = stack.enter_context(
            _process([EXCHANGE, "serve"], environment, work_dir, server_log)
        )
        writer = stack.enter_context(
            _process([EXCHANGE, "audit", "writer"], environment, work_dir, writer_log)
        )
        _wait_until_healthy(url, server, work_dir / "serve.log")
        yield RunningHub(
            url,
            data_dir,
            data_dir / "keys" / "admin.pem",
            server.pid,
            writer.pid,
            environment,
            work_dir,
        )


def _without_exchange_variables(environ: os._Environ[str]) -> dict[str, str]:
    # A developer's own EXCHANGE_* settings must not leak into the measured deployment.
    return {name: value for name, value in environ.items() if not name.startswith("EXCHANGE_")}


def _run_init(environment: dict[str, str], work_dir: Path) -> None:
    completed = subprocess.run(
        [EXCHANGE, "init"],
        env=environment,
        cwd=work_dir,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise BenchError(f"exchange init failed: {completed.stderr.strip()[-1000:]}")


@contextmanager
def connector_worker(hub: RunningHub) -> Iterator[subprocess.Popen[bytes]]:
    """`exchange connect` against the hub, with the hub's settings, until the block ends."""
    with (
        open(hub.work_dir / "connect.log", "wb") as log,
        _process(
            [EXCHANGE, "connect", "--url", hub.url], hub.environment, hub.work_dir, log
        ) as worker,
    ):
        yield worker


@contextmanager
def _process(
    command: list[str], environment: dict[str, str], work_dir: Path, log: IO[bytes]
) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(
        command, env=environment, cwd=work_dir, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        yield process
    finally:
        _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_DEADLINE_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_DEADLINE_S)


def _wait_until_healthy(url: str, server: subprocess.Popen[bytes], log_file: Path) -> None:
    deadline = time.monotonic() + START_DEADLINE_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise BenchError(f"exchange serve exited early: {_tail(log_file)}")
        try:
            if requests.get(f"{url}/v1/ready", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(POLL_S)  # nothing to await across processes: poll with a deadline
    raise BenchError(f"exchange serve did not become ready: {_tail(log_file)}")


def _tail(log_file: Path) -> str:
    return log_file.read_text(errors="replace")[-1500:]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
