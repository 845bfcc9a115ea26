"""`exchange demo seed` from the command line, against a hub served over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask

from exchange.cli import main
from exchange.config import Settings, load_settings
from exchange.identity.keys import generate_private_key, write_private_key
from tests.support.live_server import serving


@pytest.fixture
def embedded_settings(tmp_path: Path) -> Settings:
    data_dir = tmp_path / "var"
    return load_settings(
        environ={}, overrides={"data_dir": str(data_dir), "connector_root": str(data_dir)}
    )


@pytest.fixture
def live_url(app: Flask) -> Iterator[str]:
    with serving(app) as url:
        yield url


def test_demo_seed_prints_what_it_created_then_that_nothing_was_new(
    live_url: str, embedded_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EXCHANGE_DATA_DIR", str(embedded_settings.data_dir))
    monkeypatch.setenv("EXCHANGE_CONNECTOR_ROOT", str(embedded_settings.connector_root))
    runner = CliRunner()
    first = runner.invoke(main, ["demo", "seed", "--url", live_url])
    assert first.exit_code == 0, first.output
    assert "demo seeded: department market-regulation" in first.output
    assert f"key of inspector: {embedded_settings.keys_dir / 'inspector.pem'}" in first.output
    assert "business-licences-0001.csv into the licence inbox" in first.output
    again = runner.invoke(main, ["demo", "seed", "--url", live_url])
    assert again.exit_code == 0, again.output
    assert "demo already seeded: nothing new created" in again.output


def test_demo_seed_names_the_hub_it_cannot_reach(
    embedded_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EXCHANGE_DATA_DIR", str(embedded_settings.data_dir))
    embedded_settings.keys_dir.mkdir(parents=True)
    write_private_key(embedded_settings.keys_dir / "admin.pem", generate_private_key())
    result = CliRunner().invoke(main, ["demo", "seed", "--url", "http://127.0.0.1:9"])
    assert result.exit_code == 1
    assert "http://127.0.0.1:9" in result.output
