"""Fill a store with a large, realistic, verifiable audit log without going through HTTP.

Entries are stored the way the audit writer stores them (`AuditRepository.append_sequenced`
with the leaf hash of each entry's canonical form and the Merkle nodes they complete), and
a checkpoint is signed with the hub's key every `checkpoint_every` entries, so
`exchange audit verify` accepts the result.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from exchange.audit.checkpoints import sign_checkpoint
from exchange.audit.leaf import entry_leaf_hash
from exchange.audit.merkle import CompactMerkleTree
from exchange.signing import HubSigner
from exchange.store.database import Database
from exchange.store.models_audit import AUDIT_NODE_MIN_HEIGHT
from exchange.store.records import AuditDecision, AuditEntryDraft, AuditEntryRow
from exchange.store.records_audit import AuditSearch
from exchange.store.repositories import (
    AuditRepository,
    CheckpointRepository,
    CheckpointRow,
    SequencedEntry,
)

DEPARTMENTS = tuple(f"department-{n:02d}" for n in range(20))
SUBJECTS = tuple(f"{department}.dataset-{n}" for department in DEPARTMENTS for n in range(3))
ACTIONS = (
    "POST /v1/subjects/{subject}/records",
    "GET /v1/subscriptions/{id}/records",
    "POST /v1/subscriptions/{id}/ack",
    "GET /v1/subjects/{subject}/records/{key}",
    "POST /v1/grants",
)
DECISIONS: tuple[AuditDecision, ...] = ("allow", "deny", "error")
LOG_START = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class FilledLog:
    """What was written, and one value of each filter that is known to match."""

    entries: int
    checkpoints: int
    sample_actor: str
    sample_subject: str
    sample_action: str
    sample_record_id: str
    sample_key_id: str
    first_at: datetime
    last_at: datetime


def fill_audit_log(
    database: Database,
    signer: HubSigner,
    entries: int,
    *,
    checkpoint_every: int = 1000,
    seed: int = 8,
    progress: Callable[[int], None] | None = None,
) -> FilledLog:
    """Append `entries` synthetic entries after the log's existing ones (`exchange init`
    audits the keys it creates), storing them (and signing a checkpoint) every
    `checkpoint_every` entries as the writer does; deterministic for a given `seed`."""
    repository = AuditRepository(database)
    checkpoints = CheckpointRepository(database)
    existing = repository.tree_size()
    tree = CompactMerkleTree(record_from_height=AUDIT_NODE_MIN_HEIGHT)
    tree.extend(repository.leaf_hashes(existing))
    tree.take_completed()  # stored with the existing leaves
    # After the existing entries in time too, as a real log grows: a time window's seq
    # range would otherwise stretch back to the first entries.
    start = max(LOG_START, _latest_at(repository))
    generator = _EntryGenerator(random.Random(seed), start)
    first_record_id = ""
    batch: list[SequencedEntry] = []
    for seq, draft in enumerate(generator.drafts(entries), start=existing + 1):
        first_record_id = first_record_id or (draft.record_ids[0] if draft.record_ids else "")
        leaf = entry_leaf_hash(_row(draft, seq))
        batch.append(SequencedEntry(seq, str(uuid.UUID(int=seq)), draft, leaf))
        tree.append(leaf)
        if (seq - existing) % checkpoint_every == 0 or seq == existing + entries:
            repository.append_sequenced(batch, tree.take_completed())
            if progress is not None:
                progress(len(batch))
            batch = []
            checkpoint = sign_checkpoint(signer, tree.size, tree.root(), draft.at)
            checkpoints.add(
                CheckpointRow(
                    checkpoint.tree_size,
                    checkpoint.root_hash,
                    checkpoint.at,
                    checkpoint.key_id,
                    checkpoint.signature,
                    tree.subtree_roots,
                )
            )
    return FilledLog(
        entries=entries,
        checkpoints=-(-entries // checkpoint_every),
        sample_actor=DEPARTMENTS[3],
        sample_subject=SUBJECTS[7],
        sample_action=ACTIONS[1],
        sample_record_id=first_record_id,
        sample_key_id=_key_id_of(DEPARTMENTS[3]),
        first_at=start,
        last_at=generator.last_at,
    )


def _latest_at(repository: AuditRepository) -> datetime:
    newest = repository.query(AuditSearch(), None, 1)
    return newest[0].at if newest else LOG_START


def _row(draft: AuditEntryDraft, seq: int) -> AuditEntryRow:
    return AuditEntryRow(
        seq=seq,
        at=draft.at,
        actor=draft.actor,
        action=draft.action,
        decision=draft.decision,
        actor_role=draft.actor_role,
        key_id=draft.key_id,
        resource=draft.resource,
        subject=draft.subject,
        reason=draft.reason,
        status=draft.status,
        request_id=draft.request_id,
        request_digest=draft.request_digest,
        record_ids=draft.record_ids,
        purpose=draft.purpose,
        grant_id=draft.grant_id,
    )


def _key_id_of(department: str) -> str:
    return uuid.uuid5(uuid.NAMESPACE_DNS, department).hex


class _EntryGenerator:
    """Entries shaped like a busy hub's: mostly publishes and pulls, a few refusals."""

    def __init__(self, chooser: random.Random, start: datetime) -> None:
        self._random = chooser
        self.last_at = start

    def drafts(self, count: int) -> Iterator[AuditEntryDraft]:
        for _ in range(count):
            yield self._next()

    def _next(self) -> AuditEntryDraft:
        choose = self._random
        self.last_at += timedelta(milliseconds=choose.randint(1, 40))
        department = choose.choice(DEPARTMENTS)
        subject = choose.choice(SUBJECTS)
        action = choose.choice(ACTIONS)
        decision: AuditDecision = choose.choices(DECISIONS, weights=(95, 4, 1))[0]
        publishes = action.startswith("POST /v1/subjects")
        record_ids = (
            tuple(str(uuid.UUID(int=choose.getrandbits(128), version=4)) for _ in range(2))
            if publishes and decision == "allow"
            else ()
        )
        return AuditEntryDraft(
            at=self.last_at,
            actor=department,
            actor_role="department",
            key_id=_key_id_of(department),
            action=action,
            resource=action.replace("{subject}", subject).replace("{id}", "sub-1"),
            subject=subject,
            decision=decision,
            reason=None if decision == "allow" else "refused by policy",
            status={"allow": 200, "deny": 403, "error": 503}[decision],
            request_id=uuid.UUID(int=choose.getrandbits(128), version=4).hex,
            request_digest=f"sha-256:{choose.getrandbits(256):064x}",
            record_ids=record_ids,
        )
