"""The store: SQLAlchemy models, Alembic migrations (`exchange.store.migrate`, imported only
by what migrates: Alembic is large) and the repositories over them.

SQLite is the embedded default and PostgreSQL the production database; both behave the
same through this package. Nothing outside it imports SQLAlchemy.
"""

from exchange.store.database import Database, create_engine_for
from exchange.store.errors import StoreUnavailable
from exchange.store.records import (
    AuditDecision,
    AuditEntryDraft,
    AuditEntryRow,
    AuditFilters,
    DepartmentRow,
    HubKeyRow,
    KeyRow,
    OperatorRole,
    OperatorRow,
    PrincipalKind,
)
from exchange.store.repositories import (
    AuditRepository,
    HubKeyRepository,
    IdentityRepository,
    NonceRepository,
)

__all__ = [
    "AuditDecision",
    "AuditEntryDraft",
    "AuditEntryRow",
    "AuditFilters",
    "AuditRepository",
    "Database",
    "DepartmentRow",
    "HubKeyRepository",
    "HubKeyRow",
    "IdentityRepository",
    "KeyRow",
    "NonceRepository",
    "OperatorRole",
    "OperatorRow",
    "PrincipalKind",
    "StoreUnavailable",
    "create_engine_for",
]
