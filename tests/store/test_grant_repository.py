"""Grants as stored, on SQLite and PostgreSQL: versioned changes, history, visibility."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from exchange.errors import Conflict, NotFound
from exchange.policy import grants
from exchange.policy.grants import GrantNotFound, GrantTerms
from exchange.policy.principals import Principal
from exchange.store.records_registry import SubjectDraft
from exchange.store.repositories import (
    GrantChanged,
    GrantFilters,
    GrantRepository,
    IdentityRepository,
    SubjectRepository,
)

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
LICENCE = "market-regulation.business-licence"
PERMIT = "housing-construction.building-permit"
ADMIN = Principal("operator", "alice", "admin", "kid-admin")


def department(code: str) -> Principal:
    return Principal("department", code, "department", f"kid-{code}")


def subject_draft(name: str) -> SubjectDraft:
    return SubjectDraft(
        name=name,
        owner=name.split(".", maxsplit=1)[0],
        title=name,
        description="",
        sensitivity="internal",
        key_field="id",
        compatibility="BACKWARD",
        retention_days=None,
        topic=f"exchange.records.{name}",
    )


@pytest.fixture
def repository(db):
    identities = IdentityRepository(db)
    for code in ("market-regulation", "housing-construction", "taxation", "civil-affairs"):
        identities.add_department(code, code.title(), f"data@{code}")
    subjects = SubjectRepository(db)
    for name in (LICENCE, PERMIT):
        subjects.add_subject(subject_draft(name), '{"type":"object"}', uuid.uuid4().hex, "alice")
    return GrantRepository(db)


def requested(
    consumer: str = "taxation",
    subject: str = LICENCE,
    *,
    fields: list[str] | None = None,
    expires_at: datetime | None = None,
    at: datetime = T0,
):
    terms = GrantTerms(subject, "tax clearance checks", fields, expires_at)
    owner = subject.split(".", maxsplit=1)[0]
    return grants.request(str(uuid.uuid4()), owner, department(consumer), terms, at)


def test_a_requested_grant_reads_back_with_every_term(repository):
    expiry = T0 + timedelta(days=30)
    change = requested(fields=["/enterprise_name", "/registered_address/city"], expires_at=expiry)

    stored = repository.add(change)

    assert repository.get(change.grant.id) == stored == change.grant
    assert stored.fields == ("/enterprise_name", "/registered_address/city")
    assert stored.expires_at == expiry
    assert stored.status == "pending"
    assert stored.version == 1


def test_a_whole_payload_grant_keeps_no_field_list(repository):
    stored = repository.add(requested(fields=None))

    assert repository.get(stored.id).fields is None


def test_an_unknown_grant_is_not_found(repository):
    with pytest.raises(GrantNotFound):
        repository.get(str(uuid.uuid4()))
    assert repository.find("nothing") is None


def test_a_grant_on_an_unregistered_subject_is_refused(repository):
    with pytest.raises(NotFound):
        repository.add(requested(subject="market-regulation.no-such-subject"))


def test_adding_the_same_grant_id_twice_is_a_conflict(repository):
    change = requested()
    repository.add(change)

    with pytest.raises(Conflict):
        repository.add(change)


def test_each_change_bumps_the_version_and_is_kept_in_the_history(repository):
    grant = repository.add(requested())
    approved = repository.apply(grants.approve(grant, department("market-regulation"), T0))
    revoked = repository.apply(grants.revoke(approved, department("taxation"), T0))

    history = repository.history(grant.id)

    assert repository.get(grant.id) == revoked
    assert revoked.version == 3
    assert [(e.version, e.from_status, e.to_status, e.actor) for e in history] == [
        (1, None, "pending", "taxation"),
        (2, "pending", "approved", "market-regulation"),
        (3, "approved", "revoked", "taxation"),
    ]
    assert history[1].actor_role == "department"


def test_the_history_keeps_the_terms_each_approval_left_in_force(repository):
    grant = repository.add(requested(fields=["/enterprise_name", "/status"]))
    expiry = T0 + timedelta(days=7)

    repository.apply(grants.approve(grant, ADMIN, T0, fields=["/status"], expires_at=expiry))
    history = repository.history(grant.id)

    assert history[0].fields == ("/enterprise_name", "/status")
    assert history[0].expires_at is None
    assert history[1].fields == ("/status",)
    assert history[1].expires_at == expiry
    assert history[1].actor_role == "admin"


def test_a_change_made_on_a_stale_version_is_refused(repository):
    grant = repository.add(requested())
    repository.apply(grants.approve(grant, ADMIN, T0))

    with pytest.raises(GrantChanged):
        repository.apply(grants.reject(grant, ADMIN, T0))
    assert repository.get(grant.id).status == "approved"
    assert len(repository.history(grant.id)) == 2


def test_a_change_to_an_unknown_grant_is_not_found(repository):
    with pytest.raises(GrantNotFound):
        repository.apply(grants.approve(requested().grant, ADMIN, T0))


def test_grants_are_listed_by_id_in_pages_after_a_cursor(repository):
    ids = sorted(repository.add(requested()).id for _ in range(5))

    first = repository.list_grants(GrantFilters(), after=None, limit=2)
    second = repository.list_grants(GrantFilters(), after=first[-1].id, limit=2)
    last = repository.list_grants(GrantFilters(), after=second[-1].id, limit=2)

    assert [g.id for g in first + second + last] == ids
    assert len(last) == 1


def test_listing_filters_by_subject_status_and_consumer(repository):
    licence_for_tax = repository.add(requested("taxation", LICENCE))
    repository.add(requested("civil-affairs", LICENCE))
    permit_for_tax = repository.add(requested("taxation", PERMIT))
    approved = repository.apply(grants.approve(permit_for_tax, ADMIN, T0))

    def ids(**filters):
        return {g.id for g in repository.list_grants(GrantFilters(**filters))}

    assert ids(consumer="taxation") == {licence_for_tax.id, approved.id}
    assert ids(subject=PERMIT) == {approved.id}
    assert ids(status="approved") == {approved.id}
    assert ids(consumer="taxation", status="pending") == {licence_for_tax.id}


def test_a_department_sees_the_grants_it_asked_for_and_those_on_its_subjects(repository):
    asked_by_tax = repository.add(requested("taxation", LICENCE))
    asked_by_civil = repository.add(requested("civil-affairs", LICENCE))
    on_housing = repository.add(requested("civil-affairs", PERMIT))

    def visible(code):
        return {g.id for g in repository.list_grants(GrantFilters(visible_to=code))}

    assert visible("taxation") == {asked_by_tax.id}
    assert visible("market-regulation") == {asked_by_tax.id, asked_by_civil.id}
    assert visible("housing-construction") == {on_housing.id}
    assert visible("civil-affairs") == {asked_by_civil.id, on_housing.id}
