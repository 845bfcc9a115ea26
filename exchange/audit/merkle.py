"""The audit log's Merkle tree, exactly as RFC 9162 (Certificate Transparency v2) section 2.1.

    leaf hash   = SHA-256(0x00 || leaf bytes)
    node hash   = SHA-256(0x01 || left || right)
    MTH({})     = SHA-256("")
    MTH(D[n])   = node(MTH(D[0:k]), MTH(D[k:n])), k the largest power of two < n

Three readings of that one definition live here:

* `subtree_root` / `root_from_leaf_hashes` hash a stored run of leaf hashes level by
  level, pairing neighbours and carrying an unpaired last node up unchanged, which
  yields the same tree as the recursive split without recursing over n.
* `CompactMerkleTree` keeps only the right edge (the roots of the perfect subtrees
  that make up the tree, one per set bit of its size), so a writer can extend the
  log one entry at a time in O(log n) and take a root at any size.
* `inclusion_path` / `consistency_path` walk the RFC's PATH and SUBPROOF recursion
  top-down as loops, reading each element (the root of a disjoint subtree) from a
  given function: `inclusion_proof` / `consistency_proof` hash it from the leaves
  (O(n) in total), `exchange.audit.stored_tree` reads it from stored subtree roots.
  The verifiers follow RFC 9162 sections 2.1.3.2 and 2.1.4.2 step by step and return
  False (never raise) on any malformed or hostile proof.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import NamedTuple

HASH_SIZE = 32
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()

_sha256 = hashlib.sha256


def leaf_hash(data: bytes) -> bytes:
    """Return the RFC 9162 hash of one leaf: SHA-256(0x00 || data)."""
    return _sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the RFC 9162 hash of an interior node: SHA-256(0x01 || left || right)."""
    return _sha256(NODE_PREFIX + left + right).digest()


def largest_power_of_two_below(n: int) -> int:
    """Return the largest power of two strictly smaller than `n` (n >= 2): the RFC's split k."""
    if n < 2:
        raise ValueError(f"a tree of {n} leaves has no split point")
    return 1 << ((n - 1).bit_length() - 1)


def subtree_root(leaf_hashes: Sequence[bytes], start: int, end: int) -> bytes:
    """Return MTH(D[start:end]) over stored leaf hashes, without copying the range.

    O(end - start) hashing; the first level is hashed straight from `leaf_hashes`,
    each later level is half the size of the one before.
    """
    if not 0 <= start <= end <= len(leaf_hashes):
        raise ValueError(
            f"range [{start}, {end}) is not within a sequence of {len(leaf_hashes)} leaf hashes"
        )
    if start == end:
        return EMPTY_ROOT
    level = [node_hash(leaf_hashes[i], leaf_hashes[i + 1]) for i in range(start, end - 1, 2)]
    if (end - start) % 2:
        level.append(leaf_hashes[end - 1])
    while len(level) > 1:
        level = _next_level(level)
    return level[0]


def _next_level(level: list[bytes]) -> list[bytes]:
    """Pair neighbours; an unpaired last node moves up unchanged, as the RFC's split implies."""
    pairs = iter(level)
    parents = [node_hash(left, right) for left, right in zip(pairs, pairs, strict=False)]
    if len(level) % 2:
        parents.append(level[-1])
    return parents


def root_from_leaf_hashes(hashes: Sequence[bytes]) -> bytes:
    """Return the Merkle tree head MTH of a whole sequence of leaf hashes."""
    return subtree_root(hashes, 0, len(hashes))


class PerfectSubtree(NamedTuple):
    """The root of the perfect subtree of 2**height leaves starting at leaf index
    idx * 2**height: a node of every tree of at least (idx + 1) * 2**height leaves."""

    height: int
    idx: int
    root: bytes

    @property
    def first_leaf(self) -> int:
        """Index of its first leaf."""
        return self.idx << self.height

    @property
    def end_leaf(self) -> int:
        """Index one past its last leaf."""
        return (self.idx + 1) << self.height


# Reads MTH(D[start:end]) for a range the RFC recursion asks for.
RangeRoot = Callable[[int, int], bytes]


class CompactMerkleTree:
    """An append-only Merkle tree that keeps only its right edge.

    The tree of `size` leaves is the sequence of perfect subtrees given by the set
    bits of `size`, largest first; only their roots are kept (at most log2(n) + 1
    hashes), which is all that appending and taking the root need. Every perfect subtree
    the tree completes passes through `_append_subtree`, so the tree can also hand out
    those of a given height and up, for the store (`take_completed`).
    """

    def __init__(self, record_from_height: int | None = None) -> None:
        """`record_from_height`: keep every perfect subtree of at least that height the
        tree completes (`take_completed`), for storing them; None keeps none."""
        self._size = 0
        self._subtree_roots: list[bytes] = []
        self._record_from_height = record_from_height
        self._completed: list[PerfectSubtree] = []

    @classmethod
    def restore(
        cls, size: int, subtree_roots: Sequence[bytes], record_from_height: int | None = None
    ) -> CompactMerkleTree:
        """Rebuild a tree from a saved `size` and `subtree_roots` (largest subtree first)."""
        if size < 0 or len(subtree_roots) != size.bit_count():
            raise ValueError(
                f"a tree of {size} leaves has {max(size, 0).bit_count()} perfect subtree "
                f"roots, not {len(subtree_roots)}"
            )
        for root in subtree_roots:
            _require_hash(root, "subtree root")
        tree = cls(record_from_height)
        tree._size = size
        tree._subtree_roots = list(subtree_roots)
        return tree

    @property
    def size(self) -> int:
        """Number of leaves appended so far."""
        return self._size

    @property
    def subtree_roots(self) -> tuple[bytes, ...]:
        """Roots of the perfect subtrees on the right edge, largest first (for `restore`)."""
        return tuple(self._subtree_roots)

    def take_completed(self) -> list[PerfectSubtree]:
        """The perfect subtrees of the recorded heights completed since the last call,
        each once, in the order completed (by end leaf, then height)."""
        completed, self._completed = self._completed, []
        return completed

    def append(self, leaf_hash: bytes) -> None:
        """Add one leaf (given by its leaf hash) in O(log n) node hashes."""
        _require_hash(leaf_hash, "leaf hash")
        self._append_subtree(leaf_hash, 0)

    def extend(self, leaf_hashes: Sequence[bytes]) -> None:
        """Append each leaf hash in order: the same tree as appending them one by one.

        Runs of leaves that fill a whole perfect subtree at the current size are hashed
        level by level (`subtree_root`) and added as one node, which costs a fraction of
        one `append` per leaf in Python (verification extends the tree by every entry).
        """
        # Type and length of every leaf hash at C speed (this runs over every leaf of a log).
        if not (
            set(map(type, leaf_hashes)) <= {bytes} and set(map(len, leaf_hashes)) <= {HASH_SIZE}
        ):
            raise ValueError(f"a leaf hash must be {HASH_SIZE} bytes")
        start, count = 0, len(leaf_hashes)
        while start < count:
            height = (count - start).bit_length() - 1
            if self._size:
                # The new subtree must start where one of its height may start.
                height = min(height, (self._size & -self._size).bit_length() - 1)
            if self._record_from_height is not None:
                # No larger: each recorded subtree is then completed by a merge.
                height = min(height, self._record_from_height)
            width = 1 << height
            self._append_subtree(subtree_root(leaf_hashes, start, start + width), height)
            start += width

    def _append_subtree(self, root: bytes, height: int) -> None:
        """Add the perfect subtree of 2**height leaves with this root; the size must be a
        multiple of 2**height."""
        merged, width = root, 1 << height
        self._record(height, self._size >> height, merged)
        # Each trailing set bit of the old size (counted from `height`) is a perfect
        # subtree of the same height as `merged`, so the two combine into one twice as large.
        size = self._size >> height
        while size & 1:
            merged = node_hash(self._subtree_roots.pop(), merged)
            size >>= 1
            height += 1
            self._record(height, size, merged)
        self._subtree_roots.append(merged)
        self._size += width

    def _record(self, height: int, index: int, root: bytes) -> None:
        if self._record_from_height is not None and height >= self._record_from_height:
            self._completed.append(PerfectSubtree(height, index, root))

    def root(self) -> bytes:
        """Return the tree head of the current size (EMPTY_ROOT when empty)."""
        if not self._subtree_roots:
            return EMPTY_ROOT
        root = self._subtree_roots[-1]
        for left in reversed(self._subtree_roots[:-1]):
            root = node_hash(left, root)
        return root


def inclusion_proof(index: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """Return PATH(index, D[n]) (RFC 9162 2.1.3.1), leaf-side sibling first.

    O(n) hashing: each element is the root of a disjoint subtree of the tree.
    """
    return inclusion_path(index, len(leaf_hashes), _range_root_of(leaf_hashes))


def consistency_proof(first: int, leaf_hashes_of_second: Sequence[bytes]) -> list[bytes]:
    """Return PROOF(first, D[n]) = SUBPROOF(first, D[n], true) (RFC 9162 2.1.4.1).

    The proof that the tree of the first `first` leaves is a prefix of the tree of
    all `leaf_hashes_of_second`. Empty when both sizes are equal. O(n) hashing.
    """
    return consistency_path(
        first, len(leaf_hashes_of_second), _range_root_of(leaf_hashes_of_second)
    )


def _range_root_of(leaf_hashes: Sequence[bytes]) -> RangeRoot:
    return lambda start, end: subtree_root(leaf_hashes, start, end)


def inclusion_path(index: int, size: int, range_root: RangeRoot) -> list[bytes]:
    """PATH(index, D[size]) with each element read by `range_root(start, end)`.

    Every range asked for starts at a multiple of the smallest power of two >= its width
    (the RFC's split makes it so), which is what lets `range_root` answer from stored
    perfect subtrees.
    """
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is outside a tree of {size} leaves")
    siblings: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        middle = start + largest_power_of_two_below(end - start)
        if index < middle:
            siblings.append(range_root(middle, end))
            end = middle
        else:
            siblings.append(range_root(start, middle))
            start = middle
    # Collected from the root down; the RFC lists the path from the leaf up.
    siblings.reverse()
    return siblings


def consistency_path(first: int, second: int, range_root: RangeRoot) -> list[bytes]:
    """PROOF(first, D[second]) with each element read by `range_root(start, end)` (the
    ranges are aligned as for `inclusion_path`)."""
    if first <= 0:
        raise ValueError(f"no consistency proof from a tree of {first} leaves; it must be >= 1")
    if first > second:
        raise ValueError(f"first tree size {first} exceeds second tree size {second}")
    elements: list[bytes] = []
    start, end = 0, second
    remaining = first  # m of SUBPROOF, relative to `start`
    whole_subtree_known = True  # b of SUBPROOF
    while remaining != end - start:
        middle = start + largest_power_of_two_below(end - start)
        if remaining <= middle - start:
            elements.append(range_root(middle, end))
            end = middle
        else:
            elements.append(range_root(start, middle))
            remaining -= middle - start
            start = middle
            whole_subtree_known = False
    if not whole_subtree_known:
        elements.append(range_root(start, end))
    elements.reverse()
    return elements


def verify_inclusion(
    index: int, tree_size: int, leaf_hash: bytes, proof: Sequence[bytes], root: bytes
) -> bool:
    """Check an inclusion proof as RFC 9162 2.1.3.2 prescribes; False on any failure."""
    if not (_is_hash(leaf_hash) and _is_hash(root) and _are_hashes(proof)):
        return False
    if not (_is_size(index) and _is_size(tree_size)) or index >= tree_size:
        return False
    fn, sn = index, tree_size - 1
    r = leaf_hash
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    first_size: int,
    second_size: int,
    first_root: bytes,
    second_root: bytes,
    proof: Sequence[bytes],
) -> bool:
    """Check a consistency proof as RFC 9162 2.1.4.2 prescribes; False on any failure.

    Beyond the RFC's steps (which assume 0 < first < second): equal sizes verify
    only with an empty proof and equal roots; a first size of 0 verifies only with an
    empty proof and `first_root` equal to the empty tree's root, since every tree
    extends the empty one.
    """
    if not (_is_hash(first_root) and _is_hash(second_root) and _are_hashes(proof)):
        return False
    if not (_is_size(first_size) and _is_size(second_size)) or first_size > second_size:
        return False
    if first_size == 0:
        return not proof and first_root == EMPTY_ROOT
    if first_size == second_size:
        return not proof and first_root == second_root
    return _verify_consistency_path(first_size, second_size, first_root, second_root, proof)


def _verify_consistency_path(
    first: int, second: int, first_hash: bytes, second_hash: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 2.1.4.2 steps 1-7, for 0 < first < second."""
    if not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:
        path.insert(0, first_hash)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_hash and sr == second_hash and sn == 0


def _require_hash(value: bytes, what: str) -> None:
    if not _is_hash(value):
        raise ValueError(f"a {what} must be {HASH_SIZE} bytes")


def _is_hash(value: object) -> bool:
    return isinstance(value, bytes) and len(value) == HASH_SIZE


def _are_hashes(values: object) -> bool:
    return isinstance(values, Sequence) and all(_is_hash(value) for value in values)


def _is_size(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
