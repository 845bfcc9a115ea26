"""The closed-content-model policy for record shapes."""

from __future__ import annotations

import pytest

from exchange.registry import open_content_models, require_closed_content_models
from exchange.registry.errors import OpenContentModelRefused


def test_record_shape_without_additional_properties_false_is_refused_with_its_pointer():
    schema = {
        "type": "object",
        "properties": {"owner": {"type": "object", "properties": {"name": {}}}},
        "additionalProperties": False,
    }
    with pytest.raises(OpenContentModelRefused) as refused:
        require_closed_content_models(schema)
    assert refused.value.status == 422
    assert refused.value.extra["pointer"] == "/properties/owner"


def test_partially_open_model_counts_as_open():
    assert open_content_models({"properties": {}, "additionalProperties": {}}) == [""]


def test_closed_record_shapes_and_free_form_maps_are_accepted():
    schema = {
        "type": "object",
        "properties": {"payload": {"type": "object"}, "tags": {"additionalProperties": True}},
        "additionalProperties": False,
        "$defs": {"x": {"properties": {}, "additionalProperties": False}},
    }
    require_closed_content_models(schema)
    assert open_content_models(schema) == []
