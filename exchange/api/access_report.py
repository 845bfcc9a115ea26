"""`GET /v1/subjects/{subject}/access-report?key=`: who received one key's records."""

from __future__ import annotations

from flask import Blueprint, Response, g, jsonify
from marshmallow import Schema, fields, validate

from exchange.api.authentication import current_principal
from exchange.api.bodies import load_query
from exchange.api.context import current_hub
from exchange.audit.access_report import access_report
from exchange.policy.principals import RoleForbidden
from exchange.registry.catalogue import catalogue_for

blueprint = Blueprint("access_report", __name__)


class AccessReportQuery(Schema):
    key = fields.String(required=True, validate=validate.Length(min=1, max=512))


@blueprint.get("/v1/subjects/<subject>/access-report")
def subject_access_report(subject: str) -> Response:
    """Every department that received records with this key: when, under which grant and
    purpose, each with its inclusion proof in the signed audit log (auditors and the
    subject's owner).
    ---
    get:
      tags: [audit]
      summary: Access report for one record key
      parameters:
        - {in: path, name: subject, schema: {type: string}, required: true}
        - in: query
          schema: AccessReportQuery
      responses:
        200:
          description: >-
            {subject, key, record_ids, departments, accesses: [{department, at, action,
            grant_id, purpose, record_ids, seq, proof}], checkpoint}
        403:
          content:
            application/problem+json:
              schema: Problem
    """
    principal = current_principal()
    hub = current_hub()
    owner = catalogue_for(hub).subject(subject).owner
    if principal.role != "auditor" and not (
        principal.role == "department" and principal.name == owner
    ):
        raise RoleForbidden("the access report is for auditors and the subject's owner")
    query = load_query(AccessReportQuery())
    g.audit_subject = subject
    return jsonify(access_report(hub.database, subject, query["key"]).to_json())
