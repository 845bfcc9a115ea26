"""Keeping a hub process's memory flat under concurrent requests."""

from __future__ import annotations

import ctypes
import os

# glibc's mallopt parameter for the most malloc arenas a process may have (malloc.h).
M_ARENA_MAX = -8
MALLOC_ARENAS = 2


def limit_malloc_arenas() -> bool:
    """Cap glibc's malloc arenas at `MALLOC_ARENAS` for this process, unless the operator
    set MALLOC_ARENA_MAX; True if capped (False without glibc).

    glibc gives threads that allocate at the same time arenas of their own (up to 8 per
    core), and memory freed in one arena is not reused by another: with gthread's request
    threads each handling a large publish, a worker's peak grows with its thread count.
    Two arenas took 17-20 MB off the peak of 8 concurrent 1,000-record publishes in one
    process, at no cost in time (Python allocates under the GIL anyway).
    """
    if "MALLOC_ARENA_MAX" in os.environ:
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    return bool(libc.mallopt(M_ARENA_MAX, MALLOC_ARENAS))
