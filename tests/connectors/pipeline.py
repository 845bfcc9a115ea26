"""A whole pipeline for end-to-end connector tests: a hub served over real HTTP, market
regulation publishing inspections through a file source, tax receiving them under a grant
through a sink, and connector workers driven tick by tick."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from exchange.api import create_app
from exchange.audit.event_codec import decode_event
from exchange.audit.topic import AUDIT_TOPIC
from exchange.config import Settings
from exchange.connect.process import WorkerProcess
from exchange.connect.worker import Worker
from exchange.deployment import initialise
from exchange.hub import Hub, open_hub
from exchange.identity.keys import load_private_key
from exchange.store.records import AuditEntryDraft
from tests.connectors.support import grant, register_inspections, wait_for, write_key_file
from tests.support.live_server import serving
from tests.support.signed_client import SignedClient, onboard_department


class Pipeline:
    """market-regulation -> file source -> hub -> grant -> sink -> tax."""

    def __init__(self, settings: Settings, suffix: str, sink_url: str) -> None:
        self.settings = settings
        self.suffix = suffix
        self.subject = f"market-regulation.inspection{suffix}"
        self.sink_url = sink_url
        self.root = settings.connector_root
        self._exits = contextlib.ExitStack()
        initialise(settings)
        self.hub: Hub = open_hub(settings)
        self._exits.callback(self.hub.close)
        app = create_app(self.hub)
        self.url = self._exits.enter_context(serving(app))
        client: FlaskClient = app.test_client()
        self.admin = SignedClient(
            client, load_private_key(settings.keys_dir / "admin.pem"), "admin"
        )
        self.market = register_inspections(self.admin, self.subject)
        self.tax = onboard_department(self.admin, "tax")
        self.grant_id = grant(self.tax, self.market, self.subject)
        self.inbox = self.root / "inbox"

    def close(self) -> None:
        self._exits.close()

    # Connectors -------------------------------------------------------------------------

    def name(self, base: str) -> str:
        return base + self.suffix

    def create_source(self, **config: Any) -> str:
        body = {
            "name": self.name("inspections-in"),
            "kind": "source",
            "class": "file",
            "subject": self.subject,
            "config": {
                "directory": "inbox",
                "key_file": write_key_file(self.market, self.root),
                "errors.tolerance": "all",
            }
            | config,
        }
        response = self.market.post("/v1/connectors", json=body)
        assert response.status_code == 201, response.get_json()
        return str(body["name"])

    def create_sql_sink(self, **config: Any) -> str:
        body = {
            "name": self.name("inspections-to-tax"),
            "kind": "sink",
            "class": "sql",
            "subject": self.subject,
            "grant_id": self.grant_id,
            "config": {
                "url": self.sink_url,
                "table": "inspections",
                "columns": {"enterprise": "enterprise", "score": "score"},
                "key_file": write_key_file(self.tax, self.root),
            }
            | config,
        }
        response = self.tax.post("/v1/connectors", json=body)
        assert response.status_code == 201, response.get_json()
        return str(body["name"])

    @contextlib.contextmanager
    def worker(self, worker_id: str) -> Iterator[Worker]:
        with WorkerProcess(self.settings, self.url, worker_id) as worker:
            yield worker

    def status(self, actor: SignedClient, name: str) -> dict[str, Any]:
        response = actor.get(f"/v1/connectors/{name}/status")
        assert response.status_code == 200, response.get_json()
        status: dict[str, Any] = response.get_json()
        return status

    # What arrived -----------------------------------------------------------------------

    def sink_rows(self) -> list[dict[str, Any]]:
        engine = create_engine(self.sink_url.replace("postgresql://", "postgresql+psycopg://"))
        if engine.dialect.name == "sqlite":
            engine.dispose()
            database = Path(self.sink_url.removeprefix("sqlite:///"))
            engine = create_engine(f"sqlite:///{self.root / database}")
        try:
            with engine.connect() as connection:
                rows = connection.execute(text("SELECT * FROM inspections ORDER BY record_key"))
                return [dict(row._mapping) for row in rows]
        except Exception:  # no table yet: nothing arrived
            return []
        finally:
            engine.dispose()

    def dead_letters(self, actor: SignedClient, name: str) -> list[dict[str, Any]]:
        response = actor.get(f"/v1/connectors/{name}/dlq")
        assert response.status_code == 200, response.get_json()
        letters: list[dict[str, Any]] = response.get_json()["dead_letters"]
        return letters

    def worker_audit(self, name: str) -> list[AuditEntryDraft]:
        """The worker-side audit events of connector `name`, as on the audit topic."""
        consumer = self.hub.transport.consumer(
            f"test-audit-reader-{uuid.uuid4().hex}", [AUDIT_TOPIC], start="earliest"
        )
        drafts: list[AuditEntryDraft] = []
        try:
            empty_polls = 0
            while empty_polls < 2:
                messages = consumer.poll(1000, 0.5)
                empty_polls = 0 if messages else empty_polls + 1
                drafts += [decode_event(message.value).entry for message in messages]
        finally:
            consumer.close()
        return [
            draft
            for draft in drafts
            if draft.resource == f"/v1/connectors/{name}" and draft.action.startswith("CONNECT ")
        ]

    def published_record_ids(self, expected: int) -> list[str]:
        """Every record on the subject's topic, read through a fresh subscription."""
        response = self.tax.post(
            "/v1/subscriptions",
            json={"subject": self.subject, "grant_id": self.grant_id, "from": "earliest"},
        )
        assert response.status_code == 201, response.get_json()
        subscription = response.get_json()["id"]
        ids: list[str] = []

        def pulled_all() -> bool:
            answer = self.tax.get(
                f"/v1/subscriptions/{subscription}/records", params={"max": 100, "wait_ms": 200}
            ).get_json()
            ids.extend(r["record_id"] for r in answer["records"])
            # Acknowledged, so the next pull moves on (it would return these again).
            acknowledged = self.tax.post(
                f"/v1/subscriptions/{subscription}/ack", json={"cursor": answer["cursor"]}
            )
            assert acknowledged.status_code == 200, acknowledged.get_json()
            return len(ids) >= expected

        with contextlib.suppress(AssertionError):
            wait_for(pulled_all, "the published records", deadline_s=10)
        # One more pull: anything beyond `expected` would be a duplicate.
        pulled_all()
        return ids


def run_until(workers: list[Worker], condition: Any, what: str) -> Any:
    """Tick the workers until `condition()` holds."""

    def ticked() -> Any:
        for worker in workers:
            worker.tick()
        return condition()

    return wait_for(ticked, what)


def csv_of(rows: list[str]) -> str:
    return "inspection_id,enterprise,score,passed,fine\n" + "".join(r + "\n" for r in rows)


def payloads(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {row["record_key"]: json.loads(row["payload"]) for row in rows}
