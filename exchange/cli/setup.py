"""`exchange init`: first-time set-up of a deployment."""

from __future__ import annotations

import click

from exchange.cli.common import settings_or_exit
from exchange.deployment import initialise


@click.command(
    help=(
        "Create the store's schema, the hub's signing key and a first administrator "
        "with its key pair (private key written with mode 0600). Safe to run again."
    )
)
def init() -> None:
    """Initialise the deployment named by the settings."""
    settings = settings_or_exit()
    report = initialise(settings)
    state = "created" if report.hub_key_created else "kept"
    click.echo(f"hub signing key {state}: {settings.hub_key_file} (key id {report.hub_key_id})")
    if report.admin_key_file is not None:
        click.echo(
            f"first administrator 'admin' created; private key: {report.admin_key_file.resolve()}"
        )
        click.echo(f"  key id {report.admin_key_id}; keep this file secret (mode 0600)")
    else:
        click.echo("administrators already exist; no new key written")
    click.echo(f"store: {settings.effective_database_url}")
