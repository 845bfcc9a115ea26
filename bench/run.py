"""One benchmark run from start to end: services, the served hub, each measurement
beside its same-run reference, the audit log at scale, and the result files."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from bench.audit_scale import audit_at_scale
from bench.fairness import measure_fairness, shape_of
from bench.hub_process import RunningHub, running_hub
from bench.latency import LatencyResult, hub_publish_to_pull, raw_kafka_produce_to_poll
from bench.load import LoadResult, LoadShape
from bench.memory import KIB_PER_MIB, peak_rss_mb
from bench.options import BenchOptions, StoreKind
from bench.primitives import measure_hub_steps, measure_primitives
from bench.profile_publish import profile_publish
from bench.province import Province, set_up_province
from bench.publish import hub_publish
from bench.raw_kafka import raw_kafka_publish
from bench.report import Row, machine
from bench.services import POSTGRES_SERVER_URL, running_service
from bench.sink_latency import sink_latency
from bench.stats import latency_summary_ms
from bench.summary import summarise
from exchange.config import Settings
from tests.fixtures.database import fresh_postgres_database

LATENCY_KEY_BASE = 500_000_000_000
PROFILE_KEY_BASE = 700_000_000_000
SINK_KEY_BASE = 600_000_000_000
PROFILE_BATCHES = (1, 100)
# The served hub's topic partitions (PRODUCTION_SETTINGS); the references use as many.
HUB_PARTITIONS = 6


def run_bench(options: BenchOptions) -> tuple[dict[str, Any], list[Row]]:
    """Run every measurement of `options`; return the result (summary first) and the
    rows of its table."""
    needs_postgres = options.database == "postgres" or "postgres" in options.audit_databases
    with ExitStack() as services:
        services.enter_context(running_service("kafka.sh", "KAFKA_PORT", options.kafka_port))
        if needs_postgres:
            services.enter_context(running_service("postgres.sh"))
        _say("primitives")
        details: dict[str, Any] = {
            "options": _options_json(options),
            "primitives_us": {
                **measure_primitives(options.primitive_repeat),
                **measure_hub_steps(options.primitive_repeat),
            },
        }
        details |= _served_hub_figures(options)
        details["fairness"] = _fairness(options)
        details["audit"] = {
            kind: _audit_on(kind, options, verify=kind == options.audit_databases[0])
            for kind in options.audit_databases
        }
    details["memory"]["bare_python_rss_mb"] = _bare_python_rss_mb()
    summary, rows = summarise(details, options)
    return {"summary": summary, "machine": machine(), "details": details}, rows


def _served_hub_figures(options: BenchOptions) -> dict[str, Any]:
    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="exchange-bench-")))
        database_url = stack.enter_context(_store(options.database, work))
        hub = stack.enter_context(
            running_hub(work, database_url, options.kafka_bootstrap, options.hub_workers)
        )
        _say(f"hub serving at {hub.url} on {options.database}")
        province = set_up_province(hub.url, hub.admin_key_file)
        figures = {
            "latency": _latency(province, options),
            "sink_latency": _sink_latency(hub, province, options),
            "publish": _publish(province, options),
        }
        figures["memory"] = _hub_memory(hub, figures["sink_latency"])
        _say("profiling the publish path")
        figures["profile"] = _profiles(hub, database_url, province, options)
        return figures


def _fairness(options: BenchOptions) -> dict[str, Any]:
    _say("fairness: publish latency beside a department flooding over its rate limit")
    with (
        tempfile.TemporaryDirectory(prefix="exchange-bench-fairness-") as work,
        _store(options.database, Path(work)) as url,
    ):
        return measure_fairness(Path(work), url, options.kafka_bootstrap, shape_of(options))


def _latency(province: Province, options: BenchOptions) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for index, rate in enumerate(options.latency_rates):
        _say(f"latency at {rate:.0f} records/s")
        base = LATENCY_KEY_BASE + index * 10_000_000
        hub = hub_publish_to_pull(province, rate, options.latency_seconds, base)
        raw = raw_kafka_produce_to_poll(
            options.kafka_bootstrap, HUB_PARTITIONS, rate, options.latency_seconds, base
        )
        results[f"{rate:.0f}"] = {
            "hub_publish_to_pull": _latency_json(hub),
            "raw_kafka_produce_to_poll": _latency_json(raw),
        }
    return results


def _latency_json(result: LatencyResult) -> dict[str, float]:
    return {
        "offered": result.offered,
        "sent": result.sent,
        "delivered": result.delivered,
        **result.summary_ms,
    }


def _publish(province: Province, options: BenchOptions) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for batch, requests in options.publish_requests:
        _say(f"publish throughput, batches of {batch}")
        shape = LoadShape(batch, options.threads, requests, options.publish_budget_s)
        hub = hub_publish(province, shape)
        raw = raw_kafka_publish(options.kafka_bootstrap, HUB_PARTITIONS, shape)
        results[str(batch)] = {"hub": _load_json(hub), "raw_kafka": _load_json(raw)}
    return results


def _load_json(result: LoadResult) -> dict[str, float]:
    return {
        "requests": result.calls,
        "records": result.units,
        "seconds": result.seconds,
        "records_per_s": result.units_per_s,
        "requests_per_s": result.calls_per_s,
        **{f"request_{k}": v for k, v in latency_summary_ms(result.latencies_s).items()},
    }


def _sink_latency(hub: RunningHub, province: Province, options: BenchOptions) -> dict[str, Any]:
    rate = options.latency_rates[0]
    _say(f"latency to a file sink connector at {rate:.0f} records/s")
    try:
        measured = sink_latency(hub, province, rate, options.latency_seconds, SINK_KEY_BASE)
    except Exception as error:  # the connectors are new: report, do not lose the run
        return {"rate_rps": rate, "error": f"not measured: {error!r}"}
    return {"rate_rps": rate, **measured}


def _hub_memory(hub: RunningHub, sink: dict[str, Any]) -> dict[str, Any]:
    workers = {str(pid): peak_rss_mb(pid) for pid in hub.worker_pids()}
    return {
        "hub_worker_peak_rss_mb": workers,
        "hub_worker_peak_rss_mb_max": max(workers.values(), default=float("nan")),
        "audit_writer_peak_rss_mb": peak_rss_mb(hub.writer_pid),
        "connector_worker_peak_rss_mb": sink.get("connector_worker_peak_rss_mb"),
        "connector_worker_note": sink.get("error", "file sink worker, after the sink run"),
    }


def _profiles(
    hub: RunningHub, database_url: str, province: Province, options: BenchOptions
) -> dict[str, Any]:
    settings = Settings(
        data_dir=hub.data_dir,
        database_url=database_url,
        transport="kafka",
        kafka_bootstrap_servers=options.kafka_bootstrap,
        topic_partitions=HUB_PARTITIONS,
    )
    return {
        str(batch): profile_publish(
            settings, province, batch, options.profile_requests, PROFILE_KEY_BASE + batch * 10**8
        )
        for batch in PROFILE_BATCHES
    }


def _audit_on(kind: StoreKind, options: BenchOptions, verify: bool) -> dict[str, Any]:
    _say(f"audit log of {options.audit_entries} entries on {kind}")
    with (
        tempfile.TemporaryDirectory(prefix="exchange-bench-audit-store-") as work,
        _store(kind, Path(work)) as url,
    ):
        return audit_at_scale(
            url,
            options.audit_entries,
            queries_per_filter=options.audit_queries_per_filter,
            export_limit=options.audit_export_limit,
            verify=verify,
        )


@contextmanager
def _store(kind: StoreKind, work_dir: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{work_dir / 'exchange.db'}"
        return
    with fresh_postgres_database(POSTGRES_SERVER_URL) as url:
        yield url


def _bare_python_rss_mb() -> float:
    """The reference for a worker's memory: a Python interpreter that imports nothing."""
    completed = subprocess.run(
        [sys.executable, "-S", "-c", "print(open('/proc/self/status').read())"],
        capture_output=True,
        text=True,
        check=True,
    )
    for line in completed.stdout.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / KIB_PER_MIB
    return float("nan")


def _options_json(options: BenchOptions) -> dict[str, Any]:
    return {
        key: str(value) if isinstance(value, Path) else value
        for key, value in options.__dict__.items()
    }


def _say(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)
