"""`exchange connect` as a real process: killed with SIGKILL in the middle of a file, and a
new worker started, every row reaches tax's table once and the subject's topic holds each
record once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from exchange.store.repositories.connectors import ConnectorRepository
from tests.connectors.pipeline import Pipeline, csv_of
from tests.connectors.support import drop_file, wait_for
from tests.connectors.test_pipeline import pipeline as pipeline  # noqa: PLC0414

EXCHANGE = str(Path(sys.executable).with_name("exchange"))
ROWS = [f"K-{n:03d},Example Trading Co. {n} (fictional),{n % 100},true," for n in range(40)]


def _start_worker(pipeline: Pipeline, worker_id: str, log: Path) -> subprocess.Popen[bytes]:
    settings = pipeline.settings
    env = {
        **os.environ,
        "EXCHANGE_DATA_DIR": str(settings.data_dir),
        "EXCHANGE_DATABASE_URL": settings.database_url,
        "EXCHANGE_TRANSPORT": settings.transport,
        "EXCHANGE_KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
        "EXCHANGE_CONNECTOR_ROOT": str(settings.connector_root),
        "EXCHANGE_CONNECTOR_LEASE_S": str(settings.connector_lease_s),
        "EXCHANGE_CONNECTOR_POLL_INTERVAL_S": "0.05",
        "EXCHANGE_LOG_FORMAT": "text",
    }
    with log.open("ab") as output:
        return subprocess.Popen(
            [EXCHANGE, "connect", "--url", pipeline.url, "--worker-id", worker_id],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def test_a_worker_killed_with_sigkill_mid_file_loses_and_duplicates_nothing(pipeline, tmp_path):
    source = pipeline.create_source(batch_size=1)
    pipeline.create_sql_sink()
    drop_file(pipeline.inbox, "inspections-big.csv", csv_of(ROWS))
    repository = ConnectorRepository(pipeline.hub.database)
    log = tmp_path / "workers.log"

    def batches_done() -> int:
        offsets = repository.offsets(source)
        return max((o.get("next_batch", 0) for o in offsets.values()), default=0)

    first = _start_worker(pipeline, "first", log)
    try:
        wait_for(lambda: batches_done() >= 5, "the first worker to be mid-file")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    assert batches_done() < len(ROWS), "killed too late to prove anything"

    second = _start_worker(pipeline, "second", log)
    try:
        wait_for(lambda: len(pipeline.sink_rows()) >= len(ROWS), "every row in tax's table")
        wait_for((pipeline.inbox / "done" / "inspections-big.csv").exists, "the file done")
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=30)

    assert len(pipeline.sink_rows()) == len(ROWS), log.read_text()[-3000:]
    record_ids = pipeline.published_record_ids(expected=len(ROWS))
    assert len(record_ids) == len(set(record_ids)) == len(ROWS)
