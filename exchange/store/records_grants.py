"""Plain values of the grants' store: the filters of a grant listing.

The grants themselves are the domain's `Grant` and `GrantEvent` values
(`exchange.policy.grants`): the repository builds them directly, as they hold no more
than a row does.
"""

from __future__ import annotations

from dataclasses import dataclass

from exchange.policy.grants import Grant, GrantEvent, GrantStatus

__all__ = ["Grant", "GrantEvent", "GrantFilters", "GrantStatus"]


@dataclass(frozen=True)
class GrantFilters:
    """Which grants a listing returns; unset fields do not filter.

    `visible_to` (a department code) keeps the grants that department asked for or that
    are on its subjects.
    """

    subject: str | None = None
    status: GrantStatus | None = None
    consumer: str | None = None
    visible_to: str | None = None
