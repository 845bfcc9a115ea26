"""Idempotency keys: claimed atomically (the primary key decides between racing requests)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from exchange.store.clock import Clock, utc_now
from exchange.store.database import Database
from exchange.store.models_publish import IdempotencyKeyModel

# Longer than any publish may take (the producer's 10 s timeout, the store's), so a live
# claim is never stolen.
STALE_CLAIM = timedelta(seconds=30)


@dataclass(frozen=True)
class IdempotencyRecord:
    """What is stored for a key: the request's digest and, once answered, the response."""

    request_digest: str
    status: int | None
    response: Any


class IdempotencyRepository:
    """Claim, complete and release idempotency keys of a principal. Every operation is one
    statement, run on its own (autocommit): no BEGIN/COMMIT round trips."""

    def __init__(self, db: Database, clock: Clock = utc_now) -> None:
        self._db = db
        self._clock = clock

    def claim(self, principal: str, key: str, request_digest: str) -> IdempotencyRecord | None:
        """Claim the key for this request; return None when claimed, or the existing record
        when another request holds or answered it. A claim left unanswered for longer than
        `STALE_CLAIM` (its hub process died) may be taken over by the same request."""
        try:
            with self._db.autocommit() as connection:
                connection.execute(
                    insert(IdempotencyKeyModel).values(
                        principal=principal,
                        key=key,
                        request_digest=request_digest,
                        created_at=self._clock(),
                    )
                )
            return None
        except IntegrityError:
            if self._take_over_stale(principal, key, request_digest):
                return None
            return self.find(principal, key)

    def _take_over_stale(self, principal: str, key: str, request_digest: str) -> bool:
        now = self._clock()
        with self._db.autocommit() as connection:
            result = connection.execute(
                update(IdempotencyKeyModel)
                .where(
                    IdempotencyKeyModel.principal == principal,
                    IdempotencyKeyModel.key == key,
                    IdempotencyKeyModel.request_digest == request_digest,
                    IdempotencyKeyModel.status.is_(None),
                    IdempotencyKeyModel.created_at < now - STALE_CLAIM,
                )
                .values(created_at=now)
            )
            return bool(getattr(result, "rowcount", 0) == 1)

    def find(self, principal: str, key: str) -> IdempotencyRecord | None:
        """The stored record of a key, if any."""
        query = select(
            IdempotencyKeyModel.request_digest,
            IdempotencyKeyModel.status,
            IdempotencyKeyModel.response_body,
        ).where(IdempotencyKeyModel.principal == principal, IdempotencyKeyModel.key == key)
        with self._db.autocommit() as connection:
            row = connection.execute(query).one_or_none()
        if row is None:
            return None
        body = json.loads(row.response_body) if row.response_body is not None else None
        return IdempotencyRecord(row.request_digest, row.status, body)

    def complete(self, principal: str, key: str, status: int, response: Any) -> None:
        """Store the answer given to the request that claimed the key."""
        with self._db.autocommit() as connection:
            connection.execute(
                update(IdempotencyKeyModel)
                .where(IdempotencyKeyModel.principal == principal, IdempotencyKeyModel.key == key)
                .values(status=status, response_body=json.dumps(response))
            )

    def intent_of(self, principal: str, key: str) -> Any:
        """The intent a previous attempt recorded under this key, if any."""
        with self._db.autocommit() as connection:
            text = connection.scalar(
                select(IdempotencyKeyModel.intent).where(
                    IdempotencyKeyModel.principal == principal, IdempotencyKeyModel.key == key
                )
            )
        return None if text is None else json.loads(text)

    def record_intent(self, principal: str, key: str, intent: Any) -> None:
        """Keep what the claiming attempt is about to do, before it does it."""
        with self._db.autocommit() as connection:
            connection.execute(
                update(IdempotencyKeyModel)
                .where(IdempotencyKeyModel.principal == principal, IdempotencyKeyModel.key == key)
                .values(intent=json.dumps(intent))
            )

    def abandon(self, principal: str, key: str) -> None:
        """Give up a claim whose attempt failed after recording its intent: the next
        attempt with the same request takes it over at once and repeats the intent."""
        with self._db.autocommit() as connection:
            connection.execute(
                update(IdempotencyKeyModel)
                .where(
                    IdempotencyKeyModel.principal == principal,
                    IdempotencyKeyModel.key == key,
                    IdempotencyKeyModel.status.is_(None),
                )
                .values(created_at=self._clock() - 2 * STALE_CLAIM)
            )

    def release(self, principal: str, key: str) -> None:
        """Forget a claim whose request failed, so that a retry may run."""
        with self._db.autocommit() as connection:
            connection.execute(
                delete(IdempotencyKeyModel).where(
                    IdempotencyKeyModel.principal == principal, IdempotencyKeyModel.key == key
                )
            )
