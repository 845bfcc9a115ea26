"""The README's `curl` recipe, run as written against a real `exchange serve`: the way a
department system in another language signs requests must really be accepted, and a
replay of its exact headers refused."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from exchange.identity.keys import load_private_key
from tests.contract.signing_auth import SigningAuth
from tests.faults.hub_process import HubProcess

README = Path(__file__).resolve().parents[2] / "README.md"
RECIPE_INTRO = "and with bash, OpenSSL 3 and `curl`:"

pytestmark = pytest.mark.slow


def readme_recipe() -> str:
    """The shell block that follows the recipe's introduction in the README."""
    text = README.read_text()
    after = text[text.index(RECIPE_INTRO) :]
    match = re.search(r"```sh\n(.*?)```", after, re.DOTALL)
    assert match, "the README's curl recipe has no sh block"
    return match.group(1)


def with_value(script: str, variable: str, value: str) -> str:
    """The script with `VARIABLE=...` on its own line set to `value` instead."""
    script, count = re.subn(rf"^{variable}=.*$", f"{variable}='{value}'", script, flags=re.M)
    assert count == 1, f"the recipe sets {variable} once"
    return script


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[HubProcess]:
    if not (shutil.which("openssl") and shutil.which("curl")):
        pytest.skip("the recipe needs openssl and curl")
    process = HubProcess(tmp_path / "var")
    process.init()
    process.start()
    yield process
    process.stop()


def test_the_readme_curl_recipe_is_accepted_and_its_replay_refused(hub, tmp_path):
    admin_key = tmp_path / "var" / "keys" / "admin.pem"
    body = '{"code":"tax","name":"Tax","contact":"dpo@tax.example.gov"}'
    script = readme_recipe()
    script = with_value(script, "KEY", str(admin_key))
    script = with_value(script, "URL", f"{hub.url}/v1/departments")
    script = with_value(script, "BODY", body)
    # Echo the signed headers too, so the test can send them a second time.
    script += 'printf "%s\\n%s\\n%s\\n" "$DIGEST" "sig1=$PARAMS" "sig1=:$SIGNATURE:" >&2\n'

    run = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        check=False,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert run.returncode == 0, run.stdout + run.stderr
    assert '"code":"tax"' in run.stdout.replace(" ", "")
    admin = requests.Session()
    admin.auth = SigningAuth(load_private_key(admin_key))
    assert admin.get(f"{hub.url}/v1/departments/tax", timeout=30).status_code == 200
    digest, signature_input, signature = run.stderr.strip().splitlines()[-3:]
    replay = requests.post(
        f"{hub.url}/v1/departments",
        data=body,
        headers={
            "Content-Type": "application/json",
            "Content-Digest": digest,
            "Signature-Input": signature_input,
            "Signature": signature,
        },
        timeout=30,
    )
    assert replay.status_code == 401
    assert replay.json()["type"].endswith("/nonce-replayed")
