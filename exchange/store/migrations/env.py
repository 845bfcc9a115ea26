"""Alembic environment of the store: runs migrations on the connection `migrate.py` hands in.

`exchange.store.migrate` builds the Alembic configuration in code and passes an open
connection in `config.attributes["connection"]`; without one (e.g. the `alembic` command
line with a config naming `sqlalchemy.url`), an engine is made from that URL.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from exchange.store.database import create_engine_for
from exchange.store.models import Base
from exchange.store.models_grants import GrantModel  # noqa: F401  (its tables)
from exchange.store.models_registry import SubjectModel  # noqa: F401  (its tables)


def run_migrations(connection: Connection) -> None:
    """Runs the pending migrations on `connection` in one transaction."""
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite cannot ALTER most things in place; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Migrates through the given connection, or one made from `sqlalchemy.url`."""
    given = context.config.attributes.get("connection")
    if given is not None:
        run_migrations(given)
        return
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no connection given and no sqlalchemy.url configured")
    engine = create_engine_for(url)
    try:
        with engine.connect() as connection:
            run_migrations(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise RuntimeError("offline (SQL script) migrations are not supported")
run_migrations_online()
