"""The `file` sink: deliveries written as JSON Lines files, rotated by size or by age.

The segment being written is `<prefix>-<first record time>-<n>.jsonl.part`; every `put` is
flushed and fsynced before the runtime acknowledges the deliveries. A segment is rotated
(renamed to its final `.jsonl` name, an atomic step, so readers only ever see complete
files) once it reaches `max_bytes` or is older than `max_age_s`: before the next write, or
on an idle tick (`on_idle`, when a pull brought nothing), so a quiet segment is finished too.
Its age counts from its creation, kept in memory (or, for a segment found on disk after a
restart, from the time in its name): not from the file's timestamps, which every append
refreshes. Rotation only happens between batches, once the previous batch is acknowledged.
A redelivery (after a crash before the acknowledgement) is recognised by its `record_id`
among the records of the open segment, which holds everything not yet acknowledged, and
is not written twice.
"""

from __future__ import annotations

import calendar
import json
import os
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from marshmallow import fields, validate

from connectors.base import (
    ConnectorEnvironment,
    RejectedDelivery,
    SinkConfig,
    SinkConnector,
    SinkContext,
)
from connectors.paths import path_errors, resolve_under

PART_SUFFIX = ".part"
STAMP_FORMAT = "%Y%m%dT%H%M%S"


class FileSinkConfig(SinkConfig):
    directory = fields.String(required=True, validate=validate.Length(min=1, max=1024))
    prefix = fields.String(
        load_default="deliveries", validate=validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    )
    max_bytes = fields.Integer(load_default=64 * 1024 * 1024, validate=validate.Range(min=1))
    max_age_s = fields.Float(load_default=3600.0, validate=validate.Range(min=0.001))


class FileSink(SinkConnector):
    """Appends deliveries to a JSON Lines segment, fsynced per batch, rotated atomically."""

    config_schema = FileSinkConfig

    @classmethod
    def check_config(
        cls, config: Mapping[str, Any], environment: ConnectorEnvironment
    ) -> dict[str, list[str]]:
        """The key file and the directory must lie under the connector root."""
        return super().check_config(config, environment) | path_errors(
            environment.root, {"directory": config.get("directory")}
        )

    def __init__(self, config: Mapping[str, Any], context: SinkContext) -> None:
        super().__init__(config, context)
        self.directory = resolve_under(context.environment.root, str(config["directory"]))
        self.directory.mkdir(parents=True, exist_ok=True)
        self._prefix = str(config["prefix"])
        self._max_bytes = int(config["max_bytes"])
        self._max_age_s = float(config["max_age_s"])
        # Wall-clock seconds; a test may replace it to age segments without sleeping.
        self.clock: Callable[[], float] = time.time
        self._segment = self._existing_segment()
        self._opened_at = 0.0
        if self._segment is not None:
            _cut_partial_line(self._segment)
            self._opened_at = _stamp_of(self._segment, self._prefix)
        self._written = _record_ids_in(self._segment) if self._segment else set()

    def put(self, deliveries: Sequence[Mapping[str, Any]]) -> list[RejectedDelivery]:
        """Append the deliveries not yet in the open segment, and fsync it."""
        self._rotate_if_due()
        fresh = [d for d in deliveries if str(d.get("record_id")) not in self._written]
        if not fresh:
            return []
        segment = self._segment or self._new_segment()
        with segment.open("ab") as out:
            for delivery in fresh:
                out.write(json.dumps(delivery, ensure_ascii=False).encode("utf-8") + b"\n")
            out.flush()
            os.fsync(out.fileno())
        self._written.update(str(d.get("record_id")) for d in fresh)
        return []

    def on_idle(self) -> None:
        """Nothing came: finish the open segment if it is due, so a quiet one is not left
        as `.part` until the next delivery."""
        self._rotate_if_due()

    def close(self) -> None:
        """Finish the open segment, so everything written is in a final file."""
        self._rotate()

    def _rotate_if_due(self) -> None:
        if self._segment is None:
            return
        too_old = self.clock() - self._opened_at >= self._max_age_s
        if too_old or self._segment.stat().st_size >= self._max_bytes:
            self._rotate()

    def _rotate(self) -> None:
        if self._segment is not None and self._segment.exists():
            os.replace(self._segment, self._segment.with_suffix(""))
        self._segment = None
        self._written = set()

    def _new_segment(self) -> Path:
        self._opened_at = self.clock()
        stamp = time.strftime(STAMP_FORMAT, time.gmtime(self._opened_at))
        number = 0
        while True:
            final = self.directory / f"{self._prefix}-{stamp}-{number}.jsonl"
            if not final.exists() and not final.with_name(final.name + PART_SUFFIX).exists():
                break
            number += 1
        self._segment = final.with_name(final.name + PART_SUFFIX)
        return self._segment

    def _existing_segment(self) -> Path | None:
        parts = sorted(self.directory.glob(f"{self._prefix}-*.jsonl{PART_SUFFIX}"))
        return parts[-1] if parts else None


def _stamp_of(segment: Path, prefix: str) -> float:
    """When a segment found on disk was opened, from its name (`<prefix>-<stamp>-<n>...`);
    0 (due at once) if the name does not say."""
    stamp = segment.name.removeprefix(f"{prefix}-").split("-", 1)[0]
    try:
        return float(calendar.timegm(time.strptime(stamp, STAMP_FORMAT)))
    except ValueError:
        return 0.0


def _cut_partial_line(segment: Path) -> None:
    """Drop a last line a crash cut short, so the next write starts on a line of its own."""
    content = segment.read_bytes()
    if content and not content.endswith(b"\n"):
        with segment.open("r+b") as out:
            out.truncate(content.rfind(b"\n") + 1)


def _record_ids_in(segment: Path) -> set[str]:
    ids: set[str] = set()
    for line in segment.read_text(encoding="utf-8").splitlines():
        try:
            ids.add(str(json.loads(line).get("record_id")))
        except (json.JSONDecodeError, AttributeError):
            continue  # a line cut short by a crash: its record comes again
    return ids
