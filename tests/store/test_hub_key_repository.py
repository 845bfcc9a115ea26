"""The hub's signing keys: added, retired, and all listed for verifiers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from exchange.errors import Conflict, NotFound
from exchange.store.repositories import HubKeyRepository

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def hub_keys(db):
    ticks = iter(T0 + timedelta(seconds=n) for n in range(100))
    return HubKeyRepository(db, clock=lambda: next(ticks))


def test_hub_keys_are_listed_oldest_first_with_retired_ones_kept(hub_keys):
    hub_keys.add("hub-1", "b2xk")
    hub_keys.add("hub-2", "bmV3")
    hub_keys.retire("hub-1", T0 + timedelta(days=1))

    listed = hub_keys.list()

    assert [k.key_id for k in listed] == ["hub-1", "hub-2"]
    assert listed[0].retired_at == T0 + timedelta(days=1)
    assert listed[1].retired_at is None
    assert listed[1].public_key == "bmV3"


def test_adding_a_hub_key_twice_is_a_conflict(hub_keys):
    hub_keys.add("hub-1", "b2xk")

    with pytest.raises(Conflict):
        hub_keys.add("hub-1", "b2xk")


def test_retiring_keeps_the_first_retirement_time(hub_keys):
    hub_keys.add("hub-1", "b2xk")
    hub_keys.retire("hub-1", T0 + timedelta(days=1))

    again = hub_keys.retire("hub-1", T0 + timedelta(days=2))

    assert again.retired_at == T0 + timedelta(days=1)


def test_retiring_an_unknown_hub_key_is_not_found(hub_keys):
    with pytest.raises(NotFound):
        hub_keys.retire("missing", T0)
