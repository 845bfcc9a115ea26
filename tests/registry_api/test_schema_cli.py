"""`exchange schema register|list|check` against a hub served over real HTTP."""

from __future__ import annotations

import json
import threading

import pytest
from click.testing import CliRunner
from werkzeug.serving import make_server

from exchange.api import create_app
from exchange.cli import main
from exchange.identity.keys import load_private_key
from exchange.registry.catalogue import catalogue_for
from tests.registry_api.conftest import LICENCE_SCHEMA, licence_schema
from tests.support.signed_client import SignedClient, onboard_department


@pytest.fixture
def hub_url(hub):
    server = make_server("127.0.0.1", 0, create_app(hub), threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def admin_key_file(hub, embedded_settings, client):
    admin = SignedClient(client, load_private_key(embedded_settings.keys_dir / "admin.pem"))
    onboard_department(admin, "market-regulation")
    return str(embedded_settings.keys_dir / "admin.pem")


def run(hub_url: str, key_file: str, *args: str):
    return CliRunner().invoke(main, ["schema", *args, "--url", hub_url, "--key", key_file])


def write(tmp_path, name: str, schema: dict) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(schema), encoding="utf-8")
    return str(path)


def register_licence(hub_url, admin_key_file, tmp_path):
    schema_file = write(tmp_path, "licence.json", LICENCE_SCHEMA)
    return run(
        hub_url,
        admin_key_file,
        "register",
        schema_file,
        "--subject",
        "market-regulation.business-licence",
        "--key-field",
        "credit_code",
        "--sensitivity",
        "confidential",
    )


def test_register_prints_the_version_and_topic(hub_url, admin_key_file, tmp_path):
    result = register_licence(hub_url, admin_key_file, tmp_path)

    assert result.exit_code == 0, result.output
    assert result.stderr == "registered subject market-regulation.business-licence: version 1\n"
    assert json.loads(result.stdout) == {
        "subject": "market-regulation.business-licence",
        "version": 1,
        "topic": "exchange.records.market-regulation.business-licence",
    }


def test_register_shows_the_problem_when_refused(hub_url, admin_key_file, tmp_path):
    schema_file = write(tmp_path, "open.json", {"type": "object", "properties": {"a": {}}})

    result = run(
        hub_url,
        admin_key_file,
        "register",
        schema_file,
        "--subject",
        "market-regulation.x",
        "--key-field",
        "a",
    )

    assert result.exit_code == 1
    assert "422" in result.output


def test_list_filters_the_catalogue(hub_url, admin_key_file, tmp_path):
    register_licence(hub_url, admin_key_file, tmp_path)

    found = run(hub_url, admin_key_file, "list", "--sensitivity", "confidential", "--q", "LIC")
    missing = run(hub_url, admin_key_file, "list", "--owner", "taxation")

    assert found.exit_code == 0, found.output
    assert "market-regulation.business-licence" in found.output
    assert missing.exit_code == 0
    assert missing.output == ""


def test_check_says_compatible_or_lists_each_incompatibility_and_exits_1(
    hub_url, admin_key_file, tmp_path
):
    register_licence(hub_url, admin_key_file, tmp_path)
    compatible = write(tmp_path, "v2.json", licence_schema(branch={"type": "string"}))
    breaking_schema = licence_schema()
    breaking_schema["properties"]["capital"] = {"type": "string"}
    breaking = write(tmp_path, "v2-breaking.json", breaking_schema)
    subject = ["--subject", "market-regulation.business-licence"]

    ok = run(hub_url, admin_key_file, "check", compatible, *subject)
    bad = run(hub_url, admin_key_file, "check", breaking, *subject)

    assert ok.exit_code == 0, ok.output
    assert ok.output.strip() == "compatible"
    assert bad.exit_code == 1
    assert "incompatible: " in bad.output
    assert "/properties/capital" in bad.output


def test_register_without_a_key_field_is_a_usage_error_naming_the_option(
    hub_url, admin_key_file, tmp_path
):
    schema_file = write(tmp_path, "licence.json", LICENCE_SCHEMA)

    result = run(
        hub_url,
        admin_key_file,
        "register",
        schema_file,
        "--subject",
        "market-regulation.business-licence",
        "--owner",
        "market-regulation",
    )

    assert result.exit_code == 2
    assert "--key-field" in result.output
    assert run(hub_url, admin_key_file, "list").output == ""


def test_register_of_an_existing_subject_registers_its_next_version(
    hub_url, admin_key_file, tmp_path
):
    register_licence(hub_url, admin_key_file, tmp_path)
    next_file = write(tmp_path, "v2.json", licence_schema(branch={"type": "string"}))
    subject = ["--subject", "market-regulation.business-licence", "--key-field", "credit_code"]

    second = run(hub_url, admin_key_file, "register", next_file, *subject)
    repeated = run(hub_url, admin_key_file, "register", next_file, *subject)

    assert second.exit_code == 0, second.output
    assert "registered version 2" in second.stderr
    assert json.loads(second.stdout) == {
        "subject": "market-regulation.business-licence",
        "version": 2,
    }
    assert repeated.exit_code == 0, repeated.output
    assert "identical to version 2, nothing registered" in repeated.stderr


def test_register_of_an_existing_subject_with_another_key_field_changes_nothing(
    hub, hub_url, admin_key_file, tmp_path
):
    register_licence(hub_url, admin_key_file, tmp_path)
    next_file = write(tmp_path, "v2.json", licence_schema(branch={"type": "string"}))

    result = run(
        hub_url,
        admin_key_file,
        "register",
        next_file,
        "--subject",
        "market-regulation.business-licence",
        "--key-field",
        "name",
    )

    assert result.exit_code == 1
    assert "--key-field 'name' (the subject has 'credit_code')" in result.output
    assert len(catalogue_for(hub).versions("market-regulation.business-licence")) == 1
