"""End-to-end latency at a fixed offered load: from the publish call to the record's
delivery at a consumer, through the hub (publish, then pull) and, as the reference,
through bare kafka-python (produce with acks=all, then poll)."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from kafka import KafkaConsumer, KafkaProducer

from bench.errors import BenchError
from bench.province import Province, record_payload
from bench.stats import latency_summary_ms
from exchange.transport.kafka import KafkaTransport

SENDER_THREADS = 16
# A target that cannot keep up stops being offered records this long after the schedule's
# end (in schedules' lengths), so a run is bounded in time whatever the hub's speed.
GIVE_UP_AFTER_SCHEDULES = 1.0
PULL_WAIT_MS = 200
PULL_MAX = 1000
DRAIN_DEADLINE_S = 30.0
ACK_TIMEOUT_S = 30.0

Send = Callable[[str], None]
Receive = Callable[[], list[str]]


@dataclass(frozen=True)
class LatencyResult:
    """Latencies of the records that arrived, and how many were offered, sent and lost."""

    offered_rps: float
    offered: int
    sent: int
    delivered: int
    summary_ms: dict[str, float]


def hub_publish_to_pull(
    province: Province, rate_rps: float, seconds: float, key_base: int
) -> LatencyResult:
    """Publish single records at `rate_rps` for `seconds` (keys from `key_base` on, unique
    to this measurement); a consumer subscribed from "latest" pulls them."""
    consumer = province.consumer()
    subscription = consumer.subscribe(province.subject, province.grant_id, start="latest")
    subscription_id = str(subscription["id"])
    producers = threading.local()
    path = f"/v1/subjects/{province.subject}/records"

    def send(key: str) -> None:
        if not hasattr(producers, "client"):
            producers.client = province.producer()
        payload = record_payload(int(key))
        producers.client.post(path, json={"records": [{"payload": payload}]})

    def receive() -> list[str]:
        pulled = consumer.pull(subscription_id, PULL_MAX, PULL_WAIT_MS)
        if pulled.records:
            consumer.ack(subscription_id, pulled.cursor)
        return [str(delivery["key"]) for delivery in pulled.records]

    try:
        warm_up(send, receive, key_base - 1)
        return measure_latency(send, receive, rate_rps, seconds, key_base)
    finally:
        consumer.close()


def raw_kafka_produce_to_poll(
    bootstrap: str, partitions: int, rate_rps: float, seconds: float, key_base: int
) -> LatencyResult:
    """The same load through bare kafka-python: produce (acks=all) and poll."""
    topic = f"bench.latency.{uuid.uuid4().hex[:10]}"
    transport = KafkaTransport(bootstrap, client_id="bench-raw")
    try:
        transport.create_topic(topic, partitions)
    finally:
        transport.close()
    servers = bootstrap.split(",")
    producer = KafkaProducer(bootstrap_servers=servers, acks="all", enable_idempotence=True)
    consumer = KafkaConsumer(
        topic, bootstrap_servers=servers, group_id=f"bench-{topic}", auto_offset_reset="earliest"
    )

    def send(key: str) -> None:
        value = json.dumps(record_payload(int(key))).encode()
        producer.send(topic, key=key.encode(), value=value).get(timeout=ACK_TIMEOUT_S)

    def receive() -> list[str]:
        polled = consumer.poll(timeout_ms=PULL_WAIT_MS, max_records=PULL_MAX)
        return [message.key.decode() for batch in polled.values() for message in batch]

    try:
        warm_up(send, receive, key_base - 1)
        return measure_latency(send, receive, rate_rps, seconds, key_base)
    finally:
        consumer.close()
        producer.close(timeout=ACK_TIMEOUT_S)


def warm_up(send: Send, receive: Receive, marker: int) -> None:
    """Send one marker record and receive until it arrives: the consumer is then placed
    and joined before the clock starts."""
    key = f"{marker:012d}"
    send(key)
    deadline = time.monotonic() + DRAIN_DEADLINE_S
    while key not in receive():
        if time.monotonic() > deadline:
            raise BenchError("the consumer did not receive the warm-up record")


def measure_latency(
    send: Send, receive: Receive, rate_rps: float, seconds: float, key_base: int
) -> LatencyResult:
    """Offer `rate_rps` sends for `seconds` (open loop: each send has its scheduled start,
    whatever the earlier ones took), receive concurrently, and time each key from its
    scheduled start to its receipt."""
    total = max(1, round(rate_rps * seconds))
    scheduled: dict[str, float] = {}
    received: dict[str, float] = {}
    sent: set[str] = set()
    errors: list[BaseException] = []
    start = time.perf_counter() + 0.1
    give_up_at = start + seconds * (1 + GIVE_UP_AFTER_SCHEDULES)
    keys = [f"{key_base + number:012d}" for number in range(total)]
    for index, key in enumerate(keys):
        scheduled[key] = start + index / rate_rps
    senders = [
        threading.Thread(
            target=_send_slots,
            args=(send, keys[n::SENDER_THREADS], _Schedule(scheduled, sent, give_up_at), errors),
        )
        for n in range(SENDER_THREADS)
    ]
    for thread in senders:
        thread.start()
    _receive_until(receive, sent, received, senders, errors)
    for thread in senders:
        thread.join()
    if errors:
        raise BenchError(f"latency load failed: {errors[0]!r}") from errors[0]
    latencies = [received[key] - scheduled[key] for key in received]
    return LatencyResult(rate_rps, total, len(sent), len(latencies), latency_summary_ms(latencies))


@dataclass(frozen=True)
class _Schedule:
    """When each key is due, which were sent, and when sending stops regardless."""

    due: dict[str, float]
    sent: set[str]
    give_up_at: float


def _send_slots(
    send: Send, keys: list[str], schedule: _Schedule, errors: list[BaseException]
) -> None:
    try:
        for key in keys:
            if time.perf_counter() > schedule.give_up_at:
                return
            # Waiting for a scheduled instant is the point of an open-loop load, not a race.
            delay = schedule.due[key] - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            schedule.sent.add(key)
            send(key)
    except BaseException as error:  # reported by measure_latency
        errors.append(error)


def _receive_until(
    receive: Receive,
    sent: set[str],
    received: dict[str, float],
    senders: list[threading.Thread],
    errors: list[BaseException],
) -> None:
    drain_deadline: float | None = None
    while not errors and (_any_alive(senders) or len(received) < len(sent)):
        keys = receive()
        arrived = time.perf_counter()
        for key in keys:
            if key in sent:
                received.setdefault(key, arrived)
        if drain_deadline is None and not _any_alive(senders):
            drain_deadline = time.monotonic() + DRAIN_DEADLINE_S
        if drain_deadline is not None and time.monotonic() > drain_deadline:
            return


def _any_alive(threads: list[threading.Thread]) -> bool:
    return any(thread.is_alive() for thread in threads)
