"""The Python client over real HTTP: its signatures verify on a server running
`verify_request` on what werkzeug received, and problem answers become typed errors."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from flask import Flask, Response, jsonify, request
from werkzeug.serving import BaseWSGIServer, make_server

from exchange.client import (
    ClientConflict,
    ClientForbidden,
    ClientNotFound,
    ClientUnauthenticated,
    ClientUnavailable,
    ClientValidationError,
    ExchangeAPIError,
    ExchangeClient,
    HubUnreachable,
)
from exchange.errors import ConfigurationError, ExchangeError
from exchange.identity.keys import generate_private_key, key_id_of, write_private_key
from exchange.identity.signatures import HttpRequestParts, verify_request
from exchange.identity.target_uri import wsgi_target_uri
from tests.identity.fakes import InMemoryKeys, InMemoryNonces

PROBLEM = "application/problem+json"


@dataclass
class SigningServer:
    """A tiny hub stand-in on 127.0.0.1 that insists on valid signatures."""

    base_url: str
    keys: InMemoryKeys
    nonces: InMemoryNonces


def problem(status: int, slug: str, title: str, detail: str, **extra) -> Response:
    body = {
        "type": f"https://exchange.example.gov/problems/{slug}",
        "title": title,
        "status": status,
        "detail": detail,
        **extra,
    }
    response = jsonify(body)
    response.status_code = status
    response.mimetype = PROBLEM
    return response


def create_app(keys: InMemoryKeys, nonces: InMemoryNonces) -> Flask:
    app = Flask(__name__)

    @app.errorhandler(ExchangeError)
    def _refused(error: ExchangeError) -> Response:
        return problem(error.status, error.type_slug, error.title, error.detail, **error.extra)

    @app.before_request
    def _verify() -> None:
        parts = HttpRequestParts(
            method=request.method,
            target_uri=wsgi_target_uri(request.environ),
            headers=dict(request.headers),
            body=request.get_data(cache=True),
        )
        verified = verify_request(parts, keys, nonces, now=datetime.now(UTC))
        request.environ["verified_key_id"] = verified.key_id

    @app.route("/v1/echo", methods=["GET", "POST", "PUT", "DELETE"])
    def echo() -> Response:
        return jsonify(
            key_id=request.environ["verified_key_id"],
            method=request.method,
            args=request.args.to_dict(flat=False),
            json=request.get_json(silent=True),
        )

    @app.get("/v1/items/<path:name>")
    def item(name: str) -> Response:
        return jsonify(name=name, args=request.args.to_dict(flat=False))

    @app.delete("/v1/nothing")
    def nothing() -> Response:
        return Response(status=204)

    @app.get("/v1/problem/<int:status>")
    def fail(status: int) -> Response:
        return problem(
            status, f"kind-{status}", f"Title {status}", f"detail {status}", errors={"f": ["bad"]}
        )

    @app.get("/v1/proxy-error")
    def proxy_error() -> Response:
        return Response("<html>Bad gateway</html>", status=502, mimetype="text/html")

    return app


@pytest.fixture
def server() -> Iterator[SigningServer]:
    keys, nonces = InMemoryKeys(), InMemoryNonces()
    http_server: BaseWSGIServer = make_server(
        "127.0.0.1", 0, create_app(keys, nonces), threaded=True
    )
    # A short poll interval only makes shutdown() return sooner at teardown.
    thread = threading.Thread(target=http_server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield SigningServer(f"http://127.0.0.1:{http_server.server_port}", keys, nonces)
    http_server.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def private_key():
    return generate_private_key()


@pytest.fixture
def client(server, private_key) -> Iterator[ExchangeClient]:
    server.keys.register(private_key.public_key())
    exchange_client = ExchangeClient(server.base_url, private_key=private_key)
    yield exchange_client
    exchange_client.close()


def test_signed_get_with_query_string_verifies_end_to_end(client, private_key):
    answer = client.get("/v1/echo", params={"limit": 5, "q": "a b/ü&x=1", "tag": ["x", "y"]})
    assert answer["key_id"] == key_id_of(private_key.public_key())
    assert answer["args"] == {"limit": ["5"], "q": ["a b/ü&x=1"], "tag": ["x", "y"]}


def test_percent_encoded_path_verifies_end_to_end(client):
    answer = client.get("/v1/items/r%C3%A9f%20A%2B1", params={"ü": "€"})
    assert answer == {"name": "réf A+1", "args": {"ü": ["€"]}}


def test_signed_post_with_json_body_verifies_end_to_end(client):
    record = {"licence": "BL-1", "holder": "Ærø Bakery", "amount": 12.5}
    answer = client.post("/v1/echo", json=record, params={"dry_run": "true"})
    assert answer["method"] == "POST"
    assert answer["json"] == record
    assert answer["args"] == {"dry_run": ["true"]}


def test_put_and_delete_are_signed_too(client):
    assert client.put("/v1/echo", json=[1, 2])["json"] == [1, 2]
    assert client.delete("/v1/echo")["method"] == "DELETE"


def test_no_content_answer_is_none(client):
    assert client.delete("/v1/nothing") is None


def test_every_request_carries_a_fresh_nonce(client, server):
    for _ in range(3):
        client.get("/v1/echo")
    assert len(server.nonces.seen) == 3


def test_client_loads_its_key_from_a_file_and_defaults_key_id_to_the_thumbprint(server, tmp_path):
    key = generate_private_key()
    server.keys.register(key.public_key())
    write_private_key(tmp_path / "dept.pem", key)
    file_client = ExchangeClient(server.base_url + "/", key_file=tmp_path / "dept.pem")
    assert file_client.key_id == key_id_of(key.public_key())
    assert file_client.get("v1/echo")["key_id"] == file_client.key_id


def test_unregistered_key_gets_a_typed_unauthenticated_error(server):
    stranger = ExchangeClient(server.base_url, private_key=generate_private_key())
    with pytest.raises(ClientUnauthenticated) as refused:
        stranger.get("/v1/echo")
    assert refused.value.status == 401
    assert refused.value.type.endswith("/key-unknown")
    assert "no key with id" in refused.value.detail


def test_wrong_key_id_gets_signature_invalid(server, private_key):
    other = generate_private_key()
    server.keys.register(private_key.public_key())
    liar = ExchangeClient(
        server.base_url, private_key=other, key_id=key_id_of(private_key.public_key())
    )
    with pytest.raises(ClientUnauthenticated) as refused:
        liar.get("/v1/echo")
    assert refused.value.type.endswith("/signature-invalid")


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (403, ClientForbidden),
        (404, ClientNotFound),
        (409, ClientConflict),
        (422, ClientValidationError),
        (503, ClientUnavailable),
        (500, ExchangeAPIError),
    ],
)
def test_problem_answers_become_typed_errors_with_their_members(client, status, kind):
    with pytest.raises(kind) as raised:
        client.get(f"/v1/problem/{status}")
    error = raised.value
    assert type(error) is kind
    assert error.status == status
    assert error.type == f"https://exchange.example.gov/problems/kind-{status}"
    assert error.title == f"Title {status}"
    assert error.detail == f"detail {status}"
    assert error.problem["errors"] == {"f": ["bad"]}
    assert str(error) == f"{status} Title {status}: detail {status}"


def test_non_json_error_answer_keeps_its_text(client):
    with pytest.raises(ExchangeAPIError) as raised:
        client.get("/v1/proxy-error")
    assert raised.value.status == 502
    assert "Bad gateway" in raised.value.detail


def test_unreachable_hub_is_a_retryable_unavailable_error(private_key, server):
    # A port that was just free: nothing listens there.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    offline = ExchangeClient(f"http://127.0.0.1:{port}", private_key=private_key, timeout_s=5)
    with pytest.raises(HubUnreachable) as raised:
        offline.get("/v1/echo")
    assert isinstance(raised.value, ClientUnavailable)


def test_client_needs_exactly_one_key_source(tmp_path, private_key):
    with pytest.raises(ConfigurationError):
        ExchangeClient("http://127.0.0.1:1")
    with pytest.raises(ConfigurationError):
        ExchangeClient("http://127.0.0.1:1", key_file=tmp_path / "k.pem", private_key=private_key)
