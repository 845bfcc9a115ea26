"""The hostile-input table: one row per case, with the answer the hub must give.

Every row is refused (or, for injections into a filter, answered with nothing found); the
test asserts the status, the problem type, the audit entry and that no state changed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from werkzeug.test import TestResponse

from tests.hostile.requests import (
    send_bytes,
    send_other_body,
    send_signed_at,
    send_twice,
    send_unsigned,
    stale,
)
from tests.hostile.world import MAX_REQUEST_BYTES, PURPOSE, World
from tests.support.province import LICENCE_SUBJECT, example_schema, licence
from tests.support.signed_client import SignedClient, new_key_pair

PUBLISH = f"/v1/subjects/{LICENCE_SUBJECT}/records"
EXTRA = {"unexpected_field": "x"}


@dataclass(frozen=True)
class HostileCase:
    """One hostile request and the answer it must get."""

    name: str
    send: Callable[[World], TestResponse]
    status: int
    problem: str | None
    # For answers that are not refusals (an injection into a filter): what must be empty.
    empty: str | None = None


def _dumps(document: Any) -> bytes:
    return json.dumps(document).encode()


def _publish_bytes(body: bytes, content_type: str = "application/json"):
    """Publish exactly these bytes as market regulation."""
    return lambda w: send_bytes(w.market, "POST", PUBLISH, body, content_type)


def _one_licence() -> dict[str, Any]:
    return {"records": [{"payload": licence(7)}]}


def _forged_licence() -> dict[str, Any]:
    return {"records": [{"payload": licence(666)}]}


def _nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def _subject_registration() -> dict[str, Any]:
    return {
        "subject": "tax.returns",
        "owner": "tax",
        "key_field": "unified_social_credit_code",
        "schema": example_schema(LICENCE_SUBJECT),
    }


MALFORMED_BODIES = [
    HostileCase("malformed-json", _publish_bytes(b'{"records": [}'), 400, "bad-request"),
    HostileCase(
        "truncated-json",
        _publish_bytes(_dumps(_one_licence())[:-7]),
        400,
        "bad-request",
    ),
    HostileCase("empty-body", _publish_bytes(b" "), 400, "bad-request"),
    HostileCase(
        "text-plain",
        _publish_bytes(_dumps(_one_licence()), "text/plain"),
        415,
        "unsupported-media-type",
    ),
    HostileCase(
        "form-encoded",
        _publish_bytes(b"records=1", "application/x-www-form-urlencoded"),
        415,
        "unsupported-media-type",
    ),
    HostileCase(
        "body-over-the-limit",
        _publish_bytes(b'{"records": ["' + b"x" * MAX_REQUEST_BYTES + b'"]}'),
        413,
        "request-too-large",
    ),
    HostileCase("deeply-nested-json", _publish_bytes(_nested(100_000)), 400, "bad-request"),
    HostileCase(
        "deep-payload-below-the-parser-limit",
        _publish_bytes(b'{"records": [{"payload": ' + _nested(800) + b"}]}"),
        422,
        "batch-invalid",
    ),
    HostileCase(
        "huge-string",
        lambda w: w.admin.post(
            "/v1/departments",
            json={"code": "huge", "name": "n" * 1_500_000, "contact": "c"},
        ),
        422,
        "validation-failed",
    ),
    HostileCase(
        "huge-array",
        _publish_bytes(_dumps({"records": [{}] * 200_000})),
        422,
        "validation-failed",
    ),
    HostileCase("invalid-utf8", _publish_bytes(b'{"records": ["\xff\xfe"]}'), 400, "bad-request"),
    HostileCase(
        "duplicate-keys",
        _publish_bytes(b'{"records": [], "records": [{"payload": {}}]}'),
        400,
        "bad-request",
    ),
    HostileCase("nan-literal", _publish_bytes(b'{"records": NaN}'), 400, "bad-request"),
    HostileCase(
        "number-beyond-float-range-in-a-field",
        _publish_bytes(b'{"schema_version": 1e400, "records": [{"payload": {}}]}'),
        422,
        "validation-failed",
    ),
    HostileCase(
        "number-beyond-float-range-in-a-payload",
        _publish_bytes(
            _dumps({"records": [{"payload": licence(8)}]}).replace(
                b'"status": "active"', b'"status": 1e400'
            )
        ),
        422,
        "batch-invalid",
    ),
    HostileCase("json-array-not-object", _publish_bytes(b"[]"), 422, "validation-failed"),
]


def _unknown_field(
    name: str, actor: str, route: str, body: Callable[[World], dict[str, Any]]
) -> HostileCase:
    method, path = route.split(" ", 1)

    def send(world: World) -> TestResponse:
        client = getattr(world, actor)
        return client.request(method, _fill(path, world), json=body(world) | EXTRA)

    return HostileCase(f"unknown-field-{name}", send, 422, "validation-failed")


def _fill(path: str, world: World) -> str:
    return path.format(
        grant=world.grant_id, subscription=world.subscription_id, subject=LICENCE_SUBJECT
    )


def _jwk(_: World) -> dict[str, Any]:
    return {"public_key": new_key_pair()[1]}


UNKNOWN_FIELDS = [
    _unknown_field(
        "department",
        "admin",
        "POST /v1/departments",
        lambda w: {"code": "newdept", "name": "New", "contact": "c@example.gov"},
    ),
    _unknown_field("department-key", "admin", "POST /v1/departments/tax/keys", _jwk),
    _unknown_field(
        "operator", "admin", "POST /v1/operators", lambda w: {"name": "eve", "role": "auditor"}
    ),
    _unknown_field("operator-key", "admin", "POST /v1/operators/inspector/keys", _jwk),
    _unknown_field("subject", "admin", "POST /v1/subjects", lambda w: _subject_registration()),
    _unknown_field(
        "schema-version",
        "market",
        "POST /v1/subjects/{subject}/versions",
        lambda w: {"schema": example_schema(LICENCE_SUBJECT)},
    ),
    _unknown_field(
        "compatibility-check",
        "market",
        "POST /v1/subjects/{subject}/compatibility",
        lambda w: {"schema": example_schema(LICENCE_SUBJECT)},
    ),
    _unknown_field(
        "subject-config",
        "market",
        "PUT /v1/subjects/{subject}/config",
        lambda w: {"compatibility": "NONE"},
    ),
    _unknown_field(
        "grant-request",
        "tax",
        "POST /v1/grants",
        lambda w: {"subject": LICENCE_SUBJECT, "purpose": PURPOSE + " (second)"},
    ),
    _unknown_field(
        "subscription",
        "tax",
        "POST /v1/subscriptions",
        lambda w: {"subject": LICENCE_SUBJECT, "grant_id": w.grant_id},
    ),
    _unknown_field(
        "ack", "tax", "POST /v1/subscriptions/{subscription}/ack", lambda w: {"cursor": w.cursor}
    ),
    _unknown_field("publish", "market", f"POST {PUBLISH}", lambda w: _one_licence()),
    HostileCase(
        "unknown-field-publish-record",
        lambda w: w.market.post(PUBLISH, json={"records": [{"payload": licence(9)} | EXTRA]}),
        422,
        "validation-failed",
    ),
]


def _unknown_parameter(actor: str, path: str) -> HostileCase:
    def send(world: World) -> TestResponse:
        return getattr(world, actor).get(_fill(path, world), params={"unexpected": "1"})

    return HostileCase(f"unknown-parameter-{path}", send, 422, "validation-failed")


UNKNOWN_PARAMETERS = [
    _unknown_parameter("admin", "/v1/departments"),
    _unknown_parameter("tax", "/v1/grants"),
    _unknown_parameter("tax", "/v1/subjects"),
    _unknown_parameter("auditor", "/v1/audit"),
    _unknown_parameter("auditor", "/v1/audit/export"),
    _unknown_parameter("auditor", "/v1/audit/checkpoints"),
    _unknown_parameter("tax", "/v1/subscriptions/{subscription}/records"),
    _unknown_parameter("tax", "/v1/subjects/{subject}/records/some-key"),
]

SQL = "' OR '1'='1' --"
NUL = "tax\x00"
NUL_FILTERS = [
    ("tax", "/v1/grants", "subject"),
    ("tax", "/v1/grants", "consumer"),
    ("auditor", "/v1/audit", "actor"),
    ("auditor", "/v1/audit", "action"),
    ("admin", "/v1/departments", "after"),
    ("tax", "/v1/subjects", "owner"),
]


def _nul_in_query(actor: str, path: str, name: str) -> HostileCase:
    return HostileCase(
        f"nul-in-query-{path}-{name}",
        lambda w: getattr(w, actor).get(path, params={name: NUL}),
        400,
        "nul-character",
    )


def _filter(actor: str, path: str, params: dict[str, str], empty: str) -> HostileCase:
    name = f"injection-{path}-{'-'.join(params)}-{sorted(params.values())[0][:3]!r}"
    return HostileCase(
        name, lambda w: getattr(w, actor).get(path, params=params), 200, None, empty=empty
    )


INJECTIONS = [
    *(_filter("tax", "/v1/grants", {"subject": value}, "grants") for value in (SQL, "../..")),
    _filter("tax", "/v1/grants", {"consumer": SQL}, "grants"),
    *(_filter("auditor", "/v1/audit", {"actor": value}, "entries") for value in (SQL, "%")),
    _filter("auditor", "/v1/audit", {"subject": SQL}, "entries"),
    _filter("auditor", "/v1/audit", {"record_id": "%"}, "entries"),
    # LIKE wildcards are searched for literally, not matched as patterns.
    *(_filter("tax", "/v1/subjects", {"q": value}, "subjects") for value in ("%", "_", SQL)),
    _filter("tax", "/v1/subjects", {"owner": SQL}, "subjects"),
    *(_nul_in_query(actor, path, name) for actor, path, name in NUL_FILTERS),
    # A cursor is compared as a literal: one sorting after every code finds nothing.
    _filter("admin", "/v1/departments", {"after": "~" + SQL}, "departments"),
    HostileCase(
        "injection-department-path-sql",
        lambda w: w.admin.get("/v1/departments/%27%20OR%201%3D1--"),
        404,
        "not-found",
    ),
    HostileCase(
        "injection-department-path-nul",
        lambda w: w.admin.get("/v1/departments/tax%00"),
        400,
        "nul-character",
    ),
    HostileCase(
        "injection-subject-path-dotdot",
        lambda w: w.tax.get("/v1/subjects/..%2F..%2Fetc%2Fpasswd"),
        404,
        "not-found",
    ),
    HostileCase(
        "injection-subject-path-sql",
        lambda w: w.tax.get("/v1/subjects/x%27%20OR%20%271%27%3D%271"),
        404,
        "unknown-subject",
    ),
    HostileCase(
        "injection-lookup-key-dotdot",
        lambda w: w.tax.get(f"/v1/subjects/{LICENCE_SUBJECT}/records/../../etc/passwd"),
        404,
        "record-not-found",
    ),
    HostileCase(
        "injection-lookup-key-nul",
        lambda w: w.tax.get(f"/v1/subjects/{LICENCE_SUBJECT}/records/%00"),
        400,
        "nul-character",
    ),
    HostileCase(
        "injection-lookup-key-sql",
        lambda w: w.tax.get(f"/v1/subjects/{LICENCE_SUBJECT}/records/%27%20OR%201%3D1--"),
        404,
        "record-not-found",
    ),
    HostileCase(
        "injection-grant-path-sql",
        lambda w: w.tax.get("/v1/grants/%27%20OR%201%3D1--"),
        404,
        "grant-not-found",
    ),
    HostileCase(
        "injection-subscription-path-nul",
        lambda w: w.tax.get("/v1/subscriptions/%00/records"),
        400,
        "nul-character",
    ),
    HostileCase(
        "injection-publish-subject-nul",
        lambda w: w.market.post("/v1/subjects/market-regulation.x%00/records", json=_one_licence()),
        400,
        "nul-character",
    ),
    HostileCase(
        "nul-in-a-json-string",
        lambda w: w.admin.post(
            "/v1/departments", json={"code": "nul", "name": "a\x00b", "contact": "c"}
        ),
        400,
        "nul-character",
    ),
    HostileCase(
        "nul-in-a-record-payload",
        lambda w: w.market.post(
            PUBLISH, json={"records": [{"payload": licence(10, enterprise_name="x\x00y")}]}
        ),
        400,
        "nul-character",
    ),
    HostileCase(
        "injection-audit-proof-seq",
        lambda w: w.auditor.get("/v1/audit/entries/1%20OR%201=1/proof"),
        422,
        "validation-failed",
    ),
]

SIGNATURES = [
    HostileCase(
        "unsigned", lambda w: send_unsigned(w.tax, "GET", "/v1/grants"), 401, "signature-missing"
    ),
    HostileCase(
        "replayed-signature",
        lambda w: send_twice(w.tax, "GET", "/v1/grants"),
        401,
        "nonce-replayed",
    ),
    HostileCase(
        "stale-signature",
        lambda w: send_signed_at(w.tax, "GET", "/v1/grants", stale(3600)),
        401,
        "signature-stale",
    ),
    HostileCase(
        "signature-from-the-future",
        lambda w: send_signed_at(w.tax, "GET", "/v1/grants", stale(-3600)),
        401,
        "signature-stale",
    ),
    HostileCase(
        "signature-over-a-different-body",
        lambda w: send_other_body(
            w.market,
            PUBLISH,
            _dumps(_one_licence()),
            _dumps(_forged_licence()),
            digest_of_sent=False,
        ),
        401,
        "digest-mismatch",
    ),
    HostileCase(
        "signature-over-a-different-body-with-a-matching-digest",
        lambda w: send_other_body(
            w.market,
            PUBLISH,
            _dumps(_one_licence()),
            _dumps(_forged_licence()),
            digest_of_sent=True,
        ),
        401,
        "signature-invalid",
    ),
    HostileCase(
        "revoked-key",
        lambda w: w.revoked.get("/v1/grants"),
        401,
        "key-revoked",
    ),
    HostileCase(
        "unknown-key",
        lambda w: _stranger(w).get("/v1/grants"),
        401,
        "key-unknown",
    ),
]


def _stranger(world: World) -> SignedClient:
    return SignedClient(world.client, new_key_pair()[0], "stranger")


AUTHORISATION = [
    HostileCase(
        "publishing-to-a-subject-of-another-department",
        lambda w: w.tax.post(PUBLISH, json=_one_licence()),
        403,
        "not-subject-owner",
    ),
    HostileCase(
        "an-operator-publishing",
        lambda w: w.admin.post(PUBLISH, json=_one_licence()),
        403,
        "role-forbidden",
    ),
    HostileCase(
        "revoking-the-key-of-another-department",
        lambda w: w.tax.delete(f"/v1/departments/market-regulation/keys/{w.market.key_id}"),
        403,
        "role-forbidden",
    ),
    HostileCase(
        "adding-a-key-to-another-department",
        lambda w: w.tax.post("/v1/departments/market-regulation/keys", json=_jwk(w)),
        403,
        "role-forbidden",
    ),
    HostileCase(
        "a-consumer-approving-its-own-grant",
        lambda w: w.tax.post(f"/v1/grants/{w.grant_id}/approve", json={}),
        403,
        "grant-party-forbidden",
    ),
    HostileCase(
        "pulling-under-an-expired-grant",
        lambda w: w.civil.get(f"/v1/subscriptions/{w.civil_subscription_id}/records"),
        403,
        "grant-expired",
    ),
    HostileCase(
        "looking-up-under-an-expired-grant",
        lambda w: w.civil.get(
            f"/v1/subjects/{LICENCE_SUBJECT}/records/{w.record_key}",
            params={"grant_id": w.expired_grant_id},
        ),
        403,
        "grant-expired",
    ),
    HostileCase(
        "subscribing-under-an-expired-grant",
        lambda w: w.civil.post(
            "/v1/subscriptions",
            json={"subject": LICENCE_SUBJECT, "grant_id": w.expired_grant_id},
        ),
        403,
        "grant-expired",
    ),
    HostileCase(
        "subscribing-under-the-grant-of-another-department",
        lambda w: w.civil.post(
            "/v1/subscriptions", json={"subject": LICENCE_SUBJECT, "grant_id": w.grant_id}
        ),
        403,
        "grant-not-applicable",
    ),
    HostileCase(
        "pulling-the-subscription-of-another-department",
        lambda w: w.civil.get(f"/v1/subscriptions/{w.subscription_id}/records"),
        404,
        "subscription-not-found",
    ),
    HostileCase(
        "acking-a-cursor-of-another-subscription",
        lambda w: w.civil.post(
            f"/v1/subscriptions/{w.civil_subscription_id}/ack", json={"cursor": w.cursor}
        ),
        409,
        "cursor-subscription-mismatch",
    ),
    HostileCase(
        "acking-a-forged-cursor",
        lambda w: w.tax.post(
            f"/v1/subscriptions/{w.subscription_id}/ack", json={"cursor": "eyJ4IjogMX0"}
        ),
        422,
        "cursor-malformed",
    ),
    HostileCase(
        "an-auditor-reading-records",
        lambda w: w.auditor.get(f"/v1/subjects/{LICENCE_SUBJECT}/records/{w.record_key}"),
        403,
        "role-forbidden",
    ),
    HostileCase(
        "a-department-registering-a-department",
        lambda w: w.tax.post(
            "/v1/departments", json={"code": "rogue", "name": "Rogue", "contact": "r@x.gov"}
        ),
        403,
        "role-forbidden",
    ),
]

CASES = [
    *MALFORMED_BODIES,
    *UNKNOWN_FIELDS,
    *UNKNOWN_PARAMETERS,
    *INJECTIONS,
    *SIGNATURES,
    *AUTHORISATION,
]
# The cases whose values reach SQL parameters or stored text, where the stores differ.
STORE_CASES = [*MALFORMED_BODIES, *INJECTIONS, *SIGNATURES]
