"""The audit log's rows: numbered in append order, filtered, and paged newest first."""

from __future__ import annotations

from dataclasses import asdict, replace
from datetime import UTC, datetime, timedelta

import pytest

from exchange.store.repositories import AuditEntryDraft, AuditFilters, AuditRepository

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)


def draft(minute: int = 0, **fields) -> AuditEntryDraft:
    base = AuditEntryDraft(
        at=T0 + timedelta(minutes=minute), actor="tax", action="records.publish", decision="allow"
    )
    return replace(base, **fields)


@pytest.fixture
def audit(db):
    return AuditRepository(db)


def test_appended_entries_are_numbered_from_one_in_order(audit):
    assert [audit.append(draft(n)) for n in range(3)] == [1, 2, 3]
    assert audit.count() == 3


def test_an_entry_reads_back_with_every_field(audit):
    entry = AuditEntryDraft(
        at=T0,
        actor="tax",
        actor_role="department",
        key_id="kid-1",
        action="records.publish",
        resource="/v1/subjects/tax.return/records",
        subject="tax.return",
        decision="deny",
        reason="no grant",
        status=403,
        request_id="req-1",
        request_digest="sha-256=:abc=:",
        record_ids=("r-1", "r-2"),
        purpose="licence check",
        grant_id="g-1",
    )

    seq = audit.append(entry)
    (stored,) = audit.query(AuditFilters())

    assert stored.seq == seq
    assert {k: v for k, v in asdict(stored).items() if k != "seq"} == asdict(entry)


@pytest.mark.parametrize(
    ("filters", "expected_seqs"),
    [
        (AuditFilters(), [5, 4, 3, 2, 1]),
        (AuditFilters(actor="health"), [4, 2]),
        (AuditFilters(subject="tax.return"), [3, 1]),
        (AuditFilters(action="grants.approve"), [5]),
        (AuditFilters(decision="deny"), [4, 2]),
        (AuditFilters(actor="health", decision="deny", subject="tax.return"), []),
        (AuditFilters(record_id="r-1"), [3, 1]),
        (AuditFilters(record_id="r-"), []),
        (AuditFilters(since=T0 + timedelta(minutes=2)), [5, 4, 3]),
        (AuditFilters(until=T0 + timedelta(minutes=2)), [2, 1]),
        (
            AuditFilters(since=T0 + timedelta(minutes=1), until=T0 + timedelta(minutes=3)),
            [3, 2],
        ),
    ],
)
def test_query_returns_only_matching_entries_newest_first(audit, filters, expected_seqs):
    audit.append(draft(0, subject="tax.return", record_ids=("r-1",)))
    audit.append(draft(1, actor="health", decision="deny", subject="health.visit"))
    audit.append(draft(2, subject="tax.return", record_ids=("r-10", "r-1")))
    audit.append(draft(3, actor="health", decision="deny", record_ids=("r-10",)))
    audit.append(draft(4, action="grants.approve", actor="admin"))

    found = audit.query(filters, before_seq=None, limit=100)

    assert [entry.seq for entry in found] == expected_seqs


def test_record_id_filter_treats_like_wildcards_literally(audit):
    audit.append(draft(0, record_ids=("r_1",)))
    audit.append(draft(1, record_ids=("rx1",)))

    assert [e.seq for e in audit.query(AuditFilters(record_id="r_1"))] == [1]
    assert audit.query(AuditFilters(record_id="r%")) == []


def test_pages_follow_the_seq_cursor_without_gaps_or_repeats(audit):
    for n in range(7):
        audit.append(draft(n, decision="deny" if n % 2 else "allow"))

    pages = []
    cursor = None
    while True:
        page = audit.query(AuditFilters(decision="allow"), before_seq=cursor, limit=2)
        if not page:
            break
        pages.append([entry.seq for entry in page])
        cursor = page[-1].seq

    assert pages == [[7, 5], [3, 1]]


def test_scan_reads_the_log_in_order_from_a_position(audit):
    for n in range(5):
        audit.append(draft(n))

    assert [e.seq for e in audit.scan(after_seq=0, limit=3)] == [1, 2, 3]
    assert [e.seq for e in audit.scan(after_seq=3, limit=3)] == [4, 5]
