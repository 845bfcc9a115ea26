"""The grant domain, called directly: transitions, delivery decisions, projection, and the
field lists a subject's schema allows."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from exchange.errors import Forbidden, NotFound
from exchange.policy import grant_service, grants
from exchange.policy.declared_fields import declares, require_declared
from exchange.policy.field_pointers import InvalidFieldList, lies_within, normalise_field_list
from exchange.policy.grant_service import SubjectTerms
from exchange.policy.grants import (
    Grant,
    GrantExpired,
    GrantNotActive,
    GrantNotApplicable,
    GrantNotFound,
    GrantPartyForbidden,
    GrantRevoked,
    GrantStateConflict,
    GrantTerms,
    InvalidGrantRequest,
    OwnSubjectGrant,
    project,
)
from exchange.policy.principals import Principal

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
SUBJECT = "market-regulation.business-licence"
OWNER = Principal("department", "market-regulation", "department", "kid-owner")
CONSUMER = Principal("department", "taxation", "department", "kid-consumer")
STRANGER = Principal("department", "civil-affairs", "department", "kid-stranger")
ADMIN = Principal("operator", "alice", "admin", "kid-admin")
AUDITOR = Principal("operator", "ian", "auditor", "kid-auditor")
PURPOSE = "tax clearance cross-checks"


def pending(**terms) -> Grant:
    values = {"subject": SUBJECT, "purpose": PURPOSE} | terms
    return grants.request("g-1", OWNER.name, CONSUMER, GrantTerms(**values), T0).grant


def in_status(status, **terms) -> Grant:
    return dataclasses.replace(pending(**terms), status=status)


# Transitions


@pytest.mark.parametrize(
    ("status", "change", "outcome"),
    [
        ("pending", grants.approve, "approved"),
        ("pending", grants.reject, "rejected"),
        ("pending", grants.revoke, "revoked"),
        ("approved", grants.revoke, "revoked"),
        ("approved", grants.approve, GrantStateConflict),
        ("approved", grants.reject, GrantStateConflict),
        ("rejected", grants.approve, GrantStateConflict),
        ("rejected", grants.reject, GrantStateConflict),
        ("rejected", grants.revoke, GrantStateConflict),
        ("revoked", grants.approve, GrantStateConflict),
        ("revoked", grants.reject, GrantStateConflict),
        ("revoked", grants.revoke, GrantStateConflict),
    ],
)
def test_transitions_follow_the_grant_lifecycle(status, change, outcome):
    grant = in_status(status)
    later = T0 + timedelta(minutes=5)

    if outcome is GrantStateConflict:
        with pytest.raises(GrantStateConflict) as raised:
            change(grant, ADMIN, later)
        assert raised.value.status == 409
        assert raised.value.type_slug == "grant-state"
        return
    result = change(grant, ADMIN, later)
    assert result.grant.status == outcome
    assert result.grant.version == grant.version + 1
    assert result.grant.updated_at == later
    assert result.previous_version == grant.version
    assert (result.event.from_status, result.event.to_status) == (status, outcome)
    assert (result.event.actor, result.event.actor_role, result.event.at) == (
        "alice",
        "admin",
        later,
    )


def test_a_request_starts_pending_at_version_one_with_its_creation_event():
    change = grants.request(
        "g-9", OWNER.name, CONSUMER, GrantTerms(SUBJECT, PURPOSE, ["/a", "/b", "/a"]), T0
    )

    assert change.grant.status == "pending"
    assert change.grant.version == 1
    assert change.grant.fields == ("/a", "/b")
    assert change.previous_version == 0
    assert change.event.from_status is None
    assert change.event.actor == "taxation"


@pytest.mark.parametrize(
    ("terms", "error"),
    [
        ({"purpose": "   too short  "}, InvalidGrantRequest),
        ({"expires_at": T0}, InvalidGrantRequest),
        ({"expires_at": T0 - timedelta(days=1)}, InvalidGrantRequest),
        ({"fields": ["a"]}, InvalidFieldList),
        ({"fields": ["/a~9"]}, InvalidFieldList),
        ({"fields": [""]}, InvalidFieldList),
    ],
)
def test_invalid_requests_are_refused_naming_the_field(terms, error):
    with pytest.raises(error) as raised:
        pending(**terms)
    assert raised.value.status == 422
    assert set(raised.value.extra["errors"]) <= {"purpose", "expires_at", "fields"}


def test_the_owner_cannot_request_a_grant_on_its_own_subject():
    with pytest.raises(OwnSubjectGrant):
        grants.request("g", OWNER.name, OWNER, GrantTerms(SUBJECT, PURPOSE), T0)


def test_an_expired_pending_grant_cannot_be_approved():
    grant = pending(expires_at=T0 + timedelta(hours=1))

    with pytest.raises(GrantStateConflict):
        grants.approve(grant, OWNER, T0 + timedelta(hours=1))


@pytest.mark.parametrize(
    ("requested", "approved", "kept"),
    [
        (None, None, None),
        (None, ["/x"], ("/x",)),
        (["/a", "/b"], None, ("/a", "/b")),
        (["/a", "/b"], ["/b"], ("/b",)),
        (["/a"], ["/a/inner"], ("/a/inner",)),
    ],
)
def test_approval_may_narrow_the_fields(requested, approved, kept):
    result = grants.approve(pending(fields=requested), OWNER, T0, fields=approved)

    assert result.grant.fields == kept
    assert result.event.fields == kept


@pytest.mark.parametrize(
    ("requested", "approved"), [(["/a"], ["/b"]), (["/a/inner"], ["/a"]), (["/ab"], ["/a"])]
)
def test_approval_cannot_widen_the_fields(requested, approved):
    with pytest.raises(InvalidGrantRequest):
        grants.approve(pending(fields=requested), OWNER, T0, fields=approved)


def test_approval_may_only_bring_the_expiry_forward():
    requested = T0 + timedelta(days=10)
    grant = pending(expires_at=requested)

    earlier = grants.approve(grant, OWNER, T0, expires_at=T0 + timedelta(days=1))
    assert earlier.grant.expires_at == T0 + timedelta(days=1)
    with pytest.raises(InvalidGrantRequest):
        grants.approve(grant, OWNER, T0, expires_at=requested + timedelta(seconds=1))
    with pytest.raises(InvalidGrantRequest):
        grants.approve(grant, OWNER, T0, expires_at=T0)


# Who may do what


@pytest.mark.parametrize(
    ("principal", "sees", "decides", "revokes"),
    [
        (OWNER, True, True, True),
        (CONSUMER, True, False, True),
        (ADMIN, True, True, True),
        (AUDITOR, True, False, False),
        (STRANGER, False, False, False),
    ],
)
def test_parties_and_their_rights(principal, sees, decides, revokes):
    grant = pending()

    assert grants.may_see(principal, grant) is sees
    for check, allowed in (
        (grants.require_may_decide, decides),
        (grants.require_may_revoke, revokes),
    ):
        if allowed:
            check(principal, grant)
        else:
            with pytest.raises(GrantPartyForbidden):
                check(principal, grant)


def test_an_operator_named_like_the_owner_is_not_the_owner():
    impostor = Principal("operator", OWNER.name, "auditor", "kid-x")

    with pytest.raises(GrantPartyForbidden):
        grants.require_may_decide(impostor, pending())


# Deliveries


@pytest.mark.parametrize(
    ("status", "expires_in", "at", "error"),
    [
        ("approved", None, T0 + timedelta(days=3650), None),
        ("approved", timedelta(hours=1), T0 + timedelta(minutes=59), None),
        ("approved", timedelta(hours=1), T0 + timedelta(hours=1), GrantExpired),
        ("approved", timedelta(hours=1), T0 + timedelta(days=1), GrantExpired),
        ("pending", None, T0, GrantNotActive),
        ("rejected", None, T0, GrantNotActive),
        ("revoked", None, T0, GrantRevoked),
        ("revoked", timedelta(hours=1), T0 + timedelta(days=1), GrantRevoked),
    ],
)
def test_only_an_approved_unexpired_grant_authorises_delivery(status, expires_in, at, error):
    expiry = None if expires_in is None else T0 + expires_in
    grant = dataclasses.replace(pending(), status=status, expires_at=expiry)

    assert grant.is_active(at) is (error is None)
    if error is None:
        grants.authorise_delivery(grant, CONSUMER.name, SUBJECT, at)
        return
    with pytest.raises(error) as raised:
        grants.authorise_delivery(grant, CONSUMER.name, SUBJECT, at)
    assert raised.value.status == 403


def test_refusals_have_distinct_problem_types():
    slugs = {kind.type_slug for kind in (GrantExpired, GrantNotActive, GrantRevoked)}

    assert len(slugs) == 3


@pytest.mark.parametrize(("consumer", "subject"), [("civil-affairs", SUBJECT), ("taxation", "x.y")])
def test_a_grant_covers_only_its_consumer_and_subject(consumer, subject):
    grant = in_status("approved")

    with pytest.raises(GrantNotApplicable):
        grants.authorise_delivery(grant, consumer, subject, T0)


# Projection

PAYLOAD: dict[str, Any] = {
    "name": "Acme",
    "address": {"city": "Hangzhou", "street": "1 West Lake Rd", "postal_code": "310000"},
    "representative": {"name": "Li", "ids": {"citizen": "X", "passport": "Y"}},
    "members": [
        {"name": "Wang", "role": "head"},
        {"name": "Zhao", "role": "spouse"},
        {"name": "Qian", "role": "child"},
    ],
    "tags": ["a", "b"],
    "status": None,
    "a/b": 1,
    "m~n": 2,
}


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (["/name"], {"name": "Acme"}),
        (["/status"], {"status": None}),
        (["/address/city"], {"address": {"city": "Hangzhou"}}),
        (
            ["/address/postal_code", "/address/city"],
            {"address": {"city": "Hangzhou", "postal_code": "310000"}},
        ),
        (
            ["/representative/ids/citizen", "/name"],
            {"name": "Acme", "representative": {"ids": {"citizen": "X"}}},
        ),
        (["/address", "/address/city"], {"address": PAYLOAD["address"]}),
        (["/address/city", "/address"], {"address": PAYLOAD["address"]}),
        (["/members/0/name"], {"members": [{"name": "Wang"}]}),
        (["/members/2/role"], {"members": [None, None, {"role": "child"}]}),
        (
            ["/members/1/name", "/members/0/role"],
            {"members": [{"role": "head"}, {"name": "Zhao"}]},
        ),
        (["/tags/1"], {"tags": [None, "b"]}),
        (["/tags"], {"tags": ["a", "b"]}),
        (["/a~1b", "/m~0n"], {"a/b": 1, "m~n": 2}),
        (["/missing"], {}),
        (["/address/planet"], {}),
        (["/name/first"], {}),
        (["/members/3/name"], {}),
        (["/members/-"], {}),
        (["/members/01"], {}),
        (["/members/name"], {}),
        (["/missing", "/name"], {"name": "Acme"}),
    ],
)
def test_projection_keeps_exactly_the_granted_places(fields, expected):
    assert project(PAYLOAD, fields) == expected


def test_projection_keeps_the_payloads_member_order():
    projected = project(PAYLOAD, ["/status", "/name", "/address/street", "/address/city"])

    assert list(projected) == ["name", "address", "status"]
    assert list(projected["address"]) == ["city", "street"]


def test_without_a_field_list_the_whole_payload_is_delivered():
    assert project(PAYLOAD, None) == PAYLOAD


def test_projection_copies_and_never_changes_the_payload():
    projected = project(PAYLOAD, ["/address"])
    projected["address"]["city"] = "changed"
    whole = project(PAYLOAD, None)
    whole["members"].clear()

    assert PAYLOAD["address"]["city"] == "Hangzhou"
    assert len(PAYLOAD["members"]) == 3


# Field lists


def test_field_lists_lose_repeats_and_keep_their_order():
    assert normalise_field_list(["/b", "/a", "/b"]) == ("/b", "/a")


@pytest.mark.parametrize(
    ("pointer", "allowed", "within"),
    [
        ("/a", ["/a"], True),
        ("/a/b/c", ["/x", "/a/b"], True),
        ("/a", ["/a/b"], False),
        ("/ab", ["/a"], False),
        ("/a~1b", ["/a"], False),
    ],
)
def test_a_pointer_lies_within_another_only_below_it_token_by_token(pointer, allowed, within):
    assert lies_within(pointer, allowed) is within


SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "address": {"$ref": "#/$defs/address"},
        "members": {"type": "array", "items": {"$ref": "#/$defs/member"}},
        "pair": {"type": "array", "prefixItems": [{"type": "string"}, {"$ref": "#/$defs/member"}]},
        "contact": {
            "oneOf": [
                {"type": "object", "properties": {"phone": {"type": "string"}}},
                {"type": "object", "properties": {"email": {"type": "string"}}},
            ]
        },
        "labels": {"type": "object", "patternProperties": {"^x-": {"type": "string"}}},
        "tree": {"$ref": "#/$defs/tree"},
    },
    "allOf": [{"properties": {"extra": {"type": "integer"}}}],
    "$defs": {
        "address": {"type": "object", "properties": {"city": {"type": "string"}}},
        "member": {"type": "object", "properties": {"name": {"type": "string"}}},
        "tree": {"type": "object", "properties": {"child": {"$ref": "#/$defs/tree"}}},
    },
}


@pytest.mark.parametrize(
    ("pointer", "declared"),
    [
        ("/name", True),
        ("/address/city", True),
        ("/address/planet", False),
        ("/members", True),
        ("/members/0/name", True),
        ("/members/7/name", True),
        ("/members/0/age", False),
        ("/members/-/name", False),
        ("/pair/0", True),
        ("/pair/1/name", True),
        ("/pair/2", False),
        ("/contact/phone", True),
        ("/contact/email", True),
        ("/contact/fax", False),
        ("/labels/x-colour", True),
        ("/labels/colour", False),
        ("/extra", True),
        ("/tree/child/child/child", True),
        ("/name/first", False),
        ("/$defs", False),
        ("/properties", False),
    ],
)
def test_the_schema_declares_members_through_references_applicators_and_arrays(pointer, declared):
    assert declares(SCHEMA, pointer) is declared


def test_undeclared_fields_are_refused_naming_each_entry():
    with pytest.raises(InvalidFieldList) as raised:
        require_declared(SCHEMA, ["/name", "/nope", "/address/city", "/address/zip"])

    assert set(raised.value.extra["errors"]["fields"]) == {"1", "3"}


# The service: the check every delivery makes


class FakeGrants:
    """An in-memory grant store with the repository's optimistic versioning."""

    def __init__(self) -> None:
        self.grants: dict[str, Grant] = {}
        self.events: list[grants.GrantEvent] = []

    def get(self, grant_id: str) -> Grant:
        if grant_id not in self.grants:
            raise GrantNotFound(grant_id)
        return self.grants[grant_id]

    def add(self, change: grants.GrantChange) -> Grant:
        self.grants[change.grant.id] = change.grant
        self.events.append(change.event)
        return change.grant

    def apply(self, change: grants.GrantChange) -> Grant:
        assert self.grants[change.grant.id].version == change.previous_version
        return self.add(change)


def subjects(name: str) -> SubjectTerms:
    if name != SUBJECT:
        raise NotFound(name)
    return SubjectTerms(SUBJECT, OWNER.name, SCHEMA)


@pytest.fixture
def store():
    return FakeGrants()


def requested(store, **terms):
    values = {"subject": SUBJECT, "purpose": PURPOSE} | terms
    return grant_service.request_grant(
        store, subjects, CONSUMER, GrantTerms(**values), T0, new_id=lambda: "g-1"
    )


def test_the_live_grant_is_read_on_every_check_so_a_revocation_stops_the_next_delivery(store):
    requested(store)
    grant_service.approve_grant(store, subjects, OWNER, "g-1", T0)
    assert grant_service.active_grant_for(store, "g-1", "taxation", SUBJECT, T0).version == 2

    grant_service.revoke_grant(store, CONSUMER, "g-1", T0)

    with pytest.raises(GrantRevoked):
        grant_service.active_grant_for(store, "g-1", "taxation", SUBJECT, T0)
    assert [e.to_status for e in store.events] == ["pending", "approved", "revoked"]


def test_a_request_for_undeclared_fields_is_refused_before_anything_is_stored(store):
    with pytest.raises(InvalidFieldList):
        requested(store, fields=["/name", "/salary"])
    assert store.grants == {}


def test_an_approval_narrowing_a_whole_payload_grant_checks_the_schema(store):
    requested(store)

    with pytest.raises(InvalidFieldList):
        grant_service.approve_grant(store, subjects, ADMIN, "g-1", T0, fields=["/salary"])
    approved = grant_service.approve_grant(store, subjects, ADMIN, "g-1", T0, fields=["/name"])
    assert approved.fields == ("/name",)


def test_a_stranger_is_told_the_grant_does_not_exist(store):
    requested(store)

    with pytest.raises(GrantNotFound):
        grant_service.visible_grant(store, STRANGER, "g-1")
    with pytest.raises(GrantNotFound):
        grant_service.revoke_grant(store, STRANGER, "g-1", T0)


def test_operators_may_not_request_grants(store):
    with pytest.raises(Forbidden):
        grant_service.request_grant(
            store, subjects, ADMIN, GrantTerms(SUBJECT, PURPOSE), T0, new_id=lambda: "g"
        )


def test_an_unknown_subject_cannot_be_requested(store):
    with pytest.raises(NotFound):
        requested(store, subject="nobody.nothing")
