"""`/v1/departments`: the departments on the hub and their keys."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, jsonify, request
from marshmallow import Schema, fields, validate

from exchange.api.authentication import current_principal
from exchange.api.bodies import load_body, load_query
from exchange.api.context import current_hub
from exchange.api.keys import add_key_response, directory, list_keys_response, revoke_key_response
from exchange.api.pagination import PageQuery
from exchange.errors import NotFound
from exchange.policy.principals import require_role
from exchange.store.repositories import DepartmentRow, IdentityRepository

blueprint = Blueprint("departments", __name__)


class DepartmentRegistration(Schema):
    code = fields.String(required=True, validate=validate.Regexp(r"^[a-z][a-z0-9-]{1,62}$"))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    contact = fields.String(required=True, validate=validate.Length(min=1, max=320))


class DepartmentView(Schema):
    code = fields.String()
    name = fields.String()
    contact = fields.String()
    created_at = fields.DateTime()


def _view(department: DepartmentRow) -> dict[str, Any]:
    return {
        "code": department.code,
        "name": department.name,
        "contact": department.contact,
        "created_at": department.created_at.isoformat(),
    }


@blueprint.post("/v1/departments")
def register_department() -> tuple[Response, int]:
    """Register a department (administrators only).
    ---
    post:
      tags: [identity]
      summary: Register a department
      requestBody:
        required: true
        content:
          application/json:
            schema: DepartmentRegistration
      responses:
        201:
          content:
            application/json:
              schema: DepartmentView
        409:
          description: The code is taken.
          content:
            application/problem+json:
              schema: Problem
    """
    require_role(current_principal(), "admin")
    body = load_body(DepartmentRegistration())
    department = directory().register_department(body["code"], body["name"], body["contact"])
    g.audit_resource = f"{request.path}/{department.code}"
    return jsonify(_view(department)), 201


@blueprint.get("/v1/departments")
def list_departments() -> Response:
    """List departments, ordered by code, with cursor pagination.
    ---
    get:
      tags: [identity]
      summary: List departments
      parameters:
        - in: query
          schema: PageQuery
      responses:
        200:
          description: A page of departments and the cursor of the next one.
    """
    page = load_query(PageQuery())
    rows = IdentityRepository(current_hub().database).list_departments(
        page["after"], page["limit"] + 1
    )
    more = len(rows) > page["limit"]
    rows = rows[: page["limit"]]
    return jsonify(
        departments=[_view(d) for d in rows],
        next_cursor=rows[-1].code if more and rows else None,
    )


@blueprint.get("/v1/departments/<code>")
def get_department(code: str) -> Response:
    """One department.
    ---
    get:
      tags: [identity]
      summary: Get a department
      parameters:
        - in: path
          name: code
          schema: {type: string}
          required: true
      responses:
        200:
          content:
            application/json:
              schema: DepartmentView
        404:
          content:
            application/problem+json:
              schema: Problem
    """
    department = IdentityRepository(current_hub().database).find_department(code)
    if department is None:
        raise NotFound(f"no department {code!r}")
    return jsonify(_view(department))


@blueprint.post("/v1/departments/<code>/keys")
def add_department_key(code: str) -> tuple[Response, int]:
    """Register another public key for a department (administrators only).
    ---
    post:
      tags: [identity]
      summary: Add a department key
      parameters:
        - {in: path, name: code, schema: {type: string}, required: true}
      requestBody:
        required: true
        content:
          application/json:
            schema: KeyRegistration
      responses:
        201:
          content:
            application/json:
              schema: KeyView
    """
    require_role(current_principal(), "admin")
    return add_key_response("department", code)


@blueprint.get("/v1/departments/<code>/keys")
def list_department_keys(code: str) -> Response:
    """A department's keys (administrators, or the department itself).
    ---
    get:
      tags: [identity]
      summary: List a department's keys
      parameters:
        - {in: path, name: code, schema: {type: string}, required: true}
      responses:
        200:
          description: Every key, revoked ones with revoked_at.
    """
    principal = current_principal()
    if not (principal.role == "department" and principal.name == code):
        require_role(principal, "admin")
    return list_keys_response("department", code)


@blueprint.delete("/v1/departments/<code>/keys/<key_id>")
def revoke_department_key(code: str, key_id: str) -> Response:
    """Revoke a department key at once, for every hub instance (administrators only).
    ---
    delete:
      tags: [identity]
      summary: Revoke a department key
      parameters:
        - {in: path, name: code, schema: {type: string}, required: true}
        - {in: path, name: key_id, schema: {type: string}, required: true}
      responses:
        200:
          content:
            application/json:
              schema: KeyView
    """
    require_role(current_principal(), "admin")
    return revoke_key_response("department", code, key_id)
