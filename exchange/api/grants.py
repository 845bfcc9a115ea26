"""`/v1/grants`: consumer departments ask to receive a subject; owners decide; any party
may revoke. Deliveries check the live grant (`exchange.policy.grant_service`)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, g, jsonify, request
from marshmallow import Schema, fields, validate

from exchange.api.authentication import current_principal
from exchange.api.bodies import load_body, load_query
from exchange.api.context import current_hub
from exchange.api.pagination import PageQuery
from exchange.policy import grant_service
from exchange.policy.field_pointers import MAX_FIELDS, MAX_POINTER_LENGTH
from exchange.policy.grant_service import SubjectTerms
from exchange.policy.grants import (
    GRANT_STATUSES,
    MIN_PURPOSE_LENGTH,
    Grant,
    GrantEvent,
    GrantTerms,
)
from exchange.records.envelope import uuid7
from exchange.registry.catalogue import catalogue_for
from exchange.store.repositories import GrantFilters, GrantRepository

blueprint = Blueprint("grants", __name__)

MAX_PURPOSE_LENGTH = 1000


def _field_list() -> fields.List[str]:
    return fields.List(
        fields.String(validate=validate.Length(max=MAX_POINTER_LENGTH)),
        load_default=None,
        data_key="fields",
        validate=validate.Length(min=1, max=MAX_FIELDS),
        metadata={
            "description": "RFC 6901 JSON Pointers into the payload, each naming a property "
            "the subject's latest schema declares; absent means the whole payload"
        },
    )


def _expiry() -> fields.AwareDateTime:
    return fields.AwareDateTime(
        load_default=None,
        metadata={"description": "RFC 3339 instant in the future; absent means no expiry"},
    )


class GrantRequestBody(Schema):
    """What a consumer department asks for."""

    subject = fields.String(required=True, validate=validate.Length(min=1, max=255))
    purpose = fields.String(
        required=True,
        validate=validate.Length(min=MIN_PURPOSE_LENGTH, max=MAX_PURPOSE_LENGTH),
        metadata={"description": "Why the data is needed; recorded with every delivery"},
    )
    field_list = _field_list()
    expires_at = _expiry()


class GrantApprovalBody(Schema):
    """Optional narrowing on approval: fewer fields, an earlier expiry."""

    field_list = _field_list()
    expires_at = _expiry()


class GrantListQuery(PageQuery):
    """Filters of the grant listing, with cursor pagination."""

    subject = fields.String(load_default=None, validate=validate.Length(max=255))
    status = fields.String(load_default=None, validate=validate.OneOf(GRANT_STATUSES))
    consumer = fields.String(load_default=None, validate=validate.Length(max=63))


class GrantView(Schema):
    """One grant, as it stands now."""

    id = fields.String()
    subject = fields.String()
    owner = fields.String(metadata={"description": "The department owning the subject"})
    consumer = fields.String()
    purpose = fields.String()
    field_list = fields.List(fields.String(), allow_none=True, data_key="fields")
    expires_at = fields.DateTime(allow_none=True)
    status = fields.String(validate=validate.OneOf(GRANT_STATUSES))
    active = fields.Boolean(metadata={"description": "Whether it lets deliveries through now"})
    version = fields.Integer(metadata={"description": "Bumped by every change"})
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class GrantPageView(Schema):
    grants = fields.List(fields.Nested(GrantView))
    next_cursor = fields.String(allow_none=True)


class GrantEventView(Schema):
    """One change of a grant and the terms it left in force."""

    version = fields.Integer()
    from_status = fields.String(allow_none=True)
    to_status = fields.String()
    actor = fields.String()
    actor_role = fields.String()
    at = fields.DateTime()
    field_list = fields.List(fields.String(), allow_none=True, data_key="fields")
    expires_at = fields.DateTime(allow_none=True)


class GrantHistoryView(Schema):
    grant_id = fields.String()
    events = fields.List(fields.Nested(GrantEventView))


def _grants() -> GrantRepository:
    return GrantRepository(current_hub().database)


def _subject_terms(name: str) -> SubjectTerms:
    """The subject's owner and latest schema (latest active version, else the newest)."""
    catalogue = catalogue_for(current_hub())
    subject = catalogue.subject(name)
    versions = catalogue.versions(name)
    active = [version for version in versions if version.is_active]
    latest = (active or versions)[-1]
    return SubjectTerms(subject.name, subject.owner, json.loads(latest.schema))


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _view(grant: Grant, now: datetime) -> dict[str, Any]:
    return {
        "id": grant.id,
        "subject": grant.subject,
        "owner": grant.owner,
        "consumer": grant.consumer,
        "purpose": grant.purpose,
        "fields": None if grant.fields is None else list(grant.fields),
        "expires_at": _iso(grant.expires_at),
        "status": grant.status,
        "active": grant.is_active(now),
        "version": grant.version,
        "created_at": grant.created_at.isoformat(),
        "updated_at": grant.updated_at.isoformat(),
    }


def _event_view(event: GrantEvent) -> dict[str, Any]:
    return {
        "version": event.version,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "actor": event.actor,
        "actor_role": event.actor_role,
        "at": event.at.isoformat(),
        "fields": None if event.fields is None else list(event.fields),
        "expires_at": _iso(event.expires_at),
    }


def _answer(grant: Grant, now: datetime) -> Response:
    """The grant as JSON, its id, subject and purpose noted for this request's audit entry."""
    g.audit_grant_id = grant.id
    g.audit_subject = grant.subject
    g.audit_purpose = grant.purpose
    return jsonify(_view(grant, now))


@blueprint.post("/v1/grants")
def request_grant() -> tuple[Response, int]:
    """Ask for a grant to receive a subject (consumer departments only).
    ---
    post:
      tags: [grants]
      summary: Request a grant
      description: >
        The grant starts `pending` until the subject's owner or an administrator approves
        it. The owner itself needs no grant (422); operators cannot request grants (403).
      requestBody:
        required: true
        content:
          application/json:
            schema: GrantRequestBody
      responses:
        201:
          content:
            application/json:
              schema: GrantView
        403:
          description: The caller is not a department.
          content:
            application/problem+json:
              schema: Problem
        404:
          description: No such subject.
          content:
            application/problem+json:
              schema: Problem
        422:
          description: Invalid terms; `errors` names each field.
          content:
            application/problem+json:
              schema: Problem
    """
    principal = current_principal()
    body = load_body(GrantRequestBody())
    g.audit_subject = body["subject"]
    g.audit_purpose = body["purpose"]
    terms = GrantTerms(body["subject"], body["purpose"], body["field_list"], body["expires_at"])
    now = _now()
    grant = grant_service.request_grant(
        _grants(), _subject_terms, principal, terms, now, new_id=uuid7
    )
    g.audit_resource = f"{request.path}/{grant.id}"
    return _answer(grant, now), 201


@blueprint.get("/v1/grants")
def list_grants() -> Response:
    """Grants the caller may see, in the order they were requested, with cursor pagination.
    ---
    get:
      tags: [grants]
      summary: List grants
      description: >
        A department sees the grants it asked for and those on its subjects; administrators
        and auditors see all.
      parameters:
        - in: query
          schema: GrantListQuery
      responses:
        200:
          content:
            application/json:
              schema: GrantPageView
    """
    principal = current_principal()
    query = load_query(GrantListQuery())
    filters = GrantFilters(
        subject=query["subject"],
        status=query["status"],
        consumer=query["consumer"],
        visible_to=principal.name if principal.role == "department" else None,
    )
    rows = _grants().list_grants(filters, query["after"], query["limit"] + 1)
    more = len(rows) > query["limit"]
    rows = rows[: query["limit"]]
    now = _now()
    return jsonify(
        grants=[_view(grant, now) for grant in rows],
        next_cursor=rows[-1].id if more and rows else None,
    )


@blueprint.get("/v1/grants/<grant_id>")
def get_grant(grant_id: str) -> Response:
    """One grant (404 for grants the caller may not see, as for unknown ones).
    ---
    get:
      tags: [grants]
      summary: Get a grant
      parameters:
        - {in: path, name: grant_id, schema: {type: string}, required: true}
      responses:
        200:
          content:
            application/json:
              schema: GrantView
        404:
          content:
            application/problem+json:
              schema: Problem
    """
    g.audit_grant_id = grant_id
    grant = grant_service.visible_grant(_grants(), current_principal(), grant_id)
    return _answer(grant, _now())


@blueprint.get("/v1/grants/<grant_id>/events")
def grant_history(grant_id: str) -> Response:
    """Every change of a grant, oldest first: which terms were in force, from when, by whom.
    ---
    get:
      tags: [grants]
      summary: A grant's history
      parameters:
        - {in: path, name: grant_id, schema: {type: string}, required: true}
      responses:
        200:
          content:
            application/json:
              schema: GrantHistoryView
        404:
          content:
            application/problem+json:
              schema: Problem
    """
    g.audit_grant_id = grant_id
    repository = _grants()
    grant = grant_service.visible_grant(repository, current_principal(), grant_id)
    g.audit_subject = grant.subject
    events = repository.history(grant.id)
    return jsonify(grant_id=grant.id, events=[_event_view(event) for event in events])


@blueprint.post("/v1/grants/<grant_id>/approve")
def approve_grant(grant_id: str) -> Response:
    """Approve a pending grant (the subject's owner or an administrator), optionally
    narrowing its fields or bringing its expiry forward.
    ---
    post:
      tags: [grants]
      summary: Approve a grant
      parameters:
        - {in: path, name: grant_id, schema: {type: string}, required: true}
      requestBody:
        required: false
        content:
          application/json:
            schema: GrantApprovalBody
      responses:
        200:
          content:
            application/json:
              schema: GrantView
        403:
          description: The caller sees the grant but may not decide on it.
          content:
            application/problem+json:
              schema: Problem
        404:
          content:
            application/problem+json:
              schema: Problem
        409:
          description: The grant is not pending (type `grant-state`), or expired.
          content:
            application/problem+json:
              schema: Problem
    """
    g.audit_grant_id = grant_id
    narrowing = load_body(GrantApprovalBody()) if request.content_length else {}
    now = _now()
    grant = grant_service.approve_grant(
        _grants(),
        _subject_terms,
        current_principal(),
        grant_id,
        now,
        fields=narrowing.get("field_list"),
        expires_at=narrowing.get("expires_at"),
    )
    return _answer(grant, now)


@blueprint.post("/v1/grants/<grant_id>/reject")
def reject_grant(grant_id: str) -> Response:
    """Reject a pending grant (the subject's owner or an administrator).
    ---
    post:
      tags: [grants]
      summary: Reject a grant
      parameters:
        - {in: path, name: grant_id, schema: {type: string}, required: true}
      responses:
        200:
          content:
            application/json:
              schema: GrantView
        403:
          content:
            application/problem+json:
              schema: Problem
        404:
          content:
            application/problem+json:
              schema: Problem
        409:
          content:
            application/problem+json:
              schema: Problem
    """
    g.audit_grant_id = grant_id
    now = _now()
    grant = grant_service.reject_grant(_grants(), current_principal(), grant_id, now)
    return _answer(grant, now)


@blueprint.delete("/v1/grants/<grant_id>")
def revoke_grant(grant_id: str) -> Response:
    """Revoke a grant (the owner, an administrator or the consumer): nothing more is
    delivered under it from the next request on.
    ---
    delete:
      tags: [grants]
      summary: Revoke a grant
      parameters:
        - {in: path, name: grant_id, schema: {type: string}, required: true}
      responses:
        200:
          content:
            application/json:
              schema: GrantView
        403:
          content:
            application/problem+json:
              schema: Problem
        404:
          content:
            application/problem+json:
              schema: Problem
        409:
          description: Already revoked, or rejected.
          content:
            application/problem+json:
              schema: Problem
    """
    g.audit_grant_id = grant_id
    now = _now()
    grant = grant_service.revoke_grant(_grants(), current_principal(), grant_id, now)
    return _answer(grant, now)
