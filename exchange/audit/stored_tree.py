"""The audit tree as stored: proofs and roots of any tree size in O(log n) reads.

The writer stores the root of every perfect subtree of 2**node_height leaves and up
(`audit_tree_nodes`). Every range the RFC 9162 PATH and SUBPROOF recursion asks for
starts at a multiple of the smallest power of two >= its width, so its root is the
right-edge fold of the stored perfect subtrees given by the high set bits of its width,
then at most one run of fewer than 2**node_height leaves inside one aligned block:

    MTH(D[a:b]) = node(P1, node(P2, ... node(Pk, MTH(run))))

A proof therefore reads O(log n) nodes (one query) and the leaf hashes of a few blocks
(one range scan each), whatever the tree size. The nodes are a cache, not a source of
trust: a verifier checks every proof against a root the hub signed, so a wrong stored
node can only make a proof fail, and `exchange audit verify` compares each stored node
with the tree it recomputes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable, Sequence
from typing import Protocol, TypeVar

from exchange.audit.merkle import (
    EMPTY_ROOT,
    RangeRoot,
    consistency_path,
    inclusion_path,
    node_hash,
    subtree_root,
)
from exchange.store.models_audit import AUDIT_NODE_MIN_HEIGHT

logger = logging.getLogger(__name__)

NodeKey = tuple[int, int]
Answer = TypeVar("Answer")


class NodeSource(Protocol):
    """Where the stored nodes and leaves are read (`AuditRepository`)."""

    def tree_nodes(self, keys: Collection[NodeKey]) -> dict[NodeKey, bytes]:
        """The stored nodes among `keys` (height, index)."""
        ...

    def leaf_hash_run(self, first_seq: int, last_seq: int) -> list[bytes]:
        """The leaf hashes of seq `first_seq`..`last_seq` (leaf index = seq - 1)."""
        ...


class StoredTree:
    """The tree of the first `size` leaves, read from stored nodes and leaves.

    Each question first collects the ranges it needs, reads what is not cached yet in as
    few queries as possible, then answers; the cache lives as long as the object (one
    request)."""

    def __init__(
        self, source: NodeSource, size: int, node_height: int = AUDIT_NODE_MIN_HEIGHT
    ) -> None:
        if size < 0 or node_height < 1:
            raise ValueError(f"no stored tree of {size} leaves with nodes from {node_height}")
        self._source = source
        self._size = size
        self._height = node_height
        self._nodes: dict[NodeKey, bytes] = {}
        self._blocks: dict[int, list[bytes]] = {}

    @property
    def size(self) -> int:
        """How many leaves the tree has."""
        return self._size

    def root(self, size: int | None = None) -> bytes:
        """MTH of the first `size` leaves (all of them by default)."""
        size = self._size if size is None else size
        if not 0 <= size <= self._size:
            raise ValueError(f"no prefix of {size} leaves in a tree of {self._size}")
        if size == 0:
            return EMPTY_ROOT
        return self._answer(lambda range_root: range_root(0, size))

    def leaf_hash(self, index: int) -> bytes:
        """The stored leaf hash of leaf `index`."""
        self._require_leaf(index)
        return self._answer(lambda range_root: range_root(index, index + 1))

    def inclusion_proofs(self, indices: Sequence[int]) -> list[list[bytes]]:
        """PATH(index, D[size]) of each leaf index, reading what all of them need at once."""
        for index in indices:
            self._require_leaf(index)
        return self._answer(
            lambda range_root: [inclusion_path(i, self._size, range_root) for i in indices]
        )

    def inclusion_proof(self, index: int) -> list[bytes]:
        """PATH(index, D[size]) (RFC 9162 2.1.3.1), leaf-side sibling first."""
        return self.inclusion_proofs([index])[0]

    def inclusion_with_root(self, index: int) -> tuple[bytes, bytes, list[bytes]]:
        """(leaf hash, root, PATH) of leaf `index`, read at once."""
        self._require_leaf(index)
        size = self._size
        return self._answer(
            lambda range_root: (
                range_root(index, index + 1),
                range_root(0, size),
                inclusion_path(index, size, range_root),
            )
        )

    def consistency_with_roots(self, first: int) -> tuple[bytes, bytes, list[bytes]]:
        """(root of the first `first` leaves, root, PROOF(first, D[size])), read at once."""
        size = self._size
        if not 1 <= first <= size:
            raise ValueError(f"no consistency proof from {first} leaves in a tree of {size}")
        return self._answer(
            lambda range_root: (
                range_root(0, first),
                range_root(0, size),
                consistency_path(first, size, range_root),
            )
        )

    def consistency_proof(self, first: int) -> list[bytes]:
        """PROOF(first, D[size]) (RFC 9162 2.1.4.1): the tree of `first` leaves is a prefix."""
        return self._answer(lambda range_root: consistency_path(first, self._size, range_root))

    def _require_leaf(self, index: int) -> None:
        if not 0 <= index < self._size:
            raise ValueError(f"leaf index {index} is outside a tree of {self._size} leaves")

    def _answer(self, ask: Callable[[RangeRoot], Answer]) -> Answer:
        """Run `ask` once to learn the ranges it needs, read them, then run it for real."""
        asked: list[tuple[int, int]] = []

        def note(start: int, end: int) -> bytes:
            asked.append((start, end))
            return EMPTY_ROOT

        ask(note)
        self._load(asked)
        return ask(self._range_root)

    def _pieces(self, start: int, end: int) -> tuple[list[NodeKey], tuple[int, int] | None]:
        """The stored nodes, then the run of leaves, whose right-edge fold is MTH(D[start:end])."""
        nodes: list[NodeKey] = []
        while end - start >= 1 << self._height:
            height = (end - start).bit_length() - 1
            if start % (1 << height):
                raise ValueError(f"range [{start}, {end}) is not aligned as RFC 9162 splits")
            nodes.append((height, start >> height))
            start += 1 << height
        if start == end:
            return nodes, None
        if start >> self._height != (end - 1) >> self._height:
            raise ValueError(f"range [{start}, {end}) is not aligned as RFC 9162 splits")
        return nodes, (start, end)

    def _load(self, ranges: Iterable[tuple[int, int]]) -> None:
        nodes: set[NodeKey] = set()
        blocks: set[int] = set()
        for start, end in ranges:
            keys, run = self._pieces(start, end)
            nodes.update(key for key in keys if key not in self._nodes)
            if run is not None and run[0] >> self._height not in self._blocks:
                blocks.add(run[0] >> self._height)
        if nodes:
            self._load_nodes(nodes)
        for block in sorted(blocks):
            first = block << self._height
            last = min(first + (1 << self._height), self._size)
            self._blocks[block] = self._source.leaf_hash_run(first + 1, last)

    def _load_nodes(self, keys: set[NodeKey]) -> None:
        found = self._source.tree_nodes(keys)
        for height, index in keys - found.keys():
            # A log stored without its nodes (or a node deleted since): still answerable,
            # at the old cost of hashing the subtree's leaves.
            logger.warning("audit tree node (%d, %d) not stored: hashing its leaves", height, index)
            first = index << height
            leaves = self._source.leaf_hash_run(first + 1, first + (1 << height))
            found[(height, index)] = subtree_root(leaves, 0, len(leaves))
        self._nodes.update(found)

    def _range_root(self, start: int, end: int) -> bytes:
        keys, run = self._pieces(start, end)
        roots = [self._nodes[key] for key in keys]
        if run is not None:
            block = run[0] >> self._height
            offset = block << self._height
            roots.append(subtree_root(self._blocks[block], run[0] - offset, run[1] - offset))
        root = roots[-1]
        for left in reversed(roots[:-1]):
            root = node_hash(left, root)
        return root
