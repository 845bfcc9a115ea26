"""`exchange serve` runs the hub under gunicorn and stops gracefully on SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from exchange.client import ExchangeClient

EXCHANGE = str(Path(sys.executable).with_name("exchange"))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_healthy(url: str, process: subprocess.Popen[bytes], deadline_s: float = 60) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"exchange serve exited early with {process.returncode}")
        try:
            if requests.get(f"{url}/v1/health", timeout=1).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    pytest.fail("exchange serve did not answer in time")


@pytest.mark.slow
def test_serve_answers_signed_requests_and_exits_cleanly_on_sigterm(tmp_path):
    port = _free_port()
    env = {**os.environ, "EXCHANGE_DATA_DIR": str(tmp_path / "var"), "EXCHANGE_PORT": str(port)}
    subprocess.run([EXCHANGE, "init"], env=env, check=True, capture_output=True)
    process = subprocess.Popen(
        [EXCHANGE, "serve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_healthy(url, process)
        assert requests.get(f"{url}/v1/ready", timeout=5).json()["status"] == "ready"
        client = ExchangeClient(url, key_file=tmp_path / "var" / "keys" / "admin.pem")
        assert (
            client.post("/v1/departments", json={"code": "tax", "name": "Tax", "contact": "x"})[
                "code"
            ]
            == "tax"
        )
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    logs = process.stderr.read().decode() if process.stderr else ""
    assert process.returncode == 0, logs
    assert '"request_id"' in logs
