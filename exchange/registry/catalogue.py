"""The schema registry's use cases: register subjects and versions, keep the data catalogue,
and tell the publish path which schema version a record may use.

Every schema passes the safety checks (`safety`), the closed-content-model policy
(`content_model`) and the key-field rule (`key_fields`) before it is stored; a new version
also passes its subject's compatibility level. Registering a subject creates its topic
first, so a subject is never stored without somewhere to publish to.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from exchange.errors import Conflict, ExchangeError, NotFound
from exchange.policy.principals import Principal, require_role
from exchange.records.envelope import topic_for
from exchange.registry.catalogue_errors import (
    NotSubjectOwner,
    SchemaVersionDeprecated,
    SubjectAlreadyExists,
    SubjectNameMismatch,
    UnknownOwner,
    UnknownSchemaVersion,
    UnknownSubject,
)
from exchange.registry.compatibility import (
    CompatibilityLevel,
    CompatibilityResult,
    check_compatibility,
    require_compatible,
)
from exchange.registry.content_model import require_closed_content_models
from exchange.registry.key_fields import require_key_field
from exchange.registry.references import LoadSchema
from exchange.registry.safety import check_schema_safety
from exchange.registry.validation import RecordValidator, ValidatorCache
from exchange.signing.canonical import canonical_json, sha256_hex
from exchange.store.clock import Clock, utc_now
from exchange.store.database import Database
from exchange.store.records_registry import (
    Compatibility,
    SchemaVersionRow,
    Sensitivity,
    SubjectDraft,
    SubjectFilters,
    SubjectRow,
)
from exchange.store.repositories import IdentityRepository, SubjectRepository
from exchange.transport import Transport

if TYPE_CHECKING:
    from exchange.hub import Hub

SUBJECT_NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*\.[a-z0-9]+(?:-[a-z0-9]+)*", re.ASCII)
SUBJECT_NAME_MAX_LENGTH = 200


@dataclass(frozen=True)
class SubjectRegistration:
    """What a caller asks to register. Title and description default to the schema's own."""

    subject: str
    owner: str
    key_field: str
    schema: Any
    title: str | None = None
    description: str | None = None
    sensitivity: Sensitivity = "internal"
    compatibility: Compatibility = "BACKWARD"
    retention_days: int | None = None


@dataclass(frozen=True)
class Registered:
    """The outcome of a registration: the subject, its version, and whether it is new."""

    subject: SubjectRow
    version: SchemaVersionRow
    created: bool


@dataclass(frozen=True)
class PublishTarget:
    """A subject as one publish needs it, read in one statement: its owner and key field,
    and the version records are validated against, or why that version may not be used."""

    owner: str
    key_field: str
    version: int | None
    refusal: ExchangeError | None


@dataclass(frozen=True)
class TopicSettings:
    """How the topics of new subjects are created."""

    partitions: int
    replication_factor: int


class Catalogue:
    """The registry's use cases over one store and one transport."""

    def __init__(
        self,
        database: Database,
        transport: Transport,
        topics: TopicSettings,
        validators: ValidatorCache | None = None,
        clock: Clock = utc_now,
    ) -> None:
        """`validators` is shared between catalogues of one store (see `catalogue_for`)."""
        self._subjects = SubjectRepository(database, clock)
        self._identities = IdentityRepository(database)
        self._transport = transport
        self._topics = topics
        # `is None`, not `or`: an empty cache has length 0 and so is falsy.
        self._validators = (
            ValidatorCache(schema_loader(self._subjects)) if validators is None else validators
        )
        self._clock = clock

    # Writing

    def register_subject(self, actor: Principal, registration: SubjectRegistration) -> Registered:
        """Register a subject with its first schema version, creating its topic first.

        Registering the same subject again with the same metadata and an identical schema
        returns the existing version (`created` False); anything else is a conflict.
        """
        _require_may_register_for(actor, registration.owner)
        _require_name_of(registration.subject, registration.owner)
        if self._identities.find_department(registration.owner) is None:
            raise UnknownOwner(f"no department {registration.owner!r} is registered")
        self._check_schema(registration.schema, registration.key_field)
        draft = _draft_of(registration)
        existing = self._subjects.find_subject(draft.name)
        if existing is not None:
            return self._reregistration(existing, draft, registration.schema)
        text, fingerprint = _canonical(registration.schema)
        # Before the subject is committed: a subject must never exist without its topic.
        self._transport.create_topic(
            draft.topic, self._topics.partitions, self._topics.replication_factor
        )
        try:
            subject, version = self._subjects.add_subject(draft, text, fingerprint, actor.name)
        except Conflict:
            # Registered concurrently: judge it like any repeated registration.
            return self.register_subject(actor, registration)
        except NotFound as error:
            raise UnknownOwner(f"no department {draft.owner!r} is registered") from error
        return Registered(subject, version, created=True)

    def register_version(self, actor: Principal, subject: str, schema: Any) -> Registered:
        """Register a new schema version, or return the identical one already registered.

        Raises `IncompatibleSchema` (409) listing every incompatibility under the subject's
        compatibility level, checked against every earlier version, deprecated ones too:
        their records are still on the topic. Raises `SchemaVersionDeprecated` (409) when the
        identical version was deprecated: answering with it would invite publishing with it.
        """
        found = self._owned_subject(actor, subject)
        self._check_schema(schema, found.key_field)
        text, fingerprint = _canonical(schema)
        identical = self._subjects.find_version_by_fingerprint(subject, fingerprint)
        if identical is not None:
            return Registered(found, _still_active(identical), created=False)
        previous = [version.document for version in self._subjects.list_versions(subject)]
        require_compatible(CompatibilityLevel(found.compatibility), schema, previous)
        version, created = self._subjects.add_version(subject, text, fingerprint, actor.name)
        return Registered(found, _still_active(version), created=created)

    def set_compatibility(
        self, actor: Principal, subject: str, compatibility: Compatibility
    ) -> SubjectRow:
        """Change the level that future versions of `subject` must satisfy."""
        self._owned_subject(actor, subject)
        return self._subjects.set_compatibility(subject, compatibility)

    def deprecate(self, actor: Principal, subject: str, version: int) -> SchemaVersionRow:
        """Stop new records being published with `version`; the version itself stays."""
        self._owned_subject(actor, subject)
        self.version(subject, version)
        return self._subjects.deprecate_version(subject, version, self._clock())

    # Reading

    def check_compatibility(
        self, actor: Principal, subject: str, schema: Any, against_version: int | None = None
    ) -> CompatibilityResult:
        """Judge `schema` as a next version of `subject` without registering it (a dry run).

        With `against_version`, judge `schema` against that one version instead (as if it
        followed it directly), in the direction(s) of the subject's level: how two stored
        versions relate. Raises `UnknownSchemaVersion` for a version the subject lacks. An
        unsafe schema is refused as registering it would be.
        """
        found = self._owned_subject(actor, subject)
        self._check_schema(schema, found.key_field)
        if against_version is None:
            previous = [version.document for version in self._subjects.list_versions(subject)]
        else:
            previous = [self.version(subject, against_version).document]
        return check_compatibility(CompatibilityLevel(found.compatibility), schema, previous)

    def subject(self, name: str) -> SubjectRow:
        """The subject called `name`; raises `UnknownSubject`."""
        found = self._subjects.find_subject(name)
        if found is None:
            raise UnknownSubject(f"no subject {name!r}", subject=name)
        return found

    def subjects(
        self, filters: SubjectFilters, after: str | None = None, limit: int = 100
    ) -> list[SubjectRow]:
        """A page of the catalogue: subjects matching `filters` by name, after `after`."""
        return self._subjects.list_subjects(filters, after, limit)

    def versions(self, subject: str) -> list[SchemaVersionRow]:
        """Every version of `subject`, oldest first, deprecated ones included."""
        self.subject(subject)
        return self._subjects.list_versions(subject)

    def version(self, subject: str, version: int | None) -> SchemaVersionRow:
        """Version `version` of `subject`, or its latest active version when None."""
        self.subject(subject)
        found = (
            self._subjects.latest_active_version(subject)
            if version is None
            else self._subjects.find_version(subject, version)
        )
        if found is None:
            wanted = "an active version" if version is None else f"version {version}"
            raise UnknownSchemaVersion(
                f"subject {subject!r} has no {wanted}", subject=subject, version=version
            )
        return found

    def latest_version_number(self, subject: str) -> int | None:
        """The number of the latest active version of `subject`, or None."""
        latest = self._subjects.latest_active_version(subject)
        return None if latest is None else latest.version

    # For the publish path

    def publish_target(self, subject: str, version: int | None) -> PublishTarget:
        """`subject`'s owner and key field with the version a publish may use (None: the
        latest active), or why that version may not be used, from one statement.

        Raises `UnknownSubject`. The version's refusal (`UnknownSchemaVersion`,
        `SchemaVersionDeprecated`) is returned, not raised: the caller checks the owner first.
        """
        found = self._subjects.find_for_publishing(subject, version)
        if found is None:
            raise UnknownSubject(f"no subject {subject!r}", subject=subject)
        refusal: ExchangeError | None = None
        if found.version is None:
            wanted = "an active version" if version is None else f"version {version}"
            refusal = UnknownSchemaVersion(
                f"subject {subject!r} has no {wanted}", subject=subject, version=version
            )
        elif found.deprecated_at is not None:
            refusal = _deprecated(
                subject, found.version, found.deprecated_at, "publish with an active version"
            )
        return PublishTarget(found.owner, found.key_field, found.version, refusal)

    def validator_for(self, subject: str, version: int) -> RecordValidator:
        """The compiled validator of version `version` of `subject`, cached."""
        return self._validators.validator_for(subject, version)

    # Rules

    def _owned_subject(self, actor: Principal, subject: str) -> SubjectRow:
        require_role(actor, "admin", "department")
        found = self.subject(subject)
        if actor.role == "department" and actor.name != found.owner:
            raise NotSubjectOwner(
                f"department {actor.name!r} does not own subject {subject!r}", subject=subject
            )
        return found

    def _check_schema(self, schema: Any, key_field: str) -> None:
        check_schema_safety(schema, is_registered=self._is_registered)
        require_closed_content_models(schema)
        require_key_field(schema, key_field)

    def _is_registered(self, subject: str, version: int) -> bool:
        return self._subjects.find_version(subject, version) is not None

    def _reregistration(self, existing: SubjectRow, draft: SubjectDraft, schema: Any) -> Registered:
        if _draft_of_row(existing) != draft:
            raise SubjectAlreadyExists(
                f"subject {draft.name!r} exists with other metadata; change its "
                "configuration or register a version under it instead",
                subject=draft.name,
            )
        identical = self._subjects.find_version_by_fingerprint(draft.name, _canonical(schema)[1])
        if identical is None:
            raise SubjectAlreadyExists(
                f"subject {draft.name!r} exists; register a new schema with "
                f"POST /v1/subjects/{draft.name}/versions",
                subject=draft.name,
            )
        return Registered(existing, _still_active(identical), created=False)


def schema_loader(subjects: SubjectRepository) -> LoadSchema:
    """A `LoadSchema` reading versions from `subjects` (raises `UnknownSchemaVersion`)."""

    def load_schema(subject: str, version: int) -> Mapping[str, Any]:
        found = subjects.find_version(subject, version)
        if found is None:
            raise UnknownSchemaVersion(f"subject {subject!r} has no version {version}")
        document: Mapping[str, Any] = found.document
        return document

    return load_schema


# One validator cache per store, shared by every catalogue (and so every request) on it:
# versions are immutable, so a compiled validator stays right for the life of the process.
_VALIDATOR_CACHES: dict[str, ValidatorCache] = {}
_VALIDATOR_CACHES_LOCK = threading.Lock()


def catalogue_for(hub: Hub) -> Catalogue:
    """The catalogue of `hub`, sharing the process-wide validator cache of its store."""
    url = hub.settings.effective_database_url
    with _VALIDATOR_CACHES_LOCK:
        cache = _VALIDATOR_CACHES.get(url)
        if cache is None:
            cache = ValidatorCache(schema_loader(SubjectRepository(hub.database)))
            _VALIDATOR_CACHES[url] = cache
    topics = TopicSettings(hub.settings.topic_partitions, hub.settings.topic_replication_factor)
    return Catalogue(hub.database, hub.transport, topics, validators=cache)


def _require_may_register_for(actor: Principal, owner: str) -> None:
    require_role(actor, "admin", "department")
    if actor.role == "department" and actor.name != owner:
        raise NotSubjectOwner(
            f"department {actor.name!r} may only register subjects it owns, not for {owner!r}",
            owner=owner,
        )


def _require_name_of(subject: str, owner: str) -> None:
    if len(subject) > SUBJECT_NAME_MAX_LENGTH or not SUBJECT_NAME.fullmatch(subject):
        raise SubjectNameMismatch(
            f"subject {subject!r} must look like '<owner>.<name>' (lower-case words joined "
            f"by '-'), at most {SUBJECT_NAME_MAX_LENGTH} characters",
            subject=subject,
        )
    if subject.split(".", 1)[0] != owner:
        raise SubjectNameMismatch(
            f"subject {subject!r} must start with its owner's code {owner + '.'!r}",
            subject=subject,
            owner=owner,
        )


def _still_active(version: SchemaVersionRow) -> SchemaVersionRow:
    """`version`, unless it was deprecated: an identical schema is not registered again."""
    if version.deprecated_at is None:
        return version
    raise _deprecated(
        version.subject,
        version.version,
        version.deprecated_at,
        "a deprecated version is never revived; to publish this shape again, register it "
        "as a new version (a changed `description` or `$comment` makes it one; it must "
        "pass the subject's compatibility level) or publish with an active version",
    )


def _deprecated(
    subject: str, version: int, deprecated_at: datetime, how_to_proceed: str
) -> SchemaVersionDeprecated:
    return SchemaVersionDeprecated(
        f"version {version} of {subject!r} was deprecated at {deprecated_at.isoformat()}; "
        f"{how_to_proceed}",
        subject=subject,
        version=version,
    )


def _canonical(schema: Any) -> tuple[str, str]:
    text = canonical_json(schema)
    return text.decode("utf-8"), sha256_hex(text)


def _draft_of(registration: SubjectRegistration) -> SubjectDraft:
    schema = registration.schema if isinstance(registration.schema, Mapping) else {}
    title = registration.title or _text_member(schema, "title") or registration.subject
    description = registration.description
    if description is None:
        description = _text_member(schema, "description") or ""
    return SubjectDraft(
        name=registration.subject,
        owner=registration.owner,
        title=title,
        description=description,
        sensitivity=registration.sensitivity,
        key_field=registration.key_field,
        compatibility=registration.compatibility,
        retention_days=registration.retention_days,
        topic=topic_for(registration.subject),
    )


def _draft_of_row(row: SubjectRow) -> SubjectDraft:
    return SubjectDraft(
        name=row.name,
        owner=row.owner,
        title=row.title,
        description=row.description,
        sensitivity=row.sensitivity,
        key_field=row.key_field,
        compatibility=row.compatibility,
        retention_days=row.retention_days,
        topic=row.topic,
    )


def _text_member(schema: Mapping[str, Any], name: str) -> str | None:
    value = schema.get(name)
    return value[:255] if isinstance(value, str) and value else None
