"""Characters no identifier, filter or document of the API may carry, refused at the edge.

NUL is the one such character: PostgreSQL text cannot hold it, so a path, a query or a JSON
string carrying one could only fail deep inside the hub (a 500) instead of being refused
cleanly as a bad request.
"""

from __future__ import annotations

import re

from flask import Flask, request

from exchange.errors import BadRequest

NUL = "\x00"
# A JSON `\u0000` escape, not itself escaped (preceded by an even number of backslashes).
_ESCAPED_NUL = re.compile(r"(?<!\\)(?:\\\\)*\\u0000")


class NulCharacter(BadRequest):
    """The request carries a NUL character, which the hub never accepts."""

    type_slug = "nul-character"
    title = "NUL character refused"


def refuse_nul_in_json(text: str) -> None:
    """Refuse a JSON text with a `\\u0000` escape in any string (raw NULs are not JSON)."""
    # The substring test (C speed) clears almost every body before the slower regex runs.
    if "\\u0000" in text and _ESCAPED_NUL.search(text):
        raise NulCharacter("the JSON body contains a NUL character (\\u0000)")


def install_request_hygiene(app: Flask) -> None:
    """Refuse a request whose path or query string holds a NUL, before anything reads them."""

    @app.before_request
    def _refuse_nul() -> None:
        if NUL in request.path or any(
            NUL in key or NUL in value for key, value in request.args.items(multi=True)
        ):
            raise NulCharacter("the request's path or query contains a NUL character")
