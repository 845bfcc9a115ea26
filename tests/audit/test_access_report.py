"""The access report: every department that received one licence's records, with grant,
purpose and an inclusion proof an outside auditor checks with the hub's published key."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from exchange.audit.report_check import proven_accesses, published_keys
from exchange.cli import main
from exchange.config import load_settings
from exchange.identity.keys import write_private_key
from tests.receive.support import Deployment
from tests.support.live_server import serving
from tests.support.province import licence
from tests.support.signed_client import onboard_department, onboard_operator


@pytest.fixture
def province(tmp_path):
    deployment = Deployment(
        load_settings(environ={}, overrides={"data_dir": str(tmp_path / "var")}), "", None
    )
    yield deployment
    deployment.close()


def test_the_report_names_who_received_a_licence_with_proofs(province, tmp_path):
    market = province.register_licences()
    tax = onboard_department(province.admin, "tax")
    civil = onboard_department(province.admin, "civil-affairs")
    auditor = onboard_operator(province.admin, "inspector", "auditor")
    key = licence(7)["unified_social_credit_code"]
    grant_id = province.grant(tax, market, ["/enterprise_name", "/status"])
    first, _other = province.publish(market, licence(7), licence(8))
    (second,) = province.publish(market, licence(7, status="revoked"))
    subscription = province.subscribe(tax, grant_id)
    deliveries, _ = province.pull_until(tax, subscription, 3)
    assert {d["record_id"] for d in deliveries} >= {first, second}
    province.wait_for_view(key, second)
    assert (
        province.signed(tax).get(f"/v1/subjects/{province.subject}/records/{key}").status_code
        == 200
    )
    assert (
        province.signed(civil).get(f"/v1/subjects/{province.subject}/records/{key}").status_code
        == 403
    )
    assert province.hub.audit_writer is not None
    assert province.hub.audit_writer.checkpoint_now(10)

    response = province.signed(auditor).get(
        f"/v1/subjects/{province.subject}/access-report", params={"key": key}
    )
    assert response.status_code == 200, response.get_json()
    report = response.get_json()
    assert set(report["record_ids"]) == {first, second}
    assert report["departments"] == ["tax"]
    assert sorted(a["action"] for a in report["accesses"]) == ["lookup", "pull"]
    for access in report["accesses"]:
        assert access["grant_id"] == grant_id
        assert access["purpose"] == "tax registration checks"
    pulled = next(a for a in report["accesses"] if a["action"] == "pull")
    assert set(pulled["record_ids"]) == {first, second}
    keys = published_keys(province.client.get("/v1/hub/keys").get_json())
    assert proven_accesses(report, keys) == [True, True]
    forged = {**report, "accesses": [{**a, "purpose": "curiosity"} for a in report["accesses"]]}
    forged["accesses"][0]["proof"] = {
        **report["accesses"][0]["proof"],
        "entry": {**report["accesses"][0]["proof"]["entry"], "actor": "civil-affairs"},
    }
    assert proven_accesses(forged, keys)[0] is False

    owner_view = province.signed(market).get(
        f"/v1/subjects/{province.subject}/access-report", params={"key": key}
    )
    assert owner_view.status_code == 200
    for outsider in (tax, province.admin):
        refused = province.signed(outsider).get(
            f"/v1/subjects/{province.subject}/access-report", params={"key": key}
        )
        assert refused.status_code == 403

    auditor_key = tmp_path / "inspector.pem"
    write_private_key(auditor_key, auditor.private_key)
    with serving(province.client.application) as url:
        result = CliRunner().invoke(
            main,
            ["audit", "report", province.subject, key, "--url", url, "--key", str(auditor_key)],
        )
    assert result.exit_code == 0, result.output
    assert result.output.count("proven in the signed log") == 2
    assert "tax" in result.output


def test_a_key_nobody_received_has_an_empty_report(province):
    market = province.register_licences()
    auditor = onboard_operator(province.admin, "inspector", "auditor")
    province.publish(market, licence(1))
    response = province.signed(auditor).get(
        f"/v1/subjects/{province.subject}/access-report", params={"key": "no-such-licence"}
    )
    assert response.status_code == 200
    assert response.get_json()["accesses"] == []
    missing_key = province.signed(auditor).get(f"/v1/subjects/{province.subject}/access-report")
    assert missing_key.status_code == 422
