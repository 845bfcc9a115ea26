"""Walking two JSON Schemas side by side and naming every change (see `differences`).

`diff(original, update)` compares an earlier schema with a later one. Local `$ref`s
(`#/$defs/...`, `#anchor`) are followed on each side within its own document; a
recursive reference met again while its two sides still differ is undecidable. Keywords
the walker does not reason about (`oneOf`, `not`, `if`/`then`/`else`, `dependentSchemas`,
`unevaluated*`, ...) yield `UNDECIDABLE_CHANGE` when they differ. Identical sub-schemas
(including everything their references reach) are compatible without walking.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, Final
from urllib.parse import unquote

from exchange.registry.differences import Difference, DifferenceKind
from exchange.registry.patterns import PatternNotSupportedError, pattern_matches
from exchange.registry.schema_walk import child_pointer, subschemas

K = DifferenceKind
ORIGINAL: Final = 0
UPDATE: Final = 1

# Keywords that never change which documents a schema accepts.
ANNOTATIONS = frozenset(
    {
        "title",
        "description",
        "$comment",
        "examples",
        "default",
        "deprecated",
        "readOnly",
        "writeOnly",
        "$schema",
        "$id",
        "$anchor",
        "$dynamicAnchor",
        "$defs",
        "definitions",
        "$vocabulary",
        "contentEncoding",
        "contentMediaType",
        "contentSchema",
    }
)
LOWER_BOUNDS = {
    "minimum": "MINIMUM",
    "exclusiveMinimum": "EXCLUSIVE_MINIMUM",
    "minLength": "MIN_LENGTH",
    "minItems": "MIN_ITEMS",
    "minProperties": "MIN_PROPERTIES",
    "minContains": "MIN_CONTAINS",
}
UPPER_BOUNDS = {
    "maximum": "MAXIMUM",
    "exclusiveMaximum": "EXCLUSIVE_MAXIMUM",
    "maxLength": "MAX_LENGTH",
    "maxItems": "MAX_ITEMS",
    "maxProperties": "MAX_PROPERTIES",
    "maxContains": "MAX_CONTAINS",
}
PRESENCE_RULES = {"pattern": "PATTERN", "format": "FORMAT"}
JSON_TYPES = frozenset({"null", "boolean", "object", "array", "number", "string", "integer"})
_UNRESOLVED = object()


def diff(original: Any, update: Any) -> list[Difference]:
    """Every named change from `original` to `update` (two whole schema documents)."""
    return _SchemaDiff(original, update).run()


def canonical(value: Any) -> str:
    """A JSON text equal for equal JSON values (1 and 1.0 alike, true and 1 not)."""
    return json.dumps(_integral_floats_as_ints(value), sort_keys=True, separators=(",", ":"))


def _integral_floats_as_ints(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Mapping):
        return {key: _integral_floats_as_ints(child) for key, child in value.items()}
    if isinstance(value, list):
        return [_integral_floats_as_ints(child) for child in value]
    return value


def accepts_anything(schema: Any) -> bool:
    """Whether `schema` is `true` or holds only annotations."""
    return schema is True or (isinstance(schema, Mapping) and set(schema) <= ANNOTATIONS)


def accepts_nothing(schema: Any) -> bool:
    """Whether `schema` is `false` or `{"not": {}}`."""
    if schema is False:
        return True
    return (
        isinstance(schema, Mapping)
        and "not" in schema
        and set(schema) - ANNOTATIONS == {"not"}
        and accepts_anything(schema["not"])
    )


def resolve_local_reference(root: Any, reference: str) -> Any:
    """The sub-schema `reference` (`#`, `#/json/pointer` or `#anchor`) names in `root`,
    or `_UNRESOLVED`."""
    fragment = unquote(reference[1:])
    if not fragment.startswith("/"):
        return _anchor(root, fragment) if fragment else root
    target = root
    for token in fragment[1:].split("/"):
        key = token.replace("~1", "/").replace("~0", "~")
        if isinstance(target, Mapping) and key in target:
            target = target[key]
        elif isinstance(target, list) and key.isdigit() and int(key) < len(target):
            target = target[int(key)]
        else:
            return _UNRESOLVED
    return target


def _anchor(root: Any, name: str) -> Any:
    for _, subschema in subschemas(root):
        if name in (subschema.get("$anchor"), subschema.get("$dynamicAnchor")):
            return subschema
    return _UNRESOLVED


def _local_references(value: Any) -> Iterator[str]:
    for _, subschema in subschemas(value):
        for keyword in ("$ref", "$dynamicRef"):
            reference = subschema.get(keyword)
            if isinstance(reference, str) and reference.startswith("#"):
                yield reference


class _SchemaDiff:
    """One comparison of two documents; collects differences as it walks."""

    def __init__(self, original_root: Any, update_root: Any) -> None:
        self._roots = (original_root, update_root)
        self._following: set[tuple[str | None, str | None]] = set()
        self._found: list[Difference] = []

    def run(self) -> list[Difference]:
        self._compare(self._roots[ORIGINAL], self._roots[UPDATE], "")
        return self._found

    def _note(self, kind: DifferenceKind, path: str, detail: str) -> None:
        self._found.append(Difference(kind, path, detail))

    # -- identity and references -------------------------------------------------------

    def _identical(self, original: Any, update: Any) -> bool:
        if canonical(original) != canonical(update):
            return False
        return self._reachable(original, ORIGINAL) == self._reachable(update, UPDATE)

    def _reachable(self, schema: Any, side: int) -> dict[str, str]:
        """Canonical text of every local reference target reachable from `schema`."""
        found: dict[str, str] = {}
        pending = [schema]
        while pending:
            for reference in _local_references(pending.pop()):
                if reference in found:
                    continue
                target = resolve_local_reference(self._roots[side], reference)
                found[reference] = "unresolved" if target is _UNRESOLVED else canonical(target)
                if target is not _UNRESOLVED:
                    pending.append(target)
        return found

    def _dereference(self, schema: Any, side: int) -> tuple[Any, str | None]:
        """Follow a `$ref` that stands alone (only annotations beside it) to its target."""
        followed: str | None = None
        seen: set[str] = set()
        while (
            isinstance(schema, Mapping)
            and isinstance(schema.get("$ref"), str)
            and schema["$ref"].startswith("#")
            and set(schema) - ANNOTATIONS == {"$ref"}
        ):
            followed = schema["$ref"]
            if followed in seen:
                return _UNRESOLVED, followed
            seen.add(followed)
            schema = resolve_local_reference(self._roots[side], followed)
        return schema, followed

    def _compare(self, original: Any, update: Any, path: str) -> None:
        if self._identical(original, update):
            return
        original, original_reference = self._dereference(original, ORIGINAL)
        update, update_reference = self._dereference(update, UPDATE)
        if original is _UNRESOLVED or update is _UNRESOLVED:
            self._note(K.UNDECIDABLE_CHANGE, path, "a reference does not resolve")
            return
        if original_reference is None and update_reference is None:
            self._compare_resolved(original, update, path)
            return
        key = (original_reference, update_reference)
        if key in self._following:
            self._note(
                K.UNDECIDABLE_CHANGE,
                path,
                f"recursive reference {original_reference} / {update_reference} differs",
            )
            return
        self._following.add(key)
        try:
            self._compare_resolved(original, update, path)
        finally:
            self._following.discard(key)

    # -- one pair of sub-schemas ---------------------------------------------------------

    def _compare_resolved(self, original: Any, update: Any, path: str) -> None:
        if self._identical(original, update):
            return
        if accepts_nothing(original):
            if not accepts_nothing(update):
                self._note(K.FALSE_SCHEMA_REPLACED, path, "the original accepted nothing here")
            return
        if accepts_nothing(update):
            self._note(K.FALSE_SCHEMA_INTRODUCED, path, "the update accepts nothing here")
            return
        old = original if isinstance(original, Mapping) else {}
        new = update if isinstance(update, Mapping) else {}
        handled: set[str] = set()
        for compare_keywords in self._keyword_rules():
            handled |= compare_keywords(old, new, path)
        self._compare_unknown_keywords(old, new, path, handled)

    def _keyword_rules(
        self,
    ) -> list[Callable[[Mapping[str, Any], Mapping[str, Any], str], set[str]]]:
        return [
            self._compare_reference,
            self._compare_type,
            self._compare_allowed_values,
            self._compare_bounds,
            self._compare_multiple_of,
            self._compare_presence_rules,
            self._compare_unique_items,
            self._compare_required,
            self._compare_properties,
            self._compare_additional_properties,
            self._compare_pattern_properties,
            self._compare_property_names,
            self._compare_items,
            self._compare_contains,
            self._compare_branches,
        ]

    def _compare_unknown_keywords(
        self, old: Mapping[str, Any], new: Mapping[str, Any], path: str, handled: set[str]
    ) -> None:
        for keyword in sorted((set(old) | set(new)) - ANNOTATIONS - handled):
            if not self._identical({keyword: old.get(keyword)}, {keyword: new.get(keyword)}):
                self._note(
                    K.UNDECIDABLE_CHANGE,
                    child_pointer(path, keyword),
                    f"'{keyword}' changed and its effect cannot be decided",
                )

    def _compare_reference(
        self, old: Mapping[str, Any], new: Mapping[str, Any], path: str
    ) -> set[str]:
        """A `$ref` with constraints beside it: compatible only if it reaches the same."""
        if "$ref" not in old and "$ref" not in new:
            return set()
        if not self._identical({"$ref": old.get("$ref")}, {"$ref": new.get("$ref")}):
            self._note(
                K.UNDECIDABLE_CHANGE,
                child_pointer(path, "$ref"),
                f"reference changed from {old.get('$ref')!r} to {new.get('$ref')!r}",
            )
        return {"$ref"}

    # -- type and values -----------------------------------------------------------------

    def _compare_type(self, old: Mapping[str, Any], new: Mapping[str, Any], path: str) -> set[str]:
        old_types, new_types = _types(old.get("type")), _types(new.get("type"))
        if old_types == new_types:
            return {"type"}
        where = child_pointer(path, "type")
        described = f"type {sorted(old_types)} -> {sorted(new_types)}"
        if all(_type_covered(kind, new_types) for kind in old_types):
            self._note(K.TYPE_EXTENDED, where, described)
        elif all(_type_covered(kind, old_types) for kind in new_types):
            self._note(K.TYPE_NARROWED, where, described)
        else:
            self._note(K.TYPE_CHANGED, where, described)
        return {"type"}

    def _compare_allowed_values(
        self, old: Mapping[str, Any], new: Mapping[str, Any], path: str
    ) -> set[str]:
        old_values, new_values = _allowed_values(old), _allowed_values(new)
        where = child_pointer(path, "enum" if "enum" in new or "enum" in old else "const")
        if old_values == new_values:
            return {"enum", "const"}
        if old_values is None:
            self._note(K.ENUM_ADDED, where, "values are now restricted to a list")
        elif new_values is None:
            self._note(K.ENUM_REMOVED, where, "values are no longer restricted to a list")
        elif old_values <= new_values:
            self._note(K.ENUM_ARRAY_EXTENDED, where, f"added {sorted(new_values - old_values)}")
        elif new_values <= old_values:
            self._note(K.ENUM_ARRAY_NARROWED, where, f"removed {sorted(old_values - new_values)}")
        else:
            self._note(K.ENUM_ARRAY_CHANGED, where, "values were both added and removed")
        return {"enum", "const"}

    def _compare_bounds(
        self, old: Mapping[str, Any], new: Mapping[str, Any], path: str
    ) -> set[str]:
        for keyword, stem in (LOWER_BOUNDS | UPPER_BOUNDS).items():
            before, after = old.get(keyword), new.get(keyword)
            if before == after:
                continue
            where = child_pointer(path, keyword)
            if before is None or after is None:
                change = "ADDED" if before is None else "REMOVED"
            elif _is_number(before) and _is_number(after):
                change = "INCREASED" if after > before else "DECREASED"
            else:
                self._note(K.UNDECIDABLE_CHANGE, where, f"'{keyword}' is not a number")
                continue
            self._note(DifferenceKind[f"{stem}_{change}"], where, f"{keyword} {before} -> {after}")
        return set(LOWER_BOUNDS) | set(UPPER_BOUNDS)

    def _compare_multiple_of(
        self, old: Mapping[str, Any], new: Mapping[str, Any], path: str
    ) -> set[str]:
        before, after = old.get("multipleOf"), new.get("multipleOf")
        if before == after:
            return {"multipleOf"}
        where = child_pointer(path, "multipleOf")
        detail = f"multipleOf {before} -> {after}"
        if before is None:
            self._note(K.MULTIPLE_OF_ADDED, where, detail)
        elif after is None:
            self._note(K.MULTIPLE_OF_REMOVED, where, detail)
        elif _divides(after, before):
            self._note(K.MULTIPLE_OF_REDUCED, where, detail)
        elif _divides(before, after):
            self._note(K.MULTIPLE_OF_EXPANDED, where, detail)
        else:
            self._note(K.MULTIPLE_OF_CHANGED, where, detail)
        return {"multipleOf"}

    def _compare_presence_rules(
        self, old: Mapping[str, Any], new: Mapping[str, Any], path: str
    ) -> set[str]:
        """`pattern` and `format`: any new or different one may refuse accepted strings."""
        for keyword, stem in PRESENCE_RULES.items():
            before, after = old.get(keyword), new.get(keyword)
            if before == after:
                continue
            change = "ADDED" if before is None else "REMOVED" if after is None else "CHANGED"
            self._note(
                DifferenceKind[f"{stem}_{change}"],
                child_pointer(path, keyword),
                f"{before!r} -> {after!r}",
            )
        return set(PRESENCE_RULES)

    def _compare_unique_items(
        self, old: Mapping[str, Any], new: Mapping[str, Any], path: str
    ) -> set[str]:
        before, after = bool(old.get("uniqueItems")), bool(new.get("uniqueItems"))
        if before != after:
            kind = K.UNIQUE_ITEMS_ADDED if after else K.UNIQUE_ITEMS_REMOVED
            self._note(kind, child_pointer(path, "uniqueItems"), f"uniqueItems {before} -> {after}")
        return {"uniqueItems"}

    # -- objects -------------------------------------------------------------------------

    def _compare_required(
        self, old: Mapping[str, Any], new: Mapping[str, Any], path: str
    ) -> set[str]:
        before, after = set(old.get("required", [])), set(new.get("required", []))
        where = child_pointer(path, "required")
        for name in sorted(after - before):
            self._note(K.REQUIRED_PROPERTY_ADDED, where, f"'{name}' is now required")
        for name in sorted(before - after):
            self._note(K.REQUIRED_PROPERTY_REMOVED, where, f"'{name}' is no longer required")
        return {"required"}

    def _compare_properties(
        self, old: Mapping[str, Any], new: Mapping[str, Any], path: str
    ) -> set[str]:
        before, after = old.get("properties", {}), new.get("properties", {})
        for name in sorted(set(before) | set(after)):
            where = child_pointer(path, "properties", name)
            if name in before and name in after:
                self._compare(before[name], after[name], where)
            elif name in after:
                self._property_added(old, name, after[name], where)
            else:
                self._property_removed(new, name, before[name], where)
        return {"properties"}

    def _property_added(self, old: Mapping[str, Any], name: str, declared: Any, where: str) -> None:
        model, covering = _undeclared_model(old, name)
        if model == "closed":
            self._note(K.PROPERTY_ADDED_TO_CLOSED_CONTENT_MODEL, where, f"'{name}' added")
        elif model == "open" and accepts_anything(declared):
            self._note(
                K.PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL, where, f"'{name}' added"
            )
        elif model == "open":
            self._note(
                K.PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL,
                where,
                f"'{name}' added; earlier documents may carry any value under that name",
            )
        elif model == "partial":
            self._note(K.PROPERTY_ADDED_TO_PARTIALLY_OPEN_CONTENT_MODEL, where, f"'{name}' added")
            self._compare(covering, declared, where)
        elif model == "pattern":
            self._note(K.PROPERTY_ADDED_COVERED_BY_PATTERN_PROPERTY, where, f"'{name}' added")
            self._compare(covering, declared, where)
        else:
            self._note(K.UNDECIDABLE_CHANGE, where, f"'{name}' matches several patterns")

    def _property_removed(
        self, new: Mapping[str, Any], name: str, declared: Any, where: str
    ) -> None:
        model, covering = _undeclared_model(new, name)
        if model == "closed":
            if not accepts_nothing(declared):
                self._note(
                    K.PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL,
                    where,
                    f"'{name}' removed; documents carrying it are now refused",
                )
        elif model == "open":
            self._note(K.PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL, where, f"'{name}' removed")
        elif model == "partial":
            self._note(
                K.PROPERTY_REMOVED_FROM_PARTIALLY_OPEN_CONTENT_MODEL, where, f"'{name}' removed"
            )
            self._compare(declared, covering, where)
        elif model == "pattern":
            self._note(K.PROPERTY_REMOVED_COVERED_BY_PATTERN_PROPERTY, where, f"'{name}' removed")
            self._compare(declared, covering, where)
        else:
            self._note(K.UNDECIDABLE_CHANGE, where, f"'{name}' matches several patterns")

    def _compare_additional_properties(
        self, old: Mapping[str, Any], new: Mapping[str, Any], path: str
    ) -> set[str]:
        before = old.get("additionalProperties", True)
        after = new.get("additionalProperties", True)
        where = child_pointer(path, "additionalProperties")
        if self._identical(before, after):
            return {"additionalProperties"}
        before_model, after_model = _openness(before), _openness(after)
        if before_model == "closed" and after_model != "closed":
            self._note(K.ADDITIONAL_PROPERTIES_ADDED, where, "undeclared properties now allowed")
        elif after_model == "closed" and before_model != "closed":
            self._note(K.ADDITIONAL_PROPERTIES_REMOVED, where, "undeclared properties now refused")
        elif before_model == "open" and after_model == "partial":
            self._note(K.ADDITIONAL_PROPERTIES_NARROWED, where, "undeclared properties now checked")
        elif before_model == "partial" and after_model == "open":
            self._note(K.ADDITIONAL_PROPERTIES_EXTENDED, where, "undeclared properties unchecked")
        elif before_model == after_model == "partial":
            self._compare(before, after, where)
        return {"additionalProperties"}

    def _compare_pattern_properties(
        self, old: Mapping[str, Any], new: Mapping[str, Any], path: str
    ) -> set[str]:
        before, after = old.get("patternProperties", {}), new.get("patternProperties", {})
        for pattern in sorted(set(before) | set(after)):
            where = child_pointer(path, "patternProperties", pattern)
            if pattern in before and pattern in after:
                self._compare(before[pattern], after[pattern], where)
            else:
                self._note(K.UNDECIDABLE_CHANGE, where, f"pattern property {pattern!r} changed")
        return {"patternProperties"}

    def _compare_property_names(
        self, old: Mapping[str, Any], new: Mapping[str, Any], path: str
    ) -> set[str]:
        if "propertyNames" in old or "propertyNames" in new:
            self._compare(
                old.get("propertyNames", True),
                new.get("propertyNames", True),
                child_pointer(path, "propertyNames"),
            )
        return {"propertyNames"}

    # -- arrays and composition ----------------------------------------------------------

    def _compare_items(self, old: Mapping[str, Any], new: Mapping[str, Any], path: str) -> set[str]:
        before_rest, after_rest = old.get("items", True), new.get("items", True)
        before, after = old.get("prefixItems", []), new.get("prefixItems", [])
        for index in range(max(len(before), len(after))):
            where = child_pointer(path, "prefixItems", index)
            if index < len(before) and index < len(after):
                self._compare(before[index], after[index], where)
            elif index < len(after):
                self._note(K.PREFIX_ITEM_ADDED, where, f"position {index} now has its own schema")
                self._compare(before_rest, after[index], where)
            else:
                self._note(K.PREFIX_ITEM_REMOVED, where, f"position {index} follows 'items' now")
                self._compare(before[index], after_rest, where)
        if "items" in old or "items" in new:
            self._compare(before_rest, after_rest, child_pointer(path, "items"))
        return {"items", "prefixItems"}

    def _compare_contains(
        self, old: Mapping[str, Any], new: Mapping[str, Any], path: str
    ) -> set[str]:
        where = child_pointer(path, "contains")
        if "contains" in old and "contains" in new:
            self._compare(old["contains"], new["contains"], where)
        elif "contains" in new:
            self._note(K.CONTAINS_ADDED, where, "arrays must now contain a matching item")
        elif "contains" in old:
            self._note(K.CONTAINS_REMOVED, where, "arrays need no longer contain a matching item")
        return {"contains"}

    def _compare_branches(
        self, old: Mapping[str, Any], new: Mapping[str, Any], path: str
    ) -> set[str]:
        """allOf/anyOf with the same number of branches: each branch may only widen."""
        for keyword in ("allOf", "anyOf"):
            before, after = old.get(keyword), new.get(keyword)
            where = child_pointer(path, keyword)
            if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
                for index, (branch_before, branch_after) in enumerate(
                    zip(before, after, strict=True)
                ):
                    self._compare(branch_before, branch_after, child_pointer(where, index))
            elif not self._identical({keyword: before}, {keyword: after}):
                self._note(K.UNDECIDABLE_CHANGE, where, f"'{keyword}' branches added or removed")
        return {"allOf", "anyOf"}


def _types(declared: Any) -> frozenset[str]:
    if declared is None:
        return JSON_TYPES - {"integer"}
    kinds = frozenset([declared] if isinstance(declared, str) else declared)
    # "number" already accepts every integer; keeping both would make equal sets differ.
    return kinds - {"integer"} if "number" in kinds else kinds


def _type_covered(kind: str, types: frozenset[str]) -> bool:
    return kind in types or (kind == "integer" and "number" in types)


def _allowed_values(schema: Mapping[str, Any]) -> frozenset[str] | None:
    allowed: frozenset[str] | None = None
    if isinstance(schema.get("enum"), list):
        allowed = frozenset(canonical(value) for value in schema["enum"])
    if "const" in schema:
        constant = frozenset([canonical(schema["const"])])
        allowed = constant if allowed is None else allowed & constant
    return allowed


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _divides(divisor: Any, multiple: Any) -> bool:
    try:
        return Decimal(str(multiple)) % Decimal(str(divisor)) == 0
    except (InvalidOperation, ArithmeticError):
        return False


def _openness(schema: Any) -> str:
    if accepts_nothing(schema):
        return "closed"
    return "open" if accepts_anything(schema) else "partial"


def _undeclared_model(schema: Mapping[str, Any], name: str) -> tuple[str, Any]:
    """How `schema` treats a property `name` it does not declare, and the schema it
    applies: 'closed', 'open', 'partial' (additionalProperties), 'pattern', 'ambiguous'."""
    patterns = schema.get("patternProperties", {})
    try:
        matching = [pattern for pattern in patterns if pattern_matches(pattern, name)]
    except PatternNotSupportedError:
        return "ambiguous", None
    if len(matching) > 1:
        return "ambiguous", None
    if matching:
        return "pattern", patterns[matching[0]]
    additional = schema.get("additionalProperties", True)
    return _openness(additional), additional
