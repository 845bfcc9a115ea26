"""`exchange view build | rebuild`: the latest-record view that lookups read, fed from the
subject topics (see `exchange.records.view_builder`)."""

from __future__ import annotations

import signal

import click

from exchange.cli.common import settings_or_exit
from exchange.records.view_builder import ViewBuilder, rebuild_view
from exchange.store.database import Database
from exchange.transport import open_transport


@click.group(help="The latest-record view served by lookups.")
def view() -> None:
    """Commands on the latest-record view."""


@view.command("build", help="Keep the view up to date from the subject topics until SIGTERM.")
def build() -> None:
    """Run a view builder in the foreground (the production worker; with the embedded
    transport every hub process already runs one)."""
    settings = settings_or_exit()
    database = Database(settings.effective_database_url)
    transport = open_transport(
        settings.transport,
        embedded_path=settings.embedded_transport_path,
        kafka_bootstrap_servers=settings.kafka_bootstrap_servers,
    )
    builder = ViewBuilder(transport, database)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: builder.stop())
    click.echo("view builder running; SIGTERM or Ctrl-C stops it", err=True)
    try:
        builder.run()
    finally:
        transport.close()
        database.close()


@view.command("rebuild", help="Empty the view and read every subject topic again from the start.")
def rebuild() -> None:
    """Recreate the view from the topics (they are the truth; the view is derived)."""
    settings = settings_or_exit()
    database = Database(settings.effective_database_url)
    transport = open_transport(
        settings.transport,
        embedded_path=settings.embedded_transport_path,
        kafka_bootstrap_servers=settings.kafka_bootstrap_servers,
    )
    try:
        read = rebuild_view(transport, database)
    finally:
        transport.close()
        database.close()
    click.echo(f"view rebuilt from {read} records", err=True)
