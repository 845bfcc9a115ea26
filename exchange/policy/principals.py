"""The authenticated caller of a request and the checks on its role.

A principal's role is fixed by its key: a department key acts as that department, an
operator key as an administrator or an auditor. No header ever names a department.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from exchange.errors import Forbidden

Role = Literal["department", "admin", "auditor"]
PrincipalKind = Literal["department", "operator"]


@dataclass(frozen=True)
class Principal:
    """Who signed the request, and with which key."""

    kind: PrincipalKind
    name: str
    role: Role
    key_id: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


class RoleForbidden(Forbidden):
    type_slug = "role-forbidden"
    title = "Role may not do this"


def require_role(principal: Principal, *allowed: Role) -> None:
    """Refuse (403) unless the principal has one of the `allowed` roles."""
    if principal.role not in allowed:
        raise RoleForbidden(
            f"{principal.role} {principal.name!r} may not do this; it needs the role "
            + " or ".join(allowed)
        )
