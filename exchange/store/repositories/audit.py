"""The audit log's rows: appended once, read newest first with filters and a seq cursor."""

from __future__ import annotations

import json

from sqlalchemy import ColumnElement, func, insert, select

from exchange.store.database import Database
from exchange.store.models import AuditEntryModel
from exchange.store.records import AuditEntryDraft, AuditEntryRow, AuditFilters


class AuditRepository:
    """Append-only storage of audit entries, numbered by `seq` in the order appended."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def append(self, entry: AuditEntryDraft) -> int:
        """Stores an entry and returns the sequence number it was given."""
        values = {
            "at": entry.at,
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
            "record_ids": json.dumps(list(entry.record_ids)),
            "purpose": entry.purpose,
            "grant_id": entry.grant_id,
        }
        with self._db.session() as session:
            seq = session.scalar(
                insert(AuditEntryModel).values(values).returning(AuditEntryModel.seq)
            )
        if seq is None:
            raise RuntimeError("the database returned no sequence number for the audit entry")
        return int(seq)

    def query(
        self, filters: AuditFilters, before_seq: int | None = None, limit: int = 100
    ) -> list[AuditEntryRow]:
        """Entries matching `filters`, newest first, at most `limit`, all older than the
        cursor `before_seq` when given (pass the last `seq` of a page to get the next)."""
        conditions = _conditions(filters)
        if before_seq is not None:
            conditions.append(AuditEntryModel.seq < before_seq)
        query = (
            select(AuditEntryModel)
            .where(*conditions)
            .order_by(AuditEntryModel.seq.desc())
            .limit(limit)
        )
        with self._db.session() as session:
            return [_entry(row) for row in session.scalars(query)]

    def scan(self, after_seq: int = 0, limit: int = 1000) -> list[AuditEntryRow]:
        """Entries in log order (oldest first) with `seq` greater than `after_seq`: for
        building the Merkle tree, verifying and exporting."""
        query = (
            select(AuditEntryModel)
            .where(AuditEntryModel.seq > after_seq)
            .order_by(AuditEntryModel.seq)
            .limit(limit)
        )
        with self._db.session() as session:
            return [_entry(row) for row in session.scalars(query)]

    def count(self) -> int:
        """How many entries the log holds."""
        with self._db.session() as session:
            return session.scalar(select(func.count()).select_from(AuditEntryModel)) or 0


def _conditions(filters: AuditFilters) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    for column, value in (
        (AuditEntryModel.actor, filters.actor),
        (AuditEntryModel.subject, filters.subject),
        (AuditEntryModel.action, filters.action),
        (AuditEntryModel.decision, filters.decision),
    ):
        if value is not None:
            conditions.append(column == value)
    if filters.record_id is not None:
        # record_ids is a JSON array as text: a quoted id matches one whole element.
        conditions.append(
            AuditEntryModel.record_ids.contains(json.dumps(filters.record_id), autoescape=True)
        )
    if filters.since is not None:
        conditions.append(AuditEntryModel.at >= filters.since)
    if filters.until is not None:
        conditions.append(AuditEntryModel.at < filters.until)
    return conditions


def _entry(row: AuditEntryModel) -> AuditEntryRow:
    return AuditEntryRow(
        seq=row.seq,
        at=row.at,
        actor=row.actor,
        actor_role=row.actor_role,
        key_id=row.key_id,
        action=row.action,
        resource=row.resource,
        subject=row.subject,
        decision=row.decision,
        reason=row.reason,
        status=row.status,
        request_id=row.request_id,
        request_digest=row.request_digest,
        record_ids=tuple(json.loads(row.record_ids)),
        purpose=row.purpose,
        grant_id=row.grant_id,
    )
