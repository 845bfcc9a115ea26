"""First-time set-up of a deployment: the store's schema, the hub's signing key and a
first administrator with its key pair, each key recorded in the audit log."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from exchange.audit.events import AuditEvent
from exchange.config import Settings
from exchange.hub import open_hub
from exchange.identity.keys import (
    generate_private_key,
    key_id_of,
    load_private_key,
    raw_public_key_b64,
    write_private_key,
)
from exchange.store.database import Database
from exchange.store.migrate import upgrade
from exchange.store.repositories import HubKeyRepository, IdentityRepository

FIRST_ADMIN_NAME = "admin"
# Who the audit log names for what `exchange init` creates: no signed request did it.
INIT_ACTOR = "exchange-init"
INIT_ACTOR_ROLE = "system"


@dataclass(frozen=True)
class InitReport:
    """What `initialise` found or created."""

    hub_key_id: str
    hub_key_created: bool
    admin_key_file: Path | None
    admin_key_id: str | None


def initialise(settings: Settings) -> InitReport:
    """Bring a deployment to a usable state; safe to run again (it creates only what is absent)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    settings.keys_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    upgrade(settings.effective_database_url)
    database = Database(settings.effective_database_url)
    try:
        hub_key_id, created = _ensure_hub_key(settings.hub_key_file, HubKeyRepository(database))
        admin_file, admin_key_id = _ensure_first_admin(
            settings.keys_dir, IdentityRepository(database)
        )
    finally:
        database.close()
    report = InitReport(hub_key_id, created, admin_file, admin_key_id)
    _record_in_audit_log(settings, creation_events(report))
    return report


def creation_events(report: InitReport) -> list[AuditEvent]:
    """The audit entries of what `initialise` created: the hub key and the first
    administrator's key become valid from here, like keys added through the API."""
    events: list[AuditEvent] = []
    if report.hub_key_created:
        events.append(_init_event("INIT /v1/hub/keys", f"/v1/hub/keys/{report.hub_key_id}"))
    if report.admin_key_id is not None:
        events.append(_init_event("INIT /v1/operators", f"/v1/operators/{FIRST_ADMIN_NAME}"))
        events.append(
            _init_event(
                "INIT /v1/operators/<name>/keys",
                f"/v1/operators/{FIRST_ADMIN_NAME}/keys/{report.admin_key_id}",
            )
        )
    return events


def _init_event(action: str, resource: str) -> AuditEvent:
    return AuditEvent(
        at=datetime.now(UTC),
        actor=INIT_ACTOR,
        actor_role=INIT_ACTOR_ROLE,
        action=action,
        resource=resource,
        decision="allow",
        status=201,
        request_id=str(uuid.uuid4()),
    )


def _record_in_audit_log(settings: Settings, events: list[AuditEvent]) -> None:
    """Append the events through a hub opened for the purpose: the path every hub
    instance's entries take (the audit topic). On the embedded default its audit writer
    stores them before `append` returns and signs a checkpoint on close; with Kafka the
    deployment's writer stores them."""
    if not events:
        return
    hub = open_hub(settings)
    try:
        for event in events:
            hub.audit.append(event)
    finally:
        hub.close()


def _ensure_hub_key(path: Path, hub_keys: HubKeyRepository) -> tuple[str, bool]:
    if path.exists():
        return key_id_of(load_private_key(path).public_key()), False
    private_key = generate_private_key()
    write_private_key(path, private_key)
    public_key = private_key.public_key()
    key_id = key_id_of(public_key)
    hub_keys.add(key_id, raw_public_key_b64(public_key))
    return key_id, True


def _ensure_first_admin(
    keys_dir: Path, identities: IdentityRepository
) -> tuple[Path | None, str | None]:
    if identities.count_operators() > 0:
        return None, None
    private_key = generate_private_key()
    key_file = keys_dir / f"{FIRST_ADMIN_NAME}.pem"
    write_private_key(key_file, private_key)
    public_key = private_key.public_key()
    key_id = key_id_of(public_key)
    identities.add_operator(FIRST_ADMIN_NAME, "admin")
    identities.add_key("operator", FIRST_ADMIN_NAME, key_id, raw_public_key_b64(public_key))
    return key_file, key_id
