"""Identity through the API: principals and keys, every refusal of a request signature, role
checks, rotation and revocation across hub instances."""

from __future__ import annotations

import base64
import hashlib
import re
import time
from dataclasses import replace

import pytest
from cryptography.hazmat.primitives import serialization

from exchange.api import create_app
from exchange.hub import open_hub
from exchange.identity.keys import generate_private_key, key_id_of
from exchange.identity.signatures import sign_request
from exchange.store.repositories import AuditFilters, AuditRepository
from tests.support.signed_client import (
    BASE_URL,
    SignedClient,
    new_key_pair,
    onboard_department,
    onboard_operator,
)

PROBLEM = "application/problem+json"


def _problem_type(response) -> str:
    assert response.mimetype == PROBLEM, response.data
    return response.get_json()["type"].rsplit("/", 1)[-1]


def test_admin_registers_and_lists_departments(admin):
    tax = onboard_department(admin, "tax")
    assert tax.key_id
    response = admin.get("/v1/departments")
    assert response.status_code == 200
    assert [d["code"] for d in response.get_json()["departments"]] == ["tax"]
    assert admin.get("/v1/departments/tax").get_json()["name"] == "Tax"


def test_department_listing_is_paged_with_a_cursor(admin):
    for code in ("aa", "bb", "cc", "dd", "ee"):
        assert (
            admin.post(
                "/v1/departments", json={"code": code, "name": code, "contact": "x"}
            ).status_code
            == 201
        )
    seen, cursor = [], None
    while True:
        params = {"limit": 2} | ({"after": cursor} if cursor else {})
        page = admin.get("/v1/departments", params=params).get_json()
        seen += [d["code"] for d in page["departments"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["aa", "bb", "cc", "dd", "ee"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"code": "Tax", "name": "Tax", "contact": "x"}, "code"),
        ({"code": "t", "name": "Tax", "contact": "x"}, "code"),
        ({"code": "tax", "contact": "x"}, "name"),
        ({"code": "tax", "name": "Tax", "contact": "x", "extra": 1}, "extra"),
    ],
)
def test_invalid_department_is_a_422_naming_the_field(admin, body, field):
    response = admin.post("/v1/departments", json=body)
    assert response.status_code == 422
    assert field in response.get_json()["errors"]


def test_duplicate_department_is_a_409(admin):
    onboard_department(admin, "tax")
    response = admin.post("/v1/departments", json={"code": "tax", "name": "Tax", "contact": "x"})
    assert response.status_code == 409
    assert response.mimetype == PROBLEM


def test_key_id_is_the_rfc7638_thumbprint_and_pem_keys_are_accepted(admin):
    admin.post("/v1/departments", json={"code": "tax", "name": "Tax", "contact": "x"})
    private_key = generate_private_key()
    pem = (
        private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    response = admin.post("/v1/departments/tax/keys", json={"public_key": pem})
    assert response.status_code == 201
    raw = private_key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    x = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    thumbprint_input = f'{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}'.encode()
    expected = (
        base64.urlsafe_b64encode(hashlib.sha256(thumbprint_input).digest()).rstrip(b"=").decode()
    )
    assert response.get_json()["key_id"] == expected


def test_a_non_ed25519_key_is_refused(admin):
    admin.post("/v1/departments", json={"code": "tax", "name": "Tax", "contact": "x"})
    response = admin.post(
        "/v1/departments/tax/keys", json={"public_key": {"kty": "RSA", "n": "AQAB", "e": "AQAB"}}
    )
    assert response.status_code == 422


def test_unsigned_requests_are_refused_except_the_public_endpoints(client):
    for path in ("/v1/health", "/v1/ready", "/openapi.json", "/docs", "/v1/hub/keys"):
        assert client.get(path).status_code == 200, path
    response = client.get("/v1/departments")
    assert response.status_code == 401
    assert _problem_type(response) == "signature-missing"


def test_hub_keys_are_a_jwk_set(client, hub):
    keys = client.get("/v1/hub/keys").get_json()["keys"]
    assert len(keys) == 1
    assert keys[0]["kty"] == "OKP"
    assert keys[0]["crv"] == "Ed25519"
    assert keys[0]["status"] == "current"


def _send(client, method, path, headers, body=b""):
    return client.open(path, method=method, data=body, headers=headers)


def _signed_headers(key, path="/v1/departments", method="GET", body=b"", **kwargs):
    headers = {"Content-Type": "application/json"} if body else {}
    headers.update(
        sign_request(
            method, BASE_URL + path, headers, body, key, key_id_of(key.public_key()), **kwargs
        )
    )
    return headers


def test_unknown_key_is_refused(client):
    stranger = generate_private_key()
    response = _send(client, "GET", "/v1/departments", _signed_headers(stranger))
    assert response.status_code == 401
    assert _problem_type(response) == "key-unknown"


def test_malformed_signature_headers_are_refused(client, admin):
    headers = _signed_headers(admin.private_key)
    headers["Signature"] = "sig1=not-a-byte-sequence"
    response = _send(client, "GET", "/v1/departments", headers)
    assert response.status_code == 401
    assert _problem_type(response) == "signature-malformed"


def test_a_signature_that_does_not_verify_is_refused(client, admin):
    headers = _signed_headers(admin.private_key, path="/v1/departments/other")
    response = _send(client, "GET", "/v1/departments", headers)
    assert response.status_code == 401
    assert _problem_type(response) == "signature-invalid"


def test_a_body_that_does_not_match_its_digest_is_refused(client, admin):
    body = b'{"code":"tax","name":"Tax","contact":"x"}'
    headers = _signed_headers(admin.private_key, method="POST", body=body)
    response = _send(client, "POST", "/v1/departments", headers, body.replace(b"tax", b"tix"))
    assert response.status_code == 401
    assert _problem_type(response) == "digest-mismatch"


def test_a_stale_or_expired_signature_is_refused(client, admin):
    stale = _signed_headers(admin.private_key, created=int(time.time()) - 301)
    assert _problem_type(_send(client, "GET", "/v1/departments", stale)) == "signature-stale"
    expired = _signed_headers(
        admin.private_key, created=int(time.time()) - 10, expires=int(time.time()) - 1
    )
    assert _problem_type(_send(client, "GET", "/v1/departments", expired)) == "signature-stale"


def test_a_replayed_nonce_is_refused(client, admin):
    headers = _signed_headers(admin.private_key)
    assert _send(client, "GET", "/v1/departments", headers).status_code == 200
    replay = _send(client, "GET", "/v1/departments", headers)
    assert replay.status_code == 401
    assert _problem_type(replay) == "nonce-replayed"


@pytest.fixture
def second_hub(embedded_settings, hub):
    """Another hub instance on the same store and log, as a second process would be."""
    other = open_hub(embedded_settings)
    yield other
    other.close()


def test_a_replayed_nonce_is_refused_by_another_hub_instance(second_hub, admin):
    other = create_app(second_hub).test_client()
    headers = _signed_headers(admin.private_key)
    assert _send(admin.client, "GET", "/v1/departments", headers).status_code == 200
    assert _problem_type(_send(other, "GET", "/v1/departments", headers)) == "nonce-replayed"


def test_every_refusal_is_audited_with_the_claimed_key(client, hub):
    stranger = generate_private_key()
    response = _send(client, "GET", "/v1/departments", _signed_headers(stranger))
    request_id = response.headers["X-Request-Id"]
    entries = [e for e in AuditRepository(hub.database).scan() if e.request_id == request_id]
    assert len(entries) == 1
    assert entries[0].decision == "deny"
    assert entries[0].actor == key_id_of(stranger.public_key())
    assert "no key" in (entries[0].reason or "")


def test_roles_are_enforced(admin):
    tax = onboard_department(admin, "tax")
    auditor = onboard_operator(admin, "inspector", "auditor")
    for principal in (tax, auditor):
        response = principal.post(
            "/v1/departments", json={"code": "x1", "name": "x", "contact": "x"}
        )
        assert response.status_code == 403, principal.name
        assert _problem_type(response) == "role-forbidden"
        assert (
            principal.post("/v1/operators", json={"name": "eve", "role": "admin"}).status_code
            == 403
        )
    assert tax.get("/v1/departments/tax/keys").status_code == 200
    assert tax.get("/v1/operators/admin/keys").status_code == 403
    denied = AuditRepository(admin.client.application.extensions["exchange.hub"].database).query(
        AuditFilters(decision="deny")
    )
    assert len(denied) >= 5


def test_rotation_keeps_both_keys_live_until_one_is_revoked(admin):
    tax = onboard_department(admin, "tax")
    new_private, jwk = new_key_pair()
    assert admin.post("/v1/departments/tax/keys", json={"public_key": jwk}).status_code == 201
    tax_new = SignedClient(admin.client, new_private, "tax")
    assert tax.get("/v1/departments/tax").status_code == 200
    assert tax_new.get("/v1/departments/tax").status_code == 200
    assert admin.delete(f"/v1/departments/tax/keys/{tax.key_id}").status_code == 200
    refused = tax.get("/v1/departments/tax")
    assert refused.status_code == 401
    assert _problem_type(refused) == "key-revoked"
    assert tax_new.get("/v1/departments/tax").status_code == 200
    keys = admin.get("/v1/departments/tax/keys").get_json()["keys"]
    assert {k["key_id"]: k["revoked_at"] is not None for k in keys} == {
        tax.key_id: True,
        tax_new.key_id: False,
    }


def test_revocation_takes_effect_at_once_on_another_hub_instance(second_hub, admin):
    tax = onboard_department(admin, "tax")
    other = SignedClient(create_app(second_hub).test_client(), tax.private_key, "tax")
    assert other.get("/v1/departments/tax").status_code == 200
    assert admin.delete(f"/v1/departments/tax/keys/{tax.key_id}").status_code == 200
    assert other.get("/v1/departments/tax").status_code == 401


def test_a_request_signed_by_an_independent_rfc9421_implementation_is_accepted(client, admin):
    """Built from RFC 9421 sections 2.3 and 2.5 and RFC 9530 only, with `cryptography`."""
    body = b'{"code":"civil-affairs","name":"Civil Affairs","contact":"dpo@civil.example.gov"}'
    digest = "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode() + ":"
    params = (
        f'("@method" "@target-uri" "content-digest" "content-type");created={int(time.time())}'
        f';keyid="{admin.key_id}";alg="ed25519";nonce="independent-nonce-0001";tag="exchange"'
    )
    base = "\n".join(
        [
            '"@method": POST',
            f'"@target-uri": {BASE_URL}/v1/departments',
            f'"content-digest": {digest}',
            '"content-type": application/json',
            f'"@signature-params": {params}',
        ]
    ).encode()
    signature = base64.b64encode(admin.private_key.sign(base)).decode()
    headers = {
        "Content-Type": "application/json",
        "Content-Digest": digest,
        "Signature-Input": f"sig1={params}",
        "Signature": f"sig1=:{signature}:",
    }
    response = _send(client, "POST", "/v1/departments", headers, body)
    assert response.status_code == 201, response.get_json()


def test_behind_a_proxy_the_public_url_is_what_is_signed(embedded_settings, hub, admin):
    hub.settings = replace(hub.settings, public_url="https://exchange.example.gov/")
    private_key = admin.private_key
    path = "/v1/departments?limit=5"
    headers = sign_request(
        "GET", "https://exchange.example.gov" + path, {}, b"", private_key, admin.key_id
    )
    assert _send(admin.client, "GET", path, headers).status_code == 200
    headers = sign_request("GET", BASE_URL + path, {}, b"", private_key, admin.key_id)
    assert _send(admin.client, "GET", path, headers).status_code == 401


def test_whoami_names_the_signing_principal(admin):
    tax = onboard_department(admin, "tax")
    assert tax.get("/v1/whoami").get_json() == {
        "kind": "department",
        "name": "tax",
        "role": "department",
        "key_id": tax.key_id,
    }
    assert admin.get("/v1/whoami").get_json()["role"] == "admin"


def _refusals(admin) -> dict[str, tuple[dict[str, str], bytes, bytes]]:
    """Each refusal reason: the headers, the body signed and the body sent."""
    key = admin.private_key
    body = b'{"code":"secret-dept","name":"Secret","contact":"x"}'
    malformed = _signed_headers(key)
    malformed["Signature"] = "sig1=not-a-byte-sequence"
    now = int(time.time())
    return {
        "key-unknown": (_signed_headers(generate_private_key()), b"", b""),
        "signature-malformed": (malformed, b"", b""),
        "signature-invalid": (_signed_headers(key, path="/v1/departments/other"), b"", b""),
        "digest-mismatch": (
            _signed_headers(key, method="POST", body=body),
            body,
            body.replace(b"Secret", b"Secrez"),
        ),
        "signature-stale": (_signed_headers(key, created=now - 301), b"", b""),
    }


REFUSALS = ["key-unknown", "signature-malformed", "signature-invalid", "digest-mismatch"]


@pytest.mark.parametrize("reason", [*REFUSALS, "signature-stale"])
def test_each_refusal_is_audited_with_its_reason_and_without_the_body(client, hub, admin, reason):
    headers, _, sent = _refusals(admin)[reason]
    method = "POST" if sent else "GET"
    response = _send(client, method, "/v1/departments", headers, sent)
    assert _problem_type(response) == reason
    request_id = response.headers["X-Request-Id"]

    [entry] = [e for e in AuditRepository(hub.database).scan() if e.request_id == request_id]

    assert (entry.decision, entry.status) == ("deny", 401)
    assert entry.reason == response.get_json()["detail"]
    claimed = re.search(r'keyid="([^"]+)"', headers["Signature-Input"])
    assert claimed
    assert entry.actor == claimed.group(1), "the actor as claimed: its key id"
    assert "Secre" not in repr(entry), "the body is never stored, only its digest"
    if sent:
        assert entry.request_digest
