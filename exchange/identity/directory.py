"""The directory of principals: departments, operators and their public keys.

Plain use cases over the identity repository; the HTTP layer and the CLI call these.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from exchange.errors import Conflict, NotFound, ValidationFailed
from exchange.identity.keys import key_id_of, parse_public_key, raw_public_key_b64
from exchange.policy.principals import PrincipalKind
from exchange.store.repositories import (
    DepartmentRow,
    IdentityRepository,
    KeyRow,
    OperatorRow,
)

DEPARTMENT_CODE = re.compile(r"^[a-z][a-z0-9-]{1,62}$")
OPERATOR_NAME = re.compile(r"^[a-z][a-z0-9._-]{1,62}$")


class Directory:
    """Registering departments, operators and keys, with the rules that bind them."""

    def __init__(self, identities: IdentityRepository) -> None:
        self._identities = identities

    def register_department(self, code: str, name: str, contact: str) -> DepartmentRow:
        """Add a department; its code is its permanent identifier."""
        if not DEPARTMENT_CODE.match(code):
            raise ValidationFailed(
                f"department code {code!r} must match {DEPARTMENT_CODE.pattern}",
                errors={"code": ["invalid department code"]},
            )
        return self._identities.add_department(code, name, contact)

    def register_operator(self, name: str, role: str) -> OperatorRow:
        """Add an administrator or an auditor."""
        if not OPERATOR_NAME.match(name):
            raise ValidationFailed(
                f"operator name {name!r} must match {OPERATOR_NAME.pattern}",
                errors={"name": ["invalid operator name"]},
            )
        if role not in ("admin", "auditor"):
            raise ValidationFailed(
                f"role must be admin or auditor, not {role!r}", errors={"role": ["invalid"]}
            )
        return self._identities.add_operator(name, "admin" if role == "admin" else "auditor")

    def add_key(
        self, kind: PrincipalKind, name: str, public_key: str | Mapping[str, Any]
    ) -> KeyRow:
        """Register another live key for a principal (several may be live: rotation)."""
        self._require_principal(kind, name)
        parsed = parse_public_key(public_key)
        key_id = key_id_of(parsed)
        existing = self._identities.find_key(key_id)
        if existing is not None:
            owner = f"{existing.principal_kind} {existing.principal_name!r}"
            raise Conflict(f"key {key_id} is already registered (to {owner})")
        return self._identities.add_key(kind, name, key_id, raw_public_key_b64(parsed))

    def list_keys(self, kind: PrincipalKind, name: str) -> list[KeyRow]:
        """Every key of a principal, revoked ones included (with `revoked_at`)."""
        self._require_principal(kind, name)
        return self._identities.list_keys(kind, name)

    def revoke_key(self, kind: PrincipalKind, name: str, key_id: str) -> KeyRow:
        """Revoke a key at once: the next request signed with it is refused, on every hub."""
        key = self._identities.find_key(key_id)
        if key is None or key.principal_kind != kind or key.principal_name != name:
            raise NotFound(f"{kind} {name!r} has no key {key_id!r}")
        if key.revoked_at is not None:
            return key
        return self._identities.revoke_key(key_id, datetime.now(UTC))

    def _require_principal(self, kind: PrincipalKind, name: str) -> None:
        found = (
            self._identities.find_department(name)
            if kind == "department"
            else self._identities.find_operator(name)
        )
        if found is None:
            raise NotFound(f"no {kind} named {name!r}")
