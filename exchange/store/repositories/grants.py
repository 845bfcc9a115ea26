"""Grants as stored: the live version of each, and the append-only history of changes."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.exc import IntegrityError

from exchange.errors import Conflict, NotFound
from exchange.policy.grants import GrantChange, GrantNotFound
from exchange.store.database import Database
from exchange.store.models_grants import GrantEventModel, GrantModel
from exchange.store.records_grants import Grant, GrantEvent, GrantFilters


class GrantChanged(Conflict):
    """Another change to the grant was stored first; reload it and decide again."""

    type_slug = "grant-changed"
    title = "Grant changed meanwhile"


class GrantRepository:
    """Stores grants with optimistic versioning: a change applies only to the version it
    was made on, and every change is kept in `grant_events` in the same transaction."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def add(self, change: GrantChange) -> Grant:
        """Stores a new grant and its first event.

        Raises `NotFound` when its subject, owner or consumer does not exist, and
        `Conflict` when the id is taken.
        """
        grant = change.grant
        try:
            with self._db.session() as session:
                session.add(GrantModel(**_grant_columns(grant)))
                session.flush()
                session.add(GrantEventModel(**_event_columns(change.event)))
        except IntegrityError as error:
            if self.find(grant.id) is not None:
                raise Conflict(f"grant {grant.id} already exists") from error
            raise NotFound(
                f"subject {grant.subject!r} or department {grant.consumer!r} does not exist"
            ) from error
        return grant

    def apply(self, change: GrantChange) -> Grant:
        """Stores a change made on version `change.previous_version`, with its event.

        Raises `GrantChanged` when the stored grant has moved past that version, and
        `GrantNotFound` when there is no such grant.
        """
        grant = change.grant
        statement = (
            update(GrantModel)
            .where(GrantModel.id == grant.id, GrantModel.version == change.previous_version)
            .values(**_grant_columns(grant))
        )
        with self._db.session() as session:
            updated = session.execute(statement).rowcount  # type: ignore[attr-defined]
            if updated == 1:
                session.add(GrantEventModel(**_event_columns(change.event)))
                return grant
        if self.find(grant.id) is None:
            raise GrantNotFound(f"no grant {grant.id!r}")
        raise GrantChanged(
            f"grant {grant.id} changed after version {change.previous_version}; reload it"
        )

    def get(self, grant_id: str) -> Grant:
        """The live grant with this id; raises `GrantNotFound` when there is none."""
        found = self.find(grant_id)
        if found is None:
            raise GrantNotFound(f"no grant {grant_id!r}")
        return found

    def find(self, grant_id: str) -> Grant | None:
        """The live grant with this id, or None."""
        with self._db.session() as session:
            row = session.get(GrantModel, grant_id)
            return None if row is None else _grant(row)

    def list_grants(
        self, filters: GrantFilters, after: str | None = None, limit: int = 100
    ) -> list[Grant]:
        """Grants matching `filters` in the order they were requested (by id), the first
        `limit` after the grant id `after`."""
        query = select(GrantModel).where(*_conditions(filters)).order_by(GrantModel.id)
        if after is not None:
            query = query.where(GrantModel.id > after)
        with self._db.session() as session:
            return [_grant(row) for row in session.scalars(query.limit(limit))]

    def history(self, grant_id: str) -> list[GrantEvent]:
        """Every change of a grant, oldest first (empty when there is no such grant)."""
        query = (
            select(GrantEventModel)
            .where(GrantEventModel.grant_id == grant_id)
            .order_by(GrantEventModel.version)
        )
        with self._db.session() as session:
            return [_event(row) for row in session.scalars(query)]


def _conditions(filters: GrantFilters) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    for column, value in (
        (GrantModel.subject, filters.subject),
        (GrantModel.status, filters.status),
        (GrantModel.consumer, filters.consumer),
    ):
        if value is not None:
            conditions.append(column == value)
    if filters.visible_to is not None:
        conditions.append(
            or_(GrantModel.consumer == filters.visible_to, GrantModel.owner == filters.visible_to)
        )
    return conditions


def _fields_text(fields: tuple[str, ...] | None) -> str | None:
    return None if fields is None else json.dumps(list(fields))


def _fields_of(text: str | None) -> tuple[str, ...] | None:
    return None if text is None else tuple(json.loads(text))


def _grant_columns(grant: Grant) -> dict[str, Any]:
    return {
        "id": grant.id,
        "subject": grant.subject,
        "owner": grant.owner,
        "consumer": grant.consumer,
        "purpose": grant.purpose,
        "fields": _fields_text(grant.fields),
        "expires_at": grant.expires_at,
        "status": grant.status,
        "version": grant.version,
        "created_at": grant.created_at,
        "updated_at": grant.updated_at,
    }


def _event_columns(event: GrantEvent) -> dict[str, Any]:
    return {
        "grant_id": event.grant_id,
        "version": event.version,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "actor": event.actor,
        "actor_role": event.actor_role,
        "at": event.at,
        "fields": _fields_text(event.fields),
        "expires_at": event.expires_at,
    }


def _grant(row: GrantModel) -> Grant:
    return Grant(
        id=row.id,
        subject=row.subject,
        owner=row.owner,
        consumer=row.consumer,
        purpose=row.purpose,
        fields=_fields_of(row.fields),
        expires_at=row.expires_at,
        status=row.status,
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _event(row: GrantEventModel) -> GrantEvent:
    return GrantEvent(
        grant_id=row.grant_id,
        version=row.version,
        from_status=row.from_status,
        to_status=row.to_status,
        actor=row.actor,
        actor_role=row.actor_role,
        at=row.at,
        fields=_fields_of(row.fields),
        expires_at=row.expires_at,
    )
