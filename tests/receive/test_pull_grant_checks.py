"""A pull reads its grant before polling and again before answering: a grant revoked
during a long poll delivers nothing."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from exchange.identity.keys import generate_private_key, key_id_of
from exchange.policy.grants import Grant, GrantRevoked
from exchange.records.consumers import ConsumerSpec, Pulled, SubscriptionConsumers
from exchange.records.cursors import Cursor
from exchange.records.envelope import build_envelope, to_message
from exchange.records.subscriptions import Receiving
from exchange.signing.hub_signer import HubSigner
from exchange.store.records_receive import SubscriptionRow
from exchange.transport import Message
from exchange.transport.embedded import EmbeddedTransport

NOW = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
SUBJECT = "market-regulation.business-licence"
GRANT = Grant(
    id="grant-1",
    subject=SUBJECT,
    owner="market-regulation",
    consumer="tax",
    purpose="tax registration checks",
    fields=None,
    expires_at=None,
    status="approved",
    version=2,
    created_at=NOW,
    updated_at=NOW,
)
SUBSCRIPTION = SubscriptionRow("subscription-1", "tax", SUBJECT, GRANT.id, "earliest", NOW)


class Grants:
    """The grant store, counting reads; `revoke` revokes the grant."""

    def __init__(self) -> None:
        self.grant = GRANT
        self.reads = 0

    def get(self, grant_id: str) -> Grant:
        self.reads += 1
        return self.grant

    def revoke(self) -> None:
        self.grant = dataclasses.replace(self.grant, status="revoked", version=3)


class OneRecord(SubscriptionConsumers):
    """A pool whose pull returns one record after running `while_polling`."""

    def __init__(self, tmp_path: Path, message: Message, while_polling: Callable[[], None]) -> None:
        super().__init__(EmbeddedTransport(tmp_path / "log.db"))
        self._message, self._while_polling = message, while_polling

    def pull(self, spec: ConsumerSpec, max_records: int, wait_s: float) -> Pulled:
        self._while_polling()
        return Pulled([self._message], Cursor(spec.subscription_id, {0: 1}), lag=0)


@pytest.fixture
def signer() -> HubSigner:
    key = generate_private_key()
    return HubSigner(key, key_id_of(key.public_key()))


@pytest.fixture
def message(signer: HubSigner) -> Message:
    envelope = build_envelope(
        signer,
        subject=SUBJECT,
        schema_version=1,
        producer="market-regulation",
        key="91990100MA0000001G",
        payload={"unified_social_credit_code": "91990100MA0000001G"},
        produced_at=NOW,
        accepted_at=NOW,
    )
    outgoing = to_message(envelope)
    return Message("exchange.records." + SUBJECT, 0, 0, outgoing.key, outgoing.value, (), 0)


def receiving(pool: SubscriptionConsumers, grants: Grants, signer: HubSigner) -> Receiving:
    return Receiving(_NoStore(), grants, pool, signer, clock=lambda: NOW)


class _NoStore:
    def add(self, *args: object) -> SubscriptionRow:
        raise NotImplementedError

    def find(self, subscription_id: str) -> SubscriptionRow | None:
        raise NotImplementedError


def test_a_grant_revoked_while_the_pull_waits_delivers_nothing(tmp_path, signer, message):
    grants = Grants()
    pool = OneRecord(tmp_path, message, while_polling=grants.revoke)

    with pytest.raises(GrantRevoked):
        receiving(pool, grants, signer).pull(SUBSCRIPTION, 10, wait_s=5)

    assert grants.reads == 2


def test_a_live_grant_delivers_what_was_polled(tmp_path, signer, message):
    grants = Grants()
    pool = OneRecord(tmp_path, message, while_polling=lambda: None)

    pulled = receiving(pool, grants, signer).pull(SUBSCRIPTION, 10, wait_s=5)

    assert [delivery["grant_id"] for delivery in pulled.deliveries] == [GRANT.id]
    assert pulled.grant == GRANT


def test_a_revoked_grant_is_refused_before_polling(tmp_path, signer, message):
    grants = Grants()
    grants.revoke()
    polled: list[bool] = []
    pool = OneRecord(tmp_path, message, while_polling=lambda: polled.append(True))

    with pytest.raises(GrantRevoked):
        receiving(pool, grants, signer).pull(SUBSCRIPTION, 10, wait_s=5)

    assert polled == []
