"""The leaf definition: which fields, in which text form, hashed how (docs/audit.md); and
the direct leaf builder gives exactly the RFC 8785 form of the leaf document."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone

import rfc8785
from hypothesis import example, given, settings
from hypothesis import strategies as st

from exchange.audit.leaf import (
    RFC3339_MICROSECONDS,
    entry_leaf_hash,
    leaf_bytes,
    leaf_document,
    rfc3339,
)
from exchange.signing.canonical import NotCanonicalisable, canonical_json_by_rfc8785
from exchange.store.records import AuditEntryRow

ENTRY = AuditEntryRow(
    seq=7,
    at=datetime(2024, 11, 29, 8, 15, 2, 5, tzinfo=UTC),
    actor="tax",
    action="GET /v1/x",
    decision="allow",
    record_ids=("r-1",),
)

# Every character class where a hand-built JSON text could differ from RFC 8785:
# controls, quote and backslash, non-ASCII, U+2028, lone surrogates, astral characters.
tricky_text = st.text(
    st.one_of(
        st.characters(max_codepoint=0x7F, exclude_categories=()),
        st.characters(min_codepoint=0x80, max_codepoint=0x10FFFF, exclude_categories=()),
    ),
    max_size=8,
)
optional_text = st.none() | tricky_text
integers = st.one_of(
    st.integers(min_value=-(2**53) - 2, max_value=2**53 + 2),
    st.integers(min_value=-(2**64), max_value=2**64),
)
moments = st.datetimes(
    min_value=datetime(1, 1, 2),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=-5)), timezone(timedelta(hours=9))]),
)
entries = st.builds(
    AuditEntryRow,
    seq=integers,
    at=moments,
    actor=tricky_text,
    action=tricky_text,
    decision=tricky_text,
    actor_role=optional_text,
    key_id=optional_text,
    resource=optional_text,
    subject=optional_text,
    reason=optional_text,
    status=st.none() | integers,
    request_id=optional_text,
    request_digest=optional_text,
    record_ids=st.lists(tricky_text, max_size=3).map(tuple),
    purpose=optional_text,
    grant_id=optional_text,
)


def test_time_is_rfc3339_utc_with_six_fraction_digits():
    plus_two = datetime(2024, 11, 29, 10, 0, tzinfo=timezone(timedelta(hours=2)))

    assert rfc3339(plus_two) == "2024-11-29T08:00:00.000000Z"


@given(moment=moments)
@example(moment=datetime(999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC))
@example(moment=datetime(1000, 1, 1, tzinfo=UTC))
def test_time_text_is_the_strftime_form_for_every_moment(moment):
    assert rfc3339(moment) == moment.astimezone(UTC).strftime(RFC3339_MICROSECONDS)


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


def rfc8785_leaf(entry: AuditEntryRow) -> bytes | str:
    try:
        return canonical_json_by_rfc8785(leaf_document(entry))
    except NotCanonicalisable as error:
        return type(error).__name__


def built_leaf(entry: AuditEntryRow) -> bytes | str:
    try:
        return leaf_bytes(entry)
    except NotCanonicalisable as error:
        return type(error).__name__


@settings(max_examples=500)
@given(entry=entries)
@example(entry=ENTRY)
@example(entry=AuditEntryRow(seq=2**53, at=ENTRY.at, actor="a", action="b", decision="allow"))
@example(entry=AuditEntryRow(seq=1, at=ENTRY.at, actor="\ud800", action="b", decision="deny"))
def test_the_built_leaf_is_the_rfc8785_form_of_the_leaf_document(entry):
    assert built_leaf(entry) == rfc8785_leaf(entry)


def test_a_leaf_of_unexpected_types_still_gets_its_rfc8785_form():
    odd = AuditEntryRow(
        seq=3,
        at=ENTRY.at,
        actor="tax",
        action="GET /v1/x",
        decision="allow",
        status=True,
        record_ids=(1.5, None),  # type: ignore[arg-type]
    )

    assert leaf_bytes(odd) == rfc8785.dumps(leaf_document(odd))
    assert b'"record_ids":[1.5,null]' in leaf_bytes(odd)
