"""The audit log's signed checkpoints (tree heads), one per tree size."""

from __future__ import annotations

import json

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from exchange.errors import Conflict
from exchange.store.database import Database
from exchange.store.models_audit import AuditCheckpointModel
from exchange.store.records_audit import CheckpointRow


class CheckpointExists(Conflict):
    """A checkpoint of this tree size is already stored."""

    type_slug = "audit-checkpoint-exists"
    title = "Audit checkpoint exists"


class CheckpointRepository:
    """Append-only storage of signed checkpoints, keyed and ordered by tree size."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def add(self, checkpoint: CheckpointRow) -> None:
        """Stores a checkpoint; raises `CheckpointExists` if its tree size already has one."""
        values = {
            "tree_size": checkpoint.tree_size,
            "root_hash": checkpoint.root_hash,
            "at": checkpoint.at,
            "key_id": checkpoint.key_id,
            "signature": checkpoint.signature,
            "frontier": json.dumps([root.hex() for root in checkpoint.frontier]),
        }
        try:
            with self._db.session() as session:
                session.execute(insert(AuditCheckpointModel).values(values))
        except IntegrityError as error:
            raise CheckpointExists(
                f"a checkpoint of tree size {checkpoint.tree_size} exists"
            ) from error

    def latest(self) -> CheckpointRow | None:
        """The checkpoint of the largest tree, if any."""
        query = select(AuditCheckpointModel).order_by(AuditCheckpointModel.tree_size.desc())
        with self._db.session() as session:
            row = session.scalars(query.limit(1)).first()
            return None if row is None else _checkpoint(row)

    def find(self, tree_size: int) -> CheckpointRow | None:
        """The checkpoint of exactly this tree size, if any."""
        with self._db.session() as session:
            row = session.get(AuditCheckpointModel, tree_size)
            return None if row is None else _checkpoint(row)

    def list(
        self, min_size: int = 0, max_size: int | None = None, limit: int = 1000
    ) -> list[CheckpointRow]:
        """Checkpoints with `min_size <= tree_size <= max_size`, smallest first."""
        query = select(AuditCheckpointModel).where(AuditCheckpointModel.tree_size >= min_size)
        if max_size is not None:
            query = query.where(AuditCheckpointModel.tree_size <= max_size)
        query = query.order_by(AuditCheckpointModel.tree_size).limit(limit)
        with self._db.session() as session:
            return [_checkpoint(row) for row in session.scalars(query)]


def _checkpoint(row: AuditCheckpointModel) -> CheckpointRow:
    return CheckpointRow(
        tree_size=int(row.tree_size),
        root_hash=bytes(row.root_hash),
        at=row.at,
        key_id=row.key_id,
        signature=row.signature,
        frontier=tuple(bytes.fromhex(root) for root in json.loads(row.frontier)),
    )
