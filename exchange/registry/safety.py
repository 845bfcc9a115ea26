"""What a schema must satisfy before the registry accepts it: well-formed, cheap, local.

A schema is department input that the hub then runs on every record, so it is checked for
cost (size, nesting), for reach (no reference leaves the document, except to a registered
subject version; nothing is ever fetched), and for regular expressions the hub's
linear-time engine cannot run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import referencing
import referencing.exceptions
import rfc8785
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError
from referencing.jsonschema import DRAFT202012

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
from exchange.registry.patterns import PatternNotSupportedError, compile_pattern
from exchange.registry.references import (
    SUBJECT_REFERENCE_SCHEME,
    IsRegistered,
    parse_subject_reference,
)
from exchange.registry.schema_walk import child_pointer, subschemas

DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"
DEFAULT_MAX_BYTES = 256_000
DEFAULT_MAX_DEPTH = 32
_REFERENCE_KEYWORDS = ("$ref", "$dynamicRef")

# Patterns are checked by RE2 below, with a pointer to each; the meta-schema's own `regex`
# format check would use Python's `re`, which accepts a different dialect.
_META_SCHEMA_FORMATS = FormatChecker(
    formats=[name for name in Draft202012Validator.FORMAT_CHECKER.checkers if name != "regex"]
)


def check_schema_safety(
    schema: Any,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
    is_registered: IsRegistered | None = None,
) -> None:
    """Raise a `SchemaRefused` subclass naming the first problem of `schema`, if any.

    `is_registered(subject, version)` says which `exchange:<subject>/versions/<n>`
    references may be used; without it, no reference to another subject is accepted.
    """
    # Depth first: the later checks recurse, and must never meet an unbounded structure.
    _check_depth(schema, max_depth)
    _check_size(schema, max_bytes)
    _check_dialect(schema)
    _check_meta_schema(schema)
    _check_ids(schema)
    _check_references(schema, is_registered)
    _check_patterns(schema)


def _check_depth(schema: Any, max_depth: int) -> None:
    pending: list[tuple[Any, str, int]] = [(schema, "", 1)]
    while pending:
        value, pointer, depth = pending.pop()
        if not isinstance(value, Mapping | list):
            continue
        if depth > max_depth:
            raise SchemaTooDeep(
                f"nesting at {pointer!r} exceeds {max_depth} levels", pointer=pointer
            )
        children = value.items() if isinstance(value, Mapping) else enumerate(value)
        pending.extend((child, child_pointer(pointer, key), depth + 1) for key, child in children)


def _check_size(schema: Any, max_bytes: int) -> None:
    try:
        size = len(rfc8785.dumps(schema))
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as error:
        raise InvalidJsonSchema(f"not representable as canonical JSON: {error}") from error
    if size > max_bytes:
        raise SchemaTooLarge(f"schema is {size} bytes in canonical form, limit {max_bytes}")


def _check_dialect(schema: Any) -> None:
    if not isinstance(schema, Mapping) or "$schema" not in schema:
        return
    if schema["$schema"] not in (DRAFT_2020_12, DRAFT_2020_12 + "#"):
        raise UnsupportedDialect(
            f"$schema must be absent or {DRAFT_2020_12!r}, not {schema['$schema']!r}",
            pointer="/$schema",
        )


def _check_meta_schema(schema: Any) -> None:
    try:
        Draft202012Validator.check_schema(schema, format_checker=_META_SCHEMA_FORMATS)
    except SchemaError as error:
        pointer = child_pointer("", *error.absolute_path)
        raise InvalidJsonSchema(f"at {pointer!r}: {error.message}", pointer=pointer) from error


def _check_ids(schema: Any) -> None:
    for pointer, subschema in subschemas(schema):
        if "$id" not in subschema:
            continue
        id_pointer = child_pointer(pointer, "$id")
        if pointer:
            # An embedded $id rebases every `#...` reference below it onto another URI,
            # which would make a reference that looks local resolve elsewhere.
            raise EmbeddedIdRefused(
                f"$id is only allowed at the schema's root, found at {id_pointer!r}",
                pointer=id_pointer,
            )
        if str(subschema["$id"]).startswith(SUBJECT_REFERENCE_SCHEME):
            raise EmbeddedIdRefused(
                "a schema may not name itself as a registered subject version",
                pointer=id_pointer,
            )


def _check_references(schema: Any, is_registered: IsRegistered | None) -> None:
    lookup = _local_lookup(schema)
    for pointer, subschema in subschemas(schema):
        for keyword in _REFERENCE_KEYWORDS:
            if keyword in subschema:
                reference = str(subschema[keyword])
                ref_pointer = child_pointer(pointer, keyword)
                _check_reference(reference, ref_pointer, lookup, is_registered)


def _local_lookup(schema: Any) -> Callable[[str], object]:
    base_uri = str(schema.get("$id", "")) if isinstance(schema, Mapping) else ""
    resource = DRAFT202012.create_resource(schema)
    registry: referencing.Registry[Any] = referencing.Registry().with_resource(base_uri, resource)
    return registry.resolver(base_uri=base_uri).lookup


def _check_reference(
    reference: str,
    pointer: str,
    lookup: Callable[[str], object],
    is_registered: IsRegistered | None,
) -> None:
    if reference.startswith("#"):
        try:
            lookup(reference)
        except referencing.exceptions.Unresolvable as error:
            raise InvalidJsonSchema(
                f"reference {reference!r} at {pointer!r} does not resolve in the document",
                pointer=pointer,
            ) from error
        return
    subject_reference = parse_subject_reference(reference)
    if subject_reference is None:
        raise RemoteReferenceRefused(
            f"reference {reference!r} at {pointer!r} leaves the document; only '#...' "
            "references and 'exchange:<subject>/versions/<n>' are allowed",
            pointer=pointer,
        )
    if is_registered is None or not is_registered(
        subject_reference.subject, subject_reference.version
    ):
        raise UnknownSubjectReference(
            f"reference {reference!r} at {pointer!r} names no registered subject version",
            pointer=pointer,
        )


def _check_patterns(schema: Any) -> None:
    for pointer, subschema in subschemas(schema):
        if isinstance(subschema.get("pattern"), str):
            _check_pattern(subschema["pattern"], child_pointer(pointer, "pattern"))
        pattern_properties = subschema.get("patternProperties")
        if isinstance(pattern_properties, Mapping):
            for pattern in pattern_properties:
                _check_pattern(pattern, child_pointer(pointer, "patternProperties", pattern))


def _check_pattern(pattern: str, pointer: str) -> None:
    try:
        compile_pattern(pattern)
    except PatternNotSupportedError as error:
        raise UnsafePattern(
            f"pattern {pattern!r} at {pointer!r} cannot run in linear time (RE2): {error}",
            pointer=pointer,
        ) from error
