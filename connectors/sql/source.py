"""The `sql` source: polls a table or view of a department's database and publishes its new
rows, remembering its position.

Modes (as Kafka Connect's JDBC source):
- `incrementing`: `incrementing_column` only grows (an identity column); rows after the
  last one published are new.
- `timestamp+incrementing`: rows are ordered by (`timestamp_column`, `incrementing_column`);
  rows after the last pair are new, so updated rows (a newer timestamp) come again.

Each batch pins its extent before it is published (an *intent*: the last position it
covers), so after a crash the same rows are read again as the same batch, with the same
idempotency key, and the hub replays instead of publishing twice, even if new rows
arrived meanwhile. Rows must not change between a crash and the restart for that.

Each row becomes a payload of its columns (all, or `columns`): dates and times as ISO 8601
text, decimals as numbers.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema
from sqlalchemy import (
    ColumnElement,
    MetaData,
    Row,
    Table,
    and_,
    or_,
    select,
)
from sqlalchemy.engine import Engine

from connectors.base import (
    ConnectorConfig,
    ConnectorEnvironment,
    SourceBatch,
    SourceConnector,
    SourceContext,
    SourceRecord,
)
from connectors.sql.engines import IDENTIFIER, engine_for, url_problem

MODES = ("incrementing", "timestamp+incrementing")


class SqlSourceConfig(ConnectorConfig):
    url = fields.String(required=True, validate=validate.Length(min=1, max=2048))
    table = fields.String(required=True, validate=validate.Regexp(IDENTIFIER))
    mode = fields.String(load_default="incrementing", validate=validate.OneOf(MODES))
    incrementing_column = fields.String(required=True, validate=validate.Regexp(IDENTIFIER))
    timestamp_column = fields.String(load_default=None, validate=validate.Regexp(IDENTIFIER))
    columns = fields.List(fields.String(validate=validate.Regexp(IDENTIFIER)), load_default=None)

    @validates_schema
    def _timestamp_named(self, data: Mapping[str, Any], **_: Any) -> None:
        if data.get("mode") == "timestamp+incrementing" and not data.get("timestamp_column"):
            raise ValidationError("required in mode timestamp+incrementing", "timestamp_column")


class SqlSource(SourceConnector):
    """Publishes a table's new rows in position order."""

    config_schema = SqlSourceConfig

    @classmethod
    def check_config(
        cls, config: Mapping[str, Any], environment: ConnectorEnvironment
    ) -> dict[str, list[str]]:
        """The URL must be a PostgreSQL URL, or a SQLite file under the connector root."""
        errors = super().check_config(config, environment)
        problem = url_problem(str(config.get("url")), environment)
        if problem:
            errors["url"] = [problem]
        return errors

    def __init__(self, config: Mapping[str, Any], context: SourceContext) -> None:
        super().__init__(config, context)
        self._engine: Engine = engine_for(str(config["url"]), context.environment)
        self._table = Table(str(config["table"]), MetaData(), autoload_with=self._engine)
        self._ordering = [self._table.c[str(config["incrementing_column"])]]
        if config["mode"] == "timestamp+incrementing":
            self._ordering.insert(0, self._table.c[str(config["timestamp_column"])])
        chosen = config.get("columns")
        self._columns = [self._table.c[name] for name in chosen] if chosen else list(self._table.c)
        self._batch_size = int(config["batch_size"])
        self.partition = f"table:{config['table']}"

    def poll(self) -> SourceBatch | None:
        """The next rows after the stored position (or exactly the pinned ones)."""
        stored = self.context.offset(self.partition) or {}
        last = stored.get("last")
        pending = stored.get("pending")
        rows = self._rows(last, pending)
        if not rows:
            return None
        through = self._position(rows[-1])
        return SourceBatch(
            partition=self.partition,
            offset={"last": through},
            idempotency_key=f"connector:{self.context.name}:{self.partition}:"
            f"{json.dumps(last)}:{json.dumps(through)}",
            records=[
                SourceRecord(
                    _payload(row, self._columns),
                    {"table": self._table.name} | {"position": self._position(row)},
                )
                for row in rows
            ],
            intent=None if pending else {"last": last, "pending": through},
        )

    def lag(self) -> int | None:
        """Not measured (it would cost a count of the table each poll)."""
        return None

    def close(self) -> None:
        """Close the pooled connections."""
        self._engine.dispose()

    def _rows(self, last: list[Any] | None, pending: list[Any] | None) -> Sequence[Row[Any]]:
        selected = list(dict.fromkeys([*self._columns, *self._ordering]))
        query = select(*selected).order_by(*self._ordering)
        if last is not None:
            query = query.where(_after(self._ordering, self._bound(last)))
        if pending is not None:
            query = query.where(~_after(self._ordering, self._bound(pending)))
        else:
            query = query.limit(self._batch_size)
        with self._engine.connect() as connection:
            return list(connection.execute(query))

    def _position(self, row: Row[Any]) -> list[Any]:
        values = row._mapping
        return [_json_value(values[column]) for column in self._ordering]

    def _bound(self, position: list[Any]) -> list[Any]:
        """A stored position back in the columns' own types (timestamps were stored as text)."""
        bound: list[Any] = []
        for column, value in zip(self._ordering, position, strict=True):
            python_type = _python_type(column)
            if isinstance(value, str) and python_type is datetime:
                bound.append(datetime.fromisoformat(value))
            else:
                bound.append(value)
        return bound


def _after(columns: list[Any], position: list[Any]) -> ColumnElement[bool]:
    """Row position > `position`, lexicographically over `columns`."""
    if len(columns) == 1:
        later: ColumnElement[bool] = columns[0] > position[0]
        return later
    first, rest = columns[0], columns[1:]
    return or_(first > position[0], and_(first == position[0], _after(rest, position[1:])))


def _python_type(column: Any) -> Any:
    try:
        return column.type.python_type
    except NotImplementedError:
        return None


def _payload(row: Row[Any], columns: list[Any]) -> dict[str, Any]:
    values = row._mapping
    return {column.name: _json_value(values[column]) for column in columns}


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, bytes):
        return value.hex()
    return value
