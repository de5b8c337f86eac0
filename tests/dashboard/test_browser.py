"""End to end: the dashboard in a real headless Chromium, driven by Selenium.

Starts ``sim.dashboard`` on a free local port, loads the page, refuses an invalid value with the
CLI's message, changes a parameter, steps, plays and pauses the model, checks that the date and a
chart change, saves the run and takes a screenshot (``results/test-artifacts/dashboard.png``, or
the folder in ``$POLICYSIM_TEST_ARTIFACTS``).

Needs the ``viz`` extra, Selenium and Debian's ``chromium`` and ``chromium-driver`` packages; the
test is skipped, with the reason, when any of them is missing.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

pytest.importorskip("solara", reason="the dashboard needs the viz extra: pip install -e '.[viz]'")
pytest.importorskip("selenium", reason="the browser test needs selenium: pip install selenium")

from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import StaleElementReferenceException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402
from selenium.webdriver.remote.webelement import WebElement  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from sim.dashboard.server import (  # noqa: E402
    free_port,
    start_server,
    stop_server,
    wait_until_ready,
)
from sim.errors import ScenarioError  # noqa: E402
from sim.scenario.loader import load_scenario

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
if CHROMIUM is None or CHROMEDRIVER is None:
    pytest.skip(
        "the browser test needs Debian's chromium and chromium-driver "
        "(apt-get install -y chromium chromium-driver)",
        allow_module_level=True,
    )

SCENARIO = "crackdown"
SLIDER = "regulators.SAMR.fine_rate"
WAIT_S = 120  # generous: a loaded 2-core machine renders slowly; nothing here is timed
CHROMIUM_ARGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--no-first-run", "--window-size=1600,2300",
)  # fmt: skip
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def artifacts() -> Path:
    """The folder for the screenshot and the server log."""
    folder = Path(os.environ.get("POLICYSIM_TEST_ARTIFACTS", ROOT / "results" / "test-artifacts"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def server(tmp_path: Path, artifacts: Path) -> Iterator[tuple[str, Path]]:
    """A dashboard server on a free port, working in a temporary folder; always stopped."""
    port = free_port()
    log_path = artifacts / "dashboard-server.log"
    with log_path.open("wb") as log_file:
        process = start_server(
            host="127.0.0.1", port=port, scenario=SCENARIO, cwd=tmp_path, log_file=log_file
        )
        try:
            wait_until_ready(f"http://127.0.0.1:{port}/", process, timeout_s=WAIT_S)
            yield f"http://127.0.0.1:{port}/", tmp_path
        finally:
            stop_server(process)


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    """Headless Chromium with a fresh profile; always quit."""
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    profile = tempfile.mkdtemp(prefix="policysim-chromium-")
    for arg in (*CHROMIUM_ARGS, f"--user-data-dir={profile}"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _until(driver: WebDriver, condition: Callable[[WebDriver], object], what: str) -> object:
    """Wait for ``condition`` to be truthy, ignoring elements replaced while re-rendering."""

    def check(d: WebDriver) -> object:
        try:
            return condition(d)
        except StaleElementReferenceException:
            return False

    return WebDriverWait(driver, WAIT_S, poll_frequency=0.2).until(check, message=what)


def _button(driver: WebDriver, label: str) -> WebElement:
    return driver.find_element(By.XPATH, f"//button[normalize-space()='{label}']")


def _click(driver: WebDriver, label: str) -> None:
    """Click the button ``label`` as soon as it is enabled (the page re-renders it often)."""

    def click(d: WebDriver) -> bool:
        button = _button(d, label)
        if not button.is_enabled():
            return False
        button.click()
        return True

    _until(driver, click, f"button {label!r} enabled")


def _slider(driver: WebDriver, label: str) -> WebElement:
    return driver.find_element(
        By.XPATH,
        f"//div[contains(@class,'v-input__slider')][.//label[normalize-space()='{label}']]"
        "//*[@role='slider']",
    )


def _text(driver: WebDriver, css: str) -> str:
    elements = driver.find_elements(By.CSS_SELECTOR, css)
    return elements[0].text if elements else ""


def _month(driver: WebDriver) -> int:
    match = re.search(r"month (\d+) of", _text(driver, ".policysim-date"))
    return int(match.group(1)) if match else 0


def _first_chart(driver: WebDriver) -> str:
    images = driver.find_elements(By.CSS_SELECTOR, ".vue-grid-item img")
    return images[0].get_attribute("src") or "" if images else ""


def _cli_message(*overrides: str) -> str:
    with pytest.raises(ScenarioError) as info:
        load_scenario(SCENARIO, list(overrides))
    return f"error: {info.value}"


def test_dashboard_in_a_browser(
    server: tuple[str, Path], browser: WebDriver, artifacts: Path
) -> None:
    url, workdir = server
    driver = browser
    try:
        driver.get(url)
        _until(driver, lambda d: "not started" in _text(d, ".policysim-date"), "the date line")
        _until(driver, lambda d: _first_chart(d), "a chart")
        chart_before = _first_chart(driver)

        # An invalid value is refused in the page with the CLI's message.
        _slider(driver, SLIDER).send_keys(Keys.END)  # 0.5, above SAMR's legal cap
        _click(driver, "Reset")
        expected = _cli_message(f"{SLIDER}=0.5")
        _until(driver, lambda d: expected in _text(d, ".policysim-error"), "the refusal")

        # A valid value is taken: the run's command line shows it. (One key press per change:
        # keys sent faster than the page echoes them back can be lost.)
        _slider(driver, SLIDER).send_keys(Keys.HOME)  # 0: SAMR fines nothing
        _click(driver, "Reset")
        _until(driver, lambda d: not _text(d, ".policysim-error")
               and f"{SLIDER}=0.0" in d.find_element(By.TAG_NAME, "pre").text,
               "the changed parameter")  # fmt: skip

        # Stepping moves the date and redraws the charts.
        for month in (1, 2, 3):
            _click(driver, "Step")
            _until(driver, lambda d, m=month: _month(d) == m, f"month {month}")
        assert _text(driver, ".policysim-date").startswith("2020-03")
        _until(driver, lambda d: _first_chart(d) not in ("", chart_before), "a redrawn chart")

        # Play runs on by itself, three months a redraw (Mesa's render interval) and slowly
        # (its play interval at the 500 ms maximum), until paused; then Step moves on again.
        _slider(driver, "Render Interval (steps)").send_keys(Keys.ARROW_RIGHT)  # 1 -> 3
        _slider(driver, "Play Interval (ms)").send_keys(Keys.END)
        _click(driver, "▶")
        _until(driver, lambda d: _month(d) >= 24, "playing on to month 24")
        _click(driver, "❚❚")
        _until(driver, lambda d: _button(d, "▶") and _button(d, "Step").is_enabled(), "paused")
        paused_at = _month(driver)
        assert 24 <= paused_at < 72
        _click(driver, "Step")
        _until(driver, lambda d: _month(d) > paused_at, "a step after the pause")

        # Save writes what `sim run` writes.
        _click(driver, "Save results")
        _until(driver, lambda d: "saved" in _text(d, ".policysim-saved"), "the saved message")
        saved = workdir / "results" / SCENARIO / "seed-0"
        for name in ("timeseries.parquet", "firms.parquet", "summary.json", "manifest.json"):
            assert (saved / name).is_file(), name

        driver.execute_script("window.scrollTo(0, 0)")
        assert driver.save_screenshot(str(artifacts / "dashboard.png"))
    except BaseException:
        driver.save_screenshot(str(artifacts / "dashboard-failure.png"))
        raise
