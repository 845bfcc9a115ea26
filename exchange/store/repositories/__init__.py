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
from exchange.store.records_audit import AuditSearch, CheckpointRow, SequencedEntry, StoredLeaf
from exchange.store.records_grants import GrantFilters
from exchange.store.records_receive import LatestRecordRow, SubscriptionRow, SubscriptionStart
from exchange.store.repositories.audit import AuditRepository, SequenceConflict
from exchange.store.repositories.checkpoints import CheckpointExists, CheckpointRepository
from exchange.store.repositories.grants import GrantChanged, GrantRepository
from exchange.store.repositories.hub_keys import HubKeyRepository
from exchange.store.repositories.identity import IdentityRepository, SigningKey
from exchange.store.repositories.latest_records import LatestRecordRepository
from exchange.store.repositories.nonces import NonceRepository
from exchange.store.repositories.subjects import SubjectRepository
from exchange.store.repositories.subscriptions import SubscriptionRepository

__all__ = [
    "AuditDecision",
    "AuditEntryDraft",
    "AuditEntryRow",
    "AuditFilters",
    "AuditRepository",
    "AuditSearch",
    "CheckpointExists",
    "CheckpointRepository",
    "CheckpointRow",
    "DepartmentRow",
    "GrantChanged",
    "GrantFilters",
    "GrantRepository",
    "HubKeyRepository",
    "HubKeyRow",
    "IdentityRepository",
    "KeyRow",
    "LatestRecordRepository",
    "LatestRecordRow",
    "NonceRepository",
    "OperatorRole",
    "OperatorRow",
    "PrincipalKind",
    "SequenceConflict",
    "SequencedEntry",
    "SigningKey",
    "StoredLeaf",
    "SubjectRepository",
    "SubscriptionRepository",
    "SubscriptionRow",
    "SubscriptionStart",
]
