"""Helpers of the registry API tests: departments onboarded through the API, and bodies."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.support.signed_client import SignedClient, onboard_department

PROBLEMS = "https://exchange.example.gov/problems/"

LICENCE_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Business licence",
    "type": "object",
    "properties": {
        "credit_code": {"type": "string", "pattern": "^[0-9A-HJ-NPQRTUWXY]{18}$"},
        "name": {"type": "string", "minLength": 1},
        "capital": {"type": "integer", "minimum": 0},
    },
    "required": ["credit_code", "name"],
    "additionalProperties": False,
}


def licence_schema(**extra_properties: Any) -> dict[str, Any]:
    """The licence schema with more (optional) properties."""
    schema = copy.deepcopy(LICENCE_SCHEMA)
    schema["properties"].update(extra_properties)
    return schema


def registration(subject: str = "market-regulation.business-licence", **overrides: Any) -> dict:
    """A valid registration body for `subject`, owned by the subject's first part."""
    return {
        "subject": subject,
        "owner": subject.split(".", maxsplit=1)[0],
        "title": "Business licence",
        "description": "Licences issued to market entities",
        "sensitivity": "internal",
        "key_field": "credit_code",
        "compatibility": "BACKWARD",
        "retention_days": 3650,
        "schema": LICENCE_SCHEMA,
    } | overrides


@pytest.fixture
def market(admin: SignedClient) -> SignedClient:
    """The market-regulation department, signing with its own key."""
    return onboard_department(admin, "market-regulation")


@pytest.fixture
def taxation(admin: SignedClient) -> SignedClient:
    """The taxation department, signing with its own key."""
    return onboard_department(admin, "taxation")


def register(client: SignedClient, subject: str = "market-regulation.business-licence", **kw):
    """POST /v1/subjects and return the response."""
    return client.post("/v1/subjects", json=registration(subject, **kw))
