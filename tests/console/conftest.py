"""Fixtures of the console tests: a hub served over real HTTP, a small province on it, key
files a person would pick, and a headless Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask
from selenium import webdriver

from exchange.config import Settings, load_settings
from tests.console.browser import DESKTOP, headless_chromium, require_chromium, screenshot
from tests.console.console_user import ConsoleUser
from tests.support.live_server import serving
from tests.support.province import LICENCE_SUBJECT, licence, register_licence_subject
from tests.support.signed_client import SignedClient, onboard_department, onboard_operator

LICENCES = 5
CALL_FAILED = pytest.StashKey[bool]()


@pytest.fixture
def embedded_settings(tmp_path: Path) -> Settings:
    """A fresh embedded deployment that signs audit checkpoints within a fraction of a
    second, so an entry the test just caused is soon provable; connectors read and write
    under its data directory."""
    data_dir = tmp_path / "var"
    return load_settings(
        environ={},
        overrides={
            "data_dir": str(data_dir),
            "connector_root": str(data_dir),
            "audit_checkpoint_seconds": 0.2,
        },
    )


@pytest.fixture
def live_url(app: Flask) -> Iterator[str]:
    with serving(app) as url:
        yield url


@pytest.fixture(scope="module")
def chromium() -> Iterator[webdriver.Chrome]:
    require_chromium()
    with headless_chromium() as driver:
        yield driver


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.stash[CALL_FAILED] = report.failed
    return report


@pytest.fixture
def console(
    chromium: webdriver.Chrome, live_url: str, request: pytest.FixtureRequest
) -> Iterator[ConsoleUser]:
    """The browser at the hub; when the test fails, the page it saw is kept as an artefact."""
    chromium.set_window_size(*DESKTOP)
    yield ConsoleUser(chromium, live_url)
    if request.node.stash.get(CALL_FAILED, False):
        screenshot(chromium, f"FAILED-{request.node.name}")


def write_key_file(private_key: Ed25519PrivateKey, path: Path) -> Path:
    """The PKCS#8 PEM file a person would pick in the console."""
    path.write_bytes(
        private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path


@dataclass(frozen=True)
class Province:
    """Market regulation publishing licences, tax asking for them, an auditor watching."""

    market: SignedClient
    tax: SignedClient
    auditor: SignedClient
    grant_id: str
    keys: dict[str, Path]


@pytest.fixture
def province(admin: SignedClient, tmp_path: Path) -> Province:
    market = register_licence_subject(admin)
    tax = onboard_department(admin, "taxation")
    auditor = onboard_operator(admin, "inspector", "auditor")
    published = market.post(
        f"/v1/subjects/{LICENCE_SUBJECT}/records",
        json={"records": [{"payload": licence(n)} for n in range(1, LICENCES + 1)]},
    )
    assert published.status_code == 201, published.get_json()
    requested = tax.post(
        "/v1/grants",
        json={
            "subject": LICENCE_SUBJECT,
            "purpose": "Tax clearance checks on registered enterprises",
            "fields": ["/unified_social_credit_code", "/enterprise_name", "/status"],
        },
    )
    assert requested.status_code == 201, requested.get_json()
    keys = {
        client.name: write_key_file(client.private_key, tmp_path / f"{client.name}.pem")
        for client in (market, tax, auditor, admin)
    }
    return Province(market, tax, auditor, requested.get_json()["id"], keys)
