"""Fairness under load (issue 9): one department's publish latency while another floods
the hub at `flood_factor` times its rate limit, against the same department's latency
unloaded. The figure is the ratio of the two p99s (target <= 2).

The only part of a run with the per-principal rate limit ON (`<limit>/second`): the rest
measures capacity, not that policy. The hub runs one gunicorn worker, so the default
`memory://` counters are exact (with several workers each would count on its own) and both
departments share that worker, the harder case. Unloaded and flooded rounds alternate, so
drift on a shared machine falls on both alike. The measured department publishes one
record at a time, paced under its own limit, and never retries; the flooder publishes
single records to a subject of its own from several threads, paced to its target rate
(the result says which rate it reached, and how many of its requests were refused).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bench.hub_process import running_hub
from bench.options import BenchOptions
from bench.province import RECORD_SCHEMA, Province, record_payload, set_up_province
from bench.stats import latency_summary_ms, ratio
from exchange.client import ExchangeAPIError, ExchangeClient
from exchange.identity.keys import generate_private_key, public_key_to_jwk

FLOODER = "bench-flooder"
# The measured department's requests are spaced this many limit intervals apart.
PUBLISHER_SPACING = 1.5
FLOOD_THREADS = 4
FLOOD_KEY_BASE = 800_000_000_000
PUBLISH_KEY_BASE = 810_000_000_000


@dataclass(frozen=True)
class FairnessShape:
    """The limit, how hard the flood pushes, and how many samples of each kind."""

    limit_per_s: int
    flood_factor: int
    rounds: int
    samples_per_round: int


def shape_of(options: BenchOptions) -> FairnessShape:
    """The fairness part of a run's options."""
    return FairnessShape(
        options.fairness_limit_per_s,
        options.fairness_flood_factor,
        options.fairness_rounds,
        options.fairness_samples_per_round,
    )


def measure_fairness(
    work_dir: Path, database_url: str, kafka_bootstrap: str, shape: FairnessShape
) -> dict[str, Any]:
    """Serve a rate-limited hub in `work_dir` and measure the latency ratio on it."""
    limit = {"EXCHANGE_RATE_LIMIT_PER_PRINCIPAL": f"{shape.limit_per_s}/second"}
    with running_hub(work_dir, database_url, kafka_bootstrap, workers=1, settings=limit) as hub:
        province = set_up_province(hub.url, hub.admin_key_file)
        flooder_key, flooder_subject = _onboard_flooder(hub.url, hub.admin_key_file)
        flood = _Flood(hub.url, flooder_key, flooder_subject, shape)
        return _alternating_rounds(province, flood, shape)


def _alternating_rounds(province: Province, flood: _Flood, shape: FairnessShape) -> dict[str, Any]:
    publisher = _Publisher(province, shape.limit_per_s)
    try:
        publisher.latencies(shape.samples_per_round)  # warm up: connections, caches
        unloaded: list[float] = []
        flooded: list[float] = []
        for _ in range(shape.rounds):
            unloaded += publisher.latencies(shape.samples_per_round)
            with flood:
                flooded += publisher.latencies(shape.samples_per_round)
    finally:
        publisher.close()
    unloaded_ms, flooded_ms = latency_summary_ms(unloaded), latency_summary_ms(flooded)
    return {
        "limit_per_s": shape.limit_per_s,
        "flood_target_per_s": shape.limit_per_s * shape.flood_factor,
        "flood_sent_per_s": flood.sent_per_s(),
        "flood_statuses": {str(status): n for status, n in sorted(flood.statuses.items())},
        "publisher_refused": publisher.refused,
        "unloaded": unloaded_ms,
        "flooded": flooded_ms,
        "p99_ratio": ratio(flooded_ms["p99_ms"], unloaded_ms["p99_ms"]),
    }


class _Publisher:
    """The well-behaved department: one record per request, under its limit."""

    def __init__(self, province: Province, limit_per_s: int) -> None:
        self._client = province.producer()
        self._path = f"/v1/subjects/{province.subject}/records"
        self._spacing_s = PUBLISHER_SPACING / limit_per_s
        self._next = PUBLISH_KEY_BASE
        self.refused: dict[str, int] = {}

    def latencies(self, count: int) -> list[float]:
        """Publish `count` records one by one; the seconds each request took."""
        measured = []
        for _ in range(count):
            self._next += 1
            started = time.perf_counter()
            try:
                self._client.post(
                    self._path, json={"records": [{"payload": record_payload(self._next)}]}
                )
            except ExchangeAPIError as error:  # reported, never retried
                self.refused[str(error.status)] = self.refused.get(str(error.status), 0) + 1
            measured.append(time.perf_counter() - started)
            # Pacing under its own limit is the publisher's part, not a wait for the hub.
            time.sleep(max(0.0, self._spacing_s - measured[-1]))
        return measured

    def close(self) -> None:
        self._client.close()


class _Flood:
    """The flooding department, on while inside `with`."""

    def __init__(
        self, url: str, key: Ed25519PrivateKey, subject: str, shape: FairnessShape
    ) -> None:
        self._url, self._key, self._subject = url, key, subject
        self._interval_s = FLOOD_THREADS / (shape.limit_per_s * shape.flood_factor)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._next = FLOOD_KEY_BASE
        self._flooding_s = 0.0
        self._started = 0.0
        self.statuses: Counter[int] = Counter()

    def __enter__(self) -> _Flood:
        self._stop.clear()
        self._started = time.perf_counter()
        self._threads = [threading.Thread(target=self._run) for _ in range(FLOOD_THREADS)]
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)
        self._flooding_s += time.perf_counter() - self._started

    def sent_per_s(self) -> float:
        """The rate the flood reached over all its rounds."""
        return ratio(sum(self.statuses.values()), self._flooding_s)

    def _run(self) -> None:
        client = ExchangeClient(self._url, private_key=self._key)
        path = f"/v1/subjects/{self._subject}/records"
        try:
            while not self._stop.is_set():
                started = time.perf_counter()
                body = {"records": [{"payload": record_payload(self._take_number())}]}
                try:
                    client.post(path, json=body)
                    status = 201
                except ExchangeAPIError as error:
                    status = error.status
                with self._lock:
                    self.statuses[status] += 1
                # Pacing: the flood's rate is the load being applied.
                self._stop.wait(max(0.0, self._interval_s - (time.perf_counter() - started)))
        finally:
            client.close()

    def _take_number(self) -> int:
        with self._lock:
            self._next += 1
            return self._next


def _onboard_flooder(url: str, admin_key_file: Path) -> tuple[Ed25519PrivateKey, str]:
    """The flooding department, with a key and a subject of its own."""
    admin = ExchangeClient(url, key_file=admin_key_file)
    key = generate_private_key()
    subject = f"{FLOODER}.load-{uuid.uuid4().hex[:10]}"
    try:
        admin.post(
            "/v1/departments",
            json={"code": FLOODER, "name": "Bench Flooder", "contact": "bench@example.gov"},
        )
        admin.post(
            f"/v1/departments/{FLOODER}/keys",
            json={"public_key": public_key_to_jwk(key.public_key())},
        )
        admin.post(
            "/v1/subjects",
            json={
                "subject": subject,
                "owner": FLOODER,
                "key_field": "record_number",
                "schema": RECORD_SCHEMA,
            },
        )
    finally:
        admin.close()
    return key, subject
