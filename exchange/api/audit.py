"""`/v1/audit`: the auditor interface to the tamper-evident audit log.

Auditors read the whole log; a department reads the entries it is the actor of and those
about subjects it owns; administrators read none of it (separation of duties). Signed
checkpoints and consistency proofs reveal only sizes and hashes: any signed caller may
fetch them. See docs/audit.md.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC
from typing import Any

from flask import Blueprint, Response, jsonify, stream_with_context
from marshmallow import Schema, fields, validate

from exchange.api.authentication import current_principal
from exchange.api.bodies import load_query
from exchange.api.context import current_hub
from exchange.api.pagination import DEFAULT_LIMIT, MAX_LIMIT
from exchange.audit.checkpoints import Checkpoint
from exchange.audit.leaf import leaf_document
from exchange.audit.proofs import prove_consistency, prove_inclusion
from exchange.errors import NotFound, ValidationFailed
from exchange.policy.principals import Principal, require_role
from exchange.store.records_audit import CheckpointRow
from exchange.store.repositories import (
    AuditEntryRow,
    AuditRepository,
    AuditSearch,
    CheckpointRepository,
)

blueprint = Blueprint("audit", __name__)

EXPORT_CHUNK = 1000
EXPORT_COLUMNS = (
    "seq", "at", "actor", "actor_role", "key_id", "action", "resource", "subject",
    "decision", "reason", "status", "request_id", "request_digest", "record_ids",
    "purpose", "grant_id",
)  # fmt: skip


class AuditFilterQuery(Schema):
    """The filters of `/v1/audit` and `/v1/audit/export`."""

    actor = fields.String(validate=validate.Length(min=1, max=255))
    subject = fields.String(validate=validate.Length(min=1, max=255))
    action = fields.String(validate=validate.Length(min=1, max=64))
    decision = fields.String(validate=validate.OneOf(["allow", "deny", "error"]))
    record_id = fields.String(validate=validate.Length(min=1, max=255))
    key = fields.String(validate=validate.Length(min=1, max=64))
    since = fields.AwareDateTime(data_key="from", default_timezone=UTC)
    until = fields.AwareDateTime(data_key="to", default_timezone=UTC)


class AuditPageQuery(AuditFilterQuery):
    """Filters plus a page: `limit` entries older than the entry `cursor` (a seq)."""

    limit = fields.Integer(
        load_default=DEFAULT_LIMIT, validate=validate.Range(min=1, max=MAX_LIMIT)
    )
    cursor = fields.Integer(load_default=None, validate=validate.Range(min=1))


class AuditExportQuery(AuditFilterQuery):
    """Filters plus the file format."""

    format = fields.String(load_default="jsonl", validate=validate.OneOf(["jsonl", "csv"]))


class CheckpointRangeQuery(Schema):
    """Checkpoints with `from <= tree_size <= to`, at most `limit`."""

    min_size = fields.Integer(data_key="from", load_default=0, validate=validate.Range(min=0))
    max_size = fields.Integer(data_key="to", load_default=None, validate=validate.Range(min=0))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))


class ProofQuery(Schema):
    """The tree an inclusion proof is for (default: the latest checkpoint's)."""

    tree_size = fields.Integer(load_default=None, validate=validate.Range(min=1))


class ConsistencyQuery(Schema):
    """The two tree sizes of a consistency proof."""

    first = fields.Integer(required=True, validate=validate.Range(min=1))
    second = fields.Integer(required=True, validate=validate.Range(min=1))


class CheckpointView(Schema):
    tree_size = fields.Integer()
    root_hash = fields.String(metadata={"description": "lowercase hex SHA-256"})
    at = fields.String(metadata={"description": "RFC 3339 UTC, microseconds"})
    key_id = fields.String()
    signature = fields.String(metadata={"description": "Ed25519, unpadded base64url"})


class AuditEntryView(Schema):
    seq = fields.Integer()
    at = fields.String()
    actor = fields.String()
    actor_role = fields.String(allow_none=True)
    key_id = fields.String(allow_none=True)
    action = fields.String()
    resource = fields.String(allow_none=True)
    subject = fields.String(allow_none=True)
    decision = fields.String()
    reason = fields.String(allow_none=True)
    status = fields.Integer(allow_none=True)
    request_id = fields.String(allow_none=True)
    request_digest = fields.String(allow_none=True)
    record_ids = fields.List(fields.String())
    purpose = fields.String(allow_none=True)
    grant_id = fields.String(allow_none=True)


def _reader_scope(principal: Principal) -> str | None:
    """Who may read entries: auditors all (None), a department its own (its name)."""
    require_role(principal, "auditor", "department")
    return principal.name if principal.role == "department" else None


def _search(params: dict[str, Any], principal: Principal) -> AuditSearch:
    return AuditSearch(
        actor=params.get("actor"),
        subject=params.get("subject"),
        action=params.get("action"),
        decision=params.get("decision"),
        record_id=params.get("record_id"),
        since=params.get("since"),
        until=params.get("until"),
        key_id=params.get("key"),
        visible_to=_reader_scope(principal),
    )


def _checkpoint_json(row: CheckpointRow) -> dict[str, Any]:
    return Checkpoint(row.tree_size, row.root_hash, row.at, row.key_id, row.signature).to_json()


@blueprint.get("/v1/audit")
def query_audit_log() -> Response:
    """Audit entries matching the filters, newest first, with a seq cursor.
    ---
    get:
      tags: [audit]
      summary: Query the audit log
      description: Auditors see every entry; a department sees entries it is the actor of
        and entries about subjects it owns. Pass `next_cursor` as `cursor` for the next page.
      parameters:
        - in: query
          schema: AuditPageQuery
      responses:
        200:
          description: '{"entries": [AuditEntryView], "next_cursor": string or null}'
        403:
          content:
            application/problem+json:
              schema: Problem
        422:
          description: A filter is invalid (bad date, unknown decision, negative cursor).
          content:
            application/problem+json:
              schema: Problem
    """
    params = load_query(AuditPageQuery())
    search = _search(params, current_principal())
    limit = params["limit"]
    rows = AuditRepository(current_hub().database).query(search, params["cursor"], limit + 1)
    page = rows[:limit]
    more = len(rows) > limit
    return jsonify(
        entries=[leaf_document(row) for row in page],
        next_cursor=str(page[-1].seq) if more and page else None,
    )


@blueprint.get("/v1/audit/export")
def export_audit_log() -> Response:
    """The entries matching the filters, newest first, streamed as JSON Lines or CSV.
    ---
    get:
      tags: [audit]
      summary: Export the audit log
      parameters:
        - in: query
          schema: AuditExportQuery
      responses:
        200:
          description: One entry a line (`application/x-ndjson`) or a CSV file with a header.
        403:
          content:
            application/problem+json:
              schema: Problem
    """
    params = load_query(AuditExportQuery())
    search = _search(params, current_principal())
    entries = _matching(AuditRepository(current_hub().database), search)
    if params["format"] == "csv":
        body, mimetype = _csv_lines(entries), "text/csv"
    else:
        body, mimetype = _json_lines(entries), "application/x-ndjson"
    response = Response(stream_with_context(body), mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="audit.{params["format"]}"'
    return response


def _matching(entries: AuditRepository, search: AuditSearch) -> Iterator[AuditEntryRow]:
    """Every matching entry, newest first, one query per chunk."""
    cursor: int | None = None
    while batch := entries.query(search, cursor, EXPORT_CHUNK):
        yield from batch
        cursor = batch[-1].seq


def _json_lines(entries: Iterator[AuditEntryRow]) -> Iterator[str]:
    for entry in entries:
        yield json.dumps(leaf_document(entry), ensure_ascii=False) + "\n"


def _csv_lines(entries: Iterator[AuditEntryRow]) -> Iterator[str]:
    yield _csv_row(EXPORT_COLUMNS)
    for entry in entries:
        document = leaf_document(entry)
        document["record_ids"] = " ".join(entry.record_ids)
        yield _csv_row([document[column] for column in EXPORT_COLUMNS])


def _csv_row(values: Any) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(["" if value is None else value for value in values])
    return buffer.getvalue()


@blueprint.get("/v1/audit/checkpoints/latest")
def latest_checkpoint() -> Response:
    """The hub's most recent signed checkpoint of the audit log.
    ---
    get:
      tags: [audit]
      summary: Latest signed checkpoint
      responses:
        200:
          content:
            application/json:
              schema: CheckpointView
        404:
          description: No checkpoint has been signed yet.
          content:
            application/problem+json:
              schema: Problem
    """
    latest = CheckpointRepository(current_hub().database).latest()
    if latest is None:
        raise NotFound("no audit checkpoint has been signed yet")
    return jsonify(_checkpoint_json(latest))


@blueprint.get("/v1/audit/checkpoints")
def list_checkpoints() -> Response:
    """Signed checkpoints by tree size, smallest first.
    ---
    get:
      tags: [audit]
      summary: List signed checkpoints
      parameters:
        - in: query
          schema: CheckpointRangeQuery
      responses:
        200:
          description: '{"checkpoints": [CheckpointView]}'
    """
    params = load_query(CheckpointRangeQuery())
    rows = CheckpointRepository(current_hub().database).list(
        params["min_size"], params["max_size"], params["limit"]
    )
    return jsonify(checkpoints=[_checkpoint_json(row) for row in rows])


@blueprint.get("/v1/audit/entries/<seq>/proof")
def inclusion_proof(seq: str) -> Response:
    """The RFC 9162 inclusion proof of one entry in the tree of `tree_size` entries.
    ---
    get:
      tags: [audit]
      summary: Inclusion proof of an entry
      description: Auditors, or a department for an entry it may read. The answer carries
        the entry itself, so the verifier recomputes its leaf hash.
      parameters:
        - {in: path, name: seq, schema: {type: integer, minimum: 1}, required: true}
        - in: query
          schema: ProofQuery
      responses:
        200:
          description: '{seq, leaf_index, tree_size, entry, leaf_hash, root_hash, audit_path}'
        404:
          content:
            application/problem+json:
              schema: Problem
        422:
          content:
            application/problem+json:
              schema: Problem
    """
    number = _path_seq(seq)
    params = load_query(ProofQuery())
    hub = current_hub()
    _require_visible(number, _reader_scope(current_principal()))
    tree_size = params["tree_size"] or _latest_size()
    return jsonify(prove_inclusion(hub.database, number, tree_size).to_json())


def _require_visible(seq: int, scope: str | None) -> None:
    """A department asking for an entry it may not read learns nothing, not even that
    it exists."""
    if scope is None:
        return
    entries = AuditRepository(current_hub().database).query(
        AuditSearch(visible_to=scope), seq + 1, 1
    )
    if not entries or entries[0].seq != seq:
        raise NotFound(f"no audit entry {seq} visible to {scope!r}")


def _path_seq(seq: str) -> int:
    try:
        number = int(seq)
    except ValueError:
        number = 0
    if number < 1:
        raise ValidationFailed(
            "some fields are invalid: see `errors`", errors={"seq": ["must be an integer >= 1"]}
        )
    return number


def _latest_size() -> int:
    latest = CheckpointRepository(current_hub().database).latest()
    if latest is None:
        raise NotFound("no audit checkpoint has been signed yet: pass tree_size")
    return latest.tree_size


@blueprint.get("/v1/audit/consistency")
def consistency_proof() -> Response:
    """The RFC 9162 consistency proof between the trees of `first` and `second` entries.
    ---
    get:
      tags: [audit]
      summary: Consistency proof between two tree sizes
      parameters:
        - in: query
          schema: ConsistencyQuery
      responses:
        200:
          description: '{first, second, first_root_hash, second_root_hash, proof}'
        422:
          content:
            application/problem+json:
              schema: Problem
    """
    params = load_query(ConsistencyQuery())
    proof = prove_consistency(current_hub().database, params["first"], params["second"])
    return jsonify(proof.to_json())
