"""The lookup use case (the once-only principle): a grantee fetches the latest record of
one key instead of asking the citizen for a copy.

Served from the latest-record view (`exchange.records.view_builder`), never by scanning a
topic; projected to the grant's fields, signed for the consumer and audited like any
delivery. The grant is re-read on every lookup, so a revocation stops lookups at once.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from exchange.errors import NotFound
from exchange.policy.grant_service import GrantLookup, active_grant_for
from exchange.policy.grants import Grant, GrantNotApplicable, GrantNotFound, GrantRefused
from exchange.policy.principals import Principal, require_role
from exchange.records.delivery import build_delivery
from exchange.signing.hub_signer import HubSigner
from exchange.store.records_receive import LatestRecordRow

LOOKUP_CHANNEL_PREFIX = "lookup/"
Clock = Callable[[], datetime]


class NoActiveGrant(GrantRefused):
    """The caller holds no active grant on the subject."""

    type_slug = "no-active-grant"
    title = "No active grant on this subject"


class RecordNotFound(NotFound):
    """The subject has no record with this key (or the view has not read it yet)."""

    type_slug = "record-not-found"
    title = "Record not found"


class LatestRecords(Protocol):
    """Reads the latest-record view."""

    def find(self, subject: str, key: str) -> LatestRecordRow | None:
        """The newest record of `key` in `subject`, or None."""
        ...


GrantsOf = Callable[[str, str], Sequence[Grant]]
"""The grants a consumer holds on a subject (any status), by (consumer, subject)."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Lookup:
    """Finds the grant a lookup is made under and answers it from the view."""

    def __init__(
        self,
        view: LatestRecords,
        grants: GrantLookup,
        grants_of: GrantsOf,
        signer: HubSigner,
        clock: Clock = _utc_now,
    ) -> None:
        self._view = view
        self._grants = grants
        self._grants_of = grants_of
        self._signer = signer
        self._clock = clock

    def grant_for(self, principal: Principal, subject: str, grant_id: str | None) -> Grant:
        """The live grant named by `grant_id`, or the caller's active grant on `subject`
        (the most recently changed one when it holds several); 403 when there is none."""
        require_role(principal, "department")
        now = self._clock()
        if grant_id is not None:
            try:
                return active_grant_for(self._grants, grant_id, principal.name, subject, now)
            except GrantNotFound as error:
                raise GrantNotApplicable(
                    f"{principal.name!r} holds no grant {grant_id!r} on {subject!r}"
                ) from error
        active = [g for g in self._grants_of(principal.name, subject) if g.is_active(now)]
        if not active:
            raise NoActiveGrant(f"{principal.name!r} holds no active grant on {subject!r}")
        return max(active, key=lambda grant: (grant.updated_at, grant.id))

    def latest(self, grant: Grant, key: str) -> dict[str, Any]:
        """The latest record of `key` under `grant`, projected and signed for its consumer."""
        found = self._view.find(grant.subject, key)
        if found is None:
            raise RecordNotFound(f"no record with key {key!r} in {grant.subject!r}", key=key)
        return build_delivery(
            self._signer,
            json.loads(found.envelope),
            channel_id=LOOKUP_CHANNEL_PREFIX + grant.id,
            consumer=grant.consumer,
            grant_id=grant.id,
            purpose=grant.purpose,
            fields=grant.fields,
            delivered_at=self._clock(),
        )
