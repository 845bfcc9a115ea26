"""Text cells (CSV columns, query strings) turned into the JSON values a subject's schema
expects: the property a column names decides its type.

A column names a property by its name, or a nested one by a dotted path
(`registered_address.city`). Integers, numbers and booleans are parsed; `array` and
`object` cells hold JSON; anything else stays text. An empty cell leaves the property
out. Columns the schema does not name stay text, and the hub's validation decides.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from exchange.errors import ValidationFailed

TRUE_WORDS = frozenset({"true", "1", "yes", "y"})
FALSE_WORDS = frozenset({"false", "0", "no", "n"})


class CellInvalid(ValidationFailed):
    """A cell cannot hold the type its property needs; `detail` names the column."""

    type_slug = "cell-invalid"
    title = "Cell does not match its property's type"


def coerce_row(row: Mapping[str, str], schema: Mapping[str, Any]) -> dict[str, Any]:
    """The payload a row of text cells stands for under `schema`; raises `CellInvalid`
    naming every column that does not parse."""
    payload: dict[str, Any] = {}
    problems: list[str] = []
    for column, cell in row.items():
        if cell is None or cell == "":
            continue
        path = column.split(".")
        try:
            value = _coerce_cell(cell, _types_of(property_schema(schema, path)))
        except ValueError as error:
            problems.append(f"column {column!r}: {error}")
            continue
        _place(payload, path, value)
    if problems:
        raise CellInvalid("; ".join(problems))
    return payload


def property_schema(schema: Mapping[str, Any], path: list[str]) -> Mapping[str, Any]:
    """The sub-schema of the property at `path` (empty when the schema does not say)."""
    current: Mapping[str, Any] = schema
    for name in path:
        current = _dereference(current, schema)
        properties = current.get("properties")
        if not isinstance(properties, Mapping) or name not in properties:
            return {}
        current = properties[name]
    return _dereference(current, schema)


def _dereference(node: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    """Follow local `$ref`s (`#/$defs/name`), the only kind a registered schema holds."""
    seen = 0
    while isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/") and seen < 32:
        target: Any = root
        for part in node["$ref"][2:].split("/"):
            target = target.get(part, {}) if isinstance(target, Mapping) else {}
        node = target if isinstance(target, Mapping) else {}
        seen += 1
    return node


def _types_of(node: Mapping[str, Any]) -> list[str]:
    declared = node.get("type")
    if isinstance(declared, str):
        return [declared]
    if isinstance(declared, list):
        return [kind for kind in declared if isinstance(kind, str)]
    return []


def _coerce_cell(cell: str, types: list[str]) -> Any:
    kinds = [kind for kind in types if kind != "null"]
    if not kinds or "string" in kinds:
        return cell
    kind = kinds[0]
    text = cell.strip()
    if kind == "integer":
        try:
            return int(text)
        except ValueError:
            raise ValueError(f"{cell!r} is not an integer") from None
    if kind == "number":
        return _number(text)
    if kind == "boolean":
        return _boolean(text)
    if kind in ("array", "object"):
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            raise ValueError(f"{cell!r} is not a JSON {kind}") from None
    return cell


def _number(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None
    if not math.isfinite(number):
        raise ValueError(f"{text!r} is not a finite number")
    return number


def _boolean(text: str) -> bool:
    lowered = text.lower()
    if lowered in TRUE_WORDS:
        return True
    if lowered in FALSE_WORDS:
        return False
    raise ValueError(f"{text!r} is not a boolean (true/false)")


def _place(payload: dict[str, Any], path: list[str], value: Any) -> None:
    target = payload
    for name in path[:-1]:
        nested = target.setdefault(name, {})
        if not isinstance(nested, dict):
            raise CellInvalid(f"column {'.'.join(path)!r} conflicts with column {name!r}")
        target = nested
    target[path[-1]] = value
