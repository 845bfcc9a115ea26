"""Exchange's content-model policy: record shapes are closed, for every subject (no opt-out).

An object schema that declares `properties` must also say `"additionalProperties": false`.
Then every field a department publishes is declared, so grants can name it and
projections can drop it, and adding an optional property is a BACKWARD compatible change
(see docs/compatibility.md for the reasoning). A schema without `properties` (a free-form
map such as the envelope's `payload`) is not a record shape and is left alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from exchange.registry.errors import OpenContentModelRefused
from exchange.registry.schema_walk import subschemas


def open_content_models(schema: Any) -> list[str]:
    """JSON Pointers of the object schemas in `schema` that declare properties but stay open."""
    return [
        pointer
        for pointer, subschema in subschemas(schema)
        if isinstance(subschema.get("properties"), Mapping)
        and subschema.get("additionalProperties", True) is not False
    ]


def require_closed_content_models(schema: Any) -> None:
    """Raise `OpenContentModelRefused` naming the first open record shape in `schema`."""
    pointers = open_content_models(schema)
    if pointers:
        raise OpenContentModelRefused(
            f"object schema at {pointers[0]!r} declares properties without "
            '"additionalProperties": false (closed content models are the default)',
            pointer=pointers[0],
            pointers=pointers,
        )
