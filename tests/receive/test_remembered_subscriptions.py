"""A hub process reads each subscription from the store once (subscriptions never change)."""

from __future__ import annotations

from datetime import UTC, datetime

from exchange.records.subscriptions import RememberedSubscriptions
from exchange.store.records_receive import SubscriptionRow, SubscriptionStart


class CountingStore:
    """Finds the subscriptions it was given, counting each find."""

    def __init__(self, *rows: SubscriptionRow) -> None:
        self.rows = {row.id: row for row in rows}
        self.finds: list[str] = []

    def add(
        self,
        subscription_id: str,
        department: str,
        subject: str,
        grant_id: str,
        start: SubscriptionStart,
    ) -> SubscriptionRow:
        raise NotImplementedError

    def find(self, subscription_id: str) -> SubscriptionRow | None:
        self.finds.append(subscription_id)
        return self.rows.get(subscription_id)


CREATED_AT = datetime(2026, 11, 27, tzinfo=UTC)


def subscription(number: int) -> SubscriptionRow:
    return SubscriptionRow(
        f"subscription-{number}", "tax", "market.licence", "grant-1", "earliest", CREATED_AT
    )


def test_a_subscription_found_once_is_not_read_from_the_store_again():
    store = CountingStore(subscription(1))
    remembered = RememberedSubscriptions()

    first = remembered.find(store, "subscription-1")
    again = remembered.find(store, "subscription-1")

    assert first == again == subscription(1)
    assert store.finds == ["subscription-1"]


def test_an_unknown_subscription_is_asked_for_every_time():
    store = CountingStore()
    remembered = RememberedSubscriptions()

    assert remembered.find(store, "missing") is None
    assert remembered.find(store, "missing") is None
    assert store.finds == ["missing", "missing"]


def test_a_full_memory_starts_over_and_reads_the_store_again():
    store = CountingStore(subscription(1), subscription(2), subscription(3))
    remembered = RememberedSubscriptions(capacity=2)
    for number in (1, 2, 3):
        remembered.find(store, f"subscription-{number}")

    remembered.find(store, "subscription-3")
    remembered.find(store, "subscription-1")

    assert store.finds == ["subscription-1", "subscription-2", "subscription-3", "subscription-1"]
