"""Plain values of the schema registry the repositories return: frozen snapshots of rows."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

Sensitivity = Literal["public", "internal", "confidential", "secret"]
Compatibility = Literal[
    "NONE",
    "BACKWARD",
    "BACKWARD_TRANSITIVE",
    "FORWARD",
    "FORWARD_TRANSITIVE",
    "FULL",
    "FULL_TRANSITIVE",
]


@dataclass(frozen=True)
class SubjectDraft:
    """A subject's catalogue entry before it is stored (see `SubjectRow`)."""

    name: str
    owner: str
    title: str
    description: str
    sensitivity: Sensitivity
    key_field: str
    compatibility: Compatibility
    retention_days: int | None
    topic: str


@dataclass(frozen=True, kw_only=True)
class SubjectRow(SubjectDraft):
    """A stored subject: `name` is `<owner>.<name>`, `topic` the transport topic it uses."""

    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class SchemaVersionRow:
    """One schema version of a subject, numbered 1, 2, 3, ... within the subject.

    `schema` is the RFC 8785 canonical JSON text and `fingerprint` the SHA-256 (hex) of its
    UTF-8 bytes; a version with `deprecated_at` set no longer accepts new records.
    """

    subject: str
    version: int
    schema: str
    fingerprint: str
    registered_by: str
    created_at: datetime
    deprecated_at: datetime | None

    @property
    def is_active(self) -> bool:
        """Whether new records may still be published with this version."""
        return self.deprecated_at is None

    @property
    def document(self) -> Any:
        """The schema as a JSON value (parsed from its canonical text)."""
        return json.loads(self.schema)


@dataclass(frozen=True)
class SubjectFilters:
    """Which subjects a catalogue query returns; unset fields do not filter.

    `text` matches, case-insensitively, anywhere in the name, title or description.
    """

    owner: str | None = None
    sensitivity: Sensitivity | None = None
    text: str | None = None
