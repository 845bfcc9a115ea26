"""The record-id index checked against the audit entries.

The `record_id` filter and the access report find entries through `audit_record_ids`,
an index the signed tree does not cover: a deleted row would silently drop an entry from
both. So `exchange audit verify` checks, for each batch of entries it reads, that the index
rows of the batch's seq range (one range scan of its seq index) are exactly the distinct
record ids each entry names.

The access report's other table, the view's `record_keys` (which record ids a key has), is
not checked here: it is built from the subject topics, a little after each publish, so a
live log would show false alarms; `exchange view rebuild` restores it from the topics.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from exchange.store.records_audit import StoredLeaf
from exchange.store.repositories import AuditRepository


class IndexProblem(NamedTuple):
    """The first entry whose index rows are wrong, and what is wrong."""

    seq: int
    detail: str


def first_wrong_record_index(
    entries: AuditRepository, first_seq: int, last_seq: int, naming: Iterable[StoredLeaf]
) -> IndexProblem | None:
    """The first entry of seq `first_seq`..`last_seq` whose record-id index rows are not
    exactly the record ids it names (`naming`: those of these entries that name any)."""
    named = {(entry.seq, record_id) for entry in naming for record_id in entry.record_ids}
    indexed = entries.record_index_rows(first_seq, last_seq)
    if indexed == named:
        return None
    seq = min(seq for seq, _ in indexed ^ named)
    missing = {record_id for at, record_id in named - indexed if at == seq}
    extra = {record_id for at, record_id in indexed - named if at == seq}
    return IndexProblem(seq, _difference(missing, extra))


def _difference(missing: set[str], extra: set[str]) -> str:
    parts = []
    if missing:
        parts.append(f"lacks {', '.join(sorted(missing))}")
    if extra:
        parts.append(f"adds {', '.join(sorted(extra))}")
    return f"the record-id index {' and '.join(parts)}: access reports are wrong for it"
