"""Error kinds of the schema registry's rules: why a schema or a record is refused.

Each kind has its own problem `type`, so a department's developer can tell at a glance
whether a schema is malformed, too costly, unsafe, or incompatible with earlier versions.
Every schema refusal names the JSON Pointer of the offending place in `pointer`.
"""

from __future__ import annotations

from typing import Any

from exchange.errors import Conflict, ValidationFailed


class SchemaRefused(ValidationFailed):
    """A schema cannot be registered; subclasses say why. `pointer` names the place."""

    type_slug = "schema-refused"
    title = "Schema refused"

    def __init__(self, detail: str = "", *, pointer: str = "", **extra: Any) -> None:
        super().__init__(detail, pointer=pointer, **extra)
        self.pointer = pointer


class InvalidJsonSchema(SchemaRefused):
    """The document is not a valid JSON Schema according to the draft 2020-12 meta-schema."""

    type_slug = "schema-invalid"
    title = "Not a valid JSON Schema (draft 2020-12)"


class UnsupportedDialect(SchemaRefused):
    """`$schema` names a dialect other than draft 2020-12."""

    type_slug = "schema-dialect-unsupported"
    title = "Only JSON Schema draft 2020-12 is accepted"


class RemoteReferenceRefused(SchemaRefused):
    """A `$ref`/`$dynamicRef` points outside the document; the hub never fetches anything."""

    type_slug = "schema-remote-reference"
    title = "Remote references are refused"


class UnknownSubjectReference(SchemaRefused):
    """A reference names a subject version the registry does not hold."""

    type_slug = "schema-unknown-subject-reference"
    title = "Reference to an unregistered subject version"


class EmbeddedIdRefused(SchemaRefused):
    """A `$id` would change the base URI that references resolve against."""

    type_slug = "schema-embedded-id"
    title = "This $id is refused"


class SchemaTooLarge(SchemaRefused):
    """The schema's canonical (RFC 8785) form is bigger than the limit."""

    type_slug = "schema-too-large"
    title = "Schema too large"


class SchemaTooDeep(SchemaRefused):
    """The schema nests deeper than the limit."""

    type_slug = "schema-too-deep"
    title = "Schema nested too deeply"


class UnsafePattern(SchemaRefused):
    """A regular expression cannot be run by the hub's linear-time engine (RE2)."""

    type_slug = "schema-unsafe-pattern"
    title = "Regular expression refused"


class OpenContentModelRefused(SchemaRefused):
    """An object schema declares properties but leaves other properties open."""

    type_slug = "schema-open-content-model"
    title = "Open content model refused"


class RecordInvalid(ValidationFailed):
    """A record does not match its subject's schema version; `errors` lists every issue."""

    type_slug = "record-invalid"
    title = "Record does not match its schema"


class IncompatibleSchema(Conflict):
    """A new schema version breaks the subject's compatibility level; `incompatibilities`
    names each rule and JSON Pointer."""

    type_slug = "schema-incompatible"
    title = "Schema is incompatible with earlier versions"
