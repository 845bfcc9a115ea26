"""The world the hostile requests are thrown at: one embedded hub with a small province in
it (an owner, a grantee with a subscription and a cursor, a bystander, an auditor, a
revoked key and an expired grant), built once per module because refusals change nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask.testing import FlaskClient
from sqlalchemy import update

from exchange.api import create_app
from exchange.config import load_settings
from exchange.deployment import initialise
from exchange.hub import Hub, open_hub
from exchange.identity.keys import load_private_key
from exchange.store.models_grants import GrantModel
from tests.hostile.state import wait_for_view
from tests.support.province import LICENCE_SUBJECT, licence, register_licence_subject
from tests.support.signed_client import (
    SignedClient,
    new_key_pair,
    onboard_department,
    onboard_operator,
)

# Small, so that the over-the-limit body is cheap to build; every other body stays below it.
MAX_REQUEST_BYTES = 2 * 1024 * 1024
PURPOSE = "checking licences of applicants for tax clearance certificates"


@dataclass
class World:
    """The hub and the actors of the hostile suite."""

    hub: Hub
    client: FlaskClient
    admin: SignedClient
    market: SignedClient
    tax: SignedClient
    civil: SignedClient
    auditor: SignedClient
    revoked: SignedClient
    grant_id: str
    expired_grant_id: str
    subscription_id: str
    civil_subscription_id: str
    cursor: str
    record_key: str


def open_world(tmp: Path, database_url: str = "") -> World:
    """Initialise a hub in `tmp` (on `database_url`, or SQLite there) and populate the
    province through the API."""
    settings = load_settings(
        environ={},
        overrides={
            "data_dir": str(tmp / "var"),
            "database_url": database_url,
            "max_request_bytes": MAX_REQUEST_BYTES,
        },
    )
    initialise(settings)
    hub = open_hub(settings)
    client = create_app(hub).test_client()
    admin = SignedClient(client, load_private_key(settings.keys_dir / "admin.pem"), "admin")
    market = register_licence_subject(admin)
    tax = onboard_department(admin, "tax")
    civil = onboard_department(admin, "civil-affairs")
    auditor = onboard_operator(admin, "inspector", "auditor")
    revoked = _revoked_key_of(admin, "tax")
    published = _expect(
        market.post(
            f"/v1/subjects/{LICENCE_SUBJECT}/records",
            json={"records": [{"payload": licence(1)}, {"payload": licence(2)}]},
        ),
        201,
    )
    wait_for_view(hub, len(published["records"]))
    grant_id = _approved_grant(tax, market)
    expired_grant_id = _approved_grant(civil, market)
    subscription_id = _subscribe(tax, grant_id)
    civil_subscription_id = _subscribe(civil, expired_grant_id)
    _expire(hub, expired_grant_id)
    pulled = _expect(
        tax.get(f"/v1/subscriptions/{subscription_id}/records", params={"wait_ms": 2000}), 200
    )
    return World(
        hub=hub,
        client=client,
        admin=admin,
        market=market,
        tax=tax,
        civil=civil,
        auditor=auditor,
        revoked=revoked,
        grant_id=grant_id,
        expired_grant_id=expired_grant_id,
        subscription_id=subscription_id,
        civil_subscription_id=civil_subscription_id,
        cursor=pulled["cursor"],
        record_key=published["records"][0]["key"],
    )


def _expect(response, status: int) -> dict:
    assert response.status_code == status, response.get_json()
    body: dict = response.get_json()
    return body


def _revoked_key_of(admin: SignedClient, department: str) -> SignedClient:
    private_key, jwk = new_key_pair()
    _expect(admin.post(f"/v1/departments/{department}/keys", json={"public_key": jwk}), 201)
    revoked = SignedClient(admin.client, private_key, department)
    _expect(admin.delete(f"/v1/departments/{department}/keys/{revoked.key_id}"), 200)
    return revoked


def _approved_grant(consumer: SignedClient, owner: SignedClient) -> str:
    asked = _expect(
        consumer.post("/v1/grants", json={"subject": LICENCE_SUBJECT, "purpose": PURPOSE}), 201
    )
    _expect(owner.post(f"/v1/grants/{asked['id']}/approve", json={}), 200)
    grant_id: str = asked["id"]
    return grant_id


def _subscribe(consumer: SignedClient, grant_id: str) -> str:
    body = {"subject": LICENCE_SUBJECT, "grant_id": grant_id, "from": "earliest"}
    subscription_id: str = _expect(consumer.post("/v1/subscriptions", json=body), 201)["id"]
    return subscription_id


def _expire(hub: Hub, grant_id: str) -> None:
    """Move the grant's expiry into the past: time passing, without waiting for it."""
    with hub.database.session() as session:
        session.execute(
            update(GrantModel)
            .where(GrantModel.id == grant_id)
            .values(expires_at=datetime.now(UTC) - timedelta(days=1))
        )
