"""Rate limits shared by every hub instance: two `exchange serve` processes count against
one budget per principal in one Redis (`rate_limit_storage_url = redis://...`), so
requests split across both hubs are refused with 429 and `Retry-After` once the
principal's total passes its limit, while another department is still served.

With per-process counters (`memory://`, the default) each hub would allow the whole
limit, and every request of this test would succeed. The two processes share one embedded
deployment (as the gunicorn workers of one hub do, each a process with its own counters):
the store and transport play no part in the counting, and no broker has to start.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from exchange.identity.keys import load_private_key
from tests.contract.signing_auth import SigningAuth
from tests.faults.hub_process import HubProcess
from tests.faults.publishing import onboard_department, onboard_market
from tests.support.province import LICENCE_SUBJECT, licence

pytestmark = [pytest.mark.faults, pytest.mark.slow, pytest.mark.redis]

# Per minute, so that the whole test runs inside one window: the counts are exact.
LIMIT = 10
REQUESTS = 16  # eight to each hub: under the limit for either alone, over it together
PROBLEMS = "https://exchange.example.gov/problems/"


@pytest.fixture
def hubs(redis_url: str, tmp_path: Path) -> Iterator[list[HubProcess]]:
    """Two hub processes on one embedded deployment, counting in one Redis."""
    env = {
        "EXCHANGE_RATE_LIMIT_PER_PRINCIPAL": f"{LIMIT}/minute",
        "EXCHANGE_RATE_LIMIT_STORAGE_URL": redis_url,
    }
    started = [HubProcess(tmp_path / "var", env) for _ in range(2)]
    started[0].init()
    try:
        for hub in started:
            hub.start()
        yield started
    finally:
        for hub in started:
            hub.stop()


def _publish(session: requests.Session, url: str, number: int) -> requests.Response:
    return session.post(
        f"{url}/v1/subjects/{LICENCE_SUBJECT}/records",
        json={"records": [{"payload": licence(number)}]},
        headers={"Idempotency-Key": str(uuid.uuid4())},
        timeout=60,
    )


def test_one_budget_per_principal_across_hub_instances(hubs, tmp_path):
    admin = requests.Session()
    admin.auth = SigningAuth(load_private_key(tmp_path / "var" / "keys" / "admin.pem"))
    market = onboard_market(admin, hubs[0].url)  # the administrator's requests: its budget
    tax = onboard_department(admin, hubs[1].url, "tax")

    answers = [(n % 2, _publish(market, hubs[n % 2].url, n)) for n in range(REQUESTS)]

    statuses = [response.status_code for _, response in answers]
    assert statuses == [201] * LIMIT + [429] * (REQUESTS - LIMIT), statuses
    refused = [(hub, response) for hub, response in answers if response.status_code == 429]
    assert {hub for hub, _ in refused} == {0, 1}, "both hubs refuse once the total is spent"
    for _, response in refused:
        assert response.json()["type"] == PROBLEMS + "too-many-requests"
        assert 0 < int(response.headers["Retry-After"]) <= 60
    for hub in hubs:
        assert tax.get(f"{hub.url}/v1/subjects", timeout=30).status_code == 200
