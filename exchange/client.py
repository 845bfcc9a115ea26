"""The Python client of a hub: every request signed (RFC 9421), every problem answer a typed error.

The CLI and the connectors call the hub through this; department systems written in
Python may use it as is. It depends on `requests`, `cryptography` and the identity
package only.
"""

from __future__ import annotations

import json as json_module
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from exchange.client_records import PullResult, RecordsClient
from exchange.errors import ConfigurationError
from exchange.identity.keys import key_id_of, load_private_key
from exchange.identity.signatures import sign_request

JSON_CONTENT_TYPE = "application/json"
PROBLEM_CONTENT_TYPE = "application/problem+json"
_NON_JSON_DETAIL_LIMIT = 500


class ExchangeAPIError(Exception):
    """The hub answered with an error; `problem` is its RFC 9457 problem document.

    Deliberately not an `ExchangeError`: those are what a hub raises to answer with,
    and this is an answer received from another server. Were it an `ExchangeError`,
    code running inside a hub that let one escape would relay the remote status as
    its own.
    """

    def __init__(self, status: int, problem: Mapping[str, Any]) -> None:
        self.status = status
        self.problem: dict[str, Any] = dict(problem)
        super().__init__(f"{status} {self.title}: {self.detail}")

    @property
    def type(self) -> str:
        """The problem `type` URI (`about:blank` when the answer had none)."""
        return str(self.problem.get("type", "about:blank"))

    @property
    def title(self) -> str:
        """The problem `title`."""
        return str(self.problem.get("title", ""))

    @property
    def detail(self) -> str:
        """The problem `detail`: the precise reason."""
        return str(self.problem.get("detail", ""))


class ClientBadRequest(ExchangeAPIError):
    """400: the hub could not read the request."""


class ClientUnauthenticated(ExchangeAPIError):
    """401: the request signature was refused; `type` names why (stale, unknown key...)."""


class ClientForbidden(ExchangeAPIError):
    """403: the key is known but its principal may not do this."""


class ClientNotFound(ExchangeAPIError):
    """404: no such resource."""


class ClientConflict(ExchangeAPIError):
    """409: the request conflicts with the current state (duplicate, incompatible schema...)."""


class ClientValidationError(ExchangeAPIError):
    """422: the body is well-formed but invalid; `problem["errors"]` names the fields."""


class ClientUnavailable(ExchangeAPIError):
    """503: the hub (or one of its dependencies) is unavailable; retrying later may work."""


class HubUnreachable(ClientUnavailable):
    """No answer at all (connection refused, timeout): as retryable as a 503, but the hub
    never saw the request, or its answer was lost."""


_ERRORS_BY_STATUS: dict[int, type[ExchangeAPIError]] = {
    400: ClientBadRequest,
    401: ClientUnauthenticated,
    403: ClientForbidden,
    404: ClientNotFound,
    409: ClientConflict,
    422: ClientValidationError,
    503: ClientUnavailable,
}


class ExchangeClient:
    """Signs and sends requests to one hub with one Ed25519 key."""

    def __init__(
        self,
        base_url: str,
        key_file: str | Path | None = None,
        private_key: Ed25519PrivateKey | None = None,
        key_id: str | None = None,
        timeout_s: float = 30.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._private_key = _private_key_from(key_file, private_key)
        self.key_id = key_id or key_id_of(self._private_key.public_key())
        self.timeout_s = timeout_s
        self._session = requests.Session()
        self._records = RecordsClient(self)

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """Send a signed request; return the parsed JSON answer (None when there is no body).

        Raises the `ExchangeAPIError` subclass of the answer's status for any non-2xx
        answer, and `HubUnreachable` when there is no answer.
        """
        prepared = self._prepare(method, path, json=json, params=params, headers=headers)
        try:
            response = self._session.send(prepared, timeout=self.timeout_s)
        except (requests.ConnectionError, requests.Timeout) as error:
            raise HubUnreachable(
                503, {"title": "Hub unreachable", "detail": f"{prepared.url}: {error}"}
            ) from error
        return _result_of(response)

    def get(
        self,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """A signed GET."""
        return self.request("GET", path, params=params, headers=headers)

    def post(
        self,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """A signed POST with a JSON body."""
        return self.request("POST", path, json=json, params=params, headers=headers)

    def put(
        self,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """A signed PUT with a JSON body."""
        return self.request("PUT", path, json=json, params=params, headers=headers)

    def delete(
        self,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """A signed DELETE."""
        return self.request("DELETE", path, params=params, headers=headers)

    def publish(
        self,
        subject: str,
        records: Sequence[Mapping[str, Any]],
        *,
        schema_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Publish a batch, all or none (see `RecordsClient.publish`)."""
        return self._records.publish(
            subject, records, schema_version=schema_version, idempotency_key=idempotency_key
        )

    def subscribe(self, subject: str, grant_id: str, start: str = "latest") -> dict[str, Any]:
        """Subscribe to `subject` under `grant_id` (see `RecordsClient.subscribe`)."""
        return self._records.subscribe(subject, grant_id, start)

    def pull(self, subscription_id: str, max_records: int = 100, wait_ms: int = 0) -> PullResult:
        """Pull verified deliveries (see `RecordsClient.pull`)."""
        return self._records.pull(subscription_id, max_records, wait_ms)

    def ack(self, subscription_id: str, cursor: str) -> None:
        """Acknowledge a pull's cursor (see `RecordsClient.ack`)."""
        self._records.ack(subscription_id, cursor)

    def lookup(self, subject: str, key: str, grant_id: str | None = None) -> dict[str, Any]:
        """The verified latest record of `key` (see `RecordsClient.lookup`)."""
        return self._records.lookup(subject, key, grant_id)

    def close(self) -> None:
        """Release the pooled connections."""
        self._session.close()

    def _prepare(
        self,
        method: str,
        path: str,
        *,
        json: Any,
        params: Mapping[str, Any] | None,
        headers: Mapping[str, str] | None,
    ) -> requests.PreparedRequest:
        # Prepared first, so the signed @target-uri is the URL requests will send,
        # after its own quoting and query encoding.
        body = b"" if json is None else json_module.dumps(json, ensure_ascii=False).encode("utf-8")
        request_headers = {"Accept": f"{JSON_CONTENT_TYPE}, {PROBLEM_CONTENT_TYPE}"}
        if body:
            request_headers["Content-Type"] = JSON_CONTENT_TYPE
        request_headers |= dict(headers or {})
        prepared = self._session.prepare_request(
            requests.Request(
                method.upper(),
                f"{self.base_url}/{path.lstrip('/')}",
                params=dict(params or {}),
                data=body or None,
                headers=request_headers,
            )
        )
        # prepare_request always sets both; the asserts narrow their Optional types.
        assert prepared.method is not None
        assert prepared.url is not None
        signature_headers = sign_request(
            prepared.method, prepared.url, prepared.headers, body, self._private_key, self.key_id
        )
        prepared.headers.update(signature_headers)
        return prepared


def _private_key_from(
    key_file: str | Path | None, private_key: Ed25519PrivateKey | None
) -> Ed25519PrivateKey:
    if (key_file is None) == (private_key is None):
        raise ConfigurationError("ExchangeClient needs exactly one of key_file and private_key")
    if private_key is not None:
        return private_key
    assert key_file is not None
    return load_private_key(key_file)


def _result_of(response: requests.Response) -> Any:
    if response.ok:
        return response.json() if response.content else None
    raise _error_of(response)


def _error_of(response: requests.Response) -> ExchangeAPIError:
    kind = _ERRORS_BY_STATUS.get(response.status_code, ExchangeAPIError)
    return kind(response.status_code, _problem_of(response))


def _problem_of(response: requests.Response) -> dict[str, Any]:
    try:
        problem = response.json()
    except ValueError:
        problem = None
    if isinstance(problem, dict):
        return problem
    # Not problem+json (a proxy's HTML page, say): keep what the answer said.
    return {
        "title": response.reason or f"HTTP {response.status_code}",
        "status": response.status_code,
        "detail": response.text[:_NON_JSON_DETAIL_LIMIT],
    }
