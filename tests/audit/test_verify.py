"""`exchange audit verify` recomputes the tree from the store: every kind of tampering
with stored entries is caught, and the first bad seq is named, with a non-zero exit."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from exchange.audit.checkpoints import Checkpoint, hub_public_keys, sign_checkpoint
from exchange.audit.leaf import entry_leaf_hash
from exchange.audit.verify import verify_log
from exchange.cli import main
from exchange.store.repositories import AuditRepository, CheckpointRepository
from tests.audit.support import T0, hub_signer_in

COLUMNS = (
    "at, actor, actor_role, key_id, action, resource, subject, decision, reason, status, "
    "request_id, request_digest, record_ids, purpose, grant_id"
)


def verify(database_url, *extra):
    return CliRunner().invoke(main, ["audit", "verify", "--database-url", database_url, *extra])


def stored_entry(db, seq):
    entry = AuditRepository(db).find(seq)
    assert entry is not None
    return entry


def tamper(db, *statements, **params):
    with db.engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement), params)


@pytest.fixture
def written(log, database_url):
    log.every_entries = 2
    log.write(7)
    return log


def test_an_untouched_log_verifies(written, database_url):
    result = verify(database_url)

    assert result.exit_code == 0, result.output
    assert "7 entries, 4 valid checkpoints" in result.output
    assert "OK" in result.output


def test_an_edited_field_is_located(written, database_url):
    tamper(written.database, "UPDATE audit_entries SET actor = 'mallory' WHERE seq = 3")

    result = verify(database_url)

    assert result.exit_code == 1
    assert "altered-entry: seq 3" in result.output
    assert "first bad seq: 3" in result.output


def test_a_deleted_row_is_located(written, database_url):
    tamper(written.database, "DELETE FROM audit_entries WHERE seq = 4")

    result = verify(database_url)

    assert result.exit_code == 1
    assert "missing-entry: seq 4" in result.output


def test_a_deleted_last_row_is_located(written, database_url):
    tamper(written.database, "DELETE FROM audit_entries WHERE seq = 7")

    result = verify(database_url)

    assert result.exit_code == 1
    assert "first bad seq: 7" in result.output


def test_an_inserted_row_is_located(written, database_url):
    tamper(
        written.database,
        f"INSERT INTO audit_entries (seq, {COLUMNS}) SELECT 8, {COLUMNS} FROM audit_entries "
        "WHERE seq = 2",
    )

    result = verify(database_url)

    assert result.exit_code == 1
    assert "unsequenced-entry: seq 8" in result.output


def test_two_swapped_rows_are_located(written, database_url):
    tamper(
        written.database,
        "UPDATE audit_entries SET request_id = 'swap' WHERE seq = 2",
        "UPDATE audit_entries SET request_id = 'req-2' WHERE seq = 5",
        "UPDATE audit_entries SET request_id = 'req-5' WHERE seq = 2",
        "UPDATE audit_entries SET at = :late WHERE seq = 2",
        "UPDATE audit_entries SET at = :early WHERE seq = 5",
        late=stored_entry(written.database, 5).at,
        early=stored_entry(written.database, 2).at,
    )

    result = verify(database_url)

    assert result.exit_code == 1
    assert "first bad seq: 2" in result.output


def test_an_entry_edited_beyond_canonical_json_is_located(written, database_url):
    # A lone surrogate has no UTF-8 form, so no writer could have hashed this entry.
    tamper(
        written.database,
        "UPDATE audit_entries SET record_ids = :ids WHERE seq = 5",
        ids='["\\ud800"]',
    )

    result = verify(database_url)

    assert result.exit_code == 1
    assert "altered-entry: seq 5" in result.output


def test_an_edit_that_also_rewrites_the_leaf_is_caught_by_the_signed_root(written, database_url):
    tamper(written.database, "UPDATE audit_entries SET decision = 'allow' WHERE seq = 3")
    forged = entry_leaf_hash(stored_entry(written.database, 3))
    tamper(written.database, "UPDATE audit_leaves SET leaf_hash = :leaf WHERE seq = 3", leaf=forged)

    result = verify(database_url)

    assert result.exit_code == 1
    assert "root-mismatch: seq 3" in result.output
    assert "3..4" in result.output


def test_a_checkpoint_with_a_bad_signature_fails(written, database_url):
    tamper(written.database, "UPDATE audit_checkpoints SET tree_size = 3 WHERE tree_size = 2")

    result = verify(database_url)

    assert result.exit_code == 1
    assert "checkpoint-signature" in result.output


def test_a_saved_checkpoint_is_consistent_with_the_grown_log(log, database_url, tmp_path):
    log.write(4)
    saved = CheckpointRepository(log.database).latest()
    path = tmp_path / "checkpoint.json"
    path.write_text(json.dumps(_served(saved)))
    log.write(3)

    result = verify(database_url, "--checkpoint", str(path))

    assert result.exit_code == 0, result.output


def test_a_saved_checkpoint_of_another_tree_is_reported_inconsistent(log, database_url, tmp_path):
    log.write(6)
    fork = sign_checkpoint(log.signer, 4, b"\x07" * 32, T0)
    path = tmp_path / "checkpoint.json"
    path.write_text(json.dumps(fork.to_json()))

    result = verify(database_url, "--checkpoint", str(path))

    assert result.exit_code == 1
    assert "inconsistent-checkpoint" in result.output


def test_a_saved_checkpoint_signed_by_an_unknown_key_is_refused(log, db, database_url, tmp_path):
    log.write(2)
    stranger = hub_signer_in(db)
    tamper(db, "DELETE FROM hub_keys WHERE key_id = :kid", kid=stranger.key_id)
    path = tmp_path / "checkpoint.json"
    path.write_text(json.dumps(sign_checkpoint(stranger, 2, b"\x00" * 32, T0).to_json()))

    result = verify(database_url, "--checkpoint", str(path))

    assert result.exit_code == 1
    assert "unknown hub key" in result.output


def _served(row):
    return Checkpoint(row.tree_size, row.root_hash, row.at, row.key_id, row.signature).to_json()


@pytest.mark.parametrize(
    ("tampering", "first_bad_seq"),
    [
        ((), None),
        (("UPDATE audit_entries SET actor = 'mallory' WHERE seq = 11",), 11),
        (("DELETE FROM audit_entries WHERE seq = 14",), 14),
        (
            (
                f"INSERT INTO audit_entries (seq, {COLUMNS}) SELECT 21, {COLUMNS} "
                "FROM audit_entries WHERE seq = 2",
            ),
            21,
        ),
    ],
)
def test_worker_processes_find_what_one_process_finds(log, tampering, first_bad_seq):
    log.every_entries = 3
    log.write(20)
    tamper(log.database, *tampering)
    keys = hub_public_keys(log.database)

    alone = verify_log(log.database, keys, batch_size=2, workers=1)
    shared = verify_log(log.database, keys, batch_size=2, workers=2)

    assert shared.findings == alone.findings
    assert shared.first_bad_seq == first_bad_seq
    assert shared.checkpoints == alone.checkpoints == 7
    if first_bad_seq is None:
        assert shared == alone
        assert shared.entries == 20


# --- the derived tables proofs and access reports read ---


@pytest.fixture
def with_nodes(log):
    log.every_entries = 3
    log.node_height = 2
    log.write(13)
    return log


def verify_nodes(log):
    return verify_log(log.database, hub_public_keys(log.database), node_height=2)


def test_a_log_with_sound_nodes_verifies(with_nodes):
    report = verify_nodes(with_nodes)

    assert report.ok, report.findings


@pytest.mark.parametrize(
    ("statement", "kind", "node"),
    [
        (
            "UPDATE audit_tree_nodes SET hash = :junk WHERE height = 2 AND idx = 1",
            "altered",
            "2, 1",
        ),
        (
            "UPDATE audit_tree_nodes SET hash = :junk WHERE height = 3 AND idx = 0",
            "altered",
            "3, 0",
        ),
        ("DELETE FROM audit_tree_nodes WHERE height = 2 AND idx = 2", "missing", "2, 2"),
        (
            "INSERT INTO audit_tree_nodes (height, idx, hash) VALUES (2, 9, :junk)",
            "unexpected",
            "2, 9",
        ),
    ],
)
def test_a_tampered_stored_node_is_named(with_nodes, statement, kind, node):
    tamper(with_nodes.database, statement, junk=b"\x07" * 32)

    report = verify_nodes(with_nodes)

    (finding,) = report.findings
    assert finding.kind == f"{kind}-node"
    height, index = (int(part) for part in node.split(", "))
    assert f"(height {height}, index {index})" in finding.detail
    assert f"entries {(index << height) + 1}..{(index + 1) << height}" in finding.detail
    # The entries are sound: the node is a cache that only proofs read.
    assert report.first_bad_seq is None


def test_a_deleted_record_id_index_row_is_located(written, database_url):
    tamper(written.database, "DELETE FROM audit_record_ids WHERE seq = 4")

    result = verify(database_url)

    assert result.exit_code == 1
    assert "record-index-mismatch: seq 4" in result.output
    assert "lacks rec-4" in result.output


def test_an_inserted_record_id_index_row_is_located(written, database_url):
    tamper(written.database, "INSERT INTO audit_record_ids (record_id, seq) VALUES ('rec-9', 6)")

    result = verify(database_url)

    assert result.exit_code == 1
    assert "record-index-mismatch: seq 6" in result.output
    assert "adds rec-9" in result.output


PULL = "GET /v1/subscriptions/<subscription_id>/records"


def test_entries_deleted_from_the_end_are_reported_before_the_nodes_they_leave(with_nodes):
    tamper(
        with_nodes.database,
        "DELETE FROM audit_entries WHERE seq > 8",
        "DELETE FROM audit_leaves WHERE seq > 8",
    )

    report = verify_nodes(with_nodes)

    assert [finding.kind for finding in report.findings] == ["truncated-log"]
    assert report.first_bad_seq == 9
