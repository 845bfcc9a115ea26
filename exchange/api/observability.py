"""Request ids, JSON logs and Prometheus metrics for every request."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from typing import Any

from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)

REQUEST_ID_HEADER = "X-Request-Id"
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


class HttpMetrics:
    """The Prometheus collectors of one app; each app has its own registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
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

    @app.get("/metrics")
    def metrics_endpoint() -> Response:
        """Prometheus metrics of this hub process."""
        return Response(generate_latest(metrics.registry), mimetype=CONTENT_TYPE_LATEST)
