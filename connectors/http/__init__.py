"""The `http` connector class: a department's webhook."""

from connectors.base import ConnectorClass
from connectors.http.sink import HttpSink
from connectors.http.source import HttpSource

HTTP = ConnectorClass(
    name="http",
    description="Source: polls an HTTP JSON endpoint with a cursor. "
    "Sink: POSTs deliveries to a webhook, signed by the hub, with retries.",
    source=HttpSource,
    sink=HttpSink,
)
