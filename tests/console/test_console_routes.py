"""The console's page and assets are public; the API calls it makes are not."""

from __future__ import annotations

from flask.testing import FlaskClient

from exchange.hub import Hub
from exchange.store.repositories import AuditRepository


def test_console_page_is_served_without_a_signature_with_a_strict_content_policy(
    client: FlaskClient,
) -> None:
    page = client.get("/console")
    assert page.status_code == 200
    assert b'id="sign-in-form"' in page.data
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "connect-src 'self'" in policy


def test_console_static_files_are_served_without_a_signature(client: FlaskClient) -> None:
    script = client.get("/console/static/signing.js")
    assert script.status_code == 200
    assert b"Ed25519" in script.data


def test_only_get_of_the_console_is_public(client: FlaskClient) -> None:
    assert client.post("/console").status_code in (401, 405)
    assert client.get("/v1/departments").status_code == 401


def test_loading_the_console_adds_nothing_to_the_audit_log(client: FlaskClient, hub: Hub) -> None:
    before = AuditRepository(hub.database).tree_size()
    assert client.get("/console").status_code == 200
    assert client.get("/console/static/app.js").status_code == 200
    assert AuditRepository(hub.database).tree_size() == before
