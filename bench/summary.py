"""The flat summary of a run and its table rows: each headline figure, its same-run
reference, their ratio, and the target of issue 8."""

from __future__ import annotations

import math
from typing import Any

from bench.options import BenchOptions
from bench.report import Row
from bench.stats import ratio

NAN = math.nan


def summarise(details: dict[str, Any], options: BenchOptions) -> tuple[dict[str, float], list[Row]]:
    """The summary (figure name -> number) and the rows of the Markdown table."""
    rows = [
        *_publish_rows(details["publish"]),
        *_latency_rows(details["latency"]),
        *_sink_rows(details.get("sink_latency", {}), details["latency"]),
        *_hub_step_rows(details["primitives_us"]),
        *_profile_rows(details["profile"], details["primitives_us"]),
        *_audit_rows(details["audit"], options.audit_entries),
        *_memory_rows(details["memory"]),
        *_fairness_rows(details.get("fairness", {})),
    ]
    return _headline(details, options), rows


def _headline(details: dict[str, Any], options: BenchOptions) -> dict[str, float]:
    publish = details["publish"]
    largest = str(max(int(batch) for batch in publish))
    batch = publish[largest]
    single = publish.get("1", {})
    latency_200 = details["latency"].get("200", {})
    primary = details["audit"][options.audit_databases[0]]
    verify = primary.get("verify", {})
    memory = details["memory"]
    return {
        "publish_batch_ratio_vs_raw_kafka": ratio(
            batch["hub"]["records_per_s"], batch["raw_kafka"]["records_per_s"]
        ),
        "publish_batch_records_per_s": batch["hub"]["records_per_s"],
        "raw_kafka_batch_records_per_s": batch["raw_kafka"]["records_per_s"],
        "publish_single_rps": single.get("hub", {}).get("requests_per_s", NAN),
        "publish_single_ratio_vs_raw_kafka": ratio(
            single.get("hub", {}).get("requests_per_s", NAN),
            single.get("raw_kafka", {}).get("requests_per_s", NAN),
        ),
        "e2e_p99_ms_at_200rps": latency_200.get("hub_publish_to_pull", {}).get("p99_ms", NAN),
        "e2e_p99_ratio_vs_raw_kafka_at_200rps": ratio(
            latency_200.get("hub_publish_to_pull", {}).get("p99_ms", NAN),
            latency_200.get("raw_kafka_produce_to_poll", {}).get("p99_ms", NAN),
        ),
        "audit_entries": float(options.audit_entries),
        "audit_query_p95_ms_1m": primary["query_p95_ms_worst_filter"],
        "audit_verify_s_1m": verify.get("seconds", NAN),
        "audit_verify_ratio_vs_raw_sha256": verify.get("ratio_vs_raw_sha256", NAN),
        "hub_worker_rss_mb": memory["hub_worker_peak_rss_mb_max"],
        "hub_worker_rss_ratio_vs_bare_python": ratio(
            memory["hub_worker_peak_rss_mb_max"], memory.get("bare_python_rss_mb", NAN)
        ),
        "fairness_p99_ratio": details.get("fairness", {}).get("p99_ratio", NAN),
    }


def _publish_rows(publish: dict[str, Any]) -> list[Row]:
    rows = []
    for batch, figures in publish.items():
        hub, raw = figures["hub"], figures["raw_kafka"]
        unit, key = (
            ("requests/s", "requests_per_s") if batch == "1" else ("records/s", "records_per_s")
        )
        target, met = _publish_target(batch, hub, raw)
        rows.append(
            Row(
                f"publish, batches of {batch}",
                hub[key],
                unit,
                "raw kafka-python acks=all",
                raw[key],
                ratio(hub[key], raw[key]),
                target,
                met,
            )
        )
    return rows


def _publish_target(
    batch: str, hub: dict[str, Any], raw: dict[str, Any]
) -> tuple[str, bool | None]:
    if batch == "1000":
        return ">= 0.5 x raw", ratio(hub["records_per_s"], raw["records_per_s"]) >= 0.5
    if batch == "1":
        return ">= 1,000 requests/s", hub["requests_per_s"] >= 1000
    return "", None


def _latency_rows(latency: dict[str, Any]) -> list[Row]:
    rows = []
    for rate, figures in latency.items():
        hub, raw = figures["hub_publish_to_pull"], figures["raw_kafka_produce_to_poll"]
        for quantile in ("p50", "p95", "p99"):
            is_target = rate == "200" and quantile == "p99"
            rows.append(
                Row(
                    f"publish-to-pull {quantile} at {rate} records/s",
                    hub[f"{quantile}_ms"],
                    "ms",
                    "raw produce-to-poll",
                    raw[f"{quantile}_ms"],
                    ratio(hub[f"{quantile}_ms"], raw[f"{quantile}_ms"]),
                    "< 50 ms" if is_target else "",
                    (hub["p99_ms"] < 50) if is_target else None,
                )
            )
    return rows


def _sink_rows(sink: dict[str, Any], latency: dict[str, Any]) -> list[Row]:
    if "p99_ms" not in sink:
        return []
    rate = f"{sink['rate_rps']:.0f}"
    raw = latency.get(rate, {}).get("raw_kafka_produce_to_poll", {})
    return [
        Row(
            f"publish-to-file-sink {quantile} at {rate} records/s",
            sink[f"{quantile}_ms"],
            "ms",
            "raw produce-to-poll",
            raw.get(f"{quantile}_ms", NAN),
            ratio(sink[f"{quantile}_ms"], raw.get(f"{quantile}_ms", NAN)),
            "",
            None,
        )
        for quantile in ("p50", "p95", "p99")
    ]


# Which bare primitive each profiled step is compared with.
_STEP_REFERENCES = {
    "verify": "ed25519_verify_us",
    "validate": "jsonschema_validate_us",
    "sign": "ed25519_sign_us",
    "canonicalise": "jcs_envelope_us",
}


def _profile_rows(profile: dict[str, Any], primitives: dict[str, float]) -> list[Row]:
    rows = []
    for batch, figures in profile.items():
        for step in (
            "verify",
            "parse_body",
            "validate",
            "sign",
            "canonicalise",
            "produce",
            "audit",
        ):
            reference = _STEP_REFERENCES.get(step)
            reference_value = primitives[reference] if reference else NAN
            value = figures[f"{step}_us_per_record"]
            rows.append(
                Row(
                    f"cost of {step} per record (batch {batch})",
                    value,
                    "µs",
                    f"bare {reference}" if reference else "(none)",
                    reference_value,
                    ratio(value, reference_value),
                    "",
                    None,
                )
            )
        rows.append(
            Row(
                f"SQL statements per request (batch {batch})",
                figures["db_statements_per_request"],
                "",
                "(none)",
                NAN,
                NAN,
                "",
                None,
            )
        )
        rows.append(
            Row(
                f"whole request per record (batch {batch}, in process)",
                figures["request_us_per_record"],
                "µs",
                "sum of bare primitives",
                sum(primitives[name] for name in _STEP_REFERENCES.values()),
                ratio(
                    figures["request_us_per_record"],
                    sum(primitives[name] for name in _STEP_REFERENCES.values()),
                ),
                "",
                None,
            )
        )
    return rows


def _hub_step_rows(primitives: dict[str, float]) -> list[Row]:
    """The hub's per-record steps outside any server and profiler, against bare primitives."""
    envelope_reference = (
        primitives["ed25519_sign_us"] + primitives["jcs_envelope_us"] + primitives["sha256_1kib_us"]
    )
    return [
        Row(
            "hub record validation (no profiler)",
            primitives["hub_validate_us"],
            "µs",
            "bare jsonschema",
            primitives["jsonschema_validate_us"],
            ratio(primitives["hub_validate_us"], primitives["jsonschema_validate_us"]),
            "",
            None,
        ),
        Row(
            "hub envelope build + sign (no profiler)",
            primitives["hub_build_and_sign_envelope_us"],
            "µs",
            "bare JCS + Ed25519 sign + sha-256",
            envelope_reference,
            ratio(primitives["hub_build_and_sign_envelope_us"], envelope_reference),
            "",
            None,
        ),
    ]


def _audit_rows(audit: dict[str, Any], entries: int) -> list[Row]:
    rows = []
    for kind, figures in audit.items():
        raw = figures["raw_sha256_leaf_entries_per_s"]
        for name, query in figures["queries"].items():
            rows.append(
                Row(
                    f"audit query p95, filter {name} ({kind}, {entries:,} entries)",
                    query["p95_ms"],
                    "ms",
                    "query p50",
                    query["p50_ms"],
                    ratio(query["p95_ms"], query["p50_ms"]),
                    "< 50 ms",
                    query["p95_ms"] < 50,
                )
            )
        export = figures["export"]
        rows.append(
            Row(
                f"audit export JSON Lines ({kind})",
                export["entries_per_s"],
                "entries/s",
                "raw sha-256 of leaf bytes",
                raw,
                ratio(export["entries_per_s"], raw),
                "",
                None,
            )
        )
        rows.extend(_proof_rows(kind, figures.get("proofs"), entries))
        if "verify" in figures:
            verify = figures["verify"]
            rows.append(
                Row(
                    f"`exchange audit verify` ({kind}, {entries:,} entries)",
                    verify["entries_per_s"],
                    "entries/s",
                    "raw sha-256 of leaf bytes",
                    raw,
                    verify["ratio_vs_raw_sha256"],
                    f"< 10 s for 1M (took {verify['seconds']:.1f} s)",
                    verify["seconds"] * 1_000_000 / max(entries, 1) < 10,
                )
            )
    return rows


def _proof_rows(kind: str, proofs: dict[str, Any] | None, entries: int) -> list[Row]:
    """Proof latency beside the former way (read every leaf hash, rehash the tree)."""
    if proofs is None:
        return []
    rehash = proofs["rehash_reference_ms"]
    names = {
        "inclusion": "inclusion proof",
        "consistency": "consistency proof",
        "access_report_proofs": "20 inclusion proofs of an access report",
    }
    return [
        Row(
            f"audit {label} p95 ({kind}, {entries:,} entries)",
            proofs[name]["p95_ms"],
            "ms",
            "one proof by rehashing every leaf",
            rehash,
            ratio(proofs[name]["p95_ms"], rehash),
            "",
            None,
        )
        for name, label in names.items()
    ]


def _memory_rows(memory: dict[str, Any]) -> list[Row]:
    bare = memory.get("bare_python_rss_mb", NAN)
    worker = memory["hub_worker_peak_rss_mb_max"]
    writer = memory["audit_writer_peak_rss_mb"]
    connector = memory.get("connector_worker_peak_rss_mb") or NAN
    return [
        Row(
            "connector worker peak RSS",
            connector,
            "MiB",
            "bare Python",
            bare,
            ratio(connector, bare),
            "",
            None,
        ),
        Row(
            "hub worker peak RSS",
            worker,
            "MiB",
            "bare Python",
            bare,
            ratio(worker, bare),
            "< 150 MB",
            worker < 150,
        ),
        Row(
            "audit writer peak RSS",
            writer,
            "MiB",
            "bare Python",
            bare,
            ratio(writer, bare),
            "",
            None,
        ),
    ]


def _fairness_rows(fairness: dict[str, Any]) -> list[Row]:
    if "p99_ratio" not in fairness:
        return []
    flooded, unloaded = fairness["flooded"], fairness["unloaded"]
    return [
        Row(
            f"publish p99 beside a department flooding at {fairness['flood_sent_per_s']:.0f}/s "
            f"(limit {fairness['limit_per_s']}/s)",
            flooded["p99_ms"],
            "ms",
            "same publisher, unloaded",
            unloaded["p99_ms"],
            fairness["p99_ratio"],
            "<= 2 x unloaded",
            fairness["p99_ratio"] <= 2,
        )
    ]
