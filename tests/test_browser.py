"""One end-to-end run: `tracker dashboard` on a free loopback port, driven in Debian's headless Chromium."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from seed import make_articles, read_catalogue, seed_store

from tracker import export, store
from tracker.config import DEFAULT_HYPOTHESES_PATH, load_settings
from tracker.selection import Selection, select_articles

pytestmark = pytest.mark.browser

PROJECT_DIR = Path(__file__).resolve().parent.parent
CHROMIUM_PATH = Path("/usr/bin/chromium")
SCREENSHOT_PATH = Path(__file__).resolve().parent / "artifacts" / "dashboard.png"
OVERVIEW_SCREENSHOT_PATH = SCREENSHOT_PATH.with_name("dashboard-overview.png")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
STARTUP_TIMEOUT_S = 60
PAGE_TIMEOUT_MS = 30_000
FILTER_TEXT = "whiplash"


@pytest.fixture
def chromium() -> Path:
    if not CHROMIUM_PATH.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM_PATH} is missing in CI; .ci/run installs it with apt-get install chromium")
        pytest.skip(f"{CHROMIUM_PATH} is not installed; apt-get install chromium to run the browser test")
    return CHROMIUM_PATH


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for_health(port: int, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"tracker dashboard exited with {server.returncode}: {server.stderr.read()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"the dashboard did not answer /_stcore/health within {STARTUP_TIMEOUT_S} s")


@pytest.fixture
def dashboard_url(tmp_path: Path, chromium: Path):
    settings = load_settings(hypotheses_path=DEFAULT_HYPOTHESES_PATH, environ={})
    db_path = tmp_path / "browser.sqlite"
    seed_store(db_path, settings.hypotheses, make_articles(300, seed=11))
    port = _free_port()
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("NCBI_", "TRACKER_"))}
    server = subprocess.Popen(
        [sys.executable, "-m", "tracker", "dashboard", "--db", str(db_path), "--port", str(port)],
        cwd=PROJECT_DIR, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        # Its own process group, so that stopping it stops anything it started too.
        start_new_session=True)
    try:
        _wait_for_health(port, server)
        yield f"http://127.0.0.1:{port}/", db_path
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        server.stderr.close()


def test_the_dashboard_in_a_real_browser(dashboard_url, chromium, tmp_path) -> None:
    from playwright.sync_api import expect, sync_playwright

    url, db_path = dashboard_url
    catalogue = read_catalogue(db_path)
    expected = select_articles(catalogue, Selection(text=FILTER_TEXT))
    assert 0 < len(expected) < len(select_articles(catalogue, Selection()))

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
            page.set_default_timeout(PAGE_TIMEOUT_MS)
            page.goto(url)
            expect(page.get_by_role("heading", name="Fibromyalgia evidence over time")).to_be_visible()
            charts = page.locator("[data-testid='stVegaLiteChart']")
            expect(charts.first).to_be_visible()
            expect(charts.first.locator("canvas, svg").first).to_be_visible()
            SCREENSHOT_PATH.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(OVERVIEW_SCREENSHOT_PATH))

            page.get_by_test_id("stSidebar").get_by_text("Citations", exact=True).click()
            expect(page.get_by_role("heading", name="Citations")).to_be_visible()
            expect(page.get_by_test_id("stDataFrame").first).to_be_visible()

            search = page.get_by_label("Search title, abstract, authors, journal")
            search.fill(FILTER_TEXT)
            search.press("Enter")
            metric = page.get_by_test_id("stMetricValue").first
            expect(metric).to_have_text(f"{len(expected):,}")

            button = page.get_by_role("button", name=f"Download these {len(expected):,} articles as CSV")
            with page.expect_download() as download_info:
                button.click()
            downloaded = tmp_path / "download.csv"
            download_info.value.save_as(downloaded)

            page.screenshot(path=str(SCREENSHOT_PATH))
        finally:
            browser.close()

    assert downloaded.read_bytes() == export.csv_bytes(store.decode_details(expected, export.detail_columns("csv")))
