"""`exchange demo seed`: put the fictional province on a running hub through its API.

Idempotent: every step first looks for what it would create (a 409 on a department, an
existing key, grant or connector, the version an identical schema already has), so running
it again creates nothing new. It signs as
the first administrator for the set-up and as each department for what a department does
itself (asking for and approving grants, publishing, owning connectors).
"""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from exchange.client import ClientConflict, ClientNotFound, ExchangeClient
from exchange.demo import province
from exchange.demo.province import GrantRequest, OptionalProperty
from exchange.errors import ExchangeError
from exchange.identity.keys import (
    generate_private_key,
    key_id_of,
    load_private_key,
    public_key_to_jwk,
    write_private_key,
)

ACTIVE_GRANT_STATUSES = ("pending", "approved")


class DemoDataMissing(ExchangeError):
    """The shipped demo data or example schemas are not where the repository keeps them."""

    type_slug = "demo-data-missing"
    title = "Demo data missing"


@dataclass(frozen=True)
class DemoPaths:
    """Where the demo reads its shipped data and writes its keys and files."""

    repository: Path
    keys_dir: Path
    connector_root: Path

    @property
    def schemas(self) -> Path:
        return self.repository / "schemas"

    @property
    def shipped_inbox(self) -> Path:
        return self.repository / "demo" / "inbox"

    @property
    def inbox(self) -> Path:
        return self.connector_root / province.INBOX

    @property
    def outbox(self) -> Path:
        return self.connector_root / province.OUTBOX

    def department_key(self, code: str) -> Path:
        # Under the connector root: the connector worker refuses key files elsewhere.
        return self.connector_root / "keys" / f"{code}.pem"

    def operator_key(self, name: str) -> Path:
        return self.keys_dir / f"{name}.pem"


@dataclass
class SeedReport:
    """What a seed run created (empty lists: it was all there already)."""

    created: list[str] = field(default_factory=list)
    key_files: dict[str, Path] = field(default_factory=dict)
    grants: dict[str, str] = field(default_factory=dict)
    files_dropped: list[Path] = field(default_factory=list)
    licences_shipped: int = 0


class DemoSeeder:
    """Seeds one hub; `seed()` runs every step in order."""

    def __init__(self, url: str, admin_key: Path, paths: DemoPaths) -> None:
        self.url = url
        self.paths = paths
        self.admin = ExchangeClient(url, key_file=admin_key)
        self.report = SeedReport()
        self._clients: dict[str, ExchangeClient] = {}

    def seed(self) -> SeedReport:
        """Departments, keys, the auditor, subjects and their second versions, grants,
        example records, connectors and the first CSV in the inbox."""
        self.report = SeedReport()
        self._require_shipped_data()
        for department in province.DEPARTMENTS:
            self._ensure_department(department)
        self._ensure_auditor()
        for subject in province.SUBJECTS:
            self._ensure_subject(subject)
        for revision in province.REVISIONS:
            self._ensure_revision(revision)
        for grant in province.GRANTS:
            self.report.grants[f"{grant.consumer}:{grant.subject}"] = self._ensure_grant(grant)
        self._publish_examples()
        self._ensure_connectors()
        self._drop_shipped_files()
        return self.report

    def department(self, code: str) -> ExchangeClient:
        """A client signing as the department `code` (its demo key)."""
        if code not in self._clients:
            self._clients[code] = ExchangeClient(self.url, key_file=self.paths.department_key(code))
        return self._clients[code]

    def _require_shipped_data(self) -> None:
        for needed in (self.paths.schemas, self.paths.shipped_inbox):
            if not needed.is_dir():
                raise DemoDataMissing(f"{needed} is missing: run the demo from the repository")

    def _created(self, what: str) -> None:
        self.report.created.append(what)

    def _ensure_department(self, department: province.Department) -> None:
        try:
            self.admin.post(
                "/v1/departments",
                json={
                    "code": department.code,
                    "name": department.name,
                    "contact": department.contact,
                },
            )
            self._created(f"department {department.code}")
        except ClientConflict:
            pass
        key_file = self.paths.department_key(department.code)
        self._ensure_key(f"/v1/departments/{department.code}/keys", key_file)
        self.report.key_files[department.code] = key_file

    def _ensure_auditor(self) -> None:
        try:
            self.admin.post("/v1/operators", json={"name": province.AUDITOR, "role": "auditor"})
            self._created(f"auditor {province.AUDITOR}")
        except ClientConflict:
            pass
        key_file = self.paths.operator_key(province.AUDITOR)
        self._ensure_key(f"/v1/operators/{province.AUDITOR}/keys", key_file)
        self.report.key_files[province.AUDITOR] = key_file

    def _ensure_key(self, keys_path: str, key_file: Path) -> None:
        """The principal's demo key: made once (PKCS#8 PEM, 0600), registered once."""
        if not key_file.exists():
            key_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            write_private_key(key_file, generate_private_key())
        public_key = load_private_key(key_file).public_key()
        registered = {key["key_id"] for key in self.admin.get(keys_path)["keys"]}
        if key_id_of(public_key) not in registered:
            self.admin.post(keys_path, json={"public_key": public_key_to_jwk(public_key)})
            self._created(f"key {key_file.name}")

    def _shipped_schema(self, subject: str) -> Any:
        return json.loads((self.paths.schemas / f"{subject}.schema.json").read_text())

    def _ensure_subject(self, subject: province.Subject) -> None:
        schema = self._shipped_schema(subject.name)
        body = {
            "subject": subject.name,
            "owner": subject.owner,
            "title": subject.title,
            "description": subject.description,
            "sensitivity": subject.sensitivity,
            "key_field": subject.key_field,
            "compatibility": "BACKWARD",
            "retention_days": subject.retention_days,
            "schema": schema,
        }
        try:
            self.admin.get(f"/v1/subjects/{subject.name}")
        except ClientNotFound:
            self.admin.post("/v1/subjects", json=body)
            self._created(f"subject {subject.name}")

    def _ensure_revision(self, revision: OptionalProperty) -> None:
        """The subject's revised schema, registered by its owner once: the hub answers an
        identical schema with the version that already holds it instead of a new one."""
        owner = self.department(revision.subject.split(".", 1)[0])
        versions_path = f"/v1/subjects/{revision.subject}/versions"
        known = {version["version"] for version in owner.get(versions_path)["versions"]}
        schema = with_optional_property(self._shipped_schema(revision.subject), revision)
        registered = owner.post(versions_path, json={"schema": schema})
        if registered["version"] not in known:
            self._created(f"version {registered['version']} of {revision.subject}")

    def _ensure_grant(self, request: GrantRequest) -> str:
        """The consumer's live grant for the subject, asked for (and approved, unless the
        request is to stay pending) if need be."""
        consumer = self.department(request.consumer)
        existing = [
            grant
            for grant in consumer.get(
                "/v1/grants",
                params={"consumer": request.consumer, "subject": request.subject, "limit": 500},
            )["grants"]
            if grant["status"] in ACTIVE_GRANT_STATUSES and not _expired(grant)
        ]
        grant = existing[0] if existing else self._request_grant(consumer, request)
        if grant["status"] == "pending" and request.approve:
            owner = self.department(request.subject.split(".", 1)[0])
            grant = owner.post(f"/v1/grants/{grant['id']}/approve")
        return str(grant["id"])

    def _request_grant(self, consumer: ExchangeClient, request: GrantRequest) -> Any:
        terms: dict[str, Any] = {"subject": request.subject, "purpose": request.purpose}
        if request.fields is not None:
            terms["fields"] = list(request.fields)
        if request.expires_in_days is not None:
            expiry = datetime.now(UTC) + timedelta(days=request.expires_in_days)
            terms["expires_at"] = expiry.replace(microsecond=0).isoformat()
        grant = consumer.post("/v1/grants", json=terms)
        self._created(f"grant {request.consumer} <- {request.subject}")
        return grant

    def _publish_examples(self) -> None:
        """The valid example documents of the other subjects, once (idempotency keys)."""
        for subject in province.SUBJECTS:
            if subject.name == province.LICENCE_SUBJECT:
                continue  # licences arrive through the file source connector
            for example in sorted((self.paths.schemas / "examples" / subject.name).glob("valid-*")):
                payload = json.loads(example.read_text())
                self.department(subject.owner).publish(
                    subject.name,
                    [{"key": key_of(payload, subject.key_field), "payload": payload}],
                    idempotency_key=f"demo:{subject.name}:{example.stem}",
                )

    def _ensure_connectors(self) -> None:
        self.paths.inbox.mkdir(parents=True, exist_ok=True)
        self.paths.outbox.mkdir(parents=True, exist_ok=True)
        tax_grant = self.report.grants[f"taxation:{province.LICENCE_SUBJECT}"]
        self._ensure_connector(
            "market-regulation",
            {
                "name": province.LICENCE_SOURCE,
                "kind": "source",
                "class": "file",
                "subject": province.LICENCE_SUBJECT,
                "config": {
                    "directory": province.INBOX,
                    "key_file": "keys/market-regulation.pem",
                    "errors.tolerance": "all",
                    "batch_size": 50,
                },
            },
        )
        self._ensure_connector(
            "taxation",
            {
                "name": province.TAX_SINK,
                "kind": "sink",
                "class": "file",
                "subject": province.LICENCE_SUBJECT,
                "grant_id": tax_grant,
                "config": {
                    "directory": province.OUTBOX,
                    "key_file": "keys/taxation.pem",
                    "prefix": "business-licences",
                    "from": "earliest",
                    "batch_size": 50,
                    "max_age_s": 10,
                },
            },
        )

    def _ensure_connector(self, owner: str, definition: dict[str, Any]) -> None:
        client = self.department(owner)
        try:
            client.get(f"/v1/connectors/{definition['name']}")
        except ClientNotFound:
            client.post("/v1/connectors", json=definition)
            self._created(f"connector {definition['name']}")

    def _drop_shipped_files(self) -> None:
        """Hand the shipped CSVs to the file source the way a department system would: under
        a temporary name, then renamed into place. A file already handed over is not."""
        for shipped in sorted(self.paths.shipped_inbox.glob("*.csv")):
            self.report.licences_shipped += _data_rows(shipped)
            if any(self._handed_over(shipped.name)):
                continue
            self.report.files_dropped.append(drop_into(shipped, self.paths.inbox))

    def _handed_over(self, name: str) -> Iterator[bool]:
        for folder in (self.paths.inbox, self.paths.inbox / "done", self.paths.inbox / "failed"):
            yield (folder / name).exists()


def _expired(grant: dict[str, Any]) -> bool:
    expires_at = grant.get("expires_at")
    return expires_at is not None and datetime.fromisoformat(expires_at) <= datetime.now(UTC)


def with_optional_property(schema: Any, revision: OptionalProperty) -> Any:
    """A copy of `schema` with the revision's property declared and left optional."""
    revised = copy.deepcopy(schema)
    revised["properties"][revision.name] = copy.deepcopy(revision.schema)
    return revised


def key_of(payload: Any, key_field: str) -> str:
    """The record key a dotted key field names (sent explicitly: the hub does not yet derive
    nested keys such as `insured_person.citizen_id` itself)."""
    for step in key_field.split("."):
        payload = payload[step]
    return str(payload)


def drop_into(source: Path, inbox: Path) -> Path:
    """Copy `source` into `inbox` atomically (the file source's hand-over convention)."""
    inbox.mkdir(parents=True, exist_ok=True)
    partial = inbox / f"{source.name}.part"
    shutil.copyfile(source, partial)
    final = inbox / source.name
    partial.rename(final)
    return final


def _data_rows(csv_file: Path) -> int:
    with csv_file.open(encoding="utf-8") as lines:
        return max(0, sum(1 for line in lines if line.strip()) - 1)
