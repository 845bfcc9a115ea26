"""`exchange audit verify`: recompute the audit tree from the stored entries and check it
against every signed checkpoint, naming the first entry that was altered.

Each entry's leaf hash is recomputed from its content and compared with the leaf hash the
writer stored when it appended it, and sequence numbers must run 1, 2, 3, ... without a
gap: an edited, swapped, deleted or inserted row is located exactly. If leaf hashes were
rewritten as well, the recomputed root no longer matches the first checkpoint signed
after the change, which bounds the altered entry to the range that checkpoint added.
The log is read in batches of plain rows (one streaming query, or one per batch when
worker processes share the work: recomputing leaves is most of the time and every batch
is independent), and the tree is extended in log order by the calling process and kept
compact, so memory stays O(batch x workers + log n).

Beyond the entries, the derived tables proofs and access reports read are checked against
them: each stored Merkle node (`audit_tree_nodes`) against the subtree the walk completes,
the record-id index and the view's record-key table (`exchange.audit.index_check`). Node
findings name no seq: the entries themselves are sound.
"""

from __future__ import annotations

import gc
from collections import deque
from collections.abc import Callable, Generator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from functools import cache
from multiprocessing import get_context

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from exchange.audit.checkpoints import Checkpoint, verify_checkpoint
from exchange.audit.index_check import IndexProblem, first_wrong_record_index
from exchange.audit.leaf import entry_leaf_hash
from exchange.audit.merkle import (
    CompactMerkleTree,
    PerfectSubtree,
    consistency_proof,
    verify_consistency,
)
from exchange.signing import NotCanonicalisable, SignatureMismatch
from exchange.store.database import Database
from exchange.store.models_audit import AUDIT_NODE_MIN_HEIGHT
from exchange.store.records_audit import CheckpointRow, StoredLeaf
from exchange.store.repositories import AuditRepository, CheckpointRepository

DEFAULT_BATCH = 10_000
# Below this many batches, starting worker processes costs more than it saves.
MIN_BATCHES_PER_WORKER = 4
# Never equal to a stored leaf hash (32 bytes) nor to a missing one (None).
UNCANONICALISABLE = b""
Progress = Callable[[int], None]


@dataclass(frozen=True)
class LeafBatch:
    """Consecutive stored entries (by seq) with their stored and recomputed leaf hashes,
    and what the index checks need of them."""

    seqs: list[int]
    stored: list[bytes | None]
    recomputed: list[bytes]
    record_index_problem: IndexProblem | None

    @classmethod
    def of(cls, entries: Sequence[StoredLeaf], repository: AuditRepository) -> LeafBatch:
        """Recompute the leaf hash of each entry and compare its record-id index rows."""
        seqs = [entry.seq for entry in entries]
        naming = [entry for entry in entries if entry.record_ids]  # a fifth, or fewer
        return cls(
            seqs,
            [entry.leaf_hash for entry in entries],
            [_recomputed_leaf_hash(entry) for entry in entries],
            first_wrong_record_index(repository, seqs[0], seqs[-1], naming) if seqs else None,
        )


@dataclass(frozen=True)
class Finding:
    """One thing wrong with the log; `seq` is the first entry concerned, when known."""

    kind: str
    detail: str
    seq: int | None = None


@dataclass
class VerificationReport:
    """What verification checked and found; the log is sound when `findings` is empty."""

    entries: int = 0
    checkpoints: int = 0
    unsigned_tail: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether nothing is wrong."""
        return not self.findings

    @property
    def first_bad_seq(self) -> int | None:
        """The smallest seq any finding names."""
        seqs = [finding.seq for finding in self.findings if finding.seq is not None]
        return min(seqs) if seqs else None


class _TreeCheck:
    """Walks the entries in order, extending the recomputed tree and comparing roots and
    stored nodes."""

    def __init__(
        self,
        checkpoints: Sequence[Checkpoint],
        report: VerificationReport,
        stored_nodes: dict[tuple[int, int], bytes],
        node_height: int,
        nodes_stored_up_to: int,
    ) -> None:
        self.tree = CompactMerkleTree(record_from_height=node_height)
        self._pending = list(checkpoints)
        self._report = report
        self._signed_up_to = 0
        # Popped as the walk completes each one; None once a bad node was reported.
        self._stored_nodes: dict[tuple[int, int], bytes] | None = stored_nodes
        # Leaves stored before the nodes were read: every node within them must be stored.
        self._nodes_stored_up_to = nodes_stored_up_to

    def visit(self, batch: LeafBatch) -> bool:
        """Check the next entries in log order; False once the log is broken (the first
        finding is made, exactly as if the entries were checked one by one)."""
        sound = self._sound_prefix(batch)
        if not self._extend(batch.recomputed[:sound]):
            return False
        if sound < len(batch.seqs):
            self._find_first_problem(batch.seqs[sound], batch.stored[sound])
            return False
        return True

    def finish(self, stored_leaves: int) -> None:
        """After the last entry: checkpoints or leaves beyond it mean entries were deleted;
        stored nodes the walk never completed were inserted."""
        size = self.tree.size
        if self._pending and not self._report.findings:
            beyond = self._pending[0]
            self._find(
                "truncated-log",
                f"checkpoint of size {beyond.tree_size} signed, but the log ends at {size}",
                size + 1,
            )
        elif stored_leaves > size and not self._report.findings:
            self._find(
                "missing-entry", f"entry {size + 1} is missing (its leaf is stored)", size + 1
            )
        # Checked last: entries deleted from the end leave their nodes behind too.
        if self._stored_nodes and not self._report.findings:
            height, index = min(self._stored_nodes)
            self._node_finding("unexpected-node", PerfectSubtree(height, index, b""), "is stored")
        self._report.unsigned_tail = max(0, size - self._signed_up_to)

    def _sound_prefix(self, batch: LeafBatch) -> int:
        """How many entries from the start of `batch` are in place and match their leaves."""
        first, count = self.tree.size + 1, len(batch.seqs)
        # Seqs come strictly increasing (primary key order): first and last in place
        # means none is missing in between.
        in_place = count == 0 or (batch.seqs[0] == first and batch.seqs[-1] == first + count - 1)
        if in_place and batch.recomputed == batch.stored:
            return count
        for position, (seq, stored, recomputed) in enumerate(
            zip(batch.seqs, batch.stored, batch.recomputed, strict=True)
        ):
            if seq != first + position or stored != recomputed:
                return position
        return count

    def _extend(self, leaf_hashes: Sequence[bytes]) -> bool:
        """Append sound leaves, comparing the root at each checkpoint's size on the way."""
        start = 0
        while start < len(leaf_hashes):
            room = self._leaves_before_next_checkpoint()
            end = len(leaf_hashes) if room is None else min(len(leaf_hashes), start + room)
            self.tree.extend(leaf_hashes[start:end])
            self._compare_nodes(self.tree.take_completed())
            start = end
            if not self._check_checkpoint():
                return False
        return True

    def _compare_nodes(self, completed: Sequence[PerfectSubtree]) -> None:
        """Each node the tree completed must be stored with the same hash."""
        if self._stored_nodes is None:
            return
        for node in completed:
            stored = self._stored_nodes.pop((node.height, node.idx), None)
            if stored is None and node.end_leaf > self._nodes_stored_up_to:
                continue  # appended while the log was read
            if stored is None:
                self._node_finding("missing-node", node, "is not stored")
                return
            if stored != node.root:
                self._node_finding("altered-node", node, "differs from the recomputed one")
                return

    def _node_finding(self, kind: str, node: PerfectSubtree, state: str) -> None:
        """Report the first bad node only: proofs over it fail to verify until it is fixed."""
        self._stored_nodes = None
        self._find(
            kind,
            f"Merkle node (height {node.height}, index {node.idx}) over entries "
            f"{node.first_leaf + 1}..{node.end_leaf} {state}: proofs through it fail to verify",
            None,
        )

    def _leaves_before_next_checkpoint(self) -> int | None:
        if not self._pending or self._pending[0].tree_size <= self.tree.size:
            # A checkpoint the tree has passed never matches; `finish` reports it.
            return None
        return self._pending[0].tree_size - self.tree.size

    def _find_first_problem(self, seq: int, stored: bytes | None) -> None:
        expected = self.tree.size + 1
        if seq != expected:
            self._find(
                "missing-entry", f"entry {expected} is missing (next stored is {seq})", expected
            )
        elif stored is None:
            self._find(
                "unsequenced-entry", f"entry {seq} has no leaf: the writer never appended it", seq
            )
        else:
            self._find(
                "altered-entry", f"entry {seq} does not match the leaf hash written with it", seq
            )

    def _check_checkpoint(self) -> bool:
        while self._pending and self._pending[0].tree_size == self.tree.size:
            checkpoint = self._pending.pop(0)
            if checkpoint.root_hash != self.tree.root():
                first = self._signed_up_to + 1
                self._find(
                    "root-mismatch",
                    f"the tree of {checkpoint.tree_size} entries does not have the signed root: "
                    f"an entry in {first}..{checkpoint.tree_size} was altered",
                    first,
                )
                return False
            self._signed_up_to = checkpoint.tree_size
        return True

    def _find(self, kind: str, detail: str, seq: int | None) -> None:
        self._report.findings.append(Finding(kind, detail, seq))


def _recomputed_leaf_hash(stored: StoredLeaf) -> bytes:
    try:
        return entry_leaf_hash(stored)
    except NotCanonicalisable:
        # The writer could not have stored it: an altered entry, whatever its stored leaf.
        return UNCANONICALISABLE


def verify_log(
    database: Database,
    public_keys: Mapping[str, Ed25519PublicKey],
    progress: Progress | None = None,
    batch_size: int = DEFAULT_BATCH,
    workers: int = 1,
    *,
    node_height: int = AUDIT_NODE_MIN_HEIGHT,
) -> VerificationReport:
    """Check every checkpoint's signature and recompute the tree over every entry, with
    up to `workers` processes recomputing leaves (one process for a small log); then the
    stored nodes (of `node_height` and up) and the indexes access reports read."""
    report = VerificationReport()
    checkpoints = _signed_checkpoints(database, public_keys, report)
    entries = AuditRepository(database)
    # Counted first: entries appended while the log is read are not deleted ones, and
    # the nodes read next include every node within these leaves.
    stored_leaves = entries.tree_size()
    check = _TreeCheck(checkpoints, report, entries.all_tree_nodes(), node_height, stored_leaves)
    indexes = _IndexCheck(report)
    with (
        _cycle_collector_paused(),
        closing(_leaf_batches(database, batch_size, workers)) as batches,
    ):
        for batch in batches:
            sound = check.visit(batch)
            report.entries += len(batch.seqs)
            if progress is not None:
                progress(len(batch.seqs))
            if not sound:
                return report
            indexes.visit(batch)
    check.finish(stored_leaves)
    return report


class _IndexCheck:
    """Reports the first sound batch whose record-id index rows differ from its entries."""

    def __init__(self, report: VerificationReport) -> None:
        self._report = report
        self._found = False

    def visit(self, batch: LeafBatch) -> None:
        """Check one batch whose entries are sound."""
        problem = batch.record_index_problem
        if problem is None or self._found:
            return
        self._found = True
        self._report.findings.append(Finding("record-index-mismatch", problem.detail, problem.seq))


@contextmanager
def _cycle_collector_paused() -> Generator[None, None, None]:
    """Reading a log allocates millions of short-lived tuples that hold no reference
    cycles: the cyclic collector's passes over them find nothing and cost a fifth of the
    time. Reference counting still frees every one of them."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _leaf_batches(
    database: Database, batch_size: int, workers: int
) -> Generator[LeafBatch, None, None]:
    """Every entry with its recomputed leaf, in log order, in batches."""
    last_seq = AuditRepository(database).last_seq()
    if workers <= 1 or last_seq < batch_size * MIN_BATCHES_PER_WORKER * workers:
        yield from _leaf_batches_in_process(database, batch_size)
    else:
        ranges = [
            (after, min(after + batch_size, last_seq)) for after in range(0, last_seq, batch_size)
        ]
        yield from _leaf_batches_in_workers(database, ranges, workers)


def _leaf_batches_in_process(
    database: Database, batch_size: int
) -> Generator[LeafBatch, None, None]:
    repository = AuditRepository(database)
    stream = repository.stream_with_leaves(batch_size=batch_size)
    with closing(stream) as batches:
        for batch in batches:
            yield LeafBatch.of(batch, repository)


def _leaf_batches_in_workers(
    database: Database, ranges: Sequence[tuple[int, int]], workers: int
) -> Generator[LeafBatch, None, None]:
    """Each range's batch recomputed by a pool of processes, yielded in log order, with
    at most two ranges per worker in flight (bounded memory however slow the caller)."""
    url = database.engine.url.render_as_string(hide_password=False)
    # "spawn": a fresh interpreter, safe whatever threads the calling process runs.
    pool = ProcessPoolExecutor(workers, get_context("spawn"))
    pending: deque[Future[LeafBatch]] = deque()
    try:
        for after, last in ranges:
            pending.append(pool.submit(_leaf_batch_of_range, url, after, last))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


@cache
def _worker_database(url: str) -> Database:
    """The store as a worker process sees it: opened once per process (which does
    nothing but recompute leaves, so it never needs the cyclic collector either)."""
    gc.disable()
    return Database(url)


def _leaf_batch_of_range(url: str, after_seq: int, last_seq: int) -> LeafBatch:
    """In a worker: the entries with `after_seq < seq <= last_seq`, leaves recomputed."""
    entries: list[StoredLeaf] = []
    repository = AuditRepository(_worker_database(url))
    stream = repository.stream_with_leaves(after_seq, last_seq)
    with closing(stream) as batches:
        for batch in batches:
            entries.extend(batch)
    return LeafBatch.of(entries, repository)


def verify_saved_checkpoint(
    database: Database,
    public_keys: Mapping[str, Ed25519PublicKey],
    saved: Checkpoint,
    progress: Progress | None = None,
    workers: int = 1,
) -> VerificationReport:
    """Check a checkpoint an auditor kept: its signature, that today's log has the same root
    at its size, and that the latest checkpoint is consistent with it (RFC 9162 proof)."""
    report = verify_log(database, public_keys, progress, workers=workers)
    try:
        verify_checkpoint(saved, public_keys)
    except SignatureMismatch as error:
        report.findings.append(Finding("checkpoint-signature", f"saved checkpoint: {error.detail}"))
        return report
    if not report.ok:
        return report
    latest = CheckpointRepository(database).latest()
    if latest is None or latest.tree_size < saved.tree_size:
        report.findings.append(
            Finding(
                "truncated-log",
                f"no checkpoint covers the saved size {saved.tree_size}",
                saved.tree_size,
            )
        )
        return report
    _check_consistency(database, saved, _checkpoint(latest), report)
    return report


def _check_consistency(
    database: Database, saved: Checkpoint, latest: Checkpoint, report: VerificationReport
) -> None:
    if saved.tree_size == 0:
        return
    leaves = AuditRepository(database).leaf_hashes(latest.tree_size)
    proof = consistency_proof(saved.tree_size, leaves)
    if not verify_consistency(
        saved.tree_size, latest.tree_size, saved.root_hash, latest.root_hash, proof
    ):
        report.findings.append(
            Finding(
                "inconsistent-checkpoint",
                f"the log of today does not extend the saved checkpoint of size {saved.tree_size}: "
                f"an entry in 1..{saved.tree_size} was altered",
                1,
            )
        )


def _signed_checkpoints(
    database: Database, public_keys: Mapping[str, Ed25519PublicKey], report: VerificationReport
) -> list[Checkpoint]:
    """The stored checkpoints whose signatures verify; each bad one becomes a finding."""
    good: list[Checkpoint] = []
    for row in _all_checkpoints(database):
        checkpoint = _checkpoint(row)
        try:
            verify_checkpoint(checkpoint, public_keys)
        except SignatureMismatch as error:
            report.findings.append(
                Finding(
                    "checkpoint-signature", f"checkpoint of size {row.tree_size}: {error.detail}"
                )
            )
            continue
        good.append(checkpoint)
    report.checkpoints = len(good)
    return good


def _all_checkpoints(database: Database) -> list[CheckpointRow]:
    repository = CheckpointRepository(database)
    rows: list[CheckpointRow] = []
    while batch := repository.list(min_size=rows[-1].tree_size + 1 if rows else 0):
        rows.extend(batch)
    return rows


def _checkpoint(row: CheckpointRow) -> Checkpoint:
    return Checkpoint(row.tree_size, row.root_hash, row.at, row.key_id, row.signature)
