"""The receiving use cases: subscribe under a grant, pull deliveries, acknowledge them.

A subscription is a department's consumer group on a subject's topic, tied to one grant.
Every pull re-reads that grant (never cached) before polling, and again before answering,
so a revocation or an expiry stops deliveries at once; records polled but refused stay
unacknowledged and nothing is lost. Each record is projected to the grant's fields and
signed by the hub for the consumer (`exchange.records.delivery`).
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from exchange.errors import NotFound
from exchange.policy.grant_service import GrantLookup, active_grant_for
from exchange.policy.grants import Grant, GrantNotApplicable, GrantNotFound
from exchange.policy.principals import Principal, require_role
from exchange.records.consumers import ConsumerSpec, SubscriptionConsumers
from exchange.records.cursors import decode_cursor
from exchange.records.delivery import build_delivery
from exchange.records.envelope import decode_envelope, topic_for
from exchange.signing.hub_signer import HubSigner
from exchange.store.records_receive import SubscriptionRow, SubscriptionStart
from exchange.transport import Message

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]


class SubscriptionNotFound(NotFound):
    """No such subscription, or not the caller's (existence is not revealed)."""

    type_slug = "subscription-not-found"
    title = "Subscription not found"


class SubscriptionStore(Protocol):
    """Keeps subscriptions."""

    def add(
        self,
        subscription_id: str,
        department: str,
        subject: str,
        grant_id: str,
        start: SubscriptionStart,
    ) -> SubscriptionRow:
        """Store a new subscription."""
        ...

    def find(self, subscription_id: str) -> SubscriptionRow | None:
        """The subscription with this id, or None."""
        ...


class RememberedSubscriptions:
    """The subscriptions one hub process has read, so that its pulls and acknowledgements
    do not each read the store again: a subscription never changes once created and is
    never deleted, so a remembered one cannot be stale. Thread-safe; it holds at most
    `capacity` subscriptions and forgets them all when full (they are read again)."""

    def __init__(self, capacity: int = 10_000) -> None:
        self._capacity = capacity
        self._rows: dict[str, SubscriptionRow] = {}
        self._lock = threading.Lock()

    def find(self, store: SubscriptionStore, subscription_id: str) -> SubscriptionRow | None:
        """The subscription from memory, else from `store` (and then remembered)."""
        with self._lock:
            row = self._rows.get(subscription_id)
        if row is None:
            row = store.find(subscription_id)
            if row is not None:
                self.remember(row)
        return row

    def remember(self, row: SubscriptionRow) -> None:
        """Keep `row` for later finds."""
        with self._lock:
            if len(self._rows) >= self._capacity:
                self._rows.clear()
            self._rows[row.id] = row


@dataclass(frozen=True)
class Pull:
    """The deliveries of one pull, the cursor that acknowledges them, the grant they were
    delivered under, and how many records of the subject lie beyond them, not delivered
    yet (approximate on Kafka: see `GroupReader.lag`; None when the broker could not say)."""

    deliveries: list[dict[str, Any]]
    cursor: str
    grant: Grant
    lag: int | None


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Receiving:
    """Subscribe, pull and acknowledge, over the store, the grants and the consumer pool."""

    def __init__(
        self,
        subscriptions: SubscriptionStore,
        grants: GrantLookup,
        consumers: SubscriptionConsumers,
        signer: HubSigner,
        *,
        clock: Clock = _utc_now,
        remembered: RememberedSubscriptions | None = None,
    ) -> None:
        self._subscriptions = subscriptions
        self._grants = grants
        self._consumers = consumers
        self._signer = signer
        self._clock = clock
        self._remembered = remembered or RememberedSubscriptions()

    def subscribe(
        self, principal: Principal, subject: str, grant_id: str, start: SubscriptionStart
    ) -> SubscriptionRow:
        """A department subscribes to `subject` under its active grant `grant_id` (403
        when the grant is not its own, not for this subject, or not active)."""
        require_role(principal, "department")
        self._live_grant(grant_id, principal.name, subject)
        subscription_id = str(uuid.uuid4())
        self._consumers.open(ConsumerSpec(subscription_id, topic_for(subject), start))
        row = self._subscriptions.add(subscription_id, principal.name, subject, grant_id, start)
        self._remembered.remember(row)
        return row

    def subscription_for(self, principal: Principal, subscription_id: str) -> SubscriptionRow:
        """The caller's own subscription; anybody else's is reported as not found."""
        subscription = self._remembered.find(self._subscriptions, subscription_id)
        if subscription is None or not (
            principal.role == "department" and principal.name == subscription.department
        ):
            raise SubscriptionNotFound(f"no subscription {subscription_id!r}")
        return subscription

    def pull(self, subscription: SubscriptionRow, max_records: int, wait_s: float) -> Pull:
        """Up to `max_records` deliveries, waiting up to `wait_s` for the first record."""
        self._live_grant(subscription.grant_id, subscription.department, subscription.subject)
        pulled = self._consumers.pull(_spec(subscription), max_records, wait_s)
        # Checked again: the grant may have been revoked while the pull waited.
        grant = self._live_grant(
            subscription.grant_id, subscription.department, subscription.subject
        )
        deliveries = [
            build_delivery(
                self._signer,
                envelope,
                channel_id=subscription.id,
                consumer=subscription.department,
                grant_id=grant.id,
                purpose=grant.purpose,
                fields=grant.fields,
                delivered_at=self._clock(),
            )
            for envelope in _envelopes(pulled.messages)
        ]
        return Pull(deliveries, pulled.cursor.encode(), grant, pulled.lag)

    def acknowledge(self, subscription: SubscriptionRow, cursor_text: str) -> None:
        """Commit the cursor's offsets; a cursor of another subscription is refused (409)."""
        cursor = decode_cursor(cursor_text, subscription.id)
        self._consumers.acknowledge(_spec(subscription), cursor)

    def _live_grant(self, grant_id: str, consumer: str, subject: str) -> Grant:
        try:
            return active_grant_for(self._grants, grant_id, consumer, subject, self._clock())
        except GrantNotFound as error:
            # Refused like someone else's grant: a 403 either way, revealing nothing.
            raise GrantNotApplicable(
                f"{consumer!r} holds no grant {grant_id!r} on {subject!r}"
            ) from error


def _spec(subscription: SubscriptionRow) -> ConsumerSpec:
    return ConsumerSpec(subscription.id, topic_for(subscription.subject), subscription.start)


def _envelopes(messages: Sequence[Message]) -> list[dict[str, Any]]:
    envelopes = []
    for message in messages:
        try:
            envelopes.append(decode_envelope(message.value))
        except ValueError as error:
            # Only the hub writes subject topics; a foreign message is skipped, not fatal.
            logger.warning(
                "skipping %s[%d]@%d: %s", message.topic, message.partition, message.offset, error
            )
    return envelopes
