"""Receiving runs end to end on each transport: a deployment (store, transport, hub, app)
that a test can restart, as a hub process would be, on the same store and log."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from exchange.audit.store_sink import StoreAuditSink
from exchange.config import load_settings
from exchange.records.view_builder import ViewBuilder
from tests.receive.support import Deployment


@pytest.fixture(params=["embedded", pytest.param("kafka", marks=pytest.mark.kafka)])
def transport_kind(request: pytest.FixtureRequest) -> str:
    kind: str = request.param
    return kind


@pytest.fixture
def deployment(
    transport_kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Deployment]:
    """An initialised deployment on the transport of `transport_kind`.

    On Kafka, whose broker outlives the test, the subject name and the view's group are
    unique to the test; the view builder runs as the `exchange view build` worker would, and
    audit entries go straight to the store (no audit writer process in tests).
    """
    overrides: dict[str, object] = {
        "data_dir": str(tmp_path / "var"),
        "transport": transport_kind,
    }
    suffix = ""
    if transport_kind == "kafka":
        overrides["kafka_bootstrap_servers"] = request.getfixturevalue("kafka_bootstrap")
        suffix = "-" + uuid.uuid4().hex[:10]
        view_group = f"exchange.view.test.{uuid.uuid4().hex}"

        def worker_side(hub):
            hub.audit = StoreAuditSink(hub.database)
            hub.view_builder = ViewBuilder(hub.transport, hub.database, group=view_group)
            hub.view_builder.start()

        prepare = worker_side
    else:
        prepare = None
    opened = Deployment(load_settings(environ={}, overrides=overrides), suffix, prepare)
    yield opened
    opened.close()
