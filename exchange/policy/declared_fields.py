"""Whether a subject's JSON Schema declares the place a field pointer names.

A grant's field list must name places a record of the subject can have: each object
member must be declared in `properties` (or match a `patternProperties` pattern) of some
schema the value must or may satisfy, following local `$ref`s and the applicators
(`allOf`, `anyOf`, `oneOf`, `if`/`then`/`else`); an array index goes through
`prefixItems` or `items`. References to other subjects are not followed: a pointer
through one is refused, since this subject's schema does not itself declare it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from exchange.policy.field_pointers import InvalidFieldList, is_array_index, parse_pointer
from exchange.registry.patterns import PatternNotSupportedError, pattern_matches
from exchange.registry.schema_diff import resolve_local_reference

_APPLICATOR_LISTS = ("allOf", "anyOf", "oneOf")
_APPLICATORS = ("if", "then", "else")


def require_declared(schema: Mapping[str, Any], pointers: Sequence[str]) -> None:
    """Refuse (422, naming each entry) pointers that `schema` does not declare."""
    problems = {
        index: f"{pointer!r}: the subject's schema declares no such property"
        for index, pointer in enumerate(pointers)
        if not declares(schema, pointer)
    }
    if problems:
        raise InvalidFieldList("some fields are not declared by the subject's schema", problems)


def declares(schema: Mapping[str, Any], pointer: str) -> bool:
    """Whether a payload valid against `schema` can have a value at `pointer`."""
    current = list(_alternatives(schema, schema))
    for token in parse_pointer(pointer):
        current = [
            found
            for candidate in current
            for child in _children(candidate, token)
            for found in _alternatives(schema, child)
        ]
        if not current:
            return False
    return True


def _alternatives(root: Mapping[str, Any], schema: Any) -> Iterator[Mapping[str, Any]]:
    """`schema` and every schema it brings in by reference or applicator, once each."""
    seen: set[int] = set()
    pending = [schema]
    while pending:
        current = pending.pop()
        if not isinstance(current, Mapping) or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        reference = current.get("$ref")
        if isinstance(reference, str) and reference.startswith("#"):
            pending.append(resolve_local_reference(root, reference))
        for keyword in _APPLICATOR_LISTS:
            members = current.get(keyword)
            if isinstance(members, list):
                pending.extend(members)
        pending.extend(current[keyword] for keyword in _APPLICATORS if keyword in current)


def _children(schema: Mapping[str, Any], token: str) -> list[Any]:
    """The sub-schemas that describe member or element `token` of a value of `schema`."""
    children: list[Any] = []
    properties = schema.get("properties")
    if isinstance(properties, Mapping) and token in properties:
        children.append(properties[token])
    patterns = schema.get("patternProperties")
    if isinstance(patterns, Mapping):
        children.extend(child for regex, child in patterns.items() if _matches(regex, token))
    if is_array_index(token):
        children.extend(_element_schemas(schema, int(token)))
    return children


def _element_schemas(schema: Mapping[str, Any], index: int) -> list[Any]:
    prefix = schema.get("prefixItems")
    if isinstance(prefix, list) and index < len(prefix):
        return [prefix[index]]
    items = schema.get("items")
    return [items] if isinstance(items, Mapping) else []


def _matches(regex: str, token: str) -> bool:
    try:
        return pattern_matches(regex, token)
    except PatternNotSupportedError:
        return False
