"""Memory of processes, read from /proc: resident set now and at its peak (VmHWM)."""

from __future__ import annotations

from pathlib import Path

PROC = Path("/proc")
KIB_PER_MIB = 1024


def peak_rss_mb(pid: int) -> float:
    """The peak resident set size of process `pid` so far, in MiB (0 if it is gone)."""
    return _status_field_mb(pid, "VmHWM")


def rss_mb(pid: int) -> float:
    """The resident set size of process `pid` now, in MiB (0 if it is gone)."""
    return _status_field_mb(pid, "VmRSS")


def children_of(pid: int) -> list[int]:
    """The live child processes of `pid` (gunicorn's workers, for its arbiter)."""
    found: list[int] = []
    for stat in PROC.glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        # After the command name: state, then the parent pid.
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return sorted(found)


def _status_field_mb(pid: int, name: str) -> float:
    try:
        lines = (PROC / str(pid) / "status").read_text().splitlines()
    except OSError:
        return 0.0
    for line in lines:
        if line.startswith(name + ":"):
            return int(line.split()[1]) / KIB_PER_MIB
    return 0.0
