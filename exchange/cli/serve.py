"""`exchange serve`: the API under gunicorn, with graceful shutdown."""

from __future__ import annotations

import gc
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import click
from flask import Flask
from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger as GunicornLogger

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

# prometheus-client reads it when first imported and then keeps every worker's counters in
# files there, so that `/metrics` adds up all workers whichever one answers the scrape.
MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"


def _close_worker_hub(server: Any, worker: Any) -> None:
    """gunicorn `worker_exit` hook: flush the producer and close connections."""
    while _worker_hubs:
        _worker_hubs.pop().close()


def _forget_dead_worker(server: Any, worker: Any) -> None:
    """gunicorn `child_exit` hook (in the master), as prometheus-client documents it."""
    from prometheus_client import multiprocess  # noqa: PLC0415 (see `serve`)

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]


class HubOnlyAccessLogger(GunicornLogger):  # type: ignore[misc]
    """gunicorn's logger without its access lines: the hub logs every request itself
    (`exchange.access`, with the request id). A `logconfig_dict` would otherwise turn
    gunicorn's own access line on as well."""

    def access(self, resp: Any, req: Any, environ: Any, request_time: Any) -> None:
        """Log nothing."""


class HubServer(BaseApplication):  # type: ignore[misc]
    """gunicorn running the hub: SIGTERM lets in-flight requests finish, then closes the hub."""

    def __init__(self, settings: Settings, metrics_dir: Path | None = None) -> None:
        self.settings = settings
        self.metrics_dir = metrics_dir
        super().__init__()

    def load_config(self) -> None:
        """Translate our settings into gunicorn's."""
        s = self.settings
        options: dict[str, Any] = {
            "bind": f"{s.host}:{s.port}",
            "workers": s.workers,
            "threads": s.threads,
            "worker_class": "gthread",
            "graceful_timeout": max(1, round(s.shutdown_timeout_s)),
            "worker_exit": _close_worker_hub,
            "accesslog": None,
            "loglevel": s.log_level.lower(),
        }
        if s.log_format == "json":
            from exchange.api.observability import gunicorn_log_config  # noqa: PLC0415

            options["logconfig_dict"] = gunicorn_log_config(s.log_level)
            options["logger_class"] = HubOnlyAccessLogger
        if self.metrics_dir is not None:
            options["child_exit"] = _forget_dead_worker
        for key, value in options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        """Build the app in each worker, so each has its own connections."""
        from exchange.api import create_app  # noqa: PLC0415 (see `serve`)

        hub = open_hub(self.settings)
        _worker_hubs.append(hub)
        app = create_app(hub, metrics_dir=self.metrics_dir)
        _tune_worker_for_requests()
        return app


def _tune_worker_for_requests() -> None:
    """Garbage collection suited to a request-serving worker."""
    # What the worker has built so far lives as long as it does: keep it out of every
    # collection (the long-lived heap is then never walked again).
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def _multiprocess_metrics_dir(settings: Settings) -> Path | None:
    """With several workers, a fresh directory for their metric files, named to
    prometheus-client before anything imports it; with one worker, none (in memory)."""
    if settings.workers < 2:
        return None
    directory = Path(tempfile.mkdtemp(prefix="exchange-metrics-"))
    os.environ[MULTIPROCESS_ENV] = str(directory)
    return directory


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
    metrics_dir = _multiprocess_metrics_dir(settings)
    # Imported only now: prometheus-client must see the metrics directory first. The app's
    # modules load here, in the master, so that the forked workers share them.
    from exchange.api.observability import configure_logging  # noqa: PLC0415

    configure_logging(settings.log_level, settings.log_format)
    click.echo(f"serving the hub on http://{settings.host}:{settings.port}", err=True)
    try:
        HubServer(settings, metrics_dir).run()
    finally:
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)
