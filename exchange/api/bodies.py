"""Reading request bodies and query strings through marshmallow schemas, with clear errors."""

from __future__ import annotations

import json as jsonlib
from collections.abc import Mapping
from typing import Any

from flask import request
from marshmallow import Schema
from marshmallow import ValidationError as MarshmallowError

from exchange.api.request_hygiene import refuse_nul_in_json
from exchange.errors import BadRequest, ExchangeError, ValidationFailed


class UnsupportedMediaType(ExchangeError):
    status = 415
    type_slug = "unsupported-media-type"
    title = "Unsupported media type"


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise BadRequest(f"duplicate JSON member {key!r}")
        result[key] = value
    return result


def _reject_constant(name: str) -> None:
    raise BadRequest(f"{name} is not valid JSON")


def json_body() -> Any:
    """The request body as JSON, refusing other media types, bad UTF-8 and duplicate keys."""
    if request.mimetype != "application/json":
        raise UnsupportedMediaType(
            f"expected Content-Type application/json, got {request.mimetype or 'none'!r}"
        )
    raw = request.get_data(cache=True)
    try:
        text = raw.decode("utf-8")
        refuse_nul_in_json(text)
        return jsonlib.loads(
            text, object_pairs_hook=_reject_duplicate_keys, parse_constant=_reject_constant
        )
    except UnicodeDecodeError as error:
        raise BadRequest(f"the body is not valid UTF-8: {error.reason}") from error
    except RecursionError as error:
        raise BadRequest("the JSON body is nested too deeply") from error
    except jsonlib.JSONDecodeError as error:
        raise BadRequest(
            f"malformed JSON at line {error.lineno} column {error.colno}: {error.msg}"
        ) from error


def load_body(schema: Schema) -> Any:
    """Parse the JSON body and load it through `schema`; field errors become a 422."""
    return _load(schema, json_body())


def load_query(schema: Schema) -> Any:
    """Load the query string through `schema`; field errors become a 422."""
    return _load(schema, request.args.to_dict(flat=True))


def _load(schema: Schema, data: Any) -> Any:
    if not isinstance(data, Mapping) and not schema.many:
        raise ValidationFailed(
            "the body must be a JSON object", errors={"_schema": ["not an object"]}
        )
    try:
        return schema.load(data)
    except MarshmallowError as error:
        raise ValidationFailed(
            "some fields are invalid: see `errors`", errors=error.messages_dict
        ) from error
