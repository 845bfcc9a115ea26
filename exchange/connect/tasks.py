"""One running connector on a worker: a source task publishes batches through the hub, a
sink task pulls deliveries from its subscription and writes them. Each `step` moves at
most one batch and reports its progress; anything it raises fails the connector.

Order within a source step (what makes a restart lose and duplicate nothing): publish the
batch (its idempotency key makes a repeat a replay), send its dead letters, store its
offset (fenced by the lease), then tell the source it is committed. Within a sink step:
write the deliveries (idempotent by record id), dead-letter the rejected ones, then
acknowledge.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from connectors.base import (
    DeadLetter,
    SinkConnector,
    SourceBatch,
    SourceConnector,
    SourceRecord,
)
from exchange.client import ClientValidationError, ExchangeClient
from exchange.errors import ExchangeError
from exchange.store.records_connectors import Progress

SUBSCRIPTION_PARTITION = "subscription"
PULL_WAIT_MS = 200


class RecordsRefused(ExchangeError):
    """Records were refused and the connector's `errors.tolerance` is `none`."""

    status = 422
    type_slug = "connector-records-refused"
    title = "Records refused"


class LeaseLost(ExchangeError):
    """Another worker holds the connector now; this one must let it go."""

    status = 409
    type_slug = "connector-lease-lost"
    title = "Connector lease lost"


SendDeadLetters = Callable[[Sequence[DeadLetter]], None]
SaveOffset = Callable[[str, Any], bool]


class SourceTask:
    """Runs a source: poll, publish, dead-letter, store the offset, commit."""

    def __init__(
        self,
        source: SourceConnector,
        client: ExchangeClient,
        subject: str,
        *,
        tolerate_errors: bool,
        send_dead_letters: SendDeadLetters,
        save_offset: SaveOffset,
    ) -> None:
        self.source = source
        self._client = client
        self._subject = subject
        self._tolerate = tolerate_errors
        self._send = send_dead_letters
        self._save = save_offset

    def step(self) -> Progress | None:
        """Move one batch; None when the source had nothing."""
        batch = self.source.poll()
        if batch is None:
            return Progress(lag=self.source.lag())
        letters = list(batch.dead_letters)
        self._refuse_unless_tolerated(letters)
        if batch.intent is not None:
            self._store(batch.partition, batch.intent)
        published, refused = self._publish(batch) if batch.records else (0, [])
        letters += refused
        self._send(letters)
        self._store(batch.partition, batch.offset)
        self.source.committed(batch, letters)
        if batch.last:
            self._store(batch.partition, None)
        return Progress(
            records_in=len(batch.records) + len(batch.dead_letters),
            records_out=published,
            dead_lettered=len(letters),
            lag=self.source.lag(),
        )

    def close(self) -> None:
        """Close the source and the client."""
        try:
            self.source.close()
        finally:
            self._client.close()

    def _store(self, partition: str, offset: Any) -> None:
        if not self._save(partition, offset):
            raise LeaseLost("the connector's lease passed to another worker")

    def _refuse_unless_tolerated(self, letters: Sequence[DeadLetter]) -> None:
        if letters and not self._tolerate:
            first = letters[0]
            raise RecordsRefused(
                f"{len(letters)} record(s) refused (errors.tolerance none); first at "
                f"{json.dumps(dict(first.position))}: {first.reason}"
            )

    def _publish(self, batch: SourceBatch) -> tuple[int, list[DeadLetter]]:
        """Publish the batch; with `errors.tolerance all`, records the hub refuses become
        dead letters and the rest is published under a key naming the ones left out."""
        records = list(batch.records)
        refused: list[DeadLetter] = []
        key = batch.idempotency_key
        while records:
            try:
                self._post(records, key)
                return len(records), refused
            except ClientValidationError as error:
                by_index = _refusals(error.problem)
                if not by_index:
                    raise
                newly = [
                    DeadLetter(reason, _original_of(records[i]), records[i].position)
                    for i, reason in sorted(by_index.items())
                ]
                self._refuse_unless_tolerated(newly)
                refused += newly
                records = [r for i, r in enumerate(records) if i not in by_index]
                key = f"{key}:without:{','.join(str(i) for i in sorted(by_index))}"
        return 0, refused

    def _post(self, records: Sequence[SourceRecord], key: str) -> None:
        self._client.publish(
            self._subject,
            [
                {"payload": r.payload} | ({"key": r.key} if r.key is not None else {})
                for r in records
            ],
            idempotency_key=key,
        )


class SinkTask:
    """Runs a sink: pull from the connector's subscription, write, dead-letter, acknowledge."""

    def __init__(
        self,
        sink: SinkConnector,
        client: ExchangeClient,
        subscription_id: str,
        *,
        batch_size: int,
        tolerate_errors: bool,
        send_dead_letters: SendDeadLetters,
    ) -> None:
        self.sink = sink
        self._client = client
        self._subscription = subscription_id
        self._batch_size = batch_size
        self._tolerate = tolerate_errors
        self._send = send_dead_letters
        self._reported_lag: int | None = None

    def step(self) -> Progress | None:
        """Deliver one pulled batch and report it with the subscription's lag (what is left
        after it). When nothing came (the sink's idle turn): the lag if it changed, so a
        drained sink shows 0, else None (nothing to write to the store)."""
        pulled = self._client.pull(self._subscription, self._batch_size, PULL_WAIT_MS)
        if not pulled.records:
            self.sink.on_idle()
            return self._lag_progress(pulled.lag)
        rejected = self.sink.put(pulled.records)
        letters = [
            DeadLetter(
                r.reason,
                _bytes_of(r.delivery),
                {"subscription": self._subscription, "record_id": r.delivery.get("record_id")},
            )
            for r in rejected
        ]
        if letters and not self._tolerate:
            raise RecordsRefused(
                f"{len(letters)} deliveries refused by the sink (errors.tolerance none): "
                f"{letters[0].reason}"
            )
        self._send(letters)
        self._client.ack(self._subscription, pulled.cursor)
        self._reported_lag = pulled.lag
        return Progress(
            records_in=len(pulled.records),
            records_out=len(pulled.records) - len(letters),
            dead_lettered=len(letters),
            lag=pulled.lag,
        )

    def _lag_progress(self, lag: int | None) -> Progress | None:
        if lag == self._reported_lag:
            return None
        self._reported_lag = lag
        return Progress(lag=lag)

    def close(self) -> None:
        """Close the sink and the client."""
        try:
            self.sink.close()
        finally:
            self._client.close()


def _refusals(problem: Mapping[str, Any]) -> dict[int, str]:
    """The records a 422 refused, by batch index, each with its reasons."""
    refusals: dict[int, str] = {}
    errors = problem.get("errors")
    if not isinstance(errors, list):
        return refusals
    for failure in errors:
        if isinstance(failure, Mapping) and isinstance(failure.get("index"), int):
            reasons = "; ".join(
                f"{issue.get('path', '')}: {issue.get('message', '')}"
                for issue in failure.get("errors", [])
                if isinstance(issue, Mapping)
            )
            refusals[failure["index"]] = f"refused by the hub: {reasons}"
    return refusals


def _original_of(record: SourceRecord) -> bytes:
    """The bytes the source read the record from, or its payload's JSON if it kept none."""
    return record.original if record.original is not None else _bytes_of(record.payload)


def _bytes_of(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True).encode("utf-8")
