"""The one-statement reads of every publish, on SQLite and PostgreSQL: a signing key with
its operator's role, and a subject with the version a publish may use. Both read the store
afresh, so a revocation or a deprecation counts at once."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import pytest

from exchange.store.models import UsedNonceModel
from exchange.store.records_registry import SubjectDraft
from exchange.store.repositories import IdentityRepository, NonceRepository, SubjectRepository

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
SUBJECT = "tax.clearance"


def _schema(version: int) -> tuple[str, str]:
    text = json.dumps({"type": "object", "title": f"v{version}"}, sort_keys=True)
    return text, hashlib.sha256(text.encode()).hexdigest()


@pytest.fixture
def identities(db):
    repository = IdentityRepository(db)
    repository.add_department("tax", "Tax", "data@tax")
    repository.add_operator("inspector", "auditor")
    return repository


@pytest.fixture
def subjects(db, identities):
    repository = SubjectRepository(db)
    draft = SubjectDraft(
        name=SUBJECT,
        owner="tax",
        title="Clearance",
        description="",
        sensitivity="internal",
        key_field="id",
        compatibility="NONE",
        retention_days=None,
        topic=f"exchange.records.{SUBJECT}",
    )
    repository.add_subject(draft, *_schema(1), "admin")
    repository.add_version(SUBJECT, *_schema(2), "admin")
    repository.add_version(SUBJECT, *_schema(3), "admin")
    return repository


def test_a_department_key_has_no_operator_role(identities):
    identities.add_key("department", "tax", "key-tax", "AAAA")
    found = identities.find_signing_key("key-tax")
    assert found is not None
    assert (found.key.principal_kind, found.key.principal_name) == ("department", "tax")
    assert found.operator_role is None


def test_an_operator_key_comes_with_its_role(identities):
    identities.add_key("operator", "inspector", "key-inspector", "BBBB")
    found = identities.find_signing_key("key-inspector")
    assert found is not None
    assert found.operator_role == "auditor"


def test_a_revocation_is_seen_by_the_next_read(identities):
    identities.add_key("department", "tax", "key-tax", "AAAA")
    identities.revoke_key("key-tax", T0)
    found = identities.find_signing_key("key-tax")
    assert found is not None
    assert found.key.revoked_at == T0


def test_an_unknown_key_is_none(identities):
    assert identities.find_signing_key("no-such-key") is None


def test_the_latest_active_version_skips_deprecated_ones(subjects):
    assert subjects.find_for_publishing(SUBJECT, None).version == 3
    subjects.deprecate_version(SUBJECT, 3, T0)
    found = subjects.find_for_publishing(SUBJECT, None)
    assert (found.owner, found.key_field, found.version, found.deprecated_at) == (
        "tax",
        "id",
        2,
        None,
    )


def test_a_named_version_comes_with_its_deprecation(subjects):
    subjects.deprecate_version(SUBJECT, 1, T0)
    assert subjects.find_for_publishing(SUBJECT, 1).deprecated_at == T0
    assert subjects.find_for_publishing(SUBJECT, 2).deprecated_at is None


def test_a_missing_version_leaves_the_subject_without_one(subjects):
    found = subjects.find_for_publishing(SUBJECT, 9)
    assert (found.owner, found.version) == ("tax", None)
    for version in (1, 2, 3):
        subjects.deprecate_version(SUBJECT, version, T0)
    assert subjects.find_for_publishing(SUBJECT, None).version is None


def test_an_unknown_subject_is_none(subjects):
    assert subjects.find_for_publishing("tax.nothing", None) is None
    assert subjects.find_for_publishing("tax.nothing", 1) is None


def test_nested_autocommit_blocks_share_one_connection_and_each_statement_commits(db):
    nonces = NonceRepository(db)
    with db.autocommit() as outer:
        with db.autocommit() as inner:
            assert inner is outer
        assert nonces.remember("key-tax", "nonce-0000000001", T0)
        # Committed at once: another connection sees it while the block is still open.
        with db.session() as session:
            assert session.get(UsedNonceModel, ("key-tax", "nonce-0000000001")) is not None
