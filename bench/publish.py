"""Publish throughput through the hub with everything on (request signature, schema
validation, authorisation, hub signature, Kafka acks=all, audit)."""

from __future__ import annotations

from collections.abc import Callable

from bench.load import LoadResult, LoadShape, run_closed_loop
from bench.province import Province, record_payload


def hub_publish(province: Province, shape: LoadShape) -> LoadResult:
    """POST the batches of `shape` from its client threads."""
    return run_closed_loop(
        lambda: _batch_publisher(province, shape.batch),
        threads=shape.threads,
        total_calls=shape.total_batches,
        units_per_call=shape.batch,
        budget_s=shape.budget_s,
    )


def _batch_publisher(province: Province, batch: int) -> Callable[[int], None]:
    client = province.producer()
    path = f"/v1/subjects/{province.subject}/records"

    def publish(number: int) -> None:
        records = [{"payload": record_payload(number * batch + index)} for index in range(batch)]
        client.post(path, json={"records": records})

    return publish
