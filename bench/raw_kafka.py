"""The reference for publishing: bare kafka-python producing the same record bytes with
`acks=all` to the same broker, waiting for each batch as a publish request does."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable

from kafka import KafkaProducer

from bench.load import LoadResult, LoadShape, run_closed_loop
from bench.province import record_payload
from exchange.transport.kafka import KafkaTransport

ACK_TIMEOUT_S = 30.0


def raw_kafka_publish(bootstrap: str, partitions: int, shape: LoadShape) -> LoadResult:
    """Produce the batches of `shape` to a fresh topic from its threads, sharing one
    producer (as a hub worker shares one), each batch awaited before the next."""
    topic = f"bench.raw.{uuid.uuid4().hex[:10]}"
    transport = KafkaTransport(bootstrap, client_id="bench-raw")
    try:
        transport.create_topic(topic, partitions)
    finally:
        transport.close()
    producer = KafkaProducer(
        bootstrap_servers=bootstrap.split(","), acks="all", enable_idempotence=True
    )
    try:
        return run_closed_loop(
            lambda: _batch_sender(producer, topic, shape.batch),
            threads=shape.threads,
            total_calls=shape.total_batches,
            units_per_call=shape.batch,
            budget_s=shape.budget_s,
        )
    finally:
        producer.close(timeout=ACK_TIMEOUT_S)


def _batch_sender(producer: KafkaProducer, topic: str, batch: int) -> Callable[[int], None]:
    def send(number: int) -> None:
        futures = []
        for index in range(batch):
            payload = record_payload(number * batch + index)
            futures.append(
                producer.send(
                    topic,
                    key=payload["record_number"].encode(),
                    value=json.dumps(payload).encode(),
                )
            )
        for future in futures:
            future.get(timeout=ACK_TIMEOUT_S)

    return send
