"""The Atom feed: parsed back, it has Atom's required elements, the right entries, and text that survives."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from fixtures.export_catalogue import article_row, catalogue_frame, standard_rows
from seed import make_articles, read_catalogue, seed_store
from tracker import store
from tracker.cli import cli
from tracker.config import DEFAULT_HYPOTHESES_PATH, Hypothesis, load_hypotheses
from tracker.errors import ConfigError
from tracker.feed import FEED_DETAILS, build_feed, select_feed_articles
from tracker.selection import Selection, select_articles

ATOM = "{http://www.w3.org/2005/Atom}"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)
HYPOTHESES = (
    Hypothesis(id="fibromyalgia", label="All fibromyalgia research (baseline)", description="d", query="q",
               baseline=True),
    Hypothesis(id="serotonin", label="Serotonin", description="d", query="q"),
    Hypothesis(id="sleep", label="Disturbed sleep", description="d", query="q"),
    Hypothesis(id="substance_p", label="Substance P", description="d", query="q"),
)


def feed_of(catalogue, hypotheses, **options) -> bytes:
    """The feed as `tracker feed` builds it: select the rows, decode what an entry reads, render them."""
    articles = select_feed_articles(catalogue, hypotheses, **options)
    return build_feed(store.decode_details(articles, FEED_DETAILS), hypotheses, **options)


def parse(feed: bytes) -> ET.Element:
    assert feed.startswith(b"<?xml version='1.0' encoding='utf-8'?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">")
    return ET.fromstring(feed)


def entries_by_id(root: ET.Element) -> dict[str, ET.Element]:
    return {entry.findtext(f"{ATOM}id"): entry for entry in root.findall(f"{ATOM}entry")}


def test_feed_has_atoms_required_elements_and_one_entry_per_recent_article() -> None:
    root = parse(feed_of(catalogue_frame(standard_rows()), HYPOTHESES, days=30, now=NOW))
    assert root.tag == f"{ATOM}feed"
    assert root.findtext(f"{ATOM}id") == "tag:fibromyalgia-evidence-tracker,2026:feed"
    assert root.findtext(f"{ATOM}title") == "Fibromyalgia evidence tracker: new articles"
    assert root.findtext(f"{ATOM}updated") == "2026-11-24T23:59:59Z"
    assert root.findtext(f"{ATOM}author/{ATOM}name") == "Fibromyalgia evidence tracker"
    # 1008 was first seen 55 days earlier, 1003 is retracted: neither is in.
    assert [entry.findtext(f"{ATOM}id") for entry in root.findall(f"{ATOM}entry")] == [
        f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/" for pmid in (1004, 1002, 1001, 1007, 1006, 1005)]
    for entry in root.findall(f"{ATOM}entry"):
        for required in ("id", "title", "updated"):
            assert entry.findtext(f"{ATOM}{required}"), required


def test_an_entry_carries_its_causes_design_link_authors_and_dates() -> None:
    entry = entries_by_id(parse(feed_of(catalogue_frame(standard_rows()), HYPOTHESES, now=NOW)))[
        "https://pubmed.ncbi.nlm.nih.gov/1001/"]
    assert entry.findtext(f"{ATOM}title") == "Serotonin (5-HT) in fibromyalgia: a meta-analysis"
    assert entry.findtext(f"{ATOM}published") == "2026-11-20T02:30:00Z"
    assert entry.findtext(f"{ATOM}updated") == "2026-11-21T02:30:00Z"
    assert [link.attrib for link in entry.findall(f"{ATOM}link")] == [
        {"rel": "alternate", "type": "text/html", "href": "https://pubmed.ncbi.nlm.nih.gov/1001/"}]
    assert [name.text for name in entry.findall(f"{ATOM}author/{ATOM}name")] == ["John A Smith", "Jane Doe"]
    assert [category.attrib for category in entry.findall(f"{ATOM}category")] == [
        {"term": "serotonin", "scheme": "tag:fibromyalgia-evidence-tracker,2026:hypothesis", "label": "Serotonin"},
        {"term": "meta_analysis", "scheme": "tag:fibromyalgia-evidence-tracker,2026:design",
         "label": "Meta-analysis"},
    ]
    summary = entry.find(f"{ATOM}summary")
    assert summary.attrib == {"type": "text"}
    assert summary.text == ("Causes: Serotonin. Study design: Meta-analysis. "
                            "Published in Journal of Pain Research, 2021.")


def test_titles_with_markup_characters_and_non_ascii_survive() -> None:
    title = "Sleep <b>&</b> pain > 5 in Müller's “β-endorphin” study\x0b"
    rows = [article_row(1, title=title, hypotheses=["fibromyalgia", "sleep"], design="rct",
                        authors=[article_row(1)["authors"][0] | {"last_name": "Ørsted", "fore_name": "Åse"}],
                        first_seen="2026-11-25T08:00:00+00:00", last_changed="2026-11-25T08:00:00+00:00",
                        pub_year=None)]
    feed = feed_of(catalogue_frame(rows), HYPOTHESES, now=NOW)
    entry = parse(feed).find(f"{ATOM}entry")
    assert entry.findtext(f"{ATOM}title") == "Sleep <b>&</b> pain > 5 in Müller's “β-endorphin” study"
    assert entry.findtext(f"{ATOM}author/{ATOM}name") == "Åse Ørsted"
    assert entry.findtext(f"{ATOM}summary") == (
        "Causes: Disturbed sleep. Study design: Randomised controlled trial. Published in Journal of Pain Research.")
    assert "Müller".encode() in feed


@pytest.mark.parametrize(
    ("days", "hypothesis_ids", "expected_pmids", "feed_id"),
    [
        (1, (), [1004], "tag:fibromyalgia-evidence-tracker,2026:feed"),
        (30, ("sleep",), [1002, 1006, 1005], "tag:fibromyalgia-evidence-tracker,2026:feed:sleep"),
        (30, ("substance_p", "serotonin"), [1004, 1001],
         "tag:fibromyalgia-evidence-tracker,2026:feed:serotonin,substance_p"),
        (60, (), [1004, 1002, 1001, 1007, 1006, 1005, 1008], "tag:fibromyalgia-evidence-tracker,2026:feed"),
    ],
)
def test_days_and_hypotheses_choose_the_entries(days, hypothesis_ids, expected_pmids, feed_id) -> None:
    root = parse(feed_of(catalogue_frame(standard_rows()), HYPOTHESES, days=days, hypothesis_ids=hypothesis_ids,
                            now=NOW))
    assert root.findtext(f"{ATOM}id") == feed_id
    assert [entry.findtext(f"{ATOM}id") for entry in root.findall(f"{ATOM}entry")] == [
        f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/" for pmid in expected_pmids]


def test_an_empty_feed_is_still_valid_and_dated_now() -> None:
    root = parse(feed_of(catalogue_frame(standard_rows()).iloc[:0], HYPOTHESES, now=NOW))
    assert (root.findtext(f"{ATOM}id"), root.findtext(f"{ATOM}updated"), root.findall(f"{ATOM}entry")) == (
        "tag:fibromyalgia-evidence-tracker,2026:feed", "2026-11-25T12:00:00Z", [])


@pytest.mark.parametrize(
    ("days", "message"),
    [(0, "days 0 is out of range; give a whole number of days from 1 to 3650"),
     (4000, "days 4000 is out of range; give a whole number of days from 1 to 3650")],
)
def test_bad_day_counts_are_refused(days: int, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        feed_of(catalogue_frame(standard_rows()), HYPOTHESES, days=days, now=NOW)
    assert str(caught.value) == message


def test_an_unknown_hypothesis_is_refused() -> None:
    with pytest.raises(ConfigError) as caught:
        feed_of(catalogue_frame(standard_rows()), HYPOTHESES, hypothesis_ids=("autonomic",), now=NOW)
    assert str(caught.value) == (
        "unknown hypothesis 'autonomic': choose from fibromyalgia, serotonin, sleep, substance_p")


def test_rows_whose_authors_are_still_json_are_refused() -> None:
    articles = select_feed_articles(catalogue_frame(standard_rows()), HYPOTHESES, now=NOW)
    with pytest.raises(ValueError, match=r"decode it first: store.decode_details\(frame, feed.FEED_DETAILS\)"):
        build_feed(articles, HYPOTHESES, now=NOW)


def test_the_feed_reads_no_store_encoding() -> None:
    import ast
    import inspect

    from tracker import feed

    tree = ast.parse(inspect.getsource(feed))
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert not {name for name in imported if name.startswith("tracker.store")}, imported


# --- tracker feed, end to end over a seeded store -------------------------------------------------------------

def test_feed_command_writes_one_entry_per_new_article_to_a_file(db_path: Path, tmp_path: Path) -> None:
    hypotheses = load_hypotheses(DEFAULT_HYPOTHESES_PATH)
    articles = make_articles(60, seed=9)
    seed_store(db_path, hypotheses, articles)
    output = tmp_path / "feeds" / "new.atom"
    output.parent.mkdir()
    result = CliRunner().invoke(cli, ["feed", "--db", str(db_path), "--days", "7", "--hypothesis", "sleep",
                                      "-o", str(output)])
    assert (result.exit_code, result.stderr) == (0, f"wrote the feed of the last 7 days to {output}\n")
    root = parse(output.read_bytes())
    catalogue = read_catalogue(db_path)
    sleep_pmids = set(select_articles(catalogue, Selection(hypotheses=("sleep",)))["pmid"])
    assert sleep_pmids
    assert {entry.findtext(f"{ATOM}id") for entry in root.findall(f"{ATOM}entry")} == {
        f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/" for pmid in sleep_pmids}
    assert sorted(p.name for p in output.parent.iterdir()) == ["new.atom"]


def test_feed_command_writes_to_standard_output_and_refuses_bad_days(db_path: Path) -> None:
    seed_store(db_path, load_hypotheses(DEFAULT_HYPOTHESES_PATH), make_articles(5, seed=2))
    result = CliRunner().invoke(cli, ["feed", "--db", str(db_path)])
    assert result.exit_code == 0
    assert len(parse(result.stdout_bytes).findall(f"{ATOM}entry")) == 5
    refused = CliRunner().invoke(cli, ["feed", "--db", str(db_path), "--days", "0"])
    assert (refused.exit_code, refused.stderr, refused.stdout) == (
        1, "tracker: days 0 is out of range; give a whole number of days from 1 to 3650\n", "")
