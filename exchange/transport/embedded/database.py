"""The SQLite file behind the embedded log: schema, a connection per thread, transactions.

Several threads and several processes on one machine may open the same file: SQLite's
WAL mode lets readers run beside one writer, and every write starts with
`BEGIN IMMEDIATE` so writers queue on the file lock instead of failing mid-transaction.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from exchange.transport.base import TransportError

SCHEMA = """
CREATE TABLE IF NOT EXISTS topics (
    name TEXT PRIMARY KEY,
    partitions INTEGER NOT NULL CHECK (partitions > 0)
);
CREATE TABLE IF NOT EXISTS records (
    topic TEXT NOT NULL,
    partition_id INTEGER NOT NULL,
    log_offset INTEGER NOT NULL,
    record_key BLOB,
    record_value BLOB NOT NULL,
    headers TEXT NOT NULL,
    timestamp_ms INTEGER NOT NULL,
    PRIMARY KEY (topic, partition_id, log_offset)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS group_offsets (
    group_id TEXT NOT NULL,
    topic TEXT NOT NULL,
    partition_id INTEGER NOT NULL,
    next_offset INTEGER NOT NULL,
    PRIMARY KEY (group_id, topic, partition_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS group_members (
    group_id TEXT NOT NULL,
    member_id TEXT NOT NULL,
    heartbeat_ms INTEGER NOT NULL,
    PRIMARY KEY (group_id, member_id)
) WITHOUT ROWID;
"""

DEFAULT_BUSY_TIMEOUT_S = 30.0


class Database:
    """One SQLite file, opened lazily once per thread (and again after a fork)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._local = threading.local()
        # Weak: a thread's connection is closed when the thread ends and drops it.
        self._opened: weakref.WeakSet[_Connection] = weakref.WeakSet()
        self._opened_lock = threading.Lock()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise TransportError(f"cannot open the embedded log at {path}: {error}") from error
        with _translated_errors(path):
            self._connection().executescript(SCHEMA)

    @contextmanager
    def write(self, timeout_s: float = DEFAULT_BUSY_TIMEOUT_S) -> Iterator[sqlite3.Connection]:
        """A transaction that holds the write lock from its start; all or nothing."""
        connection = self._connection()
        with _translated_errors(self._path):
            connection.execute(f"PRAGMA busy_timeout = {int(timeout_s * 1000)}")
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A read-only transaction: every query in it sees the same snapshot."""
        connection = self._connection()
        with _translated_errors(self._path):
            connection.execute("BEGIN")
            try:
                yield connection
            finally:
                connection.execute("COMMIT")

    def close(self) -> None:
        """Close every connection this object opened, in any thread."""
        with self._opened_lock:
            for connection in list(self._opened):
                connection.close()
            self._opened.clear()

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        # A connection must not cross a fork: the child opens its own.
        if connection is None or self._local.pid != os.getpid():
            connection = self._open()
            self._local.connection = connection
            self._local.pid = os.getpid()
        return connection

    def _open(self) -> sqlite3.Connection:
        with _translated_errors(self._path):
            connection = sqlite3.connect(
                self._path,
                timeout=DEFAULT_BUSY_TIMEOUT_S,
                isolation_level=None,  # we issue BEGIN/COMMIT ourselves
                check_same_thread=False,  # only close() touches it from another thread
                factory=_Connection,
            )
            connection.execute("PRAGMA journal_mode = WAL")
            # An acknowledged produce must survive a power cut, not only a crash.
            connection.execute("PRAGMA synchronous = FULL")
        with self._opened_lock:
            self._opened.add(connection)
        return connection


class _Connection(sqlite3.Connection):
    """A plain connection that, unlike `sqlite3.Connection`, can be weakly referenced."""


@contextmanager
def _translated_errors(path: Path) -> Iterator[None]:
    try:
        yield
    except sqlite3.Error as error:
        raise TransportError(f"embedded log {path}: {error}") from error
