"""Departments, operators and the public keys they sign requests with."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, bindparam, func, select
from sqlalchemy.exc import IntegrityError

from exchange.errors import Conflict, NotFound
from exchange.store.clock import Clock, utc_now
from exchange.store.database import Database
from exchange.store.models import DepartmentModel, OperatorModel, PrincipalKeyModel
from exchange.store.records import (
    DepartmentRow,
    KeyRow,
    OperatorRole,
    OperatorRow,
    PrincipalKind,
)


@dataclass(frozen=True)
class SigningKey:
    """A key as request authentication needs it: the key, and its operator's role when an
    operator holds it (None for a department's key, or an operator no longer on file)."""

    key: KeyRow
    operator_role: OperatorRole | None


# Built once (a constant statement skips SQL compilation after its first use).
_SIGNING_KEY_QUERY = (
    select(
        PrincipalKeyModel.key_id,
        PrincipalKeyModel.principal_kind,
        PrincipalKeyModel.principal_name,
        PrincipalKeyModel.public_key,
        PrincipalKeyModel.created_at,
        PrincipalKeyModel.revoked_at,
        OperatorModel.role,
    )
    .outerjoin(
        OperatorModel,
        and_(
            PrincipalKeyModel.principal_kind == "operator",
            OperatorModel.name == PrincipalKeyModel.principal_name,
        ),
    )
    .where(PrincipalKeyModel.key_id == bindparam("key_id"))
)


class IdentityRepository:
    """Who may talk to the hub: departments, operators and their keys."""

    def __init__(self, db: Database, clock: Clock = utc_now) -> None:
        self._db = db
        self._clock = clock

    def add_department(self, code: str, name: str, contact: str) -> DepartmentRow:
        """Registers a department; raises `Conflict` when the code is taken."""
        row = DepartmentModel(code=code, name=name, contact=contact, created_at=self._clock())
        try:
            with self._db.session() as session:
                session.add(row)
        except IntegrityError as error:
            raise Conflict(f"department {code!r} already exists", code=code) from error
        return _department(row)

    def get_department(self, code: str) -> DepartmentRow:
        """The department with `code`; raises `NotFound` when there is none."""
        found = self.find_department(code)
        if found is None:
            raise NotFound(f"no department {code!r}", code=code)
        return found

    def find_department(self, code: str) -> DepartmentRow | None:
        """The department with `code`, or None."""
        with self._db.session() as session:
            row = session.get(DepartmentModel, code)
            return None if row is None else _department(row)

    def list_departments(self, after: str | None = None, limit: int = 100) -> list[DepartmentRow]:
        """Departments ordered by code, the first `limit` after the cursor code `after`."""
        query = select(DepartmentModel).order_by(DepartmentModel.code).limit(limit)
        if after is not None:
            query = query.where(DepartmentModel.code > after)
        with self._db.session() as session:
            return [_department(row) for row in session.scalars(query)]

    def add_operator(self, name: str, role: OperatorRole) -> OperatorRow:
        """Registers an operator; raises `Conflict` when the name is taken."""
        row = OperatorModel(name=name, role=role, created_at=self._clock())
        try:
            with self._db.session() as session:
                session.add(row)
        except IntegrityError as error:
            raise Conflict(f"operator {name!r} already exists", name=name) from error
        return _operator(row)

    def get_operator(self, name: str) -> OperatorRow:
        """The operator called `name`; raises `NotFound` when there is none."""
        found = self.find_operator(name)
        if found is None:
            raise NotFound(f"no operator {name!r}", name=name)
        return found

    def find_operator(self, name: str) -> OperatorRow | None:
        """The operator called `name`, or None."""
        with self._db.session() as session:
            row = session.get(OperatorModel, name)
            return None if row is None else _operator(row)

    def count_operators(self) -> int:
        """How many operators exist (zero means the hub was never initialised)."""
        with self._db.session() as session:
            return session.scalar(select(func.count()).select_from(OperatorModel)) or 0

    def add_key(self, kind: PrincipalKind, name: str, key_id: str, public_key: str) -> KeyRow:
        """Registers a public key for a department or an operator.

        Raises `NotFound` when the principal does not exist and `Conflict` when the key is
        already registered (live or revoked: a revoked key never comes back).
        """
        row = PrincipalKeyModel(
            key_id=key_id,
            principal_kind=kind,
            principal_name=name,
            public_key=public_key,
            created_at=self._clock(),
            revoked_at=None,
        )
        try:
            with self._db.session() as session:
                if session.get(_PRINCIPAL_MODELS[kind], name) is None:
                    raise NotFound(f"no {kind} {name!r}", kind=kind, name=name)
                session.add(row)
        except IntegrityError as error:
            raise Conflict(f"key {key_id!r} is already registered", key_id=key_id) from error
        return _key(row)

    def get_key(self, key_id: str) -> KeyRow:
        """The key with `key_id`, revoked or not; raises `NotFound` when there is none."""
        found = self.find_key(key_id)
        if found is None:
            raise NotFound(f"no key {key_id!r}", key_id=key_id)
        return found

    def find_key(self, key_id: str) -> KeyRow | None:
        """The key with `key_id`, revoked or not, or None."""
        with self._db.session() as session:
            row = session.get(PrincipalKeyModel, key_id)
            return None if row is None else _key(row)

    def find_signing_key(self, key_id: str) -> SigningKey | None:
        """The key with `key_id` (revoked or not) and its operator's role, or None: one
        statement, read afresh on every call so that a revocation counts at once."""
        with self._db.autocommit() as connection:
            row = connection.execute(_SIGNING_KEY_QUERY, {"key_id": key_id}).one_or_none()
        if row is None:
            return None
        key = KeyRow(
            key_id=row.key_id,
            principal_kind=row.principal_kind,
            principal_name=row.principal_name,
            public_key=row.public_key,
            created_at=row.created_at,
            revoked_at=row.revoked_at,
        )
        return SigningKey(key, row.role)

    def list_keys(self, kind: PrincipalKind, name: str) -> list[KeyRow]:
        """Every key of one principal, revoked ones included, oldest first."""
        query = (
            select(PrincipalKeyModel)
            .where(
                PrincipalKeyModel.principal_kind == kind,
                PrincipalKeyModel.principal_name == name,
            )
            .order_by(PrincipalKeyModel.created_at, PrincipalKeyModel.key_id)
        )
        with self._db.session() as session:
            return [_key(row) for row in session.scalars(query)]

    def revoke_key(self, key_id: str, at: datetime) -> KeyRow:
        """Revokes a key from `at` on; revoking it again keeps the first revocation time.

        Raises `NotFound` when there is no such key.
        """
        with self._db.session() as session:
            row = session.get(PrincipalKeyModel, key_id, with_for_update=True)
            if row is None:
                raise NotFound(f"no key {key_id!r}", key_id=key_id)
            if row.revoked_at is None:
                row.revoked_at = at
            session.flush()
            return _key(row)


_PRINCIPAL_MODELS: dict[str, type[DepartmentModel] | type[OperatorModel]] = {
    "department": DepartmentModel,
    "operator": OperatorModel,
}


def _department(row: DepartmentModel) -> DepartmentRow:
    return DepartmentRow(
        code=row.code, name=row.name, contact=row.contact, created_at=row.created_at
    )


def _operator(row: OperatorModel) -> OperatorRow:
    return OperatorRow(name=row.name, role=row.role, created_at=row.created_at)


def _key(row: PrincipalKeyModel) -> KeyRow:
    return KeyRow(
        key_id=row.key_id,
        principal_kind=row.principal_kind,
        principal_name=row.principal_name,
        public_key=row.public_key,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )
