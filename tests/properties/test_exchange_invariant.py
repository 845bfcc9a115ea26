"""Random sequences of publish, grant, revoke, pull and ack keep the hub's promise: a record
the hub acknowledged is never lost, never delivered without a valid grant, and always in
the audit log; a refused request changes nothing but the audit log."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from exchange.api import create_app
from exchange.config import load_settings
from exchange.deployment import initialise
from exchange.hub import open_hub
from exchange.identity.keys import load_private_key
from exchange.store.repositories import AuditRepository
from tests.hostile.state import snapshot, wait_for_view
from tests.support.province import LICENCE_SUBJECT, licence, register_licence_subject
from tests.support.signed_client import SignedClient, onboard_department

PURPOSE = "checking licences of applicants for tax clearance certificates"
PUBLISH = f"/v1/subjects/{LICENCE_SUBJECT}/records"
DRAIN_DEADLINE_S = 30.0


class ExchangeMachine(RuleBasedStateMachine):
    """One embedded hub, an owner (market regulation) and a consumer (tax)."""

    def __init__(self) -> None:
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="exchange-property-"))
        hub_settings = load_settings(
            environ={},
            overrides={"data_dir": str(self.tmp / "var"), "rate_limit_per_principal": ""},
        )
        initialise(hub_settings)
        self.hub = open_hub(hub_settings)
        client = create_app(self.hub).test_client()
        admin = SignedClient(client, load_private_key(hub_settings.keys_dir / "admin.pem"))
        self.market = register_licence_subject(admin)
        self.tax = onboard_department(admin, "tax")
        self.published: dict[str, str] = {}  # record id -> key, as acknowledged
        self.delivered: set[str] = set()
        self.grant: str | None = None
        self.subscription: str | None = None
        self.cursor: str | None = None
        self.next_number = 0

    def teardown(self) -> None:
        try:
            self._drain_under_a_fresh_grant()
        finally:
            self.hub.close()
            shutil.rmtree(self.tmp, ignore_errors=True)

    # Rules ------------------------------------------------------------------------------

    @rule(count=st.integers(min_value=1, max_value=5), valid=st.booleans())
    def publish(self, count: int, valid: bool) -> None:
        payloads = [licence(self.next_number + i) for i in range(count)]
        self.next_number += count
        if not valid:
            payloads[-1] = payloads[-1] | {"status": "not-a-status"}
        before = None
        if not valid:
            wait_for_view(self.hub, len(self.published))
            before = snapshot(self.hub)
        response = self.market.post(PUBLISH, json={"records": [{"payload": p} for p in payloads]})
        if valid:
            assert response.status_code == 201, response.get_json()
            for record in response.get_json()["records"]:
                self.published[record["record_id"]] = record["key"]
        else:
            assert response.status_code == 422
            assert snapshot(self.hub) == before, "a refused batch changed something"

    @precondition(lambda self: self.grant is None)
    @rule()
    def grant_and_subscribe(self) -> None:
        asked = self.tax.post("/v1/grants", json={"subject": LICENCE_SUBJECT, "purpose": PURPOSE})
        assert asked.status_code == 201, asked.get_json()
        grant_id = asked.get_json()["id"]
        approved = self.market.post(f"/v1/grants/{grant_id}/approve", json={})
        assert approved.status_code == 200, approved.get_json()
        self.grant = grant_id
        self.subscription = self._subscribe(grant_id)
        self.cursor = None

    @precondition(lambda self: self.grant is not None)
    @rule()
    def revoke(self) -> None:
        response = self.market.delete(f"/v1/grants/{self.grant}")
        assert response.status_code == 200, response.get_json()
        self.grant = None

    @precondition(lambda self: self.subscription is not None)
    @rule()
    def pull(self) -> None:
        response = self._pull()
        if self.grant is None:
            assert response.status_code == 403, "delivered under a revoked grant"
            return
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        self._received(body["records"])
        self.cursor = body["cursor"]

    @precondition(lambda self: self.cursor is not None and self.grant is not None)
    @rule()
    def ack(self) -> None:
        response = self.tax.post(
            f"/v1/subscriptions/{self.subscription}/ack", json={"cursor": self.cursor}
        )
        assert response.status_code == 200, response.get_json()
        self.cursor = None

    # Invariants -------------------------------------------------------------------------

    @invariant()
    def only_acknowledged_records_are_delivered(self) -> None:
        assert self.delivered <= set(self.published)

    @invariant()
    def every_acknowledged_record_is_audited(self) -> None:
        audited = {
            record_id
            for entry in AuditRepository(self.hub.database).scan(limit=100_000)
            if entry.decision == "allow" and entry.action.startswith("POST")
            for record_id in entry.record_ids
        }
        assert set(self.published) <= audited

    # Helpers ----------------------------------------------------------------------------

    def _subscribe(self, grant_id: str) -> str:
        response = self.tax.post(
            "/v1/subscriptions",
            json={"subject": LICENCE_SUBJECT, "grant_id": grant_id, "from": "earliest"},
        )
        assert response.status_code == 201, response.get_json()
        subscription_id: str = response.get_json()["id"]
        return subscription_id

    def _pull(self, wait_ms: int = 0) -> Any:
        return self.tax.get(
            f"/v1/subscriptions/{self.subscription}/records",
            params={"max": 100, "wait_ms": wait_ms},
        )

    def _received(self, deliveries: list[dict[str, Any]]) -> None:
        for delivery in deliveries:
            assert delivery["record_id"] in self.published, "an unknown record was delivered"
            assert delivery["key"] == self.published[delivery["record_id"]]
            self.delivered.add(delivery["record_id"])

    def _drain_under_a_fresh_grant(self) -> None:
        """Nothing lost: a new subscription from the earliest offset gets every record."""
        if self.grant is None:
            self.grant_and_subscribe()
        else:
            self.subscription = self._subscribe(str(self.grant))
        seen: set[str] = set()
        deadline = time.monotonic() + DRAIN_DEADLINE_S
        while seen != set(self.published) and time.monotonic() < deadline:
            response = self._pull(wait_ms=200)
            assert response.status_code == 200, response.get_json()
            records = response.get_json()["records"]
            self._received(records)
            seen |= {r["record_id"] for r in records}
        assert seen == set(self.published), "an acknowledged record was never delivered"


ExchangeMachine.TestCase.settings = settings(
    max_examples=6,
    stateful_step_count=12,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
TestExchangeInvariant = ExchangeMachine.TestCase
