"""Several workers share the connectors: a worker that joins takes its fair share from
the one already running them all, and when a worker dies the other takes its connectors
over. Each worker is a `Worker` with its own store connection and transport (in-process,
ticked by the test), on the embedded transport with SQLite and on Kafka with PostgreSQL."""

from __future__ import annotations

from exchange.connect.process import WorkerProcess
from exchange.connect.worker import Worker
from tests.connectors.pipeline import Pipeline, csv_of, run_until
from tests.connectors.support import drop_file, write_key_file
from tests.connectors.test_pipeline import GOOD_ROWS
from tests.connectors.test_pipeline import pipeline as pipeline  # noqa: PLC0414

SOURCES = 4


def create_sources(pipeline: Pipeline) -> list[str]:
    """Four file sources of market regulation, each watching its own directory."""
    key_file = write_key_file(pipeline.market, pipeline.root)
    names = []
    for number in range(SOURCES):
        name = pipeline.name(f"inspections-in-{number}")
        body = {
            "name": name,
            "kind": "source",
            "class": "file",
            "subject": pipeline.subject,
            "config": {"directory": f"inbox-{number}", "key_file": key_file},
        }
        response = pipeline.market.post("/v1/connectors", json=body)
        assert response.status_code == 201, response.get_json()
        names.append(name)
    return names


def held_by(worker: Worker, names: list[str]) -> set[str]:
    return set(worker.held) & set(names)


def test_two_workers_split_the_connectors_and_one_takes_over_when_the_other_dies(pipeline):
    names = create_sources(pipeline)
    with pipeline.worker("first") as first:
        run_until([first], lambda: held_by(first, names) == set(names), "first to hold all")

        joining = WorkerProcess(pipeline.settings, pipeline.url, "second")
        second = joining.worker
        run_until(
            [first, second],
            lambda: len(held_by(first, names)) == len(held_by(second, names)) == SOURCES // 2,
            "the two workers to hold two connectors each",
        )
        assert held_by(first, names).isdisjoint(held_by(second, names))

        # Both run what they hold: a file dropped for each source is published and done.
        for number in range(SOURCES):
            drop_file(pipeline.root / f"inbox-{number}", "batch.csv", csv_of(GOOD_ROWS[:1]))
        run_until(
            [first, second],
            lambda: all(
                (pipeline.root / f"inbox-{n}" / "done" / "batch.csv").exists()
                for n in range(SOURCES)
            ),
            "every file published",
        )
        assert len(held_by(first, names)) == len(held_by(second, names)) == SOURCES // 2

        # The second dies: it closes nothing and gives nothing back; only its connections go.
        joining.transport.close()
        joining.database.close()
        run_until([first], lambda: held_by(first, names) == set(names), "first to take all")
        assert {pipeline.status(pipeline.market, n)["worker_id"] for n in names} == {"first"}


def test_a_worker_that_stops_cleanly_hands_its_share_over(pipeline):
    names = create_sources(pipeline)
    with pipeline.worker("first") as first:
        with pipeline.worker("second") as second:
            run_until(
                [first, second],
                lambda: len(held_by(first, names)) == len(held_by(second, names)) == 2,
                "the two workers to hold two connectors each",
            )
        run_until([first], lambda: held_by(first, names) == set(names), "first to take all")
