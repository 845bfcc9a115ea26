"""OpenAPI 3.1 description generated from the blueprints' docstrings and marshmallow schemas."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify, render_template
from marshmallow import INCLUDE, Schema, fields

import exchange
from exchange.api.openapi_problems import add_common_problems

blueprint = Blueprint("openapi", __name__)
_UNDOCUMENTED = {"static", "openapi.openapi_json", "openapi.docs"}


class ProblemSchema(Schema):
    """RFC 9457 problem details, as every error of the hub is answered; members beyond
    these (`errors`, `subject`, ...) are extensions that name what was wrong."""

    class Meta:
        unknown = INCLUDE

    type = fields.String(required=True, metadata={"description": "Stable URI of the error kind"})
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    instance = fields.String()
    request_id = fields.String()


def build_spec(app: Flask) -> dict[str, Any]:
    """Walk the app's routes and collect their documented operations into one spec."""
    # Imported on the first /openapi.json, not with the app: a worker that is never asked
    # for its description does not carry apispec and PyYAML (about 2 MB).
    from apispec import APISpec  # noqa: PLC0415
    from apispec.ext.marshmallow import MarshmallowPlugin  # noqa: PLC0415
    from apispec_webframeworks.flask import FlaskPlugin  # noqa: PLC0415

    spec = APISpec(
        title="Exchange hub API",
        version=exchange.__version__,
        openapi_version="3.1.0",
        plugins=[FlaskPlugin(), MarshmallowPlugin()],
        info={
            "description": (
                "Every request except the probes, this description and the hub's public keys "
                "must carry an RFC 9421 HTTP Message Signature (see docs/signing.md). "
                "Errors are RFC 9457 problem documents."
            )
        },
    )
    spec.components.schema("Problem", schema=ProblemSchema)
    spec.components.security_scheme(
        "httpMessageSignature",
        {
            "type": "apiKey",
            "in": "header",
            "name": "Signature",
            "description": "RFC 9421 signature with Signature-Input (label sig1, tag exchange)",
        },
    )
    with app.test_request_context():
        for endpoint, view in sorted(app.view_functions.items()):
            if endpoint in _UNDOCUMENTED or not (view.__doc__ and "---" in view.__doc__):
                continue
            spec.path(view=view, app=app)
    document = spec.to_dict()
    document["security"] = [{"httpMessageSignature": []}]
    add_common_problems(document)
    return document


@blueprint.get("/openapi.json")
def openapi_json() -> Response:
    """The OpenAPI 3.1 description of this hub."""
    cached = current_app.extensions.get("exchange.openapi")
    if cached is None:
        cached = build_spec(current_app)
        current_app.extensions["exchange.openapi"] = cached
    return jsonify(cached)


@blueprint.get("/docs")
def docs() -> str:
    """A browsable page over `/openapi.json`, with no assets fetched from elsewhere."""
    return render_template("docs.html", version=exchange.__version__)
