"""The pages in a real browser: Debian's Chromium, headless, driven by Selenium, on a real worker.

A category manager's path: the overview shows a category where two partners' contracts end
within a year; a click opens that category; the search box finds a supplier by part of its
name; a new order shows on the open page without a reload. Screenshots of each step go to
``test-artifacts/browser/`` (kept for a person to look at after a CI run).
"""

from __future__ import annotations

import asyncio
import shutil
import time
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from test_worker_views import contract, order, publish
from topology_support import running_worker

from bluelight.settings import load_settings
from schemas.serde import encode_event
from streams.web import today
from topologies.apply import ensure_member_topics
from topologies.naming import member_topic

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(600)]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    assert chromium and driver, "Debian's chromium and chromium-driver: ./hub test installs them"
    options = Options()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1600"):
        options.add_argument(flag)
    session = webdriver.Chrome(options=options, service=Service(driver))
    session.set_page_load_timeout(60)
    try:
        yield session
    finally:
        session.quit()


def shot(browser: WebDriver, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / f"{name}.png"))


def wait_text(browser: WebDriver, text: str, timeout: float = 60, reload: bool = True) -> None:
    """Until the page shows ``text`` (reloading it each time unless told not to)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in browser.find_element(By.TAG_NAME, "body").text:
            return
        time.sleep(1)
        if reload:
            browser.refresh()
    raise AssertionError(f"{text!r} never showed on {browser.current_url}:\n{browser.page_source[-2000:]}")


def test_a_category_manager_finds_where_to_buy_together(
    kafka_bootstrap: str, tmp_path: Path, browser: WebDriver
) -> None:
    u = uuid.uuid4().hex[:6]
    police, fire = f"t-{u}-police", f"t-{u}-fire"
    ch = f"{uuid.uuid4().int % 10**8:08d}"
    settings = load_settings(bootstrap=kafka_bootstrap)
    for member in (police, fire):
        asyncio.run(ensure_member_topics(settings, member))
    ends = date(today().year + 1, today().month, 1)  # within a year of today for both partners
    sends = []
    for i, member in enumerate((police, fire)):
        po = member_topic(member, "purchase-order")
        sends.append((po, b"PO-1", encode_event(order(member, "PO-1", 1, i, ch))))
        sends.append(
            (member_topic(member, "contract"), b"C-1", encode_event(contract(member, "C-1", 1, i, ch, ends)))
        )
    asyncio.run(publish(kafka_bootstrap, sends))

    with running_worker({"BLUELIGHT_BOOTSTRAP": kafka_bootstrap}, tmp_path) as worker:
        worker.wait_for(
            f"/views/member-activity/{fire}", lambda st, b: st == 200 and b["accepted"] == 2, timeout=400
        )
        browser.get(f"http://{worker.http}/")
        wait_text(browser, fire)
        assert "National overview" in browser.title or "overview" in browser.title
        shot(browser, "1-overview")

        # the collaboration table: a category where both partners' contracts end within a year (the
        # pipeline view can trail member-activity by a moment on a busy machine: reload until it shows)
        deadline, row = time.monotonic() + 60, None
        together = "//h2[contains(., 'end within a year')]/following::table[1]"
        while row is None:
            table = browser.find_element(By.XPATH, together)
            rows = table.find_elements(By.TAG_NAME, "tr")
            row = next((r for r in rows if police in r.text and fire in r.text), None)
            if row is None:
                assert time.monotonic() < deadline, f"no row with {police} and {fire}:\n{table.text}"
                time.sleep(1)
                browser.refresh()
        category = row.find_element(By.CSS_SELECTOR, "a[href^='/category/']")
        name = category.text
        category.click()
        wait_text(browser, "Contracts", reload=False)
        assert browser.find_element(By.TAG_NAME, "h1").text == name
        assert browser.find_elements(By.CSS_SELECTOR, "svg.chart"), "no chart on the category page"
        shot(browser, "2-category")

        # search by part of the supplier's name (the orders' supplier is "Acme Safety Ltd")
        box = browser.find_element(By.NAME, "q")
        box.send_keys("acme safe")
        box.submit()
        wait_text(browser, "Acme Safety Ltd", reload=False)
        browser.find_element(By.PARTIAL_LINK_TEXT, "Acme Safety Ltd").click()
        wait_text(browser, "Alternatives in the same categories", reload=False)
        shot(browser, "3-supplier")

        # the partner page stays current without a reload: a new order shows within a refresh
        browser.get(f"http://{worker.http}/partner/{police}")
        wait_text(browser, "What it sent")
        before = browser.find_element(By.XPATH, "//h2[.='What it sent']/following::table[1]//td[1]").text
        assert before == "2"  # its order and its contract
        po = member_topic(police, "purchase-order")
        asyncio.run(publish(kafka_bootstrap, [(po, b"PO-2", encode_event(order(police, "PO-2", 1, 9, ch)))]))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            cell = browser.find_element(By.XPATH, "//h2[.='What it sent']/following::table[1]//td[1]")
            if cell.text == "3":
                break
            time.sleep(1)
        else:
            raise AssertionError("the partner page never showed the second order without a reload")
        shot(browser, "4-partner-live")
