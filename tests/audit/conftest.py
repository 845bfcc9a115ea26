"""Fixtures of the audit tests: a migrated store (SQLite and PostgreSQL), an embedded
transport, and a log builder with a published hub key."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from exchange.store.database import Database
from exchange.transport.embedded import EmbeddedTransport
from tests.audit.support import LogBuilder, hub_signer_in


@pytest.fixture
def transport(tmp_path: Path) -> Iterator[EmbeddedTransport]:
    opened = EmbeddedTransport(tmp_path / "transport.db")
    yield opened
    opened.close()


@pytest.fixture
def log(db: Database, transport: EmbeddedTransport) -> LogBuilder:
    return LogBuilder(db, transport, hub_signer_in(db))
