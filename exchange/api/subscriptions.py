"""`/v1/subscriptions`: receive a subject under a grant (pull, acknowledge), and
`GET /v1/subjects/{subject}/records/{key}`: look up the latest record of one key.

Every pull and lookup is audited with the subject, the grant, its purpose and the ids of
the records delivered (through `g.audit_*`, read by `exchange.api.audit_trail`).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, jsonify
from marshmallow import Schema, fields, validate

from exchange.api.authentication import current_principal
from exchange.api.bodies import load_body, load_query
from exchange.api.context import current_hub
from exchange.api.observability import count_consumed
from exchange.policy.grants import Grant
from exchange.records.lookup import Lookup
from exchange.records.subscriptions import Receiving
from exchange.store.records_grants import GrantFilters
from exchange.store.repositories import (
    LatestRecordRepository,
    SubscriptionRepository,
    SubscriptionRow,
)
from exchange.store.repositories.grants import GrantRepository

blueprint = Blueprint("subscriptions", __name__)
MAX_PULL_RECORDS = 1000
MAX_WAIT_MS = 30_000


class SubscriptionRequest(Schema):
    subject = fields.String(required=True, validate=validate.Length(min=1, max=255))
    grant_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    start = fields.String(
        data_key="from",
        load_default="latest",
        validate=validate.OneOf(["earliest", "latest"]),
        metadata={"description": "Where a new subscription starts reading (default latest)"},
    )


class SubscriptionView(Schema):
    id = fields.String()
    department = fields.String()
    subject = fields.String()
    grant_id = fields.String()
    start = fields.String(data_key="from")
    created_at = fields.DateTime()


class PullQuery(Schema):
    max = fields.Integer(load_default=100, validate=validate.Range(min=1, max=MAX_PULL_RECORDS))
    wait_ms = fields.Integer(load_default=0, validate=validate.Range(min=0, max=MAX_WAIT_MS))


class PullResult(Schema):
    records = fields.List(
        fields.Dict(),
        metadata={"description": "Deliveries: projected records signed by the hub"},
    )
    cursor = fields.String(metadata={"description": "Acknowledge it to commit these records"})
    lag = fields.Integer(
        allow_none=True,
        metadata={
            "description": (
                "How many records of the subject lie beyond this pull's records and were "
                "not delivered yet (never negative). Exact on the embedded transport; on "
                "Kafka an approximation that counts offsets from the high watermark of the "
                "hub's last fetch of each partition: a transaction's commit marker takes "
                "an offset, so a batch published in one request may count one more per "
                "partition until the reader passes it, and what was produced since that "
                "fetch may not be counted yet; null when the broker could not say"
            )
        },
    )


class AckBody(Schema):
    cursor = fields.String(required=True, validate=validate.Length(min=1, max=8192))


class LookupQuery(Schema):
    grant_id = fields.String(load_default=None, validate=validate.Length(min=1, max=64))


def _receiving() -> Receiving:
    hub = current_hub()
    return Receiving(
        SubscriptionRepository(hub.database),
        GrantRepository(hub.database),
        hub.subscription_consumers,
        hub.signer,
        remembered=hub.remembered_subscriptions,
    )


def _lookup() -> Lookup:
    hub = current_hub()
    grants = GrantRepository(hub.database)

    def grants_of(consumer: str, subject: str) -> list[Grant]:
        return grants.list_grants(
            GrantFilters(subject=subject, status="approved", consumer=consumer)
        )

    return Lookup(LatestRecordRepository(hub.database), grants, grants_of, hub.signer)


def _view(subscription: SubscriptionRow) -> dict[str, Any]:
    return {
        "id": subscription.id,
        "department": subscription.department,
        "subject": subscription.subject,
        "grant_id": subscription.grant_id,
        "from": subscription.start,
        "created_at": subscription.created_at.isoformat(),
    }


def _audit_delivery(grant: Grant, record_ids: list[str]) -> None:
    g.audit_grant_id = grant.id
    g.audit_purpose = grant.purpose
    g.audit_record_ids = record_ids


@blueprint.post("/v1/subscriptions")
def subscribe() -> tuple[Response, int]:
    """Subscribe to a subject under one of the caller's active grants (departments).
    ---
    post:
      tags: [receiving]
      summary: Subscribe
      requestBody:
        required: true
        content:
          application/json:
            schema: SubscriptionRequest
      responses:
        201:
          content:
            application/json:
              schema: SubscriptionView
        403:
          description: The grant is not the caller's, not for this subject, or not active.
          content:
            application/problem+json:
              schema: Problem
    """
    body = load_body(SubscriptionRequest())
    g.audit_subject = body["subject"]
    g.audit_grant_id = body["grant_id"]
    subscription = _receiving().subscribe(
        current_principal(), body["subject"], body["grant_id"], body["start"]
    )
    return jsonify(_view(subscription)), 201


@blueprint.get("/v1/subscriptions/<subscription_id>")
def get_subscription(subscription_id: str) -> Response:
    """One of the caller's subscriptions.
    ---
    get:
      tags: [receiving]
      summary: Get a subscription
      parameters:
        - {in: path, name: subscription_id, schema: {type: string}, required: true}
      responses:
        200:
          content:
            application/json:
              schema: SubscriptionView
        404:
          content:
            application/problem+json:
              schema: Problem
    """
    subscription = _receiving().subscription_for(current_principal(), subscription_id)
    return jsonify(_view(subscription))


@blueprint.get("/v1/subscriptions/<subscription_id>/records")
def pull(subscription_id: str) -> Response:
    """Pull deliveries; the grant is re-checked on every pull. Acknowledge the cursor to
    commit them: unacknowledged records are delivered again. `lag` tells how many records
    are still to come after these (approximate on Kafka).
    ---
    get:
      tags: [receiving]
      summary: Pull records
      parameters:
        - {in: path, name: subscription_id, schema: {type: string}, required: true}
        - in: query
          schema: PullQuery
      responses:
        200:
          content:
            application/json:
              schema: PullResult
        403:
          description: The grant was revoked, expired or is otherwise not active.
          content:
            application/problem+json:
              schema: Problem
        404:
          description: No such subscription of the caller's.
          content:
            application/problem+json:
              schema: Problem
    """
    receiving = _receiving()
    subscription = receiving.subscription_for(current_principal(), subscription_id)
    query = load_query(PullQuery())
    g.audit_subject = subscription.subject
    g.audit_grant_id = subscription.grant_id
    pulled = receiving.pull(subscription, query["max"], query["wait_ms"] / 1000)
    count_consumed("records", len(pulled.deliveries))
    _audit_delivery(pulled.grant, [d["record_id"] for d in pulled.deliveries])
    return jsonify(records=pulled.deliveries, cursor=pulled.cursor, lag=pulled.lag)


@blueprint.post("/v1/subscriptions/<subscription_id>/ack")
def acknowledge(subscription_id: str) -> Response:
    """Acknowledge a pull's cursor: commit its offsets for the subscription.
    ---
    post:
      tags: [receiving]
      summary: Acknowledge records
      parameters:
        - {in: path, name: subscription_id, schema: {type: string}, required: true}
      requestBody:
        required: true
        content:
          application/json:
            schema: AckBody
      responses:
        200:
          description: '{"acknowledged": true}'
        409:
          description: The cursor was issued for another subscription.
          content:
            application/problem+json:
              schema: Problem
        422:
          description: The cursor is malformed.
          content:
            application/problem+json:
              schema: Problem
    """
    receiving = _receiving()
    subscription = receiving.subscription_for(current_principal(), subscription_id)
    body = load_body(AckBody())
    g.audit_subject = subscription.subject
    g.audit_grant_id = subscription.grant_id
    receiving.acknowledge(subscription, body["cursor"])
    return jsonify(acknowledged=True)


@blueprint.get("/v1/subjects/<subject>/records/<path:key>")
def lookup(subject: str, key: str) -> Response:
    """The latest record of one key, for a grantee (once-only principle): projected to
    the grant's fields, signed for the caller, audited like a delivery.
    ---
    get:
      tags: [receiving]
      summary: Look up the latest record of a key
      parameters:
        - {in: path, name: subject, schema: {type: string}, required: true}
        - {in: path, name: key, schema: {type: string}, required: true}
        - in: query
          schema: LookupQuery
      responses:
        200:
          description: A delivery of the latest record of the key.
        403:
          description: The caller holds no active grant on the subject.
          content:
            application/problem+json:
              schema: Problem
        404:
          description: No record with this key.
          content:
            application/problem+json:
              schema: Problem
    """
    query = load_query(LookupQuery())
    g.audit_subject = subject
    lookups = _lookup()
    grant = lookups.grant_for(current_principal(), subject, query["grant_id"])
    _audit_delivery(grant, [])
    delivery = lookups.latest(grant, key)
    g.audit_record_ids = [delivery["record_id"]]
    return jsonify(delivery)
