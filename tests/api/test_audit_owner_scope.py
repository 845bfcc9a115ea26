"""A department reads the audit entries it is the actor of and those about the subjects it
owns: the owner sees another department's pulls of its subject, a third department does not."""

from __future__ import annotations

from typing import Any

import pytest

from exchange.config import load_settings
from tests.receive.support import Deployment
from tests.support.province import licence
from tests.support.signed_client import SignedClient, onboard_department


@pytest.fixture
def province(tmp_path):
    deployment = Deployment(
        load_settings(environ={}, overrides={"data_dir": str(tmp_path / "var")}), "", None
    )
    yield deployment
    deployment.close()


def entries(reader: SignedClient, **params: Any) -> list[dict[str, Any]]:
    response = reader.get("/v1/audit", params={"limit": 500} | params)
    assert response.status_code == 200, response.get_json()
    found: list[dict[str, Any]] = response.get_json()["entries"]
    return found


def test_the_owner_sees_another_departments_pulls_of_its_subject_and_a_third_does_not(
    province,
):
    market = province.register_licences()
    tax = onboard_department(province.admin, "tax")
    civil = onboard_department(province.admin, "civil-affairs")
    grant_id = province.grant(tax, market, None)
    (record_id,) = province.publish(market, licence(1))
    subscription = province.subscribe(tax, grant_id)
    deliveries, _ = province.pull_until(tax, subscription, 1)
    assert [d["record_id"] for d in deliveries] == [record_id]
    assert tax.get("/v1/departments/tax").status_code == 200  # about no subject
    assert civil.get("/v1/departments/civil-affairs").status_code == 200

    seen_by_owner = entries(province.signed(market), actor="tax")
    pulls = [e for e in seen_by_owner if e["action"].endswith("/records") and e["record_ids"]]

    assert {e["subject"] for e in seen_by_owner} == {province.subject}
    assert [e["record_ids"] for e in pulls] == [[record_id]]
    assert pulls[0]["grant_id"] == grant_id
    assert entries(province.signed(market), record_id=record_id)
    assert entries(province.signed(market), actor="civil-affairs") == []

    as_civil = province.signed(civil)
    assert entries(as_civil, actor="tax") == []
    assert entries(as_civil, subject=province.subject) == []
    assert entries(as_civil, record_id=record_id) == []
    assert {e["actor"] for e in entries(as_civil)} == {"civil-affairs"}
