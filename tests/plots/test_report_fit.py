"""The report's size and layout: small enough to mail, tables that fit an ordinary window."""

from __future__ import annotations

import base64
import os
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from sim.plots.data import load_batch
from sim.plots.report import build_report, write_report
from tests.plots.conftest import copy_folder

IMG = re.compile(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"')
ROOT = Path(__file__).resolve().parents[2]


def test_report_images_are_small_and_progress_is_told(batch_dir: Path, tmp_path: Path) -> None:
    folder = copy_folder(batch_dir, tmp_path / "b")
    calls: list[tuple[int, int, str]] = []
    path = write_report(folder, progress=lambda *call: calls.append(call))
    images = [base64.b64decode(m) for m in IMG.findall(path.read_text(encoding="utf-8"))]
    drawn = len(list((folder / "figures").glob("*.png")))
    assert len(images) == drawn
    assert [c[0] for c in calls[:-1]] == list(range(1, drawn + 1))
    assert all(c[1] == drawn for c in calls) and calls[-1][2] == "report.html"
    # the network figures were about 800 KB each, most of a 14 MB report of five scenarios
    assert max(len(b) for b in images) < 250_000, sorted(len(b) for b in images)[-3:]
    assert path.stat().st_size < 2_200_000  # 2 MB before the centre's figure (about 0.1 MB)


def _many_scenarios(batch_dir: Path, target: Path, copies: int) -> Path:
    """A copy of the batch whose summary holds ``copies`` more scenarios with long names."""
    folder = copy_folder(batch_dir, target)
    summary = pd.read_parquet(folder / "summary.parquet")
    extra = [summary.assign(scenario=summary["scenario"] + f"_variant_{k}") for k in range(copies)]
    pd.concat([summary, *extra]).to_parquet(folder / "summary.parquet", index=False)
    return folder


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


@pytest.mark.skipif(CHROMIUM is None or CHROMEDRIVER is None,
                    reason="needs Debian's chromium and chromium-driver")  # fmt: skip
def test_the_tables_fit_a_1280_pixel_window(batch_dir: Path, tmp_path: Path) -> None:
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    folder = _many_scenarios(batch_dir, tmp_path / "b", copies=1)  # six scenarios
    data = load_batch(folder)
    assert len(data.scenarios) == 6
    page = folder / "report.html"
    page.write_text(build_report(data, []), encoding="utf-8")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,900", "--hide-scrollbars"):  # fmt: skip
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        driver.get(page.as_uri())
        width = driver.execute_script("return window.innerWidth")
        assert 1200 <= width <= 1280
        page_width = driver.execute_script("return document.documentElement.scrollWidth")
        assert page_width <= width, "the page scrolls sideways"
        body = driver.execute_script(
            "const b = document.body.getBoundingClientRect(); return [b.left, b.right];")
        for right, inner, outer in driver.execute_script(
            "return [...document.querySelectorAll('table')].map(t => ["
            "t.getBoundingClientRect().right, t.scrollWidth, t.parentElement.clientWidth]);"
        ):
            assert right <= body[1] + 1, (right, body)  # inside the page's column
            assert inner <= outer + 1, (inner, outer)  # nothing cut off or hidden
        folder_out = Path(os.environ.get("POLICYSIM_TEST_ARTIFACTS",
                                         ROOT / "results" / "test-artifacts"))  # fmt: skip
        folder_out.mkdir(parents=True, exist_ok=True)
        driver.execute_script("document.querySelector('table.summary').scrollIntoView()")
        driver.save_screenshot(str(folder_out / "report-summary-1280.png"))
    finally:
        driver.quit()
