"""The connector classes a hub knows: the built-in ones and plugins (entry point group
`exchange.connectors`, each naming a `connectors.base.ConnectorClass`)."""

from __future__ import annotations

import logging
from importlib.metadata import entry_points

from connectors.base import ConnectorClass, SinkConnector, SourceConnector
from connectors.file import FILE
from connectors.http import HTTP
from connectors.sql import SQL

ENTRY_POINT_GROUP = "exchange.connectors"
BUILT_IN = (FILE, HTTP, SQL)
logger = logging.getLogger(__name__)


def available_classes() -> dict[str, ConnectorClass]:
    """Every connector class by name; a plugin may not replace a built-in one."""
    classes = {found.name: found for found in _plugins()}
    classes.update({built_in.name: built_in for built_in in BUILT_IN})
    return classes


def implementation(
    class_name: str, kind: str
) -> type[SourceConnector] | type[SinkConnector] | None:
    """The source or sink implementation of a class, or None when there is none."""
    found = available_classes().get(class_name)
    if found is None:
        return None
    return found.source if kind == "source" else found.sink


def _plugins() -> list[ConnectorClass]:
    loaded: list[ConnectorClass] = []
    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        try:
            candidate = entry_point.load()
        except Exception:  # a broken plugin must not take the built-in classes down
            logger.exception("connector plugin %s cannot be loaded", entry_point.name)
            continue
        if isinstance(candidate, ConnectorClass):
            loaded.append(candidate)
        else:
            logger.error("connector plugin %s is not a ConnectorClass", entry_point.name)
    return loaded
