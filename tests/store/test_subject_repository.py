"""Subjects and their schema versions, as stored, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest

from exchange.errors import Conflict, NotFound
from exchange.store.records_registry import SubjectDraft, SubjectFilters
from exchange.store.repositories import IdentityRepository, SubjectRepository

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)


class SteppingClock:
    """A clock that advances one second each time it is read."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        current = self.now
        self.now += timedelta(seconds=1)
        return current


def canonical(schema: dict) -> tuple[str, str]:
    text = json.dumps(schema, sort_keys=True, separators=(",", ":"))
    return text, hashlib.sha256(text.encode()).hexdigest()


def draft(name: str, **overrides) -> SubjectDraft:
    values = {
        "name": name,
        "owner": name.split(".", maxsplit=1)[0],
        "title": f"Title of {name}",
        "description": "",
        "sensitivity": "internal",
        "key_field": "id",
        "compatibility": "BACKWARD",
        "retention_days": None,
        "topic": f"exchange.records.{name}",
    } | overrides
    return SubjectDraft(**values)


SCHEMA_V1 = {"type": "object", "properties": {"id": {"type": "string"}}}
SCHEMA_V2 = {"type": "object", "properties": {"id": {"type": "string"}, "n": {"type": "integer"}}}


@pytest.fixture
def subjects(db):
    identities = IdentityRepository(db)
    for code in ("tax", "market-regulation", "civil-affairs"):
        identities.add_department(code, code.title(), f"data@{code}")
    return SubjectRepository(db, clock=SteppingClock())


def add(subjects, name: str, schema: dict = SCHEMA_V1, **overrides):
    return subjects.add_subject(draft(name, **overrides), *canonical(schema), "admin")


def test_a_new_subject_is_stored_with_its_first_version(subjects):
    subject, version = add(subjects, "tax.clearance", retention_days=30)

    assert subjects.find_subject("tax.clearance") == subject
    assert subject.retention_days == 30
    assert subject.created_at == T0
    assert version.version == 1
    assert version.document == SCHEMA_V1
    assert version.is_active
    assert subjects.list_versions("tax.clearance") == [version]


def test_registering_a_subject_twice_is_a_conflict(subjects):
    add(subjects, "tax.clearance")

    with pytest.raises(Conflict):
        add(subjects, "tax.clearance")


def test_a_subject_of_an_unknown_department_is_refused_and_nothing_is_stored(subjects):
    with pytest.raises(NotFound):
        add(subjects, "nobody.thing", owner="nobody")

    assert subjects.find_subject("nobody.thing") is None


def test_versions_are_numbered_in_order(subjects):
    add(subjects, "tax.clearance")

    second, created = subjects.add_version("tax.clearance", *canonical(SCHEMA_V2), "tax")

    assert created
    assert second.version == 2
    assert second.registered_by == "tax"
    assert [v.version for v in subjects.list_versions("tax.clearance")] == [1, 2]


def test_adding_an_identical_schema_finds_the_existing_version(subjects):
    add(subjects, "tax.clearance")

    again, created = subjects.add_version("tax.clearance", *canonical(SCHEMA_V1), "tax")

    assert not created
    assert again.version == 1
    assert len(subjects.list_versions("tax.clearance")) == 1


def test_adding_a_version_to_an_unknown_subject_is_not_found(subjects):
    with pytest.raises(NotFound):
        subjects.add_version("tax.missing", *canonical(SCHEMA_V1), "tax")


def test_the_same_schema_may_be_a_version_of_two_subjects(subjects):
    add(subjects, "tax.clearance")
    add(subjects, "tax.refund")

    assert subjects.find_version("tax.refund", 1).fingerprint == canonical(SCHEMA_V1)[1]


def test_deprecation_is_kept_once_and_excludes_the_version_from_latest_active(subjects):
    add(subjects, "tax.clearance")
    subjects.add_version("tax.clearance", *canonical(SCHEMA_V2), "tax")
    first_time = T0 + timedelta(hours=1)

    deprecated = subjects.deprecate_version("tax.clearance", 2, first_time)
    again = subjects.deprecate_version("tax.clearance", 2, first_time + timedelta(hours=1))

    assert deprecated.deprecated_at == first_time == again.deprecated_at
    assert not again.is_active
    assert subjects.latest_active_version("tax.clearance").version == 1
    assert subjects.find_version("tax.clearance", 2) == again


def test_a_subject_whose_versions_are_all_deprecated_has_no_latest_active(subjects):
    add(subjects, "tax.clearance")
    subjects.deprecate_version("tax.clearance", 1, T0)

    assert subjects.latest_active_version("tax.clearance") is None


def test_deprecating_an_unknown_version_is_not_found(subjects):
    add(subjects, "tax.clearance")

    with pytest.raises(NotFound):
        subjects.deprecate_version("tax.clearance", 9, T0)


def test_compatibility_can_be_changed(subjects):
    subject, _ = add(subjects, "tax.clearance")

    changed = subjects.set_compatibility("tax.clearance", "FULL_TRANSITIVE")

    assert changed.compatibility == "FULL_TRANSITIVE"
    assert changed.updated_at > subject.updated_at
    assert subjects.find_subject("tax.clearance") == changed


def test_catalogue_filters_by_owner_and_sensitivity(subjects):
    add(subjects, "tax.clearance", sensitivity="confidential")
    add(subjects, "tax.refund", sensitivity="public")
    add(subjects, "civil-affairs.marriage", sensitivity="confidential")

    by_owner = subjects.list_subjects(SubjectFilters(owner="tax"))
    by_both = subjects.list_subjects(SubjectFilters(owner="tax", sensitivity="confidential"))

    assert [s.name for s in by_owner] == ["tax.clearance", "tax.refund"]
    assert [s.name for s in by_both] == ["tax.clearance"]


def test_catalogue_text_search_is_case_insensitive_over_name_title_and_description(subjects):
    add(subjects, "tax.clearance", title="Tax Clearance Certificate")
    add(subjects, "tax.refund", description="Refunds of VAT overpaid")
    add(subjects, "civil-affairs.marriage", title="Marriage registration")

    def names(text: str) -> list[str]:
        return [s.name for s in subjects.list_subjects(SubjectFilters(text=text))]

    assert names("CERTIFICATE") == ["tax.clearance"]
    assert names("vat") == ["tax.refund"]
    assert names("MARRIAGE") == ["civil-affairs.marriage"]
    assert names("tax.") == ["tax.clearance", "tax.refund"]


def test_catalogue_text_search_takes_like_wildcards_literally(subjects):
    add(subjects, "tax.clearance", title="100% paid")
    add(subjects, "tax.refund", title="1000 paid", description="snake_case and back\\slash")

    def names(text: str) -> list[str]:
        return [s.name for s in subjects.list_subjects(SubjectFilters(text=text))]

    assert names("100%") == ["tax.clearance"]
    assert names("%") == ["tax.clearance"]
    assert names("e_c") == ["tax.refund"]
    assert names("_") == ["tax.refund"]
    assert names("k\\s") == ["tax.refund"]


def test_catalogue_pages_by_name_after_a_cursor(subjects):
    for index in range(5):
        add(subjects, f"tax.subject-{index}")

    first = subjects.list_subjects(SubjectFilters(), limit=2)
    second = subjects.list_subjects(SubjectFilters(), after=first[-1].name, limit=2)
    third = subjects.list_subjects(SubjectFilters(), after=second[-1].name, limit=2)

    assert [s.name for s in first + second + third] == [f"tax.subject-{i}" for i in range(5)]
    assert len(third) == 1
