"""Per-principal rate limits (flask-limiter): a principal over its limit is answered 429
with `Retry-After`, so that one department flooding the hub cannot starve the others.

The counters live in the store named by `rate_limit_storage_url` (any `limits` storage
URI): `memory://` for one process, `redis://host:6379` shared by every hub instance.
While a shared store is unreachable each process counts in its own memory (the limit then
holds per process, not per hub), so a Redis outage degrades the limits, not the service.
Unauthenticated requests are refused by the signature check before they are counted; the
public probes are not limited at all.
"""

from __future__ import annotations

from flask import Flask, g, request
from flask_limiter import Limiter

from exchange.api.authentication import PUBLIC_ENDPOINTS
from exchange.config import Settings

EXTENSION_KEY = "exchange.rate_limiter"


def principal_key() -> str:
    """Whose budget a request spends: its authenticated principal."""
    return f"{g.principal_kind}:{g.principal_name}"


def _exempt() -> bool:
    # Probes and refused-unsigned requests carry no principal: nothing to count against.
    return (request.method, request.path) in PUBLIC_ENDPOINTS or not hasattr(g, "principal_name")


def install_rate_limits(app: Flask, settings: Settings) -> Limiter | None:
    """Limit every signed request per principal; install after authentication, whose hook
    must run first to name the principal. No limit configured means none installed."""
    if not settings.rate_limit_per_principal:
        return None
    limiter = Limiter(
        principal_key,
        app=app,
        # Application limits are one budget across every route (default limits would give
        # each route its own).
        application_limits=[settings.rate_limit_per_principal],
        application_limits_exempt_when=_exempt,
        storage_uri=settings.rate_limit_storage_url,
        headers_enabled=True,
        strategy="moving-window",
        # A shared store that goes away must not take the hub down with it: each process
        # counts on its own until the store answers again (flask-limiter checks it back).
        in_memory_fallback_enabled=True,
    )
    app.extensions[EXTENSION_KEY] = limiter
    return limiter
