"""The file sink writes JSON Lines segments: redeliveries are not written twice (even after
a restart), a full segment is renamed into place atomically, and a line a crash cut short
is dropped before writing on."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from connectors.base import ConnectorEnvironment
from connectors.file.sink import FileSink, FileSinkConfig


@dataclass
class Context:
    environment: ConnectorEnvironment
    name: str = "to-files"
    subject: str = "market-regulation.inspection"

    def sign_request(self, method, url, headers, body):
        return {}


def delivery(number: int) -> dict:
    return {"record_id": f"0190-{number:04d}", "key": f"I-{number:03d}", "payload": {"n": number}}


def sink_in(root: Path, **config) -> FileSink:
    loaded = FileSinkConfig().load({"directory": "out", "key_file": "k.pem"} | config)
    return FileSink(loaded, Context(ConnectorEnvironment(root)))


def lines_in(directory: Path, pattern: str) -> list[dict]:
    return [
        json.loads(line)
        for path in sorted(directory.glob(pattern))
        for line in path.read_text().splitlines()
    ]


def test_a_redelivery_is_not_written_twice_even_after_a_restart(tmp_path):
    sink = sink_in(tmp_path)
    sink.put([delivery(1), delivery(2)])

    restarted = sink_in(tmp_path)
    restarted.put([delivery(2), delivery(3)])

    ids = [d["record_id"] for d in lines_in(tmp_path / "out", "*.jsonl.part")]
    assert ids == ["0190-0001", "0190-0002", "0190-0003"]


def test_a_full_segment_is_renamed_into_place_before_the_next_write(tmp_path):
    sink = sink_in(tmp_path, max_bytes=10)
    sink.put([delivery(1)])

    sink.put([delivery(2)])

    assert [d["record_id"] for d in lines_in(tmp_path / "out", "*.jsonl")] == ["0190-0001"]
    assert [d["record_id"] for d in lines_in(tmp_path / "out", "*.part")] == ["0190-0002"]


def test_closing_finishes_the_open_segment(tmp_path):
    sink = sink_in(tmp_path)
    sink.put([delivery(1)])

    sink.close()

    assert list((tmp_path / "out").glob("*.part")) == []
    assert len(lines_in(tmp_path / "out", "*.jsonl")) == 1


def test_a_line_cut_short_by_a_crash_is_dropped_and_its_record_written_again(tmp_path):
    sink_in(tmp_path).put([delivery(1)])
    segment = next((tmp_path / "out").glob("*.part"))
    with segment.open("ab") as out:
        out.write(b'{"record_id": "0190-00')

    sink_in(tmp_path).put([delivery(2)])

    assert [d["record_id"] for d in lines_in(tmp_path / "out", "*.part")] == [
        "0190-0001",
        "0190-0002",
    ]


@pytest.mark.parametrize("directory", ["../elsewhere", "/tmp"])
def test_the_sink_refuses_a_directory_outside_the_root(tmp_path, directory):
    errors = FileSink.check_config(
        {"directory": directory, "key_file": "k.pem"}, ConnectorEnvironment(tmp_path)
    )

    assert "directory" in errors


class FakeClock:
    """Wall-clock seconds that move only when the test says."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def aged_sink(root: Path, clock: FakeClock, **config) -> FileSink:
    sink = sink_in(root, **config)
    sink.clock = clock
    return sink


def test_a_segment_written_to_steadily_is_rotated_once_it_is_old_enough(tmp_path):
    clock = FakeClock()
    sink = aged_sink(tmp_path, clock, max_age_s=1.0)
    for number in range(1, 5):  # every 0.4 s: each append younger than max_age_s
        sink.put([delivery(number)])
        clock.now += 0.4

    finished = lines_in(tmp_path / "out", "*.jsonl")
    assert [d["record_id"] for d in finished] == ["0190-0001", "0190-0002", "0190-0003"]
    assert [d["record_id"] for d in lines_in(tmp_path / "out", "*.part")] == ["0190-0004"]


def test_an_idle_segment_is_finished_once_it_is_old_enough(tmp_path):
    clock = FakeClock()
    sink = aged_sink(tmp_path, clock, max_age_s=1.0)
    sink.put([delivery(1)])

    clock.now += 0.5
    sink.on_idle()
    assert len(list((tmp_path / "out").glob("*.part"))) == 1

    clock.now += 0.5
    sink.on_idle()
    assert list((tmp_path / "out").glob("*.part")) == []
    assert [d["record_id"] for d in lines_in(tmp_path / "out", "*.jsonl")] == ["0190-0001"]


def test_a_segment_found_after_a_restart_ages_from_the_time_in_its_name(tmp_path):
    clock = FakeClock()
    aged_sink(tmp_path, clock, max_age_s=10.0).put([delivery(1)])

    clock.now += 5.0
    restarted = aged_sink(tmp_path, clock, max_age_s=10.0)
    restarted.on_idle()
    assert len(list((tmp_path / "out").glob("*.part"))) == 1

    clock.now += 5.0
    restarted.on_idle()
    assert list((tmp_path / "out").glob("*.part")) == []
