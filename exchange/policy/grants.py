"""Grants: which consumer department may receive which subject, for what purpose, which
fields, and until when.

A consumer requests a grant; the subject's owner (or an administrator) approves or rejects
it; the owner, an administrator or the consumer may revoke it. Each change yields a new
`version` of the grant and a `GrantEvent`, so the history proves which grant was valid at
any moment. Deliveries are decided by `authorise_delivery` against the live grant and
shaped by `project`. Everything here is plain Python: the store and the API call it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from exchange.errors import Conflict, Forbidden, NotFound, ValidationFailed
from exchange.policy.field_pointers import lies_within, normalise_field_list
from exchange.policy.principals import Principal, Role
from exchange.policy.projection import project

__all__ = [
    "Grant",
    "GrantChange",
    "GrantEvent",
    "GrantExpired",
    "GrantNotActive",
    "GrantNotApplicable",
    "GrantNotFound",
    "GrantPartyForbidden",
    "GrantRefused",
    "GrantRevoked",
    "GrantStateConflict",
    "GrantStatus",
    "GrantTerms",
    "InvalidGrantRequest",
    "OwnSubjectGrant",
    "approve",
    "authorise_delivery",
    "may_see",
    "project",
    "reject",
    "request",
    "require_may_decide",
    "require_may_revoke",
    "revoke",
]

GrantStatus = Literal["pending", "approved", "rejected", "revoked"]
GRANT_STATUSES: tuple[GrantStatus, ...] = ("pending", "approved", "rejected", "revoked")
# Every delivery's audit entry carries the purpose: it must say something.
MIN_PURPOSE_LENGTH = 10


class GrantNotFound(NotFound):
    """No grant with this id, or none the caller may see (existence is not revealed)."""

    type_slug = "grant-not-found"
    title = "Grant not found"


class GrantStateConflict(Conflict):
    """The grant's current status does not allow this change (approving a revoked grant...)."""

    type_slug = "grant-state"
    title = "Grant state does not allow this"


class GrantPartyForbidden(Forbidden):
    """The caller sees the grant but is not a party that may make this change."""

    type_slug = "grant-party-forbidden"
    title = "Not a party that may change this grant"


class InvalidGrantRequest(ValidationFailed):
    """A grant's terms are invalid; `errors` names the field."""

    type_slug = "grant-invalid"
    title = "Invalid grant"

    def __init__(self, detail: str, field: str) -> None:
        super().__init__(detail, errors={field: [detail]})


class OwnSubjectGrant(ValidationFailed):
    """A department asked for a grant on its own subject: it receives it without one."""

    type_slug = "grant-own-subject"
    title = "The owner needs no grant"


class GrantRefused(Forbidden):
    """Base of the reasons a delivery under a grant is refused (403)."""

    type_slug = "grant-refused"
    title = "Grant refused"


class GrantNotApplicable(GrantRefused):
    """The grant was given to another consumer, or for another subject."""

    type_slug = "grant-not-applicable"
    title = "Grant does not cover this delivery"


class GrantNotActive(GrantRefused):
    """The grant is pending or was rejected: it was never approved."""

    type_slug = "grant-not-active"
    title = "Grant not active"


class GrantExpired(GrantRefused):
    """The grant was approved but its expiry has passed."""

    type_slug = "grant-expired"
    title = "Grant expired"


class GrantRevoked(GrantRefused):
    """The grant was revoked."""

    type_slug = "grant-revoked"
    title = "Grant revoked"


@dataclass(frozen=True)
class Grant:
    """One version of a grant. `fields` None means the whole payload; `expires_at` None,
    no expiry. `owner` is the department owning `subject`, `consumer` the grantee."""

    id: str
    subject: str
    owner: str
    consumer: str
    purpose: str
    fields: tuple[str, ...] | None
    expires_at: datetime | None
    status: GrantStatus
    version: int
    created_at: datetime
    updated_at: datetime

    def is_expired(self, now: datetime) -> bool:
        """Whether the expiry has passed at `now` (the expiry instant itself is expired)."""
        return self.expires_at is not None and now >= self.expires_at

    def is_active(self, now: datetime) -> bool:
        """Whether the grant lets its consumer receive the subject at `now`."""
        return self.status == "approved" and not self.is_expired(now)


@dataclass(frozen=True)
class GrantEvent:
    """One change of a grant: who made it, when, and the terms it left in force.

    `from_status` is None for the request that created the grant (version 1).
    """

    grant_id: str
    version: int
    from_status: GrantStatus | None
    to_status: GrantStatus
    actor: str
    actor_role: Role
    at: datetime
    fields: tuple[str, ...] | None
    expires_at: datetime | None


@dataclass(frozen=True)
class GrantTerms:
    """What a consumer asks for: a subject, a purpose, optionally fields and an expiry."""

    subject: str
    purpose: str
    fields: Sequence[str] | None = None
    expires_at: datetime | None = None


@dataclass(frozen=True)
class GrantChange:
    """A grant after a change, with the event recording it. `previous_version` is the
    version the change was made on (0 for a new grant): the store refuses the change if
    another one got there first."""

    grant: Grant
    event: GrantEvent
    previous_version: int


def request(
    grant_id: str, owner: str, consumer: Principal, terms: GrantTerms, now: datetime
) -> GrantChange:
    """A new pending grant on a subject owned by `owner`, asked for by the department
    `consumer`.

    Raises `OwnSubjectGrant` when it owns the subject, `InvalidGrantRequest` for a purpose
    too short to say anything or an expiry not in the future, and `InvalidFieldList` for
    malformed pointers. (Whether the subject's schema declares the fields is checked by
    the caller, who has the schema.)
    """
    if consumer.name == owner:
        raise OwnSubjectGrant(f"{owner!r} owns {terms.subject!r} and receives it without a grant")
    if len(terms.purpose.strip()) < MIN_PURPOSE_LENGTH:
        raise InvalidGrantRequest(
            f"the purpose must say, in at least {MIN_PURPOSE_LENGTH} characters, what the "
            "data is needed for",
            "purpose",
        )
    _require_future(terms.expires_at, now)
    grant = Grant(
        id=grant_id,
        subject=terms.subject,
        owner=owner,
        consumer=consumer.name,
        purpose=terms.purpose,
        fields=None if terms.fields is None else normalise_field_list(terms.fields),
        expires_at=terms.expires_at,
        status="pending",
        version=1,
        created_at=now,
        updated_at=now,
    )
    return GrantChange(grant, _event(grant, None, consumer, now), previous_version=0)


def approve(
    grant: Grant,
    actor: Principal,
    now: datetime,
    *,
    fields: Sequence[str] | None = None,
    expires_at: datetime | None = None,
) -> GrantChange:
    """Approve a pending grant, optionally narrowing it: `fields` must lie within the
    requested ones, and `expires_at` must be in the future and no later than requested.

    Raises `GrantStateConflict` unless the grant is pending and not yet expired.
    """
    _require_status(grant, "approve", "pending")
    if grant.is_expired(now):
        raise GrantStateConflict(f"grant {grant.id} expired before it was approved")
    narrowed = dataclasses.replace(
        grant,
        fields=_narrowed_fields(grant.fields, fields),
        expires_at=_narrowed_expiry(grant.expires_at, expires_at, now),
    )
    return _change(narrowed, "approved", actor, now)


def reject(grant: Grant, actor: Principal, now: datetime) -> GrantChange:
    """Reject a pending grant; raises `GrantStateConflict` otherwise."""
    _require_status(grant, "reject", "pending")
    return _change(grant, "rejected", actor, now)


def revoke(grant: Grant, actor: Principal, now: datetime) -> GrantChange:
    """Revoke a pending or approved grant (expired or not): nothing is delivered under it
    from now on. Raises `GrantStateConflict` for a rejected or already revoked grant."""
    _require_status(grant, "revoke", "pending", "approved")
    return _change(grant, "revoked", actor, now)


def authorise_delivery(grant: Grant, consumer: str, subject: str, now: datetime) -> None:
    """Allow a delivery of `subject` to `consumer` under `grant` at `now`, or raise why not:
    `GrantNotApplicable`, `GrantRevoked`, `GrantNotActive` or `GrantExpired` (all 403)."""
    if grant.consumer != consumer or grant.subject != subject:
        raise GrantNotApplicable(
            f"grant {grant.id} lets {grant.consumer!r} receive {grant.subject!r}, "
            f"not {consumer!r} receive {subject!r}"
        )
    if grant.status == "revoked":
        raise GrantRevoked(f"grant {grant.id} was revoked at {grant.updated_at.isoformat()}")
    if grant.status != "approved":
        raise GrantNotActive(f"grant {grant.id} is {grant.status}, not approved")
    if grant.expires_at is not None and grant.is_expired(now):
        raise GrantExpired(f"grant {grant.id} expired at {grant.expires_at.isoformat()}")


def may_see(principal: Principal, grant: Grant) -> bool:
    """Operators see every grant; a department sees those it asked for or that are on its
    subjects."""
    if principal.role in ("admin", "auditor"):
        return True
    return principal.name in (grant.owner, grant.consumer)


def require_may_decide(principal: Principal, grant: Grant) -> None:
    """Only the subject's owner or an administrator approves or rejects a grant."""
    if principal.role == "admin" or _is_department(principal, grant.owner):
        return
    raise GrantPartyForbidden(
        f"only {grant.owner!r}, the owner of {grant.subject!r}, or an administrator "
        "may decide on this grant"
    )


def require_may_revoke(principal: Principal, grant: Grant) -> None:
    """The owner, an administrator or the consumer itself may revoke a grant."""
    if principal.role == "admin" or any(
        _is_department(principal, party) for party in (grant.owner, grant.consumer)
    ):
        return
    raise GrantPartyForbidden(
        f"only {grant.owner!r}, {grant.consumer!r} or an administrator may revoke this grant"
    )


def _is_department(principal: Principal, code: str) -> bool:
    return principal.role == "department" and principal.name == code


def _require_status(grant: Grant, action: str, *allowed: GrantStatus) -> None:
    if grant.status not in allowed:
        raise GrantStateConflict(
            f"cannot {action} grant {grant.id}: it is {grant.status}",
            grant_status=grant.status,
        )


def _require_future(expires_at: datetime | None, now: datetime) -> None:
    if expires_at is not None and expires_at <= now:
        raise InvalidGrantRequest("expires_at must be in the future", "expires_at")


def _narrowed_fields(
    requested: tuple[str, ...] | None, approved: Sequence[str] | None
) -> tuple[str, ...] | None:
    if approved is None:
        return requested
    fields = normalise_field_list(approved)
    if requested is not None:
        wider = [pointer for pointer in fields if not lies_within(pointer, requested)]
        if wider:
            raise InvalidGrantRequest(
                f"fields {wider} lie outside the requested ones {list(requested)}", "fields"
            )
    return fields


def _narrowed_expiry(
    requested: datetime | None, approved: datetime | None, now: datetime
) -> datetime | None:
    if approved is None:
        return requested
    _require_future(approved, now)
    if requested is not None and approved > requested:
        raise InvalidGrantRequest(
            f"expires_at may not be later than requested ({requested.isoformat()})",
            "expires_at",
        )
    return approved


def _change(grant: Grant, status: GrantStatus, actor: Principal, now: datetime) -> GrantChange:
    changed = dataclasses.replace(grant, status=status, version=grant.version + 1, updated_at=now)
    return GrantChange(
        changed, _event(changed, grant.status, actor, now), previous_version=grant.version
    )


def _event(
    grant: Grant, from_status: GrantStatus | None, actor: Principal, now: datetime
) -> GrantEvent:
    return GrantEvent(
        grant_id=grant.id,
        version=grant.version,
        from_status=from_status,
        to_status=grant.status,
        actor=actor.name,
        actor_role=actor.role,
        at=now,
        fields=grant.fields,
        expires_at=grant.expires_at,
    )
