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
    def intent_of(self, principal: str, key: str) -> Any: ...
    def record_intent(self, principal: str, key: str, intent: Any) -> None: ...
    def complete(self, principal: str, key: str, status: int, response: Any) -> None: ...
    def release(self, principal: str, key: str) -> None: ...
    def abandon(self, principal: str, key: str) -> None: ...


class Intent:
    """What an attempt is about to do (for a publish: its signed envelopes), kept with the
    claim before the attempt acts, so that a retry after a crash or an unclear failure does
    the very same thing again (same record ids) instead of something new."""

    def __init__(self, keys: IdempotencyKeys | None, principal: str, key: str, previous: Any):
        self._keys, self._principal, self._key = keys, principal, key
        self.previous = previous
        self.recorded = False

    def record(self, value: Any) -> None:
        """Keep `value` with the claim (no-op without an Idempotency-Key)."""
        if self._keys is not None:
            self._keys.record_intent(self._principal, self._key, value)
            self.recorded = True


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
    work: Callable[[Intent], Answer],
) -> Answer:
    """Run `work` unless this principal already ran it under `idempotency_key`.

    Only successful answers are kept. A failed attempt that recorded no intent releases the
    key (it did nothing); one that did is abandoned with its intent, which the caller's retry
    takes over at once and repeats. A claim left by a dead process is taken over likewise
    once it is stale.
    """
    if idempotency_key is None:
        return work(Intent(None, principal, "", None))
    if not 0 < len(idempotency_key) <= MAX_IDEMPOTENCY_KEY_LENGTH:
        raise ValidationFailed(
            f"Idempotency-Key has 1 to {MAX_IDEMPOTENCY_KEY_LENGTH} characters",
            errors={"Idempotency-Key": ["invalid length"]},
        )
    existing = keys.claim(principal, idempotency_key, request_digest)
    if existing is not None:
        return _replay(existing, request_digest)
    intent = Intent(keys, principal, idempotency_key, keys.intent_of(principal, idempotency_key))
    try:
        answer = work(intent)
    except BaseException:
        if intent.recorded or intent.previous is not None:
            keys.abandon(principal, idempotency_key)
        else:
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
