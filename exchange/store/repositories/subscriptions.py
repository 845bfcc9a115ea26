"""Subscriptions: which department receives which subject under which grant."""

from __future__ import annotations

from sqlalchemy import select

from exchange.store.clock import Clock, utc_now
from exchange.store.database import Database
from exchange.store.models_receive import SubscriptionModel
from exchange.store.records_receive import SubscriptionRow, SubscriptionStart


class SubscriptionRepository:
    """Stores subscriptions; their delivery state lives in the transport's consumer groups."""

    def __init__(self, db: Database, clock: Clock = utc_now) -> None:
        self._db = db
        self._clock = clock

    def add(
        self,
        subscription_id: str,
        department: str,
        subject: str,
        grant_id: str,
        start: SubscriptionStart,
    ) -> SubscriptionRow:
        """Record a new subscription."""
        row = SubscriptionModel(
            id=subscription_id,
            department=department,
            subject=subject,
            grant_id=grant_id,
            start=start,
            created_at=self._clock(),
        )
        with self._db.session() as session:
            session.add(row)
        return _subscription(row)

    def find(self, subscription_id: str) -> SubscriptionRow | None:
        """The subscription with this id, or None."""
        with self._db.session() as session:
            row = session.get(SubscriptionModel, subscription_id)
            return None if row is None else _subscription(row)

    def list_for(self, department: str) -> list[SubscriptionRow]:
        """A department's subscriptions, oldest first."""
        query = (
            select(SubscriptionModel)
            .where(SubscriptionModel.department == department)
            .order_by(SubscriptionModel.created_at, SubscriptionModel.id)
        )
        with self._db.session() as session:
            return [_subscription(row) for row in session.scalars(query)]


def _subscription(row: SubscriptionModel) -> SubscriptionRow:
    return SubscriptionRow(
        id=row.id,
        department=row.department,
        subject=row.subject,
        grant_id=row.grant_id,
        start=row.start,
        created_at=row.created_at,
    )
