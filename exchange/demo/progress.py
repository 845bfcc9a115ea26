"""The demo's progress line: licences read from the inbox by the file source, and written
to the tax department's outbox by the file sink, as the connectors' status reports them."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from exchange.client import ExchangeAPIError, ExchangeClient
from exchange.demo import province

POLL_INTERVAL_S = 0.5


@dataclass(frozen=True)
class Progress:
    """How far the licences have moved."""

    published: int
    delivered: int
    dead_lettered: int
    expected: int

    @property
    def done(self) -> bool:
        return self.delivered >= self.expected

    def line(self) -> str:
        """One terminal line, rewritten in place."""
        width = 30
        filled = min(width, width * self.delivered // max(1, self.expected))
        bar = "#" * filled + "." * (width - filled)
        return (
            f"[{bar}] licences published {self.published}/{self.expected}, "
            f"delivered to tax {self.delivered}/{self.expected}"
            + (f", dead letters {self.dead_lettered}" if self.dead_lettered else "")
        )


def read_progress(source: ExchangeClient, sink: ExchangeClient, expected: int) -> Progress:
    """The connectors' counters now (zero for a connector no worker has started yet)."""
    published = _status(source, province.LICENCE_SOURCE)
    delivered = _status(sink, province.TAX_SINK)
    return Progress(
        published=published.get("records_out", 0),
        delivered=delivered.get("records_out", 0),
        dead_lettered=published.get("dead_lettered", 0) + delivered.get("dead_lettered", 0),
        expected=expected,
    )


def _status(client: ExchangeClient, connector: str) -> dict[str, int]:
    try:
        status: dict[str, int] = client.get(f"/v1/connectors/{connector}/status")
    except ExchangeAPIError:
        return {}
    return status


def watch(
    read: Callable[[], Progress],
    show: Callable[[Progress], None],
    deadline_s: float,
    interrupted: Callable[[], bool] = lambda: False,
) -> Progress:
    """Show progress until every expected licence is delivered, the deadline passes, or
    `interrupted()` holds (Ctrl-C, a demo process gone)."""
    deadline = time.monotonic() + deadline_s
    while True:
        progress = read()
        show(progress)
        if progress.done or time.monotonic() > deadline or interrupted():
            return progress
        time.sleep(POLL_INTERVAL_S)
