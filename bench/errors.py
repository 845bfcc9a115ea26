"""Why a benchmark run could not go on."""

from __future__ import annotations

from exchange.errors import ExchangeError


class BenchError(ExchangeError):
    """A benchmark run failed: a service did not start, or the hub refused the load."""

    status = 500
    type_slug = "bench-failed"
    title = "Benchmark run failed"
