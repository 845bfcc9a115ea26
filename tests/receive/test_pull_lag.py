"""A pull tells its lag: how many records of the subject lie beyond its batch and were not
delivered yet (issue 7, "records in/out, lag"), on the embedded log and on Kafka.

Records are published one request each: a request of several records is one Kafka
transaction, whose commit marker takes an offset (the documented approximation on Kafka),
and these tests check the exact figure."""

from __future__ import annotations

import time

from tests.receive.support import DEADLINE_S
from tests.support.province import licence
from tests.support.signed_client import onboard_department

PUBLISHED = 7


def _publish_one_by_one(deployment, market, count: int) -> None:
    for number in range(count):
        deployment.publish(market, licence(300 + number))


def _first_records(deployment, tax, subscription: str, max_records: int):
    """The first pull that brings records (the Kafka reader's first fetch may take a moment)."""
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        response = deployment.pull(tax, subscription, max=max_records, wait_ms=500)
        assert response.status_code == 200, response.get_json()
        if response.get_json()["records"]:
            return response.get_json()
    raise AssertionError(f"nothing delivered within {DEADLINE_S} s")


def test_the_lag_after_publishing_n_and_pulling_k_is_n_minus_k_and_zero_once_drained(
    deployment,
):
    market = deployment.register_licences()
    tax = onboard_department(deployment.admin, "tax")
    subscription = deployment.subscribe(tax, deployment.grant(tax, market, None))
    _publish_one_by_one(deployment, market, PUBLISHED)

    first = _first_records(deployment, tax, subscription, max_records=3)

    assert 1 <= len(first["records"]) <= 3
    assert first["lag"] == PUBLISHED - len(first["records"])
    # Not acknowledged: the next pull begins again at the first record, so what it returns
    # is all that is not still to come.
    again = deployment.pull(tax, subscription, max=3, wait_ms=500).get_json()
    assert again["lag"] == PUBLISHED - len(again["records"])

    delivered = len(first["records"])
    cursor = first["cursor"]
    deadline = time.monotonic() + DEADLINE_S
    while delivered < PUBLISHED and time.monotonic() < deadline:
        assert deployment.ack(tax, subscription, cursor).status_code == 200
        answer = deployment.pull(tax, subscription, max=2, wait_ms=500).get_json()
        delivered += len(answer["records"])
        cursor = answer["cursor"]
        if answer["records"]:
            assert answer["lag"] == PUBLISHED - delivered

    assert delivered == PUBLISHED
    assert deployment.ack(tax, subscription, cursor).status_code == 200
    drained = deployment.pull(tax, subscription, max=10, wait_ms=200).get_json()
    assert (drained["records"], drained["lag"]) == ([], 0)


def test_a_subscription_from_latest_has_no_lag_for_what_came_before_it(deployment):
    market = deployment.register_licences()
    tax = onboard_department(deployment.admin, "tax")
    grant = deployment.grant(tax, market, None)
    _publish_one_by_one(deployment, market, 2)
    subscription = deployment.subscribe(tax, grant, start="latest")

    quiet = deployment.pull(tax, subscription, max=10, wait_ms=200).get_json()
    deployment.publish(market, licence(399))
    later = _first_records(deployment, tax, subscription, max_records=10)

    assert (quiet["records"], quiet["lag"]) == ([], 0)
    assert (len(later["records"]), later["lag"]) == (1, 0)
