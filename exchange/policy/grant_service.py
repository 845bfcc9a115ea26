"""The grant use cases: request, decide, revoke, read, and the check every delivery makes.

Each use case loads the live grant, lets `exchange.policy.grants` decide, and hands the
change to a `GrantStore`, which refuses it if another change got there first. The store
and the subject catalogue come in as small protocols, so these run on fakes in unit
tests and on the repositories in the hub.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from exchange.policy import grants
from exchange.policy.declared_fields import require_declared
from exchange.policy.grants import Grant, GrantChange, GrantNotFound, GrantTerms
from exchange.policy.principals import Principal, require_role


class GrantLookup(Protocol):
    """Reads the live version of a grant."""

    def get(self, grant_id: str) -> Grant:
        """The grant with this id; raises `GrantNotFound` when there is none."""


class GrantStore(GrantLookup, Protocol):
    """Keeps grants and their history."""

    def add(self, change: GrantChange) -> Grant:
        """Stores a new grant with its first event."""

    def apply(self, change: GrantChange) -> Grant:
        """Stores a change made on version `change.previous_version`, with its event;
        raises a `Conflict` when the stored grant is no longer at that version."""


@dataclass(frozen=True)
class SubjectTerms:
    """What granting needs to know of a subject: its owner and its latest schema."""

    name: str
    owner: str
    schema: Mapping[str, Any]


SubjectLookup = Callable[[str], SubjectTerms]
"""The terms of a subject by name; raises a `NotFound` error when there is no such subject."""


def request_grant(
    store: GrantStore,
    subjects: SubjectLookup,
    consumer: Principal,
    terms: GrantTerms,
    now: datetime,
    *,
    new_id: Callable[[], str],
) -> Grant:
    """A department asks for a grant on `terms.subject`; it starts pending."""
    require_role(consumer, "department")
    subject = subjects(terms.subject)
    change = grants.request(new_id(), subject.owner, consumer, terms, now)
    if change.grant.fields is not None:
        require_declared(subject.schema, change.grant.fields)
    return store.add(change)


def visible_grant(store: GrantLookup, principal: Principal, grant_id: str) -> Grant:
    """The grant, if `principal` may see it; otherwise `GrantNotFound`, as if it did not
    exist, so that nobody learns which grants other departments hold."""
    grant = store.get(grant_id)
    if not grants.may_see(principal, grant):
        raise GrantNotFound(f"no grant {grant_id!r}")
    return grant


def approve_grant(
    store: GrantStore,
    subjects: SubjectLookup,
    principal: Principal,
    grant_id: str,
    now: datetime,
    *,
    fields: Sequence[str] | None = None,
    expires_at: datetime | None = None,
) -> Grant:
    """The owner or an administrator approves a pending grant, optionally narrowing it."""
    grant = visible_grant(store, principal, grant_id)
    grants.require_may_decide(principal, grant)
    change = grants.approve(grant, principal, now, fields=fields, expires_at=expires_at)
    if fields is not None and change.grant.fields is not None:
        require_declared(subjects(grant.subject).schema, change.grant.fields)
    return store.apply(change)


def reject_grant(store: GrantStore, principal: Principal, grant_id: str, now: datetime) -> Grant:
    """The owner or an administrator rejects a pending grant."""
    grant = visible_grant(store, principal, grant_id)
    grants.require_may_decide(principal, grant)
    return store.apply(grants.reject(grant, principal, now))


def revoke_grant(store: GrantStore, principal: Principal, grant_id: str, now: datetime) -> Grant:
    """The owner, an administrator or the consumer revokes a grant, effective at once."""
    grant = visible_grant(store, principal, grant_id)
    grants.require_may_revoke(principal, grant)
    return store.apply(grants.revoke(grant, principal, now))


def active_grant_for(
    store: GrantLookup, grant_id: str, consumer: str, subject: str, now: datetime
) -> Grant:
    """The live grant under which `consumer` receives `subject` at `now`.

    Delivery code calls this for every pull and lookup, never caching the answer, so a
    revocation or an expiry stops deliveries from the next request on. Raises
    `GrantNotFound` (404) or a `GrantRefused` (403: not applicable, revoked, not active,
    expired).
    """
    grant = store.get(grant_id)
    grants.authorise_delivery(grant, consumer, subject, now)
    return grant
