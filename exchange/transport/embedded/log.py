"""Reading and writing the embedded log's tables: topics, records and committed offsets.

Every function takes the connection of a transaction its caller opened (see
`Database.write` / `Database.read`), so the caller decides what is atomic.
"""

from __future__ import annotations

import base64
import json
import sqlite3
from collections.abc import Mapping

from exchange.transport.base import Headers, Message, OutgoingMessage, TopicPartition


def create_topic(connection: sqlite3.Connection, name: str, partitions: int) -> None:
    """Create the topic unless it exists (then it keeps its partition count)."""
    connection.execute(
        "INSERT OR IGNORE INTO topics (name, partitions) VALUES (?, ?)", (name, partitions)
    )


def partition_count(connection: sqlite3.Connection, topic: str) -> int | None:
    """The topic's number of partitions, or None if there is no such topic."""
    row = connection.execute("SELECT partitions FROM topics WHERE name = ?", (topic,)).fetchone()
    return None if row is None else int(row[0])


def topic_names(connection: sqlite3.Connection) -> set[str]:
    """Every topic's name."""
    return {str(name) for (name,) in connection.execute("SELECT name FROM topics")}


def end_offset(connection: sqlite3.Connection, partition: TopicPartition) -> int:
    """The offset the next record appended to `partition` will get."""
    (last,) = connection.execute(
        "SELECT MAX(log_offset) FROM records WHERE topic = ? AND partition_id = ?",
        (partition.topic, partition.partition),
    ).fetchone()
    return 0 if last is None else int(last) + 1


def start_offset(connection: sqlite3.Connection, partition: TopicPartition) -> int:
    """The offset of the first record still in `partition` (its end offset if it is empty)."""
    (first,) = connection.execute(
        "SELECT MIN(log_offset) FROM records WHERE topic = ? AND partition_id = ?",
        (partition.topic, partition.partition),
    ).fetchone()
    return end_offset(connection, partition) if first is None else int(first)


def append(
    connection: sqlite3.Connection,
    partition: TopicPartition,
    offset: int,
    message: OutgoingMessage,
    timestamp_ms: int,
) -> None:
    """Store `message` at `offset`; the primary key refuses an offset already taken."""
    connection.execute(
        "INSERT INTO records (topic, partition_id, log_offset, record_key, record_value,"
        " headers, timestamp_ms) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            partition.topic,
            partition.partition,
            offset,
            message.key,
            message.value,
            _encode_headers(message.headers),
            timestamp_ms,
        ),
    )


def read(
    connection: sqlite3.Connection, partition: TopicPartition, from_offset: int, limit: int
) -> list[Message]:
    """Up to `limit` records of `partition` from `from_offset` on, in offset order."""
    rows = connection.execute(
        "SELECT log_offset, record_key, record_value, headers, timestamp_ms FROM records"
        " WHERE topic = ? AND partition_id = ? AND log_offset >= ?"
        " ORDER BY log_offset LIMIT ?",
        (partition.topic, partition.partition, from_offset, limit),
    )
    return [
        Message(
            topic=partition.topic,
            partition=partition.partition,
            offset=int(offset),
            key=key,
            value=value,
            headers=_decode_headers(headers),
            timestamp_ms=int(timestamp_ms),
        )
        for offset, key, value, headers, timestamp_ms in rows
    ]


def committed_offset(
    connection: sqlite3.Connection, group: str, partition: TopicPartition
) -> int | None:
    """The group's committed offset for `partition`, or None."""
    row = connection.execute(
        "SELECT next_offset FROM group_offsets"
        " WHERE group_id = ? AND topic = ? AND partition_id = ?",
        (group, partition.topic, partition.partition),
    ).fetchone()
    return None if row is None else int(row[0])


def commit_offsets(
    connection: sqlite3.Connection, group: str, offsets: Mapping[TopicPartition, int]
) -> None:
    """Set the group's committed offsets (replacing earlier ones)."""
    connection.executemany(
        "INSERT INTO group_offsets (group_id, topic, partition_id, next_offset)"
        " VALUES (?, ?, ?, ?) ON CONFLICT (group_id, topic, partition_id)"
        " DO UPDATE SET next_offset = excluded.next_offset",
        [(group, tp.topic, tp.partition, offset) for tp, offset in offsets.items()],
    )


def _encode_headers(headers: Headers) -> str:
    return json.dumps([[name, base64.b64encode(value).decode("ascii")] for name, value in headers])


def _decode_headers(encoded: str) -> Headers:
    return tuple((str(name), base64.b64decode(value)) for name, value in json.loads(encoded))
