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


def _resolve(name: str, words: list[str]) -> tuple[click.Command, list[str]]:
    """The click command the words name, and the words after it (its options)."""
    command: click.Command | None = main
    for index, word in enumerate(words):
        if word.startswith("-"):
            assert command is not None
            return command, words[index:]
        assert isinstance(command, click.Group), f"{name}: {word!r} is not a subcommand"
        # get_command, not .commands: `exchange` imports its subcommands when asked.
        command = command.get_command(click.Context(command), word)
        assert command is not None, f"{name}: `exchange ... {word}` does not exist"
    assert command is not None
    return command, []


@pytest.mark.parametrize("name", sorted(_hub_services()))
def test_every_hub_command_exists_in_the_cli(name):
    words = _hub_services()[name]["command"]
    assert words[0] == "exchange"
    command, arguments = _resolve(name, words[1:])
    known = {option for parameter in command.params for option in parameter.opts}
    for word in arguments:
        if word.startswith("-"):
            option = word.split("=", 1)[0]
            assert option in known, f"{name}: {option} is not an option of `{command.name}`"
    # The options and their values parse as the command would parse them.
    command.make_context(command.name, list(arguments), resilient_parsing=False)


@pytest.mark.parametrize("name", sorted(_hub_services()))
def test_every_hub_environment_variable_is_a_known_setting(name):
    environment = _hub_services()[name]["environment"]
    # load_settings refuses unknown EXCHANGE_* names and bad values, naming the key.
    settings = load_settings(environ=dict(environment))
    assert settings.transport == "kafka"
    assert settings.database_url.startswith("postgresql+psycopg://")
