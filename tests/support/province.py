"""A small fictional province for API tests: departments, the business-licence subject and
licence records."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from tests.support.signed_client import SignedClient, onboard_department

ROOT = Path(__file__).resolve().parents[2]
LICENCE_SUBJECT = "market-regulation.business-licence"


def example_schema(subject: str) -> dict[str, Any]:
    """A schema shipped in `schemas/`."""
    loaded: dict[str, Any] = json.loads((ROOT / "schemas" / f"{subject}.schema.json").read_text())
    return loaded


def register_licence_subject(admin: SignedClient) -> SignedClient:
    """Onboard market regulation and register its business-licence subject; return its client."""
    market = onboard_department(admin, "market-regulation")
    response = admin.post(
        "/v1/subjects",
        json={
            "subject": LICENCE_SUBJECT,
            "owner": "market-regulation",
            "title": "Business licence",
            "description": "Licences issued to enterprises (fictional test data)",
            "sensitivity": "internal",
            "key_field": "unified_social_credit_code",
            "compatibility": "BACKWARD",
            "retention_days": 365,
            "schema": example_schema(LICENCE_SUBJECT),
        },
    )
    assert response.status_code == 201, response.get_json()
    return market


_CHECK_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def licence(number: int, **changes: Any) -> dict[str, Any]:
    """A valid, clearly fictional business licence whose credit code encodes `number`."""
    code = f"91110108{number:09d}X"[:18]
    code = "".join(c if c in _CHECK_CHARS else "0" for c in code)
    document: dict[str, Any] = {
        "unified_social_credit_code": code,
        "enterprise_name": f"Example Trading Co. No. {number} (fictional)",
        "enterprise_type": "limited_liability_company",
        "legal_representative": {"name": "Zhang San (fictional)"},
        "date_of_establishment": "2019-03-15",
        "registered_address": {
            "province": "Example Province",
            "city": "Sample City",
            "district": "Demo District",
            "street": f"{number} Fictional Road",
            "postal_code": "100000",
        },
        "registration_authority": "Demo District Market Regulation Bureau",
        "issue_date": "2023-06-01",
        "status": "active",
    }
    document.update(copy.deepcopy(changes))
    return document
