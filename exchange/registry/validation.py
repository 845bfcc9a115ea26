"""Validating records against a subject's schema version: compiled once, never reaching out.

A `RecordValidator` compiles one schema with every `pattern` run by RE2 (linear time),
`multipleOf` computed in decimal (so 0.07 is a multiple of 0.01), and a
reference registry that holds the document itself plus the registered subject versions it
names; any other URI is refused instead of fetched. `ValidatorCache` keeps recently used
validators per (subject, version): versions are immutable, so entries never go stale.
"""

from __future__ import annotations

import decimal
import itertools
import math
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import referencing
import referencing.exceptions
from jsonschema import Draft202012Validator, FormatChecker, ValidationError
from jsonschema.protocols import Validator
from jsonschema.validators import extend
from referencing.jsonschema import DRAFT202012

from exchange.registry.errors import RecordInvalid, RemoteReferenceRefused, UnknownSubjectReference
from exchange.registry.patterns import PatternNotSupportedError, compile_pattern, pattern_matches
from exchange.registry.references import LoadSchema, parse_subject_reference
from exchange.registry.schema_walk import child_pointer, subschemas

DEFAULT_MAX_ISSUES = 100
_MAX_MESSAGE_CHARS = 300
_REFERENCE_KEYWORDS = ("$ref", "$dynamicRef")
_DECIMAL_DIGITS = 100


@dataclass(frozen=True, order=True)
class ValidationIssue:
    """One way a record fails its schema: where (JSON Pointer in the record) and why."""

    path: str
    message: str


def _pattern(
    validator: Validator, pattern: str, instance: Any, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and not pattern_matches(pattern, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(
    validator: Any,  # a jsonschema validator instance; the `Validator` protocol lacks descend
    pattern_properties: Mapping[str, Any],
    instance: Any,
    schema: Mapping[str, Any],
) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in pattern_properties.items():
        for name, value in instance.items():
            if pattern_matches(pattern, name):
                yield from validator.descend(value, subschema, path=name, schema_path=pattern)


def _multiple_of(
    validator: Validator, divisor: float, instance: Any, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    # jsonschema divides binary floats, so 0.07 is "not a multiple of 0.01"; amounts of
    # money are exactly such values. Decimal arithmetic on the JSON text is exact.
    if validator.is_type(instance, "number") and not _is_multiple(instance, divisor):
        yield ValidationError(f"{instance!r} is not a multiple of {divisor}")


def _is_multiple(value: float, divisor: float) -> bool:
    try:
        with decimal.localcontext(prec=_DECIMAL_DIGITS):
            return Decimal(str(value)) % Decimal(str(divisor)) == 0
    except decimal.InvalidOperation:
        # The quotient has more digits than the context holds: compare as floats.
        quotient = value / divisor
        return math.isfinite(quotient) and float(quotient).is_integer()


def _is_linear_time_pattern(instance: object) -> bool:
    if isinstance(instance, str):
        compile_pattern(instance)
    return True


def _record_format_checker() -> FormatChecker:
    checker = FormatChecker(formats=Draft202012Validator.FORMAT_CHECKER.checkers)
    checker.checks("regex", raises=PatternNotSupportedError)(_is_linear_time_pattern)
    return checker


_LinearTimeValidator = extend(  # type: ignore[no-untyped-call]
    Draft202012Validator,
    validators={
        "pattern": _pattern,
        "patternProperties": _pattern_properties,
        "multipleOf": _multiple_of,
    },
)
_FORMAT_CHECKER = _record_format_checker()


def _refuse_retrieval(uri: str) -> referencing.Resource[Any]:
    raise RemoteReferenceRefused(f"the hub never fetches {uri!r}")


class RecordValidator:
    """One schema version, compiled once, checking records against it."""

    def __init__(
        self,
        schema: Mapping[str, Any] | bool,
        *,
        load_schema: LoadSchema | None = None,
        max_issues: int = DEFAULT_MAX_ISSUES,
    ) -> None:
        """`load_schema` resolves `exchange:<subject>/versions/<n>` references, once, here."""
        registry = _reference_registry(schema, load_schema)
        self._validator = _LinearTimeValidator(
            schema, registry=registry, format_checker=_FORMAT_CHECKER
        )
        self._max_issues = max_issues

    def errors_for(self, payload: Any) -> list[ValidationIssue]:
        """Every way `payload` fails the schema (at most `max_issues`), sorted by path."""
        try:
            found = itertools.islice(self._validator.iter_errors(payload), self._max_issues)
            return sorted(_issue(error) for error in found)
        except referencing.exceptions.Unresolvable as error:
            raise RemoteReferenceRefused(f"unresolvable reference: {error}") from error

    def validate(self, payload: Any) -> None:
        """Raise `RecordInvalid` listing every issue if `payload` fails the schema."""
        issues = self.errors_for(payload)
        if issues:
            raise RecordInvalid(
                f"{len(issues)} issue(s), first at {issues[0].path!r}: {issues[0].message}",
                errors=[{"path": issue.path, "message": issue.message} for issue in issues],
            )


def _issue(error: ValidationError) -> ValidationIssue:
    message = error.message
    if len(message) > _MAX_MESSAGE_CHARS:
        message = message[: _MAX_MESSAGE_CHARS - 1] + "…"
    return ValidationIssue(child_pointer("", *error.absolute_path), message)


def _reference_registry(
    schema: Mapping[str, Any] | bool, load_schema: LoadSchema | None
) -> referencing.Registry[Any]:
    registry: referencing.Registry[Any] = referencing.Registry(
        retrieve=_refuse_retrieval  # type: ignore[call-arg]  # attrs alias mypy cannot see
    )
    loaded: set[str] = set()
    pending: list[Any] = [schema]
    while pending:
        for reference in _subject_references(pending.pop()):
            if reference.uri in loaded:
                continue
            if load_schema is None:
                raise UnknownSubjectReference(f"cannot resolve {reference.uri!r} here")
            target = load_schema(reference.subject, reference.version)
            resource = DRAFT202012.create_resource(target)
            registry = registry.with_resource(reference.uri, resource)
            loaded.add(reference.uri)
            pending.append(target)
    return registry


def _subject_references(schema: Any) -> Iterator[Any]:
    for _, subschema in subschemas(schema):
        for keyword in _REFERENCE_KEYWORDS:
            reference = parse_subject_reference(str(subschema.get(keyword, "")))
            if reference is not None:
                yield reference


class ValidatorCache:
    """Compiled validators for the most recently used (subject, version) pairs."""

    def __init__(self, load_schema: LoadSchema, *, max_entries: int = 512) -> None:
        """`load_schema(subject, version)` fetches a schema from the registry's store."""
        self._load_schema = load_schema
        self._max_entries = max_entries
        self._entries: OrderedDict[tuple[str, int], RecordValidator] = OrderedDict()
        self._lock = threading.Lock()

    def validator_for(self, subject: str, version: int) -> RecordValidator:
        """The validator of `subject` version `version`, compiled on first use."""
        key = (subject, version)
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
        # Compiled outside the lock: two threads may both compile, which is harmless.
        compiled = RecordValidator(
            self._load_schema(subject, version), load_schema=self._load_schema
        )
        with self._lock:
            self._entries[key] = compiled
            self._entries.move_to_end(key)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)
        return compiled

    def __len__(self) -> int:
        return len(self._entries)
