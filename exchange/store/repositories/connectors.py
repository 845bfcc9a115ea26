"""Connectors in the store: definitions and lifecycle for the API, leases, failures,
progress and offsets for the workers.

Every write a worker makes is fenced by its lease: it only changes a connector it holds,
so a worker that lost its lease (it stalled, another took over) cannot overwrite the
offsets of the one that runs the connector now.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from exchange.errors import Conflict
from exchange.store.database import Database
from exchange.store.models_connectors import (
    ConnectorModel,
    ConnectorOffsetModel,
    ConnectWorkerModel,
)
from exchange.store.records_connectors import (
    ConnectorDraft,
    ConnectorRow,
    Failure,
    Progress,
    TargetState,
)


class ConnectorExists(Conflict):
    type_slug = "connector-exists"
    title = "A connector with this name exists"


class ConnectorRepository:
    """Reads and writes connectors and their offsets."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # Definitions and lifecycle (the API) ------------------------------------------------

    def create(self, draft: ConnectorDraft, now: datetime) -> ConnectorRow:
        """Store a new connector, RUNNING; raises `ConnectorExists` if the name is taken."""
        model = ConnectorModel(
            name=draft.name,
            department=draft.department,
            kind=draft.kind,
            class_name=draft.class_name,
            subject=draft.subject,
            grant_id=draft.grant_id,
            config=json.dumps(draft.config),
            target_state="RUNNING",
            restart_generation=0,
            failure_count=0,
            records_in=0,
            records_out=0,
            dead_lettered=0,
            created_at=now,
            updated_at=now,
        )
        try:
            with self._db.session() as session:
                session.add(model)
                session.flush()
                return _row(model)
        except IntegrityError as error:
            raise ConnectorExists(f"a connector named {draft.name!r} exists") from error

    def find(self, name: str) -> ConnectorRow | None:
        """The connector called `name`, if any."""
        with self._db.session() as session:
            model = session.get(ConnectorModel, name)
            return None if model is None else _row(model)

    def list_connectors(
        self, department: str | None, after: str | None, limit: int
    ) -> list[ConnectorRow]:
        """Connectors by name after `after`, of one department or of all (None)."""
        query = select(ConnectorModel).order_by(ConnectorModel.name).limit(limit)
        if department is not None:
            query = query.where(ConnectorModel.department == department)
        if after is not None:
            query = query.where(ConnectorModel.name > after)
        with self._db.session() as session:
            return [_row(model) for model in session.scalars(query)]

    def delete(self, name: str) -> bool:
        """Forget a connector and its offsets; False if there was none."""
        with self._db.session() as session:
            session.execute(
                delete(ConnectorOffsetModel).where(ConnectorOffsetModel.connector == name)
            )
            result = session.execute(delete(ConnectorModel).where(ConnectorModel.name == name))
            return bool(getattr(result, "rowcount", 0))

    def set_target_state(self, name: str, state: TargetState, now: datetime) -> None:
        """What the connector should be doing; its worker follows on its next tick."""
        self._update(name, target_state=state, updated_at=now)

    def request_restart(self, name: str, now: datetime) -> None:
        """Ask the holding worker to restart the connector, forgetting its failure and the
        automatic restarts used so far. The target state stays (as in Kafka Connect): a
        PAUSED connector is reopened and stays PAUSED, a STOPPED one stays STOPPED."""
        with self._db.session() as session:
            session.execute(
                update(ConnectorModel)
                .where(ConnectorModel.name == name)
                .values(
                    restart_generation=ConnectorModel.restart_generation + 1,
                    failed_at=None,
                    failure_count=0,
                    next_restart_at=None,
                    updated_at=now,
                )
            )

    # Offsets ----------------------------------------------------------------------------

    def offsets(self, name: str) -> dict[str, Any]:
        """The connector's offsets by partition."""
        with self._db.session() as session:
            rows = session.scalars(
                select(ConnectorOffsetModel)
                .where(ConnectorOffsetModel.connector == name)
                .order_by(ConnectorOffsetModel.source_partition)
            )
            return {row.source_partition: json.loads(row.offset) for row in rows}

    def alter_offsets(self, name: str, changes: Mapping[str, Any], now: datetime) -> None:
        """Set the offsets of some partitions (None: forget that partition). For the API,
        which only allows it while the connector is stopped."""
        with self._db.session() as session:
            for partition, offset in changes.items():
                _write_offset(session, name, partition, offset, now)

    def reset_offsets(self, name: str) -> None:
        """Forget every offset: the connector starts from the beginning."""
        with self._db.session() as session:
            session.execute(
                delete(ConnectorOffsetModel).where(ConnectorOffsetModel.connector == name)
            )

    # Leases and reports (the workers) ---------------------------------------------------

    def claimable(self, now: datetime) -> list[str]:
        """Names of connectors no live worker holds and that should run (or pause) now."""
        query = (
            select(ConnectorModel.name)
            .where(ConnectorModel.target_state != "STOPPED", _lease_free(now), _may_run(now))
            .order_by(ConnectorModel.name)
        )
        with self._db.session() as session:
            return list(session.scalars(query))

    def claim(self, name: str, owner: str, now: datetime, until: datetime) -> ConnectorRow | None:
        """Take the lease of a free connector; None if another worker was first."""
        with self._db.session() as session:
            result = session.execute(
                update(ConnectorModel)
                .where(
                    ConnectorModel.name == name,
                    ConnectorModel.target_state != "STOPPED",
                    or_(_lease_free(now), ConnectorModel.lease_owner == owner),
                    _may_run(now),
                )
                .values(lease_owner=owner, lease_expires_at=until, failed_at=None)
            )
            if getattr(result, "rowcount", 0) != 1:
                return None
            model = session.get(ConnectorModel, name)
            return None if model is None else _row(model)

    def renew(self, name: str, owner: str, until: datetime) -> ConnectorRow | None:
        """Extend a lease this worker holds; None if it lost it (or the connector is gone)."""
        with self._db.session() as session:
            result = session.execute(
                update(ConnectorModel)
                .where(ConnectorModel.name == name, ConnectorModel.lease_owner == owner)
                .values(lease_expires_at=until)
            )
            if getattr(result, "rowcount", 0) != 1:
                return None
            model = session.get(ConnectorModel, name)
            return None if model is None else _row(model)

    def release(self, name: str, owner: str) -> None:
        """Give the lease back, so another worker (or an offsets change) may proceed."""
        with self._db.session() as session:
            session.execute(
                update(ConnectorModel)
                .where(ConnectorModel.name == name, ConnectorModel.lease_owner == owner)
                .values(lease_owner=None, lease_expires_at=None)
            )

    def record_failure(self, name: str, owner: str, failure: Failure, now: datetime) -> None:
        """Mark the connector FAILED and let its lease go; it restarts after back-off."""
        with self._db.session() as session:
            session.execute(
                update(ConnectorModel)
                .where(ConnectorModel.name == name, ConnectorModel.lease_owner == owner)
                .values(
                    failed_at=now,
                    last_error=failure.error,
                    last_trace=failure.trace,
                    failure_count=failure.failure_count,
                    next_restart_at=failure.next_restart_at,
                    lease_owner=None,
                    lease_expires_at=None,
                    updated_at=now,
                )
            )

    def record_progress(self, name: str, owner: str, progress: Progress, now: datetime) -> None:
        """Add a step's counters; a step that moved records also ends a failure streak."""
        values: dict[str, Any] = {
            "records_in": ConnectorModel.records_in + progress.records_in,
            "records_out": ConnectorModel.records_out + progress.records_out,
            "dead_lettered": ConnectorModel.dead_lettered + progress.dead_lettered,
            "lag": progress.lag,
            "updated_at": now,
        }
        if progress.records_in or progress.records_out:
            values["failure_count"] = 0
        self._update_held(name, owner, **values)

    def heartbeat(self, worker_id: str, now: datetime, until: datetime) -> int:
        """Note the worker live until `until`, forget workers whose heartbeat lapsed, and
        count the live ones (this one included)."""
        alive = ConnectWorkerModel.expires_at > now
        with self._db.session() as session:
            session.execute(delete(ConnectWorkerModel).where(ConnectWorkerModel.expires_at <= now))
            # Update, then insert if absent: only the worker itself writes its own row.
            renewed = session.execute(
                update(ConnectWorkerModel)
                .where(ConnectWorkerModel.worker_id == worker_id)
                .values(expires_at=until)
            )
            if getattr(renewed, "rowcount", 0) != 1:
                session.execute(
                    insert(ConnectWorkerModel).values(worker_id=worker_id, expires_at=until)
                )
            counted = session.scalar(
                select(func.count()).select_from(ConnectWorkerModel).where(alive)
            )
            return int(counted or 0)

    def forget_worker(self, worker_id: str) -> None:
        """The worker stops: the others need not wait for its heartbeat to lapse."""
        with self._db.session() as session:
            session.execute(
                delete(ConnectWorkerModel).where(ConnectWorkerModel.worker_id == worker_id)
            )

    def runnable_count(self) -> int:
        """How many connectors workers share: not STOPPED, and not FAILED for good."""
        query = (
            select(func.count())
            .select_from(ConnectorModel)
            .where(
                ConnectorModel.target_state != "STOPPED",
                or_(
                    ConnectorModel.failed_at.is_(None),
                    ConnectorModel.next_restart_at.is_not(None),
                ),
            )
        )
        with self._db.session() as session:
            return int(session.scalar(query) or 0)

    def save_offset(
        self, name: str, owner: str, partition: str, offset: Any, now: datetime
    ) -> bool:
        """Store one partition's offset (None: forget it) if this worker still holds the
        connector; False (nothing written) if it does not."""
        with self._db.session() as session:
            held = session.scalar(
                select(ConnectorModel.name)
                .where(ConnectorModel.name == name, ConnectorModel.lease_owner == owner)
                .with_for_update()
            )
            if held is None:
                return False
            _write_offset(session, name, partition, offset, now)
            return True

    # ------------------------------------------------------------------------------------

    def _update(self, name: str, **values: Any) -> None:
        with self._db.session() as session:
            session.execute(
                update(ConnectorModel).where(ConnectorModel.name == name).values(**values)
            )

    def _update_held(self, name: str, owner: str, **values: Any) -> None:
        with self._db.session() as session:
            session.execute(
                update(ConnectorModel)
                .where(ConnectorModel.name == name, ConnectorModel.lease_owner == owner)
                .values(**values)
            )


def _lease_free(now: datetime) -> ColumnElement[bool]:
    return or_(ConnectorModel.lease_owner.is_(None), ConnectorModel.lease_expires_at <= now)


def _may_run(now: datetime) -> ColumnElement[bool]:
    """Not failed, or failed with an automatic restart due."""
    return or_(
        ConnectorModel.failed_at.is_(None),
        and_(ConnectorModel.next_restart_at.is_not(None), ConnectorModel.next_restart_at <= now),
    )


def _write_offset(session: Session, name: str, partition: str, offset: Any, now: datetime) -> None:
    existing = session.get(ConnectorOffsetModel, (name, partition))
    if offset is None:
        if existing is not None:
            session.delete(existing)
        return
    if existing is None:
        session.add(
            ConnectorOffsetModel(
                connector=name,
                source_partition=partition,
                offset=json.dumps(offset),
                updated_at=now,
            )
        )
    else:
        existing.offset = json.dumps(offset)
        existing.updated_at = now


def _row(model: ConnectorModel) -> ConnectorRow:
    return ConnectorRow(
        name=model.name,
        department=model.department,
        kind="source" if model.kind == "source" else "sink",
        class_name=model.class_name,
        subject=model.subject,
        grant_id=model.grant_id,
        config=json.loads(model.config),
        target_state=_target_state(model.target_state),
        restart_generation=model.restart_generation,
        lease_owner=model.lease_owner,
        lease_expires_at=model.lease_expires_at,
        failed_at=model.failed_at,
        failure_count=model.failure_count,
        next_restart_at=model.next_restart_at,
        last_error=model.last_error,
        last_trace=model.last_trace,
        records_in=model.records_in,
        records_out=model.records_out,
        dead_lettered=model.dead_lettered,
        lag=model.lag,
        created_at=model.created_at,
        updated_at=model.updated_at,
    )


def _target_state(text: str) -> TargetState:
    if text == "PAUSED":
        return "PAUSED"
    if text == "STOPPED":
        return "STOPPED"
    return "RUNNING"
