"""What a person does in the console, as steps a test reads like a story."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

WAIT_S = 20


class ConsoleUser:
    """A person at the console in one browser, signed in with one key file at a time."""

    def __init__(self, driver: webdriver.Chrome, base_url: str) -> None:
        self.driver = driver
        self.base_url = base_url

    def wait(self, seconds: float = WAIT_S) -> WebDriverWait[webdriver.Chrome]:
        return WebDriverWait(self.driver, seconds, poll_frequency=0.1)

    def sign_in(self, key_file: Path, expected_name: str) -> None:
        """Open the console, pick the key file, and wait until the page names the principal."""
        self.driver.get(self.base_url + "/console")
        self.wait().until(ec.element_to_be_clickable((By.ID, "key-file")))
        self.driver.find_element(By.ID, "key-file").send_keys(str(key_file))
        self.driver.find_element(By.CSS_SELECTOR, "#sign-in-form button[type=submit]").click()
        self.wait().until(ec.text_to_be_present_in_element((By.ID, "who"), expected_name))

    def open_section(self, name: str) -> None:
        self.driver.find_element(By.CSS_SELECTOR, f'#nav a[data-page="{name}"]').click()
        self.wait().until(
            lambda d: d.find_element(By.ID, "page").get_attribute("data-page") == name
        )

    def find(self, css: str) -> WebElement:
        return self.wait().until(ec.presence_of_element_located((By.CSS_SELECTOR, css)))

    def text_of(self, css: str) -> str:
        return self.find(css).text

    def wait_for_text(self, css: str, text: str) -> None:
        self.wait().until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, css), text))

    def click(self, css: str) -> None:
        self.wait().until(ec.element_to_be_clickable((By.CSS_SELECTOR, css))).click()

    def fill(self, element_id: str, value: str) -> None:
        element = self.find(f"#{element_id}")
        element.clear()
        element.send_keys(value)

    def choose(self, element_id: str, value: str) -> None:
        """Pick the option of value `value` in the drop-down `element_id`."""
        Select(self.find(f"#{element_id}")).select_by_value(value)

    def compare_versions(self, older: int, newer: int) -> None:
        """In a subject's detail, compare version `older` with version `newer`."""
        self.choose("version-a", str(older))
        self.choose("version-b", str(newer))
        self.click("#subject-detail form button[type=submit]")

    def resubmit_until(self, form_css: str, done: Callable[[], bool]) -> None:
        """Submit the form again until `done()` holds (for what the hub makes true shortly
        after, not at once), within the usual deadline."""

        def done_or_resubmitted(_: object) -> bool:
            if done():
                return True
            self.click(f"{form_css} button[type=submit]")
            return False

        self.wait().until(done_or_resubmitted)

    def rows(self, table_css: str) -> list[list[str]]:
        """The cell texts of each body row of a table, read in one step (the page redraws
        tables whole, so element handles go stale between reads)."""
        rows: list[list[str]] = self.driver.execute_script(
            "const table = document.querySelector(arguments[0]);"
            "if (!table) return [];"
            "return Array.from(table.querySelectorAll('tbody tr'),"
            " (row) => Array.from(row.cells, (cell) => cell.innerText));",
            table_css,
        )
        return rows
