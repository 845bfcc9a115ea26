"""Stored Merkle nodes of the audit tree: the root of every perfect subtree of 1,024
leaves and up, so an inclusion or consistency proof reads O(log n) nodes and at most a
few 1,024-leaf runs instead of every leaf hash of the tree.

The nodes of the leaves already stored are computed here in one streaming pass over
`audit_leaves` (seq order, up to the first gap); the audit writer stores new ones in the
transaction of the leaves that complete them.

Also an index of `audit_record_ids` by seq, so `exchange audit verify` compares each batch
of entries with the record-id rows of its seq range (a deleted row would silently drop an
entry from access reports).

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# `exchange.store.models_audit.AUDIT_NODE_MIN_HEIGHT` at this revision.
MIN_HEIGHT = 10
READ_BATCH = 50_000

_LEAVES = sa.table("audit_leaves", sa.column("seq", sa.BigInteger()), sa.column("leaf_hash"))
_NODES = sa.table(
    "audit_tree_nodes",
    sa.column("height", sa.Integer()),
    sa.column("idx", sa.BigInteger()),
    sa.column("hash", sa.LargeBinary()),
)


def upgrade() -> None:
    op.create_table(
        "audit_tree_nodes",
        sa.Column("height", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
        sa.PrimaryKeyConstraint("height", "idx", name="pk_audit_tree_nodes"),
    )
    op.create_index("ix_audit_record_ids_seq", "audit_record_ids", ["seq", "record_id"])
    connection = op.get_bind()
    # About 2,000 nodes per million leaves: kept in memory, inserted after the read.
    nodes = list(_perfect_subtrees(_contiguous_leaf_hashes(connection)))
    if nodes:
        op.bulk_insert(
            _NODES, [{"height": height, "idx": idx, "hash": root} for height, idx, root in nodes]
        )


def downgrade() -> None:
    op.drop_index("ix_audit_record_ids_seq", table_name="audit_record_ids")
    op.drop_table("audit_tree_nodes")


def _contiguous_leaf_hashes(connection: sa.Connection) -> Iterator[bytes]:
    """The stored leaf hashes from seq 1 in order, up to the first missing seq."""
    query = sa.select(_LEAVES.c.seq, _LEAVES.c.leaf_hash).order_by(_LEAVES.c.seq)
    # Options of this statement only: the connection goes on to run the migration.
    result = connection.execute(query, execution_options={"yield_per": READ_BATCH})
    expected = 1
    for seq, leaf in result:
        if seq != expected:
            result.close()
            return
        yield bytes(leaf)
        expected += 1


def _perfect_subtrees(leaves: Iterator[bytes]) -> Iterator[tuple[int, int, bytes]]:
    """(height, index, root) of every perfect subtree of height >= MIN_HEIGHT, as RFC 9162
    hashes them (node = SHA-256(0x01 || left || right)), from the stored leaf hashes."""
    # The roots of the complete subtrees on the right edge, one per height, lowest last.
    edge: list[bytes] = []
    for count, leaf in enumerate(leaves, start=1):
        merged, height = leaf, 0
        while count >> height & 1 == 0:
            merged = hashlib.sha256(b"\x01" + edge.pop() + merged).digest()
            height += 1
            if height >= MIN_HEIGHT:
                yield height, (count >> height) - 1, merged
        edge.append(merged)
