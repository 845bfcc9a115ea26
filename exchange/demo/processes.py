"""The processes `make run` keeps up for the demo: the hub (`exchange serve`) and a
connector worker (`exchange connect`), started as children and stopped with it."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

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


class DemoProcesses:
    """Children started in order and stopped in reverse, each by its own pid."""

    def __init__(self) -> None:
        self._children: list[subprocess.Popen[bytes]] = []

    def start(self, *arguments: str) -> subprocess.Popen[bytes]:
        child = subprocess.Popen([*exchange_command(), *arguments])
        self._children.append(child)
        return child

    def any_exited(self) -> bool:
        return any(child.poll() is not None for child in self._children)

    def __enter__(self) -> DemoProcesses:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        for child in reversed(self._children):
            if child.poll() is None:
                child.terminate()
        for child in reversed(self._children):
            try:
                child.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                child.kill()


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
