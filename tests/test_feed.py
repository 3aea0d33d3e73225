"""The Atom feed: parsed back, it has Atom's required elements, the right entries, and text that survives."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from support.catalogue import article_row, catalogue_frame, run_history, standard_rows
from support.seed import add_fetch_run, make_articles, read_catalogue, seed_store
from tracker import cli_options
from tracker import store
from tracker.cli import cli
from tracker.config import DEFAULT_HYPOTHESES_PATH, Hypothesis, load_hypotheses
from tracker.errors import ConfigError
from tracker.outputs.feed import FEED_DETAILS, FEED_LIMIT, build_feed, select_feed_articles
from tracker.outputs.selection import Selection, select_articles

ATOM = "{http://www.w3.org/2005/Atom}"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)
HYPOTHESES = (
    Hypothesis(id="fibromyalgia", label="All fibromyalgia research (baseline)", description="d", query="q",
               baseline=True),
    Hypothesis(id="serotonin", label="Serotonin", description="d", query="q"),
    Hypothesis(id="sleep", label="Disturbed sleep", description="d", query="q"),
    Hypothesis(id="substance_p", label="Substance P", description="d", query="q"),
)


def feed_of(catalogue, hypotheses, runs=None, **options) -> bytes:
    """The feed as `tracker feed` builds it: select the rows, decode what an entry reads, render them."""
    articles = select_feed_articles(catalogue, hypotheses, runs=runs, **options)
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

    from tracker.outputs import feed

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
    root = parse(output.read_bytes())
    entry_count = len(root.findall(f"{ATOM}entry"))
    assert (result.exit_code, result.stderr) == (
        0, f"wrote the feed of the last 7 days ({entry_count} entries) to {output}\n")
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
    assert (refused.exit_code, refused.stdout) == (2, "")
    assert refused.stderr.endswith("Error: Invalid value for '--days': 0 is not in the range 1<=x<=3650.\n")


# --- the cap, the run choices and the clock -----------------------------------------------------------------------

def entry_pmids(root: ET.Element) -> list[int]:
    return [int(entry.findtext(f"{ATOM}id").rstrip("/").rsplit("/", 1)[1]) for entry in root.findall(f"{ATOM}entry")]


def test_the_window_ends_at_the_now_it_is_given_not_at_the_clock() -> None:
    rows = standard_rows()
    # NOW pins the window: ten years on, the same call with that `now` finds nothing.
    assert len(entry_pmids(parse(feed_of(catalogue_frame(rows), HYPOTHESES, now=NOW, days=1)))) == 1
    assert entry_pmids(parse(feed_of(catalogue_frame(rows), HYPOTHESES, now=NOW + timedelta(days=3650), days=1))) == []
    with pytest.raises(TypeError):
        select_feed_articles(catalogue_frame(rows), HYPOTHESES, days=1)  # type: ignore[call-arg]


# 1004 and 1005 are new in run 2; 1001 changed in it; 1002 came with run 1.
RUNS = run_history([(1, "fetch", "succeeded"), (2, "fetch", "succeeded")],
                   [(1, 1002, "new"), (2, 1004, "new"), (2, 1005, "new"), (2, 1001, "changed")])


@pytest.mark.parametrize(
    ("options", "expected_pmids", "subtitle", "feed_id"),
    [
        ({"days": None, "new_in_run": "latest"}, [1004, 1005], "Articles new in the latest run",
         "tag:fibromyalgia-evidence-tracker,2026:feed:new-in-run-latest"),
        # With a window too, both apply: 1005 was first seen 24 days before NOW.
        ({"days": 10, "new_in_run": 2}, [1004], "Articles first seen in the last 10 days, new in run 2",
         "tag:fibromyalgia-evidence-tracker,2026:feed:new-in-run-2"),
        ({"days": None, "changed_in_run": 2}, [1001], "Articles changed in run 2",
         "tag:fibromyalgia-evidence-tracker,2026:feed:changed-in-run-2"),
        ({"days": None, "new_in_run": 1}, [1002], "Articles new in run 1",
         "tag:fibromyalgia-evidence-tracker,2026:feed:new-in-run-1"),
    ],
)
def test_a_run_choice_chooses_the_entries(options, expected_pmids, subtitle, feed_id) -> None:
    root = parse(feed_of(catalogue_frame(standard_rows()), HYPOTHESES, now=NOW, runs=RUNS, **options))
    assert (entry_pmids(root), root.findtext(f"{ATOM}subtitle"), root.findtext(f"{ATOM}id")) == (
        expected_pmids, subtitle, feed_id)


def test_a_feed_without_a_window_needs_a_run() -> None:
    with pytest.raises(ConfigError, match="a feed without a day window needs a run"):
        select_feed_articles(catalogue_frame(standard_rows()), HYPOTHESES, now=NOW, days=None)


def seed_two_runs(db_path: Path, first_count: int, second_count: int) -> tuple[int, list[int]]:
    """A seeded store plus a second fetch run, the same day, that stores `second_count` more articles."""
    hypotheses = load_hypotheses(DEFAULT_HYPOTHESES_PATH)
    seed_store(db_path, hypotheses, make_articles(first_count, seed=9))
    later = make_articles(second_count, seed=10)
    return add_fetch_run(db_path, hypotheses, later), [a.pmid for a in later]


def test_feed_command_holds_the_newest_500_entries_by_default(db_path: Path) -> None:
    seed_store(db_path, load_hypotheses(DEFAULT_HYPOTHESES_PATH), make_articles(FEED_LIMIT + 60, seed=3))
    result = CliRunner().invoke(cli, ["feed", "--db", str(db_path)])
    kept = select_articles(read_catalogue(db_path), Selection())
    root = parse(result.stdout_bytes)
    # All first seen in one second: newest first means PMID descending among them.
    assert entry_pmids(root) == sorted(kept["pmid"], reverse=True)[:FEED_LIMIT]
    assert result.stderr == (f"tracker: the feed holds the newest {FEED_LIMIT} of {len(kept)} articles; give "
                             f"--limit N for more, or narrow it with --days or --hypothesis\n")


def test_feed_command_caps_at_the_limit_and_says_so(db_path: Path) -> None:
    seed_store(db_path, load_hypotheses(DEFAULT_HYPOTHESES_PATH), make_articles(12, seed=2))
    result = CliRunner().invoke(cli, ["feed", "--db", str(db_path), "--limit", "5"])
    assert result.exit_code == 0
    assert len(parse(result.stdout_bytes).findall(f"{ATOM}entry")) == 5
    assert result.stderr == ("tracker: the feed holds the newest 5 of 12 articles; give --limit N for more, or "
                             "narrow it with --days or --hypothesis\n")
    uncapped = CliRunner().invoke(cli, ["feed", "--db", str(db_path), "--limit", "12"])
    assert (uncapped.exit_code, uncapped.stderr) == (0, "")
    refused = CliRunner().invoke(cli, ["feed", "--db", str(db_path), "--limit", "0"])
    assert refused.exit_code == 2 and "--limit" in refused.stderr


def test_feed_command_lists_what_a_run_stored_first(db_path: Path, tmp_path: Path) -> None:
    run_id, later = seed_two_runs(db_path, 20, 4)
    output = tmp_path / "run.atom"
    retracted = set(read_catalogue(db_path).query("retracted")["pmid"])
    expected = sorted(set(later) - retracted, reverse=True)
    for choice in ("latest", str(run_id)):
        result = CliRunner().invoke(cli, ["feed", "--db", str(db_path), "--new-in-run", choice, "--limit", "100",
                                          "-o", str(output)])
        root = parse(output.read_bytes())
        assert sorted(entry_pmids(root), reverse=True) == expected
        words = "the latest run" if choice == "latest" else f"run {run_id}"
        assert result.stderr == f"wrote the feed of articles new in {words} ({len(expected)} entries) to {output}\n"
        assert root.findtext(f"{ATOM}subtitle") == f"Articles new in {words}"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--new-in-run", "7"],
         "tracker: new-in-run 7: there is no run 7; choose latest or 1-2 (see `tracker status`)\n"),
        (["--changed-in-run", "x"],
         "tracker: changed-in-run 'x' is not a run; give latest or a run id that `tracker status` lists\n"),
    ],
)
def test_feed_command_refuses_an_unknown_run_as_bad_usage(db_path: Path, arguments, message) -> None:
    seed_two_runs(db_path, 5, 1)
    result = CliRunner().invoke(cli, ["feed", "--db", str(db_path), *arguments])
    assert (result.exit_code, result.stderr, result.stdout) == (2, message, "")


def test_feed_command_reads_its_window_end_from_the_clock_at_the_edge(db_path: Path, monkeypatch) -> None:
    seed_store(db_path, load_hypotheses(DEFAULT_HYPOTHESES_PATH), make_articles(5, seed=2))
    monkeypatch.setattr(cli_options, "current_time", lambda: datetime.now(timezone.utc) + timedelta(days=8))
    result = CliRunner().invoke(cli, ["feed", "--db", str(db_path), "--days", "7"])
    assert (result.exit_code, len(parse(result.stdout_bytes).findall(f"{ATOM}entry"))) == (0, 0)
    monkeypatch.setattr(cli_options, "current_time", lambda: datetime.now(timezone.utc) + timedelta(days=6))
    result = CliRunner().invoke(cli, ["feed", "--db", str(db_path), "--days", "7"])
    assert (result.exit_code, len(parse(result.stdout_bytes).findall(f"{ATOM}entry"))) == (0, 5)
