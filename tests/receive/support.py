"""A restartable deployment and the province's actors, for end-to-end receiving tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from flask.testing import FlaskClient

from exchange.api import create_app
from exchange.config import Settings
from exchange.deployment import initialise
from exchange.hub import Hub, open_hub
from exchange.identity.keys import load_private_key
from exchange.store.repositories import LatestRecordRepository
from tests.support.province import example_schema
from tests.support.signed_client import SignedClient, onboard_department

LICENCE_SCHEMA = "market-regulation.business-licence"
DEADLINE_S = 30.0


class Deployment:
    """One hub process on a deployment's store and transport; `restart` replaces it."""

    def __init__(
        self, settings: Settings, suffix: str, prepare: Callable[[Hub], None] | None
    ) -> None:
        self.settings = settings
        self.subject = LICENCE_SCHEMA + suffix
        self._prepare = prepare
        initialise(settings)
        self._other_hubs: list[Hub] = []
        self.hub = self._open()
        self.client: FlaskClient = create_app(self.hub).test_client()
        self.admin = SignedClient(
            self.client, load_private_key(settings.keys_dir / "admin.pem"), "admin"
        )

    def _open(self) -> Hub:
        hub = open_hub(self.settings)
        if self._prepare is not None:
            self._prepare(hub)
        return hub

    def restart(self) -> None:
        """Stop this hub process (without acknowledging anything) and start a new one."""
        self.hub.close()
        self.hub = self._open()
        self.client = create_app(self.hub).test_client()

    def another_process(self) -> FlaskClient:
        """A client of a second hub process on the same store and transport, as
        gunicorn's other worker or another instance behind the load balancer."""
        hub = self._open()
        self._other_hubs.append(hub)
        return create_app(hub).test_client()

    def signed(self, actor: SignedClient, via: FlaskClient | None = None) -> SignedClient:
        """`actor` talking to the current hub process (or to the one of `via`)."""
        return SignedClient(via or self.client, actor.private_key, actor.name)

    def close(self) -> None:
        for hub in self._other_hubs:
            hub.close()
        self.hub.close()

    # The province -----------------------------------------------------------------------

    def register_licences(self) -> SignedClient:
        """Onboard market regulation and register its business-licence subject."""
        market = onboard_department(self.admin, "market-regulation")
        response = self.admin.post(
            "/v1/subjects",
            json={
                "subject": self.subject,
                "owner": "market-regulation",
                "title": "Business licence",
                "description": "Licences issued to enterprises (fictional test data)",
                "sensitivity": "internal",
                "key_field": "unified_social_credit_code",
                "compatibility": "BACKWARD",
                "retention_days": 365,
                "schema": example_schema(LICENCE_SCHEMA),
            },
        )
        assert response.status_code == 201, response.get_json()
        return market

    def grant(self, consumer: SignedClient, owner: SignedClient, fields: list[str] | None) -> str:
        """A grant on the licences requested by `consumer` and approved by `owner`."""
        body: dict[str, Any] = {"subject": self.subject, "purpose": "tax registration checks"}
        if fields is not None:
            body["fields"] = fields
        response = self.signed(consumer).post("/v1/grants", json=body)
        assert response.status_code == 201, response.get_json()
        grant_id: str = response.get_json()["id"]
        response = self.signed(owner).post(f"/v1/grants/{grant_id}/approve", json={})
        assert response.status_code == 200, response.get_json()
        return grant_id

    def publish(self, market: SignedClient, *payloads: dict[str, Any]) -> list[str]:
        """Publish licences; returns their record ids."""
        response = self.signed(market).post(
            f"/v1/subjects/{self.subject}/records",
            json={"records": [{"payload": payload} for payload in payloads]},
        )
        assert response.status_code == 201, response.get_json()
        return [record["record_id"] for record in response.get_json()["records"]]

    def subscribe(self, consumer: SignedClient, grant_id: str, start: str = "earliest") -> str:
        response = self.signed(consumer).post(
            "/v1/subscriptions", json={"subject": self.subject, "grant_id": grant_id, "from": start}
        )
        assert response.status_code == 201, response.get_json()
        subscription_id: str = response.get_json()["id"]
        return subscription_id

    def pull(
        self,
        consumer: SignedClient,
        subscription_id: str,
        via: FlaskClient | None = None,
        **params: Any,
    ) -> Any:
        return self.signed(consumer, via).get(
            f"/v1/subscriptions/{subscription_id}/records", params=params
        )

    def pull_until(
        self, consumer: SignedClient, subscription_id: str, count: int
    ) -> tuple[list[dict[str, Any]], str]:
        """Pull, without acknowledging, until `count` distinct deliveries came (or the
        deadline passed); them, in the order first seen, and the last cursor (which covers
        them all)."""
        deliveries: dict[str, dict[str, Any]] = {}
        cursor = ""
        deadline = time.monotonic() + DEADLINE_S
        while len(deliveries) < count and time.monotonic() < deadline:
            response = self.pull(consumer, subscription_id, max=100, wait_ms=500)
            assert response.status_code == 200, response.get_json()
            # Each pull begins at the first unacknowledged record, so what an earlier pull
            # returned may come again: kept once, by `delivery_id`, as consumers do.
            for delivery in response.get_json()["records"]:
                deliveries.setdefault(delivery["delivery_id"], delivery)
            cursor = response.get_json()["cursor"]
        return list(deliveries.values()), cursor

    def ack(
        self,
        consumer: SignedClient,
        subscription_id: str,
        cursor: str,
        via: FlaskClient | None = None,
    ) -> Any:
        return self.signed(consumer, via).post(
            f"/v1/subscriptions/{subscription_id}/ack", json={"cursor": cursor}
        )

    def wait_for_view(self, key: str, record_id: str) -> None:
        """Wait until the view builder has read `record_id` as the latest record of `key`."""
        view = LatestRecordRepository(self.hub.database)
        deadline = time.monotonic() + DEADLINE_S
        while time.monotonic() < deadline:
            found = view.find(self.subject, key)
            if found is not None and found.record_id == record_id:
                return
            time.sleep(0.05)
        raise AssertionError(f"the view did not catch up with {record_id} within {DEADLINE_S} s")
