"""Subjects of the schema registry (the data catalogue) and their schema versions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, and_, bindparam, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from exchange.errors import Conflict, NotFound
from exchange.store.clock import Clock, utc_now
from exchange.store.database import Database
from exchange.store.models_registry import SchemaVersionModel, SubjectModel
from exchange.store.records_registry import (
    Compatibility,
    SchemaVersionRow,
    SubjectDraft,
    SubjectFilters,
    SubjectRow,
)

LIKE_ESCAPE = "\\"


@dataclass(frozen=True)
class PublishingRow:
    """A subject as the publish path reads it: owner, key field, and one of its versions
    (`version` None when the subject has no such version, or no active one)."""

    owner: str
    key_field: str
    version: int | None
    deprecated_at: datetime | None


def _publishing_query(
    version_wanted: ColumnElement[int],
) -> Select[str, str, int, datetime | None]:
    return (
        select(
            SubjectModel.owner,
            SubjectModel.key_field,
            SchemaVersionModel.version,
            SchemaVersionModel.deprecated_at,
        )
        .select_from(SubjectModel)
        .outerjoin(
            SchemaVersionModel,
            and_(
                SchemaVersionModel.subject == SubjectModel.name,
                SchemaVersionModel.version == version_wanted,
            ),
        )
        .where(SubjectModel.name == bindparam("subject"))
    )


_ACTIVE = aliased(SchemaVersionModel)
# Built once each (constant statements skip SQL compilation after their first use).
_PUBLISHING_WITH_VERSION = _publishing_query(bindparam("version"))
_PUBLISHING_WITH_LATEST_ACTIVE = _publishing_query(
    select(func.max(_ACTIVE.version))
    .where(_ACTIVE.subject == SubjectModel.name, _ACTIVE.deprecated_at.is_(None))
    .scalar_subquery()
)


class SubjectRepository:
    """Stores subjects and their numbered, immutable schema versions (never deleted)."""

    def __init__(self, db: Database, clock: Clock = utc_now) -> None:
        self._db = db
        self._clock = clock

    def add_subject(
        self, draft: SubjectDraft, schema: str, fingerprint: str, registered_by: str
    ) -> tuple[SubjectRow, SchemaVersionRow]:
        """Stores a new subject with its first schema version, in one transaction.

        `schema` is the canonical JSON text and `fingerprint` its SHA-256 (hex). Raises
        `Conflict` when the subject exists and `NotFound` when its owner is no department.
        """
        now = self._clock()
        subject = SubjectModel(**_draft_columns(draft), created_at=now, updated_at=now)
        version = _version_model(draft.name, 1, schema, fingerprint, registered_by, now)
        try:
            with self._db.session() as session:
                session.add(subject)
                session.flush()
                session.add(version)
        except IntegrityError as error:
            if self.find_subject(draft.name) is not None:
                raise Conflict(f"subject {draft.name!r} already exists") from error
            raise NotFound(f"no department {draft.owner!r}", owner=draft.owner) from error
        return _subject(subject), _version(version)

    def find_subject(self, name: str) -> SubjectRow | None:
        """The subject called `name`, or None."""
        with self._db.session() as session:
            row = session.get(SubjectModel, name)
            return None if row is None else _subject(row)

    def list_subjects(
        self, filters: SubjectFilters, after: str | None = None, limit: int = 100
    ) -> list[SubjectRow]:
        """Subjects matching `filters`, ordered by name, the first `limit` after `after`."""
        query = select(SubjectModel).order_by(SubjectModel.name).limit(limit)
        for condition in _conditions(filters):
            query = query.where(condition)
        if after is not None:
            query = query.where(SubjectModel.name > after)
        with self._db.session() as session:
            return [_subject(row) for row in session.scalars(query)]

    def set_compatibility(self, name: str, compatibility: Compatibility) -> SubjectRow:
        """Changes a subject's compatibility level; raises `NotFound` when there is none."""
        with self._db.session() as session:
            row = session.get(SubjectModel, name, with_for_update=True)
            if row is None:
                raise NotFound(f"no subject {name!r}", subject=name)
            row.compatibility = compatibility
            row.updated_at = self._clock()
            session.flush()
            return _subject(row)

    def add_version(
        self, subject: str, schema: str, fingerprint: str, registered_by: str
    ) -> tuple[SchemaVersionRow, bool]:
        """Stores the next version of `subject`, or finds the identical one already stored.

        Returns the version and whether it was created now. Raises `NotFound` when there is
        no such subject and `Conflict` when another version was stored at the same moment.
        """
        try:
            with self._db.session() as session:
                existing = _by_fingerprint(session, subject, fingerprint)
                if existing is not None:
                    return _version(existing), False
                number = _next_version_number(session, subject)
                row = _version_model(
                    subject, number, schema, fingerprint, registered_by, self._clock()
                )
                session.add(row)
        except IntegrityError as error:
            return self._resolve_concurrent_add(subject, fingerprint, error), False
        return _version(row), True

    def _resolve_concurrent_add(
        self, subject: str, fingerprint: str, error: IntegrityError
    ) -> SchemaVersionRow:
        # The same schema registered concurrently is the idempotent case; anything else
        # raced for the version number, and the caller should retry against the new latest.
        found = self.find_version_by_fingerprint(subject, fingerprint)
        if found is not None:
            return found
        if self.find_subject(subject) is None:
            raise NotFound(f"no subject {subject!r}", subject=subject) from error
        raise Conflict(
            f"another version of {subject!r} was registered at the same time; retry"
        ) from error

    def find_version(self, subject: str, version: int) -> SchemaVersionRow | None:
        """Version `version` of `subject`, deprecated or not, or None."""
        with self._db.session() as session:
            row = session.get(SchemaVersionModel, (subject, version))
            return None if row is None else _version(row)

    def find_version_by_fingerprint(
        self, subject: str, fingerprint: str
    ) -> SchemaVersionRow | None:
        """The version of `subject` whose canonical schema has this SHA-256, or None."""
        with self._db.session() as session:
            row = _by_fingerprint(session, subject, fingerprint)
            return None if row is None else _version(row)

    def list_versions(self, subject: str) -> list[SchemaVersionRow]:
        """Every version of `subject`, deprecated ones included, oldest first."""
        query = (
            select(SchemaVersionModel)
            .where(SchemaVersionModel.subject == subject)
            .order_by(SchemaVersionModel.version)
        )
        with self._db.session() as session:
            return [_version(row) for row in session.scalars(query)]

    def latest_active_version(self, subject: str) -> SchemaVersionRow | None:
        """The highest-numbered version of `subject` that is not deprecated, or None."""
        query = (
            select(SchemaVersionModel)
            .where(
                SchemaVersionModel.subject == subject,
                SchemaVersionModel.deprecated_at.is_(None),
            )
            .order_by(SchemaVersionModel.version.desc())
            .limit(1)
        )
        with self._db.session() as session:
            row = session.scalars(query).first()
            return None if row is None else _version(row)

    def find_for_publishing(self, subject: str, version: int | None) -> PublishingRow | None:
        """The subject's owner and key field with its version `version` (None: its latest
        active one) in one statement, read afresh so that a deprecation counts at once; None
        when there is no such subject."""
        parameters: dict[str, str | int] = {"subject": subject}
        query = _PUBLISHING_WITH_LATEST_ACTIVE
        if version is not None:
            query, parameters["version"] = _PUBLISHING_WITH_VERSION, version
        with self._db.autocommit() as connection:
            row = connection.execute(query, parameters).one_or_none()
        if row is None:
            return None
        return PublishingRow(row.owner, row.key_field, row.version, row.deprecated_at)

    def deprecate_version(self, subject: str, version: int, at: datetime) -> SchemaVersionRow:
        """Deprecates a version from `at` on; deprecating it again keeps the first time.

        Raises `NotFound` when there is no such version.
        """
        with self._db.session() as session:
            row = session.get(SchemaVersionModel, (subject, version), with_for_update=True)
            if row is None:
                raise NotFound(f"no version {version} of subject {subject!r}")
            if row.deprecated_at is None:
                row.deprecated_at = at
            session.flush()
            return _version(row)


def escape_like(text: str) -> str:
    """`text` with LIKE's wildcards and the escape character itself taken literally."""
    return (
        text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2)
        .replace("%", LIKE_ESCAPE + "%")
        .replace("_", LIKE_ESCAPE + "_")
    )


def _conditions(filters: SubjectFilters) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.owner is not None:
        conditions.append(SubjectModel.owner == filters.owner)
    if filters.sensitivity is not None:
        conditions.append(SubjectModel.sensitivity == filters.sensitivity)
    if filters.text:
        pattern = f"%{escape_like(filters.text.lower())}%"
        columns = (SubjectModel.name, SubjectModel.title, SubjectModel.description)
        conditions.append(
            or_(*(func.lower(column).like(pattern, escape=LIKE_ESCAPE) for column in columns))
        )
    return conditions


def _next_version_number(session: Session, subject: str) -> int:
    if session.get(SubjectModel, subject) is None:
        raise NotFound(f"no subject {subject!r}", subject=subject)
    highest = session.scalar(
        select(func.max(SchemaVersionModel.version)).where(SchemaVersionModel.subject == subject)
    )
    return (highest or 0) + 1


def _by_fingerprint(session: Session, subject: str, fingerprint: str) -> SchemaVersionModel | None:
    query = select(SchemaVersionModel).where(
        SchemaVersionModel.subject == subject, SchemaVersionModel.fingerprint == fingerprint
    )
    return session.scalars(query).first()


def _draft_columns(draft: SubjectDraft) -> dict[str, object]:
    return {
        "name": draft.name,
        "owner": draft.owner,
        "title": draft.title,
        "description": draft.description,
        "sensitivity": draft.sensitivity,
        "key_field": draft.key_field,
        "compatibility": draft.compatibility,
        "retention_days": draft.retention_days,
        "topic": draft.topic,
    }


def _version_model(  # noqa: PLR0917  (private helper; every column is positional)
    subject: str,
    version: int,
    schema: str,
    fingerprint: str,
    registered_by: str,
    now: datetime,
) -> SchemaVersionModel:
    return SchemaVersionModel(
        subject=subject,
        version=version,
        schema=schema,
        fingerprint=fingerprint,
        registered_by=registered_by,
        created_at=now,
        deprecated_at=None,
    )


def _subject(row: SubjectModel) -> SubjectRow:
    return SubjectRow(
        name=row.name,
        owner=row.owner,
        title=row.title,
        description=row.description,
        sensitivity=row.sensitivity,
        key_field=row.key_field,
        compatibility=row.compatibility,
        retention_days=row.retention_days,
        topic=row.topic,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _version(row: SchemaVersionModel) -> SchemaVersionRow:
    return SchemaVersionRow(
        subject=row.subject,
        version=row.version,
        schema=row.schema,
        fingerprint=row.fingerprint,
        registered_by=row.registered_by,
        created_at=row.created_at,
        deprecated_at=row.deprecated_at,
    )
