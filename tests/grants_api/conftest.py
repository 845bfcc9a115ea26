"""Fixtures of the grants API tests: departments and operators onboarded through the API,
and the example business-licence subject registered through the registry API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.signed_client import SignedClient, onboard_department, onboard_operator

PROBLEMS = "https://exchange.example.gov/problems/"
SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
LICENCE = "market-regulation.business-licence"
PURPOSE = "checking licences of applicants for tax clearance certificates"


def example_schema(subject: str) -> dict[str, Any]:
    """One of the example schemas shipped in `schemas/`."""
    schema: dict[str, Any] = json.loads((SCHEMAS / f"{subject}.schema.json").read_text())
    return schema


@pytest.fixture
def market(admin: SignedClient) -> SignedClient:
    """market-regulation: owns the business-licence subject."""
    return onboard_department(admin, "market-regulation")


@pytest.fixture
def taxation(admin: SignedClient) -> SignedClient:
    """taxation: the consumer asking for licences."""
    return onboard_department(admin, "taxation")


@pytest.fixture
def civil(admin: SignedClient) -> SignedClient:
    """civil-affairs: a department with no part in the grants under test."""
    return onboard_department(admin, "civil-affairs")


@pytest.fixture
def auditor(admin: SignedClient) -> SignedClient:
    return onboard_operator(admin, "ian", "auditor")


@pytest.fixture
def licence(admin: SignedClient, market: SignedClient) -> str:
    """The business-licence subject, registered through the registry API."""
    response = admin.post(
        "/v1/subjects",
        json={
            "subject": LICENCE,
            "owner": "market-regulation",
            "key_field": "unified_social_credit_code",
            "schema": example_schema(LICENCE),
        },
    )
    assert response.status_code == 201, response.get_json()
    return LICENCE


def ask(consumer: SignedClient, subject: str = LICENCE, **terms: Any):
    """POST /v1/grants with a valid purpose unless `terms` says otherwise."""
    return consumer.post("/v1/grants", json={"subject": subject, "purpose": PURPOSE} | terms)


@pytest.fixture
def pending(taxation: SignedClient, licence: str) -> dict[str, Any]:
    """A pending grant of the licence subject to taxation, limited to two fields."""
    response = ask(taxation, fields=["/enterprise_name", "/registered_address/city"])
    assert response.status_code == 201, response.get_json()
    grant: dict[str, Any] = response.get_json()
    return grant
