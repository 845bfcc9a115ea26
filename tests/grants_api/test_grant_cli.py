"""`exchange grant request|approve|reject|revoke|list` against a hub served over real HTTP."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner

from exchange.cli import main
from exchange.identity.keys import write_private_key
from tests.grants_api.conftest import LICENCE, PURPOSE
from tests.support.live_server import serving


@pytest.fixture
def hub_url(app):
    with serving(app) as url:
        yield url


@pytest.fixture
def keys(tmp_path, embedded_settings, market, taxation, licence):
    """Key files of the administrator, the owner and the consumer."""
    files = {"admin": str(embedded_settings.keys_dir / "admin.pem")}
    for name, client in (("market", market), ("taxation", taxation)):
        path = tmp_path / f"{name}.pem"
        write_private_key(path, client.private_key)
        files[name] = str(path)
    return files


@pytest.fixture
def run(hub_url, keys):
    runner = CliRunner()

    def invoke(as_: str, *args: str):
        return runner.invoke(main, ["grant", *args, "--url", hub_url, "--key", keys[as_]])

    return invoke


def request_licence(run, *extra: str) -> dict[str, Any]:
    result = run("taxation", "request", LICENCE, "--purpose", PURPOSE, *extra)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_request_then_approve_then_list(run):
    grant = request_licence(
        run,
        "--field",
        "/enterprise_name",
        "--field",
        "/status",
        "--expires-at",
        "2999-01-01T00:00:00Z",
    )
    assert grant["fields"] == ["/enterprise_name", "/status"]
    assert grant["status"] == "pending"

    approved = run("market", "approve", grant["id"])
    assert approved.exit_code == 0, approved.output
    assert json.loads(approved.output)["status"] == "approved"

    listed = run("admin", "list", "--status", "approved", "--subject", LICENCE)
    assert listed.exit_code == 0, listed.output
    assert grant["id"] in listed.output
    assert run("admin", "list", "--status", "pending").output == ""


def test_reject_and_revoke(run):
    rejected = request_licence(run)
    revoked = request_licence(run)

    assert json.loads(run("market", "reject", rejected["id"]).output)["status"] == "rejected"
    assert json.loads(run("taxation", "revoke", revoked["id"]).output)["status"] == "revoked"


def test_a_refusal_is_shown_with_its_status_and_detail(run):
    grant = request_licence(run)

    refused = run("taxation", "approve", grant["id"])

    assert refused.exit_code != 0
    assert "403" in refused.output


def test_an_expiry_without_a_time_zone_is_refused_before_calling_the_hub(run):
    result = run("taxation", "request", LICENCE, "--purpose", PURPOSE, "--expires-at", "2999-01-01")

    assert result.exit_code == 2
    assert "time zone" in result.output
