"""Small statistics of measured durations: percentiles and rates."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")


def percentile(values: Sequence[float], fraction: float) -> float:
    """The `fraction` (0..1) percentile of `values` by the nearest-rank method; NaN if empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def latency_summary_ms(seconds: Sequence[float]) -> dict[str, float]:
    """p50/p95/p99/max of durations given in seconds, in milliseconds."""
    return {
        "count": float(len(seconds)),
        "p50_ms": percentile(seconds, 0.50) * 1000,
        "p95_ms": percentile(seconds, 0.95) * 1000,
        "p99_ms": percentile(seconds, 0.99) * 1000,
        "max_ms": (max(seconds) * 1000) if seconds else math.nan,
    }


def rate(count: float, seconds: float) -> float:
    """`count` per second; NaN for an empty interval."""
    return count / seconds if seconds > 0 else math.nan


def ratio(value: float, reference: float) -> float:
    """`value / reference`; NaN when the reference is zero or missing."""
    if not reference or math.isnan(reference):
        return math.nan
    return value / reference


def timed(action: Callable[[], T]) -> tuple[T, float]:
    """Run `action`; return its result and how many seconds it took."""
    started = time.perf_counter()
    result = action()
    return result, time.perf_counter() - started


def per_call_seconds(action: Callable[[], object], repeat: int) -> float:
    """Mean seconds per call of `action` over `repeat` calls."""
    started = time.perf_counter()
    for _ in range(repeat):
        action()
    return (time.perf_counter() - started) / repeat
