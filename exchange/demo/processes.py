"""The processes `make run` keeps up for the demo: the hub (`exchange serve`) and a
connector worker (`exchange connect`), started as children, each logging to its own file,
and stopped with it."""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO

import requests

from exchange.errors import ServiceUnavailable

READY_DEADLINE_S = 60.0
STOP_TIMEOUT_S = 15.0


def exchange_command() -> list[str]:
    """The `exchange` console script beside this interpreter (the venv's)."""
    script = Path(sys.executable).with_name("exchange")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from exchange.cli import main; main()"]


@dataclass
class _Child:
    name: str
    process: subprocess.Popen[bytes]
    log: IO[bytes]


class DemoProcesses:
    """Children started in order and stopped in reverse, each by its own pid.

    Each child writes its output (the hub's JSON request log, the worker's messages) to
    `<log_dir>/<name>.log`, not to the terminal: there the progress line and the guide
    must stay readable.
    """

    def __init__(self, log_dir: Path) -> None:
        self._log_dir = log_dir
        self._children: list[_Child] = []

    def log_of(self, name: str) -> Path:
        """Where the child `name` writes its output."""
        return self._log_dir / f"{name}.log"

    def start(self, name: str, *arguments: str) -> Path:
        """Start `exchange <arguments>` as the child `name`; return its log file."""
        self._log_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_of(name).open("ab")
        process = subprocess.Popen(
            [*exchange_command(), *arguments],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self._children.append(_Child(name, process, log))
        return self.log_of(name)

    def exited(self) -> str | None:
        """The name of a child that has stopped, or None while all run."""
        return next(
            (child.name for child in self._children if child.process.poll() is not None), None
        )

    def __enter__(self) -> DemoProcesses:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        for child in reversed(self._children):
            if child.process.poll() is None:
                child.process.terminate()
        for child in reversed(self._children):
            try:
                child.process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                child.process.kill()
                child.process.wait()
            child.log.close()


def wait_until_ready(url: str, deadline_s: float = READY_DEADLINE_S) -> None:
    """Poll `/v1/ready` until the hub answers 200; `ServiceUnavailable` past the deadline."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/v1/ready", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise ServiceUnavailable(f"the hub at {url} was not ready within {deadline_s:.0f} s")
