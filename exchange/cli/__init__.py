"""The `exchange` command: set up, serve and administer a hub."""

from __future__ import annotations

import click

import exchange
from exchange.cli.audit import audit
from exchange.cli.connect import connect, connector
from exchange.cli.database import db
from exchange.cli.demo import demo
from exchange.cli.grant import grant
from exchange.cli.identity import department, key, operator
from exchange.cli.schema import schema
from exchange.cli.serve import serve
from exchange.cli.setup import init
from exchange.cli.view import view


@click.group(
    help=(
        "Exchange: the inter-departmental data-sharing hub.\n\n"
        "First time on a machine: `exchange init` (creates ./var with the store, the hub's "
        "signing key and a first administrator key), then `exchange serve`. "
        "Settings come from config/exchange.toml (or $EXCHANGE_CONFIG) and EXCHANGE_* "
        "environment variables; see README.md."
    )
)
@click.version_option(exchange.__version__, prog_name="exchange")
def main() -> None:
    """Entry point of the `exchange` console script."""


main.add_command(init)
main.add_command(serve)
main.add_command(db)
main.add_command(demo)
main.add_command(audit)
main.add_command(schema)
main.add_command(grant)
main.add_command(view)
for command in (connect, connector, department, operator, key):
    main.add_command(command)
