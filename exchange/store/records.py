"""Plain values the repositories return: frozen snapshots of stored rows, never ORM objects."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

PrincipalKind = Literal["department", "operator"]
OperatorRole = Literal["admin", "auditor"]
AuditDecision = Literal["allow", "deny", "error"]


@dataclass(frozen=True)
class DepartmentRow:
    """A registered department: `code` is its stable identifier (`market-regulation`)."""

    code: str
    name: str
    contact: str
    created_at: datetime


@dataclass(frozen=True)
class OperatorRow:
    """A platform operator: an administrator or an auditor."""

    name: str
    role: OperatorRole
    created_at: datetime


@dataclass(frozen=True)
class KeyRow:
    """An Ed25519 public key of a department or an operator.

    `key_id` is the key's RFC 7638 JWK thumbprint; `public_key` is the raw 32-byte key in
    base64url, as in a JWK's `x`. A key with `revoked_at` set authenticates nothing.
    """

    key_id: str
    principal_kind: PrincipalKind
    principal_name: str
    public_key: str
    created_at: datetime
    revoked_at: datetime | None

    @property
    def is_live(self) -> bool:
        """Whether the key may still authenticate requests."""
        return self.revoked_at is None


@dataclass(frozen=True)
class HubKeyRow:
    """One of the hub's own signing keys; retired keys stay published for verification."""

    key_id: str
    public_key: str
    created_at: datetime
    retired_at: datetime | None


@dataclass(frozen=True)
class AuditEntryDraft:
    """An audit entry before the store has given it its sequence number."""

    at: datetime
    actor: str
    action: str
    decision: AuditDecision
    actor_role: str | None = None
    key_id: str | None = None
    resource: str | None = None
    subject: str | None = None
    reason: str | None = None
    status: int | None = None
    request_id: str | None = None
    request_digest: str | None = None
    record_ids: tuple[str, ...] = ()
    purpose: str | None = None
    grant_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class AuditEntryRow(AuditEntryDraft):
    """A stored audit entry; `seq` orders the log (1, 2, 3, ...)."""

    seq: int


@dataclass(frozen=True)
class AuditFilters:
    """Which audit entries a query returns; unset fields do not filter.

    `since` is inclusive and `until` exclusive; `record_id` matches entries that name
    that record among their `record_ids`.
    """

    actor: str | None = None
    subject: str | None = None
    action: str | None = None
    decision: AuditDecision | None = None
    record_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None
