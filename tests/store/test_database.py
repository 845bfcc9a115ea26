"""Connections: engine settings per database, sessions as transactions, and an unreachable
store reported as `StoreUnavailable`."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import StatementError

from exchange.store.database import Database, create_engine_for
from exchange.store.errors import StoreUnavailable
from exchange.store.models import DepartmentModel
from exchange.store.repositories import IdentityRepository

UNREACHABLE_POSTGRES = "postgresql+psycopg://exchange:exchange@127.0.0.1:1/exchange_test"


def test_check_succeeds_on_a_reachable_database(db):
    db.check()


def test_check_reports_an_unreachable_postgres_as_store_unavailable_quickly():
    database = Database(UNREACHABLE_POSTGRES)
    started = time.monotonic()

    with pytest.raises(StoreUnavailable) as raised:
        database.check()

    assert time.monotonic() - started < 5
    assert raised.value.status == 503
    assert raised.value.type_slug == "store-unavailable"
    database.close()


def test_a_session_on_an_unreachable_postgres_raises_store_unavailable():
    database = Database(UNREACHABLE_POSTGRES)

    with pytest.raises(StoreUnavailable), database.session() as session:
        session.execute(text("SELECT 1"))
    database.close()


def test_a_session_commits_when_its_block_succeeds(db):
    with db.session() as session:
        session.add(
            DepartmentModel(code="tax", name="Tax", contact="t@x", created_at=datetime.now(UTC))
        )

    with db.session() as session:
        assert session.scalars(select(DepartmentModel.code)).all() == ["tax"]


def add_department_then_fail(db: Database) -> None:
    with db.session() as session:
        session.add(
            DepartmentModel(code="tax", name="Tax", contact="t@x", created_at=datetime.now(UTC))
        )
        session.flush()
        raise RuntimeError("use case failed")


def test_a_session_rolls_back_when_its_block_raises(db):
    with pytest.raises(RuntimeError, match="use case failed"):
        add_department_then_fail(db)

    with db.session() as session:
        assert session.scalars(select(DepartmentModel.code)).all() == []


def test_timestamps_come_back_as_aware_utc_whatever_zone_they_were_given_in(db):
    given = datetime(2024, 5, 1, 12, 30, 15, 123456, tzinfo=timezone(timedelta(hours=2)))
    IdentityRepository(db, clock=lambda: given).add_department("tax", "Tax", "t@x")

    stored = IdentityRepository(db).get_department("tax").created_at

    assert stored.utcoffset() == timedelta(0)
    assert stored == given
    assert stored.hour == 10


def test_naive_timestamps_are_refused(db):
    naive = datetime(2024, 5, 1, 12, 0)

    with pytest.raises(StatementError, match="naive datetime"):
        IdentityRepository(db, clock=lambda: naive).add_department("tax", "Tax", "t@x")


def test_sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout(tmp_path):
    engine = create_engine_for(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
    engine.dispose()


def test_a_plain_postgresql_url_uses_psycopg_3():
    engine = create_engine_for("postgresql://exchange@127.0.0.1:1/x")

    assert engine.dialect.driver == "psycopg"


def test_an_unsupported_database_url_is_refused():
    with pytest.raises(ValueError, match="unsupported"):
        create_engine_for("mysql://x@localhost/y")
