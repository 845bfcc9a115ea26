"""The audit log's rows: appended once, read newest first with filters and a seq cursor,
and read in log order with their Merkle leaves for building and verifying the tree."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Collection, Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, String, and_, func, insert, or_, select
from sqlalchemy.exc import IntegrityError

from exchange.errors import Conflict
from exchange.store.database import Database
from exchange.store.models import AuditEntryModel
from exchange.store.models_audit import AuditLeafModel, AuditRecordIdModel
from exchange.store.models_registry import SubjectModel
from exchange.store.records import AuditEntryDraft, AuditEntryRow, AuditFilters
from exchange.store.records_audit import AuditSearch, SequencedEntry, StoredLeaf

CLIPPED_MARK = "…"
NUL_MARK = "\ufffd"
_RECORD_ID_LENGTH = 255


class SequenceConflict(Conflict):
    """Another writer stored an entry at one of these sequence numbers (or one of these
    event ids) first; the caller must reload the log's state before writing again."""

    type_slug = "audit-sequence-conflict"
    title = "Audit sequence conflict"


class AuditRepository:
    """Append-only storage of audit entries, numbered by `seq` in the order appended."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def append(self, entry: AuditEntryDraft) -> int:
        """Stores an entry and returns the sequence number the database gave it.

        Only for a log without a Merkle tree: the audit writer uses `append_sequenced`.
        """
        with self._db.session() as session:
            seq = session.scalar(
                insert(AuditEntryModel).values(_values(entry)).returning(AuditEntryModel.seq)
            )
            if seq is None:
                raise RuntimeError("the database returned no sequence number for the audit entry")
            record_ids = _record_id_rows(int(seq), entry)
            if record_ids:
                session.execute(insert(AuditRecordIdModel), record_ids)
        return int(seq)

    def append_sequenced(self, entries: Sequence[SequencedEntry]) -> None:
        """Stores entries at the sequence numbers the writer chose, with their leaves, in one
        transaction. Raises `SequenceConflict` when a seq or an event id is already taken."""
        if not entries:
            return
        record_ids = [row for item in entries for row in _record_id_rows(item.seq, item.entry)]
        try:
            with self._db.session() as session:
                session.execute(
                    insert(AuditEntryModel),
                    [{**_values(item.entry), "seq": item.seq} for item in entries],
                )
                session.execute(
                    insert(AuditLeafModel),
                    [
                        {"seq": item.seq, "event_id": item.event_id, "leaf_hash": item.leaf_hash}
                        for item in entries
                    ],
                )
                if record_ids:
                    session.execute(insert(AuditRecordIdModel), record_ids)
        except IntegrityError as error:
            raise SequenceConflict(
                f"audit entries {entries[0].seq}..{entries[-1].seq} collide with stored ones"
            ) from error

    def known_event_ids(self, event_ids: Collection[str]) -> set[str]:
        """Which of `event_ids` are already in the log."""
        if not event_ids:
            return set()
        query = select(AuditLeafModel.event_id).where(AuditLeafModel.event_id.in_(event_ids))
        with self._db.session() as session:
            return set(session.scalars(query))

    def has_event(self, event_id: str) -> bool:
        """Whether the event with this id is in the log."""
        return bool(self.known_event_ids([event_id]))

    def tree_size(self) -> int:
        """How many leaves the Merkle tree has: the highest `seq` the writer stored."""
        with self._db.session() as session:
            return int(session.scalar(select(func.max(AuditLeafModel.seq))) or 0)

    def leaf_hashes_after(self, after_seq: int, limit: int = 10_000) -> list[tuple[int, bytes]]:
        """Stored `(seq, leaf hash)` pairs with `seq > after_seq`, in order."""
        query = (
            select(AuditLeafModel.seq, AuditLeafModel.leaf_hash)
            .where(AuditLeafModel.seq > after_seq)
            .order_by(AuditLeafModel.seq)
            .limit(limit)
        )
        with self._db.session() as session:
            return [(int(seq), bytes(leaf)) for seq, leaf in session.execute(query)]

    def leaf_hashes(self, tree_size: int, chunk: int = 50_000) -> list[bytes]:
        """The stored leaf hashes of seq 1..`tree_size`, in order, read in chunks.

        Raises `ValueError` if the stored leaves are not exactly seq 1..`tree_size`.
        """
        hashes: list[bytes] = []
        while len(hashes) < tree_size:
            batch = self.leaf_hashes_after(len(hashes), min(chunk, tree_size - len(hashes)))
            if not batch:
                break
            for seq, leaf in batch:
                if seq != len(hashes) + 1:
                    raise ValueError(f"audit leaf {len(hashes) + 1} is missing")
                hashes.append(leaf)
        if len(hashes) != tree_size:
            raise ValueError(f"the log has {len(hashes)} leaves, fewer than {tree_size}")
        return hashes

    def scan_with_leaves(self, after_seq: int = 0, limit: int = 1000) -> list[StoredLeaf]:
        """Entries with `seq > after_seq` in log order, each with its stored leaf hash."""
        query = (
            select(AuditEntryModel, AuditLeafModel.leaf_hash)
            .outerjoin(AuditLeafModel, AuditLeafModel.seq == AuditEntryModel.seq)
            .where(AuditEntryModel.seq > after_seq)
            .order_by(AuditEntryModel.seq)
            .limit(limit)
        )
        with self._db.session() as session:
            return [
                StoredLeaf(_entry(row), None if leaf is None else bytes(leaf))
                for row, leaf in session.execute(query)
            ]

    def entries_naming(self, record_ids: Collection[str]) -> list[AuditEntryRow]:
        """Every entry whose `record_ids` include one of `record_ids`, oldest first."""
        if not record_ids:
            return []
        seqs = (
            select(AuditRecordIdModel.seq)
            .where(AuditRecordIdModel.record_id.in_(list(record_ids)))
            .distinct()
        )
        query = select(AuditEntryModel).where(AuditEntryModel.seq.in_(seqs))
        with self._db.session() as session:
            return [_entry(row) for row in session.scalars(query.order_by(AuditEntryModel.seq))]

    def find(self, seq: int) -> AuditEntryRow | None:
        """The entry with this `seq`, if any."""
        with self._db.session() as session:
            row = session.get(AuditEntryModel, seq)
            return None if row is None else _entry(row)

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


def fit_to_columns(entry: AuditEntryDraft) -> AuditEntryDraft:
    """Clip text longer than its column (marking the cut with `…`), so that any event a
    hub sends can be stored as is on every database and the leaf hash covers what is kept."""
    changes: dict[str, Any] = {}
    for field in dataclasses.fields(entry):
        value = getattr(entry, field.name)
        if not isinstance(value, str):
            continue
        column_type = AuditEntryModel.__table__.c[field.name].type
        length = column_type.length if isinstance(column_type, String) else None
        changes[field.name] = _clip(_storable(value), length)
    changes["record_ids"] = tuple(
        _clip(_storable(item), _RECORD_ID_LENGTH) for item in entry.record_ids
    )
    return dataclasses.replace(entry, **changes)


def _storable(value: str) -> str:
    # PostgreSQL text cannot hold NUL: an entry carrying one (a hostile path) would stop
    # the writer for good. The replacement character marks where it was.
    return value.replace("\x00", NUL_MARK)


def _clip(value: str, length: int | None) -> str:
    if length is None or len(value) <= length:
        return value
    return value[: length - len(CLIPPED_MARK)] + CLIPPED_MARK


def _values(entry: AuditEntryDraft) -> dict[str, Any]:
    return {
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


def _record_id_rows(seq: int, entry: AuditEntryDraft) -> list[dict[str, Any]]:
    return [{"record_id": record_id, "seq": seq} for record_id in _unique(entry.record_ids)]


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


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
        conditions.append(
            AuditEntryModel.seq.in_(
                select(AuditRecordIdModel.seq).where(
                    AuditRecordIdModel.record_id == filters.record_id
                )
            )
        )
    if filters.since is not None:
        conditions.append(AuditEntryModel.at >= filters.since)
    if filters.until is not None:
        conditions.append(AuditEntryModel.at < filters.until)
    if isinstance(filters, AuditSearch):
        conditions.extend(_search_conditions(filters))
    return conditions


def _search_conditions(search: AuditSearch) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if search.key_id is not None:
        conditions.append(AuditEntryModel.key_id == search.key_id)
    if search.visible_to is not None:
        owned_subjects = select(SubjectModel.name).where(SubjectModel.owner == search.visible_to)
        conditions.append(
            or_(
                and_(
                    AuditEntryModel.actor == search.visible_to,
                    AuditEntryModel.actor_role == "department",
                ),
                AuditEntryModel.subject.in_(owned_subjects),
            )
        )
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
