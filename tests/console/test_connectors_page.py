"""The Connectors section in a real headless Chromium: pause and resume from the page, and
throughput measured in the page while a worker moves records."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By

from exchange.config import Settings
from exchange.connect.process import WorkerProcess
from tests.connectors.support import write_key_file
from tests.console.browser import screenshot
from tests.console.conftest import Province
from tests.console.console_user import ConsoleUser
from tests.support.province import LICENCE_SUBJECT

pytestmark = pytest.mark.slow

SOURCE = "licences-in"
ROOT = Path(__file__).resolve().parents[2]
SHIPPED_CSV = ROOT / "demo" / "inbox" / "business-licences-0001.csv"
RATE = re.compile(r"(\d+\.\d) records/s")


@pytest.fixture
def licence_source(province: Province, embedded_settings: Settings) -> str:
    """A file source of market regulation's, one record a batch so a run spans many reads."""
    created = province.market.post(
        "/v1/connectors",
        json={
            "name": SOURCE,
            "kind": "source",
            "class": "file",
            "subject": LICENCE_SUBJECT,
            "config": {
                "directory": "inbox",
                "key_file": write_key_file(province.market, embedded_settings.connector_root),
                "errors.tolerance": "all",
                "batch_size": 1,
            },
        },
    )
    assert created.status_code == 201, created.get_json()
    return SOURCE


def state_cell(console: ConsoleUser) -> str:
    (row,) = console.rows("#connectors")
    return row[4]


def test_owner_pauses_and_resumes_a_connector_from_the_page(
    console: ConsoleUser, province: Province, licence_source: str
) -> None:
    console.sign_in(province.keys["market-regulation"], "market-regulation")
    console.open_section("connectors")
    console.wait().until(lambda _: state_cell(console) == "UNASSIGNED")

    console.click(f'button[aria-label="Pause {licence_source}"]')
    console.wait().until(lambda _: state_cell(console) == "PAUSED")
    console.wait_for_text("#status", f"Pause asked of {licence_source}: now PAUSED")
    status = province.market.get(f"/v1/connectors/{licence_source}/status").get_json()
    assert status["state"] == "PAUSED"
    # Drawn in place: the button just pressed still has the keyboard focus.
    focused = console.driver.switch_to.active_element
    assert focused.get_attribute("aria-label") == f"Pause {licence_source}"
    screenshot(console.driver, "connectors-paused")

    console.click(f'button[aria-label="Resume {licence_source}"]')
    console.wait().until(lambda _: state_cell(console) == "UNASSIGNED")
    status = province.market.get(f"/v1/connectors/{licence_source}/status").get_json()
    assert status["state"] == "UNASSIGNED"  # no worker holds it in this test


def test_connectors_page_shows_throughput_and_counts_while_a_worker_moves_records(
    console: ConsoleUser,
    province: Province,
    licence_source: str,
    embedded_settings: Settings,
    live_url: str,
) -> None:
    inbox = embedded_settings.connector_root / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(SHIPPED_CSV, inbox / SHIPPED_CSV.name)
    console.sign_in(province.keys["market-regulation"], "market-regulation")
    console.open_section("connectors")
    throughput = console.find("#connectors .throughput")
    assert throughput.text == "measuring…"

    with WorkerProcess(embedded_settings, live_url, "console-test") as worker:
        # The worker moves one record a tick, between the page's reads of the status.
        def rate_shown(_: object) -> bool:
            worker.tick()
            text = console.driver.find_element(By.CSS_SELECTOR, "#connectors .throughput").text
            shown = RATE.fullmatch(text)
            return shown is not None and float(shown[1]) > 0

        console.wait(60).until(rate_shown)
    (row,) = console.rows("#connectors")
    assert row[4] == "RUNNING"
    records_in, records_out = (int(n) for n in row[5].split(" / "))
    assert 0 < records_out <= records_in
    screenshot(console.driver, "connectors-throughput")
