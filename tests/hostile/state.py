"""What "nothing changed" means: every row of the store and of the embedded log, except the
ones a refused request is allowed to add (its audit entry and the nonce it burnt)."""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from sqlalchemy import MetaData, select

from exchange.audit.topic import AUDIT_TOPIC
from exchange.hub import Hub
from exchange.records.view_builder import VIEW_GROUP

# A refusal is recorded (audit tables, the audit topic and its writer's offsets) and its
# signature's nonce is remembered so that it cannot be replayed: nothing else may move.
ALLOWED_TO_CHANGE = frozenset(
    {
        "audit_entries",
        "audit_leaves",
        "audit_record_ids",
        "audit_checkpoints",
        "audit_time_blocks",
        "used_nonces",
    }
)

Snapshot = dict[str, list[tuple[Any, ...]]]
VIEW_DEADLINE_S = 30.0


def snapshot(hub: Hub) -> Snapshot:
    """Every row a refused request must leave alone, table by table."""
    return _store_rows(hub) | _log_rows(hub)


def _store_rows(hub: Hub) -> Snapshot:
    metadata = MetaData()
    engine = hub.database.engine
    metadata.reflect(engine)
    rows: Snapshot = {}
    with engine.connect() as connection:
        for name, table in sorted(metadata.tables.items()):
            if name in ALLOWED_TO_CHANGE or name == "alembic_version":
                continue
            rows[f"store.{name}"] = sorted(
                (tuple(row) for row in connection.execute(select(table))), key=repr
            )
    return rows


def _log_rows(hub: Hub) -> Snapshot:
    with sqlite3.connect(hub.settings.embedded_transport_path) as connection:
        records = connection.execute(
            "SELECT topic, partition_id, log_offset, record_value FROM records"
            " WHERE topic != ? ORDER BY 1, 2, 3",
            (AUDIT_TOPIC,),
        ).fetchall()
        offsets = connection.execute(
            "SELECT group_id, topic, partition_id, next_offset FROM group_offsets"
            " WHERE topic != ? ORDER BY 1, 2, 3",
            (AUDIT_TOPIC,),
        ).fetchall()
    return {"log.records": records, "log.group_offsets": offsets}


def committed_by_view(hub: Hub) -> int:
    """How many records the latest-record view builder has read and committed."""
    with sqlite3.connect(hub.settings.embedded_transport_path) as connection:
        (total,) = connection.execute(
            "SELECT COALESCE(SUM(next_offset), 0) FROM group_offsets WHERE group_id = ?",
            (VIEW_GROUP,),
        ).fetchone()
    return int(total)


def wait_for_view(hub: Hub, count: int) -> None:
    """Let the view builder read and commit the `count` records published so far, so that
    it moves no more while a snapshot is compared (it runs on its own thread)."""
    deadline = time.monotonic() + VIEW_DEADLINE_S
    while committed_by_view(hub) < count:
        assert time.monotonic() < deadline, "the latest-record view did not catch up"
        time.sleep(0.05)
