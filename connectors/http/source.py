"""The `http` source: polls a department's HTTP JSON endpoint with a cursor parameter.

`GET <url>?<cursor_param>=<cursor>&limit=<batch_size>` (no cursor the first time) must
answer `{"<records_field>": [...objects...], "<next_cursor_field>": "..."}`, where the
next cursor names the position after these records (the same cursor again when there is
nothing newer). The page of a given cursor must not change, so a batch read again after a
crash is the same batch, published with the same idempotency key, and replayed rather than
published twice. An item that is not a JSON object is dead-lettered with its cursor and
index.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from marshmallow import fields, validate

from connectors.base import (
    ConnectorConfig,
    DeadLetter,
    SourceBatch,
    SourceConnector,
    SourceContext,
    SourceRecord,
)
from exchange.errors import ServiceUnavailable

PARTITION = "http"


class EndpointUnusable(ServiceUnavailable):
    type_slug = "http-source-unusable"
    title = "The HTTP source endpoint did not answer as documented"


class HttpSourceConfig(ConnectorConfig):
    url = fields.Url(required=True, schemes={"http", "https"}, require_tld=False)
    cursor_param = fields.String(load_default="cursor", validate=validate.Length(min=1, max=64))
    records_field = fields.String(load_default="records", validate=validate.Length(min=1))
    next_cursor_field = fields.String(load_default="next_cursor", validate=validate.Length(min=1))
    timeout_s = fields.Float(load_default=10.0, validate=validate.Range(min=0.1, max=300))


class HttpSource(SourceConnector):
    """Publishes each page of records the endpoint gives after the stored cursor."""

    config_schema = HttpSourceConfig

    def __init__(self, config: Mapping[str, Any], context: SourceContext) -> None:
        super().__init__(config, context)
        # requests is imported when a connector runs, not with the class: the hub loads
        # every class to check connector configs, and its workers need not carry
        # requests (about 5 MB each).
        import requests  # noqa: PLC0415

        self._session = requests.Session()

    def poll(self) -> SourceBatch | None:
        """The page after the stored cursor, or None when it holds nothing."""
        stored = self.context.offset(PARTITION)
        cursor = stored.get("cursor") if isinstance(stored, dict) else None
        page = self._page(cursor)
        items = page.get(self.config["records_field"])
        next_cursor = page.get(self.config["next_cursor_field"])
        if not isinstance(items, list) or not isinstance(next_cursor, str):
            raise EndpointUnusable(
                f"the answer needs a list {self.config['records_field']!r} and a string "
                f"{self.config['next_cursor_field']!r}"
            )
        if not items:
            return None
        position = {"cursor": cursor}
        return SourceBatch(
            partition=PARTITION,
            offset={"cursor": next_cursor},
            idempotency_key=f"connector:{self.context.name}:{PARTITION}:{json.dumps(cursor)}",
            records=[
                SourceRecord(item, position | {"index": index})
                for index, item in enumerate(items)
                if isinstance(item, dict)
            ],
            dead_letters=[
                DeadLetter(
                    "not a JSON object",
                    json.dumps(item).encode("utf-8"),
                    position | {"index": index},
                )
                for index, item in enumerate(items)
                if not isinstance(item, dict)
            ],
        )

    def close(self) -> None:
        """Release the pooled connections."""
        self._session.close()

    def _page(self, cursor: str | None) -> dict[str, Any]:
        params: dict[str, Any] = {"limit": self.config["batch_size"]}
        if cursor is not None:
            params[self.config["cursor_param"]] = cursor
        import requests  # noqa: PLC0415 (see __init__)

        try:
            answer = self._session.get(
                str(self.config["url"]), params=params, timeout=float(self.config["timeout_s"])
            )
            answer.raise_for_status()
            page = answer.json()
        except (requests.RequestException, ValueError) as error:
            raise EndpointUnusable(f"{self.config['url']}: {error}") from error
        if not isinstance(page, dict):
            raise EndpointUnusable("the answer is not a JSON object")
        return page
