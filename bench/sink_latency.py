"""End-to-end latency to a sink connector: records published at a fixed rate, delivered by
an `exchange connect` worker running a `file` sink, timed until each record's line is in
the sink's output file."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

from bench.errors import BenchError
from bench.hub_process import RunningHub, connector_worker
from bench.latency import LatencyResult, measure_latency, warm_up
from bench.memory import peak_rss_mb
from bench.province import Province, record_payload
from exchange.identity.keys import write_private_key

SINK_DIRECTORY = "bench-sink"
READY_DEADLINE_S = 60.0
IDLE_POLL_S = 0.005


def sink_latency(
    hub: RunningHub, province: Province, rate_rps: float, seconds: float, key_base: int
) -> dict[str, Any]:
    """Latency to a file sink at `rate_rps`, and the connector worker's peak RSS."""
    name = f"bench-sink-{uuid.uuid4().hex[:8]}"
    _create_file_sink(hub, province, name)
    output = _FileTail(hub.connector_root / SINK_DIRECTORY)
    publisher = province.producer()
    path = f"/v1/subjects/{province.subject}/records"

    def send(key: str) -> None:
        publisher.post(path, json={"records": [{"payload": record_payload(int(key))}]})

    with connector_worker(hub) as worker:
        try:
            _wait_until_running(province, name)
            warm_up(send, output.new_keys, key_base - 1)
            result = measure_latency(send, output.new_keys, rate_rps, seconds, key_base)
        except BenchError as error:
            log = (hub.work_dir / "connect.log").read_text(errors="replace")[-1500:]
            raise BenchError(f"{error.detail}; connect.log ends: {log}") from error
        rss = peak_rss_mb(worker.pid)
    publisher.close()
    return {**_json(result), "connector_worker_peak_rss_mb": rss}


def _json(result: LatencyResult) -> dict[str, Any]:
    return {
        "offered": result.offered,
        "sent": result.sent,
        "delivered": result.delivered,
        **result.summary_ms,
    }


def _create_file_sink(hub: RunningHub, province: Province, name: str) -> None:
    key_file = hub.connector_root / "keys" / "bench-consumer.pem"
    key_file.parent.mkdir(parents=True, exist_ok=True)
    if not key_file.exists():
        write_private_key(key_file, province.consumer_key)
    consumer = province.consumer()
    try:
        consumer.post(
            "/v1/connectors",
            json={
                "name": name,
                "kind": "sink",
                "class": "file",
                "subject": province.subject,
                "grant_id": province.grant_id,
                "config": {
                    "directory": SINK_DIRECTORY,
                    "prefix": "bench",
                    "key_file": "keys/bench-consumer.pem",
                    # "earliest": a sink opened after the warm-up record still gets it;
                    # records of earlier measurements are not timed (their keys differ).
                    "from": "earliest",
                    "batch_size": 1000,
                },
            },
        )
    finally:
        consumer.close()


def _wait_until_running(province: Province, name: str) -> None:
    consumer = province.consumer()
    deadline = time.monotonic() + READY_DEADLINE_S
    try:
        while time.monotonic() < deadline:
            status = consumer.get(f"/v1/connectors/{name}/status")
            if status.get("state") == "RUNNING" and status.get("worker_id"):
                return
            if status.get("state") == "FAILED":
                raise BenchError(f"the sink connector failed: {status.get('last_error')}")
            time.sleep(0.1)  # another process's state: poll it with a deadline
    finally:
        consumer.close()
    raise BenchError("the sink connector was not running in time")


class _FileTail:
    """Reads the lines appended to the sink's output files since the last call."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._read: dict[str, int] = {}

    def new_keys(self) -> list[str]:
        """Keys of the deliveries written since the last call (waits a moment if none)."""
        keys: list[str] = []
        for path in sorted(self._directory.glob("*.jsonl*")):
            keys += self._keys_in(path)
        if not keys:
            # The sink writes from another process: there is nothing to await but the file.
            time.sleep(IDLE_POLL_S)
        return keys

    def _keys_in(self, path: Path) -> list[str]:
        # A segment renamed from `.part` to `.jsonl` is read again from its start; the
        # measurement keeps the first time each key was seen.
        stem = path.name.removesuffix(".part")
        try:
            with path.open("rb") as handle:
                handle.seek(self._read.get(stem, 0))
                data = handle.read()
        except FileNotFoundError:
            return []
        complete = data[: data.rfind(b"\n") + 1]
        self._read[stem] = self._read.get(stem, 0) + len(complete)
        return [str(json.loads(line).get("key")) for line in complete.splitlines() if line]
