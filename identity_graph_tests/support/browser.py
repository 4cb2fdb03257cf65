"""A headless Debian Chromium driven by Selenium, for tests of the Dagster UI in a real browser.

The browser and its driver are the system's (``apt-get install chromium chromium-driver``):
Selenium is given both paths and never downloads anything.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from identity_graph_tests.support.stored_graph import ROOT

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
INSTALL_HINT = "install them with: apt-get install -y chromium chromium-driver"
WAIT_SECONDS = 30.0
#: Wide and tall enough that the asset graph, zoomed to fit, draws full asset nodes (names, check counts)
#: rather than the minimal boxes with middle-truncated names it draws below 0.6 scale; 3000 high left the
#: measurement group, drawn above the others since audience_truth feeds content_engagements, off-screen.
WINDOW = (4800, 4800)
FLAGS = (
    "--headless",
    "--no-sandbox",  # tests run as root in CI
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)

T = TypeVar("T")


def artifacts_dir() -> Path:
    """Where tests save screenshots: ``$IDENTITY_GRAPH_TEST_ARTIFACTS``, else ``<project>/test-artifacts``."""
    directory = Path(os.environ.get("IDENTITY_GRAPH_TEST_ARTIFACTS") or ROOT / "test-artifacts")
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def require_chromium() -> None:
    """Fail (not skip) with the fix when the system browser or driver is missing."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not os.access(p, os.X_OK)]
    if missing:
        raise RuntimeError(f"browser tests need {' and '.join(missing)}; {INSTALL_HINT}")


@contextlib.contextmanager
def chromium(profile: Path) -> Iterator[WebDriver]:
    """A headless Chromium with a fresh profile under ``profile`` and its driver's log in
    ``profile/chromedriver.log``. Given the driver's path, Selenium skips Selenium Manager (which
    resolves and downloads browsers over the network); callers also set ``SE_OFFLINE=true``."""
    require_chromium()
    profile.mkdir(parents=True, exist_ok=True)
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--window-size={WINDOW[0]},{WINDOW[1]}")
    options.add_argument(f"--user-data-dir={profile / 'user-data'}")
    service = Service(str(CHROMEDRIVER), log_output=str(profile / "chromedriver.log"))
    driver = webdriver.Chrome(service=service, options=options)
    try:
        driver.set_page_load_timeout(WAIT_SECONDS)
        yield driver
    finally:
        driver.quit()


def settle(
    driver: WebDriver, probe: Callable[[WebDriver], T], done: Callable[[T], bool], timeout: float = WAIT_SECONDS
) -> T:
    """Read the page with ``probe`` until ``done`` holds for what it read, for up to ``timeout``
    seconds; what it last read either way, for the caller to assert on (the page fills in
    asynchronously, and a failure then shows what was on it rather than that a wait ran out)."""
    last: list[T] = []

    def settled(d: WebDriver) -> bool:
        last[:] = [probe(d)]
        return done(last[0])

    with contextlib.suppress(TimeoutException):
        _waiter(driver, timeout).until(settled)
    if not last:
        raise AssertionError(f"the page at {driver.current_url} could not be read within {timeout:.0f}s")
    return last[0]


def _waiter(driver: WebDriver, timeout: float) -> WebDriverWait:
    # React re-renders replace elements between finding and reading them: poll again.
    return WebDriverWait(driver, timeout, poll_frequency=0.25, ignored_exceptions=(StaleElementReferenceException,))


def wait_for(driver: WebDriver, condition: Callable[[WebDriver], T], what: str, timeout: float = WAIT_SECONDS) -> T:
    """``condition``'s first truthy value, polled for up to ``timeout`` seconds; else fail saying
    ``what`` was awaited, with the page's URL and visible text, and a screenshot of it."""
    try:
        return _waiter(driver, timeout).until(condition)
    except TimeoutException:
        shot = artifacts_dir() / f"failure-{re.sub(r'[^a-z0-9]+', '-', what.lower()).strip('-')[:60]}.png"
        driver.save_screenshot(str(shot))
        text = driver.execute_script("return document.body ? document.body.innerText : ''") or ""
        raise AssertionError(
            f"timed out after {timeout:.0f}s waiting for {what} at {driver.current_url}"
            f" (screenshot: {shot}); the page shows:\n{text[:3000]}"
        ) from None
