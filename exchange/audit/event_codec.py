"""Audit events as messages on the `exchange.audit` topic: JSON with a unique `event_id`.

The id lets the one audit writer store every event exactly once, even when a message is
delivered twice (a producer retry, a writer restarted before committing its offset).
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from dataclasses import dataclass
from typing import Any

from exchange.audit.events import AuditEvent
from exchange.audit.leaf import parse_rfc3339, rfc3339
from exchange.errors import ExchangeError
from exchange.store.records import AuditEntryDraft

_DECISIONS = ("allow", "deny", "error")


class MalformedAuditMessage(ExchangeError):
    """A message on the audit topic is not an audit event this hub can read."""

    status = 500
    type_slug = "malformed-audit-message"
    title = "Malformed audit message"


@dataclass(frozen=True)
class ReceivedEvent:
    """An event read back from the topic, ready to be sequenced."""

    event_id: str
    entry: AuditEntryDraft


def new_event_id() -> str:
    """A fresh random event id (UUID4 text)."""
    return str(uuid.uuid4())


def encode_event(event: AuditEvent, event_id: str) -> bytes:
    """The message value for `event`: UTF-8 JSON of its fields plus `event_id`."""
    # Shallow: `asdict` would deep-copy every member, 1,000 record ids for a full batch.
    fields = {field.name: getattr(event, field.name) for field in dataclasses.fields(event)}
    fields["at"] = rfc3339(event.at)
    fields["record_ids"] = list(event.record_ids)
    return json.dumps({"event_id": event_id, **fields}, ensure_ascii=False).encode("utf-8")


def decode_event(value: bytes) -> ReceivedEvent:
    """Read a message value written by `encode_event`; raises `MalformedAuditMessage`."""
    try:
        document = json.loads(value.decode("utf-8"))
        return ReceivedEvent(_event_id(document), _draft(document))
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        raise MalformedAuditMessage(f"unreadable audit message: {error}") from error


def _event_id(document: dict[str, Any]) -> str:
    return str(uuid.UUID(document["event_id"]))


def _draft(document: dict[str, Any]) -> AuditEntryDraft:
    if document["decision"] not in _DECISIONS:
        raise ValueError(f"unknown decision {document['decision']!r}")
    names = {field.name for field in dataclasses.fields(AuditEntryDraft)}
    values: dict[str, Any] = {name: document.get(name) for name in names}
    values["at"] = parse_rfc3339(document["at"])
    values["record_ids"] = tuple(str(item) for item in document.get("record_ids") or ())
    for required in ("actor", "action"):
        if not isinstance(values[required], str):
            raise ValueError(f"member {required!r} must be a string")
    return AuditEntryDraft(**values)
