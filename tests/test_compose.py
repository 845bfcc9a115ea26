"""docker-compose.yml cannot be run here (no Docker engine), so check that it stays in step
with the code: every hub service runs a real `exchange` command and every EXCHANGE_* variable
is a setting the hub knows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from exchange.cli import main
from exchange.config import load_settings

ROOT = Path(__file__).resolve().parents[1]


def _compose() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert isinstance(data, dict)
    return data


def _hub_services() -> dict[str, dict[str, Any]]:
    return {
        name: service
        for name, service in _compose()["services"].items()
        if service.get("image", "").startswith("exchange-hub")
    }


def test_the_production_shape_is_there():
    services = _compose()["services"]
    assert {"kafka", "postgres", "redis"} <= services.keys()
    serving = [
        name for name, s in _hub_services().items() if s.get("command") == ["exchange", "serve"]
    ]
    assert len(serving) >= 2, "two hub instances behind a load balancer"
    for name in serving:  # one rate-limit budget per principal across the instances
        url = _hub_services()[name]["environment"]["EXCHANGE_RATE_LIMIT_STORAGE_URL"]
        assert url.startswith("redis://redis:"), name


@pytest.mark.parametrize("name", sorted(_hub_services()))
def test_every_hub_command_exists_in_the_cli(name):
    command = _hub_services()[name]["command"]
    assert command[0] == "exchange"
    group: click.Command | None = main
    for word in command[1:]:
        if word.startswith("-"):
            break
        assert isinstance(group, click.Group), f"{name}: {word!r} is not a subcommand"
        # get_command, not .commands: `exchange` imports its subcommands when asked.
        group = group.get_command(click.Context(group), word)
        assert group is not None, f"{name}: `exchange ... {word}` does not exist"


@pytest.mark.parametrize("name", sorted(_hub_services()))
def test_every_hub_environment_variable_is_a_known_setting(name):
    environment = _hub_services()[name]["environment"]
    # load_settings refuses unknown EXCHANGE_* names and bad values, naming the key.
    settings = load_settings(environ=dict(environment))
    assert settings.transport == "kafka"
    assert settings.database_url.startswith("postgresql+psycopg://")
