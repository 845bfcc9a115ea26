"""Field lists of grants: RFC 6901 JSON Pointers into a record's payload.

A grant may limit a consumer to some members of a payload. Each member is named by a JSON
Pointer; this module parses them (syntax only) and answers whether one pointer lies
within another. Parsing is delegated to the `jsonpointer` library.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from jsonpointer import JsonPointer, JsonPointerException

from exchange.errors import ValidationFailed

MAX_FIELDS = 200
MAX_POINTER_LENGTH = 1024
# RFC 6901: an array index is `0` or a number without leading zeros; `-` names nothing.
_ARRAY_INDEX = re.compile(r"0|[1-9][0-9]*")


class InvalidFieldList(ValidationFailed):
    """A grant's field list holds a malformed pointer or one the subject does not declare.

    `errors` names each offending entry as `{"fields": {"<index>": [reason]}}`, the shape
    marshmallow gives field errors, so clients read both alike.
    """

    type_slug = "grant-fields-invalid"
    title = "Invalid field list"

    def __init__(self, detail: str, problems: dict[int, str]) -> None:
        errors = {"fields": {str(index): [reason] for index, reason in problems.items()}}
        super().__init__(detail, errors=errors)
        self.problems = problems


def parse_pointer(pointer: str) -> tuple[str, ...]:
    """The unescaped reference tokens of a field pointer.

    Raises `ValueError` when it is not an RFC 6901 pointer, or is the empty pointer (the
    whole payload is granted by giving no field list, not by naming the root).
    """
    if len(pointer) > MAX_POINTER_LENGTH:
        raise ValueError(f"longer than {MAX_POINTER_LENGTH} characters")
    try:
        tokens = tuple(JsonPointer(pointer).parts)
    except JsonPointerException as error:
        raise ValueError(f"not an RFC 6901 JSON Pointer: {error}") from error
    if not tokens:
        raise ValueError("the empty pointer names the whole payload: omit `fields` instead")
    return tokens


def is_array_index(token: str) -> bool:
    """Whether a reference token can name an array element (RFC 6901 section 4)."""
    return _ARRAY_INDEX.fullmatch(token) is not None


def normalise_field_list(pointers: Sequence[str]) -> tuple[str, ...]:
    """The pointers in their given order without repeats, after checking their syntax.

    Raises `InvalidFieldList` naming every malformed entry.
    """
    if len(pointers) > MAX_FIELDS:
        raise InvalidFieldList(
            f"at most {MAX_FIELDS} fields may be granted",
            {MAX_FIELDS: f"more than {MAX_FIELDS} fields"},
        )
    problems: dict[int, str] = {}
    for index, pointer in enumerate(pointers):
        try:
            parse_pointer(pointer)
        except ValueError as error:
            problems[index] = f"{pointer!r}: {error}"
    if problems:
        raise InvalidFieldList("some field pointers are malformed: see `errors`", problems)
    return tuple(dict.fromkeys(pointers))


def lies_within(pointer: str, allowed: Iterable[str]) -> bool:
    """Whether `pointer` names one of the `allowed` places or a place inside one of them."""
    tokens = parse_pointer(pointer)
    for other in allowed:
        prefix = parse_pointer(other)
        if tokens[: len(prefix)] == prefix:
            return True
    return False
