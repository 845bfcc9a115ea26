"""Dead letters: records a connector could not publish or deliver, on the topic
`exchange.dlq.<connector>`, with the reason, the original bytes and the source position.

Each message's value is JSON `{connector, reason, position, original_base64, record_id,
at}`; the key is the position's JSON, so the letters of one partition stay in order.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from connectors.base import DeadLetter
from exchange.transport import OutgoingMessage, Transport

TOPIC_PREFIX = "exchange.dlq."
READ_POLL_S = 0.5


def dead_letter_topic(connector: str) -> str:
    """The dead-letter topic of a connector."""
    return TOPIC_PREFIX + connector


def create_dead_letter_topic(transport: Transport, connector: str, replication: int) -> None:
    """Create the topic (idempotent); one partition keeps the letters in order."""
    transport.create_topic(dead_letter_topic(connector), 1, replication)


def send_dead_letters(transport: Transport, connector: str, letters: Sequence[DeadLetter]) -> None:
    """Append letters to the connector's topic, waiting for the log to store them."""
    if not letters:
        return
    producer = transport.producer()
    try:
        producer.produce(
            dead_letter_topic(connector), [_message(connector, letter) for letter in letters]
        )
    finally:
        producer.close()


def read_dead_letters(transport: Transport, connector: str, limit: int) -> list[dict[str, Any]]:
    """The first `limit` letters of a connector, read with a throwaway group (nothing
    committed, so reading changes nothing)."""
    group = f"exchange.dlq-reader.{uuid.uuid4().hex}"
    consumer = transport.consumer(group, [dead_letter_topic(connector)], start="earliest")
    letters: list[dict[str, Any]] = []
    try:
        empty_polls = 0
        while len(letters) < limit and empty_polls < 2:
            messages = consumer.poll(limit - len(letters), READ_POLL_S)
            empty_polls = 0 if messages else empty_polls + 1
            letters += [json.loads(m.value) | {"offset": m.offset} for m in messages]
    finally:
        consumer.close()
    return letters


def _message(connector: str, letter: DeadLetter) -> OutgoingMessage:
    position = json.dumps(dict(letter.position), sort_keys=True)
    value = {
        "connector": connector,
        "reason": letter.reason,
        "position": dict(letter.position),
        "original_base64": base64.b64encode(letter.original).decode("ascii"),
        "at": datetime.now(UTC).isoformat(),
    }
    headers = (("connector", connector.encode()), ("reason", letter.reason[:512].encode()))
    return OutgoingMessage(json.dumps(value).encode("utf-8"), position.encode(), headers)
