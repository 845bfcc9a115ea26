"""`exchange serve` runs the hub under gunicorn and stops gracefully on SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from exchange.client import ExchangeClient
from exchange.identity.keys import generate_private_key, public_key_to_jwk
from tests.support.province import LICENCE_SUBJECT, example_schema

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


@pytest.mark.parametrize("command", ["init", "serve"])
def test_a_bad_setting_stops_the_command_with_one_line_naming_the_key(tmp_path, command):
    env = {**os.environ, "EXCHANGE_DATA_DIR": str(tmp_path / "var"), "EXCHANGE_WORKERS": "0"}
    finished = subprocess.run(
        [EXCHANGE, command], check=False, env=env, capture_output=True, text=True, timeout=60
    )
    assert finished.returncode == 1
    assert finished.stderr.strip().splitlines() == [
        "Error: configuration: setting 'workers': must be at least 1, got 0"
    ]
    assert not (tmp_path / "var").exists()


def _start_serving(tmp_path: Path, **settings: str) -> tuple[subprocess.Popen[bytes], str]:
    """`exchange init` then `exchange serve` on a free port; the process and its URL."""
    port = _free_port()
    env = {**os.environ, "EXCHANGE_DATA_DIR": str(tmp_path / "var"), "EXCHANGE_PORT": str(port)}
    env |= {f"EXCHANGE_{name.upper()}": value for name, value in settings.items()}
    subprocess.run([EXCHANGE, "init"], env=env, check=True, capture_output=True)
    process = subprocess.Popen(
        [EXCHANGE, "serve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_healthy(url, process)
    except BaseException:
        process.kill()
        raise
    return process, url


def _stop(process: subprocess.Popen[bytes]) -> str:
    """SIGTERM, wait for the exit; the process's stderr."""
    process.send_signal(signal.SIGTERM)
    try:
        _, stderr = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        raise
    return stderr.decode()


def _department(admin: ExchangeClient, url: str, code: str) -> ExchangeClient:
    admin.post("/v1/departments", json={"code": code, "name": code.title(), "contact": "x"})
    private_key = generate_private_key()
    admin.post(
        f"/v1/departments/{code}/keys",
        json={"public_key": public_key_to_jwk(private_key.public_key())},
    )
    return ExchangeClient(url, private_key=private_key)


def _subscription(admin: ExchangeClient, url: str) -> tuple[ExchangeClient, str]:
    """A tax department subscribed to market regulation's licences; its client and the
    subscription id."""
    market = _department(admin, url, "market-regulation")
    tax = _department(admin, url, "tax")
    admin.post(
        "/v1/subjects",
        json={
            "subject": LICENCE_SUBJECT,
            "owner": "market-regulation",
            "title": "Business licence",
            "description": "fictional",
            "sensitivity": "internal",
            "key_field": "unified_social_credit_code",
            "compatibility": "BACKWARD",
            "retention_days": 365,
            "schema": example_schema(LICENCE_SUBJECT),
        },
    )
    grant = tax.post(
        "/v1/grants", json={"subject": LICENCE_SUBJECT, "purpose": "tax registration checks"}
    )
    market.post(f"/v1/grants/{grant['id']}/approve", json={})
    return tax, tax.subscribe(LICENCE_SUBJECT, grant["id"])["id"]


@pytest.mark.slow
def test_sigterm_lets_an_in_flight_request_finish_then_exits_0(tmp_path):
    process, url = _start_serving(tmp_path)
    answers: list[Any] = []
    try:
        admin = ExchangeClient(url, key_file=tmp_path / "var" / "keys" / "admin.pem")
        tax, subscription_id = _subscription(admin, url)

        def long_pull() -> None:
            try:
                answers.append(
                    tax.get(
                        f"/v1/subscriptions/{subscription_id}/records", params={"wait_ms": 4000}
                    )
                )
            except Exception as error:  # reported by the assertion below
                answers.append(error)

        pulling = threading.Thread(target=long_pull)
        pulling.start()
        # No signal tells that the hub has begun the pull; a second is far more than it
        # takes to receive it, and far less than the 4 s the pull then waits for records.
        time.sleep(1)
    finally:
        logs = _stop(process)
    pulling.join(timeout=30)
    (answer,) = answers
    assert isinstance(answer, dict), answer
    assert answer["records"] == []
    assert process.returncode == 0, logs
    assert "Handling signal: term" in logs


def _counted(text: str, route: str) -> float:
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "exchange_http_requests_total" and sample.labels["route"] == route
    )


@pytest.mark.slow
def test_metrics_add_up_every_worker_of_the_server(tmp_path):
    process, url = _start_serving(tmp_path, workers="3", metrics_public="true")
    try:
        for _ in range(30):
            # A new connection each time, so that the workers share the requests.
            assert requests.get(f"{url}/v1/hub/keys", timeout=5).status_code == 200
        # Whichever worker answers, a scrape counts the requests of all three.
        scrapes = [requests.get(f"{url}/metrics", timeout=5).text for _ in range(3)]
    finally:
        logs = _stop(process)
    assert process.returncode == 0, logs
    assert [_counted(text, "/v1/hub/keys") for text in scrapes] == [30, 30, 30]
