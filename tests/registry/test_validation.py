"""Record validation: all issues, sorted and bounded; no outbound reach; cached per version."""

from __future__ import annotations

import pytest

from exchange.registry import RecordValidator, ValidationIssue, ValidatorCache
from exchange.registry.errors import RecordInvalid, RemoteReferenceRefused

PERSON = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "maxLength": 5},
        "age": {"type": "integer", "minimum": 0},
        "born": {"type": "string", "format": "date"},
    },
    "required": ["name"],
    "additionalProperties": False,
}


def test_every_issue_is_reported_sorted_by_path():
    issues = RecordValidator(PERSON).errors_for({"name": "too long", "age": -1, "x": 1})
    assert [issue.path for issue in issues] == sorted(issue.path for issue in issues)
    assert {issue.path for issue in issues} == {"", "/age", "/name"}


def test_issue_count_is_bounded():
    schema = {"type": "array", "items": {"type": "integer"}}
    issues = RecordValidator(schema, max_issues=10).errors_for(["x"] * 1_000)
    assert len(issues) == 10


def test_formats_are_asserted():
    assert RecordValidator(PERSON).errors_for({"name": "a", "born": "2024-02-30"}) == [
        ValidationIssue("/born", "'2024-02-30' is not a 'date'")
    ]


def test_money_amounts_are_exact_multiples_of_a_cent():
    validator = RecordValidator({"type": "number", "multipleOf": 0.01})
    assert validator.errors_for(0.07) == []
    assert validator.errors_for(19.99) == []
    assert validator.errors_for(0.001) != []


def test_validate_raises_record_invalid_listing_each_issue():
    with pytest.raises(RecordInvalid) as refused:
        RecordValidator(PERSON).validate({"age": 1.5})
    assert refused.value.status == 422
    assert [error["path"] for error in refused.value.extra["errors"]] == ["", "/age"]


def test_remote_reference_is_refused_not_fetched():
    validator = RecordValidator({"$ref": "https://evil.example/schema.json"})
    with pytest.raises(RemoteReferenceRefused):
        validator.errors_for("anything")


def test_reference_to_a_registered_subject_version_is_resolved_from_the_registry():
    store = {("civil-affairs.person", 1): PERSON}
    schema = {
        "type": "object",
        "properties": {"spouse": {"$ref": "exchange:civil-affairs.person/versions/1"}},
    }
    validator = RecordValidator(schema, load_schema=lambda s, v: store[(s, v)])
    assert validator.errors_for({"spouse": {"name": "Ann"}}) == []
    assert [i.path for i in validator.errors_for({"spouse": {"name": "Annabel"}})] == [
        "/spouse/name"
    ]


def test_regex_format_in_records_is_checked_with_the_linear_time_engine():
    validator = RecordValidator({"format": "regex"})
    assert validator.errors_for("^[a-z]+$") == []
    assert validator.errors_for("(a)\\1") != []


class CountingStore:
    def __init__(self) -> None:
        self.loads: list[tuple[str, int]] = []

    def __call__(self, subject: str, version: int):
        self.loads.append((subject, version))
        return {"type": "integer", "maximum": version}


def test_cache_compiles_each_subject_version_once():
    store = CountingStore()
    cache = ValidatorCache(store)
    first = cache.validator_for("a.b", 1)
    assert cache.validator_for("a.b", 1) is first
    assert cache.validator_for("a.b", 2) is not first
    assert store.loads == [("a.b", 1), ("a.b", 2)]
    assert cache.validator_for("a.b", 2).errors_for(3) != []


def test_cache_evicts_the_least_recently_used_version():
    store = CountingStore()
    cache = ValidatorCache(store, max_entries=2)
    cache.validator_for("a.b", 1)
    cache.validator_for("a.b", 2)
    cache.validator_for("a.b", 1)
    cache.validator_for("a.b", 3)
    assert len(cache) == 2
    cache.validator_for("a.b", 1)
    cache.validator_for("a.b", 2)
    assert store.loads == [("a.b", 1), ("a.b", 2), ("a.b", 3), ("a.b", 2)]
