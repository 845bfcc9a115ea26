"""The HTTP layer: an app factory and one blueprint per area. It only translates HTTP to
calls into the domain and back."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from exchange.api import (
    access_report,
    audit,
    connectors,
    departments,
    grants,
    health,
    hub_keys,
    openapi,
    operators,
    records,
    subjects,
    subscriptions,
    whoami,
)
from exchange.api.audit_trail import install_audit_trail
from exchange.api.authentication import install_authentication
from exchange.api.context import EXTENSION_KEY
from exchange.api.observability import METRICS_EXTENSION, HttpMetrics, install_observability
from exchange.api.problems import register_problem_handlers
from exchange.api.rate_limits import install_rate_limits
from exchange.api.request_hygiene import install_request_hygiene
from exchange.console.blueprint import blueprint as console_blueprint
from exchange.hub import Hub

BLUEPRINTS = (
    health.blueprint,
    openapi.blueprint,
    hub_keys.blueprint,
    departments.blueprint,
    operators.blueprint,
    audit.blueprint,
    subjects.blueprint,
    grants.blueprint,
    records.blueprint,
    subscriptions.blueprint,
    access_report.blueprint,
    whoami.blueprint,
    connectors.blueprint,
    console_blueprint,
)


def create_app(hub: Hub, metrics_dir: Path | None = None) -> Flask:
    """Build the WSGI application around an opened `Hub` (nothing happens at import time).

    `metrics_dir` is prometheus-client's multiprocess directory when several worker
    processes serve the hub (see `exchange serve`)."""
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = hub.settings.max_request_bytes
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions[EXTENSION_KEY] = hub
    metrics = HttpMetrics(metrics_dir)
    app.extensions[METRICS_EXTENSION] = metrics
    # Order matters: request ids first, then authentication; after_request hooks run in
    # reverse, so the audit entry is written before the access log line.
    install_observability(app, metrics)
    install_request_hygiene(app)
    install_authentication(app)
    install_rate_limits(app, hub.settings)
    install_audit_trail(app)
    register_problem_handlers(app)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    return app
