"""The audit log's rows: appended once, read newest first with filters and a seq cursor,
and read in log order with their Merkle leaves for building and verifying the tree."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Collection, Generator, Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, String, and_, case, func, insert, or_, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from exchange.errors import Conflict
from exchange.store.database import Database
from exchange.store.models import AuditEntryModel
from exchange.store.models_audit import (
    AUDIT_TIME_BLOCK_ENTRIES,
    AuditLeafModel,
    AuditRecordIdModel,
    AuditTimeBlockModel,
    AuditTreeNodeModel,
)
from exchange.store.models_registry import SubjectModel
from exchange.store.records import AuditEntryDraft, AuditEntryRow, AuditFilters
from exchange.store.records_audit import AuditSearch, SequencedEntry, StoredLeaf

_ENTRIES = AuditEntryModel.__table__
_LEAVES = AuditLeafModel.__table__
# `StoredLeaf`'s fields, in order: the entry's columns, then the stored leaf hash.
_STORED_LEAF_COLUMNS = [_ENTRIES.c[name] for name in StoredLeaf._fields[:-1]] + [
    _LEAVES.c.leaf_hash
]
EMPTY_RECORD_IDS = "[]"
CLIPPED_MARK = "…"
NUL_MARK = "\ufffd"
_RECORD_ID_LENGTH = 255
# Keys per `IN` list: well under SQLite's and PostgreSQL's limits on bound parameters.
_KEYS_PER_QUERY = 500
# (height, index) of a stored Merkle node, and its hash.
NodeKey = tuple[int, int]


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
            _widen_time_blocks(session, [(int(seq), entry.at)])
        return int(seq)

    def append_sequenced(
        self,
        entries: Sequence[SequencedEntry],
        nodes: Sequence[tuple[int, int, bytes]] = (),
    ) -> None:
        """Stores entries at the sequence numbers the writer chose, with their leaves and
        the Merkle `nodes` (height, index, hash) they complete, in one transaction. Raises
        `SequenceConflict` when a seq, an event id or a node is already taken."""
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
                if nodes:
                    session.execute(
                        insert(AuditTreeNodeModel),
                        [{"height": h, "idx": i, "hash": node} for h, i, node in nodes],
                    )
                _widen_time_blocks(session, [(item.seq, item.entry.at) for item in entries])
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

    def leaf_hash_run(self, first_seq: int, last_seq: int) -> list[bytes]:
        """The stored leaf hashes of seq `first_seq`..`last_seq` (one range scan).

        Raises `ValueError` if one of them is missing."""
        query = (
            select(AuditLeafModel.seq, AuditLeafModel.leaf_hash)
            .where(AuditLeafModel.seq.between(first_seq, last_seq))
            .order_by(AuditLeafModel.seq)
        )
        with self._db.session() as session:
            rows = session.execute(query).all()
        if [seq for seq, _ in rows] != list(range(first_seq, last_seq + 1)):
            raise ValueError(f"audit leaves {first_seq}..{last_seq} are not all stored")
        return [bytes(leaf) for _, leaf in rows]

    def tree_nodes(self, keys: Collection[NodeKey]) -> dict[NodeKey, bytes]:
        """The stored Merkle nodes among `keys` (height, index); absent ones are left out."""
        wanted = list(keys)
        found: dict[NodeKey, bytes] = {}
        columns = (AuditTreeNodeModel.height, AuditTreeNodeModel.idx)
        with self._db.session() as session:
            for start in range(0, len(wanted), _KEYS_PER_QUERY):
                chunk = wanted[start : start + _KEYS_PER_QUERY]
                query = select(*columns, AuditTreeNodeModel.hash).where(tuple_(*columns).in_(chunk))
                found.update(((h, i), bytes(node)) for h, i, node in session.execute(query))
        return found

    def all_tree_nodes(self) -> dict[NodeKey, bytes]:
        """Every stored Merkle node (about 2,000 per million entries)."""
        query = select(AuditTreeNodeModel.height, AuditTreeNodeModel.idx, AuditTreeNodeModel.hash)
        with self._db.session() as session:
            return {(h, i): bytes(node) for h, i, node in session.execute(query)}

    def record_index_rows(self, first_seq: int, last_seq: int) -> set[tuple[int, str]]:
        """The `(seq, record id)` rows of the record-id index for seq `first_seq`..`last_seq`
        (a range scan of its seq index)."""
        index = AuditRecordIdModel.__table__
        query = select(index.c.seq, index.c.record_id).where(
            index.c.seq.between(first_seq, last_seq)
        )
        with self._db.session() as session:
            return {(int(seq), str(record_id)) for seq, record_id in session.execute(query)}

    def stream_with_leaves(
        self, after_seq: int = 0, last_seq: int | None = None, batch_size: int = 10_000
    ) -> Generator[list[StoredLeaf], None, None]:
        """Entries with `after_seq < seq <= last_seq` (no upper bound when None) in log
        order, each with its stored leaf hash, in lists of `batch_size`.

        One query in one read transaction (a server-side cursor on PostgreSQL), selecting
        plain columns: the range is read once, never whole in memory, and no ORM object is
        built. Close the iterator (or exhaust it) to end the transaction.
        """
        query = (
            select(*_STORED_LEAF_COLUMNS)
            .select_from(_ENTRIES.outerjoin(_LEAVES, _LEAVES.c.seq == _ENTRIES.c.seq))
            .where(_ENTRIES.c.seq > after_seq)
            .order_by(_ENTRIES.c.seq)
        )
        if last_seq is not None:
            query = query.where(_ENTRIES.c.seq <= last_seq)
        with self._db.session() as session:
            result = session.connection().execute(
                query, execution_options={"yield_per": batch_size}
            )
            for rows in result.partitions():
                yield [_stored_leaf(row) for row in rows]

    def last_seq(self) -> int:
        """The highest `seq` of any entry (0 for an empty log)."""
        with self._db.session() as session:
            return int(session.scalar(select(func.max(AuditEntryModel.seq))) or 0)

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
        with self._db.session() as session:
            if filters.since is not None or filters.until is not None:
                window = _seq_range_of_time_window(session, filters.since, filters.until)
                if window is None:
                    return []
                lowest, highest = window
                if before_seq is not None:
                    # One upper bound, not two: SQLite would seek by only one of them.
                    highest = min(highest, before_seq - 1)
                conditions.append(AuditEntryModel.seq.between(lowest, highest))
            elif before_seq is not None:
                conditions.append(AuditEntryModel.seq < before_seq)
            query = (
                select(AuditEntryModel)
                .where(*conditions)
                .order_by(AuditEntryModel.seq.desc())
                .limit(limit)
            )
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


def _seq_range_of_time_window(
    session: Session, since: datetime | None, until: datetime | None
) -> tuple[int, int] | None:
    """The seq range of the time blocks that overlap `since <= at < until` (either end may
    be open); None when no block does, so no entry is in the window.

    Every entry of the window lies in the range (a block's span covers each of its
    entries), so adding it to the page query changes no answer, while the page becomes a
    walk of the primary key from the range's top: it neither starts at the newest entry
    of the log nor sorts every entry of the window. One row per thousand entries is read.
    """
    blocks = AuditTimeBlockModel
    conditions: list[ColumnElement[bool]] = []
    if since is not None:
        conditions.append(blocks.latest_at >= since)
    if until is not None:
        conditions.append(blocks.earliest_at < until)
    query = select(func.min(blocks.block), func.max(blocks.block)).where(*conditions)
    first, last = session.execute(query).one()
    if first is None:
        return None
    return int(first) * AUDIT_TIME_BLOCK_ENTRIES + 1, (int(last) + 1) * AUDIT_TIME_BLOCK_ENTRIES


def _widen_time_blocks(session: Session, seqs_and_times: Iterable[tuple[int, datetime]]) -> None:
    """Widen the time span of the blocks of these new entries to cover their `at`, in the
    caller's transaction (an insert, or an update that only ever widens: concurrent
    appends to one block commute)."""
    spans: dict[int, tuple[datetime, datetime]] = {}
    for seq, at in seqs_and_times:
        block = (seq - 1) // AUDIT_TIME_BLOCK_ENTRIES
        earliest, latest = spans.get(block, (at, at))
        spans[block] = (min(earliest, at), max(latest, at))
    rows = [
        {"block": block, "earliest_at": earliest, "latest_at": latest}
        for block, (earliest, latest) in spans.items()
    ]
    blocks = AuditTimeBlockModel
    if session.get_bind().dialect.name == "postgresql":
        statement: postgresql.Insert | sqlite.Insert = postgresql.insert(blocks).values(rows)
    else:
        statement = sqlite.insert(blocks).values(rows)
    new = statement.excluded
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[blocks.block],
            set_={
                "earliest_at": case(
                    (new.earliest_at < blocks.earliest_at, new.earliest_at),
                    else_=blocks.earliest_at,
                ),
                "latest_at": case(
                    (new.latest_at > blocks.latest_at, new.latest_at), else_=blocks.latest_at
                ),
            },
        )
    )


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
        record_ids=_record_ids(row.record_ids),
        purpose=row.purpose,
        grant_id=row.grant_id,
    )


def _stored_leaf(row: Sequence[Any]) -> StoredLeaf:
    # Unpacked by position (the columns are `StoredLeaf`'s fields): the cheapest way to
    # read a row, and verification reads every row of the log.
    (
        seq, at, actor, actor_role, key_id, action, resource, subject, decision, reason,
        status, request_id, request_digest, record_ids, purpose, grant_id, leaf_hash,
    ) = row  # fmt: skip
    return StoredLeaf(
        seq, at, actor, actor_role, key_id, action, resource, subject, decision, reason,
        status, request_id, request_digest, _record_ids(record_ids), purpose, grant_id,
        None if leaf_hash is None else bytes(leaf_hash),
    )  # fmt: skip


def _record_ids(stored: str) -> tuple[str, ...]:
    # Most entries name no record: skip the JSON parser for them.
    return () if stored == EMPTY_RECORD_IDS else tuple(json.loads(stored))
