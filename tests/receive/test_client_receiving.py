"""The Python client receives over real HTTP and verifies every delivery's hub signature:
a payload altered on the way is detected, for projected and for whole-payload deliveries."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server

from exchange.api import create_app
from exchange.client import ExchangeClient
from exchange.client_records import HubKeyCache, ProvenanceMismatch, verify_delivery
from exchange.signing.hub_signer import SignatureMismatch
from tests.support.province import licence
from tests.support.signed_client import onboard_department


class TamperingProxy:
    """WSGI middleware standing for a network path that alters deliveries' payloads."""

    def __init__(self, app) -> None:
        self.app = app
        self.tamper = False

    def __call__(self, environ, start_response):
        if not self.tamper:
            return self.app(environ, start_response)
        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers

        body = b"".join(self.app(environ, capture))
        body = self._altered(body)
        headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
        start_response(captured["status"], [*headers, ("Content-Length", str(len(body)))])
        return [body]

    @staticmethod
    def _altered(body: bytes) -> bytes:
        document = json.loads(body)
        for delivery in document.get("records", [document]):
            if isinstance(delivery, dict) and "payload" in delivery:
                delivery["payload"]["enterprise_name"] = "Somebody Else Ltd."
        return json.dumps(document).encode()


@pytest.fixture(params=["embedded"])
def transport_kind(request):
    return request.param


@pytest.fixture
def proxy(deployment) -> Iterator[tuple[TamperingProxy, str]]:
    middleware = TamperingProxy(create_app(deployment.hub))
    server = make_server("127.0.0.1", 0, middleware, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield middleware, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


@pytest.fixture
def province(deployment):
    market = deployment.register_licences()
    tax = onboard_department(deployment.admin, "tax")
    return market, tax


def _client(base_url: str, actor) -> ExchangeClient:
    return ExchangeClient(base_url, private_key=actor.private_key)


def _pull_one(client: ExchangeClient, subscription: str):
    for _ in range(50):
        pulled = client.pull(subscription, wait_ms=200)
        if pulled.records:
            return pulled
    raise AssertionError("nothing delivered")


@pytest.mark.parametrize("fields", [["/unified_social_credit_code", "/enterprise_name"], None])
def test_the_client_pulls_verified_deliveries_and_acknowledges_them(
    deployment, province, proxy, fields
):
    market, tax = province
    _, base_url = proxy
    grant = deployment.grant(tax, market, fields)
    [record_id] = deployment.publish(market, licence(60))
    client = _client(base_url, tax)
    subscription = client.subscribe(deployment.subject, grant, start="earliest")["id"]

    pulled = _pull_one(client, subscription)
    client.ack(subscription, pulled.cursor)

    assert [d["record_id"] for d in pulled.records] == [record_id]
    assert client.pull(subscription, wait_ms=200).records == []


def test_the_clients_pull_result_tells_how_many_records_are_still_to_come(
    deployment, province, proxy
):
    market, tax = province
    _, base_url = proxy
    grant = deployment.grant(tax, market, None)
    for number in range(3):
        deployment.publish(market, licence(70 + number))
    client = _client(base_url, tax)
    subscription = client.subscribe(deployment.subject, grant, start="earliest")["id"]

    first = client.pull(subscription, max_records=1, wait_ms=200)
    client.ack(subscription, first.cursor)
    rest = client.pull(subscription, max_records=10, wait_ms=200)

    assert (len(first.records), first.lag) == (1, 2)
    assert (len(rest.records), rest.lag) == (2, 0)


@pytest.mark.parametrize("fields", [["/unified_social_credit_code", "/enterprise_name"], None])
def test_a_payload_altered_on_the_way_is_detected_by_the_client(
    deployment, province, proxy, fields
):
    market, tax = province
    middleware, base_url = proxy
    grant = deployment.grant(tax, market, fields)
    deployment.publish(market, licence(61))
    client = _client(base_url, tax)
    subscription = client.subscribe(deployment.subject, grant, start="earliest")["id"]
    middleware.tamper = True

    with pytest.raises(SignatureMismatch):
        _pull_one(client, subscription)


def test_a_consistently_resigned_delivery_still_fails_end_to_end_provenance(deployment, province):
    market, tax = province
    grant = deployment.grant(tax, market, None)
    deployment.publish(market, licence(62))
    subscription = deployment.subscribe(tax, grant)
    [delivery], _ = deployment.pull_until(tax, subscription, 1)
    # Its delivery signature is valid, but the payload is not the record accepted at
    # publication: the envelope's digest and signature say so.
    forged = deployment.hub.signer.sign_document({**delivery, "payload": licence(63)})
    keys = HubKeyCache(lambda: deployment.client.get("/v1/hub/keys").get_json())

    with pytest.raises(ProvenanceMismatch):
        verify_delivery(forged, keys)


def test_the_client_looks_up_the_latest_record_verified(deployment, province, proxy):
    market, tax = province
    middleware, base_url = proxy
    deployment.grant(tax, market, ["/unified_social_credit_code", "/status"])
    [record_id] = deployment.publish(market, licence(64))
    code = licence(64)["unified_social_credit_code"]
    deployment.wait_for_view(code, record_id)
    client = _client(base_url, tax)

    found = client.lookup(deployment.subject, code)
    middleware.tamper = True

    assert found["record_id"] == record_id
    assert found["payload"] == {"unified_social_credit_code": code, "status": "active"}
    with pytest.raises(SignatureMismatch):
        client.lookup(deployment.subject, code)


def test_the_client_publishes_a_batch_and_retries_it_safely(deployment, province, proxy):
    market, tax = province
    _, base_url = proxy
    client = _client(base_url, market)
    records = [{"payload": licence(70)}, {"payload": licence(71)}]
    first = client.publish(deployment.subject, records, idempotency_key="nightly-2026-11-27")
    again = client.publish(deployment.subject, records, idempotency_key="nightly-2026-11-27")
    assert again == first
    assert len(first["records"]) == 2
    grant = deployment.grant(tax, market, None)
    subscription = deployment.subscribe(tax, grant)
    deliveries, _ = deployment.pull_until(tax, subscription, 2)
    assert sorted(d["record_id"] for d in deliveries) == sorted(
        r["record_id"] for r in first["records"]
    )
