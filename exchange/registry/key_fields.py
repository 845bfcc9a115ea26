"""A subject's record key field: which member of a record keys it on the topic.

The key field is a dotted path of property names (`unified_social_credit_code`,
`insured_person.citizen_id`). Every schema version must declare each step in `properties`
and list it in `required`, so every valid record has a key. Local `#/...` references are
followed to find the object schema of a step.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import referencing
import referencing.exceptions
from referencing.jsonschema import DRAFT202012

from exchange.registry.catalogue_errors import KeyFieldNotDeclared

_MAX_REFERENCE_HOPS = 32


def require_key_field(schema: Any, key_field: str) -> None:
    """Raise `KeyFieldNotDeclared` unless every step of `key_field` is declared and required."""
    current = _resolve(schema, schema)
    walked: list[str] = []
    for step in key_field.split("."):
        walked.append(step)
        properties = current.get("properties") if isinstance(current, Mapping) else None
        required = current.get("required", []) if isinstance(current, Mapping) else []
        if not isinstance(properties, Mapping) or step not in properties or step not in required:
            raise KeyFieldNotDeclared(
                f"key field {key_field!r}: {'.'.join(walked)!r} is not a declared, required "
                "property of the schema",
                key_field=key_field,
            )
        current = _resolve(schema, properties[step])


def _resolve(root: Any, subschema: Any) -> Any:
    """Follows local `$ref`s from `subschema` to the schema they name (None if they leave)."""
    lookup = _local_lookup(root)
    for _ in range(_MAX_REFERENCE_HOPS):
        if not isinstance(subschema, Mapping) or "$ref" not in subschema:
            return subschema
        reference = str(subschema["$ref"])
        if not reference.startswith("#"):
            return None
        try:
            subschema = lookup(reference)
        except referencing.exceptions.Unresolvable:
            return None
    return None


def _local_lookup(root: Any) -> Callable[[str], Any]:
    resource = DRAFT202012.create_resource(root)
    registry: referencing.Registry[Any] = referencing.Registry().with_resource("", resource)
    resolver = registry.resolver(base_uri="")
    return lambda reference: resolver.lookup(reference).contents
