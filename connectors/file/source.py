"""The `file` source: JSON Lines and CSV files dropped into a directory become records.

Convention (how a department system hands over a file): write it under a name ending in
`.part` or `.tmp` (or starting with `.`), then rename it to its final `*.csv`, `*.jsonl` or
`*.ndjson` name in the same directory. A rename is atomic, so the source never sees a
half-written file: it only reads files with a final name.

Files are read in name order, `batch_size` rows per batch. Each batch is published with an
idempotency key of (connector, file name, content digest, batch number), and the file's
offset (the next batch) is stored after each batch, so a worker killed mid-file resumes
where it stopped without publishing anything twice. A finished file moves to `done/`; a
file with rejected rows (dead-lettered) moves to `failed/` with `<name>.reasons.jsonl`
(one line per rejected row: line number and reason). A file that cannot be read at all
(not UTF-8, no CSV header) is one dead letter (its reason, its bytes, its name): with
`errors.tolerance none` the connector fails with that reason and the file stays where it
is; with `all` the letter goes to the dead-letter topic and the file to `failed/`.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from marshmallow import fields, validate

from connectors.base import (
    ConnectorConfig,
    ConnectorEnvironment,
    DeadLetter,
    SourceBatch,
    SourceConnector,
    SourceContext,
    SourceRecord,
)
from connectors.file.reading import FORMATS_BY_SUFFIX, Row, UnreadableFile, read_rows
from connectors.paths import path_errors, resolve_under

DONE_DIR = "done"
FAILED_DIR = "failed"
REASONS_DIR = ".reasons"
MAX_NAME_IN_PARTITION = 200
# An unreadable file's dead letter carries at most this much of it (the whole file stays
# in `failed/`): a dead letter must fit one message of the transport.
MAX_UNREADABLE_BYTES = 256 * 1024


class FileSourceConfig(ConnectorConfig):
    directory = fields.String(
        required=True,
        validate=validate.Length(min=1, max=1024),
        metadata={"description": "The directory watched, under the connector root"},
    )
    delimiter = fields.String(load_default=",", validate=validate.Length(equal=1))


class FileSource(SourceConnector):
    """Publishes the rows of completed files, then moves each to `done/` or `failed/`."""

    config_schema = FileSourceConfig

    @classmethod
    def check_config(
        cls, config: Mapping[str, Any], environment: ConnectorEnvironment
    ) -> dict[str, list[str]]:
        """The key file and the directory must lie under the connector root."""
        return super().check_config(config, environment) | path_errors(
            environment.root, {"directory": config.get("directory")}
        )

    def __init__(self, config: Mapping[str, Any], context: SourceContext) -> None:
        super().__init__(config, context)
        self.directory = resolve_under(context.environment.root, str(config["directory"]))
        for name in (DONE_DIR, FAILED_DIR, REASONS_DIR):
            (self.directory / name).mkdir(parents=True, exist_ok=True)
        self._batch_size = int(config["batch_size"])
        self._delimiter = str(config["delimiter"])
        self._open: _OpenFile | None = None

    def poll(self) -> SourceBatch | None:
        """The next batch of the oldest ready file, or None when none is waiting."""
        if self._open is None:
            ready = self._ready_files()
            if not ready:
                return None
            self._open = self._opened(ready[0])
        return self._open.next_batch(self._batch_size)

    def committed(self, batch: SourceBatch, dead_letters: Sequence[DeadLetter]) -> None:
        """Note the batch's rejected rows; finish the file after its last batch."""
        if self._open is None or batch.partition != self._open.partition:
            return
        if dead_letters:
            self._open.note_rejections(dead_letters)
        self._open.advance()
        if batch.last:
            self._open.finish()
            self._open = None

    def lag(self) -> int | None:
        """How many files wait to be read."""
        return len(self._ready_files())

    def _ready_files(self) -> list[Path]:
        return sorted(
            entry
            for entry in self.directory.iterdir()
            if entry.is_file()
            and not entry.name.startswith(".")
            and entry.suffix.lower() in FORMATS_BY_SUFFIX
            and _inside(entry, self.context.environment.root)
        )

    def _opened(self, path: Path) -> _OpenFile:
        """The file read and split into batches; an unreadable one is a single dead letter
        (the runtime fails the connector on it, or sends it and lets the file finish)."""
        content = path.read_bytes()
        identity = hashlib.sha256(content).hexdigest()[:16]
        partition = f"{path.name[:MAX_NAME_IN_PARTITION]}:{identity}"
        stored = self.context.offset(partition)
        next_batch = int(stored.get("next_batch", 0)) if isinstance(stored, dict) else 0
        try:
            rows = read_rows(path, self.context.schema(), self._delimiter)
        except UnreadableFile as error:
            letter = _unreadable_letter(path.name, content, error.detail)
            return _OpenFile(self, path, partition, [], next_batch, unreadable=letter)
        return _OpenFile(self, path, partition, rows, next_batch)


class _OpenFile:
    """A file being published, batch by batch."""

    def __init__(  # noqa: PLR0917 (internal: the file, where it is, and what it holds)
        self,
        source: FileSource,
        path: Path,
        partition: str,
        rows: list[Row],
        next_batch: int,
        unreadable: DeadLetter | None = None,
    ) -> None:
        self.source = source
        self.path = path
        self.partition = partition
        self.rows = rows
        self.batch = next_batch
        self.unreadable = unreadable
        self.reasons_file = source.directory / REASONS_DIR / f"{partition.replace(':', '.')}.jsonl"

    def next_batch(self, size: int) -> SourceBatch:
        if self.unreadable is not None:
            return SourceBatch(
                partition=self.partition,
                offset={"next_batch": 1},
                idempotency_key=f"connector:{self.source.context.name}:{self.partition}:0",
                dead_letters=[self.unreadable],
                last=True,
            )
        rows = self.rows[self.batch * size : (self.batch + 1) * size]
        last = (self.batch + 1) * size >= len(self.rows)
        position = {"file": self.path.name}
        return SourceBatch(
            partition=self.partition,
            offset={"next_batch": self.batch + 1},
            idempotency_key=f"connector:{self.source.context.name}:{self.partition}:{self.batch}",
            records=[
                SourceRecord(row.payload, position | {"line": row.line}, original=row.original)
                for row in rows
                if row.error is None
            ],
            dead_letters=[
                DeadLetter(row.error, row.original, position | {"line": row.line})
                for row in rows
                if row.error is not None
            ],
            last=last,
        )

    def advance(self) -> None:
        self.batch += 1

    def note_rejections(self, dead_letters: Sequence[DeadLetter]) -> None:
        with self.reasons_file.open("a", encoding="utf-8") as reasons:
            for letter in dead_letters:
                line = {"line": letter.position.get("line"), "reason": letter.reason}
                reasons.write(json.dumps(line) + "\n")

    def finish(self) -> None:
        if not self.reasons_file.exists():
            os.replace(self.path, self.source.directory / DONE_DIR / self.path.name)
            return
        reasons = _deduplicated(self.reasons_file)
        _move_to_failed(self.path, self.source.directory, reasons)
        self.reasons_file.unlink()


def _unreadable_letter(name: str, content: bytes, reason: str) -> DeadLetter:
    kept = content[:MAX_UNREADABLE_BYTES]
    if len(kept) < len(content):
        reason += f" (the first {len(kept)} of {len(content)} bytes kept here)"
    return DeadLetter(reason, kept, {"file": name, "bytes": len(content)})


def _deduplicated(reasons_file: Path) -> list[dict[str, Any]]:
    """The rejections noted, once each (a batch re-run after a crash notes them again)."""
    seen: dict[str, dict[str, Any]] = {}
    for line in reasons_file.read_text(encoding="utf-8").splitlines():
        if line.strip():
            seen.setdefault(line, json.loads(line))
    return sorted(seen.values(), key=lambda reason: reason.get("line") or 0)


def _move_to_failed(path: Path, directory: Path, reasons: list[dict[str, Any]]) -> None:
    failed = directory / FAILED_DIR
    sidecar = failed / f"{path.name}.reasons.jsonl"
    temporary = sidecar.with_name(sidecar.name + ".tmp")
    temporary.write_text("".join(json.dumps(r) + "\n" for r in reasons), encoding="utf-8")
    os.replace(temporary, sidecar)
    os.replace(path, failed / path.name)


def _inside(entry: Path, root: Path) -> bool:
    """A symbolic link dropped into the directory must not lead out of the root."""
    real = entry.resolve()
    return real.is_relative_to(root.resolve())
