"""`exchange hub rotate-key`: a new hub key becomes current; the old one is retired but stays
published, so what it signed still verifies against `GET /v1/hub/keys`."""

from __future__ import annotations

import base64

from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from exchange.api import create_app
from exchange.audit.checkpoints import load_hub_signer
from exchange.cli import main
from exchange.config import load_settings
from exchange.hub import open_hub
from exchange.signing.hub_signer import verify_document


def _published_keys(settings) -> list[dict]:
    hub = open_hub(settings)
    try:
        return create_app(hub).test_client().get("/v1/hub/keys").get_json()["keys"]
    finally:
        hub.close()


def _public_key(jwk: dict) -> Ed25519PublicKey:
    raw = base64.urlsafe_b64decode(jwk["x"] + "=" * (-len(jwk["x"]) % 4))
    return Ed25519PublicKey.from_public_bytes(raw)


def test_rotation_publishes_a_new_current_key_and_keeps_the_old_one_verifiable(tmp_path):
    env = {"EXCHANGE_DATA_DIR": str(tmp_path / "var")}
    runner = CliRunner()
    assert runner.invoke(main, ["init"], env=env).exit_code == 0
    settings = load_settings(environ=env)
    old_signer = load_hub_signer(settings.hub_key_file)
    signed_before = old_signer.sign_document({"checkpoint": 1})

    result = runner.invoke(main, ["hub", "rotate-key"], env=env)

    assert result.exit_code == 0, result.output
    new_signer = load_hub_signer(settings.hub_key_file)
    assert new_signer.key_id != old_signer.key_id
    assert f"retired hub key {old_signer.key_id}" in result.output
    keys = _published_keys(settings)
    assert {key["kid"]: key["status"] for key in keys} == {
        old_signer.key_id: "retired",
        new_signer.key_id: "current",
    }
    public_keys = {key["kid"]: _public_key(key) for key in keys}
    verify_document(signed_before, public_keys)
    verify_document(new_signer.sign_document({"checkpoint": 2}), public_keys)
    assert not (settings.hub_key_file.parent / "hub.pem.new").exists()


def test_rotation_without_a_deployment_says_to_init_first(tmp_path):
    env = {"EXCHANGE_DATA_DIR": str(tmp_path / "var")}
    result = CliRunner().invoke(main, ["hub", "rotate-key"], env=env)
    assert result.exit_code != 0
    assert "exchange init" in result.output
