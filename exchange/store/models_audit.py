"""The audit log's integrity tables: the Merkle leaves, stored subtree roots, record-id
index and checkpoints, and the time blocks that map a time window to a seq range.

Kept apart from `models.py` (one concept per module); `models.py` imports this module so
that `Base.metadata` always holds these tables for Alembic and the drift test. The
entries themselves stay in `audit_entries` (`AuditEntryModel`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from exchange.store.models import AuditEntryModel, Base, SequenceNumber
from exchange.store.utc_datetime import UTCDateTime

HASH_BYTES = 32


class AuditLeafModel(Base):
    """The leaf of one entry: who sent it (the unique `event_id` that makes the writer
    idempotent) and the leaf hash the writer computed when it appended the entry.

    No foreign key to `audit_entries`: verification must still see a leaf whose entry
    was deleted behind the hub's back."""

    __tablename__ = "audit_leaves"

    seq: Mapped[int] = mapped_column(SequenceNumber, primary_key=True, autoincrement=False)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(HASH_BYTES))


# The smallest height of a stored Merkle node: perfect subtrees of 1,024 leaves and up
# (about 2,000 rows per million entries). Proofs hash at most a few 1,024-leaf runs
# besides reading nodes. Migration 0012 fills the nodes of older logs with this height.
AUDIT_NODE_MIN_HEIGHT = 10


class AuditTreeNodeModel(Base):
    """The root of one perfect subtree of the audit tree: 2**height leaves from leaf index
    idx * 2**height, stored by the writer in the transaction that completes it.

    Only a cache for proofs: checkpoints sign roots, so a wrong node can make a proof
    fail to verify, never make a false one verify; `exchange audit verify` compares
    every node with the recomputed tree."""

    __tablename__ = "audit_tree_nodes"

    height: Mapped[int] = mapped_column(Integer(), primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BigInteger(), primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(HASH_BYTES))


class AuditRecordIdModel(Base):
    """One (record id, entry) pair, so the `record_id` filter is an index lookup; the seq
    index lets verification compare each batch of entries with its rows."""

    __tablename__ = "audit_record_ids"
    __table_args__ = (Index("ix_audit_record_ids_seq", "seq", "record_id"),)

    record_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    seq: Mapped[int] = mapped_column(SequenceNumber, primary_key=True, autoincrement=False)


# Entries per time block: block b holds seq b * N + 1 .. (b + 1) * N. Migration 0009 fills
# the blocks of the entries stored before it with this same N.
AUDIT_TIME_BLOCK_ENTRIES = 1000


class AuditTimeBlockModel(Base):
    """The earliest and latest `at` among the entries of one block of consecutive seqs,
    kept by `AuditRepository` in the transaction of every append.

    A time window then maps to the seq range of the blocks it overlaps by reading one row
    per thousand entries, and a page of the window is a short walk of the primary key in
    that range, wherever the window lies in the log. `at` follows `seq` only roughly (hub
    clocks differ): a block's span covers each of its entries, so the range is exact."""

    __tablename__ = "audit_time_blocks"

    block: Mapped[int] = mapped_column(BigInteger(), primary_key=True, autoincrement=False)
    earliest_at: Mapped[datetime] = mapped_column(UTCDateTime())
    latest_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AuditCheckpointModel(Base):
    """A signed checkpoint (tree head) of the audit log."""

    __tablename__ = "audit_checkpoints"

    tree_size: Mapped[int] = mapped_column(BigInteger(), primary_key=True, autoincrement=False)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(HASH_BYTES))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    key_id: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(128))
    # JSON array of the hex roots of the compact tree's perfect subtrees.
    frontier: Mapped[str] = mapped_column(Text())


# The `key` filter of the auditor interface, newest first: defined here (not in models.py)
# with the rest of the audit issue's schema; an Index on bound columns joins their table.
Index("ix_audit_entries_key_id_seq", AuditEntryModel.key_id, AuditEntryModel.seq)
