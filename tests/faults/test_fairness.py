"""Fairness, functionally: one department flooding a real `exchange serve` at five times
its rate limit is refused with 429 for everything over its limit, while another department
publishing meanwhile is never refused and has every record acknowledged, on the topic and
in the audit log.

How much the flood slows the other department is a latency, measured by the benchmark
harness (`bench/fairness.py`, `fairness_p99_ratio`), never asserted by a test.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from exchange.config import load_settings
from exchange.identity.keys import load_private_key
from tests.contract.signing_auth import SigningAuth
from tests.faults.hub_process import HubProcess
from tests.faults.publishing import (
    assert_audit_log_verifies_and_holds,
    onboard_department,
    onboard_market,
    records_on_topic,
    wait_for_audit,
)
from tests.support.province import LICENCE_SUBJECT, licence

pytestmark = [pytest.mark.faults, pytest.mark.slow]

# Per minute, so that the whole test runs inside one window: the counts are exact.
LIMIT = 20
FLOOD_FACTOR = 5
PUBLISHES = LIMIT // 2  # the well-behaved department stays under its own limit


@pytest.fixture
def hub_process(tmp_path: Path) -> Iterator[HubProcess]:
    process = HubProcess(tmp_path / "var", {"EXCHANGE_RATE_LIMIT_PER_PRINCIPAL": f"{LIMIT}/minute"})
    process.init()
    process.start()
    yield process
    process.stop()


class Flood:
    """One department sending FLOOD_FACTOR times its limit, as fast as it can, from a thread."""

    def __init__(self, session: requests.Session, url: str) -> None:
        self.session, self.url = session, url
        self.statuses: Counter[int] = Counter()
        self.retry_after: set[str] = set()
        self.thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        for _ in range(LIMIT * FLOOD_FACTOR):
            response = self.session.get(f"{self.url}/v1/subjects", timeout=30)
            self.statuses[response.status_code] += 1
            if response.status_code == 429:
                self.retry_after.add(response.headers.get("Retry-After", ""))


def test_a_flooding_department_is_refused_and_another_is_served_in_full(hub_process, tmp_path):
    url = hub_process.url
    admin = requests.Session()
    admin.auth = SigningAuth(load_private_key(tmp_path / "var" / "keys" / "admin.pem"))
    market = onboard_market(admin, url)
    flood = Flood(onboard_department(admin, url, "flooder"), url)

    flood.thread.start()
    answers = [
        market.post(
            f"{url}/v1/subjects/{LICENCE_SUBJECT}/records",
            json={"records": [{"payload": licence(n)}]},
            headers={"Idempotency-Key": str(uuid.uuid4())},
            timeout=60,
        )
        for n in range(PUBLISHES)
    ]
    flood.thread.join(timeout=120)

    assert flood.statuses == {200: LIMIT, 429: LIMIT * (FLOOD_FACTOR - 1)}, flood.statuses
    assert all(value.isdigit() and int(value) > 0 for value in flood.retry_after)
    assert [a.status_code for a in answers] == [201] * PUBLISHES, [a.text for a in answers]
    acknowledged = {record["record_id"] for a in answers for record in a.json()["records"]}
    assert len(acknowledged) == PUBLISHES
    settings = load_settings(environ={}, overrides={"data_dir": str(tmp_path / "var")})
    on_topic = {e["record_id"] for e in records_on_topic(settings, at_least=PUBLISHES)}
    assert acknowledged <= on_topic
    wait_for_audit(settings, acknowledged)
    hub_process.stop()  # its in-process audit writer signs a last checkpoint
    assert_audit_log_verifies_and_holds(settings, acknowledged)
