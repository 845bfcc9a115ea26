"""The `@target-uri` of a request as a WSGI server received it, byte for byte.

Signatures cover the URL the client sent, so the hub must rebuild exactly that URL.
Framework conveniences do not: werkzeug's `request.url` is an IRI (`%C3%BC` comes
back as `ü`) and its `request.path` is percent-decoded. This reads the raw request
target that werkzeug's server and gunicorn both keep in `RAW_URI`, and the raw
`QUERY_STRING`. It takes a PEP 3333 environ mapping, so it needs no web framework.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit

# RFC 3986 pchar and "/" minus "%", applied only when a raw target is unavailable.
_PATH_SAFE = "/:@!$&'()*+,;=-._~"


def wsgi_target_uri(environ: Mapping[str, Any], public_url: str = "") -> str:
    """The absolute URL of the request in `environ`.

    `public_url` (scheme, host and optional prefix, e.g. `https://hub.example.gov`),
    when given, replaces the scheme and host the server saw: behind a proxy, the URL
    the client signed is the public one.
    """
    origin = public_url.rstrip("/") if public_url else _origin_of(environ)
    query = str(environ.get("QUERY_STRING", ""))
    return origin + _raw_path_of(environ) + (f"?{query}" if query else "")


def _origin_of(environ: Mapping[str, Any]) -> str:
    scheme = str(environ.get("wsgi.url_scheme", "http"))
    host = environ.get("HTTP_HOST")
    if not host:
        port = str(environ.get("SERVER_PORT", ""))
        default_port = {"http": "80", "https": "443"}.get(scheme)
        host = str(environ.get("SERVER_NAME", "")) + (
            "" if port in ("", default_port) else f":{port}"
        )
    return f"{scheme}://{host}"


def _raw_path_of(environ: Mapping[str, Any]) -> str:
    raw_uri = str(environ.get("RAW_URI") or environ.get("REQUEST_URI") or "")
    if raw_uri:
        # Absolute-form targets (sent to proxies) carry scheme and host: keep the path only.
        path = (
            urlsplit(raw_uri).path
            if "://" in raw_uri.split("?", 1)[0]
            else raw_uri.split("?", 1)[0]
        )
        return path or "/"
    # PEP 3333 strings hold the request's bytes as latin-1; quote those bytes back.
    decoded = str(environ.get("SCRIPT_NAME", "")) + str(environ.get("PATH_INFO", ""))
    return quote(decoded.encode("latin-1"), safe=_PATH_SAFE) or "/"
