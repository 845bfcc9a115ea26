"""Shared fixtures: real PostgreSQL and Kafka (tests/fixtures), and an embedded hub."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from exchange.api import create_app
from exchange.config import Settings, load_settings
from exchange.deployment import initialise
from exchange.hub import Hub, open_hub
from exchange.identity.keys import load_private_key
from tests.support.signed_client import SignedClient

pytest_plugins = ["tests.fixtures.database", "tests.fixtures.kafka", "tests.fixtures.redis"]


@pytest.fixture
def embedded_settings(tmp_path: Path) -> Settings:
    """Settings of a fresh embedded deployment (SQLite + embedded transport) in tmp_path."""
    return load_settings(environ={}, overrides={"data_dir": str(tmp_path / "var")})


@pytest.fixture
def hub(embedded_settings: Settings) -> Iterator[Hub]:
    """An initialised embedded hub."""
    initialise(embedded_settings)
    opened = open_hub(embedded_settings)
    yield opened
    opened.close()


@pytest.fixture
def app(hub: Hub) -> Flask:
    return create_app(hub)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def admin(client: FlaskClient, embedded_settings: Settings, hub: Hub) -> SignedClient:
    """A test client signing as the first administrator created by `exchange init`."""
    private_key = load_private_key(embedded_settings.keys_dir / "admin.pem")
    return SignedClient(client, private_key, "admin")
