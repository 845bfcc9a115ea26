"""Consumer-group membership in the embedded log: who is alive, who reads which partition.

A member proves it is alive by writing a heartbeat at least every `HEARTBEAT_INTERVAL_MS`
(it does so while polling); one silent for `SESSION_TIMEOUT_MS` is dropped and its
partitions go to the others. Partitions are dealt round-robin over the live members in
member-id order, so every member computes the same assignment from the same rows
without talking to the others. When membership changes, a partition can move while
its previous reader still holds uncommitted records from it; the new reader starts
from the committed offset, so those records are delivered twice, never lost
(at least once, as with a Kafka rebalance).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from exchange.transport.base import TopicPartition

HEARTBEAT_INTERVAL_MS = 1_000
SESSION_TIMEOUT_MS = 10_000


def heartbeat(connection: sqlite3.Connection, group: str, member: str, now_ms: int) -> bool:
    """Record that `member` is alive; True if it was not a member (it (re)joined)."""
    connection.execute(
        "DELETE FROM group_members WHERE heartbeat_ms < ?", (now_ms - SESSION_TIMEOUT_MS,)
    )
    updated = connection.execute(
        "UPDATE group_members SET heartbeat_ms = ? WHERE group_id = ? AND member_id = ?",
        (now_ms, group, member),
    ).rowcount
    if updated:
        return False
    connection.execute(
        "INSERT INTO group_members (group_id, member_id, heartbeat_ms) VALUES (?, ?, ?)",
        (group, member, now_ms),
    )
    return True


def leave(connection: sqlite3.Connection, group: str, member: str) -> None:
    """Remove `member` from the group at once."""
    connection.execute(
        "DELETE FROM group_members WHERE group_id = ? AND member_id = ?", (group, member)
    )


def live_members(connection: sqlite3.Connection, group: str, now_ms: int) -> list[str]:
    """The group's live members, in the order assignment uses."""
    rows = connection.execute(
        "SELECT member_id FROM group_members WHERE group_id = ? AND heartbeat_ms >= ?"
        " ORDER BY member_id",
        (group, now_ms - SESSION_TIMEOUT_MS),
    )
    return [str(member) for (member,) in rows]


def assigned_partitions(
    partitions: Sequence[TopicPartition], members: Sequence[str], member: str
) -> set[TopicPartition]:
    """The partitions `member` reads: every n-th of the sorted partitions, n = group size."""
    if member not in members:
        return set()
    ordered = sorted(partitions, key=lambda tp: (tp.topic, tp.partition))
    index, size = members.index(member), len(members)
    return {tp for position, tp in enumerate(ordered) if position % size == index}
