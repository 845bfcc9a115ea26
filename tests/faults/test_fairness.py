"""Fairness under load: a department flooding the hub at five times its rate limit must not
slow another department's publishing beyond twice its unloaded p99 latency.

Measured as a ratio within one run, so that the machine's speed cancels out; unloaded and
loaded samples are taken in alternating rounds, so that drift (other work on a shared
machine) falls on both alike. The publisher stays under its limit and never retries.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from exchange.identity.keys import load_private_key
from tests.contract.signing_auth import SigningAuth
from tests.faults.hub_process import HubProcess
from tests.faults.publishing import onboard_market
from tests.support.province import LICENCE_SUBJECT, licence
from tests.support.signed_client import new_key_pair

# A timed assertion: too noisy for CI on a shared 2-core machine (ratios of 0.8 to 3.7 were
# seen), so it runs by hand with `make test-fairness`; the benchmark harness is where
# latency belongs.
pytestmark = [pytest.mark.faults, pytest.mark.slow, pytest.mark.timing]

LIMIT_PER_SECOND = 10
FLOOD_FACTOR = 5
ROUNDS = 6
SAMPLES_PER_ROUND = 20
MAX_P99_RATIO = 2.0


@pytest.fixture
def hub_process(tmp_path: Path) -> Iterator[HubProcess]:
    """A real `exchange serve`: the hub does not share the test's interpreter."""
    process = HubProcess(
        tmp_path / "var", {"EXCHANGE_RATE_LIMIT_PER_PRINCIPAL": f"{LIMIT_PER_SECOND}/second"}
    )
    process.init()
    process.start()
    yield process
    process.stop()


class Flood:
    """One department sending FLOOD_FACTOR times its limit, paced, while running."""

    def __init__(self, session: requests.Session, url: str) -> None:
        self.session, self.url = session, url
        self.counts: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Flood:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        assert self._thread is not None
        self._thread.join(timeout=30)

    def _run(self) -> None:
        interval = 1.0 / (LIMIT_PER_SECOND * FLOOD_FACTOR)
        while not self._stop.is_set():
            started = time.perf_counter()
            status = self.session.get(f"{self.url}/v1/subjects", timeout=30).status_code
            self.counts[status] = self.counts.get(status, 0) + 1
            # Pacing, not waiting: the flood's rate is the fault being injected.
            time.sleep(max(0.0, interval - (time.perf_counter() - started)))


class Publisher:
    """A well-behaved department publishing one record at a time, under its limit."""

    def __init__(self, session: requests.Session, url: str) -> None:
        self.session, self.url = session, url
        self.next_number = 0

    def latencies(self, count: int) -> list[float]:
        measured = []
        for _ in range(count):
            self.next_number += 1
            started = time.perf_counter()
            response = self.session.post(
                f"{self.url}/v1/subjects/{LICENCE_SUBJECT}/records",
                json={"records": [{"payload": licence(self.next_number)}]},
                timeout=30,
            )
            measured.append(time.perf_counter() - started)
            assert response.status_code == 201, response.text
            time.sleep(max(0.0, 1.5 / LIMIT_PER_SECOND - measured[-1]))  # stay under the limit
        return measured


def _p99(latencies: list[float]) -> float:
    return statistics.quantiles(latencies, n=100)[98]


def _department(admin: requests.Session, url: str, code: str) -> requests.Session:
    private_key, jwk = new_key_pair()
    response = admin.post(
        f"{url}/v1/departments", json={"code": code, "name": code, "contact": "x@example.gov"}
    )
    assert response.status_code == 201, response.text
    response = admin.post(f"{url}/v1/departments/{code}/keys", json={"public_key": jwk})
    assert response.status_code == 201, response.text
    session = requests.Session()
    session.auth = SigningAuth(private_key)
    return session


def test_a_flooding_department_leaves_another_departments_p99_within_twice(hub_process, tmp_path):
    url = hub_process.url
    admin = requests.Session()
    admin.auth = SigningAuth(load_private_key(tmp_path / "var" / "keys" / "admin.pem"))
    publisher = Publisher(onboard_market(admin, url), url)
    flood = Flood(_department(admin, url, "flooder"), url)
    publisher.latencies(SAMPLES_PER_ROUND)  # warm up: connections, caches
    unloaded: list[float] = []
    loaded: list[float] = []
    for _ in range(ROUNDS):
        unloaded += publisher.latencies(SAMPLES_PER_ROUND)
        with flood:
            loaded += publisher.latencies(SAMPLES_PER_ROUND)
    assert flood.counts.get(429, 0) > flood.counts.get(200, 0), flood.counts  # over its limit
    ratio = _p99(loaded) / _p99(unloaded)
    assert ratio <= MAX_P99_RATIO, (ratio, _p99(unloaded), _p99(loaded), flood.counts)
