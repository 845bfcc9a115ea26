"""Keyboard and labels in a real headless Chromium: every form control the console shows
has an accessible name (as Chromium's accessibility tree computes it), the main navigation
is reached and operated with Tab and Enter, and sign-in costs no refused request."""

from __future__ import annotations

from typing import Any

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement

from tests.console.conftest import Province
from tests.console.console_user import ConsoleUser

pytestmark = pytest.mark.slow

CONTROLS = "input, select, textarea, button"
SECTIONS_OF = {
    "market-regulation": ["catalogue", "grants", "receive", "connectors", "audit"],
    "inspector": ["catalogue", "grants", "audit"],
    "admin": ["catalogue", "grants", "connectors"],
}
TAB_LIMIT = 40


def unnamed_controls(console: ConsoleUser) -> list[str]:
    """The displayed form controls without an accessible name."""
    controls: list[WebElement] = console.driver.find_elements(By.CSS_SELECTOR, CONTROLS)
    return [
        str(control.get_attribute("outerHTML"))[:120]
        for control in controls
        if control.is_displayed() and not control.accessible_name.strip()
    ]


def visible_sections(console: ConsoleUser) -> list[str]:
    links = console.driver.find_elements(By.CSS_SELECTOR, "#nav a")
    return [str(link.get_attribute("data-page")) for link in links if link.is_displayed()]


def test_the_sign_in_form_has_labelled_controls(console: ConsoleUser) -> None:
    console.driver.get(console.base_url + "/console")
    console.find("#key-file")
    assert unnamed_controls(console) == []


@pytest.mark.parametrize("principal", ["market-regulation", "inspector"])
def test_every_control_of_every_section_has_an_accessible_name(
    console: ConsoleUser, province: Province, principal: str
) -> None:
    console.sign_in(province.keys[principal], principal)
    for section in SECTIONS_OF[principal]:
        console.open_section(section)
        if section == "catalogue":  # the version pickers appear with a subject's detail
            console.click("#subjects tbody button")
            console.find("#version-a")
        assert unnamed_controls(console) == [], section


@pytest.mark.parametrize("principal", ["market-regulation", "inspector", "admin"])
def test_a_principal_is_offered_only_the_sections_its_role_can_use(
    console: ConsoleUser, province: Province, principal: str
) -> None:
    console.sign_in(province.keys[principal], principal)
    assert visible_sections(console) == SECTIONS_OF[principal]


def test_the_main_navigation_is_reached_and_used_with_the_keyboard(
    console: ConsoleUser, province: Province
) -> None:
    console.sign_in(province.keys["inspector"], "inspector")
    console.wait_for_text("#page h2", "Audit log")
    # Start where a keyboard user starts: the page's first stop, the skip link.
    console.driver.execute_script("document.querySelector('a.skip-link').focus();")
    reached: list[str] = []
    keys = ActionChains(console.driver)
    for _ in range(TAB_LIMIT):
        keys.send_keys(Keys.TAB).perform()
        focused = console.driver.switch_to.active_element
        if focused.get_attribute("data-page"):
            reached.append(str(focused.get_attribute("data-page")))
        if reached == SECTIONS_OF["inspector"]:
            break
    assert reached == SECTIONS_OF["inspector"]  # in order, none skipped

    # The last link reached is Audit; go back to Catalogue and open it with Enter.
    for _ in range(2):
        keys.key_down(Keys.SHIFT).send_keys(Keys.TAB).key_up(Keys.SHIFT).perform()
    assert console.driver.switch_to.active_element.get_attribute("data-page") == "catalogue"
    keys.send_keys(Keys.ENTER).perform()
    console.wait().until(
        lambda d: d.find_element(By.ID, "page").get_attribute("data-page") == "catalogue"
    )
    current = console.driver.find_element(By.CSS_SELECTOR, '#nav a[aria-current="page"]')
    assert current.get_attribute("data-page") == "catalogue"


def test_signing_in_writes_no_refusal_into_the_audit_log(
    console: ConsoleUser, province: Province
) -> None:
    for principal in ("admin", "inspector", "market-regulation"):
        console.sign_in(province.keys[principal], principal)
        console.click("#sign-out")
    # One refusal on purpose, after the sign-ins: once it is in the log, theirs would be too.
    department = {"code": "tourism", "name": "Tourism", "contact": "dpo@tourism.example.gov"}
    assert province.tax.post("/v1/departments", json=department).status_code == 403

    def denials() -> list[dict[str, Any]]:
        found = province.auditor.get("/v1/audit", params={"decision": "deny", "limit": 100})
        entries: list[dict[str, Any]] = found.get_json()["entries"]
        return entries

    console.wait().until(lambda _: denials())
    assert [entry["actor"] for entry in denials()] == ["taxation"]
