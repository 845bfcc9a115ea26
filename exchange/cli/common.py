"""Helpers shared by the CLI commands."""

from __future__ import annotations

import click

from exchange.config import Settings, load_settings
from exchange.errors import ConfigurationError


def settings_or_exit() -> Settings:
    """Load the settings, turning a configuration error into a clear CLI error."""
    try:
        return load_settings()
    except ConfigurationError as error:
        raise click.ClickException(f"configuration: {error.detail}") from error
