"""The sizes of a run: the full defaults (about ten minutes on a 2-core machine) and the
smoke sizes (seconds), each overridable by a flag."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from bench.services import BENCH_KAFKA_PORT

StoreKind = Literal["sqlite", "postgres"]
RESULTS_DIR = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True)
class BenchOptions:
    """Everything that bounds a run, in count and in time."""

    label: str = "full"
    database: StoreKind = "postgres"
    threads: int = 8
    hub_workers: int = 2
    # Publish throughput: requests per batch size, and a time budget per measurement.
    publish_requests: tuple[tuple[int, int], ...] = ((1, 20_000), (100, 400), (1000, 60))
    publish_budget_s: float = 15.0
    latency_rates: tuple[float, ...] = (200.0, 1000.0)
    latency_seconds: float = 8.0
    profile_requests: int = 30
    primitive_repeat: int = 2000
    audit_entries: int = 1_000_000
    audit_databases: tuple[StoreKind, ...] = ("sqlite", "postgres")
    audit_queries_per_filter: int = 40
    audit_export_limit: int = 100_000
    # Fairness (bench/fairness.py): the limit, the flood's multiple of it, alternating
    # rounds of unloaded and flooded samples. The limit must leave the administrator's
    # set-up requests (8 at once) under it.
    fairness_limit_per_s: int = 10
    fairness_flood_factor: int = 5
    fairness_rounds: int = 6
    fairness_samples_per_round: int = 20
    kafka_port: int = BENCH_KAFKA_PORT
    output_dir: Path = RESULTS_DIR

    def with_changes(self, **changes: Any) -> BenchOptions:
        """A copy with the given fields replaced (None values are ignored)."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})

    @property
    def kafka_bootstrap(self) -> str:
        """The bench broker's address (loopback only)."""
        return f"127.0.0.1:{self.kafka_port}"


FULL = BenchOptions()

SMOKE = BenchOptions(
    label="smoke",
    database="sqlite",
    threads=2,
    hub_workers=1,
    publish_requests=((1, 20), (100, 3), (1000, 2)),
    publish_budget_s=5.0,
    latency_rates=(200.0,),
    latency_seconds=0.5,
    profile_requests=2,
    primitive_repeat=50,
    audit_entries=2_000,
    audit_databases=("sqlite",),
    audit_queries_per_filter=4,
    audit_export_limit=1_000,
    fairness_rounds=1,
    fairness_samples_per_round=5,
)
