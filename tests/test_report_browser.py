"""report.html in real headless Chromium: renders without console errors, KPIs match report.json, XSS stays text."""

from __future__ import annotations

import json
import shutil
import tempfile
from datetime import date
from pathlib import Path

import pytest
from _audit_fixture import XSS, write_contacts_csv

from crmclean.audit import AuditOptions, run_audit
from crmclean.reports import write_reports

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None or CHROMEDRIVER is None, reason="chromium / chromedriver not installed"),
]


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("browser")
    source = write_contacts_csv(work / "contacts.csv")
    options = AuditOptions(store=work / "runs.duckdb", today=date(2026, 11, 23))
    run_audit(str(source), None, options=options)  # an earlier run, so the trend section has two points
    result = run_audit(str(source), None, options=options)
    return write_reports(result, work / "report").directory


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = CHROMIUM  # type: ignore[assignment]
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--window-size=1360,2400"):
        options.add_argument(arg)
    profile = tempfile.mkdtemp(prefix="crmclean-chromium-")
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def test_report_renders_with_kpis_from_json_and_escaped_data(report_dir: Path, browser) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By

    report = json.loads((report_dir / "report.json").read_text(encoding="utf-8"))
    browser.get((report_dir / "report.html").as_uri())
    assert browser.title.startswith("crmclean audit")

    # every KPI card shows the number report.json holds
    cards = browser.find_elements(By.CSS_SELECTOR, "[data-kpi]")
    assert len(cards) >= 8
    for card in cards:
        key = card.get_attribute("data-kpi")
        value = card.find_element(By.CSS_SELECTOR, ".kpi-value")
        assert float(value.get_attribute("data-value")) == pytest.approx(float(report["kpis"][key])), key
        assert value.text.replace("\u202f", "").replace(" ", "").rstrip("%").replace(",", "") == \
            f"{report['kpis'][key]}".replace(" ", ""), key
    assert browser.find_element(By.ID, "kpi-pct_clean").find_element(By.CSS_SELECTOR, ".kpi-value").text.endswith("%")

    # sections exist and the charts are inline SVG
    for section in ("kpis", "checks", "completeness", "findings", "duplicates", "changes", "trend"):
        assert browser.find_elements(By.ID, section), section
    assert len(browser.find_elements(By.CSS_SELECTOR, "svg")) >= 3  # fill rate, histogram, trend
    rows = browser.find_elements(By.CSS_SELECTOR, "#checks tr[data-check]")
    assert {r.get_attribute("data-check") for r in rows} >= {c["code"] for c in report["checks"]}

    # the XSS contact name is shown as text: no alert, no injected script element
    assert XSS in browser.find_element(By.TAG_NAME, "body").text
    assert browser.find_elements(By.TAG_NAME, "script") == []
    assert browser.execute_script("return 1") == 1  # would raise UnexpectedAlertPresentException after an alert

    # no console errors (the page loads nothing from the network)
    logs = browser.get_log("browser")
    errors = [entry for entry in logs if entry["level"] in ("SEVERE", "ERROR")]
    assert errors == []

    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report.png"
    browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 10_000
