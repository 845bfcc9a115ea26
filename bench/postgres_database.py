"""A PostgreSQL database of the run's own, created on the shared cluster and dropped after,
so a run never writes into a database someone else uses."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.engine import make_url

from exchange.store.database import create_engine_for


@contextmanager
def fresh_database(server_url: str, prefix: str = "exchange_bench") -> Iterator[str]:
    """Create an empty database on the server of `server_url`; yield its URL; drop it."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    engine = create_engine_for(server_url)
    # CREATE/DROP DATABASE cannot run inside a transaction.
    admin = engine.execution_options(isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()
