"""`exchange db`: the store's schema, managed by Alembic migrations."""

from __future__ import annotations

import click

from exchange.cli.common import settings_or_exit
from exchange.store.migrate import current_revision, upgrade


@click.group(help="Manage the store's schema (SQLite or PostgreSQL, by EXCHANGE_DATABASE_URL).")
def db() -> None:
    """The `db` command group."""


@db.command("upgrade", help="Apply every pending migration to the configured store.")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
def db_upgrade(revision: str) -> None:
    """Migrate the store to `revision`."""
    settings = settings_or_exit()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.effective_database_url, revision)
    click.echo(f"store at revision {current_revision(settings.effective_database_url)}")
