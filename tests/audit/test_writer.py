"""The audit writer: events from the topic become entries 1..n with leaves, exactly once,
and a signed checkpoint every N entries, every T seconds when the log grew, and on stop."""

from __future__ import annotations

import threading
from types import SimpleNamespace

from exchange.audit.checkpoints import Checkpoint, hub_public_keys, verify_checkpoint
from exchange.audit.leaf import entry_leaf_hash
from exchange.audit.merkle import root_from_leaf_hashes
from exchange.audit.writer import AuditWriter, CheckpointPolicy, run_writer
from exchange.store.repositories import AuditFilters, AuditRepository, CheckpointRepository
from tests.audit.support import drive_until, event


def test_events_become_entries_numbered_from_one_in_topic_order(log):
    log.write(5)

    entries = AuditRepository(log.database).scan()
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    assert [e.request_id for e in entries] == [f"req-{n}" for n in range(1, 6)]
    assert entries[0].at == event(1).at


def test_stored_leaf_hashes_cover_each_entry_with_its_seq(log):
    log.write(3)

    repository = AuditRepository(log.database)
    assert repository.leaf_hashes(3) == [entry_leaf_hash(e) for e in repository.scan()]


def test_a_checkpoint_is_signed_every_n_entries_and_verifies(log):
    log.every_entries = 2
    log.write(5, checkpoint_at_end=False)

    rows = CheckpointRepository(log.database).list()
    assert [row.tree_size for row in rows] == [2, 4]
    leaves = AuditRepository(log.database).leaf_hashes(4)
    for row in rows:
        assert row.root_hash == root_from_leaf_hashes(leaves[: row.tree_size])
        checkpoint = Checkpoint(row.tree_size, row.root_hash, row.at, row.key_id, row.signature)
        verify_checkpoint(checkpoint, hub_public_keys(log.database))


def test_a_writer_restarted_before_committing_its_offset_stores_nothing_twice(log):
    log.produce([event(n) for n in range(1, 4)])
    first = log.writer()
    drive_until(first, 3)
    # Simulate a crash after the store commit but before the offset commit: rewind the
    # group's offset so the next writer reads the same messages again.
    partition = next(iter(first._next_offsets))
    first._consumer.commit({partition: 0})
    first.close()

    log.produce([event(4)])
    second = log.writer()
    drive_until(second, 4)
    second.close()

    entries = AuditRepository(log.database).scan()
    assert [e.request_id for e in entries] == ["req-1", "req-2", "req-3", "req-4"]


def test_a_restarted_writer_continues_the_same_tree(log):
    log.every_entries = 3
    log.write(4)
    log.write(3)

    repository = AuditRepository(log.database)
    latest = CheckpointRepository(log.database).latest()
    assert latest is not None
    assert latest.tree_size == 7
    assert latest.root_hash == root_from_leaf_hashes(repository.leaf_hashes(7))


def test_over_long_text_is_clipped_to_its_column_before_hashing(log):
    log.produce([event(1, resource="/v1/" + "x" * 5000)])
    writer = log.writer()
    drive_until(writer, 1)
    writer.close()

    (entry,) = AuditRepository(log.database).query(AuditFilters())
    assert entry.resource is not None
    assert len(entry.resource) == 1024
    assert entry.resource.endswith("…")
    assert AuditRepository(log.database).leaf_hashes(1) == [entry_leaf_hash(entry)]


def signed_sizes(database) -> list[int]:
    return [row.tree_size for row in CheckpointRepository(database).list()]


def test_a_checkpoint_is_signed_t_seconds_after_the_last_one_only_when_the_log_grew(
    log, monkeypatch
):
    # The writer's own monotonic clock, stepped by the test instead of waited for.
    now = [1000.0]
    monkeypatch.setattr("exchange.audit.writer.time", SimpleNamespace(monotonic=lambda: now[0]))
    writer = AuditWriter(
        log.database,
        log.transport,
        lambda: log.signer,
        policy=CheckpointPolicy(every_entries=1000, every_seconds=60),
    )
    writer.restore()
    log.produce([event(1), event(2)])
    drive_until(writer, 2)
    now[0] += 59.9
    writer.step(0.05)
    assert signed_sizes(log.database) == []

    now[0] += 0.1
    writer.step(0.05)
    assert signed_sizes(log.database) == [2]

    now[0] += 600
    writer.step(0.05)
    assert signed_sizes(log.database) == [2], "nothing new to sign"

    log.produce([event(3)])
    drive_until(writer, 3)
    assert signed_sizes(log.database) == [2, 3], "T seconds had passed when the log grew"
    writer.close()


def test_stopping_the_writer_signs_a_last_checkpoint_of_everything_stored(log):
    log.produce([event(n) for n in range(1, 4)])
    writer = AuditWriter(
        log.database,
        log.transport,
        lambda: log.signer,
        policy=CheckpointPolicy(every_entries=1000, every_seconds=3600),
    )
    stop = threading.Event()
    unsigned_at_stop: list[int] = []

    def stop_once_all_stored(_read: int) -> None:
        if writer.tree_size == 3 and not stop.is_set():
            unsigned_at_stop.extend(signed_sizes(log.database))
            stop.set()

    run_writer(writer, stop, poll_timeout_s=0.05, idle=stop_once_all_stored)
    writer.close()

    assert unsigned_at_stop == []
    (row,) = CheckpointRepository(log.database).list()
    assert row.tree_size == 3
    assert row.root_hash == root_from_leaf_hashes(AuditRepository(log.database).leaf_hashes(3))
    checkpoint = Checkpoint(row.tree_size, row.root_hash, row.at, row.key_id, row.signature)
    verify_checkpoint(checkpoint, hub_public_keys(log.database))
