"""`/v1/subjects`: the schema registry and the data catalogue.

Subjects are registered by their owning department or an administrator; the catalogue is
readable by every authenticated principal.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, jsonify
from marshmallow import Schema, fields, validate

from exchange.api.authentication import current_principal
from exchange.api.bodies import load_body, load_query
from exchange.api.context import current_hub
from exchange.api.pagination import PageQuery
from exchange.errors import BadRequest
from exchange.registry.catalogue import (
    SUBJECT_NAME_MAX_LENGTH,
    Catalogue,
    SubjectRegistration,
    catalogue_for,
)
from exchange.registry.compatibility import CompatibilityLevel
from exchange.store.records_registry import SchemaVersionRow, SubjectFilters, SubjectRow

blueprint = Blueprint("subjects", __name__)

SENSITIVITIES = ("public", "internal", "confidential", "secret")
COMPATIBILITY_LEVELS = tuple(level.value for level in CompatibilityLevel)
SUBJECT_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*\.[a-z0-9]+(-[a-z0-9]+)*$"
KEY_FIELD_PATTERN = r"^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z_][A-Za-z0-9_-]*)*$"


class SubjectRegistrationBody(Schema):
    """A new subject with its first schema version."""

    subject = fields.String(
        required=True,
        validate=[
            validate.Length(max=SUBJECT_NAME_MAX_LENGTH),
            validate.Regexp(SUBJECT_PATTERN, error="must look like '<owner>.<name>'"),
        ],
    )
    owner = fields.String(required=True, validate=validate.Regexp(r"^[a-z][a-z0-9-]{1,62}$"))
    title = fields.String(load_default=None, validate=validate.Length(min=1, max=255))
    description = fields.String(load_default=None, validate=validate.Length(max=4000))
    sensitivity = fields.String(load_default="internal", validate=validate.OneOf(SENSITIVITIES))
    key_field = fields.String(
        required=True,
        validate=[validate.Length(max=255), validate.Regexp(KEY_FIELD_PATTERN)],
        metadata={"description": "Property path (dotted) whose value keys each record"},
    )
    compatibility = fields.String(
        load_default="BACKWARD", validate=validate.OneOf(COMPATIBILITY_LEVELS)
    )
    retention_days = fields.Integer(
        load_default=None, allow_none=True, validate=validate.Range(min=1, max=36500)
    )
    json_schema = fields.Dict(
        data_key="schema", required=True, metadata={"description": "JSON Schema 2020-12"}
    )


class SubjectRegisteredView(Schema):
    """The registered subject's first (or identical existing) version and its topic."""

    subject = fields.String()
    version = fields.Integer()
    topic = fields.String()


class SchemaBody(Schema):
    """A JSON Schema (draft 2020-12) for a subject."""

    json_schema = fields.Dict(data_key="schema", required=True)


class CompatibilityBody(SchemaBody):
    """A schema to judge and, optionally, the one version to judge it against."""

    against_version = fields.Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        validate=validate.Range(min=1, max=10**9 - 1),
        metadata={
            "description": "Judge the schema against this version only, as if it followed "
            "it directly (default: as the subject's next version, against its latest or, "
            "for a _TRANSITIVE level, every version)"
        },
    )


class VersionRegisteredView(Schema):
    """The number of the registered (or identical existing) version."""

    subject = fields.String()
    version = fields.Integer()


class SubjectView(Schema):
    """A subject's catalogue entry."""

    subject = fields.String()
    owner = fields.String()
    title = fields.String()
    description = fields.String()
    sensitivity = fields.String(validate=validate.OneOf(SENSITIVITIES))
    key_field = fields.String()
    compatibility = fields.String(validate=validate.OneOf(COMPATIBILITY_LEVELS))
    retention_days = fields.Integer(allow_none=True)
    topic = fields.String()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class SubjectDetailView(SubjectView):
    """A subject's catalogue entry with the number of its latest active version."""

    latest_version = fields.Integer(allow_none=True)


class SubjectListQuery(PageQuery):
    """Catalogue filters; `q` searches subject, title and description, ignoring case."""

    owner = fields.String(load_default=None, validate=validate.Length(max=63))
    sensitivity = fields.String(load_default=None, validate=validate.OneOf(SENSITIVITIES))
    q = fields.String(load_default=None, validate=validate.Length(min=1, max=200))


class SubjectPageView(Schema):
    """A page of the catalogue and the cursor of the next one (null on the last page)."""

    subjects = fields.List(fields.Nested(SubjectView))
    next_cursor = fields.String(allow_none=True)


class VersionSummaryView(Schema):
    """A schema version without its schema."""

    version = fields.Integer()
    fingerprint = fields.String(metadata={"description": "SHA-256 of the RFC 8785 schema"})
    registered_by = fields.String()
    created_at = fields.DateTime()
    deprecated_at = fields.DateTime(allow_none=True)
    active = fields.Boolean()


class VersionListView(Schema):
    """Every version of a subject, oldest first."""

    subject = fields.String()
    versions = fields.List(fields.Nested(VersionSummaryView))


class VersionView(VersionSummaryView):
    """A schema version with its schema."""

    subject = fields.String()
    json_schema = fields.Dict(data_key="schema")


class ConfigBody(Schema):
    """The compatibility level new versions of a subject must satisfy."""

    compatibility = fields.String(required=True, validate=validate.OneOf(COMPATIBILITY_LEVELS))


class IncompatibilityView(Schema):
    """One incompatible change: its named kind, where in the schema, and why."""

    kind = fields.String()
    path = fields.String()
    detail = fields.String()


class CompatibilityView(Schema):
    """The verdict of a dry run: compatible or not, with every incompatibility."""

    compatible = fields.Boolean()
    messages = fields.List(fields.String())
    incompatibilities = fields.List(fields.Nested(IncompatibilityView))


def _catalogue() -> Catalogue:
    return catalogue_for(current_hub())


def _subject_view(subject: SubjectRow) -> dict[str, Any]:
    return {
        "subject": subject.name,
        "owner": subject.owner,
        "title": subject.title,
        "description": subject.description,
        "sensitivity": subject.sensitivity,
        "key_field": subject.key_field,
        "compatibility": subject.compatibility,
        "retention_days": subject.retention_days,
        "topic": subject.topic,
        "created_at": subject.created_at.isoformat(),
        "updated_at": subject.updated_at.isoformat(),
    }


def _version_summary(version: SchemaVersionRow) -> dict[str, Any]:
    return {
        "version": version.version,
        "fingerprint": version.fingerprint,
        "registered_by": version.registered_by,
        "created_at": version.created_at.isoformat(),
        "deprecated_at": version.deprecated_at.isoformat() if version.deprecated_at else None,
        "active": version.is_active,
    }


def _version_view(version: SchemaVersionRow) -> dict[str, Any]:
    return {"subject": version.subject, **_version_summary(version), "schema": version.document}


def _version_number(text: str) -> int | None:
    """`latest` (None) or a positive version number from the path."""
    if text == "latest":
        return None
    if not text.isdecimal() or not 0 < int(text) < 10**9:
        raise BadRequest(f"version must be a positive number or 'latest', not {text!r}")
    return int(text)


@blueprint.post("/v1/subjects")
def register_subject() -> tuple[Response, int]:
    """Register a subject with its first schema version, creating its topic.
    ---
    post:
      tags: [registry]
      summary: Register a subject
      description: >
        Administrators, or the department the subject belongs to. The subject's name is
        `<owner>.<name>`. Registering it again with the same metadata and an identical
        schema answers 200 with the existing version.
      requestBody:
        required: true
        content:
          application/json:
            schema: SubjectRegistrationBody
      responses:
        201:
          content:
            application/json:
              schema: SubjectRegisteredView
        200:
          description: Already registered, identically.
          content:
            application/json:
              schema: SubjectRegisteredView
        403:
          description: Not an administrator nor the owning department.
          content:
            application/problem+json:
              schema: Problem
        409:
          description: >
            The subject exists with other metadata or another schema (`subject-exists`),
            or its identical version was deprecated (`schema-version-deprecated`).
          content:
            application/problem+json:
              schema: Problem
        422:
          description: >
            Invalid body, unknown owner, or a schema refused by a safety check (each with
            its own problem type).
          content:
            application/problem+json:
              schema: Problem
        503:
          description: The topic could not be created; nothing was stored.
          content:
            application/problem+json:
              schema: Problem
    """
    body = load_body(SubjectRegistrationBody())
    g.audit_subject = body["subject"]
    registration = SubjectRegistration(
        subject=body["subject"],
        owner=body["owner"],
        key_field=body["key_field"],
        schema=body["json_schema"],
        title=body["title"],
        description=body["description"],
        sensitivity=body["sensitivity"],
        compatibility=body["compatibility"],
        retention_days=body["retention_days"],
    )
    registered = _catalogue().register_subject(current_principal(), registration)
    view = {
        "subject": registered.subject.name,
        "version": registered.version.version,
        "topic": registered.subject.topic,
    }
    return jsonify(view), 201 if registered.created else 200


@blueprint.get("/v1/subjects")
def list_subjects() -> Response:
    """The data catalogue: subjects by name, filtered, with cursor pagination.
    ---
    get:
      tags: [registry]
      summary: List subjects (the catalogue)
      parameters:
        - in: query
          schema: SubjectListQuery
      responses:
        200:
          content:
            application/json:
              schema: SubjectPageView
    """
    query = load_query(SubjectListQuery())
    filters = SubjectFilters(
        owner=query["owner"], sensitivity=query["sensitivity"], text=query["q"]
    )
    rows = _catalogue().subjects(filters, query["after"], query["limit"] + 1)
    more = len(rows) > query["limit"]
    rows = rows[: query["limit"]]
    return jsonify(
        subjects=[_subject_view(row) for row in rows],
        next_cursor=rows[-1].name if more and rows else None,
    )


@blueprint.get("/v1/subjects/<subject>")
def get_subject(subject: str) -> Response:
    """One subject's catalogue entry.
    ---
    get:
      tags: [registry]
      summary: Get a subject
      parameters:
        - {in: path, name: subject, schema: {type: string}, required: true}
      responses:
        200:
          content:
            application/json:
              schema: SubjectDetailView
        404:
          content:
            application/problem+json:
              schema: Problem
    """
    g.audit_subject = subject
    catalogue = _catalogue()
    found = catalogue.subject(subject)
    return jsonify(
        _subject_view(found) | {"latest_version": catalogue.latest_version_number(subject)}
    )


@blueprint.post("/v1/subjects/<subject>/versions")
def register_version(subject: str) -> tuple[Response, int]:
    """Register a new schema version of a subject (its owner or administrators).
    ---
    post:
      tags: [registry]
      summary: Register a schema version
      parameters:
        - {in: path, name: subject, schema: {type: string}, required: true}
      requestBody:
        required: true
        content:
          application/json:
            schema: SchemaBody
      responses:
        201:
          content:
            application/json:
              schema: VersionRegisteredView
        200:
          description: An identical schema (after RFC 8785 canonicalisation) exists.
          content:
            application/json:
              schema: VersionRegisteredView
        404:
          content:
            application/problem+json:
              schema: Problem
        409:
          description: >
            Incompatible under the subject's level (`schema-incompatible`;
            `incompatibilities` lists each `{kind, path, detail}`), or identical to a
            deprecated version (`schema-version-deprecated`, naming it).
          content:
            application/problem+json:
              schema: Problem
        422:
          content:
            application/problem+json:
              schema: Problem
    """
    g.audit_subject = subject
    body = load_body(SchemaBody())
    registered = _catalogue().register_version(current_principal(), subject, body["json_schema"])
    view = {"subject": subject, "version": registered.version.version}
    return jsonify(view), 201 if registered.created else 200


@blueprint.get("/v1/subjects/<subject>/versions")
def list_versions(subject: str) -> Response:
    """Every schema version of a subject, oldest first.
    ---
    get:
      tags: [registry]
      summary: List a subject's versions
      parameters:
        - {in: path, name: subject, schema: {type: string}, required: true}
      responses:
        200:
          content:
            application/json:
              schema: VersionListView
        404:
          content:
            application/problem+json:
              schema: Problem
    """
    g.audit_subject = subject
    versions = _catalogue().versions(subject)
    return jsonify(subject=subject, versions=[_version_summary(v) for v in versions])


@blueprint.get("/v1/subjects/<subject>/versions/<version>")
def get_version(subject: str, version: str) -> Response:
    """One schema version with its schema; `latest` is the latest active version.
    ---
    get:
      tags: [registry]
      summary: Get a schema version
      parameters:
        - {in: path, name: subject, schema: {type: string}, required: true}
        - in: path
          name: version
          required: true
          schema: {type: string, pattern: '^([1-9][0-9]*|latest)$'}
      responses:
        200:
          content:
            application/json:
              schema: VersionView
        404:
          content:
            application/problem+json:
              schema: Problem
    """
    g.audit_subject = subject
    found = _catalogue().version(subject, _version_number(version))
    return jsonify(_version_view(found))


@blueprint.delete("/v1/subjects/<subject>/versions/<version>")
def deprecate_version(subject: str, version: str) -> Response:
    """Deprecate a version: no new record may use it. Nothing is ever deleted.
    ---
    delete:
      tags: [registry]
      summary: Deprecate a schema version
      parameters:
        - {in: path, name: subject, schema: {type: string}, required: true}
        - {in: path, name: version, schema: {type: integer, minimum: 1}, required: true}
      responses:
        200:
          content:
            application/json:
              schema: VersionView
        403:
          content:
            application/problem+json:
              schema: Problem
        404:
          content:
            application/problem+json:
              schema: Problem
    """
    g.audit_subject = subject
    number = _version_number(version)
    if number is None:
        raise BadRequest("name the version to deprecate by its number")
    deprecated = _catalogue().deprecate(current_principal(), subject, number)
    return jsonify(_version_view(deprecated))


@blueprint.put("/v1/subjects/<subject>/config")
def set_config(subject: str) -> Response:
    """Change the compatibility level of a subject (its owner or administrators).
    ---
    put:
      tags: [registry]
      summary: Set a subject's compatibility level
      parameters:
        - {in: path, name: subject, schema: {type: string}, required: true}
      requestBody:
        required: true
        content:
          application/json:
            schema: ConfigBody
      responses:
        200:
          content:
            application/json:
              schema: SubjectView
        403:
          content:
            application/problem+json:
              schema: Problem
        404:
          content:
            application/problem+json:
              schema: Problem
    """
    g.audit_subject = subject
    body = load_body(ConfigBody())
    changed = _catalogue().set_compatibility(current_principal(), subject, body["compatibility"])
    return jsonify(_subject_view(changed))


@blueprint.post("/v1/subjects/<subject>/compatibility")
def check_compatibility(subject: str) -> Response:
    """Judge a schema as the subject's next version, or against one version, without
    registering it.
    ---
    post:
      tags: [registry]
      summary: Check compatibility (dry run)
      description: >
        The subject's owner or administrators. Without `against_version` the schema is
        judged as the subject's next version, exactly as registering it would be. With
        `against_version: n` it is judged against version n alone, in the direction(s) of
        the subject's level (BACKWARD: can readers of this schema read data written with
        version n; FORWARD: the reverse; FULL: both): how two versions relate, e.g. the
        verdict between two stored versions.
      parameters:
        - {in: path, name: subject, schema: {type: string}, required: true}
      requestBody:
        required: true
        content:
          application/json:
            schema: CompatibilityBody
      responses:
        200:
          content:
            application/json:
              schema: CompatibilityView
        403:
          content:
            application/problem+json:
              schema: Problem
        404:
          description: No such subject, or no such `against_version`.
          content:
            application/problem+json:
              schema: Problem
        422:
          description: >
            An invalid body (e.g. `against_version` not a positive integer), or a schema
            that would be refused before any compatibility check.
          content:
            application/problem+json:
              schema: Problem
    """
    g.audit_subject = subject
    body = load_body(CompatibilityBody())
    result = _catalogue().check_compatibility(
        current_principal(), subject, body["json_schema"], body["against_version"]
    )
    found = [
        {"kind": item.kind.value, "path": item.path, "detail": item.detail}
        for item in result.incompatibilities
    ]
    return jsonify(
        compatible=result.compatible,
        messages=[f"{item['kind']} at {item['path']!r}: {item['detail']}" for item in found],
        incompatibilities=found,
    )
