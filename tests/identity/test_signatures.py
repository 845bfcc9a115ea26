"""Request signatures: what the hub accepts, and each reason it refuses, in the order it checks."""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from exchange.errors import Unauthenticated
from exchange.identity import errors
from exchange.identity.errors import (
    DigestMismatch,
    NonceReplayed,
    RevokedKey,
    SignatureComponents,
    SignatureInvalid,
    SignatureMalformed,
    SignatureMissing,
    SignatureStale,
    UnknownKey,
    UnsignableRequest,
)
from exchange.identity.keys import generate_private_key
from exchange.identity.signatures import (
    HttpRequestParts,
    content_digest,
    sign_request,
    verify_request,
)
from exchange.store.repositories import NonceRepository
from tests.identity.fakes import InMemoryKeys, InMemoryNonces

NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
NOW_S = int(NOW.timestamp())
URI = "https://hub.example.gov/v1/subjects/market-regulation.business-licence/records?limit=5"
BODY = b'{"records": [{"licence": "BL-1"}]}'
JSON_HEADERS = {"Content-Type": "application/json"}


@pytest.fixture
def private_key():
    return generate_private_key()


@pytest.fixture
def keys():
    return InMemoryKeys()


@pytest.fixture
def key_id(keys, private_key):
    return keys.register(private_key.public_key())


@pytest.fixture
def nonces():
    return InMemoryNonces()


def signed(private_key, key_id, *, method="POST", uri=URI, body=BODY, headers=None, **options):
    """A request signed with `sign_request`, as the hub would receive it."""
    headers = dict(JSON_HEADERS if headers is None and body else headers or {})
    options.setdefault("created", NOW_S)
    added = sign_request(method, uri, headers, body, private_key, key_id, **options)
    return HttpRequestParts(method=method, target_uri=uri, headers={**headers, **added}, body=body)


def verify(request, keys, nonces, **options):
    options.setdefault("now", NOW)
    return verify_request(request, keys, nonces, **options)


def with_header(request, name, value):
    headers = {k: v for k, v in request.headers.items() if k.lower() != name.lower()}
    if value is not None:
        headers[name] = value
    return replace(request, headers=headers)


def edit_signature_input(request, pattern, replacement):
    edited = re.sub(pattern, replacement, request.headers["Signature-Input"])
    assert edited != request.headers["Signature-Input"], "the edit must change something"
    return with_header(request, "Signature-Input", edited)


# --- accepted ------------------------------------------------------------------------------


def test_signed_request_with_body_verifies_and_names_key_time_nonce_and_coverage(
    private_key, key_id, keys, nonces
):
    request = signed(private_key, key_id, nonce="n" * 22)
    verified = verify(request, keys, nonces)
    assert verified.key_id == key_id
    assert verified.created == NOW_S
    assert verified.expires is None
    assert verified.nonce == "n" * 22
    assert verified.covered_components == (
        "@method",
        "@target-uri",
        "content-digest",
        "content-type",
    )


def test_signed_request_without_body_covers_method_and_target_uri_only(
    private_key, key_id, keys, nonces
):
    request = signed(private_key, key_id, method="GET", body=b"")
    assert "Content-Digest" not in request.headers
    assert verify(request, keys, nonces).covered_components == ("@method", "@target-uri")


def test_signature_input_follows_the_hub_profile(private_key, key_id):
    request = signed(private_key, key_id, nonce="abcdefghijklmnopqrstuv")
    assert request.headers["Signature-Input"] == (
        'sig1=("@method" "@target-uri" "content-digest" "content-type")'
        f';created={NOW_S};keyid="{key_id}";alg="ed25519";nonce="abcdefghijklmnopqrstuv"'
        ';tag="exchange"'
    )
    assert re.fullmatch(r"sig1=:[A-Za-z0-9+/]{86}==:", request.headers["Signature"])


def test_content_digest_is_rfc9530_sha256():
    # RFC 9530 section 2 example body and its sha-256 digest.
    assert content_digest(b'{"hello": "world"}') == (
        "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:"
    )


def test_header_names_are_matched_in_any_letter_case(private_key, key_id, keys, nonces):
    request = signed(private_key, key_id)
    lowered = replace(request, headers={k.lower(): v for k, v in request.headers.items()})
    upper = replace(request, headers={k.upper(): v for k, v in request.headers.items()})
    verify(lowered, keys, nonces)
    verify(upper, keys, InMemoryNonces())


def test_each_signature_gets_a_fresh_128_bit_nonce(private_key, key_id):
    nonce = re.compile(r'nonce="([^"]+)"')
    nonces = {
        match[1]
        for _ in range(20)
        if (match := nonce.search(signed(private_key, key_id).headers["Signature-Input"]))
    }
    assert len(nonces) == 20
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{22}", nonce) for nonce in nonces)


def test_both_live_keys_of_a_rotating_principal_verify(keys, nonces):
    old_key, new_key = generate_private_key(), generate_private_key()
    old_id = keys.register(old_key.public_key())
    new_id = keys.register(new_key.public_key())
    assert verify(signed(old_key, old_id), keys, nonces).key_id == old_id
    assert verify(signed(new_key, new_id), keys, nonces).key_id == new_id


def test_created_exactly_at_the_window_edge_is_accepted(private_key, key_id, keys, nonces):
    verify(signed(private_key, key_id, created=NOW_S - 300), keys, nonces)
    verify(signed(private_key, key_id, created=NOW_S + 300), keys, nonces)


def test_expires_in_the_future_is_accepted_and_reported(private_key, key_id, keys, nonces):
    verified = verify(signed(private_key, key_id, expires=NOW_S + 60), keys, nonces)
    assert verified.expires == NOW_S + 60


def test_nonce_is_remembered_while_its_request_is_fresh(private_key, key_id, keys, nonces):
    verified = verify(signed(private_key, key_id, created=NOW_S - 10), keys, nonces, window_s=120)
    assert nonces.seen == {(key_id, verified.nonce): NOW - timedelta(seconds=10 - 121)}


@pytest.mark.parametrize("late_s", [0.5, 300.0, 300.5, 300.999])
def test_a_replay_is_refused_up_to_the_last_fresh_instant(private_key, key_id, keys, db, late_s):
    # The real store, whose clock is the replay's own instant: an expired nonce row would be
    # taken over as new.
    replayed_at = NOW + timedelta(seconds=late_s)
    store = NonceRepository(db, clock=lambda: replayed_at)
    request = signed(private_key, key_id)
    verify(request, keys, store)
    with pytest.raises(NonceReplayed):
        verify(request, keys, store, now=replayed_at)


def test_once_stale_a_replayed_request_is_refused_as_stale(private_key, key_id, keys, db):
    replayed_at = NOW + timedelta(seconds=301)
    store = NonceRepository(db, clock=lambda: replayed_at)
    request = signed(private_key, key_id)
    verify(request, keys, store)
    with pytest.raises(SignatureStale):
        verify(request, keys, store, now=replayed_at)


# --- refused -------------------------------------------------------------------------------


@pytest.mark.parametrize("removed", ["Signature-Input", "Signature"])
def test_request_without_signature_headers_is_refused(private_key, key_id, keys, nonces, removed):
    request = with_header(signed(private_key, key_id), removed, None)
    with pytest.raises(SignatureMissing, match=removed):
        verify(request, keys, nonces)


@pytest.mark.parametrize(
    ("pattern", "replacement", "reason"),
    [
        (r"^sig1=\(", "sig1=(((", "not a structured-field dictionary"),
        (r"^sig1=", "other=", "no signature labelled 'sig1'"),
        (r'tag="exchange"', 'tag="elsewhere"', "tag must be 'exchange'"),
        (r';tag="exchange"', "", "tag must be 'exchange'"),
        (r'alg="ed25519"', 'alg="rsa-pss-sha512"', "alg must be 'ed25519'"),
        (r';nonce="[^"]+"', "", "'nonce' must be a string"),
        (r';nonce="[^"]+"', ';nonce="short"', "'nonce' must be a string"),
        (r';keyid="[^"]+"', "", "'keyid' must be a string"),
        (r";created=\d+", "", "'created' is required"),
        (r";created=(\d+)", r';created="\1"', "'created' must be an integer"),
        (r";created=\d+", ";created=?1", "'created' must be an integer"),
        (r";created=(\d+)", r";created=\1;expires=1.5", "'expires' must be an integer"),
        (r';tag="exchange"', ';tag="exchange";extra=1', "unknown signature parameters: extra"),
        (r'"@method" "@target-uri"', '"@method" "@method" "@target-uri"', "more than once"),
        (r'^sig1=\("@method"', "sig1=(1", "must be a string"),
        (r"^sig1=\(.*\)", "sig1=:AAAA:", "inner list"),
    ],
)
def test_signature_input_outside_the_profile_is_malformed(  # noqa: PLR0917 (fixtures)
    private_key, key_id, keys, nonces, pattern, replacement, reason
):
    request = edit_signature_input(signed(private_key, key_id), pattern, replacement)
    with pytest.raises(SignatureMalformed, match=re.escape(reason)):
        verify(request, keys, nonces)
    assert keys.lookups == [], "a malformed signature must be refused before any key look-up"


@pytest.mark.parametrize("signature", ["sig1=:AAAA:", 'sig1="text"', "sig1=:::", "sig1"])
def test_signature_value_that_is_not_64_bytes_is_malformed(
    private_key, key_id, keys, nonces, signature
):
    request = with_header(signed(private_key, key_id), "Signature", signature)
    with pytest.raises(SignatureMalformed):
        verify(request, keys, nonces)


def test_signature_labels_must_not_repeat(private_key, key_id, keys, nonces):
    request = signed(private_key, key_id)
    doubled = request.headers["Signature"] + ", " + request.headers["Signature"]
    with pytest.raises(SignatureMalformed, match="repeats"):
        verify(with_header(request, "Signature", doubled), keys, nonces)


def test_signature_not_covering_the_target_uri_is_refused(private_key, key_id, keys, nonces):
    request = edit_signature_input(signed(private_key, key_id), r'"@target-uri" ', "")
    with pytest.raises(SignatureComponents, match="does not cover @target-uri") as refused:
        verify(request, keys, nonces)
    assert refused.value.extra == {"missing": ["@target-uri"]}


def test_body_added_to_a_request_signed_without_one_is_refused(private_key, key_id, keys, nonces):
    request = signed(private_key, key_id, method="POST", body=b"")
    tampered = replace(request, body=BODY, headers={**request.headers, **JSON_HEADERS})
    with pytest.raises(SignatureComponents, match="content-digest, content-type"):
        verify(tampered, keys, nonces)


def test_component_covered_with_parameters_does_not_count_as_covered(
    private_key, key_id, keys, nonces
):
    request = edit_signature_input(
        signed(private_key, key_id), '"content-digest"', '"content-digest";sf'
    )
    with pytest.raises(SignatureComponents, match="content-digest"):
        verify(request, keys, nonces)


@pytest.mark.parametrize("offset", [-301, 301, -86_400])
def test_created_outside_the_window_is_stale(private_key, key_id, keys, nonces, offset):
    request = signed(private_key, key_id, created=NOW_S + offset)
    expected = (
        f"created {NOW_S + offset} is {abs(offset)} s from the hub clock; the window is ±300 s"
    )
    with pytest.raises(SignatureStale, match=re.escape(expected)):
        verify(request, keys, nonces)
    assert keys.lookups == []


def test_window_is_configurable(private_key, key_id, keys, nonces):
    request = signed(private_key, key_id, created=NOW_S - 61)
    with pytest.raises(SignatureStale, match="±60 s"):
        verify(request, keys, nonces, window_s=60)


def test_expired_signature_is_stale(private_key, key_id, keys, nonces):
    request = signed(private_key, key_id, created=NOW_S - 20, expires=NOW_S - 5)
    with pytest.raises(SignatureStale, match=f"expired at {NOW_S - 5}, 5 s ago"):
        verify(request, keys, nonces)


def test_unregistered_key_is_unknown(private_key, keys, nonces):
    request = signed(private_key, "not-a-registered-key")
    with pytest.raises(UnknownKey):
        verify(request, keys, nonces)


def test_revoked_key_is_refused(private_key, key_id, keys, nonces):
    keys.revoke(key_id)
    with pytest.raises(RevokedKey):
        verify(signed(private_key, key_id), keys, nonces)


def test_correct_signature_over_a_different_body_is_a_digest_mismatch(
    private_key, key_id, keys, nonces
):
    request = signed(private_key, key_id, body=b'{"records": [{"licence": "BL-1"}]}')
    swapped = replace(request, body=b'{"records": [{"licence": "BL-2"}]}')
    with pytest.raises(DigestMismatch, match="sha-256 Content-Digest does not match"):
        verify(swapped, keys, nonces)
    assert nonces.seen == {}


def test_recomputed_digest_for_a_swapped_body_breaks_the_signature(
    private_key, key_id, keys, nonces
):
    request = signed(private_key, key_id)
    other_body = b'{"records": []}'
    swapped = with_header(
        replace(request, body=other_body), "Content-Digest", content_digest(other_body)
    )
    with pytest.raises(SignatureInvalid):
        verify(swapped, keys, nonces)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.mark.parametrize(
    ("field", "reason"),
    [
        (f"sha-512=:{b64(hashlib.sha512(BODY).digest())}:", "no sha-256 member"),
        (
            f"sha-256=:{b64(hashlib.sha256(BODY).digest())}:, sha-512=:{b64(b'x' * 64)}:",
            "sha-512 Content-Digest does not match",
        ),
        ("sha-256=(((", "not a structured-field dictionary"),
        ('sha-256="text"', "not a byte sequence"),
    ],
)
def test_content_digest_must_hold_a_matching_sha256(  # noqa: PLR0917 (fixtures)
    private_key, key_id, keys, nonces, field, reason
):
    request = with_header(signed(private_key, key_id), "Content-Digest", field)
    with pytest.raises(DigestMismatch, match=reason):
        verify(request, keys, nonces)


def test_request_body_missing_its_content_digest_is_refused(private_key, key_id, keys, nonces):
    request = with_header(signed(private_key, key_id), "Content-Digest", None)
    with pytest.raises(DigestMismatch, match="no Content-Digest header"):
        verify(request, keys, nonces)


def test_signature_by_another_key_is_invalid(key_id, keys, nonces):
    impostor = generate_private_key()
    with pytest.raises(SignatureInvalid):
        verify(signed(impostor, key_id), keys, nonces)
    assert nonces.seen == {}


@pytest.mark.parametrize(
    "tamper",
    [
        lambda r: replace(r, method="PUT"),
        lambda r: replace(r, target_uri=URI.replace("limit=5", "limit=500")),
        lambda r: replace(r, target_uri=URI.replace("hub.example.gov", "hub.example.org")),
        lambda r: with_header(r, "Content-Type", "text/plain"),
    ],
    ids=["method", "query", "authority", "content-type"],
)
def test_changing_a_covered_component_invalidates_the_signature(
    private_key, key_id, keys, nonces, tamper
):
    with pytest.raises(SignatureInvalid):
        verify(tamper(signed(private_key, key_id)), keys, nonces)


def test_covered_header_absent_from_the_request_is_malformed(private_key, key_id, keys, nonces):
    request = with_header(signed(private_key, key_id), "Content-Type", None)
    with pytest.raises(SignatureMalformed, match="content-type"):
        verify(request, keys, nonces)


def test_replayed_request_is_refused(private_key, key_id, keys, nonces):
    request = signed(private_key, key_id)
    verify(request, keys, nonces)
    with pytest.raises(NonceReplayed, match="already used"):
        verify(request, keys, nonces)


def test_forged_request_cannot_burn_a_legitimate_nonce(private_key, key_id, keys, nonces):
    legitimate = signed(private_key, key_id, nonce="victim-nonce-0000000000")
    forged = signed(generate_private_key(), key_id, nonce="victim-nonce-0000000000")
    with pytest.raises(SignatureInvalid):
        verify(forged, keys, nonces)
    verify(legitimate, keys, nonces)


def test_cheap_checks_come_before_key_lookup(private_key, keys, nonces):
    stale_and_unknown = signed(private_key, "unknown-key", created=NOW_S - 1000)
    with pytest.raises(SignatureStale):
        verify(stale_and_unknown, keys, nonces)


def test_key_is_checked_before_the_digest(private_key, keys, nonces):
    request = signed(private_key, "unknown-key")
    with pytest.raises(UnknownKey):
        verify(replace(request, body=b"other"), keys, nonces)


def test_body_without_content_type_cannot_be_signed(private_key, key_id):
    with pytest.raises(UnsignableRequest, match="Content-Type"):
        sign_request("POST", URI, {}, BODY, private_key, key_id)


def test_every_refusal_is_a_distinct_401():
    refusals = [
        errors.SignatureMissing,
        errors.SignatureMalformed,
        errors.SignatureComponents,
        errors.SignatureStale,
        errors.UnknownKey,
        errors.RevokedKey,
        errors.DigestMismatch,
        errors.SignatureInvalid,
        errors.NonceReplayed,
    ]
    assert all(issubclass(kind, Unauthenticated) and kind.status == 401 for kind in refusals)
    assert [kind.type_slug for kind in refusals] == [
        "signature-missing",
        "signature-malformed",
        "signature-components",
        "signature-stale",
        "key-unknown",
        "key-revoked",
        "digest-mismatch",
        "signature-invalid",
        "nonce-replayed",
    ]
