"""The result of a run: a flat summary beside the detailed figures, written as JSON and
as a Markdown table where every figure stands next to its same-run reference."""

from __future__ import annotations

import json
import math
import os
import platform
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

VERSIONED_PACKAGES = ("flask", "gunicorn", "kafka-python", "SQLAlchemy", "psycopg", "cryptography")


@dataclass(frozen=True)
class Row:
    """One line of the table: a figure, its reference, and the target it is held to."""

    figure: str
    value: float
    unit: str
    reference: str
    reference_value: float
    ratio: float
    target: str
    met: bool | None


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.machine(),
        "cpus": _cpu_count(),
        "memory_gib": _memory_gib(),
        "kafka": _kafka_version(),
        "packages": {name: _version(name) for name in VERSIONED_PACKAGES},
    }


def write_result(
    output_dir: Path, label: str, result: dict[str, Any], rows: list[Row]
) -> tuple[Path, Path]:
    """Write `<label>-<time>.json` and `<label>-<time>.md` (and `latest-<label>.md`)."""
    output_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    json_path = output_dir / f"{label}-{stamp}.json"
    markdown_path = output_dir / f"{label}-{stamp}.md"
    json_path.write_text(json.dumps(_finite(result), indent=2, sort_keys=False) + "\n")
    table = markdown_table(rows, result["machine"], label)
    markdown_path.write_text(table)
    (output_dir / f"latest-{label}.md").write_text(table)
    return json_path, markdown_path


def markdown_table(rows: list[Row], machine_info: dict[str, Any], label: str) -> str:
    """The table of figures, references, ratios and targets, with the machine above it."""
    packages = ", ".join(f"{name} {version}" for name, version in machine_info["packages"].items())
    lines = [
        f"Run `{label}` on {machine_info['date']}: {machine_info['cpus']} CPUs, "
        f"{machine_info['memory_gib']} GiB, {machine_info['platform']}, Python "
        f"{machine_info['python']}, Apache Kafka {machine_info['kafka']}; {packages}.",
        "",
        "| Figure | Value | Reference (same run) | Ratio | Target | Met |",
        "|---|---:|---|---:|---|:---:|",
    ]
    for row in rows:
        met = "" if row.met is None else ("yes" if row.met else "**no**")
        lines.append(
            f"| {row.figure} | {_number(row.value)} {row.unit} | {row.reference}: "
            f"{_number(row.reference_value)} | {_number(row.ratio)} | {row.target} | {met} |"
        )
    return "\n".join(lines) + "\n"


def _number(value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _finite(value: Any) -> Any:
    """JSON has no NaN: unmeasured figures become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "absent"


def _cpu_count() -> int:
    return len(os.sched_getaffinity(0))


def _memory_gib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return round(int(line.split()[1]) / 1024 / 1024, 1)
    return math.nan


def _kafka_version() -> str:
    pom = Path(__file__).resolve().parents[1] / "config" / "kafka" / "pom.xml"
    text = pom.read_text() if pom.is_file() else ""
    start = text.find("<kafka.version>")
    end = text.find("</kafka.version>")
    return text[start + len("<kafka.version>") : end] if 0 <= start < end else "unknown"
