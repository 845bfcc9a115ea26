"""Bounded closed-loop load: several threads each repeat one call until a total count is
done or a time budget is spent, whichever comes first."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from bench.errors import BenchError


@dataclass(frozen=True)
class LoadShape:
    """A bounded publish load: `total_batches` batches of `batch` records from `threads`
    threads, stopped early when `budget_s` is spent."""

    batch: int
    threads: int
    total_batches: int
    budget_s: float


@dataclass(frozen=True)
class LoadResult:
    """How many calls completed (each worth `units` records) in how long."""

    calls: int
    units: int
    seconds: float
    latencies_s: tuple[float, ...]

    @property
    def units_per_s(self) -> float:
        """Records (or other units) per second over the whole run."""
        return self.units / self.seconds if self.seconds > 0 else 0.0

    @property
    def calls_per_s(self) -> float:
        """Calls (requests) per second over the whole run."""
        return self.calls / self.seconds if self.seconds > 0 else 0.0


def run_closed_loop(
    make_call: Callable[[], Callable[[int], None]],
    *,
    threads: int,
    total_calls: int,
    units_per_call: int,
    budget_s: float,
) -> LoadResult:
    """Run `total_calls` calls spread over `threads` threads, or stop at `budget_s`.

    `make_call` runs once per thread (to give each its own client) and returns the call,
    which receives a number unique to this run. Any exception stops the run and is raised.
    """
    counter = _Counter(total_calls)
    deadline = time.monotonic() + budget_s
    latencies: list[float] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            call = make_call()
            while time.monotonic() < deadline and not errors:
                number = counter.take()
                if number is None:
                    return
                started = time.perf_counter()
                call(number)
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed)
        except BaseException as error:  # reported to the caller below
            errors.append(error)

    workers = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
    started = time.perf_counter()
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    seconds = time.perf_counter() - started
    if errors:
        raise BenchError(f"load failed: {errors[0]!r}") from errors[0]
    return LoadResult(len(latencies), len(latencies) * units_per_call, seconds, tuple(latencies))


class _Counter:
    """Hands out 0..limit-1 to threads, then None."""

    def __init__(self, limit: int) -> None:
        self._next = 0
        self._limit = limit
        self._lock = threading.Lock()

    def take(self) -> int | None:
        with self._lock:
            if self._next >= self._limit:
                return None
            self._next += 1
            return self._next - 1
