"""A real `exchange serve` process (gunicorn master and worker) that a fault test can kill
with a real signal and start again on the same data directory and port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import requests

EXCHANGE = str(Path(sys.executable).with_name("exchange"))
START_DEADLINE_S = 60.0


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class HubProcess:
    """`exchange serve` in its own process group, so a signal reaches master and workers."""

    def __init__(self, data_dir: Path, extra_env: Mapping[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "EXCHANGE_DATA_DIR": str(data_dir),
            "EXCHANGE_PORT": str(self.port),
            "EXCHANGE_LOG_LEVEL": "WARNING",
            **(extra_env or {}),
        }
        self.log = data_dir.parent / "hub.log"
        self._process: subprocess.Popen[bytes] | None = None

    def init(self) -> None:
        """`exchange init`: keys, store and topics."""
        subprocess.run([EXCHANGE, "init"], env=self.env, check=True, capture_output=True)

    def start(self) -> None:
        """Start the hub and wait until it answers its health probe."""
        with self.log.open("ab") as log:
            self._process = subprocess.Popen(
                [EXCHANGE, "serve"], env=self.env, stdout=log, stderr=log, start_new_session=True
            )
        self.wait_until_healthy()

    def wait_until_healthy(self) -> None:
        deadline = time.monotonic() + START_DEADLINE_S
        while time.monotonic() < deadline:
            assert self._process is not None
            assert self._process.poll() is None, self.log_text()
            try:
                if requests.get(f"{self.url}/v1/health", timeout=1).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"the hub did not answer within {START_DEADLINE_S} s")

    def kill(self) -> None:
        """SIGKILL the whole process group: no handler runs, nothing is flushed."""
        assert self._process is not None
        os.killpg(self._process.pid, signal.SIGKILL)
        self._process.wait(timeout=30)
        self._process = None

    def stop(self) -> None:
        """SIGTERM (graceful), if still running."""
        if self._process is None:
            return
        os.killpg(self._process.pid, signal.SIGTERM)
        try:
            self._process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait(timeout=30)
        self._process = None

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""


class BackgroundCommand:
    """An `exchange` subcommand in its own process group, started and signalled by a test."""

    def __init__(self, arguments: list[str], env: Mapping[str, str], log: Path) -> None:
        self.arguments, self.env, self.log = arguments, {**os.environ, **env}, log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the command, appending its output to the log."""
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [EXCHANGE, *self.arguments],
                env=self.env,
                stdout=out,
                stderr=out,
                start_new_session=True,
            )

    def signal(self, number: int) -> None:
        """Send `number` to the process group and wait for the process to end."""
        assert self.process is not None
        os.killpg(self.process.pid, number)
        self.process.wait(timeout=60)
        self.process = None

    def freeze(self) -> None:
        """SIGSTOP: the process stays alive (its leases too, until they expire) but does
        nothing until `thaw`."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        """SIGCONT after `freeze`."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGCONT)

    def stop(self) -> None:
        """SIGTERM (graceful), if still running; SIGKILL if it does not end in time."""
        if self.process is None:
            return
        self.thaw()  # a frozen process would not act on SIGTERM
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)
        self.process = None

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""


class AuditWriterProcess(BackgroundCommand):
    """`exchange audit writer`: it resumes from its committed offset when started again."""

    def __init__(self, env: Mapping[str, str], log: Path) -> None:
        super().__init__(["audit", "writer"], env, log)


class ConnectorWorkerProcess(BackgroundCommand):
    """`exchange connect --url HUB --worker-id ID`: runs the connectors it leases."""

    def __init__(self, env: Mapping[str, str], log: Path, hub_url: str, worker_id: str) -> None:
        super().__init__(["connect", "--url", hub_url, "--worker-id", worker_id], env, log)
        self.worker_id = worker_id
