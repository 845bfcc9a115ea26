"""A sink task reports its subscription's lag with every batch, and on an idle turn only
when it changed: a drained sink shows 0 without a store write on every quiet pull."""

from __future__ import annotations

from typing import Any, cast

from connectors.base import RejectedDelivery, SinkConnector
from exchange.client import ExchangeClient
from exchange.client_records import PullResult
from exchange.connect.tasks import SinkTask
from exchange.store.records_connectors import Progress


class ScriptedClient:
    """Answers each pull with the next of `pulls`; records acknowledgements."""

    def __init__(self, *pulls: PullResult) -> None:
        self._pulls = list(pulls)
        self.acknowledged: list[str] = []

    def pull(self, subscription_id: str, max_records: int, wait_ms: int) -> PullResult:
        return self._pulls.pop(0)

    def ack(self, subscription_id: str, cursor: str) -> None:
        self.acknowledged.append(cursor)


class WritingNothing(SinkConnector):
    def put(self, deliveries: Any) -> list[RejectedDelivery]:
        return []


def _task(client: ScriptedClient) -> SinkTask:
    return SinkTask(
        WritingNothing({}, cast(Any, None)),
        cast(ExchangeClient, client),
        "subscription-1",
        batch_size=10,
        tolerate_errors=False,
        send_dead_letters=lambda letters: None,
    )


def test_a_sink_reports_the_lag_of_each_batch_and_of_an_idle_pull_only_when_it_changed():
    delivery = {"record_id": "r1", "payload": {}}
    task = _task(
        ScriptedClient(
            PullResult([delivery], "c1", lag=1),  # one more behind it (or a marker offset)
            PullResult([], "c1", lag=0),
            PullResult([], "c1", lag=0),
        )
    )

    assert task.step() == Progress(records_in=1, records_out=1, lag=1)
    assert task.step() == Progress(lag=0)
    assert task.step() is None


def test_a_newly_opened_sink_reports_its_first_idle_lag():
    task = _task(ScriptedClient(PullResult([], "c0", lag=0)))

    assert task.step() == Progress(lag=0)
