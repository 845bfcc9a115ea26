"""Walking a JSON Schema (draft 2020-12): which keywords hold sub-schemas, and where.

Only keywords whose values are schemas are entered: an object inside `enum`, `const`,
`default` or `examples` is data, so a `"$ref"` key there is not a reference.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

SCHEMA_VALUED = frozenset(
    {
        "additionalProperties",
        "propertyNames",
        "items",
        "contains",
        "not",
        "if",
        "then",
        "else",
        "unevaluatedItems",
        "unevaluatedProperties",
        "contentSchema",
    }
)
SCHEMA_MAP_VALUED = frozenset(
    {"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"}
)
SCHEMA_LIST_VALUED = frozenset({"allOf", "anyOf", "oneOf", "prefixItems"})


def pointer_token(key: str | int) -> str:
    """One JSON Pointer reference token (RFC 6901), escaped."""
    return str(key).replace("~", "~0").replace("/", "~1")


def child_pointer(pointer: str, *keys: str | int) -> str:
    """The JSON Pointer of a child of the place `pointer` names."""
    return pointer + "".join("/" + pointer_token(key) for key in keys)


def subschemas(schema: Any, pointer: str = "") -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Yield `(pointer, schema)` for `schema` and every object schema nested in it."""
    if not isinstance(schema, Mapping):
        return
    yield pointer, schema
    for keyword, value in schema.items():
        if keyword in SCHEMA_VALUED:
            yield from subschemas(value, child_pointer(pointer, keyword))
        elif keyword in SCHEMA_MAP_VALUED and isinstance(value, Mapping):
            for name, child in value.items():
                yield from subschemas(child, child_pointer(pointer, keyword, name))
        elif keyword in SCHEMA_LIST_VALUED and isinstance(value, list):
            for index, child in enumerate(value):
                yield from subschemas(child, child_pointer(pointer, keyword, index))
