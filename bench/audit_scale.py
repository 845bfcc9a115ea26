"""The audit log at scale: fill a store with N entries, then time a query per filter
(p95), an export, inclusion and consistency proofs, and `exchange audit verify`, beside
raw SHA-256 leaf hashing of the same entries' bytes (and, for proofs, the former way of
proving: reading every leaf hash and rehashing the tree)."""

from __future__ import annotations

import hashlib
import json
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench.audit_fill import FilledLog, fill_audit_log
from bench.errors import BenchError
from bench.stats import latency_summary_ms, rate, ratio
from exchange.audit.checkpoints import load_hub_signer
from exchange.audit.leaf import leaf_bytes, leaf_document
from exchange.audit.merkle import inclusion_proof, root_from_leaf_hashes
from exchange.audit.proofs import prove_consistency, prove_inclusion
from exchange.audit.stored_tree import StoredTree
from exchange.config import Settings
from exchange.deployment import initialise
from exchange.store.database import Database
from exchange.store.repositories import AuditRepository, AuditSearch

EXCHANGE = str(Path(sys.executable).with_name("exchange"))
PAGE = 100
EXPORT_CHUNK = 1000
HASH_SAMPLE = 20_000
# Deliveries of one key in an access report (the example: delivered 20 times).
REPORT_DELIVERIES = 20


def audit_at_scale(
    database_url: str,
    entries: int,
    *,
    queries_per_filter: int,
    export_limit: int,
    verify: bool,
) -> dict[str, Any]:
    """Fill a fresh store at `database_url` with `entries` entries and measure it."""
    with tempfile.TemporaryDirectory(prefix="exchange-bench-audit-") as work:
        settings = Settings(data_dir=Path(work) / "var", database_url=database_url)
        initialise(settings)
        database = Database(settings.effective_database_url)
        try:
            started = time.perf_counter()
            filled = fill_audit_log(
                database,
                load_hub_signer(settings.hub_key_file),
                entries,
                progress=progress_printer("filled", entries),
            )
            fill_s = time.perf_counter() - started
            result: dict[str, Any] = {
                "entries": entries,
                "fill_s": fill_s,
                "queries": _query_each_filter(database, filled, queries_per_filter),
                "export": _export(database, export_limit),
                "proofs": _proofs(database, queries_per_filter),
            }
            raw = _raw_leaf_hashing_rate(database, min(entries, HASH_SAMPLE))
            result["raw_sha256_leaf_entries_per_s"] = raw
        finally:
            database.close()
        if verify:
            result["verify"] = _verify(settings.effective_database_url, entries, raw)
    worst = max(query["p95_ms"] for query in result["queries"].values())
    result["query_p95_ms_worst_filter"] = worst
    return result


def _searches(filled: FilledLog) -> dict[str, AuditSearch]:
    middle = filled.first_at + (filled.last_at - filled.first_at) / 2
    return {
        "none": AuditSearch(),
        "actor": AuditSearch(actor=filled.sample_actor),
        "subject": AuditSearch(subject=filled.sample_subject),
        "action": AuditSearch(action=filled.sample_action),
        "decision": AuditSearch(decision="deny"),
        "record_id": AuditSearch(record_id=filled.sample_record_id),
        "key": AuditSearch(key_id=filled.sample_key_id),
        "time_range": AuditSearch(since=middle, until=middle + timedelta(hours=1)),
        "actor_and_decision": AuditSearch(actor=filled.sample_actor, decision="error"),
    }


def _query_each_filter(
    database: Database, filled: FilledLog, repeat: int
) -> dict[str, dict[str, float]]:
    """A first page (newest first, 100 entries) per filter, `repeat` times each; half the
    queries start from a cursor in the middle of the log, as paging does."""
    entries = AuditRepository(database)
    middle_seq = filled.entries // 2
    results: dict[str, dict[str, float]] = {}
    for name, search in _searches(filled).items():
        durations = []
        for attempt in range(repeat):
            cursor = middle_seq if attempt % 2 else None
            started = time.perf_counter()
            entries.query(search, cursor, PAGE + 1)
            durations.append(time.perf_counter() - started)
        results[name] = latency_summary_ms(durations)
    return results


def _export(database: Database, limit: int) -> dict[str, float]:
    """JSON Lines export, newest first, in the API's chunks, of at most `limit` entries."""
    entries = AuditRepository(database)
    exported = 0
    cursor: int | None = None
    started = time.perf_counter()
    while exported < limit and (batch := entries.query(AuditSearch(), cursor, EXPORT_CHUNK)):
        for entry in batch:
            json.dumps(leaf_document(entry), ensure_ascii=False)
        exported += len(batch)
        cursor = batch[-1].seq
    seconds = time.perf_counter() - started
    return {"entries": exported, "seconds": seconds, "entries_per_s": rate(exported, seconds)}


def _proofs(database: Database, repeat: int) -> dict[str, Any]:
    """Proofs at the full tree size as the API computes them, `repeat` times each at
    random places, the proofs of an access report's deliveries, and one inclusion proof
    the former way (every leaf hash read and the tree rehashed) as the reference."""
    chooser = random.Random(6)
    # The whole log, with the few entries `exchange init` wrote before the fill.
    entries = AuditRepository(database).tree_size()
    inclusion, consistency, report = [], [], []
    for _ in range(repeat):
        seq = chooser.randint(1, entries)
        started = time.perf_counter()
        prove_inclusion(database, seq, entries)
        inclusion.append(time.perf_counter() - started)
        first = chooser.randint(1, entries)
        started = time.perf_counter()
        prove_consistency(database, first, entries)
        consistency.append(time.perf_counter() - started)
        delivered = [chooser.randrange(entries) for _ in range(REPORT_DELIVERIES)]
        started = time.perf_counter()
        StoredTree(AuditRepository(database), entries).inclusion_proofs(delivered)
        report.append(time.perf_counter() - started)
    started = time.perf_counter()
    leaves = AuditRepository(database).leaf_hashes(entries)
    root_from_leaf_hashes(leaves)
    inclusion_proof(entries // 2, leaves)
    rehash_ms = (time.perf_counter() - started) * 1000
    return {
        "inclusion": latency_summary_ms(inclusion),
        "consistency": latency_summary_ms(consistency),
        "access_report_proofs": latency_summary_ms(report),
        "rehash_reference_ms": rehash_ms,
    }


def _raw_leaf_hashing_rate(database: Database, sample: int) -> float:
    """Entries per second of bare SHA-256(0x00 || leaf bytes) over stored entries' bytes."""
    rows = AuditRepository(database).scan(0, sample)
    leaves = [b"\x00" + leaf_bytes(row) for row in rows]
    started = time.perf_counter()
    for leaf in leaves:
        hashlib.sha256(leaf).digest()
    return rate(len(leaves), time.perf_counter() - started)


def _verify(database_url: str, entries: int, raw_rate: float) -> dict[str, float]:
    """`exchange audit verify` as an operator runs it, timed from outside."""
    started = time.perf_counter()
    completed = subprocess.run(
        [EXCHANGE, "audit", "verify", "--database-url", database_url],
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if completed.returncode != 0:
        raise BenchError(f"exchange audit verify failed: {completed.stderr.strip()[-800:]}")
    entries_per_s = rate(entries, seconds)
    return {
        "seconds": seconds,
        "entries_per_s": entries_per_s,
        "ratio_vs_raw_sha256": ratio(entries_per_s, raw_rate),
    }


def progress_printer(label: str, total: int) -> Callable[[int], None]:
    """A progress callback printing every tenth of `total` to stderr."""
    done = [0, 0]

    def advance(count: int) -> None:
        done[0] += count
        tenth = done[0] * 10 // max(total, 1)
        if tenth > done[1]:
            done[1] = tenth
            print(f"  {label}: {done[0]}/{total}", file=sys.stderr, flush=True)

    return advance
