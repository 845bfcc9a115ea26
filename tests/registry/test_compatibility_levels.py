"""Compatibility levels: which versions are compared, and in which direction."""

from __future__ import annotations

import pytest

from exchange.registry import (
    DEFAULT_COMPATIBILITY_LEVEL,
    CompatibilityLevel,
    DifferenceKind,
    check_compatibility,
    require_compatible,
)
from exchange.registry.errors import IncompatibleSchema

L = CompatibilityLevel
TEXT = {"type": "string"}


def licence(*names: str) -> dict[str, object]:
    return {
        "type": "object",
        "properties": dict.fromkeys(names, TEXT),
        "additionalProperties": False,
    }


# v1 had a field that v2 dropped; the new version adds another optional field.
V1, V2, NEW = licence("code", "fax"), licence("code"), licence("code", "email")


def test_default_level_is_backward():
    assert DEFAULT_COMPATIBILITY_LEVEL is L.BACKWARD


@pytest.mark.parametrize(
    ("level", "compatible"),
    [
        (L.BACKWARD, True),
        (L.BACKWARD_TRANSITIVE, False),
        (L.FORWARD, False),
        (L.FORWARD_TRANSITIVE, False),
        (L.FULL, False),
        (L.FULL_TRANSITIVE, False),
        (L.NONE, True),
    ],
)
def test_adding_an_optional_field_to_a_closed_model_under_each_level(level, compatible):
    assert check_compatibility(level, NEW, [V1, V2]).compatible is compatible


def test_plain_level_compares_with_the_latest_version_only():
    assert check_compatibility(L.BACKWARD, NEW, [V1, V2]).compatible
    assert not check_compatibility(L.BACKWARD, NEW, [V2, V1]).compatible


def test_transitive_level_reports_the_version_it_breaks():
    result = check_compatibility(L.BACKWARD_TRANSITIVE, NEW, [V1, V2])
    [broken] = result.incompatibilities
    assert broken.kind is DifferenceKind.PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL
    assert broken.path == "/properties/fax"
    assert "previous version 1 of 2" in broken.detail


def test_forward_allows_dropping_an_optional_field_that_backward_refuses():
    assert check_compatibility(L.FORWARD, V2, [V1]).compatible
    assert not check_compatibility(L.BACKWARD, V2, [V1]).compatible


def test_forward_transitive_checks_every_earlier_version():
    widened = {"type": "string", "maxLength": 10}
    versions = [{"type": "string", "maxLength": 5}, {"type": "string", "maxLength": 20}]
    assert check_compatibility(L.FORWARD, widened, versions).compatible
    assert not check_compatibility(L.FORWARD_TRANSITIVE, widened, versions).compatible


def test_full_transitive_accepts_changes_to_annotations_only():
    versions = [{"title": "a", **TEXT}, {"title": "b", **TEXT}]
    assert check_compatibility(L.FULL_TRANSITIVE, {"title": "c", **TEXT}, versions).compatible


def test_first_version_is_always_compatible():
    assert check_compatibility(L.FULL_TRANSITIVE, NEW, []).compatible


def test_incompatible_registration_is_a_conflict_naming_each_kind_and_path():
    with pytest.raises(IncompatibleSchema) as refused:
        require_compatible(L.BACKWARD, V2, [V1])
    assert refused.value.status == 409
    assert refused.value.extra["incompatibilities"] == [
        {
            "kind": "PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL",
            "path": "/properties/fax",
            "detail": refused.value.extra["incompatibilities"][0]["detail"],
        }
    ]
    require_compatible(L.BACKWARD, NEW, [V2])
