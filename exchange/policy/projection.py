"""Projecting a record's payload onto a grant's field list.

The projected payload holds exactly the places the pointers name, at the same pointers:
nested objects are rebuilt around the kept members, in the payload's member order. A
pointer into an array element keeps the array up to that element, with `null` standing
for the elements nobody was granted, so `/members/2/name` still names the kept value.
A pointer to a member the payload lacks keeps nothing (no empty object is left behind).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from exchange.policy.field_pointers import is_array_index, parse_pointer


@dataclass
class _PointerTree:
    """The granted pointers as a tree of reference tokens; `whole` keeps the subtree."""

    whole: bool = False
    children: dict[str, _PointerTree] = field(default_factory=dict)

    def add(self, tokens: Sequence[str]) -> None:
        node = self
        for token in tokens:
            node = node.children.setdefault(token, _PointerTree())
        node.whole = True


class _Absent:
    """Marks a place the payload does not have."""


_ABSENT = _Absent()


def project(payload: Any, fields: Sequence[str] | None) -> Any:
    """The part of `payload` that the JSON Pointers in `fields` name; all of it when `fields`
    is None. The payload itself is never changed: kept values are copies.

    Raises `ValueError` for a malformed pointer (grants hold only checked ones).
    """
    if fields is None:
        return copy.deepcopy(payload)
    tree = _PointerTree()
    for pointer in fields:
        tree.add(parse_pointer(pointer))
    kept = _project(payload, tree)
    if isinstance(kept, _Absent):
        return {} if isinstance(payload, Mapping) else None
    return kept


def _project(value: Any, tree: _PointerTree) -> Any:
    if tree.whole:
        return copy.deepcopy(value)
    if isinstance(value, Mapping):
        return _project_object(value, tree)
    if isinstance(value, list):
        return _project_array(value, tree)
    return _ABSENT


def _project_object(value: Mapping[str, Any], tree: _PointerTree) -> Any:
    kept: dict[str, Any] = {}
    for name, member in value.items():
        subtree = tree.children.get(name)
        if subtree is None:
            continue
        projected = _project(member, subtree)
        if not isinstance(projected, _Absent):
            kept[name] = projected
    return kept or _ABSENT


def _project_array(value: list[Any], tree: _PointerTree) -> Any:
    kept: dict[int, Any] = {}
    for token, subtree in tree.children.items():
        if not is_array_index(token) or int(token) >= len(value):
            continue
        projected = _project(value[int(token)], subtree)
        if not isinstance(projected, _Absent):
            kept[int(token)] = projected
    if not kept:
        return _ABSENT
    return [kept.get(index) for index in range(max(kept) + 1)]
