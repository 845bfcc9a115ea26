"""The Audit section's Live mode in a real headless Chromium: while the newest page is shown
and no entry is open, a request made meanwhile appears without a click, the charts count it,
the news is announced, and focus stays where the user left it."""

from __future__ import annotations

import re

import pytest
from selenium.webdriver.remote.webelement import WebElement

from tests.console.browser import screenshot
from tests.console.conftest import LICENCES, Province
from tests.console.console_user import ConsoleUser
from tests.support.province import LICENCE_SUBJECT, licence

pytestmark = pytest.mark.slow

CHARTED = re.compile(r"Activity \(the (\d+) most recent")


def open_audit_page(console: ConsoleUser, province: Province) -> WebElement:
    """Signed in as the auditor with the first page drawn; the Live toggle."""
    console.sign_in(province.keys["inspector"], "inspector")
    console.wait_for_text("#page h2", "Audit log")
    console.wait().until(lambda _: console.rows("#audit-table"))
    console.find("#audit-charts svg.chart")
    return console.find("#audit-live")


def newest_seq(console: ConsoleUser) -> int:
    return max(int(row[0]) for row in console.rows("#audit-table"))


def charted(console: ConsoleUser) -> int:
    found = CHARTED.search(console.text_of("#charts-title"))
    assert found, console.text_of("#charts-title")
    return int(found.group(1))


def publish_one_licence(province: Province, number: int) -> None:
    published = province.market.post(
        f"/v1/subjects/{LICENCE_SUBJECT}/records", json={"records": [{"payload": licence(number)}]}
    )
    assert published.status_code == 201, published.get_json()


def has_publish_after(console: ConsoleUser, seq: int) -> bool:
    return any(
        int(row[0]) > seq
        and row[2].startswith("market-regulation")
        and row[3] == "POST /v1/subjects/<subject>/records"
        for row in console.rows("#audit-table")
    )


def test_live_audit_page_shows_a_request_made_meanwhile_without_a_click(
    console: ConsoleUser, province: Province
) -> None:
    live = open_audit_page(console, province)
    assert live.is_selected()  # on by default on the newest page with no entry open
    assert live.accessible_name.startswith("Live")
    before, counted = newest_seq(console), charted(console)
    console.driver.execute_script("arguments[0].focus();", live)

    publish_one_licence(province, LICENCES + 1)

    console.wait().until(lambda _: has_publish_after(console, before))
    console.wait_for_text("#audit-news", "new")
    assert charted(console) > counted
    assert console.driver.switch_to.active_element == live  # no focus stolen
    assert "failed" not in console.text_of("#status")
    screenshot(console.driver, "audit-live")


def test_live_pauses_while_an_entry_is_open_and_resumes_when_it_is_closed(
    console: ConsoleUser, province: Province
) -> None:
    open_audit_page(console, province)
    console.click("#audit-table tbody tr:first-child button")
    console.wait_for_text("#audit-live-state", "Paused while entry")
    opened = int(console.text_of("#audit-entry h3").removeprefix("Entry "))
    before = newest_seq(console)

    publish_one_licence(province, LICENCES + 1)
    console.click("#close-entry")

    console.wait().until(lambda _: has_publish_after(console, before))
    opener = console.driver.switch_to.active_element
    assert opener.get_attribute("aria-label") == f"Open entry {opened}"
    assert "Paused" not in console.text_of("#audit-live-state")
