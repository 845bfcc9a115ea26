"""The hub's own signing keys, current and retired, as published at `/v1/hub/keys`."""

from __future__ import annotations

import builtins
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from exchange.errors import Conflict, NotFound
from exchange.store.clock import Clock, utc_now
from exchange.store.database import Database
from exchange.store.models import HubKeyModel
from exchange.store.records import HubKeyRow


class HubKeyRepository:
    """Public halves of the hub's signing keys; retired keys stay listed for verification."""

    def __init__(self, db: Database, clock: Clock = utc_now) -> None:
        self._db = db
        self._clock = clock

    def add(self, key_id: str, public_key: str) -> HubKeyRow:
        """Records a new current key; raises `Conflict` when `key_id` is already known."""
        row = HubKeyModel(
            key_id=key_id, public_key=public_key, created_at=self._clock(), retired_at=None
        )
        try:
            with self._db.session() as session:
                session.add(row)
        except IntegrityError as error:
            raise Conflict(f"hub key {key_id!r} already exists", key_id=key_id) from error
        return _hub_key(row)

    def retire(self, key_id: str, at: datetime) -> HubKeyRow:
        """Marks a key retired from `at` on (kept if already retired); `NotFound` if unknown."""
        with self._db.session() as session:
            row = session.get(HubKeyModel, key_id, with_for_update=True)
            if row is None:
                raise NotFound(f"no hub key {key_id!r}", key_id=key_id)
            if row.retired_at is None:
                row.retired_at = at
            session.flush()
            return _hub_key(row)

    def list(self) -> builtins.list[HubKeyRow]:
        """Every hub key, current and retired, oldest first."""
        query = select(HubKeyModel).order_by(HubKeyModel.created_at, HubKeyModel.key_id)
        with self._db.session() as session:
            return [_hub_key(row) for row in session.scalars(query)]


def _hub_key(row: HubKeyModel) -> HubKeyRow:
    return HubKeyRow(
        key_id=row.key_id,
        public_key=row.public_key,
        created_at=row.created_at,
        retired_at=row.retired_at,
    )
