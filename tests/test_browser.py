"""End-to-end: `tracker dashboard` on a free loopback port, driven in Debian's headless Chromium.

Every request the browser makes is routed through the test: loopback ones go on, any other is counted and blocked,
and the test asserts there were none (the page must load nothing from a font, icon or image server).
"""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from support.browser import (PAGE_TIMEOUT_MS, VIEWPORT, guarded_page, settle, start_dashboard, stop_server,
                             tracker_environment)
from support.fetch_helpers import BASELINE_QUERY, HYPOTHESES_TOML, article_xml, seed_corpus
from support.seed import make_articles, read_catalogue, read_stances, seed_stances, seed_store
from support.standin import EutilsStandin

from tracker import store
from tracker.config import DEFAULT_HYPOTHESES_PATH, load_settings
from tracker.models import AbstractSection, Article, Author, MeshHeading
from tracker.outputs import export
from tracker.outputs.selection import Selection, select_articles

pytestmark = pytest.mark.browser

PROJECT_DIR = Path(__file__).resolve().parent.parent
ARTIFACTS_DIR = Path(__file__).resolve().parent / "artifacts"
FETCH_TIMEOUT_S = 300
FILTER_TEXT = "whiplash"
# Dataframe geometry in Streamlit 1.67 with row_height=66: a 35 px header, then rows; the row marker (the
# selection radio) is the first 40 px of each row.
HEADER_HEIGHT_PX = 35
ROW_HEIGHT_PX = 66
HOSTILE_PMID = 9_999_999  # outside make_articles' PMID ranges
HOSTILE_HOST = "evil.example"


def _hostile_article() -> Article:
    """An article whose stored strings carry Markdown image and link syntax, Streamlit's syntax and HTML."""
    image = f"![x](http://{HOSTILE_HOST}/pixel.png)"
    return Article(
        pmid=HOSTILE_PMID, pub_year=2021, publication_types=("Journal Article",),
        title=f"Sleep :red[alert] :material/home: $x$ {image} <img src=http://{HOSTILE_HOST}/tag.png>",
        abstract=(AbstractSection(f"Sleep was poor {image} [link](http://{HOSTILE_HOST}/) "
                                  f"<img src='http://{HOSTILE_HOST}/abstract.png'>."),),
        journal=f"J :blue[Sleep] {image}", doi=f"10.1000/x){image}", pmcid=f"PMC1]({image}",
        authors=(Author(collective_name=f"Group {image}"),), mesh=(MeshHeading(f"Sleep {image}"),))


@pytest.fixture
def dashboard_url(tmp_path: Path, chromium: Path):
    settings = load_settings(hypotheses_path=DEFAULT_HYPOTHESES_PATH, environ={})
    db_path = tmp_path / "browser.sqlite"
    seed_store(db_path, settings.hypotheses, [_hostile_article(), *make_articles(300, seed=11)])
    seed_stances(db_path, read_catalogue(db_path))
    server, url = start_dashboard(db_path)
    try:
        yield url, db_path
    finally:
        stop_server(server)


def _shot(page, name: str, *, full_page: bool = False) -> None:
    """A screenshot for a reader to look at; `full_page` grows the window to the page's scrolling height first
    (Streamlit scrolls its main area inside the window, so the browser's own full-page capture sees one screen)."""
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    settle(page)
    if not full_page:
        page.screenshot(path=str(ARTIFACTS_DIR / f"{name}.png"))
        return
    height = page.evaluate("""() => Math.max(...[...document.querySelectorAll('[data-testid="stMain"], section')]
        .map(e => e.scrollHeight), document.body.scrollHeight)""")
    viewport = page.viewport_size
    page.set_viewport_size({"width": viewport["width"], "height": max(viewport["height"], min(int(height), 12_000))})
    page.wait_for_timeout(500)
    page.screenshot(path=str(ARTIFACTS_DIR / f"{name}.png"), full_page=True)
    page.set_viewport_size(viewport)


def test_the_dashboard_in_a_real_browser(dashboard_url, chromium, tmp_path) -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=PAGE_TIMEOUT_MS)
    url, db_path = dashboard_url
    catalogue = read_catalogue(db_path)
    expected = select_articles(catalogue, Selection(text=FILTER_TEXT))
    assert 0 < len(expected) < len(select_articles(catalogue, Selection()))
    outside: list[str] = []

    with guarded_page(chromium, outside, accept_downloads=True) as page:

        page.goto(url)
        expect(page.get_by_role("heading", name="Fibromyalgia evidence: what it says, cause by cause")).to_be_visible()
        charts = page.locator("[data-testid='stVegaLiteChart']")
        expect(charts.first.locator("canvas, svg").first).to_be_visible()
        # What is below the first chart follows once the browser has drawn it (dashboard/deferred.py).
        expect(page.get_by_role("heading", name="Each cause over time")).to_be_visible()
        expect(charts.nth(1).locator("canvas, svg").first).to_be_visible()
        _shot(page, "overview", full_page=True)

        sidebar = page.get_by_test_id("stSidebar")
        sidebar.get_by_text("Cause", exact=True).click()
        expect(page.get_by_role("heading", name="Over time", exact=True)).to_be_visible()
        expect(charts.first.locator("canvas, svg").first).to_be_visible()
        _shot(page, "cause", full_page=True)

        sidebar.get_by_text("Citations", exact=True).click()
        expect(page.get_by_role("heading", name="Citations")).to_be_visible()
        search = page.get_by_label("Search title, abstract, authors, journal")
        search.fill(FILTER_TEXT)
        search.press("Enter")
        expect(page.get_by_test_id("stMetricValue").first).to_have_text(f"{len(expected):,}")
        table = page.get_by_test_id("stDataFrame").first
        expect(table).to_be_visible()

        button = page.get_by_role("button", name=f"Download these {len(expected):,} articles as CSV")
        with page.expect_download() as download_info:
            button.click()
        downloaded = tmp_path / "download.csv"
        download_info.value.save_as(downloaded)

        # Click the second row: its article opens below the table.
        second = expected.iloc[1]
        box = table.bounding_box()
        page.mouse.click(box["x"] + 15, box["y"] + HEADER_HEIGHT_PX + ROW_HEIGHT_PX * 1.5)
        heading = page.locator("[data-testid='stMarkdownContainer'] h4").first
        expect(heading).to_have_text(second["title"])
        expect(page.get_by_role("link", name=f"PubMed {second['pmid']}")).to_be_visible()
        _shot(page, "citations")
        heading.scroll_into_view_if_needed()
        _shot(page, "article", full_page=True)

        # A count's link opens Citations filtered; a hostile record stays inert text.
        page.goto(f"{url}?page=Citations&pmid={HOSTILE_PMID}")
        hostile = page.locator("[data-testid='stMarkdownContainer'] h4").first
        expect(hostile).to_contain_text(":red[alert] :material/home: $x$ ![x](http://")
        # No image or link to the hostile host (a doi.org link may carry it percent-encoded in its path).
        hosts = page.evaluate("""() => [...document.querySelectorAll('img[src], a[href]')]
            .map(e => new URL(e.src || e.href, location.href).hostname)""")
        assert HOSTILE_HOST not in hosts
        assert page.get_by_text("PubMed 9999999", exact=True).is_visible()
        expect(page.get_by_test_id("stDataFrame").first).to_be_visible()
        hostile.scroll_into_view_if_needed()
        _shot(page, "hostile-article")

        page.get_by_test_id("stSidebar").get_by_text("Emerging", exact=True).click()
        expect(page.get_by_role("heading", name="Emerging causes")).to_be_visible()
        expect(page.get_by_test_id("stMetricValue").first).to_be_visible()
        _shot(page, "emerging", full_page=True)

    stances = read_stances(db_path)
    causes = [h.id for h in load_settings(hypotheses_path=DEFAULT_HYPOTHESES_PATH, environ={}).causes]
    assert downloaded.read_bytes() == export.csv_bytes(
        store.decode_details(expected, export.detail_columns("csv")), stances=stances, cause_ids=causes)
    assert outside == [], f"the browser asked for {len(outside)} things outside the machine: {outside[:5]}"


@pytest.mark.parametrize("width", [1440, 1024])
def test_the_overview_first_screen_fits_the_window(dashboard_url, chromium, width) -> None:
    """The evidence table first: at 1440 and 1024 px wide nothing is cut off to the right and the table's first
    row is on the first screen."""
    from playwright.sync_api import expect

    expect.set_options(timeout=PAGE_TIMEOUT_MS)
    url, _db_path = dashboard_url
    outside: list[str] = []
    with guarded_page(chromium, outside) as page:
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(url)
        expect(page.get_by_role("heading", name="What the evidence says")).to_be_visible()
        first_row = page.locator("table tbody tr").first
        expect(first_row).to_be_visible()
        _shot(page, f"overview-first-screen-{width}")
        assert first_row.bounding_box()["y"] < 900
        # Nothing wider than the main area: no headline value, table column or chart cut at the right edge.
        overflow = page.evaluate("""() => { const main = document.querySelector('[data-testid="stMain"]');
            const right = main.getBoundingClientRect().right;
            return [...main.querySelectorAll('[data-testid="stMetricValue"], table, canvas, svg')]
                .filter(e => e.getBoundingClientRect().right > right + 1)
                .map(e => e.tagName + ' ' + Math.round(e.getBoundingClientRect().right) + ' > ' + right); }""")
        assert overflow == []
        # A headline value is never cut to "2026-12-…".
        assert not page.evaluate("""() => [...document.querySelectorAll('[data-testid="stMetricValue"]')]
            .some(e => e.scrollWidth > e.clientWidth + 1)""")
        _shot(page, f"overview-{width}", full_page=True)
    assert outside == []


SECOND_FETCH_NEW = range(5000, 5007)


def _fetch(db_path: Path, hypotheses_path: Path, standin_url: str) -> None:
    """`tracker fetch` as a user runs it, against the E-utilities stand-in."""
    finished = subprocess.run(
        [sys.executable, "-m", "tracker", "fetch", "--db", str(db_path), "--hypotheses", str(hypotheses_path)],
        cwd=PROJECT_DIR, capture_output=True, text=True, timeout=FETCH_TIMEOUT_S,
        env=tracker_environment(NCBI_EUTILS_URL=standin_url, NCBI_EMAIL="curator@example.org"))
    assert finished.returncode == 0, finished.stderr


def test_new_in_the_latest_run_after_a_second_fetch_in_a_real_browser(tmp_path: Path, chromium: Path) -> None:
    """After a second fetch, the Citations filter "new in the latest run" shows exactly what that run stored."""
    from playwright.sync_api import expect

    expect.set_options(timeout=PAGE_TIMEOUT_MS)
    hypotheses_path = tmp_path / "hypotheses.toml"
    hypotheses_path.write_text(HYPOTHESES_TOML, encoding="utf-8")
    db_path = tmp_path / "tracker.sqlite"
    baseline = range(1000, 1060)
    with EutilsStandin(rate_limit=False) as standin:
        seed_corpus(standin, baseline, set(range(1000, 1060, 3)), set(range(1001, 1060, 4)))
        _fetch(db_path, hypotheses_path, standin.base_url)
        # The second fetch brings new records and a retraction of a stored one: changed, not new.
        today = datetime.now(UTC).date()  # NCBI's "today", as the fetch reads it
        for pmid in SECOND_FETCH_NEW:
            standin.add_record(pmid, article_xml(pmid, year=today.year), edat=today, pdat=today, mdat=today,
                               crdt=today)
        standin.update_record(1003, article_xml(1003, year=1990 + 1003 % 35, retracted_in=9000), mdat=today)
        standin.set_query(BASELINE_QUERY, [*baseline, *SECOND_FETCH_NEW])
        _fetch(db_path, hypotheses_path, standin.base_url)

    with store.reading(db_path) as connection:
        history = store.load_run_history(connection)
    latest = history.runs.iloc[-1]
    assert len(history.runs) == 2 and latest["status"] == "succeeded"
    stored_first = history.changes[(history.changes["run_id"] == latest["id"]) & (history.changes["change"] == "new")]
    assert sorted(stored_first["pmid"]) == list(SECOND_FETCH_NEW) and latest["new_count"] == len(SECOND_FETCH_NEW)
    outside: list[str] = []

    server, url = start_dashboard(db_path, hypotheses_path)
    try:
        with guarded_page(chromium, outside) as page:
            page.goto(url)
            expect(page.get_by_role("heading", name="Fibromyalgia evidence: what it says, cause by cause")).to_be_visible()

            sidebar = page.get_by_test_id("stSidebar")
            sidebar.get_by_text("Citations", exact=True).click()
            expect(page.get_by_role("heading", name="Citations")).to_be_visible()
            matching = page.get_by_test_id("stMetric").filter(has_text="Matching articles")
            # Every stored article but the one retracted since (left out unless retracted ones are included).
            stored = len(baseline) + len(SECOND_FETCH_NEW) - 1
            expect(matching.get_by_test_id("stMetricValue")).to_have_text(f"{stored:,}")
            sidebar.get_by_text("New in run …", exact=True).click()
            expect(sidebar.get_by_role("combobox", name="New in run")).to_have_value(
                re.compile(rf"^the latest, run {latest['id']} \(fetch, "))
            expect(matching.get_by_test_id("stMetricValue")).to_have_text(f"{latest['new_count']:,}")
            expect(page.get_by_test_id("stDataFrame").first).to_be_visible()
            _shot(page, "citations-new-in-latest-run")

            sidebar.get_by_text("Fetch status", exact=True).click()
            expect(page.get_by_role("heading", name="Fetch status")).to_be_visible()
            expect(page.get_by_role("heading", name=f"Run {latest['id']}, per cause")).to_be_visible()
            _shot(page, "fetch-status", full_page=True)
    finally:
        stop_server(server)
    assert outside == [], f"the browser asked for {len(outside)} things outside the machine: {outside[:5]}"
