"""Reading a JSON Lines or CSV file into rows, each with its line number and original bytes."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from connectors.coercion import CellInvalid, coerce_row
from exchange.errors import ValidationFailed

FileFormat = Literal["csv", "jsonl"]
FORMATS_BY_SUFFIX: dict[str, FileFormat] = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}


class UnreadableFile(ValidationFailed):
    """The file as a whole cannot be read (not UTF-8, no CSV header...)."""

    type_slug = "unreadable-file"
    title = "File cannot be read"


@dataclass(frozen=True)
class Row:
    """One record of a file: its payload, or why it has none."""

    line: int
    original: bytes
    payload: Any = None
    error: str | None = None


def read_rows(path: Path, schema: Mapping[str, Any], delimiter: str = ",") -> list[Row]:
    """Every row of the file, in order; raises `UnreadableFile` for the whole file."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UnreadableFile(f"{path.name} is not UTF-8: {error.reason}") from error
    if FORMATS_BY_SUFFIX[path.suffix.lower()] == "jsonl":
        return list(_json_lines(text))
    return list(_csv_rows(text, schema, delimiter))


def _json_lines(text: str) -> Iterator[Row]:
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        if not line.strip():
            continue
        original = line.rstrip("\r\n").encode("utf-8")
        try:
            payload = json.loads(line)
        except json.JSONDecodeError as error:
            yield Row(number, original, error=f"line {number}: malformed JSON: {error.msg}")
            continue
        if not isinstance(payload, dict):
            yield Row(number, original, error=f"line {number}: not a JSON object")
            continue
        yield Row(number, original, payload=payload)


class _LineTracker:
    """Feeds lines to the csv reader and keeps those of the current row (a quoted cell may
    span lines), so a row's original bytes and first line are known."""

    def __init__(self, text: str) -> None:
        self._lines = iter(text.splitlines(keepends=True))
        self.consumed = 0
        self.current: list[str] = []

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self.consumed += 1
        self.current.append(line)
        return line

    def take(self) -> tuple[int, bytes]:
        first = self.consumed - len(self.current) + 1
        original = "".join(self.current).rstrip("\r\n").encode("utf-8")
        self.current = []
        return first, original


def _csv_rows(text: str, schema: Mapping[str, Any], delimiter: str) -> Iterator[Row]:
    tracker = _LineTracker(text)
    reader = csv.reader(tracker, delimiter=delimiter, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise UnreadableFile("the CSV file has no header row") from None
    except csv.Error as error:
        raise UnreadableFile(f"the CSV header cannot be read: {error}") from error
    tracker.take()
    if not header or any(not column.strip() for column in header):
        raise UnreadableFile("the CSV header has an empty column name")
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            line, original = tracker.take()
            yield Row(line, original, error=f"line {line}: malformed CSV: {error}")
            continue
        line, original = tracker.take()
        if not cells or cells == [""]:
            continue
        yield _csv_row(line, original, header, cells, schema)


def _csv_row(
    line: int, original: bytes, header: list[str], cells: list[str], schema: Mapping[str, Any]
) -> Row:
    if len(cells) != len(header):
        return Row(
            line, original, error=f"line {line}: {len(cells)} cells, the header has {len(header)}"
        )
    try:
        payload = coerce_row(dict(zip(header, cells, strict=True)), schema)
    except CellInvalid as error:
        return Row(line, original, error=f"line {line}: {error.detail}")
    return Row(line, original, payload=payload)
