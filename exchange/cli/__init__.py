"""The `exchange` command: set up, serve and administer a hub.

Subcommands are imported only when invoked: `exchange serve` forks its gunicorn workers
from this process, and every module imported here would sit in each worker's memory
(Alembic, the HTTP client, the connectors and the audit verifier are not needed to serve).
"""

from __future__ import annotations

import importlib

import click

import exchange

# Subcommand name -> "module:attribute" of its click command.
SUBCOMMANDS = {
    "init": "exchange.cli.setup:init",
    "serve": "exchange.cli.serve:serve",
    "db": "exchange.cli.database:db",
    "demo": "exchange.cli.demo:demo",
    "audit": "exchange.cli.audit:audit",
    "schema": "exchange.cli.schema:schema",
    "grant": "exchange.cli.grant:grant",
    "view": "exchange.cli.view:view",
    "connect": "exchange.cli.connect:connect",
    "connector": "exchange.cli.connect:connector",
    "department": "exchange.cli.identity:department",
    "operator": "exchange.cli.identity:operator",
    "key": "exchange.cli.identity:key",
    "hub": "exchange.cli.hub_key:hub",
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use (click's documented pattern
    for lazily loading subcommands)."""

    def __init__(self, *args: object, lazy_subcommands: dict[str, str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.lazy_subcommands = lazy_subcommands

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every subcommand name, without importing any."""
        return sorted({*super().list_commands(ctx), *self.lazy_subcommands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The subcommand `cmd_name`, imported now if it was not yet."""
        target = self.lazy_subcommands.get(cmd_name)
        if target is None:
            return super().get_command(ctx, cmd_name)
        module_name, attribute = target.split(":")
        command = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{target} is not a click command")
        return command


@click.group(
    cls=LazyGroup,
    lazy_subcommands=SUBCOMMANDS,
    help=(
        "Exchange: the inter-departmental data-sharing hub.\n\n"
        "First time on a machine: `exchange init` (creates ./var with the store, the hub's "
        "signing key and a first administrator key), then `exchange serve`. "
        "Settings come from config/exchange.toml (or $EXCHANGE_CONFIG) and EXCHANGE_* "
        "environment variables; see README.md."
    ),
)
@click.version_option(exchange.__version__, prog_name="exchange")
def main() -> None:
    """Entry point of the `exchange` console script."""
