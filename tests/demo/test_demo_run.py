"""`exchange demo run` (what `make run` does) as a person runs it: in its own process on a
free port, until the shipped licences have reached the tax outbox, then SIGTERM. The
terminal shows the steps, the progress line and the guide; the children's logs go to files."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
from pathlib import Path

import pytest

from exchange.cli.demo import guide
from exchange.config import load_settings
from exchange.demo.processes import exchange_command
from exchange.demo.progress import Progress
from exchange.demo.seed import SeedReport

pytestmark = pytest.mark.slow

RUN_DEADLINE_S = 300.0
STOP_DEADLINE_S = 60.0
SHIPPED_LICENCES = 300


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def demo_environment(data_dir: Path, port: int) -> dict[str, str]:
    """This machine's environment without any EXCHANGE_ setting, plus the demo's own."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("EXCHANGE_")}
    return inherited | {
        "EXCHANGE_DATA_DIR": str(data_dir),
        "EXCHANGE_CONNECTOR_ROOT": str(data_dir),
        "EXCHANGE_PORT": str(port),
        "EXCHANGE_WORKERS": "1",
    }


def test_demo_run_moves_the_licences_and_keeps_the_terminal_readable(tmp_path: Path) -> None:
    data_dir, port = tmp_path / "var", free_port()
    env = demo_environment(data_dir, port)
    subprocess.run([*exchange_command(), "init"], env=env, cwd=tmp_path, check=True)
    demo = subprocess.Popen(
        [*exchange_command(), "demo", "run"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    # A hung demo must not hang the suite: past the deadline it is killed, ending the output.
    watchdog = threading.Timer(RUN_DEADLINE_S, demo.kill)
    watchdog.start()
    lines: list[str] = []
    try:
        assert demo.stdout is not None
        for line in demo.stdout:
            lines.append(line)
            if line.startswith("Ctrl-C stops"):
                break
        demo.send_signal(signal.SIGTERM)
        lines.extend(demo.stdout)
        assert demo.wait(STOP_DEADLINE_S) == 0, "".join(lines)
    finally:
        watchdog.cancel()
        if demo.poll() is None:
            demo.kill()
    terminal = "".join(lines)

    url = f"http://127.0.0.1:{port}"
    assert f"hub starting on {url} (its log: {data_dir / 'log' / 'serve.log'})" in terminal
    progress = terminal.split("\r")[-1]
    assert f"delivered to tax {SHIPPED_LICENCES}/{SHIPPED_LICENCES}" in progress
    assert f"The demo is up: {SHIPPED_LICENCES} licences delivered to tax" in terminal
    assert f"--url {url}" in terminal  # not the CLI's default port
    assert '"logger"' not in terminal  # no JSON request log among the progress and guide
    assert '"request answered"' in (data_dir / "log" / "serve.log").read_text()
    assert (data_dir / "log" / "connect.log").is_file()
    assert len(list((data_dir / "outbox" / "tax").iterdir())) >= 1


def test_guide_names_the_hub_only_when_it_is_not_the_cli_default(tmp_path: Path) -> None:
    settings = load_settings(environ={}, overrides={"data_dir": str(tmp_path)})
    report = SeedReport(key_files={"inspector": tmp_path / "inspector.pem"})
    progress = Progress(published=3, delivered=3, dead_lettered=0, expected=3)
    on_default = guide(settings, "http://127.0.0.1:8080", report, progress)
    elsewhere = guide(settings, "http://127.0.0.1:18080", report, progress)
    assert "--url" not in on_default
    report_line = next(line for line in elsewhere.splitlines() if "audit report" in line)
    assert report_line.endswith(f"--key {tmp_path / 'inspector.pem'} --url http://127.0.0.1:18080")
