"""The latest-record view: the newest envelope of each (subject, key), upserted as the view
builder reads the subject topics."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from exchange.store.database import Database
from exchange.store.models_receive import LatestRecordModel, RecordKeyModel
from exchange.store.records_receive import LatestRecordRow

_TABLE = LatestRecordModel.__table__


class LatestRecordRepository:
    """Reads and upserts the view; an upsert never replaces a newer read of the same key."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def upsert_newer(self, rows: Sequence[LatestRecordRow]) -> None:
        """Keep each row unless the view already holds a later offset of its key.

        A key's records share one partition, so a higher offset there is a newer record.
        Should the topic be repartitioned, a read from another partition replaces the stored
        one (the order across partitions is unknown; the latest read wins).
        """
        if not rows:
            return
        with self._db.session() as session:
            for row in _newest_per_key(rows):
                session.execute(_upsert_statement(session, row))
            session.execute(_remember_keys_statement(session, rows))

    def record_ids_for(self, subject: str, key: str) -> list[str]:
        """Every record id ever read for `key` in `subject` (not only the latest)."""
        with self._db.session() as session:
            return list(
                session.scalars(
                    select(RecordKeyModel.record_id).where(
                        RecordKeyModel.subject == subject, RecordKeyModel.key == key
                    )
                )
            )

    def find(self, subject: str, key: str) -> LatestRecordRow | None:
        """The newest record of `key` in `subject`, or None."""
        with self._db.session() as session:
            row = session.get(LatestRecordModel, (subject, key))
            return None if row is None else _latest(row)

    def clear(self) -> int:
        """Empty the view (before a rebuild); returns how many rows were removed."""
        with self._db.session() as session:
            session.execute(delete(RecordKeyModel))
            return session.execute(delete(LatestRecordModel)).rowcount  # type: ignore[attr-defined, no-any-return]

    def count(self) -> int:
        """How many keys the view holds."""
        with self._db.session() as session:
            return len(session.scalars(select(LatestRecordModel.key)).all())


def _newest_per_key(rows: Sequence[LatestRecordRow]) -> list[LatestRecordRow]:
    """One row per key (the last of the batch): one statement may not touch a row twice."""
    newest: dict[tuple[str, str], LatestRecordRow] = {}
    for row in rows:
        newest[(row.subject, row.key)] = row
    return list(newest.values())


def _upsert_statement(session: Session, row: LatestRecordRow) -> Any:
    values = {
        "subject": row.subject,
        "key": row.key,
        "record_id": row.record_id,
        "envelope": row.envelope,
        "log_partition": row.log_partition,
        "log_offset": row.log_offset,
        "updated_at": row.updated_at,
    }
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(_TABLE).values(**values)
    newer = or_(
        _TABLE.c.log_partition != statement.excluded.log_partition,
        _TABLE.c.log_offset < statement.excluded.log_offset,
    )
    return statement.on_conflict_do_update(
        index_elements=["subject", "key"],
        set_={name: statement.excluded[name] for name in values if name not in ("subject", "key")},
        where=newer,
    )


def _remember_keys_statement(session: Session, rows: Sequence[LatestRecordRow]) -> Any:
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    unique = {row.record_id: row for row in rows}.values()
    return (
        dialect.insert(RecordKeyModel.__table__)
        .values([{"record_id": r.record_id, "subject": r.subject, "key": r.key} for r in unique])
        .on_conflict_do_nothing(index_elements=["record_id"])
    )


def _latest(row: LatestRecordModel) -> LatestRecordRow:
    return LatestRecordRow(
        subject=row.subject,
        key=row.key,
        record_id=row.record_id,
        envelope=row.envelope,
        log_partition=row.log_partition,
        log_offset=row.log_offset,
        updated_at=row.updated_at,
    )
