"""Per-principal rate limits: over its limit a principal is answered 429 with Retry-After
(and audited), while other principals are served as before."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from exchange.api import create_app
from exchange.config import load_settings
from exchange.deployment import initialise
from exchange.hub import Hub, open_hub
from exchange.identity.keys import load_private_key
from exchange.store.repositories import AuditRepository
from tests.support.signed_client import SignedClient, onboard_department

PROBLEMS = "https://exchange.example.gov/problems/"


def _hub(tmp_path, limit: str, storage_url: str = "memory://") -> Hub:
    settings = load_settings(
        environ={},
        overrides={
            "data_dir": str(tmp_path / "var"),
            "rate_limit_per_principal": limit,
            "rate_limit_storage_url": storage_url,
        },
    )
    initialise(settings)
    return open_hub(settings)


@pytest.fixture
def limited(tmp_path) -> Iterator[tuple[Hub, SignedClient]]:
    hub = _hub(tmp_path, "5/minute")
    client = create_app(hub).test_client()
    admin = SignedClient(client, load_private_key(hub.settings.keys_dir / "admin.pem"), "admin")
    yield hub, admin
    hub.close()


def test_a_principal_over_its_limit_gets_429_with_retry_after_and_others_do_not(limited):
    hub, admin = limited
    tax = onboard_department(admin, "tax")  # two of the administrator's five requests
    answers = [admin.get("/v1/departments") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    refused = answers[-1]
    assert refused.mimetype == "application/problem+json"
    assert refused.get_json()["type"] == PROBLEMS + "too-many-requests"
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert tax.get("/v1/departments/tax").status_code == 200
    entries = [
        e
        for e in AuditRepository(hub.database).scan(limit=1000)
        if e.request_id == refused.headers["X-Request-Id"]
    ]
    assert [(e.actor, e.status, e.decision) for e in entries] == [("admin", 429, "deny")]


def test_probes_are_not_limited(limited):
    _, admin = limited
    statuses = {admin.client.get("/v1/health").status_code for _ in range(20)}
    assert statuses == {200}


def _unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_unreachable_shared_store_degrades_to_per_process_limits(tmp_path):
    # Nothing listens on the port: every call to the Redis counters fails to connect.
    hub = _hub(tmp_path, "3/minute", f"redis://127.0.0.1:{_unused_port()}")
    try:
        client = create_app(hub).test_client()
        admin = SignedClient(client, load_private_key(hub.settings.keys_dir / "admin.pem"), "admin")
        statuses = [admin.get("/v1/departments").status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429], "served, and still limited, without Redis"
    finally:
        hub.close()
