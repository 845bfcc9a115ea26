"""Inclusion and consistency proofs of the audit tree, read from the stored Merkle nodes.

Each proof reads O(log n) stored subtree roots and a few 1,024-leaf runs
(`exchange.audit.stored_tree`), whatever the tree size; the answers carry hex hashes a
verifier checks with `exchange.audit.merkle.verify_inclusion` / `verify_consistency` and a
signed checkpoint.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from exchange.audit.leaf import leaf_document
from exchange.audit.stored_tree import StoredTree
from exchange.errors import NotFound, ValidationFailed
from exchange.store.database import Database
from exchange.store.records import AuditEntryRow
from exchange.store.repositories import AuditRepository


class TreeSizeOutOfRange(ValidationFailed):
    """A proof was asked for a tree size the log does not (yet) have, or for a leaf
    outside the tree."""

    type_slug = "audit-tree-size-out-of-range"
    title = "Tree size out of range"


@dataclass(frozen=True)
class InclusionProof:
    """That entry `seq` (leaf index seq - 1) is in the tree of `tree_size` leaves."""

    entry: AuditEntryRow
    tree_size: int
    leaf_hash: bytes
    root_hash: bytes
    audit_path: list[bytes]

    def to_json(self) -> dict[str, Any]:
        """As the API serves it."""
        return {
            "seq": self.entry.seq,
            "leaf_index": self.entry.seq - 1,
            "tree_size": self.tree_size,
            "entry": leaf_document(self.entry),
            "leaf_hash": self.leaf_hash.hex(),
            "root_hash": self.root_hash.hex(),
            "audit_path": [node.hex() for node in self.audit_path],
        }


@dataclass(frozen=True)
class ConsistencyProof:
    """That the tree of `first` leaves is a prefix of the tree of `second` leaves."""

    first: int
    second: int
    first_root: bytes
    second_root: bytes
    proof: list[bytes]

    def to_json(self) -> dict[str, Any]:
        """As the API serves it."""
        return {
            "first": self.first,
            "second": self.second,
            "first_root_hash": self.first_root.hex(),
            "second_root_hash": self.second_root.hex(),
            "proof": [node.hex() for node in self.proof],
        }


def prove_inclusion(database: Database, seq: int, tree_size: int) -> InclusionProof:
    """The inclusion proof of entry `seq` in the tree of `tree_size` leaves."""
    entries = AuditRepository(database)
    _require_size(tree_size, entries.tree_size())
    if not 1 <= seq <= tree_size:
        raise TreeSizeOutOfRange(f"entry {seq} is not in a tree of {tree_size} entries")
    entry = entries.find(seq)
    if entry is None:
        raise NotFound(f"no audit entry {seq}")
    leaf_hash, root_hash, audit_path = StoredTree(entries, tree_size).inclusion_with_root(seq - 1)
    return InclusionProof(
        entry=entry,
        tree_size=tree_size,
        leaf_hash=leaf_hash,
        root_hash=root_hash,
        audit_path=audit_path,
    )


def prove_consistency(database: Database, first: int, second: int) -> ConsistencyProof:
    """The consistency proof between the trees of `first` and `second` leaves."""
    entries = AuditRepository(database)
    _require_size(second, entries.tree_size())
    if not 1 <= first <= second:
        raise TreeSizeOutOfRange(f"need 1 <= first <= second, got first={first}, second={second}")
    first_root, second_root, proof = StoredTree(entries, second).consistency_with_roots(first)
    return ConsistencyProof(
        first=first,
        second=second,
        first_root=first_root,
        second_root=second_root,
        proof=proof,
    )


def _require_size(tree_size: int, current: int) -> None:
    if not 1 <= tree_size <= current:
        raise TreeSizeOutOfRange(f"tree size {tree_size} is not in 1..{current}")
