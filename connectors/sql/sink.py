"""The `sql` sink: deliveries upserted into a department's table, one row per record key.

The table (created when missing, unless `create_table` is false) has the columns
`record_key` (primary key), `record_id`, `subject`, `produced_at`, `payload` (the delivered
payload as JSON text), and one text column per entry of `columns` (column name -> a
top-level payload property). A row is replaced only by a delivery with a greater
`record_id`: record ids are UUIDv7, ordered by acceptance time, so a redelivered or older
record never overwrites a newer one, and writing the same delivery twice changes nothing.

Each `put` is one transaction. When the table refuses it (a value its column type rejects,
a NOT NULL, CHECK or other constraint of a table made beforehand with `create_table:
false`): with `errors.tolerance none` the error fails the connector, as any other; with
`all` the batch is written again record by record, each in its own transaction, and the
records the table refuses are returned with the database's reason (they become dead
letters). Errors that are not about the data (the database unreachable, a missing column)
always raise: they may pass, and the batch comes again.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from marshmallow import fields, validate
from sqlalchemy import Column, MetaData, String, Table, Text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DataError, IntegrityError

from connectors.base import (
    ConnectorEnvironment,
    RejectedDelivery,
    SinkConfig,
    SinkConnector,
    SinkContext,
)
from connectors.sql.engines import IDENTIFIER, engine_for, url_problem

RESERVED_COLUMNS = frozenset({"record_key", "record_id", "subject", "produced_at", "payload"})
# What a table raises for the data it is given (DBAPI's own classification, which
# SQLAlchemy keeps): a value out of type or range, a constraint violated.
REFUSALS = (DataError, IntegrityError)


class SqlSinkConfig(SinkConfig):
    url = fields.String(
        required=True,
        validate=validate.Length(min=1, max=2048),
        metadata={"description": "SQLAlchemy URL of the department's database"},
    )
    table = fields.String(required=True, validate=validate.Regexp(IDENTIFIER))
    columns = fields.Dict(
        keys=fields.String(validate=validate.Regexp(IDENTIFIER)),
        values=fields.String(validate=validate.Length(min=1, max=255)),
        load_default=dict,
    )
    create_table = fields.Boolean(load_default=True)


class SqlSink(SinkConnector):
    """Upserts deliveries by record key, newest `record_id` winning."""

    config_schema = SqlSinkConfig

    @classmethod
    def check_config(
        cls, config: Mapping[str, Any], environment: ConnectorEnvironment
    ) -> dict[str, list[str]]:
        """The URL must be a PostgreSQL URL, or a SQLite file under the connector root;
        mapped columns must not clash with the fixed ones."""
        errors = super().check_config(config, environment)
        problem = url_problem(str(config.get("url")), environment)
        if problem:
            errors["url"] = [problem]
        clashes = sorted(set(config.get("columns", {})) & RESERVED_COLUMNS)
        if clashes:
            errors["columns"] = [f"reserved column names: {', '.join(clashes)}"]
        return errors

    def __init__(self, config: Mapping[str, Any], context: SinkContext) -> None:
        super().__init__(config, context)
        self._columns: dict[str, str] = dict(config["columns"])
        self._engine = engine_for(str(config["url"]), context.environment)
        self._table = _table(str(config["table"]), self._columns)
        self._tolerate = config.get("errors_tolerance") == "all"
        if config["create_table"]:
            self._table.metadata.create_all(self._engine)

    def put(self, deliveries: Sequence[Mapping[str, Any]]) -> list[RejectedDelivery]:
        """Upsert every delivery in one transaction; with `errors.tolerance all`, a batch
        the table refuses is written record by record and the refused ones returned."""
        if not deliveries:
            return []
        try:
            self._upsert(_newest_per_key(deliveries))
        except REFUSALS:
            if not self._tolerate:
                raise
            return self._put_each(deliveries)
        return []

    def close(self) -> None:
        """Close the pooled connections."""
        self._engine.dispose()

    def _put_each(self, deliveries: Sequence[Mapping[str, Any]]) -> list[RejectedDelivery]:
        """Write each delivery in its own transaction, in delivery order (an older record
        after a newer one of its key changes nothing); those refused, with the reason."""
        refused: list[RejectedDelivery] = []
        for delivery in deliveries:
            try:
                self._upsert([delivery])
            except REFUSALS as error:
                refused.append(RejectedDelivery(delivery, _reason(error)))
        return refused

    def _upsert(self, deliveries: Sequence[Mapping[str, Any]]) -> None:
        """Upsert `deliveries` (one per key at most) in one transaction."""
        rows = [self._row_of(d) for d in deliveries]
        dialect = self._engine.dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = insert(self._table).values(rows)
        excluded = statement.excluded
        upsert = statement.on_conflict_do_update(
            index_elements=[self._table.c.record_key],
            set_={name: excluded[name] for name in rows[0] if name != "record_key"},
            where=self._table.c.record_id < excluded.record_id,
        )
        with self._engine.begin() as connection:
            connection.execute(upsert)

    def _row_of(self, delivery: Mapping[str, Any]) -> dict[str, Any]:
        payload = delivery.get("payload")
        row: dict[str, Any] = {
            "record_key": str(delivery["key"]),
            "record_id": str(delivery["record_id"]),
            "subject": str(delivery["subject"]),
            "produced_at": str(delivery.get("produced_at", "")),
            "payload": json.dumps(payload, ensure_ascii=False, sort_keys=True),
        }
        for column, field_name in self._columns.items():
            value = payload.get(field_name) if isinstance(payload, Mapping) else None
            row[column] = None if value is None else _text(value)
        return row


def _newest_per_key(deliveries: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """One delivery per key (the greatest record id): one statement may not touch a row
    twice on PostgreSQL."""
    newest: dict[str, Mapping[str, Any]] = {}
    for delivery in deliveries:
        key = str(delivery["key"])
        if key not in newest or str(delivery["record_id"]) > str(newest[key]["record_id"]):
            newest[key] = delivery
    return list(newest.values())


def _reason(error: DataError | IntegrityError) -> str:
    """The database's own message (without SQLAlchemy's statement and parameters)."""
    message = " ".join(str(error.orig).split())
    return f"refused by the table: {message}"


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _table(name: str, columns: Mapping[str, str]) -> Table:
    return Table(
        name,
        MetaData(),
        Column("record_key", String(512), primary_key=True),
        Column("record_id", String(36), nullable=False),
        Column("subject", String(255), nullable=False),
        Column("produced_at", String(64), nullable=False),
        Column("payload", Text(), nullable=False),
        *(Column(column, Text()) for column in columns),
    )
