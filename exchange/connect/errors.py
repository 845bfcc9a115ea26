"""Error kinds of connectors."""

from __future__ import annotations

from exchange.errors import Conflict, NotFound


class ConnectorNotFound(NotFound):
    type_slug = "connector-not-found"
    title = "No such connector"


class ConnectorNotStopped(Conflict):
    """Offsets may only change while the connector is STOPPED and no worker holds it."""

    type_slug = "connector-not-stopped"
    title = "Connector is not stopped"
