"""`/v1/connectors`: connectors that bring department systems onto the hub, with a
lifecycle that mirrors Kafka Connect's REST API (status, pause, stop, resume, restart,
offsets) and each connector's dead letters.

A department manages its own connectors; administrators manage everyone's. Another
department's connector is answered as not found, so names do not leak.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, g, jsonify
from marshmallow import Schema, fields, validate

from connectors.base import ConnectorEnvironment
from exchange.api.authentication import current_principal
from exchange.api.bodies import load_body, load_query
from exchange.api.context import current_hub
from exchange.api.pagination import PageQuery
from exchange.connect.classes import implementation
from exchange.connect.dead_letters import create_dead_letter_topic, read_dead_letters
from exchange.connect.definition import checked_draft
from exchange.connect.errors import ConnectorNotFound, ConnectorNotStopped
from exchange.connect.states import connector_state
from exchange.errors import Forbidden, ValidationFailed
from exchange.policy.principals import Principal, require_role
from exchange.store.records_connectors import ConnectorRow, TargetState
from exchange.store.repositories.connectors import ConnectorRepository
from exchange.store.repositories.grants import GrantRepository
from exchange.store.repositories.subjects import SubjectRepository

blueprint = Blueprint("connectors", __name__)
NAME_PATTERN = r"^[a-z][a-z0-9-]{1,62}$"
MAX_DEAD_LETTERS = 1000


class ConnectorCreation(Schema):
    name = fields.String(required=True, validate=validate.Regexp(NAME_PATTERN))
    department = fields.String(
        load_default=None,
        metadata={"description": "The owning department (defaults to the calling one)"},
    )
    kind = fields.String(required=True, validate=validate.OneOf(["source", "sink"]))
    class_name = fields.String(
        data_key="class", required=True, validate=validate.Length(min=1, max=63)
    )
    subject = fields.String(required=True, validate=validate.Length(min=1, max=255))
    grant_id = fields.String(load_default=None, validate=validate.Length(min=1, max=64))
    config = fields.Dict(required=True, metadata={"description": "The class's own settings"})


class ConnectorView(Schema):
    name = fields.String()
    department = fields.String()
    kind = fields.String()
    class_name = fields.String(data_key="class")
    subject = fields.String()
    grant_id = fields.String(allow_none=True)
    config = fields.Dict()
    created_at = fields.DateTime()


class ConnectorStatusView(Schema):
    name = fields.String()
    state = fields.String(
        metadata={"description": "RUNNING, PAUSED, STOPPED, FAILED or UNASSIGNED"}
    )
    worker_id = fields.String(allow_none=True)
    last_error = fields.String(allow_none=True)
    trace = fields.String(allow_none=True)
    failure_count = fields.Integer()
    next_restart_at = fields.DateTime(allow_none=True)
    records_in = fields.Integer()
    records_out = fields.Integer()
    dead_lettered = fields.Integer()
    lag = fields.Integer(allow_none=True)


class OffsetEntry(Schema):
    partition = fields.String(required=True, validate=validate.Length(min=1, max=512))
    offset = fields.Raw(required=True, allow_none=True)


class OffsetsBody(Schema):
    offsets = fields.List(fields.Nested(OffsetEntry), required=True)


class DeadLetterQuery(Schema):
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=MAX_DEAD_LETTERS))


def _now() -> datetime:
    return datetime.now(UTC)


def _repository() -> ConnectorRepository:
    return ConnectorRepository(current_hub().database)


def _environment() -> ConnectorEnvironment:
    return ConnectorEnvironment(current_hub().settings.connector_root)


class _StoreLookups:
    """What checking a definition needs, from the store."""

    def subject_owner(self, subject: str) -> str | None:
        found = SubjectRepository(current_hub().database).find_subject(subject)
        return None if found is None else found.owner

    def grant_holder(self, grant_id: str, subject: str) -> str | None:
        found = GrantRepository(current_hub().database).find(grant_id)
        return None if found is None or found.subject != subject else found.consumer


def _manager() -> Principal:
    principal = current_principal()
    require_role(principal, "admin", "department")
    return principal


def _connector(name: str) -> ConnectorRow:
    """The connector `name`, if the caller may manage it (404 otherwise)."""
    principal = _manager()
    # A name that cannot exist is not looked up (a NUL byte would upset PostgreSQL).
    row = _repository().find(name) if re.fullmatch(NAME_PATTERN, name) else None
    if row is None or (principal.role == "department" and row.department != principal.name):
        raise ConnectorNotFound(f"no connector {name!r}")
    g.audit_subject = row.subject
    return row


def _view(row: ConnectorRow) -> dict[str, Any]:
    found = implementation(row.class_name, row.kind)
    config = found.config_schema().dump(row.config) if found is not None else row.config
    return {
        "name": row.name,
        "department": row.department,
        "kind": row.kind,
        "class": row.class_name,
        "subject": row.subject,
        "grant_id": row.grant_id,
        "config": config,
        "created_at": row.created_at.isoformat(),
    }


def _status(row: ConnectorRow) -> dict[str, Any]:
    now = _now()
    state = connector_state(row, now)
    return {
        "name": row.name,
        "state": state,
        "worker_id": row.lease_owner if row.leased_at(now) else None,
        "last_error": row.last_error,
        "trace": row.last_trace,
        "failure_count": row.failure_count,
        "next_restart_at": row.next_restart_at.isoformat() if row.next_restart_at else None,
        "records_in": row.records_in,
        "records_out": row.records_out,
        "dead_lettered": row.dead_lettered,
        "lag": row.lag,
    }


def _owning_department(principal: Principal, asked: str | None) -> str:
    if principal.role == "department":
        if asked not in (None, principal.name):
            raise Forbidden(f"{principal.name!r} may only create its own connectors")
        return principal.name
    if asked is None:
        raise ValidationFailed(
            "an administrator names the department", errors={"department": ["required"]}
        )
    return asked


@blueprint.post("/v1/connectors")
def create_connector() -> tuple[Response, int]:
    """Create a connector (its department, or administrators); it starts RUNNING.
    ---
    post:
      tags: [connectors]
      summary: Create a connector
      requestBody:
        required: true
        content:
          application/json:
            schema: ConnectorCreation
      responses:
        201:
          content:
            application/json:
              schema: ConnectorView
        409:
          description: The name is taken.
          content:
            application/problem+json:
              schema: Problem
        422:
          description: Bad fields, each named (the class's configuration under `config`).
          content:
            application/problem+json:
              schema: Problem
    """
    principal = _manager()
    body = load_body(ConnectorCreation())
    g.audit_subject = body["subject"]
    department = _owning_department(principal, body["department"])
    draft = checked_draft(body, department, _environment(), _StoreLookups())
    hub = current_hub()
    create_dead_letter_topic(hub.transport, draft.name, hub.settings.topic_replication_factor)
    row = _repository().create(draft, _now())
    return jsonify(_view(row)), 201


@blueprint.get("/v1/connectors")
def list_connectors() -> Response:
    """List connectors by name: a department's own, or all for administrators.
    ---
    get:
      tags: [connectors]
      summary: List connectors
      parameters:
        - in: query
          schema: PageQuery
      responses:
        200:
          description: A page of connectors and the cursor of the next one.
    """
    principal = _manager()
    page = load_query(PageQuery())
    department = principal.name if principal.role == "department" else None
    rows = _repository().list_connectors(department, page["after"], page["limit"] + 1)
    more = len(rows) > page["limit"]
    rows = rows[: page["limit"]]
    return jsonify(
        connectors=[_view(row) for row in rows],
        next_cursor=rows[-1].name if more and rows else None,
    )


@blueprint.get("/v1/connectors/<name>")
def get_connector(name: str) -> Response:
    """One connector's definition.
    ---
    get:
      tags: [connectors]
      summary: Get a connector
      parameters:
        - {in: path, name: name, schema: {type: string}, required: true}
      responses:
        200:
          content:
            application/json:
              schema: ConnectorView
        404:
          content:
            application/problem+json:
              schema: Problem
    """
    return jsonify(_view(_connector(name)))


@blueprint.get("/v1/connectors/<name>/status")
def connector_status(name: str) -> Response:
    """A connector's state, last error and trace, counters and lag.
    ---
    get:
      tags: [connectors]
      summary: Connector status
      parameters:
        - {in: path, name: name, schema: {type: string}, required: true}
      responses:
        200:
          content:
            application/json:
              schema: ConnectorStatusView
    """
    return jsonify(_status(_connector(name)))


def _set_target(name: str, state: TargetState) -> tuple[Response, int]:
    row = _connector(name)
    _repository().set_target_state(row.name, state, _now())
    return jsonify(_status(_repository().find(row.name) or row)), 202


@blueprint.put("/v1/connectors/<name>/pause")
def pause_connector(name: str) -> tuple[Response, int]:
    """Pause: the worker keeps the connector open (files, subscription) but moves nothing.
    ---
    put:
      tags: [connectors]
      summary: Pause a connector
      parameters:
        - {in: path, name: name, schema: {type: string}, required: true}
      responses:
        202:
          content:
            application/json:
              schema: ConnectorStatusView
    """
    return _set_target(name, "PAUSED")


@blueprint.put("/v1/connectors/<name>/stop")
def stop_connector(name: str) -> tuple[Response, int]:
    """Stop: the worker closes the connector and lets its lease go; offsets may then change.
    ---
    put:
      tags: [connectors]
      summary: Stop a connector
      parameters:
        - {in: path, name: name, schema: {type: string}, required: true}
      responses:
        202:
          content:
            application/json:
              schema: ConnectorStatusView
    """
    return _set_target(name, "STOPPED")


@blueprint.put("/v1/connectors/<name>/resume")
def resume_connector(name: str) -> tuple[Response, int]:
    """Resume a paused or stopped connector.
    ---
    put:
      tags: [connectors]
      summary: Resume a connector
      parameters:
        - {in: path, name: name, schema: {type: string}, required: true}
      responses:
        202:
          content:
            application/json:
              schema: ConnectorStatusView
    """
    return _set_target(name, "RUNNING")


@blueprint.post("/v1/connectors/<name>/restart")
def restart_connector(name: str) -> tuple[Response, int]:
    """Restart: the worker reopens it; a FAILED one runs again at once, its count reset.
    ---
    post:
      tags: [connectors]
      summary: Restart a connector
      parameters:
        - {in: path, name: name, schema: {type: string}, required: true}
      responses:
        202:
          content:
            application/json:
              schema: ConnectorStatusView
    """
    row = _connector(name)
    _repository().request_restart(row.name, _now())
    return jsonify(_status(_repository().find(row.name) or row)), 202


@blueprint.delete("/v1/connectors/<name>")
def delete_connector(name: str) -> tuple[Response, int]:
    """Delete a connector and its offsets (its dead-letter topic stays, for inspection).
    ---
    delete:
      tags: [connectors]
      summary: Delete a connector
      parameters:
        - {in: path, name: name, schema: {type: string}, required: true}
      responses:
        204:
          description: Deleted; its worker closes it on its next tick.
    """
    row = _connector(name)
    _repository().delete(row.name)
    return Response(status=204), 204


def _offsets_view(name: str) -> dict[str, Any]:
    offsets = _repository().offsets(name)
    return {
        "offsets": [
            {"partition": partition, "offset": offset} for partition, offset in offsets.items()
        ]
    }


def _stopped(row: ConnectorRow) -> ConnectorRow:
    if row.target_state != "STOPPED" or row.leased_at(_now()):
        raise ConnectorNotStopped(
            f"{row.name!r} is {connector_state(row, _now())}; stop it (PUT .../stop) and wait "
            "until its status says STOPPED"
        )
    return row


@blueprint.get("/v1/connectors/<name>/offsets")
def get_offsets(name: str) -> Response:
    """The connector's offsets by partition (a file, a table, a sink's subscription).
    ---
    get:
      tags: [connectors]
      summary: Get offsets
      parameters:
        - {in: path, name: name, schema: {type: string}, required: true}
      responses:
        200:
          content:
            application/json:
              schema: OffsetsBody
    """
    return jsonify(_offsets_view(_connector(name).name))


@blueprint.patch("/v1/connectors/<name>/offsets")
def alter_offsets(name: str) -> Response:
    """Set the offsets of some partitions (null forgets one); only while STOPPED.
    ---
    patch:
      tags: [connectors]
      summary: Alter offsets
      parameters:
        - {in: path, name: name, schema: {type: string}, required: true}
      requestBody:
        required: true
        content:
          application/json:
            schema: OffsetsBody
      responses:
        200:
          content:
            application/json:
              schema: OffsetsBody
        409:
          description: The connector is not stopped.
          content:
            application/problem+json:
              schema: Problem
    """
    row = _stopped(_connector(name))
    body = load_body(OffsetsBody())
    changes = {entry["partition"]: entry["offset"] for entry in body["offsets"]}
    _repository().alter_offsets(row.name, changes, _now())
    return jsonify(_offsets_view(row.name))


@blueprint.delete("/v1/connectors/<name>/offsets")
def reset_offsets(name: str) -> Response:
    """Forget every offset (a source reads everything again; a sink subscribes afresh);
    only while STOPPED.
    ---
    delete:
      tags: [connectors]
      summary: Reset offsets
      parameters:
        - {in: path, name: name, schema: {type: string}, required: true}
      responses:
        200:
          content:
            application/json:
              schema: OffsetsBody
        409:
          description: The connector is not stopped.
          content:
            application/problem+json:
              schema: Problem
    """
    row = _stopped(_connector(name))
    _repository().reset_offsets(row.name)
    return jsonify(_offsets_view(row.name))


@blueprint.get("/v1/connectors/<name>/dlq")
def dead_letters(name: str) -> Response:
    """The connector's dead letters: reason, original bytes (base64) and source position.
    ---
    get:
      tags: [connectors]
      summary: Dead letters
      parameters:
        - {in: path, name: name, schema: {type: string}, required: true}
        - in: query
          schema: DeadLetterQuery
      responses:
        200:
          description: The first `limit` dead letters, oldest first.
    """
    row = _connector(name)
    query = load_query(DeadLetterQuery())
    letters = read_dead_letters(current_hub().transport, row.name, query["limit"])
    return jsonify(dead_letters=letters)
