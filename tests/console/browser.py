"""A real headless Chromium (Debian's `chromium` + `chromedriver`) driven by Selenium.

Without chromium the browser tests skip with a notice saying how to install it; with
`CI=true` they fail instead, so CI cannot pass without having run them.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
INSTALL_HINT = "apt-get install -y chromium chromium-driver"
ARTIFACTS = Path(__file__).parent / "artifacts"
DESKTOP = (1280, 900)
PHONE = (390, 844)
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)


def require_chromium() -> None:
    """Skip loudly without chromium, or fail when running in CI."""
    if Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists():
        return
    message = f"browser tests need {CHROMIUM} and {CHROMEDRIVER}: {INSTALL_HINT}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(f"SKIPPED LOUDLY: {message}")


@contextmanager
def headless_chromium() -> Iterator[webdriver.Chrome]:
    """A fresh headless Chromium with its own throwaway profile."""
    profile = tempfile.mkdtemp(prefix="exchange-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.add_argument(f"--window-size={DESKTOP[0]},{DESKTOP[1]}")
    # The explicit driver path keeps Selenium Manager from trying to download one.
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def screenshot(driver: webdriver.Chrome, name: str) -> Path:
    """Save the whole page as `artifacts/<name>.png` (for looking at, not for asserting)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    width = driver.execute_script("return window.innerWidth")
    height = driver.execute_script("return document.documentElement.scrollHeight")
    original = driver.get_window_size()
    driver.set_window_size(max(width, original["width"]), max(height + 120, original["height"]))
    driver.save_screenshot(str(path))
    driver.set_window_size(original["width"], original["height"])
    return path
