"""The schema comes from the migrations, and the migrations match the models, on both
databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import insert, inspect, select

from exchange.store.database import create_engine_for
from exchange.store.migrate import (
    MIGRATIONS_DIR,
    current_revision,
    downgrade,
    head_revision,
    upgrade,
)
from exchange.store.models import AuditEntryModel, Base
from exchange.store.models_audit import AUDIT_TIME_BLOCK_ENTRIES, AuditTimeBlockModel

STORE_TABLES = {
    "departments",
    "operators",
    "principal_keys",
    "used_nonces",
    "hub_keys",
    "audit_entries",
}


def table_names(url: str) -> set[str]:
    engine = create_engine_for(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_takes_an_empty_database_to_head(empty_database_url):
    assert current_revision(empty_database_url) is None

    upgrade(empty_database_url)

    assert current_revision(empty_database_url) == head_revision() is not None
    assert table_names(empty_database_url) >= STORE_TABLES


def test_migrated_schema_has_no_drift_from_the_models(database_url):
    engine = create_engine_for(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()

    assert differences == []


def test_upgrading_an_up_to_date_database_changes_nothing(database_url):
    upgrade(database_url)

    assert current_revision(database_url) == head_revision()


def test_downgrade_to_base_removes_every_store_table(database_url):
    downgrade(database_url, "base")

    assert current_revision(database_url) is None
    assert table_names(database_url).isdisjoint(STORE_TABLES)


def test_migrations_ship_inside_the_package_without_an_alembic_ini():
    assert (MIGRATIONS_DIR / "env.py").is_file()
    assert (MIGRATIONS_DIR / "versions" / "0001_initial.py").is_file()
    assert not (MIGRATIONS_DIR / "alembic.ini").exists()


def test_the_time_blocks_of_entries_stored_before_them_are_computed(empty_database_url):
    upgrade(empty_database_url, "0008")
    start = datetime(2024, 5, 1, tzinfo=UTC)
    # 2,500 entries (blocks 0, 1 and a partial 2), times a little out of seq order.
    times = [start + timedelta(seconds=seq + (seq % 7) * 3) for seq in range(1, 2501)]
    engine = create_engine_for(empty_database_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                insert(AuditEntryModel),
                [
                    {"seq": seq, "at": at, "actor": "tax", "action": "GET /", "decision": "allow"}
                    for seq, at in enumerate(times, start=1)
                ],
            )
        upgrade(empty_database_url)
        with engine.connect() as connection:
            blocks = connection.execute(
                select(
                    AuditTimeBlockModel.block,
                    AuditTimeBlockModel.earliest_at,
                    AuditTimeBlockModel.latest_at,
                ).order_by(AuditTimeBlockModel.block)
            ).all()
    finally:
        engine.dispose()

    size = AUDIT_TIME_BLOCK_ENTRIES
    expected = [
        (block, min(times[first : first + size]), max(times[first : first + size]))
        for block, first in enumerate(range(0, len(times), size))
    ]
    assert [tuple(row) for row in blocks] == expected
