"""Hostile and broken input, one row per case (see `cases.py`): each is answered with the
expected status and problem type, recorded once in the audit log, and changes nothing else.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from exchange.store.repositories import AuditRepository
from tests.fixtures.database import fresh_postgres_database
from tests.hostile.cases import CASES, STORE_CASES, HostileCase
from tests.hostile.state import snapshot
from tests.hostile.world import World, open_world

PROBLEM_BASE = "https://exchange.example.gov/problems/"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The province on SQLite; module-scoped, since every case leaves it as it was."""
    opened = open_world(tmp_path_factory.mktemp("hostile"))
    yield opened
    opened.hub.close()


@pytest.fixture(scope="module")
def postgres_world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    """The province on PostgreSQL, for the cases whose values reach stored text."""
    with fresh_postgres_database(request.getfixturevalue("postgres_url")) as url:
        opened = open_world(tmp_path_factory.mktemp("hostile-pg"), url)
        yield opened
        opened.hub.close()


def _audit_entries_of(world: World, request_id: str) -> list:
    return [
        entry
        for entry in AuditRepository(world.hub.database).scan(limit=100_000)
        if entry.request_id == request_id
    ]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_hostile_request_is_answered_audited_and_changes_nothing(world, case: HostileCase):
    _assert_refused_cleanly(world, case)


# PostgreSQL refuses what SQLite stores (NUL, for one): the cases that put request values
# into queries and audit entries run there too.
@pytest.mark.postgres
@pytest.mark.parametrize("case", STORE_CASES, ids=[case.name for case in STORE_CASES])
def test_hostile_request_is_answered_audited_and_changes_nothing_on_postgres(
    postgres_world, case: HostileCase
):
    _assert_refused_cleanly(postgres_world, case)


def _assert_refused_cleanly(world: World, case: HostileCase) -> None:
    before = snapshot(world.hub)
    response = case.send(world)
    body = response.get_json(silent=True) or {}
    assert response.status_code == case.status, body
    if case.problem is None:
        assert body[case.empty] == [], body
    else:
        assert response.mimetype == "application/problem+json", response.data[:300]
        assert body["type"] == PROBLEM_BASE + case.problem, body
    entries = _audit_entries_of(world, response.headers["X-Request-Id"])
    assert len(entries) == 1
    assert entries[0].status == case.status
    assert entries[0].decision == ("allow" if case.problem is None else "deny")
    assert snapshot(world.hub) == before
