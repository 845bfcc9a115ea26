"""The audit Merkle tree agrees with RFC 9162 section 2.1: the Certificate Transparency
vectors, and a naive recursive reference written straight from the RFC's definitions."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from exchange.audit.merkle import (
    EMPTY_ROOT,
    CompactMerkleTree,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_from_leaf_hashes,
    subtree_root,
    verify_consistency,
    verify_inclusion,
)

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "merkle-rfc6962.json"
MAX_SIZE = 300


# --- reference: RFC 9162 2.1.1, 2.1.3.1, 2.1.4.1, recursive and naive on purpose ---


def _split(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def reference_mth(leaves: list[bytes]) -> bytes:
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaves[0]
    k = _split(n)
    return hashlib.sha256(b"\x01" + reference_mth(leaves[:k]) + reference_mth(leaves[k:])).digest()


def reference_path(m: int, leaves: list[bytes]) -> list[bytes]:
    n = len(leaves)
    if n == 1:
        return []
    k = _split(n)
    if m < k:
        return [*reference_path(m, leaves[:k]), reference_mth(leaves[k:])]
    return [*reference_path(m - k, leaves[k:]), reference_mth(leaves[:k])]


def reference_subproof(m: int, leaves: list[bytes], whole: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if whole else [reference_mth(leaves)]
    k = _split(n)
    if m <= k:
        return [*reference_subproof(m, leaves[:k], whole), reference_mth(leaves[k:])]
    return [*reference_subproof(m - k, leaves[k:], False), reference_mth(leaves[:k])]


def reference_proof(m: int, leaves: list[bytes]) -> list[bytes]:
    return reference_subproof(m, leaves, True)


# --- helpers and strategies ---


def leaf_hashes(size: int, salt: int = 0) -> list[bytes]:
    return [leaf_hash(f"entry {salt}-{i}".encode()) for i in range(size)]


def flip_one_byte(proof: list[bytes], element: int, position: int) -> list[bytes]:
    flipped = bytearray(proof[element])
    flipped[position] ^= 0x01
    return [*proof[:element], bytes(flipped), *proof[element + 1 :]]


sizes = st.integers(min_value=1, max_value=MAX_SIZE)


@st.composite
def tree_and_index(draw):
    size = draw(sizes)
    return size, draw(st.integers(min_value=0, max_value=size - 1))


@st.composite
def tree_and_prefix(draw):
    second = draw(sizes)
    return draw(st.integers(min_value=1, max_value=second)), second


# --- Certificate Transparency vectors ---


def load_vectors() -> tuple[list[bytes], list[bytes], bytes]:
    vectors = json.loads(VECTORS.read_text())
    leaves = [leaf_hash(bytes.fromhex(leaf)) for leaf in vectors["leaves_hex"]]
    roots = [bytes.fromhex(root) for root in vectors["roots"]]
    return leaves, roots, bytes.fromhex(vectors["empty_root"])


def test_batch_roots_match_certificate_transparency_vectors():
    leaves, roots, empty_root = load_vectors()
    assert root_from_leaf_hashes([]) == empty_root == EMPTY_ROOT
    for count, expected in enumerate(roots, start=1):
        assert root_from_leaf_hashes(leaves[:count]) == expected, f"root of {count} leaves"


def test_incremental_roots_match_certificate_transparency_vectors():
    leaves, roots, empty_root = load_vectors()
    tree = CompactMerkleTree()
    assert tree.root() == empty_root
    for leaf, expected in zip(leaves, roots, strict=True):
        tree.append(leaf)
        assert tree.root() == expected, f"root of {tree.size} leaves"


def test_leaf_and_node_hashes_use_rfc_domain_separation_prefixes():
    assert leaf_hash(b"abc") == hashlib.sha256(b"\x00abc").digest()
    left, right = leaf_hash(b"l"), leaf_hash(b"r")
    assert node_hash(left, right) == hashlib.sha256(b"\x01" + left + right).digest()


# --- roots ---


@given(size=st.integers(min_value=0, max_value=MAX_SIZE))
def test_batch_root_equals_reference_tree_head(size):
    hashes = leaf_hashes(size)
    assert root_from_leaf_hashes(hashes) == reference_mth(hashes)


@given(size=sizes, data=st.data())
def test_subtree_root_over_a_range_equals_reference_of_that_slice(size, data):
    start = data.draw(st.integers(min_value=0, max_value=size))
    end = data.draw(st.integers(min_value=start, max_value=size))
    hashes = leaf_hashes(size)
    assert subtree_root(hashes, start, end) == reference_mth(hashes[start:end])


def test_incremental_root_equals_reference_at_every_size_up_to_limit():
    hashes = leaf_hashes(MAX_SIZE)
    tree = CompactMerkleTree()
    for count, hash_ in enumerate(hashes, start=1):
        tree.append(hash_)
        assert tree.size == count
        assert tree.root() == reference_mth(hashes[:count]), f"root of {count} leaves"
        assert len(tree.subtree_roots) == count.bit_count()


@given(size=st.integers(min_value=0, max_value=MAX_SIZE), more=st.integers(0, 40))
def test_restored_tree_continues_exactly_like_the_original(size, more):
    hashes = leaf_hashes(size + more)
    original = CompactMerkleTree()
    original.extend(hashes[:size])
    restored = CompactMerkleTree.restore(original.size, original.subtree_roots)
    restored.extend(hashes[size:])
    assert restored.root() == reference_mth(hashes)


@given(runs=st.lists(st.integers(min_value=0, max_value=40), max_size=8))
def test_extending_by_runs_builds_the_tree_of_one_append_per_leaf(runs):
    hashes = leaf_hashes(sum(runs))
    extended, appended = CompactMerkleTree(), CompactMerkleTree()
    for run in runs:
        start = extended.size
        extended.extend(hashes[start : start + run])
        for hash_ in hashes[start : start + run]:
            appended.append(hash_)
        assert extended.subtree_roots == appended.subtree_roots
        assert extended.root() == reference_mth(hashes[: start + run])


def test_extend_refuses_a_value_that_is_not_a_hash():
    with pytest.raises(ValueError, match="32 bytes"):
        CompactMerkleTree().extend([leaf_hash(b"fine"), b"short"])


def test_restore_refuses_a_right_edge_that_does_not_fit_the_size():
    with pytest.raises(ValueError, match="perfect subtree roots"):
        CompactMerkleTree.restore(3, [leaf_hash(b"only one")])


def test_append_refuses_a_value_that_is_not_a_hash():
    with pytest.raises(ValueError, match="32 bytes"):
        CompactMerkleTree().append(b"short")


def test_the_batch_and_incremental_builders_agree_on_a_large_tree():
    # Speed is measured by the benchmark harness (bench/), not asserted here.
    hashes = [hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(100_000)]
    tree = CompactMerkleTree()
    tree.extend(hashes)
    assert root_from_leaf_hashes(hashes) == tree.root()


# --- inclusion proofs ---


@given(case=tree_and_index())
def test_inclusion_proof_equals_reference_path_and_verifies(case):
    size, index = case
    hashes = leaf_hashes(size)
    proof = inclusion_proof(index, hashes)
    assert proof == reference_path(index, hashes)
    assert verify_inclusion(index, size, hashes[index], proof, reference_mth(hashes))


@given(case=tree_and_index(), data=st.data())
def test_inclusion_proof_with_one_flipped_byte_does_not_verify(case, data):
    size, index = case
    hashes = leaf_hashes(size)
    proof = inclusion_proof(index, hashes)
    assume(proof)
    element = data.draw(st.integers(0, len(proof) - 1))
    position = data.draw(st.integers(0, 31))
    tampered = flip_one_byte(proof, element, position)
    assert not verify_inclusion(index, size, hashes[index], tampered, root_from_leaf_hashes(hashes))


@given(case=tree_and_index(), data=st.data())
def test_inclusion_proof_does_not_verify_for_another_index(case, data):
    size, index = case
    assume(size > 1)
    other = data.draw(st.integers(0, size - 1).filter(lambda i: i != index))
    hashes = leaf_hashes(size)
    proof = inclusion_proof(index, hashes)
    assert not verify_inclusion(other, size, hashes[index], proof, root_from_leaf_hashes(hashes))


@given(case=tree_and_index(), other_size=sizes)
def test_inclusion_proof_does_not_verify_against_another_tree_size_and_its_root(case, other_size):
    size, index = case
    assume(other_size != size)
    hashes = leaf_hashes(max(size, other_size))
    proof = inclusion_proof(index, hashes[:size])
    other_root = root_from_leaf_hashes(hashes[:other_size])
    assert not verify_inclusion(index, other_size, hashes[index], proof, other_root)


@given(case=tree_and_index())
def test_inclusion_proof_does_not_verify_against_another_root(case):
    size, index = case
    hashes = leaf_hashes(size)
    proof = inclusion_proof(index, hashes)
    other_root = root_from_leaf_hashes(leaf_hashes(size, salt=1))
    assert not verify_inclusion(index, size, hashes[index], proof, other_root)


@given(case=tree_and_index())
def test_inclusion_proof_does_not_verify_for_another_leaf(case):
    size, index = case
    hashes = leaf_hashes(size)
    proof = inclusion_proof(index, hashes)
    stranger = leaf_hash(b"never appended")
    assert not verify_inclusion(index, size, stranger, proof, root_from_leaf_hashes(hashes))


@given(case=tree_and_index())
def test_inclusion_proof_cut_short_does_not_verify_against_the_inner_subtree_root(case):
    size, index = case
    assume(size > 1)
    hashes = leaf_hashes(size)
    split = _split(size)
    half = hashes[:split] if index < split else hashes[split:]
    proof = inclusion_proof(index, hashes)
    assert not verify_inclusion(index, size, hashes[index], proof[:-1], reference_mth(half))


@given(case=tree_and_index())
def test_inclusion_proof_with_an_extra_element_does_not_verify_against_an_extended_root(case):
    size, index = case
    hashes = leaf_hashes(size)
    proof = inclusion_proof(index, hashes)
    extra = leaf_hash(b"extra")
    extended_root = node_hash(extra, reference_mth(hashes))
    assert not verify_inclusion(index, size, hashes[index], [*proof, extra], extended_root)


@pytest.mark.parametrize("index", [-1, 5, 6])
def test_inclusion_proof_refuses_an_index_outside_the_tree(index):
    with pytest.raises(ValueError, match="outside a tree of 5 leaves"):
        inclusion_proof(index, leaf_hashes(5))


# --- consistency proofs ---


@given(case=tree_and_prefix())
def test_consistency_proof_equals_reference_and_verifies(case):
    first, second = case
    hashes = leaf_hashes(second)
    proof = consistency_proof(first, hashes)
    assert proof == reference_proof(first, hashes)
    first_root, second_root = reference_mth(hashes[:first]), reference_mth(hashes)
    assert verify_consistency(first, second, first_root, second_root, proof)


@given(case=tree_and_prefix(), data=st.data())
def test_consistency_proof_with_one_flipped_byte_does_not_verify(case, data):
    first, second = case
    hashes = leaf_hashes(second)
    proof = consistency_proof(first, hashes)
    assume(proof)
    element = data.draw(st.integers(0, len(proof) - 1))
    position = data.draw(st.integers(0, 31))
    tampered = flip_one_byte(proof, element, position)
    first_root, second_root = root_from_leaf_hashes(hashes[:first]), root_from_leaf_hashes(hashes)
    assert not verify_consistency(first, second, first_root, second_root, tampered)


@given(case=tree_and_prefix(), data=st.data())
def test_consistency_proof_does_not_verify_for_another_first_size_and_its_root(case, data):
    first, second = case
    other = data.draw(st.integers(1, second).filter(lambda size: size != first))
    hashes = leaf_hashes(second)
    proof = consistency_proof(first, hashes)
    other_root, second_root = root_from_leaf_hashes(hashes[:other]), root_from_leaf_hashes(hashes)
    assert not verify_consistency(other, second, other_root, second_root, proof)


@given(case=tree_and_prefix(), other_second=sizes)
def test_consistency_proof_does_not_verify_for_another_second_size_and_its_root(case, other_second):
    first, second = case
    assume(other_second != second and other_second >= first)
    hashes = leaf_hashes(max(second, other_second))
    proof = consistency_proof(first, hashes[:second])
    first_root = root_from_leaf_hashes(hashes[:first])
    other_root = root_from_leaf_hashes(hashes[:other_second])
    assert not verify_consistency(first, other_second, first_root, other_root, proof)


@given(case=tree_and_prefix())
def test_consistency_proof_does_not_verify_against_a_forked_log(case):
    first, second = case
    hashes = leaf_hashes(second)
    forked = leaf_hashes(second, salt=1)
    proof = consistency_proof(first, hashes)
    first_root = root_from_leaf_hashes(hashes[:first])
    assert not verify_consistency(first, second, first_root, root_from_leaf_hashes(forked), proof)
    other_first_root = root_from_leaf_hashes(forked[:first])
    second_root = root_from_leaf_hashes(hashes)
    assert not verify_consistency(first, second, other_first_root, second_root, proof)


def test_consistency_proof_between_equal_sizes_is_empty_and_verifies():
    hashes = leaf_hashes(7)
    root = root_from_leaf_hashes(hashes)
    assert consistency_proof(7, hashes) == []
    assert verify_consistency(7, 7, root, root, [])
    assert not verify_consistency(7, 7, root, root_from_leaf_hashes(hashes[:6]), [])
    assert not verify_consistency(7, 7, root, root, [root])


def test_every_tree_extends_the_empty_tree_with_an_empty_proof():
    root = root_from_leaf_hashes(leaf_hashes(3))
    assert verify_consistency(0, 3, EMPTY_ROOT, root, [])
    assert not verify_consistency(0, 3, root, root, [])
    assert not verify_consistency(0, 3, EMPTY_ROOT, root, [root])


@pytest.mark.parametrize(
    ("first", "message"),
    [(0, "from a tree of 0 leaves"), (-2, "from a tree of -2 leaves"), (6, "exceeds")],
)
def test_consistency_proof_refuses_sizes_without_a_proof(first, message):
    with pytest.raises(ValueError, match=message):
        consistency_proof(first, leaf_hashes(5))


# --- hostile input to the verifiers ---

GOOD = leaf_hash(b"x")


@pytest.mark.parametrize(
    ("index", "tree_size", "leaf", "proof", "root"),
    [
        (0, 0, GOOD, [], GOOD),
        (3, 3, GOOD, [GOOD, GOOD], GOOD),
        (-1, 3, GOOD, [GOOD, GOOD], GOOD),
        (0, 2, GOOD, [b"short"], GOOD),
        (0, 2, GOOD, ["not bytes"], GOOD),
        (0, 2, b"", [GOOD], GOOD),
        (0, 2, GOOD, [GOOD], None),
        (0, 2, GOOD, None, GOOD),
        (0, 2, GOOD, [GOOD] * 100, GOOD),
        (True, 2, GOOD, [GOOD], GOOD),
        ("0", 2, GOOD, [GOOD], GOOD),
    ],
)
def test_inclusion_verifier_rejects_malformed_input_without_raising(
    index, tree_size, leaf, proof, root
):
    assert verify_inclusion(index, tree_size, leaf, proof, root) is False


@pytest.mark.parametrize(
    ("first", "second", "first_root", "second_root", "proof"),
    [
        (4, 3, GOOD, GOOD, [GOOD]),
        (-1, 3, GOOD, GOOD, [GOOD]),
        (2, 3, GOOD, GOOD, []),
        (2, 3, GOOD, GOOD, [b"\x00" * 31]),
        (2, 3, GOOD, GOOD, [bytearray(32)]),
        (2, 3, b"", GOOD, [GOOD]),
        (2, 3, GOOD, GOOD, [GOOD] * 100),
        (2, 3, GOOD, GOOD, "not a list"),
        (2.0, 3, GOOD, GOOD, [GOOD]),
    ],
)
def test_consistency_verifier_rejects_malformed_input_without_raising(
    first, second, first_root, second_root, proof
):
    assert verify_consistency(first, second, first_root, second_root, proof) is False
