"""Replay protection: the request-signature nonces already seen, shared by every hub process."""

from __future__ import annotations

import itertools
from datetime import datetime

from sqlalchemy import delete, insert, update
from sqlalchemy.exc import IntegrityError

from exchange.store.clock import Clock, utc_now
from exchange.store.database import Database
from exchange.store.models import UsedNonceModel

# Built once: a constant statement's compiled form is found in the cache at once.
_INSERT_NONCE = insert(UsedNonceModel)
# Every signed request adds a row; one request in this many also forgets the expired ones,
# so the table stays about one signature window of traffic long without a separate job.
PURGE_EVERY = 1000


class NonceRepository:
    """Remembers (key id, nonce) pairs until they expire.

    The table's primary key does the deciding, so two hub processes (or threads) that see
    the same nonce at the same moment cannot both accept it: exactly one insert wins.
    """

    def __init__(
        self, db: Database, clock: Clock = utc_now, purge_every: int = PURGE_EVERY
    ) -> None:
        self._db = db
        self._clock = clock
        self._purge_every = purge_every
        self._remembered = itertools.count(1)  # thread-safe under the GIL

    def remember(self, key_id: str, nonce: str, expires_at: datetime) -> bool:
        """Records a nonce as used until `expires_at`.

        Returns False when it is already recorded and not yet expired (a replay); an
        expired record that was not purged yet is taken over and counts as new.
        """
        if next(self._remembered) % self._purge_every == 0:
            self.purge_expired(self._clock())
        # One autocommit statement: the hot path of every signed request.
        try:
            with self._db.autocommit() as connection:
                connection.execute(
                    _INSERT_NONCE, {"key_id": key_id, "nonce": nonce, "expires_at": expires_at}
                )
        except IntegrityError:
            return self._take_over_expired(key_id, nonce, expires_at)
        return True

    def _take_over_expired(self, key_id: str, nonce: str, expires_at: datetime) -> bool:
        # The WHERE clause is re-checked under the row lock, so of two racing take-overs
        # only the first matches.
        with self._db.autocommit() as connection:
            result = connection.execute(
                update(UsedNonceModel)
                .where(
                    UsedNonceModel.key_id == key_id,
                    UsedNonceModel.nonce == nonce,
                    UsedNonceModel.expires_at <= self._clock(),
                )
                .values(expires_at=expires_at)
            )
            return result.rowcount == 1

    def purge_expired(self, now: datetime) -> int:
        """Forgets every nonce expired at `now`; returns how many were forgotten."""
        with self._db.session() as session:
            result = session.connection().execute(
                delete(UsedNonceModel).where(UsedNonceModel.expires_at <= now)
            )
            return result.rowcount
