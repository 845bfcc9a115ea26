"""Repositories: the only code that knows SQL. Each returns plain `records` values,
re-exported here so callers need one import."""

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
from exchange.store.repositories.audit import AuditRepository
from exchange.store.repositories.hub_keys import HubKeyRepository
from exchange.store.repositories.identity import IdentityRepository
from exchange.store.repositories.nonces import NonceRepository

__all__ = [
    "AuditDecision",
    "AuditEntryDraft",
    "AuditEntryRow",
    "AuditFilters",
    "AuditRepository",
    "DepartmentRow",
    "HubKeyRepository",
    "HubKeyRow",
    "IdentityRepository",
    "KeyRow",
    "NonceRepository",
    "OperatorRole",
    "OperatorRow",
    "PrincipalKind",
]
