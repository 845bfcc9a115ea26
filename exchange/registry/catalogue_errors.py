"""Error kinds of the catalogue's use cases: unknown subjects and versions, ownership,
and versions that may no longer be published with."""

from __future__ import annotations

from exchange.errors import Conflict, Forbidden, NotFound, ValidationFailed


class UnknownSubject(NotFound):
    """No subject of that name is registered."""

    type_slug = "unknown-subject"
    title = "Unknown subject"


class UnknownSchemaVersion(NotFound):
    """The subject has no such version (or, for `latest`, no active version at all)."""

    type_slug = "unknown-schema-version"
    title = "Unknown schema version"


class SchemaVersionDeprecated(Conflict):
    """The version was deprecated: records may no longer be published with it."""

    type_slug = "schema-version-deprecated"
    title = "Schema version deprecated"


class SubjectAlreadyExists(Conflict):
    """A subject of that name exists with other metadata or another schema."""

    type_slug = "subject-exists"
    title = "Subject already exists"


class UnknownOwner(ValidationFailed):
    """The subject's owner is not a registered department."""

    type_slug = "unknown-owner"
    title = "Owner is not a registered department"


class SubjectNameMismatch(ValidationFailed):
    """A subject's name must be `<owner>.<name>`, its first part the owner's code."""

    type_slug = "subject-name-mismatch"
    title = "Subject name does not start with its owner"


class KeyFieldNotDeclared(ValidationFailed):
    """The subject's key field is not a declared, required property of the schema."""

    type_slug = "key-field-not-declared"
    title = "Key field not declared by the schema"


class NotSubjectOwner(Forbidden):
    """Only the owning department (or an administrator) may do this to a subject."""

    type_slug = "not-subject-owner"
    title = "Not the subject's owner"
