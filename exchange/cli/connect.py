"""`exchange connect`: run a connector worker; `exchange connector ...`: manage connectors
through the API."""

from __future__ import annotations

import json
import signal
import threading
from typing import Any

import click

from exchange.cli.common import settings_or_exit
from exchange.cli.remote import call, client_for, echo_json, hub_options
from exchange.connect.process import WorkerProcess


@click.command(
    "connect",
    help="Run a connector worker: it runs the connectors it leases until SIGTERM. "
    "Several workers share the connectors; a dead worker's are taken over.",
)
@click.option(
    "--url",
    envvar="EXCHANGE_URL",
    default="http://127.0.0.1:8080",
    show_default=True,
    help="Base URL of the hub the connectors call. [env: EXCHANGE_URL]",
)
@click.option("--worker-id", default=None, help="A stable name for this worker (default: random).")
def connect(url: str, worker_id: str | None) -> None:
    """Run one worker until SIGTERM or Ctrl-C, then let its connectors go."""
    settings = settings_or_exit()
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    with WorkerProcess(settings, url, worker_id) as worker:
        click.echo(f"connector worker {worker.worker_id} running against {url}", err=True)
        worker.run(stop)
    click.echo("connector worker stopped", err=True)


@click.group("connector", help="Manage connectors through the hub's API.")
def connector() -> None:
    """Commands that call `/v1/connectors`."""


@connector.command("create", help="Create a connector from a JSON definition file.")
@hub_options
@click.argument("definition", type=click.File("r"))
def create(url: str, key_file: str, definition: Any) -> None:
    """POST the definition (name, kind, class, subject, grant_id, config)."""
    body = json.load(definition)
    echo_json(call(lambda: client_for(url, key_file).post("/v1/connectors", json=body)))


@connector.command("list", help="List the connectors you may manage.")
@hub_options
def list_connectors(url: str, key_file: str) -> None:
    """GET /v1/connectors."""
    echo_json(call(lambda: client_for(url, key_file).get("/v1/connectors")))


def _simple(verb: str, method: str, suffix: str, help_text: str) -> None:
    @connector.command(verb, help=help_text)
    @hub_options
    @click.argument("name")
    def command(url: str, key_file: str, name: str) -> None:
        client = client_for(url, key_file)
        echo_json(call(lambda: client.request(method, f"/v1/connectors/{name}{suffix}")))


_simple("status", "GET", "/status", "A connector's state, last error, counters and lag.")
_simple("pause", "PUT", "/pause", "Pause a connector (it keeps its resources).")
_simple("stop", "PUT", "/stop", "Stop a connector (it frees its resources).")
_simple("resume", "PUT", "/resume", "Resume a paused or stopped connector.")
_simple("restart", "POST", "/restart", "Restart a connector (a FAILED one at once).")
_simple("delete", "DELETE", "", "Delete a connector and its offsets.")
_simple("offsets", "GET", "/offsets", "A connector's offsets.")
_simple("reset-offsets", "DELETE", "/offsets", "Forget a STOPPED connector's offsets.")
_simple("dlq", "GET", "/dlq", "A connector's dead letters.")
