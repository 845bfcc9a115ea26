"""Database URLs of the `sql` connectors: PostgreSQL, or a SQLite file under the connector
root (a path like any other a configuration names)."""

from __future__ import annotations

from sqlalchemy import create_engine
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError

from connectors.base import ConnectorEnvironment
from connectors.paths import path_errors, resolve_under

IDENTIFIER = r"^[A-Za-z_][A-Za-z0-9_]{0,62}$"


def url_problem(url: str, environment: ConnectorEnvironment) -> str | None:
    """Why `url` may not be used, or None."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return "not a database URL"
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        return None
    if backend != "sqlite":
        return "a postgresql:// or sqlite:// URL is required"
    if not parsed.database or parsed.database == ":memory:":
        return "a SQLite connector needs a database file"
    unsafe = path_errors(environment.root, {"url": parsed.database})
    return unsafe["url"][0] if unsafe else None


def engine_for(url: str, environment: ConnectorEnvironment) -> Engine:
    """An engine; a SQLite file is the one under the connector root its path names."""
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        parsed = parsed.set(database=str(resolve_under(environment.root, parsed.database or "")))
    return create_engine(parsed, pool_pre_ping=True)
