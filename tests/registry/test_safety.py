"""Schema safety: each refusal, with its own problem type and the JSON Pointer of the cause."""

from __future__ import annotations

from typing import Any

import pytest

from exchange.errors import ValidationFailed
from exchange.registry import RecordValidator, check_schema_safety
from exchange.registry.errors import (
    EmbeddedIdRefused,
    InvalidJsonSchema,
    RemoteReferenceRefused,
    SchemaTooDeep,
    SchemaTooLarge,
    UnknownSubjectReference,
    UnsafePattern,
    UnsupportedDialect,
)

DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"
REDOS = "^(a+)+$"


def nested(depth: int) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(depth):
        schema = {"type": "object", "properties": {"x": schema}}
    return schema


def test_plain_draft_2020_12_schema_is_accepted():
    check_schema_safety({"$schema": DRAFT_2020_12, "type": "object", "properties": {}})


@pytest.mark.parametrize(
    ("schema", "error", "pointer"),
    [
        ({"type": "strin"}, InvalidJsonSchema, "/type"),
        ({"properties": {"a": {"minLength": -1}}}, InvalidJsonSchema, "/properties/a/minLength"),
        ("not a schema", InvalidJsonSchema, ""),
        ({"$ref": "#/$defs/missing"}, InvalidJsonSchema, "/$ref"),
        ({"$schema": "http://json-schema.org/draft-07/schema#"}, UnsupportedDialect, "/$schema"),
        (
            {"properties": {"a": {"$ref": "https://evil.example/a.json"}}},
            RemoteReferenceRefused,
            "/properties/a/$ref",
        ),
        ({"$ref": "a.json"}, RemoteReferenceRefused, "/$ref"),
        ({"$dynamicRef": "file:///etc/passwd"}, RemoteReferenceRefused, "/$dynamicRef"),
        (
            {"$defs": {"a": {"$id": "https://evil.example/", "$ref": "#/x"}}},
            EmbeddedIdRefused,
            "/$defs/a/$id",
        ),
        ({"$id": "exchange:civil-affairs.person/versions/1"}, EmbeddedIdRefused, "/$id"),
        (
            {"$ref": "exchange:civil-affairs.person/versions/1"},
            UnknownSubjectReference,
            "/$ref",
        ),
        ({"properties": {"a": {"pattern": "(a)\\1"}}}, UnsafePattern, "/properties/a/pattern"),
        ({"pattern": "(?=a)b"}, UnsafePattern, "/pattern"),
        ({"patternProperties": {"(?<!x)y": {}}}, UnsafePattern, "/patternProperties/(?<!x)y"),
        ({"pattern": "((a{1000}){1000}){1000}"}, UnsafePattern, "/pattern"),
        (nested(40), SchemaTooDeep, "/properties/x" * 16),
    ],
    ids=lambda value: value.__name__ if isinstance(value, type) else None,
)
def test_unsafe_schema_is_refused_with_its_own_type_and_pointer(schema, error, pointer):
    with pytest.raises(error) as refused:
        check_schema_safety(schema)
    assert isinstance(refused.value, ValidationFailed)
    assert refused.value.status == 422
    assert refused.value.extra["pointer"] == pointer


def test_each_refusal_kind_has_a_distinct_problem_type():
    kinds = [
        InvalidJsonSchema,
        UnsupportedDialect,
        RemoteReferenceRefused,
        UnknownSubjectReference,
        EmbeddedIdRefused,
        SchemaTooLarge,
        SchemaTooDeep,
        UnsafePattern,
    ]
    assert len({kind.type_slug for kind in kinds}) == len(kinds)


def test_schema_larger_than_the_limit_is_refused():
    schema = {"description": "x" * 2_000}
    check_schema_safety(schema, max_bytes=3_000)
    with pytest.raises(SchemaTooLarge):
        check_schema_safety(schema, max_bytes=1_000)


def test_nesting_limit_is_configurable():
    check_schema_safety(nested(10), max_depth=32)
    with pytest.raises(SchemaTooDeep):
        check_schema_safety(nested(10), max_depth=16)


def test_pathologically_deep_document_is_refused_without_recursing():
    schema: dict[str, Any] = {}
    for _ in range(100_000):
        schema = {"not": schema}
    with pytest.raises(SchemaTooDeep):
        check_schema_safety(schema)


def test_reference_to_a_registered_subject_version_is_accepted():
    registered = {("civil-affairs.person", 1)}
    schema = {"properties": {"p": {"$ref": "exchange:civil-affairs.person/versions/1"}}}
    check_schema_safety(schema, is_registered=lambda s, v: (s, v) in registered)
    with pytest.raises(UnknownSubjectReference):
        check_schema_safety(
            {"$ref": "exchange:civil-affairs.person/versions/2"},
            is_registered=lambda s, v: (s, v) in registered,
        )


def test_root_id_is_allowed_and_local_references_still_resolve():
    check_schema_safety(
        {
            "$id": "https://exchange.example.gov/schemas/x",
            "properties": {"a": {"$ref": "#/$defs/a"}, "b": {"$ref": "#b"}},
            "$defs": {"a": {"type": "string"}, "b": {"$anchor": "b"}},
        }
    )


def test_data_that_looks_like_a_reference_is_not_one():
    check_schema_safety({"enum": [{"$ref": "https://evil.example/"}]})


def test_known_redos_pattern_is_accepted_and_a_hostile_string_is_judged_correctly():
    # RE2 runs ^(a+)+$ in linear time, so the schema is harmless to the hub. A backtracking
    # engine would take about 2**49 steps on this string; the assertion is on the answer,
    # and the test suite's own run time shows the hub did not stall.
    schema = {"type": "object", "properties": {"name": {"type": "string", "pattern": REDOS}}}
    check_schema_safety(schema)
    validator = RecordValidator(schema)
    hostile = "a" * 49 + "!"
    assert [issue.path for issue in validator.errors_for({"name": hostile})] == ["/name"]
    assert validator.errors_for({"name": "a" * 50}) == []


def test_redos_pattern_in_pattern_properties_is_also_run_in_linear_time():
    schema = {"patternProperties": {REDOS: {"type": "integer"}}}
    check_schema_safety(schema)
    validator = RecordValidator(schema)
    assert validator.errors_for({"a" * 49 + "!": "not checked"}) == []
    assert [issue.path for issue in validator.errors_for({"a" * 50: "x"})] == ["/" + "a" * 50]
