"""Cursor pagination shared by list endpoints."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


class PageQuery(Schema):
    """`?limit=&after=`: at most `limit` items after the opaque cursor `after`."""

    limit = fields.Integer(
        load_default=DEFAULT_LIMIT, validate=validate.Range(min=1, max=MAX_LIMIT)
    )
    after = fields.String(load_default=None, validate=validate.Length(max=256))
