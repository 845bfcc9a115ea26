"""The audit log's rows: numbered in append order, filtered, and paged newest first."""

from __future__ import annotations

from dataclasses import asdict, replace
from datetime import UTC, datetime, timedelta

import pytest

from exchange.store.repositories import AuditEntryDraft, AuditFilters, AuditRepository
from exchange.store.repositories import audit as audit_repository

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


# Hub clocks differ: `at` follows `seq` only roughly. Minutes of seq 1..10:
OUT_OF_ORDER_MINUTES = [0, 5, 1, 6, 2, 9, 3, 4, 8, 7]


@pytest.fixture(params=[1000, 3, 1], ids=lambda n: f"blocks-of-{n}")
def audit_in_time_blocks(request, audit, monkeypatch):
    """The repository with time blocks of the given size: small ones put the windows
    below across several blocks, whose spans overlap because times are out of order."""
    monkeypatch.setattr(audit_repository, "AUDIT_TIME_BLOCK_ENTRIES", request.param)
    for minute in OUT_OF_ORDER_MINUTES:
        audit.append(draft(minute, actor="health" if minute % 2 else "tax"))
    return audit


def seqs_in(since: int | None, until: int | None) -> list[int]:
    """The seqs whose minute is in the window, newest first."""
    return [
        seq
        for seq, minute in reversed(list(enumerate(OUT_OF_ORDER_MINUTES, start=1)))
        if (since is None or minute >= since) and (until is None or minute < until)
    ]


def window(since: int | None, until: int | None, **fields) -> AuditFilters:
    return AuditFilters(
        since=None if since is None else T0 + timedelta(minutes=since),
        until=None if until is None else T0 + timedelta(minutes=until),
        **fields,
    )


@pytest.mark.parametrize(
    ("since", "until"), [(2, 7), (0, 1), (9, 10), (5, None), (None, 3), (4, 5), (0, 10)]
)
def test_a_time_window_pages_newest_first_even_when_times_are_out_of_seq_order(
    audit_in_time_blocks, since, until
):
    pages, cursor = [], None
    while page := audit_in_time_blocks.query(window(since, until), before_seq=cursor, limit=2):
        pages.append([entry.seq for entry in page])
        cursor = page[-1].seq

    assert [seq for page in pages for seq in page] == seqs_in(since, until)
    assert all(len(page) == 2 for page in pages[:-1])


def test_a_time_window_combines_with_the_other_filters(audit_in_time_blocks):
    found = audit_in_time_blocks.query(window(2, 7, actor="tax"))

    assert [entry.seq for entry in found] == [8, 5, 4]
    assert audit_in_time_blocks.query(window(2, 7), before_seq=2) == []


@pytest.mark.parametrize(("since", "until"), [(-5, 0), (10, 20), (3, 3)])
def test_a_time_window_without_entries_finds_nothing(audit_in_time_blocks, since, until):
    assert audit_in_time_blocks.query(window(since, until)) == []


def test_scan_reads_the_log_in_order_from_a_position(audit):
    for n in range(5):
        audit.append(draft(n))

    assert [e.seq for e in audit.scan(after_seq=0, limit=3)] == [1, 2, 3]
    assert [e.seq for e in audit.scan(after_seq=3, limit=3)] == [4, 5]
