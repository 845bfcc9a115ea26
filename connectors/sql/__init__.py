"""The `sql` connector class: a department's database table."""

from connectors.base import ConnectorClass
from connectors.sql.sink import SqlSink
from connectors.sql.source import SqlSource

SQL = ConnectorClass(
    name="sql",
    description="Source: polls a table for new rows (incrementing column, or timestamp and "
    "incrementing column). Sink: upserts deliveries into a table keyed by record key.",
    source=SqlSource,
    sink=SqlSink,
)
