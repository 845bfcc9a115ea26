"""The `http` sink: each delivery (or each pulled batch, with `batch: true`) POSTed as JSON
to a department's webhook, signed by the hub (RFC 9421, the hub's key, as published at
`/v1/hub/keys`), so the receiver can check it came from the hub.

A request that fails (no answer, 408, 429 or 5xx) is retried with exponential back-off and
full jitter, up to `max_attempts`; then the sink raises, the connector fails and, after its
own restart back-off, the deliveries come again. Any other 4xx refuses the delivery for
good: it goes to the dead-letter topic. A receiver may thus see a delivery more than once
(a retry after an answer that was lost) and deduplicates by `record_id`, which every
request carries in its body and in the `Idempotency-Key` header.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from marshmallow import fields, validate

from connectors.base import RejectedDelivery, SinkConfig, SinkConnector, SinkContext
from exchange.errors import ServiceUnavailable

RETRYABLE_STATUSES = frozenset({408, 429}) | frozenset(range(500, 600))
JSON_CONTENT_TYPE = "application/json"


class WebhookUnavailable(ServiceUnavailable):
    type_slug = "webhook-unavailable"
    title = "Webhook did not accept the deliveries"


class HttpSinkConfig(SinkConfig):
    url = fields.Url(required=True, schemes={"http", "https"}, require_tld=False)
    batch = fields.Boolean(load_default=False)
    max_attempts = fields.Integer(load_default=8, validate=validate.Range(min=1, max=100))
    backoff_base_s = fields.Float(load_default=0.5, validate=validate.Range(min=0))
    backoff_max_s = fields.Float(load_default=30.0, validate=validate.Range(min=0))
    timeout_s = fields.Float(load_default=10.0, validate=validate.Range(min=0.1, max=300))


class HttpSink(SinkConnector):
    """POSTs deliveries to a webhook, hub-signed, retrying with back-off and jitter."""

    config_schema = HttpSinkConfig

    def __init__(
        self,
        config: Mapping[str, Any],
        context: SinkContext,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(config, context)
        self._url = str(config["url"])
        self._batch = bool(config["batch"])
        self._attempts = int(config["max_attempts"])
        self._base_s = float(config["backoff_base_s"])
        self._max_s = float(config["backoff_max_s"])
        self._timeout_s = float(config["timeout_s"])
        self._sleep = sleep
        # requests is imported when a connector runs, not with the class: the hub loads
        # every class to check connector configs, and its workers need not carry
        # requests (about 5 MB each).
        import requests  # noqa: PLC0415

        self._session = requests.Session()

    def put(self, deliveries: Sequence[Mapping[str, Any]]) -> list[RejectedDelivery]:
        """POST the deliveries (one request each, or one for all); refused ones returned."""
        if not deliveries:
            return []
        if self._batch:
            refusal = self._post({"deliveries": list(deliveries)}, _batch_key(deliveries))
            return [RejectedDelivery(d, refusal) for d in deliveries] if refusal else []
        rejected: list[RejectedDelivery] = []
        for delivery in deliveries:
            refusal = self._post(dict(delivery), str(delivery.get("record_id")))
            if refusal:
                rejected.append(RejectedDelivery(delivery, refusal))
        return rejected

    def close(self) -> None:
        """Release the pooled connections."""
        self._session.close()

    def _post(self, document: Mapping[str, Any], idempotency_key: str) -> str | None:
        """Send until accepted (None) or refused for good (the reason); raise when the
        attempts run out."""
        body = json.dumps(document, ensure_ascii=False).encode("utf-8")
        last = ""
        for attempt in range(self._attempts):
            if attempt:
                self._sleep(self._delay(attempt))
            headers = {"Content-Type": JSON_CONTENT_TYPE, "Idempotency-Key": idempotency_key}
            headers |= self.context.sign_request("POST", self._url, headers, body)
            import requests  # noqa: PLC0415 (see __init__)

            try:
                answer = self._session.post(
                    self._url, data=body, headers=headers, timeout=self._timeout_s
                )
            except requests.RequestException as error:
                last = f"no answer: {error}"
                continue
            if answer.ok:
                return None
            if answer.status_code not in RETRYABLE_STATUSES:
                return f"the webhook refused it: {answer.status_code} {answer.text[:300]}"
            last = f"{answer.status_code} {answer.reason}"
        raise WebhookUnavailable(f"{self._url}: {self._attempts} attempts failed; last: {last}")

    def _delay(self, attempt: int) -> float:
        """Full jitter: a random wait up to the exponential bound (AWS architecture blog)."""
        bound = min(self._base_s * 2.0 ** (attempt - 1), self._max_s)
        return random.uniform(0, bound)


def _batch_key(deliveries: Sequence[Mapping[str, Any]]) -> str:
    ids = [str(d.get("record_id")) for d in deliveries]
    return f"{ids[0]}..{ids[-1]}:{len(ids)}"
