"""The http sink: a webhook that fails five times and then succeeds gets every delivery,
each checked against the hub's published key, and (deduplicated by record_id) exactly once;
a webhook that refuses a delivery for good sends it to the dead-letter topic."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from exchange.identity.keys import public_key_from_raw_b64
from exchange.identity.signatures import HttpRequestParts, verify_request
from tests.connectors.pipeline import Pipeline, csv_of, run_until
from tests.connectors.support import drop_file, write_key_file
from tests.connectors.test_pipeline import GOOD_ROWS
from tests.connectors.test_pipeline import pipeline as pipeline  # noqa: PLC0414


class FlakyWebhook:
    """A department's webhook: answers 503 to the first `failures` requests, then 200;
    keeps each request that carries a valid hub signature, by record id."""

    def __init__(self, hub_keys: dict, failures: int, refuse: str | None = None) -> None:
        self.hub_keys = hub_keys
        self.failures = failures
        self.refuse = refuse
        self.requests = 0
        self.received: dict[str, int] = {}
        self.unsigned = 0
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        request = Request(environ)
        body = request.get_data()
        with self.lock:
            self.requests += 1
            if self.requests <= self.failures:
                return Response("busy", status=503)(environ, start_response)
            if not self._signed_by_hub(request, body):
                self.unsigned += 1
                return Response("unsigned", status=401)(environ, start_response)
            delivery = json.loads(body)
            if delivery["key"] == self.refuse:
                return Response("no such enterprise", status=422)(environ, start_response)
            record_id = delivery["record_id"]
            self.received[record_id] = self.received.get(record_id, 0) + 1
        return Response("ok", status=200)(environ, start_response)

    def _signed_by_hub(self, request: Request, body: bytes) -> bool:
        parts = HttpRequestParts(request.method, request.url, dict(request.headers), body)
        keys = self.hub_keys

        class Resolver:
            def resolve(self, key_id):
                return keys[key_id]

        class Nonces:
            def remember(self, key_id, nonce, expires_at):
                return True

        try:
            verify_request(parts, Resolver(), Nonces(), now=datetime.now(UTC))
        except Exception:
            return False
        return True


@pytest.fixture
def hub_keys(pipeline: Pipeline) -> dict:
    document = pipeline.admin.get("/v1/hub/keys").get_json()
    return {jwk["kid"]: public_key_from_raw_b64(jwk["x"]) for jwk in document["keys"]}


@contextmanager
def _serve(app) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/inspections"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def _create_http_sink(pipeline: Pipeline, url: str, **config) -> str:
    name = pipeline.name("inspections-webhook")
    response = pipeline.tax.post(
        "/v1/connectors",
        json={
            "name": name,
            "kind": "sink",
            "class": "http",
            "subject": pipeline.subject,
            "grant_id": pipeline.grant_id,
            "config": {
                "url": url,
                "key_file": write_key_file(pipeline.tax, pipeline.root),
                "max_attempts": 3,
                "backoff_base_s": 0.01,
            }
            | config,
        },
    )
    assert response.status_code == 201, response.get_json()
    return name


def test_a_webhook_failing_five_times_gets_every_delivery_exactly_once(pipeline, hub_keys):
    webhook = FlakyWebhook(hub_keys, failures=5)
    pipeline.create_source()
    drop_file(pipeline.inbox, "inspections-5.csv", csv_of(GOOD_ROWS[:3]))

    with _serve(webhook) as url, pipeline.worker("w1") as worker:
        sink = _create_http_sink(pipeline, url)
        run_until([worker], lambda: len(webhook.received) == 3, "three deliveries")
        status = pipeline.status(pipeline.tax, sink)

    assert webhook.requests >= 8  # five refused, then each of the three accepted
    assert webhook.unsigned == 0
    assert sorted(webhook.received.values()) == [1, 1, 1]
    assert "503" in (status["last_error"] or "")  # it failed, then recovered
    assert status["records_out"] == 3


def test_a_delivery_the_webhook_refuses_goes_to_the_dead_letter_topic(pipeline, hub_keys):
    webhook = FlakyWebhook(hub_keys, failures=0, refuse="I-002")
    pipeline.create_source()
    drop_file(pipeline.inbox, "inspections-6.csv", csv_of(GOOD_ROWS[:3]))

    with _serve(webhook) as url, pipeline.worker("w1") as worker:
        sink = _create_http_sink(pipeline, url, **{"errors.tolerance": "all"})
        run_until([worker], lambda: pipeline.status(pipeline.tax, sink)["records_in"] >= 3, "three")

    letters = pipeline.dead_letters(pipeline.tax, sink)
    assert len(webhook.received) == 2
    assert len(letters) == 1
    assert "422" in letters[0]["reason"]
    assert json.loads(base64.b64decode(letters[0]["original_base64"]))["key"] == "I-002"
