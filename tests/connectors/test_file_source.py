"""The file source on its own: a file still being written (`.part`, `.tmp`, a dot name) is
not read until it is renamed into place, and a file that cannot be read at all becomes one
dead letter holding its bytes (the runtime decides, by `errors.tolerance`, whether that
fails the connector or sends the letter and moves the file to `failed/`)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from connectors.base import ConnectorEnvironment
from connectors.file.source import FileSource, FileSourceConfig
from tests.connectors.support import INSPECTION_SCHEMA

HEADER = "inspection_id,enterprise,score,passed,fine\n"
ROW = "I-001,Example Trading Co. 1 (fictional),90,true,\n"


@dataclass
class Context:
    environment: ConnectorEnvironment
    name: str = "inspections-in"
    subject: str = "market-regulation.inspection"
    offsets: dict[str, Any] = field(default_factory=dict)

    def offset(self, partition: str) -> Any:
        return self.offsets.get(partition)

    def schema(self) -> dict[str, Any]:
        return INSPECTION_SCHEMA


def source_in(root: Path) -> FileSource:
    config = FileSourceConfig().load({"directory": "inbox", "key_file": "k.pem"})
    return FileSource(config, Context(ConnectorEnvironment(root)))


@pytest.mark.parametrize("unfinished", ["batch.csv.part", "batch.csv.tmp", ".batch.csv"])
def test_a_file_being_written_is_read_only_once_renamed_into_place(tmp_path, unfinished):
    source = source_in(tmp_path)
    being_written = tmp_path / "inbox" / unfinished
    being_written.write_text(HEADER + ROW, encoding="utf-8")

    assert source.poll() is None
    assert source.lag() == 0

    being_written.rename(tmp_path / "inbox" / "batch.csv")
    batch = source.poll()
    assert batch is not None
    assert [record.payload["inspection_id"] for record in batch.records] == ["I-001"]
    assert batch.records[0].original == ROW.rstrip("\n").encode()


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"inspection_id,enterprise\nI-001,Caf\xe9 Co. (fictional)\n", "not UTF-8"),
        (b"", "no header"),
    ],
)
def test_an_unreadable_file_is_one_dead_letter_with_its_bytes_then_goes_to_failed(
    tmp_path, content, reason
):
    source = source_in(tmp_path)
    (tmp_path / "inbox" / "broken.csv").write_bytes(content)

    batch = source.poll()
    assert batch is not None
    assert batch.last
    assert not batch.records
    [letter] = batch.dead_letters
    assert reason in letter.reason
    assert letter.original == content
    assert letter.position == {"file": "broken.csv", "bytes": len(content)}
    assert (tmp_path / "inbox" / "broken.csv").exists()  # nothing moves before the commit

    source.committed(batch, batch.dead_letters)

    assert (tmp_path / "inbox" / "failed" / "broken.csv").read_bytes() == content
    sidecar = tmp_path / "inbox" / "failed" / "broken.csv.reasons.jsonl"
    assert reason in json.loads(sidecar.read_text().splitlines()[0])["reason"]
    assert source.poll() is None
