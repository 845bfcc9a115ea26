"""Connections to the store: an engine per URL and a `Database` that hands out sessions.

SQLite (one file, the embedded default) and PostgreSQL (via psycopg 3, the production
store) are supported. Connection failures surface as `StoreUnavailable`, never as driver
exceptions.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from exchange.store.errors import StoreUnavailable

SQLITE_BUSY_TIMEOUT_MS = 5000
POSTGRES_CONNECT_TIMEOUT_S = 5


def create_engine_for(url: str, *, autocommit: bool = False) -> Engine:
    """An engine for a SQLite or PostgreSQL URL, configured for several concurrent writers.

    SQLite gets WAL journaling, enforced foreign keys and a busy timeout on every
    connection; PostgreSQL (`postgresql://` means psycopg 3) gets pre-ping and a connect
    timeout, so an unreachable server fails fast instead of hanging a request. With
    `autocommit`, its connections run each statement as its own transaction.
    """
    parsed = make_url(url)
    options: dict[str, Any] = {"isolation_level": "AUTOCOMMIT"} if autocommit else {}
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, options)
    if parsed.get_backend_name() == "postgresql":
        return _postgres_engine(parsed, options)
    raise ValueError(f"unsupported database URL scheme: {parsed.drivername}")


def _sqlite_engine(url: URL, options: dict[str, Any]) -> Engine:
    # Pool connections cross threads (one per session at a time), hence no thread check.
    engine = create_engine(url, connect_args={"check_same_thread": False}, **options)
    event.listen(engine, "connect", _configure_sqlite_connection)
    return engine


def _configure_sqlite_connection(dbapi_connection: Any, _connection_record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def _postgres_engine(url: URL, options: dict[str, Any]) -> Engine:
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    connect_args: dict[str, Any] = {}
    if "connect_timeout" not in url.query:
        connect_args["connect_timeout"] = POSTGRES_CONNECT_TIMEOUT_S
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args, **options)


def _is_unavailability(error: BaseException) -> bool:
    """Whether a database error means "cannot reach or use the store now" rather than a bug."""
    if isinstance(error, OperationalError | DisconnectionError):
        return True
    return isinstance(error, DBAPIError) and error.connection_invalidated


class Database:
    """The store's engine and its session factory."""

    def __init__(self, url: str) -> None:
        """Prepares an engine for `url` (see `create_engine_for`); connects lazily."""
        self._url = url
        self._engine = create_engine_for(url)
        self._sessions = sessionmaker(self._engine, expire_on_commit=False)
        # Its own pool of autocommit connections (made on first use): switching a pooled
        # connection in and out of autocommit costs more than the statement itself.
        self._autocommit_engine: Engine | None = None
        self._engine_lock = threading.Lock()
        self._held = threading.local()

    @property
    def engine(self) -> Engine:
        """The underlying engine (for migrations and tests)."""
        return self._engine

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: committed when the block ends, rolled back on error.

        Raises `StoreUnavailable` when the database cannot be reached or stays locked.
        """
        try:
            with self._sessions.begin() as session:
                yield session
        except (DBAPIError, DisconnectionError) as error:
            if _is_unavailability(error):
                raise StoreUnavailable(_describe(error)) from error
            raise

    @contextmanager
    def autocommit(self) -> Iterator[Connection]:
        """A connection on which every statement is its own transaction: for one-statement
        reads and atomic one-statement writes on hot paths (no BEGIN/COMMIT round trips).

        Nested in another `autocommit` block of the same thread, it is that block's
        connection, so a request's few statements share one pool checkout. Raises
        `StoreUnavailable` like `session`.
        """
        held: Connection | None = getattr(self._held, "connection", None)
        try:
            if held is not None:
                yield held
                return
            with self._autocommit_pool().connect() as connection:
                self._held.connection = connection
                try:
                    yield connection
                finally:
                    self._held.connection = None
        except (DBAPIError, DisconnectionError) as error:
            if _is_unavailability(error):
                raise StoreUnavailable(_describe(error)) from error
            raise

    def _autocommit_pool(self) -> Engine:
        with self._engine_lock:
            if self._autocommit_engine is None:
                self._autocommit_engine = create_engine_for(self._url, autocommit=True)
            return self._autocommit_engine

    def check(self) -> None:
        """Runs `SELECT 1`; raises `StoreUnavailable` when the database does not answer."""
        try:
            with self._engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except DBAPIError as error:
            raise StoreUnavailable(_describe(error)) from error

    def close(self) -> None:
        """Closes every pooled connection; the database may still be used afterwards."""
        self._engine.dispose()
        with self._engine_lock:
            if self._autocommit_engine is not None:
                self._autocommit_engine.dispose()


def _describe(error: DBAPIError | DisconnectionError) -> str:
    # The driver's own message says what failed without echoing the SQL or its parameters.
    cause = getattr(error, "orig", None) or error
    lines = str(cause).strip().splitlines()
    return lines[0] if lines else type(cause).__name__
