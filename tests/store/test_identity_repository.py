"""Departments, operators and their keys, as stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from exchange.errors import Conflict, NotFound
from exchange.store.repositories import IdentityRepository

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)


class SteppingClock:
    """A clock that advances one second each time it is read."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        current = self.now
        self.now += timedelta(seconds=1)
        return current


@pytest.fixture
def identities(db):
    return IdentityRepository(db, clock=SteppingClock())


def test_a_registered_department_can_be_read_back(identities):
    added = identities.add_department("market-regulation", "Market Regulation", "mr@gov.example")

    assert identities.get_department("market-regulation") == added
    assert added.created_at == T0


def test_registering_a_department_code_twice_is_a_conflict(identities):
    identities.add_department("tax", "Tax", "t@x")

    with pytest.raises(Conflict):
        identities.add_department("tax", "Other", "o@x")


def test_an_unknown_department_is_not_found(identities):
    with pytest.raises(NotFound):
        identities.get_department("nobody")
    assert identities.find_department("nobody") is None


def test_departments_are_listed_by_code_in_pages_after_a_cursor(identities):
    for code in ["d", "b", "e", "a", "c"]:
        identities.add_department(code, code.upper(), f"{code}@x")

    first = identities.list_departments(after=None, limit=2)
    second = identities.list_departments(after=first[-1].code, limit=2)
    last = identities.list_departments(after=second[-1].code, limit=2)

    assert [d.code for d in first] == ["a", "b"]
    assert [d.code for d in second] == ["c", "d"]
    assert [d.code for d in last] == ["e"]
    assert identities.list_departments(after="e", limit=2) == []


def test_operators_are_stored_with_their_role_and_counted(identities):
    assert identities.count_operators() == 0

    admin = identities.add_operator("alice", "admin")
    identities.add_operator("ian", "auditor")

    assert identities.get_operator("alice") == admin
    assert identities.get_operator("ian").role == "auditor"
    assert identities.count_operators() == 2


def test_registering_an_operator_name_twice_is_a_conflict(identities):
    identities.add_operator("alice", "admin")

    with pytest.raises(Conflict):
        identities.add_operator("alice", "auditor")


def test_an_unknown_operator_is_not_found(identities):
    with pytest.raises(NotFound):
        identities.get_operator("nobody")
    assert identities.find_operator("nobody") is None


def test_a_key_is_stored_live_for_its_principal(identities):
    identities.add_department("tax", "Tax", "t@x")

    key = identities.add_key("department", "tax", "kid-1", "cHVibGlj")

    assert identities.get_key("kid-1") == key
    assert key.principal_kind == "department"
    assert key.principal_name == "tax"
    assert key.public_key == "cHVibGlj"
    assert key.is_live


def test_adding_a_key_that_is_already_registered_is_a_conflict(identities):
    identities.add_department("tax", "Tax", "t@x")
    identities.add_operator("alice", "admin")
    identities.add_key("department", "tax", "kid-1", "cHVibGlj")

    with pytest.raises(Conflict):
        identities.add_key("operator", "alice", "kid-1", "cHVibGlj")


def test_a_revoked_key_cannot_be_registered_again(identities):
    identities.add_department("tax", "Tax", "t@x")
    identities.add_key("department", "tax", "kid-1", "cHVibGlj")
    identities.revoke_key("kid-1", T0)

    with pytest.raises(Conflict):
        identities.add_key("department", "tax", "kid-1", "cHVibGlj")


def test_a_key_for_an_unknown_principal_is_refused(identities):
    with pytest.raises(NotFound):
        identities.add_key("department", "nobody", "kid-1", "cHVibGlj")
    with pytest.raises(NotFound):
        identities.add_key("operator", "nobody", "kid-2", "cHVibGlj")
    assert identities.find_key("kid-1") is None


def test_an_unknown_key_is_not_found(identities):
    with pytest.raises(NotFound):
        identities.get_key("missing")


def test_a_principal_lists_all_its_keys_oldest_first_and_only_its_own(identities):
    identities.add_department("tax", "Tax", "t@x")
    identities.add_department("health", "Health", "h@x")
    identities.add_key("department", "tax", "kid-b", "Yg")
    identities.add_key("department", "tax", "kid-a", "YQ")
    identities.add_key("department", "health", "kid-c", "Yw")
    identities.revoke_key("kid-b", T0 + timedelta(hours=1))

    keys = identities.list_keys("department", "tax")

    assert [k.key_id for k in keys] == ["kid-b", "kid-a"]
    assert [k.is_live for k in keys] == [False, True]
    assert identities.list_keys("operator", "tax") == []


def test_revoking_a_key_records_when_and_keeps_the_first_revocation(identities):
    identities.add_department("tax", "Tax", "t@x")
    identities.add_key("department", "tax", "kid-1", "cHVibGlj")
    first = T0 + timedelta(hours=1)

    revoked = identities.revoke_key("kid-1", first)
    again = identities.revoke_key("kid-1", first + timedelta(hours=1))

    assert revoked.revoked_at == first
    assert again.revoked_at == first
    assert identities.get_key("kid-1").revoked_at == first


def test_revoking_an_unknown_key_is_not_found(identities):
    with pytest.raises(NotFound):
        identities.revoke_key("missing", T0)
