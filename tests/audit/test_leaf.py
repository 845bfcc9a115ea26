"""The leaf definition: which fields, in which text form, hashed how (docs/audit.md)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone

import rfc8785

from exchange.audit.leaf import entry_leaf_hash, leaf_document, rfc3339
from exchange.store.records import AuditEntryRow

ENTRY = AuditEntryRow(
    seq=7,
    at=datetime(2024, 11, 29, 8, 15, 2, 5, tzinfo=UTC),
    actor="tax",
    action="GET /v1/x",
    decision="allow",
    record_ids=("r-1",),
)


def test_time_is_rfc3339_utc_with_six_fraction_digits():
    plus_two = datetime(2024, 11, 29, 10, 0, tzinfo=timezone(timedelta(hours=2)))

    assert rfc3339(plus_two) == "2024-11-29T08:00:00.000000Z"


def test_the_leaf_covers_every_field_with_nulls_and_the_seq():
    document = leaf_document(ENTRY)

    assert document["seq"] == 7
    assert document["at"] == "2024-11-29T08:15:02.000005Z"
    assert document["subject"] is None
    assert document["record_ids"] == ["r-1"]
    assert len(document) == 16


def test_the_leaf_hash_is_sha256_of_zero_byte_and_jcs():
    expected = hashlib.sha256(b"\x00" + rfc8785.dumps(leaf_document(ENTRY))).digest()

    assert entry_leaf_hash(ENTRY) == expected
