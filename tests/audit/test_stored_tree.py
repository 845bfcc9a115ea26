"""Proofs from stored Merkle nodes equal the RFC 9162 reference for every tree size; the
writer stores exactly the perfect subtrees proofs read, on SQLite and PostgreSQL, and
migration 0012 computes them for logs stored before it."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Collection
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select

from exchange.audit.leaf import entry_leaf_hash
from exchange.audit.merkle import CompactMerkleTree, subtree_root, verify_inclusion
from exchange.audit.proofs import prove_consistency, prove_inclusion
from exchange.audit.stored_tree import StoredTree
from exchange.store.database import Database, create_engine_for
from exchange.store.migrate import upgrade
from exchange.store.models_audit import AUDIT_NODE_MIN_HEIGHT, AuditLeafModel, AuditTreeNodeModel
from exchange.store.records import AuditEntryDraft, AuditEntryRow
from exchange.store.repositories import AuditRepository, SequencedEntry
from tests.audit.support import T0, drive_until, event
from tests.audit.test_merkle import leaf_hashes, reference_mth, reference_path, reference_proof

MAX_SIZE = 300


class InMemoryNodes:
    """A `NodeSource` over lists: the stored nodes and leaves of one tree, and a count of
    the leaves read (which must stay far below the tree size)."""

    def __init__(self, leaves: list[bytes], nodes: dict[tuple[int, int], bytes]) -> None:
        self.leaves = leaves
        self.nodes = nodes
        self.leaves_read = 0

    def tree_nodes(self, keys: Collection[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        return {key: self.nodes[key] for key in keys if key in self.nodes}

    def leaf_hash_run(self, first_seq: int, last_seq: int) -> list[bytes]:
        self.leaves_read += last_seq - first_seq + 1
        return self.leaves[first_seq - 1 : last_seq]


def recorded_nodes(leaves: list[bytes], height: int) -> dict[tuple[int, int], bytes]:
    """The nodes a writer appending `leaves` one by one stores."""
    tree = CompactMerkleTree(record_from_height=height)
    for leaf in leaves:
        tree.append(leaf)
    return {(node.height, node.idx): node.root for node in tree.take_completed()}


def every_perfect_subtree(leaves: list[bytes], height: int) -> dict[tuple[int, int], bytes]:
    """Naively: each aligned perfect subtree of at least `height` within the leaves."""
    nodes = {}
    while 1 << height <= len(leaves):
        width = 1 << height
        for index in range(len(leaves) // width):
            nodes[(height, index)] = reference_mth(leaves[index * width : (index + 1) * width])
        height += 1
    return nodes


@settings(max_examples=150, deadline=None)
@given(
    size=st.integers(min_value=1, max_value=MAX_SIZE),
    height=st.integers(min_value=1, max_value=4),
    data=st.data(),
)
def test_proofs_from_stored_nodes_equal_the_reference(size, height, data):
    leaves = leaf_hashes(size, salt=height)
    source = InMemoryNodes(leaves, recorded_nodes(leaves, height))
    tree = StoredTree(source, size, node_height=height)
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    first = data.draw(st.integers(min_value=1, max_value=size))

    assert tree.root() == reference_mth(leaves)
    assert tree.root(first) == reference_mth(leaves[:first])
    assert tree.leaf_hash(index) == leaves[index]
    assert tree.inclusion_proof(index) == reference_path(index, leaves)
    assert tree.consistency_proof(first) == reference_proof(first, leaves)
    fresh = StoredTree(source, size, node_height=height)
    assert fresh.inclusion_with_root(index) == (
        leaves[index],
        reference_mth(leaves),
        reference_path(index, leaves),
    )
    assert StoredTree(source, size, node_height=height).consistency_with_roots(first) == (
        reference_mth(leaves[:first]),
        reference_mth(leaves),
        reference_proof(first, leaves),
    )


@settings(max_examples=100, deadline=None)
@given(size=st.integers(min_value=1, max_value=MAX_SIZE), height=st.integers(1, 4))
def test_the_writer_records_every_perfect_subtree_once_whether_appending_or_extending(size, height):
    leaves = leaf_hashes(size, salt=7)
    extended = CompactMerkleTree(record_from_height=height)
    for start in range(0, size, 37):
        extended.extend(leaves[start : start + 37])
    completed = extended.take_completed()

    assert recorded_nodes(leaves, height) == every_perfect_subtree(leaves, height)
    assert len(completed) == len({(node.height, node.idx) for node in completed})
    assert {(n.height, n.idx): n.root for n in completed} == every_perfect_subtree(leaves, height)
    assert extended.take_completed() == []


def test_a_proof_reads_a_few_leaf_runs_not_the_tree():
    size, height = 5_000, 4
    leaves = leaf_hashes(size)
    source = InMemoryNodes(leaves, recorded_nodes(leaves, height))
    tree = StoredTree(source, size, node_height=height)

    tree.inclusion_proofs([0, 2_500, size - 1])
    tree.consistency_proof(3_333)

    # Four blocks of 16 leaves at most per question, never the 5,000.
    assert source.leaves_read <= 5 * (1 << height)


def test_a_node_that_is_not_stored_is_hashed_from_its_leaves():
    leaves = leaf_hashes(100)
    nodes = recorded_nodes(leaves, 3)
    del nodes[(6, 0)]
    tree = StoredTree(InMemoryNodes(leaves, nodes), 100, node_height=3)

    assert tree.inclusion_proof(99) == reference_path(99, leaves)


def test_a_wrong_stored_node_gives_a_proof_that_fails_against_the_signed_root():
    leaves = leaf_hashes(64)
    nodes = recorded_nodes(leaves, 2)
    nodes[(3, 1)] = b"\x07" * 32  # leaves 8..15: the sibling on leaf 0's path
    tree = StoredTree(InMemoryNodes(leaves, nodes), 64, node_height=2)

    signed_root = reference_mth(leaves)
    assert not verify_inclusion(0, 64, leaves[0], tree.inclusion_proof(0), signed_root)
    assert not verify_inclusion(5, 64, leaves[5], tree.inclusion_proof(5), signed_root)
    # Leaf 40's path reads the node of leaves 0..31 instead, which is sound.
    assert verify_inclusion(40, 64, leaves[40], tree.inclusion_proof(40), signed_root)


def test_questions_outside_the_tree_are_refused():
    leaves = leaf_hashes(10)
    tree = StoredTree(InMemoryNodes(leaves, {}), 10, node_height=2)
    with pytest.raises(ValueError, match="outside a tree of 10"):
        tree.inclusion_proof(10)
    with pytest.raises(ValueError, match="exceeds second tree size"):
        tree.consistency_proof(11)
    with pytest.raises(ValueError, match="no prefix of 11"):
        tree.root(11)
    with pytest.raises(ValueError, match="from 11 leaves in a tree of 10"):
        tree.consistency_with_roots(11)


# --- in the store (the `db` fixture: SQLite and PostgreSQL) ---


def test_the_writer_stores_the_nodes_and_proofs_read_them(log, db):
    log.node_height = 2
    log.write(23)
    log.write(14)
    entries = AuditRepository(db)
    leaves = entries.leaf_hashes(37)

    assert entries.all_tree_nodes() == every_perfect_subtree(leaves, 2)
    for size in (1, 4, 17, 32, 37):
        tree = StoredTree(entries, size, node_height=2)
        assert tree.root() == reference_mth(leaves[:size])
        assert tree.inclusion_proofs(list(range(size))) == [
            reference_path(index, leaves[:size]) for index in range(size)
        ]
        assert tree.consistency_proof((size + 1) // 2) == reference_proof(
            (size + 1) // 2, leaves[:size]
        )


def test_a_writer_restarted_mid_block_stores_the_nodes_it_completes(log, db):
    log.node_height = 3
    log.produce([event(n) for n in range(1, 6)])
    first = log.writer()
    drive_until(first, 5)
    first.close()
    log.produce([event(n) for n in range(6, 20)])
    second = log.writer()
    drive_until(second, 19)
    second.close()

    leaves = AuditRepository(db).leaf_hashes(19)
    assert AuditRepository(db).all_tree_nodes() == every_perfect_subtree(leaves, 3)


def store_synthetic_log(database: Database, size: int) -> list[bytes]:
    """`size` entries stored as the writer stores them, nodes at the default height."""
    tree = CompactMerkleTree(record_from_height=AUDIT_NODE_MIN_HEIGHT)
    leaves, batch = [], []
    for seq in range(1, size + 1):
        draft = AuditEntryDraft(
            at=T0 + timedelta(seconds=seq), actor="tax", action="GET /", decision="allow"
        )
        leaf = entry_leaf_hash(AuditEntryRow(**dataclasses.asdict(draft), seq=seq))
        batch.append(SequencedEntry(seq, str(uuid.UUID(int=seq)), draft, leaf))
        tree.append(leaf)
        leaves.append(leaf)
        if len(batch) == 500 or seq == size:
            AuditRepository(database).append_sequenced(batch, tree.take_completed())
            batch = []
    return leaves


def test_proof_endpoints_answer_from_nodes_at_the_default_height(db):
    leaves = store_synthetic_log(db, 2_600)

    assert set(AuditRepository(db).all_tree_nodes()) == {(10, 0), (10, 1), (11, 0)}
    for seq, size in ((1, 2_600), (1_500, 2_048), (2_600, 2_600), (700, 1_025)):
        proof = prove_inclusion(db, seq, size)
        assert proof.root_hash == reference_mth(leaves[:size])
        assert proof.leaf_hash == leaves[seq - 1]
        assert proof.audit_path == reference_path(seq - 1, leaves[:size])
    consistency = prove_consistency(db, 1_100, 2_600)
    assert consistency.proof == reference_proof(1_100, leaves)
    assert consistency.first_root == reference_mth(leaves[:1_100])


def test_migration_0012_computes_the_nodes_of_a_log_stored_before_it(empty_database_url):
    upgrade(empty_database_url, "0011")
    leaves = leaf_hashes(2_500)
    engine = create_engine_for(empty_database_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                insert(AuditLeafModel),
                [
                    {"seq": seq, "event_id": str(uuid.UUID(int=seq)), "leaf_hash": leaf}
                    for seq, leaf in enumerate(leaves, start=1)
                ],
            )
        upgrade(empty_database_url)
        with engine.connect() as connection:
            rows = connection.execute(
                select(AuditTreeNodeModel.height, AuditTreeNodeModel.idx, AuditTreeNodeModel.hash)
            ).all()
    finally:
        engine.dispose()

    width = 1 << AUDIT_NODE_MIN_HEIGHT
    assert {(h, i): bytes(node) for h, i, node in rows} == {
        (10, 0): subtree_root(leaves, 0, width),
        (10, 1): subtree_root(leaves, width, 2 * width),
        (11, 0): subtree_root(leaves, 0, 2 * width),
    }
