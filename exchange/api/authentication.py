"""Every request outside the public few must carry a valid RFC 9421 signature; this hook
checks it and names the principal for the rest of the request."""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from flask import Flask, g, request

from exchange.api.context import current_hub
from exchange.api.observability import METRICS_PATH, metrics_are_public
from exchange.console.blueprint import is_console_asset
from exchange.identity.errors import RevokedKey, UnknownKey
from exchange.identity.keys import public_key_from_raw_b64
from exchange.identity.signatures import HttpRequestParts, verify_request
from exchange.identity.target_uri import wsgi_target_uri
from exchange.policy.principals import Principal, Role
from exchange.store.repositories import IdentityRepository, NonceRepository, SigningKey

PUBLIC_ENDPOINTS = frozenset(
    {
        ("GET", "/v1/health"),
        ("GET", "/v1/ready"),
        ("GET", "/openapi.json"),
        ("GET", "/docs"),
        ("GET", "/v1/hub/keys"),
    }
)
_KEYID = re.compile(r'keyid="([^"]{1,128})"')


class StoreKeyResolver:
    """Resolves key ids against the store on every request (one statement: the key and its
    operator's role), so a revocation made through any hub instance takes effect at once on
    all of them."""

    def __init__(self, identities: IdentityRepository) -> None:
        self._identities = identities
        self.resolved: SigningKey | None = None

    def resolve(self, key_id: str) -> Ed25519PublicKey:
        """The live public key with this id; unknown and revoked keys are refused."""
        found = self._identities.find_signing_key(key_id)
        if found is None:
            raise UnknownKey(f"no key with id {key_id!r} is registered")
        if found.key.revoked_at is not None:
            revoked_at = found.key.revoked_at.isoformat()
            raise RevokedKey(f"key {key_id!r} was revoked at {revoked_at}")
        self.resolved = found
        return _public_key(found.key.public_key)


@functools.lru_cache(maxsize=1024)
def _public_key(raw_b64: str) -> Ed25519PublicKey:
    # Keyed by the key material itself, so a cached key is always the right one; whether
    # it is still live is read from the store on every request.
    return public_key_from_raw_b64(raw_b64)


def target_uri(public_url: str) -> str:
    """The `@target-uri` the caller signed, rebuilt from the raw request line (werkzeug's
    `request.url` decodes percent-escapes) or from the public base URL behind a proxy."""
    return wsgi_target_uri(request.environ, public_url)


def _role_of(signing_key: SigningKey) -> Role:
    key = signing_key.key
    if key.principal_kind == "department":
        return "department"
    if signing_key.operator_role not in ("admin", "auditor"):
        raise UnknownKey(f"key {key.key_id!r} belongs to no known operator")
    return "admin" if signing_key.operator_role == "admin" else "auditor"


def authenticate_current_request() -> Principal:
    """Verify the request's signature and return its principal, or raise a 401 error."""
    hub = current_hub()
    resolver = StoreKeyResolver(IdentityRepository(hub.database))
    parts = HttpRequestParts(
        method=request.method,
        target_uri=target_uri(hub.settings.public_url),
        headers=dict(request.headers),
        body=request.get_data(cache=True),
    )
    # The key lookup and the nonce claim share one pooled connection (two statements).
    with hub.database.autocommit():
        verified = verify_request(
            parts,
            resolver,
            NonceRepository(hub.database),
            now=datetime.now(UTC),
            window_s=hub.settings.signature_window_s,
        )
    signing_key = resolver.resolved
    assert signing_key is not None  # verify_request resolved the key before it could succeed
    return Principal(
        kind="department" if signing_key.key.principal_kind == "department" else "operator",
        name=signing_key.key.principal_name,
        role=_role_of(signing_key),
        key_id=verified.key_id,
    )


def is_public(method: str, path: str) -> bool:
    """Whether a request needs no signature: the probes, the public descriptions and keys,
    GETs of the console's page and static files (its API calls are signed), and `/metrics`
    where the deployment made it public."""
    if (method, path) in PUBLIC_ENDPOINTS or is_console_asset(method, path):
        return True
    return (method, path) == ("GET", METRICS_PATH) and metrics_are_public()


def current_principal() -> Principal:
    """The authenticated principal of this request."""
    principal: Principal = g.principal
    return principal


def install_authentication(app: Flask) -> None:
    """Refuse unsigned requests before any view runs (deny by default)."""

    @app.before_request
    def _authenticate() -> None:
        if is_public(request.method, request.path) or request.url_rule is None:
            return
        claimed = _KEYID.search(request.headers.get("Signature-Input", ""))
        g.claimed_key_id = claimed.group(1) if claimed else None
        principal = authenticate_current_request()
        g.principal = principal
        g.principal_kind = principal.role
        g.principal_name = principal.name
        g.key_id = principal.key_id
