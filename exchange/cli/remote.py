"""Shared plumbing of the CLI commands that call a running hub with a signed request."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

import click

from exchange.client import ExchangeAPIError, ExchangeClient

F = TypeVar("F", bound=Callable[..., Any])


def hub_options(command: F) -> F:
    """Add `--url` and `--key` (also `EXCHANGE_URL`, `EXCHANGE_KEY_FILE`) to a command."""
    command = click.option(
        "--key",
        "key_file",
        envvar="EXCHANGE_KEY_FILE",
        required=True,
        type=click.Path(exists=True, dir_okay=False),
        help="Private key (PKCS#8 PEM) to sign requests with. [env: EXCHANGE_KEY_FILE]",
    )(command)
    command = click.option(
        "--url",
        envvar="EXCHANGE_URL",
        default="http://127.0.0.1:8080",
        show_default=True,
        help="Base URL of the hub. [env: EXCHANGE_URL]",
    )(command)
    return command


def client_for(url: str, key_file: str) -> ExchangeClient:
    """A signing client for the hub at `url`."""
    return ExchangeClient(url, key_file=key_file)


def call(action: Callable[[], Any]) -> Any:
    """Run a client call, turning a problem answer into a CLI error that shows its detail."""
    try:
        return action()
    except ExchangeAPIError as error:
        raise click.ClickException(
            f"{error.status} {error.problem.get('title', '')}: {error.problem.get('detail', '')}"
        ) from error


def echo_json(value: Any) -> None:
    """Print a JSON value readably."""
    click.echo(json.dumps(value, indent=2, ensure_ascii=False))
