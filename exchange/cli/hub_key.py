"""`exchange hub rotate-key`: the hub's own signing key."""

from __future__ import annotations

import click

from exchange.cli.common import settings_or_exit
from exchange.signing.rotation import rotate_hub_key
from exchange.store.clock import utc_now
from exchange.store.database import Database
from exchange.store.repositories import HubKeyRepository


@click.group(help="The hub's own signing key.")
def hub() -> None:
    """Commands on the hub's own key."""


@hub.command(
    "rotate-key",
    help=(
        "Replace the hub's signing key by a new one. The old key is retired but stays "
        "published in GET /v1/hub/keys, so what it signed still verifies. Restart every hub "
        "instance and connector worker afterwards: each signs with the key it loaded at start."
    ),
)
def rotate_key() -> None:
    """Rotate the key in the deployment's hub key file."""
    settings = settings_or_exit()
    if not settings.hub_key_file.is_file():
        raise click.ClickException(f"no hub key at {settings.hub_key_file}: run `exchange init`")
    database = Database(settings.effective_database_url)
    try:
        rotation = rotate_hub_key(settings.hub_key_file, HubKeyRepository(database), utc_now())
    finally:
        database.close()
    click.echo(f"retired hub key {rotation.retired_key_id} (still published for verification)")
    click.echo(f"current hub key {rotation.current_key_id}: {settings.hub_key_file}")
    click.echo("restart every hub instance and connector worker to sign with it")
