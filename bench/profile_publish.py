"""Where a published record's time goes: the publish path run in this process under
cProfile (a third hub instance on the same store and broker as the served one), with
the cumulative time of each step divided by the records published."""

from __future__ import annotations

import cProfile
import json
import pstats
import time
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import Engine, event

from bench.errors import BenchError
from bench.province import Province, record_payload
from exchange.api import create_app
from exchange.config import Settings
from exchange.hub import open_hub
from exchange.identity.keys import key_id_of
from exchange.identity.signatures import sign_request

LOCAL_URL = "http://localhost"
MICROSECONDS = 1_000_000

# Each step of the breakdown is the cumulative time of one function of the hub.
STEPS: dict[str, tuple[str, str]] = {
    "verify": ("exchange/api/authentication.py", "authenticate_current_request"),
    "parse_body": ("exchange/api/bodies.py", "load_body"),
    "validate": ("exchange/records/publish.py", "_validate"),
    "sign": ("exchange/signing/hub_signer.py", "sign_document_canonical"),
    "canonicalise": ("exchange/signing/canonical.py", "canonical_json"),
    "produce": ("exchange/transport/kafka/producer.py", "produce"),
    "audit": ("exchange/audit/topic_sink.py", "append"),
}


def profile_publish(
    settings: Settings, province: Province, batch: int, requests: int, key_base: int
) -> dict[str, Any]:
    """Publish `requests` batches of `batch` records in process under cProfile; return
    microseconds per record of each step, of the whole request, and the top functions."""
    hub = open_hub(settings)
    try:
        client = create_app(hub).test_client()
        _publish(client, province, batch, key_base)  # warm caches outside the profile
        statements = _StatementCounter()
        profiler = cProfile.Profile()
        started = time.perf_counter()
        profiler.enable()
        for number in range(1, requests + 1):
            _publish(client, province, batch, key_base + number * batch)
        profiler.disable()
        wall = time.perf_counter() - started
        statements.stop()
    finally:
        hub.close()
    records = batch * requests
    stats = pstats.Stats(profiler)
    steps = {
        f"{name}_us_per_record": _cumulative(stats, *where) / records * MICROSECONDS
        for name, where in STEPS.items()
    }
    return {
        "batch": batch,
        "requests": requests,
        "request_us_per_record": wall / records * MICROSECONDS,
        "db_statements_per_request": statements.count / requests,
        **steps,
        "top_functions": _top(stats, records),
    }


def _publish(client: FlaskClient, province: Province, batch: int, key_base: int) -> None:
    path = f"/v1/subjects/{province.subject}/records"
    body = json.dumps(
        {"records": [{"payload": record_payload(key_base + n)} for n in range(batch)]}
    ).encode()
    headers = {"Content-Type": "application/json"}
    key = province.producer_key
    headers |= sign_request(
        "POST", LOCAL_URL + path, headers, body, key, key_id_of(key.public_key())
    )
    response = client.post(path, data=body, headers=headers)
    if response.status_code != 201:
        raise BenchError(f"in-process publish answered {response.status_code}: {response.text}")


class _StatementCounter:
    """Counts the SQL statements sent while it is attached, on every engine of the process
    (the store keeps more than one pool); only the profiled hub talks to a store meanwhile."""

    def __init__(self) -> None:
        self.count = 0
        event.listen(Engine, "before_cursor_execute", self._seen)

    def stop(self) -> None:
        event.remove(Engine, "before_cursor_execute", self._seen)

    def _seen(self, *_: object) -> None:
        self.count += 1


def _cumulative(stats: pstats.Stats, file_suffix: str, function: str) -> float:
    total = 0.0
    for (file_name, _, name), row in stats.stats.items():  # type: ignore[attr-defined]
        if name == function and file_name.endswith(file_suffix):
            total += row[3]
    return total


def _top(stats: pstats.Stats, records: int, count: int = 12) -> list[dict[str, Any]]:
    """The functions with the most time of their own, in microseconds per record."""
    rows = sorted(
        stats.stats.items(),  # type: ignore[attr-defined]
        key=lambda item: item[1][2],
        reverse=True,
    )[:count]
    return [
        {
            "function": f"{file_name.rsplit('site-packages/', 1)[-1]}:{line}({name})",
            "own_us_per_record": row[2] / records * MICROSECONDS,
        }
        for (file_name, line, name), row in rows
    ]
