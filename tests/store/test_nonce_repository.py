"""Replay protection: a nonce is accepted once until it expires, even under races."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from exchange.store.database import Database
from exchange.store.models import UsedNonceModel
from exchange.store.repositories import NonceRepository

NOW = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
LATER = NOW + timedelta(minutes=10)
RACERS = 8


@pytest.fixture
def nonces(db):
    return NonceRepository(db, clock=lambda: NOW)


def test_a_nonce_is_accepted_the_first_time_only(nonces):
    assert nonces.remember("kid-1", "n-1", LATER) is True
    assert nonces.remember("kid-1", "n-1", LATER) is False


def test_the_same_nonce_under_another_key_is_a_different_nonce(nonces):
    assert nonces.remember("kid-1", "n-1", LATER) is True
    assert nonces.remember("kid-2", "n-1", LATER) is True


def test_an_expired_nonce_not_yet_purged_is_accepted_again(nonces):
    assert nonces.remember("kid-1", "n-1", NOW - timedelta(seconds=1)) is True

    assert nonces.remember("kid-1", "n-1", LATER) is True
    assert nonces.remember("kid-1", "n-1", LATER) is False


def test_purging_forgets_only_expired_nonces(nonces):
    nonces.remember("kid-1", "old-1", NOW - timedelta(minutes=1))
    nonces.remember("kid-1", "old-2", NOW)
    nonces.remember("kid-1", "fresh", LATER)

    assert nonces.purge_expired(NOW) == 2
    assert nonces.purge_expired(NOW) == 0
    assert nonces.remember("kid-1", "fresh", LATER) is False


def test_two_hub_processes_racing_on_one_nonce_accept_it_exactly_once(database_url):
    # One Database per racer: separate engines and connections, as separate hub processes.
    databases = [Database(database_url) for _ in range(RACERS)]
    start = threading.Barrier(RACERS)

    def race(database: Database, nonce: str) -> bool:
        start.wait(timeout=10)
        return NonceRepository(database, clock=lambda: NOW).remember("kid-1", nonce, LATER)

    try:
        with ThreadPoolExecutor(max_workers=RACERS) as pool:
            for round_number in range(5):
                nonce = f"raced-{round_number}"
                outcomes = list(pool.map(race, databases, [nonce] * RACERS))
                assert outcomes.count(True) == 1, outcomes
    finally:
        for database in databases:
            database.close()


def test_racing_take_overs_of_an_expired_nonce_accept_it_exactly_once(database_url):
    databases = [Database(database_url) for _ in range(RACERS)]
    NonceRepository(databases[0]).remember("kid-1", "stale", NOW - timedelta(minutes=1))
    start = threading.Barrier(RACERS)

    def race(database: Database) -> bool:
        start.wait(timeout=10)
        return NonceRepository(database, clock=lambda: NOW).remember("kid-1", "stale", LATER)

    try:
        with ThreadPoolExecutor(max_workers=RACERS) as pool:
            outcomes = list(pool.map(race, databases))
    finally:
        for database in databases:
            database.close()

    assert outcomes.count(True) == 1, outcomes


def test_every_nth_remember_forgets_the_expired_nonces(db):
    nonces = NonceRepository(db, clock=lambda: NOW, purge_every=3)
    nonces.remember("kid-1", "expired", NOW - timedelta(seconds=1))
    nonces.remember("kid-1", "live", LATER)
    assert _stored(db) == {"expired", "live"}

    nonces.remember("kid-1", "third", LATER)  # the third call purges first

    assert _stored(db) == {"live", "third"}


def _stored(db: Database) -> set[str]:
    with db.session() as session:
        return set(session.scalars(select(UsedNonceModel.nonce)))
