"""`Idempotency-Key` semantics for publishing: a retry with the same key and body gets the
first answer and produces nothing again; the same key with another body is a conflict."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from exchange.errors import Conflict, ValidationFailed

MAX_IDEMPOTENCY_KEY_LENGTH = 256


class IdempotencyKeyReused(Conflict):
    type_slug = "idempotency-key-reused"
    title = "Idempotency key used with another request"


class IdempotencyKeyInProgress(Conflict):
    type_slug = "idempotency-key-in-progress"
    title = "A request with this idempotency key is still being answered"


class StoredAnswer(Protocol):
    """A claimed key as stored: read-only, so frozen dataclasses fit."""

    @property
    def request_digest(self) -> str: ...
    @property
    def status(self) -> int | None: ...
    @property
    def response(self) -> Any: ...


class IdempotencyKeys(Protocol):
    def claim(self, principal: str, key: str, request_digest: str) -> StoredAnswer | None: ...
    def complete(self, principal: str, key: str, status: int, response: Any) -> None: ...
    def release(self, principal: str, key: str) -> None: ...


@dataclass(frozen=True)
class Answer:
    """A status and a JSON body, fresh or replayed."""

    status: int
    body: Any
    replayed: bool = False


def run_once(
    keys: IdempotencyKeys,
    principal: str,
    idempotency_key: str | None,
    request_digest: str,
    work: Callable[[], Answer],
) -> Answer:
    """Run `work` unless this principal already ran it under `idempotency_key`.

    Only successful answers are kept: a failed attempt releases the key, so the caller's
    retry runs the work again (nothing was produced by a failed attempt).
    """
    if idempotency_key is None:
        return work()
    if not 0 < len(idempotency_key) <= MAX_IDEMPOTENCY_KEY_LENGTH:
        raise ValidationFailed(
            f"Idempotency-Key has 1 to {MAX_IDEMPOTENCY_KEY_LENGTH} characters",
            errors={"Idempotency-Key": ["invalid length"]},
        )
    existing = keys.claim(principal, idempotency_key, request_digest)
    if existing is not None:
        return _replay(existing, request_digest)
    try:
        answer = work()
    except BaseException:
        keys.release(principal, idempotency_key)
        raise
    keys.complete(principal, idempotency_key, answer.status, answer.body)
    return answer


def _replay(existing: StoredAnswer, request_digest: str) -> Answer:
    if existing.request_digest != request_digest:
        raise IdempotencyKeyReused(
            "this Idempotency-Key was used with a different request body; use a new key"
        )
    if existing.status is None:
        raise IdempotencyKeyInProgress("retry once the first request has been answered")
    return Answer(existing.status, existing.response, replayed=True)
