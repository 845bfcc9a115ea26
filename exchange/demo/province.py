"""The fictional province the demo seeds: who is on the hub, what they publish, who may
receive what for which purpose, and the connectors that move it. Plain data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

LICENCE_SUBJECT = "market-regulation.business-licence"
AUDITOR = "inspector"
LICENCE_SOURCE = "licences-in"
TAX_SINK = "tax-licences-out"
INBOX = "inbox/market-regulation"
OUTBOX = "outbox/tax"


@dataclass(frozen=True)
class Department:
    code: str
    name: str
    contact: str


@dataclass(frozen=True)
class Subject:
    """A subject registered from `schemas/<name>.schema.json`."""

    name: str
    owner: str
    title: str
    description: str
    sensitivity: str
    key_field: str
    retention_days: int


@dataclass(frozen=True)
class OptionalProperty:
    """A later version of a subject's shipped schema that adds one optional top-level
    property. The shipped record shapes are closed (`additionalProperties: false`), so no
    earlier record can carry it: BACKWARD compatible
    (`PROPERTY_ADDED_TO_CLOSED_CONTENT_MODEL`), and the catalogue's diff has a change to show."""

    subject: str
    name: str
    schema: dict[str, Any]


@dataclass(frozen=True)
class GrantRequest:
    """A grant the consumer asks for and, unless `approve` is False (left pending for the
    owner to decide in the console), the owner approves. `expires_in_days` asks for an
    expiry that many days after seeding."""

    consumer: str
    subject: str
    purpose: str
    fields: tuple[str, ...] | None
    approve: bool = True
    expires_in_days: int | None = None


DEPARTMENTS = (
    Department("market-regulation", "Market Regulation Bureau (demo)", "data@market.demo.example"),
    Department("taxation", "Tax Service (demo)", "data@tax.demo.example"),
    Department("public-security", "Public Security Bureau (demo)", "data@police.demo.example"),
    Department("civil-affairs", "Civil Affairs Bureau (demo)", "data@civil.demo.example"),
    Department("social-security", "Social Insurance Agency (demo)", "data@social.demo.example"),
    Department(
        "housing-construction", "Housing and Construction (demo)", "data@housing.demo.example"
    ),
)

SUBJECTS = (
    Subject(LICENCE_SUBJECT, "market-regulation", "Business licence",
            "Licences issued to market entities (fictional demo data)", "internal",
            "unified_social_credit_code", 3650),
    Subject("taxation.tax-clearance-certificate", "taxation", "Tax clearance certificate",
            "Certificates that a taxpayer has no arrears (fictional demo data)", "confidential",
            "certificate_number", 1825),
    Subject("public-security.household-registration", "public-security", "Household registration",
            "Household registers (fictional demo data)", "secret", "household_number", 3650),
    Subject("civil-affairs.marriage-registration", "civil-affairs", "Marriage registration",
            "Marriage registrations (fictional demo data)", "confidential",
            "certificate_number", 3650),
    Subject("social-security.social-insurance-contribution", "social-security",
            "Social insurance contribution", "Monthly contributions (fictional demo data)",
            "confidential", "insured_person.citizen_id", 1825),
    Subject("housing-construction.building-permit", "housing-construction", "Building permit",
            "Construction permits (fictional demo data)", "public", "permit_number", 3650),
)  # fmt: skip

# Registered by each subject's owner right after the subject, so records published by the
# demo (the file source publishes with the latest version) are written with version 2.
REVISIONS = (
    OptionalProperty(
        LICENCE_SUBJECT, "website",
        {"type": "string", "pattern": "^https?://", "maxLength": 200,
         "description": "The enterprise's website, where it declares one"},
    ),
)  # fmt: skip

GRANTS = (
    GrantRequest(
        "taxation", LICENCE_SUBJECT,
        "Register new enterprises as taxpayers and check clearance applications",
        ("/unified_social_credit_code", "/enterprise_name", "/enterprise_type",
         "/registered_address", "/status"),
    ),
    GrantRequest(
        "social-security", LICENCE_SUBJECT,
        "Enrol the employees of newly licensed employers in social insurance",
        ("/unified_social_credit_code", "/enterprise_name", "/status"),
        expires_in_days=180,
    ),
    GrantRequest(
        "public-security", LICENCE_SUBJECT,
        "Check the registered address of enterprises named in open fraud cases",
        ("/unified_social_credit_code", "/enterprise_name", "/registered_address"),
        approve=False,
    ),
    GrantRequest(
        "market-regulation", "taxation.tax-clearance-certificate",
        "Check tax clearance before renewing a business licence", None,
    ),
)  # fmt: skip
