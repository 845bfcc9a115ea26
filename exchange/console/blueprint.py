"""`/console`: the console's page and its static assets (no build step, no server state).

Only the page and its assets are public; every API call the page makes is signed in the
browser with the key the user picks, exactly as any other client signs (docs/console.md).
"""

from __future__ import annotations

from flask import Blueprint, Response, render_template

import exchange

CONSOLE_PREFIX = "/console"

blueprint = Blueprint(
    "console",
    __name__,
    url_prefix=CONSOLE_PREFIX,
    static_folder="static",
    static_url_path="/static",
    template_folder="templates",
)

# The page loads nothing from elsewhere and runs no inline script, so a strict policy
# costs nothing and keeps an injected string from ever reaching the signing key.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
)


def is_console_asset(method: str, path: str) -> bool:
    """Whether the request is a GET of the console page or one of its static files."""
    return method == "GET" and (path == CONSOLE_PREFIX or path.startswith(CONSOLE_PREFIX + "/"))


@blueprint.get("")
@blueprint.get("/")
def console_page() -> str:
    """The console's single page; it draws every view itself from signed API calls."""
    return render_template("console/index.html", version=exchange.__version__)


@blueprint.after_request
def _protect(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
