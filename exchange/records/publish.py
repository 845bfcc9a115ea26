"""Publishing: a department's batch of records becomes signed envelopes on its subject's
topic, all of them or none.

The batch is validated whole before anything is produced; the producer waits for the
transport to acknowledge every record (acks=all). A transport failure surfaces as a 503-kind
error, and the caller may retry with the same `Idempotency-Key`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from exchange.errors import ExchangeError, Forbidden, ValidationFailed
from exchange.records.envelope import (
    SignedEnvelope,
    sign_envelope,
    timestamp,
    to_message,
    topic_for,
)
from exchange.records.idempotency import Intent
from exchange.registry.validation import ValidationIssue
from exchange.signing.hub_signer import HubSigner
from exchange.transport import Producer

MAX_KEY_LENGTH = 256


class PayloadValidator(Protocol):
    """Checks one payload against a schema version and lists every problem."""

    def errors_for(self, payload: Any) -> list[ValidationIssue]: ...


@dataclass(frozen=True)
class PublishingTerms:
    """What one publish needs from the registry, read together: the subject's owner and key
    field, and the schema version to validate against, or why that version may not be used
    (kept, not raised, so that the caller refuses a non-owner first)."""

    owner: str
    key_field: str | None
    version: int | None
    version_refused: ExchangeError | None = None

    def publishable_version(self) -> int:
        """The version to validate against; raises the refusal when there is none."""
        if self.version_refused is not None:
            raise self.version_refused
        assert self.version is not None  # a version is only missing with a refusal
        return self.version


class PublishingCatalogue(Protocol):
    """What publishing needs from the registry."""

    def terms_for(self, subject: str, version: int | None) -> PublishingTerms:
        """The terms of publishing to `subject` with `version` (None: the latest active),
        read afresh; raises NotFound for an unknown subject."""
        ...

    def validator_for(self, subject: str, version: int) -> PayloadValidator:
        """A compiled validator for that version."""
        ...


@dataclass(frozen=True)
class RecordToPublish:
    """One record of a batch: its key (optional when the subject names a key field)."""

    payload: Any
    key: str | None = None


@dataclass(frozen=True)
class PublishedRecord:
    """Where an accepted record landed."""

    record_id: str
    key: str
    partition: int
    offset: int


class NotSubjectOwner(Forbidden):
    type_slug = "not-subject-owner"
    title = "Only the subject's owner may publish"


class BatchInvalid(ValidationFailed):
    """At least one record is invalid, so none was published; `errors` lists each by index."""

    type_slug = "batch-invalid"
    title = "Batch refused: some records are invalid"


class Publisher:
    """The publish use case, over the registry, the hub's signer and a producer."""

    def __init__(
        self, catalogue: PublishingCatalogue, signer: HubSigner, producer: Producer
    ) -> None:
        self._catalogue = catalogue
        self._signer = signer
        self._producer = producer

    def publish(
        self,
        department: str,
        subject: str,
        records: Sequence[RecordToPublish],
        *,
        schema_version: int | None = None,
        produced_at: datetime | None = None,
        intent: Intent | None = None,
    ) -> tuple[int, list[PublishedRecord]]:
        """Validate the whole batch, sign each record and produce all of them; return the
        schema version used and where each record landed, in the batch's order. With an
        `intent`, the envelopes are recorded before producing, or repeated from the first
        attempt."""
        terms = self._catalogue.terms_for(subject, schema_version)
        if terms.owner != department:
            raise NotSubjectOwner(f"{department!r} does not own {subject!r}")
        version = terms.publishable_version()
        keys = self._validate(subject, version, terms.key_field, records)
        envelopes: list[dict[str, Any]]
        if intent is not None and intent.previous is not None:
            # A retry of an attempt that may have produced: repeat it exactly (same record
            # ids), so consumers deduplicate anything the first attempt did write.
            envelopes = list(intent.previous)
            messages = [to_message(envelope) for envelope in envelopes]
        else:
            signed = self._envelopes(
                department, subject, version, keys=keys, records=records, produced_at=produced_at
            )
            envelopes = [one.envelope for one in signed]
            messages = [one.message for one in signed]
            if intent is not None:
                intent.record(envelopes)
        acknowledged = self._producer.produce(topic_for(subject), messages)
        return version, [
            PublishedRecord(envelope["record_id"], envelope["key"], ack.partition, ack.offset)
            for envelope, ack in zip(envelopes, acknowledged, strict=True)
        ]

    def _envelopes(
        self,
        department: str,
        subject: str,
        version: int,
        *,
        keys: list[str],
        records: Sequence[RecordToPublish],
        produced_at: datetime | None,
    ) -> list[SignedEnvelope]:
        # One batch, one moment: the times are formatted once, not once per record.
        accepted_at = timestamp(datetime.now(UTC))
        produced = accepted_at if produced_at is None else timestamp(produced_at)
        return [
            sign_envelope(
                self._signer,
                subject=subject,
                schema_version=version,
                producer=department,
                key=key,
                payload=record.payload,
                produced_at=produced,
                accepted_at=accepted_at,
            )
            for key, record in zip(keys, records, strict=True)
        ]

    def _validate(
        self,
        subject: str,
        version: int,
        key_field: str | None,
        records: Sequence[RecordToPublish],
    ) -> list[str]:
        validator = self._catalogue.validator_for(subject, version)
        keys: list[str] = []
        failures: list[dict[str, Any]] = []
        for index, record in enumerate(records):
            issues = [
                {"path": issue.path, "message": issue.message}
                for issue in validator.errors_for(record.payload)
            ]
            key = _key_of(record, key_field, issues)
            keys.append(key or "")
            if issues:
                failures.append({"index": index, "errors": issues})
        if failures:
            raise BatchInvalid(
                f"{len(failures)} of {len(records)} records are invalid; nothing was published",
                errors=failures,
            )
        return keys


def _key_of(
    record: RecordToPublish, key_field: str | None, issues: list[dict[str, Any]]
) -> str | None:
    """The record key: given, or read from the payload's key field; must agree when both."""
    from_payload = _value_at(record.payload, key_field) if key_field else None
    key = record.key if record.key is not None else from_payload
    if key is None:
        issues.append(
            {"path": "/key", "message": "a record key is required (no key field holds one)"}
        )
    elif not key or len(key) > MAX_KEY_LENGTH:
        issues.append(
            {"path": "/key", "message": f"a record key has 1 to {MAX_KEY_LENGTH} characters"}
        )
    elif from_payload is not None and key != from_payload:
        issues.append(
            {
                "path": "/key",
                "message": f"key {key!r} differs from the payload's {key_field} {from_payload!r}",
            }
        )
    return key


def _value_at(payload: Any, dotted_path: str) -> str | None:
    """The value at a key field's dotted path (`insured_person.citizen_id`), if present."""
    value = payload
    for step in dotted_path.split("."):
        if not isinstance(value, dict) or step not in value:
            return None
        value = value[step]
    return None if isinstance(value, dict | list) or value is None else str(value)
