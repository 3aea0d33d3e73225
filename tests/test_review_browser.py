"""End-to-end: a person reviews a pair on the Review page of `tracker dashboard` in headless Chromium, a reload keeps
their name, and the Cause page's count of supporting articles, shown with its stance chart, moves by one.

Screenshots go to REVIEW_SHOTS_DIR (outside the project) for a reader to look at.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from support.browser import PAGE_TIMEOUT_MS, guarded_page, settle, start_dashboard, stop_server
from support.reviewed import PAIRED, SHIPPED, SLEEP, read_reviews
from support.seed import make_articles, seed_store


pytestmark = pytest.mark.browser

REVIEW_SHOTS_DIR = Path(os.environ.get("REVIEW_SHOTS_DIR", "/tmp/review-shots"))


def _shot(page, name: str) -> None:
    REVIEW_SHOTS_DIR.mkdir(parents=True, exist_ok=True)
    settle(page)
    page.screenshot(path=str(REVIEW_SHOTS_DIR / f"{name}.png"), full_page=True)


def _supporting_count(page, url: str) -> int:
    """The Cause page's (first cause, substance P) count of articles whose finding supports it."""
    page.goto(f"{url}?page=Cause")
    summary = page.get_by_text(re.compile("a finding that supports it")).first
    summary.wait_for()
    settle(page)
    return int(re.search(r"([\d,]+) reports? a finding that supports it", summary.inner_text()).group(1)
               .replace(",", ""))


def test_a_review_on_the_review_page_moves_the_count(tmp_path: Path, chromium: Path) -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=PAGE_TIMEOUT_MS)
    db_path = tmp_path / "reviews.sqlite"
    seed_store(db_path, SHIPPED, [PAIRED, SLEEP, *make_articles(80, seed=3)])
    outside: list[str] = []
    server, url = start_dashboard(db_path)
    try:
        with guarded_page(chromium, outside) as page:
            before = _supporting_count(page, url)
            _shot(page, "1-cause-before")

            page.goto(f"{url}?page=Review")
            page.get_by_label(re.compile("Your name")).fill("ana")
            page.get_by_role("button", name="Start reviewing").click()
            progress = page.get_by_text(re.compile(r"\d+ of \d+ pairs with a finding reviewed for Substance P"))
            expect(progress).to_contain_text("0 of ")
            machine = page.get_by_text(re.compile("The machine read:")).first.inner_text()
            pmid = re.search(r"PubMed (\d+)", page.get_by_role("link", name=re.compile(r"PubMed \d+")).first
                             .inner_text()).group(1)
            # Away from "supports" if the machine read it so, else to it: the count moves by one either way.
            choice, step = ("Contradicts", -1) if "supports" in machine else ("Supports", 1)
            _shot(page, "2-review-page")
            page.get_by_role("button", name=choice, exact=True).click()
            expect(progress).to_contain_text("1 of ")
            _shot(page, "3-review-page-after")
            # A reload is a new session: the name comes back from the page's address, not asked again.
            assert "reviewer=ana" in page.url
            page.reload()
            expect(page.get_by_text("Reviewing as ana.")).to_be_visible()
            expect(progress).to_contain_text("1 of ")
            expect(page.get_by_label(re.compile("Your name"))).to_have_count(0)

            after = _supporting_count(page, url)
            _shot(page, "4-cause-after")
            page.goto(url)
            expect(page.get_by_text("How far to trust the readings: reviewers against the machine")).to_be_visible()
            page.get_by_text("How far to trust the readings").scroll_into_view_if_needed()
            _shot(page, "5-overview-agreement")
            page.goto(f"{url}?page=Citations&pmid={pmid}")
            badge = page.get_by_text(re.compile("reviewed by ana on")).first
            expect(badge).to_be_visible()
            page.get_by_text("Review these readings").click()
            badge.scroll_into_view_if_needed()
            _shot(page, "6-article-reviewed")
    finally:
        stop_server(server)

    assert after == before + step
    reviews = read_reviews(db_path)
    assert (reviews["reviewer"].tolist(), reviews["hypothesis_id"].tolist()) == (["ana"], ["substance_p"])
    assert outside == [], f"the browser asked for {len(outside)} things outside the machine: {outside[:5]}"
