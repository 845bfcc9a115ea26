"""PostgreSQL restarted under load: while it is gone the hub answers 503 and reports
not-ready; it recovers by itself; nothing acknowledged is lost or doubled, and every
acknowledged record is in an audit log that verifies."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from exchange.api import create_app
from exchange.config import load_settings
from exchange.deployment import initialise
from exchange.hub import Hub, open_hub
from exchange.identity.keys import load_private_key
from tests.contract.signing_auth import SigningAuth
from tests.faults.hub_process import free_port
from tests.faults.private_postgres import PrivatePostgres
from tests.faults.publishing import (
    BATCH_SIZE,
    SteadyPublisher,
    assert_audit_log_verifies_and_holds,
    doubled_after_deduplication,
    onboard_market,
    records_on_topic,
    wait_for_readiness,
    wait_until,
)
from tests.support.live_server import serving
from tests.support.province import LICENCE_SUBJECT

pytestmark = [pytest.mark.faults, pytest.mark.slow, pytest.mark.postgres]

OUTAGE_S = 5.0


@pytest.fixture
def postgres() -> Iterator[PrivatePostgres]:
    cluster = PrivatePostgres(free_port())
    cluster.create()
    cluster.start()
    yield cluster
    cluster.destroy()


@pytest.fixture
def hub(postgres: PrivatePostgres, tmp_path: Path) -> Iterator[Hub]:
    settings = load_settings(
        environ={},
        overrides={
            "data_dir": str(tmp_path / "var"),
            "database_url": postgres.url,
            "rate_limit_per_principal": "",
        },
    )
    initialise(settings)
    opened = open_hub(settings)
    yield opened
    opened.close()


def test_postgres_restart_under_load_is_reported_and_survived(hub, postgres):
    app = create_app(hub)
    with serving(app) as url:
        admin = requests.Session()
        admin.auth = SigningAuth(load_private_key(hub.settings.keys_dir / "admin.pem"))
        market = onboard_market(admin, url)
        publisher = SteadyPublisher(market, url, LICENCE_SUBJECT)
        thread = threading.Thread(target=publisher.run)
        thread.start()
        try:
            wait_until(lambda: len(publisher.acknowledged) >= 3 * BATCH_SIZE)
            postgres.stop()
            wait_for_readiness(url, 503)
            time.sleep(OUTAGE_S)  # the outage itself: steady publishing goes on meanwhile
            postgres.start()
            wait_for_readiness(url, 200)
            recovered_at = len(publisher.acknowledged)
            wait_until(lambda: len(publisher.acknowledged) >= recovered_at + 3 * BATCH_SIZE)
        finally:
            publisher.stopping.set()
            thread.join(timeout=300)
    assert publisher.failure is None, publisher.failure
    assert publisher.statuses[503] >= 1, publisher.statuses
    hub.close()

    envelopes = records_on_topic(hub.settings)
    assert set(publisher.acknowledged) <= {e["record_id"] for e in envelopes}
    assert_audit_log_verifies_and_holds(hub.settings, set(publisher.acknowledged))
    doubled = doubled_after_deduplication(envelopes)
    assert not doubled, f"{len(doubled)} records were produced twice ({publisher.statuses})"
