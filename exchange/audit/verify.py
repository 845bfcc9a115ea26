"""`exchange audit verify`: recompute the audit tree from the stored entries and check it
against every signed checkpoint, naming the first entry that was altered.

Each entry's leaf hash is recomputed from its content and compared with the leaf hash the
writer stored when it appended it, and sequence numbers must run 1, 2, 3, ... without a
gap: an edited, swapped, deleted or inserted row is located exactly. If leaf hashes were
rewritten as well, the recomputed root no longer matches the first checkpoint signed
after the change, which bounds the altered entry to the range that checkpoint added.
The log is read in chunks (one query per chunk) and the tree kept compact, so memory
stays O(log n).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from exchange.audit.checkpoints import Checkpoint, verify_checkpoint
from exchange.audit.leaf import entry_leaf_hash
from exchange.audit.merkle import CompactMerkleTree, consistency_proof, verify_consistency
from exchange.signing import SignatureMismatch
from exchange.store.database import Database
from exchange.store.records_audit import CheckpointRow, StoredLeaf
from exchange.store.repositories import AuditRepository, CheckpointRepository

DEFAULT_CHUNK = 5000
Progress = Callable[[int], None]


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
    """Walks the entries in order, extending the recomputed tree and comparing roots."""

    def __init__(self, checkpoints: Sequence[Checkpoint], report: VerificationReport) -> None:
        self.tree = CompactMerkleTree()
        self._pending = list(checkpoints)
        self._report = report
        self._signed_up_to = 0

    def visit(self, stored: StoredLeaf) -> bool:
        """Check one entry; False once the log is broken (the first finding is made)."""
        expected = self.tree.size + 1
        seq = stored.entry.seq
        if seq != expected:
            self._find(
                "missing-entry", f"entry {expected} is missing (next stored is {seq})", expected
            )
            return False
        recomputed = entry_leaf_hash(stored.entry)
        if stored.leaf_hash is None:
            self._find(
                "unsequenced-entry", f"entry {seq} has no leaf: the writer never appended it", seq
            )
            return False
        if stored.leaf_hash != recomputed:
            self._find(
                "altered-entry", f"entry {seq} does not match the leaf hash written with it", seq
            )
            return False
        self.tree.append(recomputed)
        return self._check_checkpoint()

    def finish(self, stored_leaves: int) -> None:
        """After the last entry: checkpoints or leaves beyond it mean entries were deleted."""
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
        self._report.unsigned_tail = max(0, size - self._signed_up_to)

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


def verify_log(
    database: Database,
    public_keys: Mapping[str, Ed25519PublicKey],
    progress: Progress | None = None,
    chunk: int = DEFAULT_CHUNK,
) -> VerificationReport:
    """Check every checkpoint's signature and recompute the tree over every entry."""
    report = VerificationReport()
    checkpoints = _signed_checkpoints(database, public_keys, report)
    entries = AuditRepository(database)
    check = _TreeCheck(checkpoints, report)
    after = 0
    while batch := entries.scan_with_leaves(after, chunk):
        sound = all(check.visit(stored) for stored in batch)
        report.entries += len(batch)
        after = batch[-1].entry.seq
        if progress is not None:
            progress(len(batch))
        if not sound:
            return report
    check.finish(entries.tree_size())
    return report


def verify_saved_checkpoint(
    database: Database,
    public_keys: Mapping[str, Ed25519PublicKey],
    saved: Checkpoint,
    progress: Progress | None = None,
) -> VerificationReport:
    """Check a checkpoint an auditor kept: its signature, that today's log has the same root
    at its size, and that the latest checkpoint is consistent with it (RFC 9162 proof)."""
    report = verify_log(database, public_keys, progress)
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
