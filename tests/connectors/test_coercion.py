"""CSV cells become the JSON values the subject's schema asks for, and a bad cell is named."""

from __future__ import annotations

import pytest

from connectors.coercion import CellInvalid, coerce_row

SCHEMA = {
    "type": "object",
    "properties": {
        "score": {"type": "integer"},
        "fine": {"type": ["number", "null"]},
        "passed": {"type": "boolean"},
        "tags": {"type": "array"},
        "address": {"$ref": "#/$defs/address"},
        "code": {"type": "string"},
    },
    "$defs": {"address": {"type": "object", "properties": {"postal_code": {"type": "string"}}}},
}


def test_cells_take_the_types_of_their_properties():
    row = {
        "score": "90",
        "fine": "12.5",
        "passed": "Yes",
        "tags": '["a", "b"]',
        "address.postal_code": "010000",
        "code": "007",
        "unknown": "kept",
    }

    assert coerce_row(row, SCHEMA) == {
        "score": 90,
        "fine": 12.5,
        "passed": True,
        "tags": ["a", "b"],
        "address": {"postal_code": "010000"},
        "code": "007",
        "unknown": "kept",
    }


def test_an_empty_cell_leaves_the_property_out():
    assert coerce_row({"score": "", "code": "x"}, SCHEMA) == {"code": "x"}


def test_every_bad_cell_is_named():
    with pytest.raises(CellInvalid) as raised:
        coerce_row({"score": "high", "passed": "maybe", "fine": "nan"}, SCHEMA)

    assert "'score'" in raised.value.detail
    assert "'passed'" in raised.value.detail
    assert "'fine'" in raised.value.detail
