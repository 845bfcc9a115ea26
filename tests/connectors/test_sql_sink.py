"""The sql sink's status shows the subscription's lag (0 once drained), and deliveries the
department's table refuses become dead letters with the database's reason under
`errors.tolerance all` (the rest of the batch written), or fail the connector under
`none`; on the embedded log with SQLite and on Kafka with PostgreSQL."""

from __future__ import annotations

import base64
import json
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from tests.connectors.pipeline import Pipeline, payloads, run_until
from tests.connectors.test_pipeline import pipeline as pipeline  # noqa: PLC0414

# Longer than the PostgreSQL table's VARCHAR(40) below; SQLite does not enforce lengths.
LONG_NAME = "Example Trading Company With A Very Long Name (fictional)"


def _inspection(number: int, **extra: Any) -> dict[str, Any]:
    return {
        "inspection_id": f"I-{number:03d}",
        "enterprise": f"Example Trading Co. {number} (fictional)",
        "score": 70,
        "passed": True,
    } | extra


def _publish(pipeline: Pipeline, *inspections: dict[str, Any]) -> None:
    """One request per record: several in one request are one Kafka transaction, whose
    commit marker takes an offset (the documented approximation of the lag on Kafka)."""
    for inspection in inspections:
        response = pipeline.market.post(
            f"/v1/subjects/{pipeline.subject}/records", json={"records": [{"payload": inspection}]}
        )
        assert response.status_code == 201, response.get_json()


def _sink_engine(pipeline: Pipeline) -> Engine:
    if pipeline.sink_url.startswith("sqlite:///"):
        return create_engine(
            f"sqlite:///{pipeline.root / pipeline.sink_url.removeprefix('sqlite:///')}"
        )
    return create_engine(pipeline.sink_url.replace("postgresql://", "postgresql+psycopg://"))


def _strict_table(pipeline: Pipeline) -> None:
    """tax's own table, made beforehand: `fine` may not be null, `enterprise` is short."""
    engine = _sink_engine(pipeline)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "CREATE TABLE inspections (record_key VARCHAR(512) PRIMARY KEY,"
                    " record_id VARCHAR(36) NOT NULL, subject VARCHAR(255) NOT NULL,"
                    " produced_at VARCHAR(64) NOT NULL, payload TEXT NOT NULL,"
                    " enterprise VARCHAR(40), fine TEXT NOT NULL)"
                )
            )
    finally:
        engine.dispose()


def _create_strict_sink(pipeline: Pipeline, tolerance: str) -> str:
    return pipeline.create_sql_sink(
        create_table=False,
        columns={"enterprise": "enterprise", "fine": "fine"},
        **{"errors.tolerance": tolerance},
    )


def test_a_sinks_status_shows_what_is_left_to_deliver_and_zero_once_drained(pipeline):
    sink = pipeline.create_sql_sink(batch_size=2)
    _publish(pipeline, *(_inspection(n) for n in range(1, 6)))
    assert pipeline.status(pipeline.tax, sink)["lag"] is None  # nothing pulled yet

    with pipeline.worker("w1") as worker:
        first = run_until(
            [worker],
            lambda: (s := pipeline.status(pipeline.tax, sink))["records_in"] > 0 and s,
            "a first batch",
        )
        assert first["lag"] == 5 - first["records_in"] > 0
        drained = run_until(
            [worker],
            lambda: (s := pipeline.status(pipeline.tax, sink))["records_in"] == 5 and s,
            "every record",
        )
        assert drained["lag"] == 0

    assert len(pipeline.sink_rows()) == 5


def test_deliveries_the_table_refuses_are_dead_lettered_and_the_rest_written(pipeline):
    _strict_table(pipeline)
    sink = _create_strict_sink(pipeline, "all")
    _publish(
        pipeline,
        _inspection(1, fine=10),
        _inspection(2),  # no fine: NOT NULL
        _inspection(3, fine=20, enterprise=LONG_NAME),  # too long for PostgreSQL's column
        _inspection(4, fine=0),
    )
    on_postgres = pipeline.sink_url.startswith("postgresql")
    refused = ["I-002", "I-003"] if on_postgres else ["I-002"]

    with pipeline.worker("w1") as worker:
        status = run_until(
            [worker],
            lambda: (s := pipeline.status(pipeline.tax, sink))["records_in"] == 4 and s,
            "all four deliveries",
        )

    assert sorted(payloads(pipeline.sink_rows())) == sorted(
        {"I-001", "I-002", "I-003", "I-004"} - set(refused)
    )
    assert (status["records_out"], status["dead_lettered"]) == (4 - len(refused), len(refused))
    letters = pipeline.dead_letters(pipeline.tax, sink)
    decoded = [
        (letter, json.loads(base64.b64decode(letter["original_base64"]))) for letter in letters
    ]
    # On Kafka the records lie in several partitions: their order across them is not fixed.
    by_inspection = {
        delivery["payload"]["inspection_id"]: (letter, delivery) for letter, delivery in decoded
    }
    assert len(letters) == len(refused)
    assert sorted(by_inspection) == refused
    for letter, delivery in by_inspection.values():
        assert letter["position"]["record_id"] == delivery["record_id"]
        assert letter["reason"].startswith("refused by the table: ")
    not_null = by_inspection["I-002"][0]["reason"]
    assert "fine" in not_null
    assert "null" in not_null.lower()
    if on_postgres:
        assert "too long" in by_inspection["I-003"][0]["reason"]


def test_a_refused_delivery_fails_the_sink_without_tolerance(pipeline):
    _strict_table(pipeline)
    sink = _create_strict_sink(pipeline, "none")
    _publish(pipeline, _inspection(1, fine=10), _inspection(2))

    with pipeline.worker("w1") as worker:
        failed = run_until(
            [worker],
            lambda: (s := pipeline.status(pipeline.tax, sink))["state"] == "FAILED" and s,
            "the sink to fail",
        )

    assert "IntegrityError" in failed["last_error"]
    assert "I-002" not in payloads(pipeline.sink_rows())
    assert pipeline.dead_letters(pipeline.tax, sink) == []
