"""The identity commands of the CLI against a hub served over real HTTP."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from exchange.cli import main
from exchange.identity.keys import (
    generate_private_key,
    key_id_of,
    public_key_to_jwk,
    write_private_key,
)
from tests.support.live_server import serving


@pytest.fixture
def hub_url(app):
    with serving(app) as url:
        yield url


@pytest.fixture
def run(hub_url, embedded_settings):
    runner = CliRunner()
    admin_key = str(embedded_settings.keys_dir / "admin.pem")

    def invoke(*args: str, key: str = admin_key, after_dashes: tuple[str, ...] = ()):
        # A key id may start with "-" (base64url): such arguments go after "--".
        tail = ["--", *after_dashes] if after_dashes else []
        return runner.invoke(
            main, [*args, "--url", hub_url, "--key", key, *tail], catch_exceptions=False
        )

    return invoke


def test_department_add_and_list(run):
    added = run(
        "department",
        "add",
        "civil-affairs",
        "--name",
        "Civil Affairs",
        "--contact",
        "dpo@civil.example.gov",
    )
    assert added.exit_code == 0, added.output
    assert json.loads(added.output)["code"] == "civil-affairs"
    listed = run("department", "list")
    assert listed.exit_code == 0
    assert "civil-affairs" in listed.output


def test_key_add_list_and_revoke(run, tmp_path):
    run("department", "add", "tax", "--name", "Tax", "--contact", "x@tax.example.gov")
    private_key = generate_private_key()
    public_file = tmp_path / "tax.jwk"
    public_file.write_text(json.dumps(public_key_to_jwk(private_key.public_key())))
    key_id = key_id_of(private_key.public_key())
    added = run("key", "add", str(public_file), "--department", "tax")
    assert added.exit_code == 0, added.output
    assert json.loads(added.output)["key_id"] == key_id
    tax_key_file = tmp_path / "tax.pem"
    write_private_key(tax_key_file, private_key)
    shown = run("department", "list", key=str(tax_key_file))
    assert shown.exit_code == 0, shown.output
    assert "live" in run("key", "list", "--department", "tax").output
    revoked = run("key", "revoke", "--department", "tax", after_dashes=(key_id,))
    assert revoked.exit_code == 0
    assert "revoked" in run("key", "list", "--department", "tax").output
    refused = run("department", "list", key=str(tax_key_file))
    assert refused.exit_code != 0
    assert "401" in refused.output
    assert "revoked" in refused.output


def test_operator_add_and_a_refusal_is_shown_with_its_detail(run, tmp_path):
    assert run("operator", "add", "inspector", "--role", "auditor").exit_code == 0
    duplicate = run("operator", "add", "inspector", "--role", "auditor")
    assert duplicate.exit_code != 0
    assert "409" in duplicate.output


def test_the_key_owner_must_be_named_once(run, tmp_path):
    public_file = tmp_path / "k.jwk"
    public_file.write_text(json.dumps(public_key_to_jwk(generate_private_key().public_key())))
    result = run("key", "add", str(public_file))
    assert result.exit_code == 2
    assert "exactly one of --department or --operator" in result.output


def test_the_key_file_may_come_from_exchange_key_file(hub_url, embedded_settings):
    env = {"EXCHANGE_KEY_FILE": str(embedded_settings.keys_dir / "admin.pem")}
    listed = CliRunner().invoke(main, ["department", "list", "--url", hub_url], env=env)
    assert listed.exit_code == 0, listed.output
    without = CliRunner().invoke(
        main, ["department", "list", "--url", hub_url], env={"EXCHANGE_KEY_FILE": ""}
    )
    assert without.exit_code != 0
