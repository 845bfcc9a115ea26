"""The audit writer: the one process that sequences every hub instance's audit events
from the `exchange.audit` topic into the store and extends the Merkle tree.

Per batch: read messages, drop events whose `event_id` is already stored, give the rest
the next sequence numbers, store entries, leaves and the Merkle nodes they complete (perfect
subtrees of 2**node_height leaves and up, which proofs read) in one transaction, and only
then commit the topic offset. A crash between the two repeats the batch on restart, and the
ids make the repeat store nothing twice. A checkpoint is signed every
`every_entries` entries or `every_seconds` seconds (when the tree grew), and on stop.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from exchange.audit.checkpoints import Checkpoint, sign_checkpoint
from exchange.audit.event_codec import MalformedAuditMessage, ReceivedEvent, decode_event
from exchange.audit.leaf import entry_leaf_hash
from exchange.audit.merkle import CompactMerkleTree, PerfectSubtree
from exchange.audit.topic import AUDIT_TOPIC, AUDIT_WRITER_GROUP, ensure_audit_topic
from exchange.errors import ExchangeError
from exchange.signing import HubSigner
from exchange.store.clock import Clock, utc_now
from exchange.store.database import Database
from exchange.store.models_audit import AUDIT_NODE_MIN_HEIGHT
from exchange.store.records import AuditEntryRow
from exchange.store.repositories import (
    AuditRepository,
    CheckpointExists,
    CheckpointRepository,
    CheckpointRow,
    SequenceConflict,
    SequencedEntry,
)
from exchange.store.repositories.audit import fit_to_columns
from exchange.transport import Consumer, Message, TopicPartition, Transport

logger = logging.getLogger(__name__)

DEFAULT_BATCH = 500
_CONFLICT_RETRIES = 3


class AuditLogCorrupted(ExchangeError):
    """The stored leaves are not the contiguous run 1..n the writer must extend."""

    type_slug = "audit-log-corrupted"
    title = "Audit log corrupted"


@dataclass(frozen=True)
class CheckpointPolicy:
    """When the writer signs a checkpoint: after this many new entries, or this many
    seconds after the previous one when the tree has grown since."""

    every_entries: int = 1000
    every_seconds: float = 60.0


class AuditWriter:
    """Sequences audit events into the store; use from one thread."""

    def __init__(
        self,
        database: Database,
        transport: Transport,
        signer: Callable[[], HubSigner],
        *,
        replication_factor: int = 1,
        topic: str = AUDIT_TOPIC,
        group: str = AUDIT_WRITER_GROUP,
        policy: CheckpointPolicy | None = None,
        clock: Clock = utc_now,
        batch_size: int = DEFAULT_BATCH,
        node_height: int = AUDIT_NODE_MIN_HEIGHT,
    ) -> None:
        self._entries = AuditRepository(database)
        self._checkpoints = CheckpointRepository(database)
        self._transport = transport
        self._replication_factor = replication_factor
        self._topic = topic
        self._group = group
        self._consumer: Consumer | None = None
        self._signer_source = signer
        self._signer: HubSigner | None = None
        self._policy = policy or CheckpointPolicy()
        self._clock = clock
        self._batch_size = batch_size
        self._node_height = node_height
        self._tree = CompactMerkleTree()
        self._signed_size = 0
        self._signed_at = time.monotonic()
        self._next_offsets: dict[TopicPartition, int] = {}

    @property
    def tree_size(self) -> int:
        """How many entries the log holds, as far as this writer knows."""
        return self._tree.size

    def next_offset(self, partition: TopicPartition) -> int:
        """The offset after the last message this writer stored (or found stored)."""
        return self._next_offsets.get(partition, 0)

    def restore(self) -> None:
        """Join the writer group (creating the audit topic if needed) and load the tree from
        the store: the latest checkpoint's frontier, then the leaves stored after it. Call
        before the first `step`; the writer calls it again after a conflict."""
        if self._consumer is None:
            ensure_audit_topic(self._transport, self._replication_factor, self._topic)
            self._consumer = self._transport.consumer(self._group, [self._topic])
        latest = self._checkpoints.latest()
        tree = CompactMerkleTree()
        if latest is not None and len(latest.frontier) == latest.tree_size.bit_count():
            tree = CompactMerkleTree.restore(latest.tree_size, latest.frontier)
        while batch := self._entries.leaf_hashes_after(tree.size):
            for seq, leaf in batch:
                if seq != tree.size + 1:
                    raise AuditLogCorrupted(f"audit leaf {tree.size + 1} is missing")
                tree.append(leaf)
        self._tree = tree
        self._signed_size = latest.tree_size if latest is not None else 0
        self._signed_at = time.monotonic()

    def step(self, timeout_s: float) -> int:
        """Poll once, store what came, commit its offsets, sign a checkpoint if due.
        Returns how many messages were read (stored or found already stored)."""
        if self._consumer is None:
            raise RuntimeError("AuditWriter.restore must run before step")
        messages = self._consumer.poll(self._batch_size, timeout_s)
        if messages:
            self._store(messages)
            offsets = _next_offsets(messages)
            self._consumer.commit(offsets)
            self._next_offsets.update(offsets)
        if self._checkpoint_due():
            self.checkpoint()
        return len(messages)

    def checkpoint(self) -> Checkpoint | None:
        """Sign and store a checkpoint of the current tree if it grew since the last one."""
        if self._tree.size == self._signed_size:
            return None
        checkpoint = sign_checkpoint(
            self._hub_signer(), self._tree.size, self._tree.root(), self._clock()
        )
        try:
            self._checkpoints.add(_row(checkpoint, self._tree.subtree_roots))
        except CheckpointExists:
            logger.info("checkpoint of size %d was already signed", checkpoint.tree_size)
        self._signed_size = checkpoint.tree_size
        self._signed_at = time.monotonic()
        return checkpoint

    def close(self) -> None:
        """Leave the writer group (another writer takes the partition over)."""
        if self._consumer is not None:
            self._consumer.close()
            self._consumer = None

    def _checkpoint_due(self) -> bool:
        grown = self._tree.size - self._signed_size
        if grown <= 0:
            return False
        waited = time.monotonic() - self._signed_at
        return grown >= self._policy.every_entries or waited >= self._policy.every_seconds

    def _hub_signer(self) -> HubSigner:
        if self._signer is None:
            self._signer = self._signer_source()
        return self._signer

    def _store(self, messages: Sequence[Message]) -> None:
        events = _unique_events(messages)
        for attempt in range(_CONFLICT_RETRIES):
            try:
                self._append(events)
                return
            except SequenceConflict:
                # Another writer (a rebalance overlap) got there first: re-read its work.
                logger.warning("audit sequence conflict (attempt %d); reloading", attempt + 1)
                self.restore()
        self._append(events)

    def _append(self, events: Sequence[ReceivedEvent]) -> None:
        known = self._entries.known_event_ids([event.event_id for event in events])
        sequenced = self._sequence([event for event in events if event.event_id not in known])
        self._entries.append_sequenced(sequenced, self._nodes_completed_by(sequenced))
        for item in sequenced:
            self._tree.append(item.leaf_hash)
            # Sign at exact multiples of the policy's count, even inside a large batch.
            if self._tree.size - self._signed_size >= self._policy.every_entries:
                self.checkpoint()

    def _nodes_completed_by(self, sequenced: Sequence[SequencedEntry]) -> list[PerfectSubtree]:
        """The stored-height nodes these entries complete, from a copy of the tree (the
        writer's own tree grows only once they are stored)."""
        grown = CompactMerkleTree.restore(
            self._tree.size, self._tree.subtree_roots, record_from_height=self._node_height
        )
        grown.extend([item.leaf_hash for item in sequenced])
        return grown.take_completed()

    def _sequence(self, events: Sequence[ReceivedEvent]) -> list[SequencedEntry]:
        sequenced: list[SequencedEntry] = []
        for seq, event in enumerate(events, start=self._tree.size + 1):
            entry = fit_to_columns(event.entry)
            leaf = entry_leaf_hash(AuditEntryRow(**dataclasses.asdict(entry), seq=seq))
            sequenced.append(SequencedEntry(seq, event.event_id, entry, leaf))
        return sequenced


def _unique_events(messages: Sequence[Message]) -> list[ReceivedEvent]:
    """Decode messages in order, dropping repeats of an event id and unreadable ones."""
    events: dict[str, ReceivedEvent] = {}
    for message in messages:
        try:
            event = decode_event(message.value)
        except MalformedAuditMessage as error:
            # Nothing can place it in the log; stopping the writer would lose every event
            # after it instead. The transport keeps the message for inspection.
            logger.error("skipping audit message at offset %d: %s", message.offset, error.detail)
            continue
        events.setdefault(event.event_id, event)
    return list(events.values())


def _next_offsets(messages: Sequence[Message]) -> dict[TopicPartition, int]:
    offsets: dict[TopicPartition, int] = {}
    for message in messages:
        offsets[message.topic_partition] = max(
            offsets.get(message.topic_partition, 0), message.next_offset
        )
    return offsets


def _row(checkpoint: Checkpoint, frontier: tuple[bytes, ...]) -> CheckpointRow:
    return CheckpointRow(
        tree_size=checkpoint.tree_size,
        root_hash=checkpoint.root_hash,
        at=checkpoint.at,
        key_id=checkpoint.key_id,
        signature=checkpoint.signature,
        frontier=frontier,
    )


def run_writer(
    writer: AuditWriter,
    stop: threading.Event,
    poll_timeout_s: float = 0.5,
    idle: Callable[[int], None] | None = None,
) -> None:
    """Run `writer` until `stop` is set, then sign a last checkpoint (the shutdown one).

    `idle`, when given, is called after every step with the number of messages read
    (the in-process writer waits there for a wake-up instead of in the transport).
    """
    writer.restore()
    while not stop.is_set():
        read = writer.step(poll_timeout_s)
        if idle is not None:
            idle(read)
    writer.checkpoint()
