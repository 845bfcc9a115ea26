"""Every named compatibility rule, proven both ways: the change and its reverse.

Each case is (original, update, kinds found by diff(original, update), BACKWARD verdict,
kinds found the other way round, verdict the other way round). The verdicts are written
out here, not derived from the table, so a wrong table entry fails a test.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from exchange.registry import (
    BACKWARD_COMPATIBLE,
    CompatibilityLevel,
    DifferenceKind,
    check_compatibility,
    diff,
)
from exchange.registry.schema_diff import LOWER_BOUNDS, UPPER_BOUNDS

K = DifferenceKind


@dataclass(frozen=True)
class Rule:
    name: str
    original: Any
    update: Any
    kinds: frozenset[DifferenceKind]
    compatible: bool
    reverse_kinds: frozenset[DifferenceKind]
    reverse_compatible: bool


# Positional on purpose: each call below is one row of the rule table.
def rule(name, original, update, kinds, compatible, reverse_kinds, reverse_compatible) -> Rule:  # noqa: PLR0917
    return Rule(
        name,
        original,
        update,
        frozenset(kinds),
        compatible,
        frozenset(reverse_kinds),
        reverse_compatible,
    )


def closed(properties: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "additionalProperties": False, **extra}


def opened(properties: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties, **extra}


TEXT = {"type": "string"}
SHORT_TEXT = {"type": "string", "maxLength": 5}


def bound_rules() -> list[Rule]:
    rules = []
    for keyword, stem in {**LOWER_BOUNDS, **UPPER_BOUNDS}.items():
        upper = keyword in UPPER_BOUNDS
        rules.append(
            rule(
                f"{keyword} added",
                {},
                {keyword: 5},
                {DifferenceKind[f"{stem}_ADDED"]},
                False,
                {DifferenceKind[f"{stem}_REMOVED"]},
                True,
            )
        )
        rules.append(
            rule(
                f"{keyword} raised",
                {keyword: 5},
                {keyword: 10},
                {DifferenceKind[f"{stem}_INCREASED"]},
                upper,
                {DifferenceKind[f"{stem}_DECREASED"]},
                not upper,
            )
        )
    return rules


RULES = [
    rule(
        "false schema replaced",
        {"items": False},
        {"items": TEXT},
        {K.FALSE_SCHEMA_REPLACED},
        True,
        {K.FALSE_SCHEMA_INTRODUCED},
        False,
    ),
    rule(
        "integer widened to number",
        {"type": "integer"},
        {"type": "number"},
        {K.TYPE_EXTENDED},
        True,
        {K.TYPE_NARROWED},
        False,
    ),
    rule(
        "null added to a type list",
        {"type": ["string"]},
        {"type": ["string", "null"]},
        {K.TYPE_EXTENDED},
        True,
        {K.TYPE_NARROWED},
        False,
    ),
    rule(
        "type constraint added",
        {},
        {"type": "string"},
        {K.TYPE_NARROWED},
        False,
        {K.TYPE_EXTENDED},
        True,
    ),
    rule(
        "type changed",
        {"type": "string"},
        {"type": "integer"},
        {K.TYPE_CHANGED},
        False,
        {K.TYPE_CHANGED},
        False,
    ),
    rule(
        "enum grown",
        {"enum": ["a", "b"]},
        {"enum": ["a", "b", "c"]},
        {K.ENUM_ARRAY_EXTENDED},
        True,
        {K.ENUM_ARRAY_NARROWED},
        False,
    ),
    rule(
        "const widened into an enum",
        {"const": "a"},
        {"enum": ["a", "b"]},
        {K.ENUM_ARRAY_EXTENDED},
        True,
        {K.ENUM_ARRAY_NARROWED},
        False,
    ),
    rule(
        "enum values swapped",
        {"enum": ["a", "b"]},
        {"enum": ["a", "c"]},
        {K.ENUM_ARRAY_CHANGED},
        False,
        {K.ENUM_ARRAY_CHANGED},
        False,
    ),
    rule(
        "enum introduced",
        {"type": "string"},
        {"type": "string", "enum": ["a"]},
        {K.ENUM_ADDED},
        False,
        {K.ENUM_REMOVED},
        True,
    ),
    *bound_rules(),
    rule(
        "multipleOf introduced",
        {},
        {"multipleOf": 5},
        {K.MULTIPLE_OF_ADDED},
        False,
        {K.MULTIPLE_OF_REMOVED},
        True,
    ),
    rule(
        "multipleOf reduced to a divisor",
        {"multipleOf": 12},
        {"multipleOf": 6},
        {K.MULTIPLE_OF_REDUCED},
        True,
        {K.MULTIPLE_OF_EXPANDED},
        False,
    ),
    rule(
        "multipleOf reduced to a decimal divisor",
        {"multipleOf": 0.5},
        {"multipleOf": 0.25},
        {K.MULTIPLE_OF_REDUCED},
        True,
        {K.MULTIPLE_OF_EXPANDED},
        False,
    ),
    rule(
        "multipleOf changed",
        {"multipleOf": 4},
        {"multipleOf": 6},
        {K.MULTIPLE_OF_CHANGED},
        False,
        {K.MULTIPLE_OF_CHANGED},
        False,
    ),
    rule(
        "pattern introduced",
        TEXT,
        {"type": "string", "pattern": "^[A-Z]+$"},
        {K.PATTERN_ADDED},
        False,
        {K.PATTERN_REMOVED},
        True,
    ),
    rule(
        "pattern changed",
        {"pattern": "^[A-Z]+$"},
        {"pattern": "^[A-Z0-9]+$"},
        {K.PATTERN_CHANGED},
        False,
        {K.PATTERN_CHANGED},
        False,
    ),
    rule(
        "format introduced",
        TEXT,
        {"type": "string", "format": "date"},
        {K.FORMAT_ADDED},
        False,
        {K.FORMAT_REMOVED},
        True,
    ),
    rule(
        "format changed",
        {"format": "date"},
        {"format": "email"},
        {K.FORMAT_CHANGED},
        False,
        {K.FORMAT_CHANGED},
        False,
    ),
    rule(
        "uniqueItems introduced",
        {"type": "array"},
        {"type": "array", "uniqueItems": True},
        {K.UNIQUE_ITEMS_ADDED},
        False,
        {K.UNIQUE_ITEMS_REMOVED},
        True,
    ),
    rule(
        "property made required",
        closed({"a": TEXT, "b": TEXT}),
        closed({"a": TEXT, "b": TEXT}, required=["b"]),
        {K.REQUIRED_PROPERTY_ADDED},
        False,
        {K.REQUIRED_PROPERTY_REMOVED},
        True,
    ),
    rule(
        "optional property added to a closed content model",
        closed({"a": TEXT}),
        closed({"a": TEXT, "b": TEXT}),
        {K.PROPERTY_ADDED_TO_CLOSED_CONTENT_MODEL},
        True,
        {K.PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL},
        False,
    ),
    rule(
        "required property added to a closed content model",
        closed({"a": TEXT}, required=["a"]),
        closed({"a": TEXT, "b": TEXT}, required=["a", "b"]),
        {K.PROPERTY_ADDED_TO_CLOSED_CONTENT_MODEL, K.REQUIRED_PROPERTY_ADDED},
        False,
        {K.PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL, K.REQUIRED_PROPERTY_REMOVED},
        False,
    ),
    rule(
        "property added to an open content model",
        opened({"a": TEXT}),
        opened({"a": TEXT, "b": TEXT}),
        {K.PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL},
        False,
        {K.PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL},
        True,
    ),
    rule(
        "property with an empty schema added to an open content model",
        opened({"a": TEXT}),
        opened({"a": TEXT, "b": {"description": "anything"}}),
        {K.PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL},
        True,
        {K.PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL},
        True,
    ),
    rule(
        "property as wide as additionalProperties added to a partially open model",
        opened({"a": TEXT}, additionalProperties=TEXT),
        opened({"a": TEXT, "b": TEXT}, additionalProperties=TEXT),
        {K.PROPERTY_ADDED_TO_PARTIALLY_OPEN_CONTENT_MODEL},
        True,
        {K.PROPERTY_REMOVED_FROM_PARTIALLY_OPEN_CONTENT_MODEL},
        True,
    ),
    rule(
        "property narrower than additionalProperties added to a partially open model",
        opened({"a": TEXT}, additionalProperties=TEXT),
        opened({"a": TEXT, "b": SHORT_TEXT}, additionalProperties=TEXT),
        {K.PROPERTY_ADDED_TO_PARTIALLY_OPEN_CONTENT_MODEL, K.MAX_LENGTH_ADDED},
        False,
        {K.PROPERTY_REMOVED_FROM_PARTIALLY_OPEN_CONTENT_MODEL, K.MAX_LENGTH_REMOVED},
        True,
    ),
    rule(
        "property narrower than its pattern property added",
        closed({"a": TEXT}, patternProperties={"^x-": TEXT}),
        closed({"a": TEXT, "x-note": SHORT_TEXT}, patternProperties={"^x-": TEXT}),
        {K.PROPERTY_ADDED_COVERED_BY_PATTERN_PROPERTY, K.MAX_LENGTH_ADDED},
        False,
        {K.PROPERTY_REMOVED_COVERED_BY_PATTERN_PROPERTY, K.MAX_LENGTH_REMOVED},
        True,
    ),
    rule(
        "additional properties allowed in a closed model",
        closed({"a": TEXT}),
        opened({"a": TEXT}),
        {K.ADDITIONAL_PROPERTIES_ADDED},
        True,
        {K.ADDITIONAL_PROPERTIES_REMOVED},
        False,
    ),
    rule(
        "additional properties given a schema in an open model",
        opened({"a": TEXT}),
        opened({"a": TEXT}, additionalProperties=TEXT),
        {K.ADDITIONAL_PROPERTIES_NARROWED},
        False,
        {K.ADDITIONAL_PROPERTIES_EXTENDED},
        True,
    ),
    rule(
        "additional properties schema widened",
        {"additionalProperties": {"type": "integer"}},
        {"additionalProperties": {"type": "number"}},
        {K.TYPE_EXTENDED},
        True,
        {K.TYPE_NARROWED},
        False,
    ),
    rule(
        "property of a nested object narrowed",
        closed({"address": closed({"city": {"type": "string", "maxLength": 50}})}),
        closed({"address": closed({"city": {"type": "string", "maxLength": 40}})}),
        {K.MAX_LENGTH_DECREASED},
        False,
        {K.MAX_LENGTH_INCREASED},
        True,
    ),
    rule(
        "array items widened",
        {"type": "array", "items": {"type": "integer"}},
        {"type": "array", "items": {"type": "number"}},
        {K.TYPE_EXTENDED},
        True,
        {K.TYPE_NARROWED},
        False,
    ),
    rule(
        "array items given a schema",
        {"type": "array"},
        {"type": "array", "items": TEXT},
        {K.TYPE_NARROWED},
        False,
        {K.TYPE_EXTENDED},
        True,
    ),
    rule(
        "prefix item added narrower than items",
        {"prefixItems": [TEXT], "items": TEXT},
        {"prefixItems": [TEXT, SHORT_TEXT], "items": TEXT},
        {K.PREFIX_ITEM_ADDED, K.MAX_LENGTH_ADDED},
        False,
        {K.PREFIX_ITEM_REMOVED, K.MAX_LENGTH_REMOVED},
        True,
    ),
    rule(
        "contains introduced",
        {"type": "array"},
        {"type": "array", "contains": {"const": "x"}},
        {K.CONTAINS_ADDED},
        False,
        {K.CONTAINS_REMOVED},
        True,
    ),
    rule(
        "contains widened",
        {"contains": {"type": "integer"}},
        {"contains": {"type": "number"}},
        {K.TYPE_EXTENDED},
        True,
        {K.TYPE_NARROWED},
        False,
    ),
    rule(
        "referenced definition widened",
        closed({"n": {"$ref": "#/$defs/name"}}, **{"$defs": {"name": SHORT_TEXT}}),
        closed({"n": {"$ref": "#/$defs/name"}}, **{"$defs": {"name": TEXT}}),
        {K.MAX_LENGTH_REMOVED},
        True,
        {K.MAX_LENGTH_ADDED},
        False,
    ),
    rule(
        "reference by anchor widened",
        closed({"n": {"$ref": "#name"}}, **{"$defs": {"n": {"$anchor": "name", **SHORT_TEXT}}}),
        closed({"n": {"$ref": "#name"}}, **{"$defs": {"n": {"$anchor": "name", **TEXT}}}),
        {K.MAX_LENGTH_REMOVED},
        True,
        {K.MAX_LENGTH_ADDED},
        False,
    ),
    rule(
        "anyOf branch widened",
        {"anyOf": [SHORT_TEXT, {"type": "integer"}]},
        {"anyOf": [TEXT, {"type": "integer"}]},
        {K.MAX_LENGTH_REMOVED},
        True,
        {K.MAX_LENGTH_ADDED},
        False,
    ),
    rule(
        "anyOf branch added",
        {"anyOf": [TEXT]},
        {"anyOf": [TEXT, {"type": "integer"}]},
        {K.UNDECIDABLE_CHANGE},
        False,
        {K.UNDECIDABLE_CHANGE},
        False,
    ),
    rule(
        "oneOf branch changed",
        {"oneOf": [TEXT, {"type": "integer"}]},
        {"oneOf": [TEXT, {"type": "number"}]},
        {K.UNDECIDABLE_CHANGE},
        False,
        {K.UNDECIDABLE_CHANGE},
        False,
    ),
    rule(
        "not changed",
        {"not": {"type": "null"}},
        {"not": {"type": "integer"}},
        {K.UNDECIDABLE_CHANGE},
        False,
        {K.UNDECIDABLE_CHANGE},
        False,
    ),
    rule(
        "if/then changed",
        {"if": {"minimum": 0}, "then": {"maximum": 10}},
        {"if": {"minimum": 0}, "then": {"maximum": 20}},
        {K.UNDECIDABLE_CHANGE},
        False,
        {K.UNDECIDABLE_CHANGE},
        False,
    ),
    rule(
        "dependentSchemas changed",
        {"dependentSchemas": {"a": {"required": ["b"]}}},
        {"dependentSchemas": {"a": {"required": ["c"]}}},
        {K.UNDECIDABLE_CHANGE},
        False,
        {K.UNDECIDABLE_CHANGE},
        False,
    ),
    rule(
        "pattern property added",
        closed({"a": TEXT}),
        closed({"a": TEXT}, patternProperties={"^x-": TEXT}),
        {K.UNDECIDABLE_CHANGE},
        False,
        {K.UNDECIDABLE_CHANGE},
        False,
    ),
    rule(
        "subject reference moved to another version",
        {"$ref": "exchange:civil-affairs.person/versions/1", "maxLength": 3},
        {"$ref": "exchange:civil-affairs.person/versions/2", "maxLength": 3},
        {K.UNDECIDABLE_CHANGE},
        False,
        {K.UNDECIDABLE_CHANGE},
        False,
    ),
]

NO_CHANGE = [
    ("annotations only", {"title": "A", **TEXT}, {"title": "B", "description": "x", **TEXT}),
    ("integral float equals integer", {"enum": [1, 2]}, {"enum": [2.0, 1]}),
    (
        "definition inlined",
        closed({"n": {"$ref": "#/$defs/name"}}, **{"$defs": {"name": SHORT_TEXT}}),
        closed({"n": SHORT_TEXT}),
    ),
    ("true and empty schema", {"items": True}, {"items": {}}),
]


def kinds_of(original: Any, update: Any) -> frozenset[DifferenceKind]:
    return frozenset(difference.kind for difference in diff(original, update))


@pytest.mark.parametrize("case", RULES, ids=lambda case: case.name)
def test_rule_names_the_change_and_gives_its_backward_verdict(case: Rule):
    assert kinds_of(case.original, case.update) == case.kinds
    result = check_compatibility(CompatibilityLevel.BACKWARD, case.update, [case.original])
    assert result.compatible is case.compatible


@pytest.mark.parametrize("case", RULES, ids=lambda case: case.name)
def test_rule_reversed_names_the_opposite_change_and_verdict(case: Rule):
    assert kinds_of(case.update, case.original) == case.reverse_kinds
    result = check_compatibility(CompatibilityLevel.BACKWARD, case.original, [case.update])
    assert result.compatible is case.reverse_compatible


@pytest.mark.parametrize("case", RULES, ids=lambda case: case.name)
def test_forward_check_is_the_backward_check_with_schemas_swapped(case: Rule):
    result = check_compatibility(CompatibilityLevel.FORWARD, case.update, [case.original])
    assert result.compatible is case.reverse_compatible


@pytest.mark.parametrize("case", RULES, ids=lambda case: case.name)
def test_full_check_needs_both_directions(case: Rule):
    result = check_compatibility(CompatibilityLevel.FULL, case.update, [case.original])
    assert result.compatible is (case.compatible and case.reverse_compatible)


def test_every_difference_kind_is_proven_by_a_rule_and_listed_in_the_table():
    proven = set().union(*(case.kinds | case.reverse_kinds for case in RULES))
    assert proven == set(DifferenceKind)
    assert set(BACKWARD_COMPATIBLE) == set(DifferenceKind)


@pytest.mark.parametrize(("name", "original", "update"), NO_CHANGE, ids=[c[0] for c in NO_CHANGE])
def test_equivalent_schemas_show_no_difference(name, original, update):
    assert diff(original, update) == []
    assert diff(update, original) == []


def test_difference_path_is_the_json_pointer_of_the_change_in_a_nested_schema():
    original = closed({"owner/name": closed({"city": {"type": "string", "maxLength": 50}})})
    update = closed({"owner/name": closed({"city": {"type": "string", "maxLength": 40}})})
    [difference] = diff(original, update)
    assert difference.path == "/properties/owner~1name/properties/city/maxLength"


def test_path_through_a_reference_follows_the_walk_not_the_definition():
    original = closed({"n": {"$ref": "#/$defs/name"}}, **{"$defs": {"name": SHORT_TEXT}})
    update = closed({"n": {"$ref": "#/$defs/name"}}, **{"$defs": {"name": TEXT}})
    assert [d.path for d in diff(original, update)] == ["/properties/n/maxLength"]


def recursive_list(value_type: str, name_length: int) -> dict[str, Any]:
    return {
        "$defs": {
            "node": closed(
                {"value": {"type": value_type}, "next": {"$ref": "#/$defs/node"}},
            )
        },
        **closed(
            {"head": {"$ref": "#/$defs/node"}, "name": {"type": "string", "maxLength": name_length}}
        ),
    }


def test_identical_recursive_definition_is_compatible_without_walking_it():
    kinds = kinds_of(recursive_list("integer", 10), recursive_list("integer", 20))
    assert kinds == {K.MAX_LENGTH_INCREASED}


def test_changed_recursive_definition_is_undecidable_and_incompatible():
    kinds = kinds_of(recursive_list("integer", 10), recursive_list("number", 10))
    assert kinds == {K.TYPE_EXTENDED, K.UNDECIDABLE_CHANGE}
    result = check_compatibility(
        CompatibilityLevel.BACKWARD, recursive_list("number", 10), [recursive_list("integer", 10)]
    )
    assert not result.compatible


def test_reference_that_does_not_resolve_is_undecidable():
    assert kinds_of({"$ref": "#/$defs/missing"}, {"$ref": "#/$defs/other"}) == {
        K.UNDECIDABLE_CHANGE
    }


def test_reference_cycle_without_content_is_undecidable():
    looping = {"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}}}
    original = {**looping, "properties": {"x": {"$ref": "#/$defs/a"}}}
    update = {**looping, "properties": {"x": TEXT}}
    assert kinds_of(original, update) == {K.UNDECIDABLE_CHANGE}
