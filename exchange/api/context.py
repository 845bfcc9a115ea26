"""Access to the hub's services from inside a request."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from flask import current_app

if TYPE_CHECKING:
    from exchange.hub import Hub

EXTENSION_KEY = "exchange.hub"


def current_hub() -> Hub:
    """The `Hub` of the application serving this request."""
    return cast("Hub", current_app.extensions[EXTENSION_KEY])
