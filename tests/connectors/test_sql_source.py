"""The sql source publishes a department table's new rows in order, remembers its position,
and after a crash between publishing and storing its position publishes nothing twice,
even when new rows arrived meanwhile."""

from __future__ import annotations

import contextlib

from sqlalchemy import Boolean, Column, Integer, MetaData, String, Table, create_engine, insert
from sqlalchemy.engine import Engine

from exchange.store.repositories.connectors import ConnectorRepository
from tests.connectors.pipeline import Pipeline, payloads, run_until
from tests.connectors.support import write_key_file
from tests.connectors.test_pipeline import pipeline as pipeline  # noqa: PLC0414


def _department_table(pipeline: Pipeline) -> tuple[Engine, Table]:
    """market regulation's own table of inspections, in the sink's database server."""
    url = pipeline.sink_url.replace("postgresql://", "postgresql+psycopg://")
    if url.startswith("sqlite:///"):
        url = f"sqlite:///{pipeline.root / 'market.db'}"
    engine = create_engine(url)
    table = Table(
        "inspections_done",
        MetaData(),
        Column("seq", Integer, primary_key=True),
        Column("inspection_id", String(40)),
        Column("enterprise", String(200)),
        Column("score", Integer),
        Column("passed", Boolean),
    )
    table.metadata.create_all(engine)
    return engine, table


def _insert(engine, table: Table, numbers: range) -> None:
    with engine.begin() as connection:
        connection.execute(
            insert(table),
            [
                {
                    "seq": n,
                    "inspection_id": f"S-{n:03d}",
                    "enterprise": f"Example Trading Co. {n} (fictional)",
                    "score": n,
                    "passed": n % 2 == 0,
                }
                for n in numbers
            ],
        )


def _create_sql_source(pipeline: Pipeline) -> str:
    url = pipeline.sink_url if pipeline.sink_url.startswith("postgresql") else "sqlite:///market.db"
    body = {
        "name": pipeline.name("inspections-from-db"),
        "kind": "source",
        "class": "sql",
        "subject": pipeline.subject,
        "config": {
            "url": url,
            "table": "inspections_done",
            "incrementing_column": "seq",
            "columns": ["inspection_id", "enterprise", "score", "passed"],
            "batch_size": 2,
            "key_file": write_key_file(pipeline.market, pipeline.root),
        },
    }
    response = pipeline.market.post("/v1/connectors", json=body)
    assert response.status_code == 201, response.get_json()
    return str(body["name"])


def test_new_rows_of_a_table_reach_the_grantee_once_even_across_a_crash(pipeline, monkeypatch):
    engine, table = _department_table(pipeline)
    _insert(engine, table, range(1, 6))
    source = _create_sql_source(pipeline)
    pipeline.create_sql_sink()
    original_save = ConnectorRepository.save_offset
    crashed = {"done": False}

    def crash_after_a_partial_batch(self, name, owner, partition, offset, now):  # noqa: PLR0917
        if name == source and offset == {"last": [5]} and not crashed["done"]:
            crashed["done"] = True
            _insert(engine, table, range(6, 8))  # rows arrive while the worker is down
            raise SystemExit("killed after publishing, before storing the offset")
        return original_save(self, name, owner, partition, offset, now)

    monkeypatch.setattr(ConnectorRepository, "save_offset", crash_after_a_partial_batch)
    with pipeline.worker("doomed") as doomed:
        with contextlib.suppress(SystemExit):
            run_until([doomed], lambda: False, "the crash")
        doomed_held = doomed.held
    assert doomed_held  # the crash happened mid-table

    with pipeline.worker("successor") as successor:
        run_until([successor], lambda: len(pipeline.sink_rows()) >= 7, "seven rows")

    arrived = payloads(pipeline.sink_rows())
    assert sorted(arrived) == [f"S-{n:03d}" for n in range(1, 8)]
    assert arrived["S-002"] == {
        "inspection_id": "S-002",
        "enterprise": "Example Trading Co. 2 (fictional)",
        "score": 2,
        "passed": True,
    }
    record_ids = pipeline.published_record_ids(expected=7)
    assert len(record_ids) == len(set(record_ids)) == 7
    engine.dispose()
