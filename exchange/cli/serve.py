"""`exchange serve`: the API under gunicorn, with graceful shutdown."""

from __future__ import annotations

import gc
from typing import Any

import click
from flask import Flask
from gunicorn.app.base import BaseApplication

from exchange.api import create_app
from exchange.api.observability import configure_logging
from exchange.cli.common import settings_or_exit
from exchange.config import Settings
from exchange.hub import Hub, open_hub

# The hub of this worker process, closed by gunicorn's `worker_exit` hook.
_worker_hubs: list[Hub] = []

# A large publish allocates tens of thousands of short-lived objects, almost all freed by
# reference counting; with the default first-generation threshold (700) the cycle collector
# runs dozens of times per request and keeps promoting the request's live objects until a
# full collection walks the whole heap (about 10% of a 1,000-record publish). Cycles are
# rare here, so collecting after 20,000 net allocations costs a few MiB at most.
GC_THRESHOLDS = (20_000, 20, 20)


def _close_worker_hub(server: Any, worker: Any) -> None:
    """gunicorn `worker_exit` hook: flush the producer and close connections."""
    while _worker_hubs:
        _worker_hubs.pop().close()


class HubServer(BaseApplication):  # type: ignore[misc]
    """gunicorn running the hub: SIGTERM lets in-flight requests finish, then closes the hub."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        super().__init__()

    def load_config(self) -> None:
        """Translate our settings into gunicorn's."""
        s = self.settings
        for key, value in {
            "bind": f"{s.host}:{s.port}",
            "workers": s.workers,
            "threads": s.threads,
            "worker_class": "gthread",
            "graceful_timeout": max(1, round(s.shutdown_timeout_s)),
            "worker_exit": _close_worker_hub,
            "accesslog": None,
        }.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        """Build the app in each worker, so each has its own connections."""
        hub = open_hub(self.settings)
        _worker_hubs.append(hub)
        app = create_app(hub)
        _tune_worker_for_requests()
        return app


def _tune_worker_for_requests() -> None:
    """Garbage collection suited to a request-serving worker."""
    # What the worker has built so far lives as long as it does: keep it out of every
    # collection (the long-lived heap is then never walked again).
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


@click.command(help="Serve the hub's API (gunicorn, gthread workers) until SIGTERM or Ctrl-C.")
@click.option("--host", default=None, help="Address to bind (default from settings: 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default from settings: 8080).")
def serve(host: str | None, port: int | None) -> None:
    """Run the API server."""
    settings = settings_or_exit()
    if host or port:
        settings = Settings(
            **{**settings.__dict__, "host": host or settings.host, "port": port or settings.port}
        )
    configure_logging(settings.log_level, settings.log_format)
    click.echo(f"serving the hub on http://{settings.host}:{settings.port}", err=True)
    HubServer(settings).run()
