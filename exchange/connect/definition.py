"""Checking a connector definition before it is stored: the class exists for its kind, the
department may use the subject (owns it, for a source; holds a grant on it, for a sink),
and the configuration passes the class's own schema and checks. Every bad field is named
in one answer, the configuration's under `config`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from marshmallow import ValidationError as MarshmallowError

from connectors.base import ConnectorEnvironment
from exchange.connect.classes import available_classes, implementation
from exchange.errors import ValidationFailed
from exchange.store.records_connectors import ConnectorDraft


class DefinitionInvalid(ValidationFailed):
    type_slug = "connector-invalid"
    title = "Connector definition invalid"


class DefinitionLookups(Protocol):
    """What checking a definition needs to know about the hub."""

    def subject_owner(self, subject: str) -> str | None:
        """The owning department of `subject`, or None if there is no such subject."""
        ...

    def grant_holder(self, grant_id: str, subject: str) -> str | None:
        """The consumer of the grant `grant_id` on `subject`, or None if there is none."""
        ...


def checked_draft(
    body: Mapping[str, Any],
    department: str,
    environment: ConnectorEnvironment,
    lookups: DefinitionLookups,
) -> ConnectorDraft:
    """The definition as a draft, or `DefinitionInvalid` naming every bad field."""
    errors = _binding_errors(body, department, lookups)
    config, config_errors = _loaded_config(body, environment)
    if config_errors:
        errors["config"] = config_errors
    if errors:
        raise DefinitionInvalid("some fields are invalid: see `errors`", errors=errors)
    return ConnectorDraft(
        name=body["name"],
        department=department,
        kind=body["kind"],
        class_name=body["class_name"],
        subject=body["subject"],
        grant_id=body.get("grant_id"),
        config=config,
    )


def _binding_errors(
    body: Mapping[str, Any], department: str, lookups: DefinitionLookups
) -> dict[str, Any]:
    errors: dict[str, Any] = {}
    if implementation(body["class_name"], body["kind"]) is None:
        known = ", ".join(sorted(available_classes()))
        errors["class"] = [f"no {body['kind']} class {body['class_name']!r} (classes: {known})"]
    owner = lookups.subject_owner(body["subject"])
    if owner is None:
        errors["subject"] = [f"no subject {body['subject']!r}"]
    elif body["kind"] == "source" and owner != department:
        errors["subject"] = [f"a source publishes as {department!r}, which does not own it"]
    if body["kind"] == "sink":
        errors.update(_grant_errors(body, department, lookups))
    elif body.get("grant_id") is not None:
        errors["grant_id"] = ["only sinks receive under a grant"]
    return errors


def _grant_errors(
    body: Mapping[str, Any], department: str, lookups: DefinitionLookups
) -> dict[str, list[str]]:
    grant_id = body.get("grant_id")
    if grant_id is None:
        return {"grant_id": ["a sink needs the grant it receives under"]}
    holder = lookups.grant_holder(grant_id, body["subject"])
    if holder is None:
        return {"grant_id": [f"no grant {grant_id!r} on {body['subject']!r}"]}
    if holder != department:
        return {"grant_id": [f"the grant is {holder!r}'s, not {department!r}'s"]}
    return {}


def _loaded_config(
    body: Mapping[str, Any], environment: ConnectorEnvironment
) -> tuple[dict[str, Any], dict[str, Any]]:
    implementation_class = implementation(body["class_name"], body["kind"])
    if implementation_class is None:
        return {}, {}
    try:
        config: dict[str, Any] = implementation_class.config_schema().load(body["config"])
    except MarshmallowError as error:
        return {}, error.messages_dict
    return config, implementation_class.check_config(config, environment)
