"""End to end: a CSV dropped into a directory reaches tax's table through the hub (file
source -> publish -> grant -> sql sink), on the embedded transport with SQLite and on real
Kafka with PostgreSQL; malformed rows land in the dead-letter topic with their line, a
worker killed mid-file loses and duplicates nothing, and the lifecycle behaves."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from exchange.config import load_settings
from exchange.connect.process import WorkerProcess
from exchange.store.repositories.connectors import ConnectorRepository
from tests.connectors.pipeline import Pipeline, csv_of, payloads, run_until
from tests.connectors.support import drop_file, write_key_file
from tests.fixtures.database import fresh_postgres_database

GOOD_ROWS = [
    "I-001,Example Trading Co. 1 (fictional),90,true,",
    "I-002,Example Trading Co. 2 (fictional),75,yes,120.5",
    "I-003,Example Trading Co. 3 (fictional),40,false,900",
    "I-004,Example Trading Co. 4 (fictional),88,1,",
    "I-005,Example Trading Co. 5 (fictional),66,no,10",
    "I-006,Example Trading Co. 6 (fictional),99,true,0",
]


@pytest.fixture(params=["embedded", pytest.param("kafka", marks=[pytest.mark.kafka])])
def pipeline(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Pipeline]:
    root = tmp_path / "connect"
    root.mkdir()
    overrides: dict[str, object] = {
        "data_dir": str(tmp_path / "var"),
        "connector_root": str(root),
        "connector_lease_s": 2.0,
        "connector_poll_interval_s": 0.05,
        "connector_restart_base_s": 0.2,
        "connector_restart_max_s": 1.0,
        "connector_restart_limit": 3,
    }
    with contextlib_for(request, overrides) as sink_url:
        suffix = "" if request.param == "embedded" else "-" + uuid.uuid4().hex[:8]
        opened = Pipeline(load_settings(environ={}, overrides=overrides), suffix, sink_url)
        try:
            yield opened
        finally:
            opened.close()


class contextlib_for:  # noqa: N801 (used as a context manager, named for the reading)
    """Fills in the store, transport and sink database of the parametrised deployment."""

    def __init__(self, request: pytest.FixtureRequest, overrides: dict[str, object]) -> None:
        self.request = request
        self.overrides = overrides
        self._stack: list = []

    def __enter__(self) -> str:
        if self.request.param == "embedded":
            return "sqlite:///tax.db"
        server = self.request.getfixturevalue("postgres_url")
        store = fresh_postgres_database(server)
        sink = fresh_postgres_database(server)
        self._stack = [store, sink]
        self.overrides |= {
            "transport": "kafka",
            "kafka_bootstrap_servers": self.request.getfixturevalue("kafka_bootstrap"),
            "database_url": store.__enter__(),
        }
        return sink.__enter__()

    def __exit__(self, *exc: object) -> None:
        for manager in reversed(self._stack):
            manager.__exit__(None, None, None)


def test_a_dropped_csv_reaches_the_department_table_and_bad_rows_are_dead_lettered(pipeline):
    source = pipeline.create_source()
    sink = pipeline.create_sql_sink()
    rows = [*GOOD_ROWS[:2], "I-X01,Broken Co. (fictional),high,true,", *GOOD_ROWS[2:4]]
    rows.append("I-X02,Out Of Range Co. (fictional),150,true,")
    drop_file(pipeline.inbox, "inspections-1.csv", csv_of(rows))

    with pipeline.worker("w1") as worker:
        run_until([worker], lambda: len(pipeline.sink_rows()) >= 4, "four rows in tax's table")
        run_until([worker], (pipeline.inbox / "failed" / "inspections-1.csv").exists, "move")

    arrived = payloads(pipeline.sink_rows())
    assert sorted(arrived) == ["I-001", "I-002", "I-003", "I-004"]
    assert arrived["I-002"] == {
        "inspection_id": "I-002",
        "enterprise": "Example Trading Co. 2 (fictional)",
        "score": 75,
        "passed": True,
        "fine": 120.5,
    }
    letters = pipeline.dead_letters(pipeline.market, source)
    assert [letter["position"] for letter in letters] == [
        {"file": "inspections-1.csv", "line": 4},
        {"file": "inspections-1.csv", "line": 7},
    ]
    assert "score" in letters[0]["reason"]
    assert "refused by the hub" in letters[1]["reason"]
    assert base64.b64decode(letters[0]["original_base64"]).decode() == rows[2]
    # Refused by the hub (score out of range): still the CSV line as dropped, not JSON.
    assert base64.b64decode(letters[1]["original_base64"]).decode() == rows[5]
    reasons = (pipeline.inbox / "failed" / "inspections-1.csv.reasons.jsonl").read_text()
    assert '"line": 4' in reasons
    assert '"line": 7' in reasons
    status = pipeline.status(pipeline.market, source)
    assert (status["records_in"], status["records_out"], status["dead_lettered"]) == (6, 4, 2)
    assert pipeline.status(pipeline.tax, sink)["records_out"] == 4
    # What the worker did on its own is audited as the connector's department.
    source_events = pipeline.worker_audit(source)
    assert {event.actor for event in source_events} == {"market-regulation"}
    actions = [event.action for event in source_events]
    assert actions[0] == "CONNECT run"
    assert actions[-1] == "CONNECT release"
    dead = [event for event in source_events if event.action == "CONNECT dead-letter"]
    assert sum(int((event.reason or "").split()[0]) for event in dead) == 2
    assert all(event.decision == "deny" for event in dead)
    assert {event.actor for event in pipeline.worker_audit(sink)} == {"tax"}


def test_a_worker_killed_mid_file_loses_and_duplicates_nothing(pipeline, monkeypatch):
    source = pipeline.create_source(batch_size=2)
    pipeline.create_sql_sink()
    drop_file(pipeline.inbox, "inspections-2.csv", csv_of(GOOD_ROWS))
    repository = ConnectorRepository(pipeline.hub.database)
    doomed_process = WorkerProcess(pipeline.settings, pipeline.url, "doomed")
    doomed = doomed_process.worker
    # The doomed worker publishes its second batch, then dies before storing its offset.
    original_save = ConnectorRepository.save_offset
    saves = {"count": 0}

    def dying_save(self, name, owner, partition, offset, now):  # noqa: PLR0917
        if owner == "doomed" and name == source:
            saves["count"] += 1
            if saves["count"] == 2:
                raise SystemExit("killed")
        return original_save(self, name, owner, partition, offset, now)

    monkeypatch.setattr(ConnectorRepository, "save_offset", dying_save)
    with pytest.raises(SystemExit):
        run_until([doomed], lambda: False, "the doomed worker to die")
    assert repository.offsets(source)  # one batch stored: it died mid-file
    # A dead worker closes nothing and gives no lease back; only its connections go.
    doomed_process.transport.close()
    doomed_process.database.close()

    with pipeline.worker("successor") as successor:
        run_until(
            [successor], lambda: len(pipeline.sink_rows()) >= 6, "all six rows in tax's table"
        )
        run_until([successor], (pipeline.inbox / "done" / "inspections-2.csv").exists, "done")

    assert sorted(payloads(pipeline.sink_rows())) == [f"I-00{n}" for n in range(1, 7)]
    record_ids = pipeline.published_record_ids(expected=6)
    assert len(record_ids) == len(set(record_ids)) == 6


def test_pause_keeps_the_connector_and_resume_picks_up_waiting_files(pipeline):
    source = pipeline.create_source()
    pipeline.market.put(f"/v1/connectors/{source}/pause")
    drop_file(pipeline.inbox, "inspections-3.csv", csv_of(GOOD_ROWS[:1]))

    with pipeline.worker("w1") as worker:
        run_until(
            [worker],
            lambda: (
                pipeline.status(pipeline.market, source)["state"] == "PAUSED"
                and source in worker.held
            ),
            "the worker to hold the paused connector",
        )
        worker.tick()
        assert (pipeline.inbox / "inspections-3.csv").exists()

        pipeline.market.put(f"/v1/connectors/{source}/resume")
        run_until([worker], (pipeline.inbox / "done" / "inspections-3.csv").exists, "done")
        assert pipeline.status(pipeline.market, source)["state"] == "RUNNING"


def test_stop_frees_the_connector_and_an_offsets_reset_makes_the_sink_receive_again(pipeline):
    pipeline.create_source()
    sink = pipeline.create_sql_sink()
    drop_file(pipeline.inbox, "inspections-4.csv", csv_of(GOOD_ROWS[:2]))
    with pipeline.worker("w1") as worker:
        run_until([worker], lambda: len(pipeline.sink_rows()) == 2, "two rows")
        first_subscription = pipeline.tax.get(f"/v1/connectors/{sink}/offsets").get_json()

        pipeline.tax.put(f"/v1/connectors/{sink}/stop")
        run_until(
            [worker],
            lambda: (
                sink not in worker.held
                and pipeline.status(pipeline.tax, sink)["state"] == "STOPPED"
            ),
            "the sink to stop",
        )
        reset = pipeline.tax.delete(f"/v1/connectors/{sink}/offsets")
        pipeline.tax.put(f"/v1/connectors/{sink}/resume")
        run_until(
            [worker],
            lambda: pipeline.status(pipeline.tax, sink)["records_in"] >= 4,
            "the records delivered again",
        )

    assert reset.status_code == 200
    second_subscription = pipeline.tax.get(f"/v1/connectors/{sink}/offsets").get_json()
    assert second_subscription != first_subscription
    assert len(pipeline.sink_rows()) == 2  # redelivered, written once


def test_a_failed_connector_restarts_with_back_off_and_on_request(pipeline):
    sink = pipeline.create_sql_sink(url="sqlite:///missing-dir/tax.db")
    with pipeline.worker("w1") as worker:
        failed = run_until(
            [worker],
            lambda: (s := pipeline.status(pipeline.tax, sink))["state"] == "FAILED" and s,
            "the sink to fail",
        )
        assert "OperationalError" in failed["last_error"]
        assert "Traceback" in failed["trace"]
        failures = [e for e in pipeline.worker_audit(sink) if e.action == "CONNECT fail"]
        assert failures
        assert failures[0].actor == "tax"
        assert failures[0].decision == "error"
        assert "OperationalError" in (failures[0].reason or "")
        run_until(
            [worker],
            lambda: (
                pipeline.status(pipeline.tax, sink)["failure_count"] >= 3
                and pipeline.status(pipeline.tax, sink)["next_restart_at"] is None
            ),
            "the automatic restarts to run out",
        )
        (pipeline.root / "missing-dir").mkdir()
        worker.tick()
        assert pipeline.status(pipeline.tax, sink)["state"] == "FAILED"

        pipeline.tax.post(f"/v1/connectors/{sink}/restart")
        run_until(
            [worker],
            lambda: pipeline.status(pipeline.tax, sink)["state"] == "RUNNING",
            "the restarted sink to run",
        )


def create_file_sink(pipeline: Pipeline, **config: object) -> str:
    """tax's `file` sink writing into `tax-out/`."""
    name = pipeline.name("inspections-to-files")
    response = pipeline.tax.post(
        "/v1/connectors",
        json={
            "name": name,
            "kind": "sink",
            "class": "file",
            "subject": pipeline.subject,
            "grant_id": pipeline.grant_id,
            "config": {
                "directory": "tax-out",
                "key_file": write_key_file(pipeline.tax, pipeline.root),
            }
            | config,
        },
    )
    assert response.status_code == 201, response.get_json()
    return name


def test_a_file_sink_finishes_a_quiet_segment_once_it_is_old_enough(pipeline):
    pipeline.create_source()
    sink = create_file_sink(pipeline, max_age_s=0.5)
    drop_file(pipeline.inbox, "inspections-5.csv", csv_of(GOOD_ROWS[:3]))
    out = pipeline.root / "tax-out"

    def finished_lines() -> list[str]:
        return [line for path in out.glob("*.jsonl") for line in path.read_text().splitlines()]

    with pipeline.worker("w1") as worker:
        # No delivery comes after the three: only the idle ticks can finish their segment.
        run_until(
            [worker],
            lambda: len(finished_lines()) == 3 and not list(out.glob("*.part")),
            "the three deliveries in a finished segment",
        )
        assert pipeline.status(pipeline.tax, sink)["records_out"] == 3


def test_an_unreadable_file_fails_the_connector_or_is_dead_lettered_by_tolerance(pipeline):
    tolerant = pipeline.create_source()  # errors.tolerance all, watching inbox/
    strict = pipeline.name("inspections-strict")
    response = pipeline.market.post(
        "/v1/connectors",
        json={
            "name": strict,
            "kind": "source",
            "class": "file",
            "subject": pipeline.subject,
            "config": {
                "directory": "strict-inbox",
                "key_file": write_key_file(pipeline.market, pipeline.root),
                "errors.tolerance": "none",
            },
        },
    )
    assert response.status_code == 201, response.get_json()
    latin1 = b"inspection_id,enterprise,score,passed\nI-001,Caf\xe9 Co. (fictional),90,true\n"
    for directory in (pipeline.inbox, pipeline.root / "strict-inbox"):
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "latin1.csv.part").write_bytes(latin1)
        (directory / "latin1.csv.part").rename(directory / "latin1.csv")

    with pipeline.worker("w1") as worker:
        run_until([worker], (pipeline.inbox / "failed" / "latin1.csv").exists, "tolerant move")
        failed = run_until(
            [worker],
            lambda: (s := pipeline.status(pipeline.market, strict))["state"] == "FAILED" and s,
            "the strict source to fail",
        )

    assert "not UTF-8" in failed["last_error"]
    assert (pipeline.root / "strict-inbox" / "latin1.csv").exists()  # left for a fix
    [letter] = pipeline.dead_letters(pipeline.market, tolerant)
    assert "not UTF-8" in letter["reason"]
    assert letter["position"] == {"file": "latin1.csv", "bytes": len(latin1)}
    assert base64.b64decode(letter["original_base64"]) == latin1
    assert pipeline.dead_letters(pipeline.market, strict) == []


def test_restarting_a_running_connector_closes_and_reopens_it(pipeline):
    pipeline.create_source()
    sink = create_file_sink(pipeline)  # segments rotate after an hour: only closing ends one
    drop_file(pipeline.inbox, "inspections-6.csv", csv_of(GOOD_ROWS[:2]))
    out = pipeline.root / "tax-out"

    def lines(pattern: str) -> int:
        return sum(len(path.read_text().splitlines()) for path in out.glob(pattern))

    with pipeline.worker("w1") as worker:
        run_until([worker], lambda: lines("*.part") == 2, "two deliveries in the open segment")
        restarted = pipeline.tax.post(f"/v1/connectors/{sink}/restart")
        assert restarted.status_code == 202
        # Closing the sink finished its segment; reopened, it writes the next ones anew.
        run_until([worker], lambda: lines("*.jsonl") == 2, "the segment finished by the close")
        drop_file(pipeline.inbox, "inspections-7.csv", csv_of(GOOD_ROWS[2:3]))
        run_until([worker], lambda: lines("*.part") == 1, "the reopened sink writing")
        assert pipeline.status(pipeline.tax, sink)["state"] == "RUNNING"
        assert sink in worker.held
