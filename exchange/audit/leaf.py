"""What one audit entry contributes to the Merkle tree: its leaf document and leaf hash.

The leaf document is the entry as a JSON object with exactly these members, null when
unset: `seq`, `at`, `actor`, `actor_role`, `key_id`, `action`, `resource`, `subject`,
`decision`, `reason`, `status`, `request_id`, `request_digest`, `record_ids` (an array
of strings), `purpose`, `grant_id`. `at` is RFC 3339 in UTC with six fraction digits
(`2024-11-29T08:15:02.123456Z`). The leaf bytes are its RFC 8785 (JCS) form, and the leaf
hash is SHA-256(0x00 || leaf bytes) as RFC 9162 defines (docs/audit.md).

`leaf_bytes` writes that JCS form straight from the entry's fields, about twice as fast as
building the document and canonicalising it (the audit writer hashes every entry, and
`exchange audit verify` every entry of the log). It is the same text by construction:
the member names are fixed ASCII, so their JCS order is their plain sort; `json`'s string
encoder escapes exactly as JCS does; integers are written only within +-(2**53 - 1), where
JCS writes them as Python does. Anything else (an unexpected type, a larger integer, a
lone surrogate) is handed to `canonical_json(leaf_document(entry))`; tests/audit proves
both give the same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from json.encoder import encode_basestring as json_string
from operator import itemgetter
from typing import Any, Protocol

from exchange.audit.merkle import leaf_hash
from exchange.signing import canonical_json
from exchange.signing.canonical import MAX_SAFE_INTEGER

RFC3339_MICROSECONDS = "%Y-%m-%dT%H:%M:%S.%fZ"
# `isoformat` pads years below 1000 to four digits where `strftime` may not.
_FIRST_FOUR_DIGIT_YEAR = 1000
_UTC_OFFSET = "+00:00"
_NULL = "null"

LEAF_MEMBERS = (
    "seq", "at", "actor", "actor_role", "key_id", "action", "resource", "subject",
    "decision", "reason", "status", "request_id", "request_digest", "record_ids",
    "purpose", "grant_id",
)  # fmt: skip
# The members in JCS order: ASCII names, so UTF-16 order is plain string order.
_JCS_ORDER = sorted(LEAF_MEMBERS)
_LEAF_TEMPLATE = "{" + ",".join(f'"{name}":%s' for name in _JCS_ORDER) + "}"
_in_jcs_order = itemgetter(*(LEAF_MEMBERS.index(name) for name in _JCS_ORDER))


class LeafFields(Protocol):
    """The fields a leaf covers: an `AuditEntryRow`, or a row streamed for verification."""

    @property
    def seq(self) -> int: ...
    @property
    def at(self) -> datetime: ...
    @property
    def actor(self) -> str: ...
    @property
    def actor_role(self) -> str | None: ...
    @property
    def key_id(self) -> str | None: ...
    @property
    def action(self) -> str: ...
    @property
    def resource(self) -> str | None: ...
    @property
    def subject(self) -> str | None: ...
    @property
    def decision(self) -> str: ...
    @property
    def reason(self) -> str | None: ...
    @property
    def status(self) -> int | None: ...
    @property
    def request_id(self) -> str | None: ...
    @property
    def request_digest(self) -> str | None: ...
    @property
    def record_ids(self) -> Sequence[str]: ...
    @property
    def purpose(self) -> str | None: ...
    @property
    def grant_id(self) -> str | None: ...


def rfc3339(moment: datetime) -> str:
    """`moment` as RFC 3339 in UTC with microseconds: the one text form the log hashes."""
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment.isoformat()} where UTC is required")
    utc = moment.astimezone(UTC)
    if utc.year < _FIRST_FOUR_DIGIT_YEAR:
        return utc.strftime(RFC3339_MICROSECONDS)
    # The same text as the strftime above, a third cheaper (every leaf has a time).
    return utc.isoformat(timespec="microseconds").removesuffix(_UTC_OFFSET) + "Z"


def parse_rfc3339(text: str) -> datetime:
    """Read a timestamp written by `rfc3339` (or any ISO 8601 text with an offset)."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"timestamp {text!r} has no UTC offset")
    return moment.astimezone(UTC)


def leaf_document(entry: LeafFields) -> dict[str, Any]:
    """The entry as the JSON object its leaf covers (and the API serves)."""
    return {
        "seq": entry.seq,
        "at": rfc3339(entry.at),
        "actor": entry.actor,
        "actor_role": entry.actor_role,
        "key_id": entry.key_id,
        "action": entry.action,
        "resource": entry.resource,
        "subject": entry.subject,
        "decision": entry.decision,
        "reason": entry.reason,
        "status": entry.status,
        "request_id": entry.request_id,
        "request_digest": entry.request_digest,
        "record_ids": list(entry.record_ids),
        "purpose": entry.purpose,
        "grant_id": entry.grant_id,
    }


def leaf_bytes(entry: LeafFields) -> bytes:
    """JCS(leaf_document(entry)): the bytes the entry's leaf hash covers."""
    try:
        return _plain_leaf_text(entry).encode("utf-8")
    except (TypeError, ValueError):
        # Not the plain shape (UnicodeEncodeError is a ValueError): the general path.
        return canonical_json(leaf_document(entry))


def _plain_leaf_text(entry: LeafFields) -> str:
    """The leaf's JCS text for the usual field types; raises TypeError or ValueError
    (never returns other text) when a field is outside them. Written out member by member
    because it runs for every entry of the log: no helper call per field."""
    seq, status = entry.seq, entry.status
    if not (_is_safe_integer(seq) and (status is None or _is_safe_integer(status))):
        raise TypeError(f"seq {seq!r} or status {status!r} is not an integer JCS writes as is")
    members = (
        str(seq),
        '"' + rfc3339(entry.at) + '"',  # digits, '-', ':', '.', 'T', 'Z': nothing to escape
        json_string(entry.actor),
        _NULL if entry.actor_role is None else json_string(entry.actor_role),
        _NULL if entry.key_id is None else json_string(entry.key_id),
        json_string(entry.action),
        _NULL if entry.resource is None else json_string(entry.resource),
        _NULL if entry.subject is None else json_string(entry.subject),
        json_string(entry.decision),
        _NULL if entry.reason is None else json_string(entry.reason),
        _NULL if status is None else str(status),
        _NULL if entry.request_id is None else json_string(entry.request_id),
        _NULL if entry.request_digest is None else json_string(entry.request_digest),
        "[" + ",".join(map(json_string, entry.record_ids)) + "]",
        _NULL if entry.purpose is None else json_string(entry.purpose),
        _NULL if entry.grant_id is None else json_string(entry.grant_id),
    )
    text: str = _LEAF_TEMPLATE % _in_jcs_order(members)
    return text


def _is_safe_integer(value: object) -> bool:
    return type(value) is int and -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER


def leaf_hash_of_document(document: dict[str, Any]) -> bytes:
    """SHA-256(0x00 || JCS(document)): what an outside verifier computes from a served entry."""
    return leaf_hash(canonical_json(document))


def entry_leaf_hash(entry: LeafFields) -> bytes:
    """The RFC 9162 leaf hash of a stored (or about to be stored) entry."""
    return leaf_hash(leaf_bytes(entry))
