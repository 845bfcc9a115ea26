"""Connector tests run an embedded hub whose connector root lies in tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest

from exchange.config import Settings, load_settings


@pytest.fixture
def connector_root(tmp_path: Path) -> Path:
    root = tmp_path / "connect"
    root.mkdir()
    return root


@pytest.fixture
def embedded_settings(tmp_path: Path, connector_root: Path) -> Settings:
    """The root conftest's embedded settings, with the connector root in tmp_path."""
    return load_settings(
        environ={},
        overrides={"data_dir": str(tmp_path / "var"), "connector_root": str(connector_root)},
    )
