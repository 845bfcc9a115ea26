"""Request ids, JSON logs and Prometheus metrics for every request.

`/metrics` needs a request signed by an operator (admin or auditor) unless the setting
`metrics_public` opens it to a scraper on a private network (docs/adr/0009). Under several
gunicorn workers the counters live in prometheus-client's multiprocess files, so that one
scrape sees the whole server, whichever worker answers it.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from flask import Flask, Response, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

from exchange.api.context import current_hub
from exchange.policy.principals import Principal, require_role

REQUEST_ID_HEADER = "X-Request-Id"
METRICS_PATH = "/metrics"
METRICS_EXTENSION = "exchange.metrics"
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class JsonLogFormatter(logging.Formatter):
    """One JSON object a line, with the request id when the record carries one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "at": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in ("request_id", "method", "path", "status", "duration_ms", "principal"):
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str, log_format: str) -> None:
    """Send the hub's logs to stderr, as JSON lines unless `log_format` is `text`."""
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonLogFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


def gunicorn_log_config(level: str) -> dict[str, Any]:
    """A `logging.config.dictConfig` for gunicorn's `logconfig_dict`: its own lines
    (workers booting, timeouts, shutdown) as JSON lines on stderr like the hub's."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonLogFormatter}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"level": level.upper(), "handlers": ["stderr"]},
        # gunicorn's messages go through the root's handler (and no plain-text one).
        "loggers": {
            "gunicorn.error": {"level": level.upper(), "handlers": [], "propagate": True},
        },
    }


class HttpMetrics:
    """The Prometheus collectors of one app; each app has its own registry.

    With `multiprocess_dir` (several gunicorn workers, PROMETHEUS_MULTIPROC_DIR set before
    prometheus-client was imported) the values are kept in that directory's files and
    `exposition` reads every worker's."""

    def __init__(self, multiprocess_dir: Path | None = None) -> None:
        self.registry = CollectorRegistry()
        self.exposition = self.registry
        if multiprocess_dir is not None:
            self.exposition = CollectorRegistry()
            MultiProcessCollector(  # type: ignore[no-untyped-call]
                self.exposition, path=str(multiprocess_dir)
            )
        self.requests = Counter(
            "exchange_http_requests",
            "HTTP requests answered, by route, method, status and principal kind.",
            ["route", "method", "status", "principal_kind"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "exchange_http_request_duration_seconds",
            "Time to answer an HTTP request, by route.",
            ["route"],
            registry=self.registry,
        )
        self.produced = Counter(
            "exchange_transport_produced_messages",
            "Messages acknowledged by the transport, by topic kind.",
            ["topic_kind"],
            registry=self.registry,
        )
        self.consumed = Counter(
            "exchange_transport_consumed_messages",
            "Messages read from the transport, by topic kind.",
            ["topic_kind"],
            registry=self.registry,
        )


def install_observability(app: Flask, metrics: HttpMetrics) -> None:
    """Give every request an id, log it as one JSON line, and count it."""
    access_log = logging.getLogger("exchange.access")

    @app.before_request
    def _start() -> None:
        offered = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = offered if _SAFE_REQUEST_ID.match(offered) else str(uuid.uuid4())
        g.started = time.perf_counter()

    @app.after_request
    def _finish(response: Response) -> Response:
        request_id = getattr(g, "request_id", None) or str(uuid.uuid4())
        response.headers[REQUEST_ID_HEADER] = request_id
        elapsed = time.perf_counter() - getattr(g, "started", time.perf_counter())
        route = request.url_rule.rule if request.url_rule else "unmatched"
        principal_kind = getattr(g, "principal_kind", "anonymous")
        metrics.requests.labels(
            route, request.method, str(response.status_code), principal_kind
        ).inc()
        metrics.latency.labels(route).observe(elapsed)
        access_log.info(
            "request answered",
            extra={
                "request_id": request_id,
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round(elapsed * 1000, 2),
                "principal": getattr(g, "principal_name", None),
            },
        )
        return response

    @app.get(METRICS_PATH)
    def metrics_endpoint() -> Response:
        """Prometheus metrics of this hub server, for operators (or anyone, when public)."""
        if not metrics_are_public():
            principal: Principal = g.principal
            require_role(principal, "admin", "auditor")
        return Response(generate_latest(metrics.exposition), mimetype=CONTENT_TYPE_LATEST)


def metrics_are_public() -> bool:
    """Whether this hub answers `/metrics` without a signature (setting `metrics_public`)."""
    return current_hub().settings.metrics_public


def count_produced(topic_kind: str, messages: int) -> None:
    """Count messages the transport acknowledged for this app (`records`, `audit`)."""
    metrics: HttpMetrics = current_app.extensions[METRICS_EXTENSION]
    metrics.produced.labels(topic_kind).inc(messages)


def count_consumed(topic_kind: str, messages: int) -> None:
    """Count messages read from the transport for this app (`records`)."""
    metrics: HttpMetrics = current_app.extensions[METRICS_EXTENSION]
    metrics.consumed.labels(topic_kind).inc(messages)
