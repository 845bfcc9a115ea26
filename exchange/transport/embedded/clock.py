"""Wall-clock time in milliseconds, shared by every process that opens the log."""

from __future__ import annotations

import time


def now_ms() -> int:
    """Milliseconds since the Unix epoch."""
    return time.time_ns() // 1_000_000
