"""`exchange init`, `exchange db upgrade`, `--version` and `--help`."""

from __future__ import annotations

import stat

from click.testing import CliRunner

import exchange
from exchange.cli import main
from exchange.identity.keys import key_id_of, load_private_key
from exchange.store.database import Database
from exchange.store.migrate import current_revision, head_revision
from exchange.store.repositories import HubKeyRepository, IdentityRepository


def _env(tmp_path):
    return {"EXCHANGE_DATA_DIR": str(tmp_path / "var")}


def test_init_creates_the_store_the_hub_key_and_a_first_admin(tmp_path):
    result = CliRunner().invoke(main, ["init"], env=_env(tmp_path))
    assert result.exit_code == 0, result.output
    admin_key = tmp_path / "var" / "keys" / "admin.pem"
    hub_key = tmp_path / "var" / "keys" / "hub.pem"
    assert str(admin_key.resolve()) in result.output
    for key_file in (admin_key, hub_key):
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        assert key_file.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    url = f"sqlite:///{(tmp_path / 'var' / 'exchange.db').resolve()}"
    assert current_revision(url) == head_revision()
    database = Database(url)
    admin_key_id = key_id_of(load_private_key(admin_key).public_key())
    key = IdentityRepository(database).get_key(admin_key_id)
    assert (key.principal_kind, key.principal_name) == ("operator", "admin")
    hub_key_id = key_id_of(load_private_key(hub_key).public_key())
    assert [k.key_id for k in HubKeyRepository(database).list()] == [hub_key_id]


def test_init_again_creates_nothing_new(tmp_path):
    runner = CliRunner()
    runner.invoke(main, ["init"], env=_env(tmp_path))
    admin_pem = (tmp_path / "var" / "keys" / "admin.pem").read_bytes()
    again = runner.invoke(main, ["init"], env=_env(tmp_path))
    assert again.exit_code == 0
    assert "already exist" in again.output
    assert (tmp_path / "var" / "keys" / "admin.pem").read_bytes() == admin_pem


def test_db_upgrade_migrates_to_head(tmp_path):
    result = CliRunner().invoke(main, ["db", "upgrade"], env=_env(tmp_path))
    assert result.exit_code == 0, result.output
    assert f"revision {head_revision()}" in result.output


def test_a_bad_setting_is_a_clear_cli_error(tmp_path):
    result = CliRunner().invoke(main, ["init"], env={"EXCHANGE_PORT": "http"})
    assert result.exit_code == 1
    assert "'port'" in result.output


def test_version_and_help():
    runner = CliRunner()
    assert exchange.__version__ in runner.invoke(main, ["--version"]).output
    help_text = runner.invoke(main, ["--help"]).output
    for command in ("init", "serve", "db", "department", "operator", "key"):
        assert command in help_text
