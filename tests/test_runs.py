"""Runs as the store records them: what each fetch or import stored for the first time and what it changed.

"New" means new in a run, not "first seen on the newest calendar day": two fetches on one day, or a day-2 fetch
after a first sync, must each show exactly what they brought.
"""

from __future__ import annotations

import dataclasses
import json
import random
import shutil
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import pytest
from support.fetch_helpers import BASELINE_QUERY, SEROTONIN_QUERY, SLEEP_QUERY, article_xml, make_settings, seed_corpus
from support.seed import make_articles, undo_run_counts
from support.standin import EutilsStandin, Fault
from support.synthetic import synthetic_corpus

from tracker import store
from tracker.config import load_settings
from tracker.errors import ConfigError
from tracker.models import RunHistory
from tracker.pubmed.client import ESEARCH_MAX_RECORDS, EutilsClient
from tracker.jobs.fetch import run_fetch
from tracker.jobs.importer import import_files
from tracker.outputs.selection import (Selection, folded_run_ids, new_by_successful_run, resolve_run, run_pmids,
                                       select_articles)

FIXTURES = Path(__file__).parent / "fixtures"
MEDLINE_FILE = FIXTURES / "medline_fibromyalgia.txt"
XML_FILE = FIXTURES / "import_fibromyalgia.xml"
BASELINE = range(1000, 1040)
SEROTONIN = set(range(1000, 1040, 3))
SLEEP = set(range(1001, 1040, 4))


def fetch(settings, esearch_cap: int = ESEARCH_MAX_RECORDS):
    client = EutilsClient(settings, sleep=lambda _delay_s: None, esearch_cap=esearch_cap)
    try:
        return run_fetch(settings, client=client)
    finally:
        client.close()


def today():
    # The fetch reads NCBI's "today" as UTC's date; the stand-in's modification dates must agree with it.
    return datetime.now(timezone.utc).date()


def run_rows(db_path: Path) -> list[tuple]:
    connection = sqlite3.connect(db_path)
    try:
        return [tuple(row) for row in connection.execute(
            "SELECT run_id, change, COUNT(*), MIN(pmid), MAX(pmid) FROM run_articles GROUP BY run_id, change "
            "ORDER BY run_id, change")]
    finally:
        connection.close()


def assert_run_counts_match(db_path: Path) -> None:
    """The counts the store keeps per run (what the run list reads) equal a count over every run row."""
    with store.reading(db_path) as connection:
        kept = connection.execute("SELECT run_id, change, articles FROM run_counts ORDER BY run_id, change").fetchall()
        runs = store.load_run_list(connection)
    counted = [row[:3] for row in run_rows(db_path)]
    assert [tuple(row) for row in kept] == counted
    listed = [(run_id, change, count)
              for run_id, new, changed in zip(runs["id"], runs["new_count"], runs["changed_count"])
              for change, count in (("changed", changed), ("new", new)) if count]
    assert listed == counted


def history(db_path: Path) -> RunHistory:
    with store.reading(db_path) as connection:
        return store.load_run_history(connection)


@pytest.fixture
def server():
    with EutilsStandin(rate_limit=False) as standin:
        seed_corpus(standin, BASELINE, SEROTONIN, SLEEP)
        yield standin


def add_new_records(server: EutilsStandin, pmids: range) -> None:
    for pmid in pmids:
        server.add_record(pmid, article_xml(pmid, year=2026), edat=today(), pdat=today(), mdat=today(),
                          crdt=today())
    server.set_query(BASELINE_QUERY, [*BASELINE, *pmids])


def test_each_fetch_records_what_it_stored_first_and_what_it_changed(tmp_path: Path, server: EutilsStandin) -> None:
    settings = make_settings(tmp_path, server.base_url)
    first = fetch(settings)
    add_new_records(server, range(2000, 2003))
    retracted_pmid = min(SEROTONIN)
    server.update_record(retracted_pmid, article_xml(retracted_pmid, year=1990 + retracted_pmid % 35,
                                                     retracted_in=3000), mdat=today())
    second = fetch(settings)
    third = fetch(settings)  # nothing new, nothing changed

    assert (first.status, second.status, third.status) == ("succeeded",) * 3
    assert_run_counts_match(settings.db_path)
    assert run_rows(settings.db_path) == [
        (first.run_id, "new", 40, 1000, 1039),
        (second.run_id, "changed", 1, retracted_pmid, retracted_pmid),
        (second.run_id, "new", 3, 2000, 2002),
    ]
    runs = history(settings.db_path).runs
    assert runs[["id", "kind", "status", "new_count", "changed_count"]].values.tolist() == [
        [first.run_id, "fetch", "succeeded", 40, 0], [second.run_id, "fetch", "succeeded", 3, 1],
        [third.run_id, "fetch", "succeeded", 0, 0]]
    assert runs["files"].tolist() == [[], [], []]


def test_a_failed_fetchs_new_articles_count_in_the_next_successful_fetch(tmp_path: Path,
                                                                         server: EutilsStandin) -> None:
    settings = make_settings(tmp_path, server.base_url, max_retries=1)
    first = fetch(settings)
    add_new_records(server, range(2000, 2025))  # three batches of 10
    efetch_calls = []

    def fail_after_the_first_batch(request):
        if request.endpoint == "efetch":
            efetch_calls.append(request)
            return Fault.server_error(503) if len(efetch_calls) > 1 else None
        return None

    server.on_request = fail_after_the_first_batch
    failed = fetch(settings)
    server.on_request = None
    completed = fetch(settings)

    assert (failed.status, completed.status) == ("failed", "succeeded")
    assert_run_counts_match(settings.db_path)
    assert run_rows(settings.db_path) == [(first.run_id, "new", 40, 1000, 1039),
                                          (failed.run_id, "new", 10, 2000, 2009),
                                          (completed.run_id, "new", 15, 2010, 2024)]
    runs = history(settings.db_path)
    # The sync that completed brought all 25; the failed run is not a choice.
    assert sorted(run_pmids(runs, resolve_run(runs, "latest"), "new")) == list(range(2000, 2025))
    with pytest.raises(ConfigError, match=f"new-in-run {failed.run_id}: run {failed.run_id} failed; choose latest "
                                          f"or {first.run_id}, {completed.run_id}"):
        resolve_run(runs, failed.run_id)


def test_an_import_is_a_run_naming_its_files_and_a_repeated_import_adds_none(db_path: Path) -> None:
    hypotheses = load_settings().hypotheses
    connection = store.connect(db_path)
    try:
        report = import_files(connection, [MEDLINE_FILE, XML_FILE], hypotheses)
        again = import_files(connection, [MEDLINE_FILE], hypotheses)
        run = dict(connection.execute("SELECT * FROM fetch_runs").fetchone())
    finally:
        connection.close()
    assert (report.run_id, again.run_id) == (1, None)
    assert (run["id"], run["kind"], run["status"], json.loads(run["files"])) == (
        1, "import", "succeeded", ["medline_fibromyalgia.txt", "import_fibromyalgia.xml"])
    assert run["started_at"] <= run["finished_at"]
    assert run_rows(db_path) == [(1, "new", 6, 39000101, 39000202)]
    assert_run_counts_match(db_path)


def test_a_failed_import_leaves_no_run(db_path: Path) -> None:
    connection = store.connect(db_path)
    try:
        with pytest.raises(Exception):
            import_files(connection, [MEDLINE_FILE, FIXTURES / "medline_malformed.txt"], load_settings().hypotheses)
        assert connection.execute("SELECT COUNT(*) FROM fetch_runs").fetchone()[0] == 0
    finally:
        connection.close()


def _two_runs_with_a_failed_batch(db_path: Path) -> list:
    """Run 1 stores 20 articles, then a batch of 10 more that rolls back; run 2 changes one and stores 5 new."""
    articles = make_articles(30, seed=7)
    connection = store.connect(db_path)
    try:
        first = store.start_run(connection, full_sync=True)
        with store.transaction(connection):
            store.record_run_articles(connection, first, store.save_articles(connection, articles[:20], "pubmed"))
        with pytest.raises(RuntimeError):
            with store.transaction(connection):
                store.record_run_articles(connection, first, store.save_articles(connection, articles[20:], "pubmed"))
                raise RuntimeError("the batch fails after its rows are written")
        store.finish_run(connection, first, "failed", "the batch failed")
        second = store.start_run(connection, full_sync=False)
        corrected = dataclasses.replace(articles[0], title="A corrected title")
        with store.transaction(connection):
            store.record_run_articles(connection, second,
                                      store.save_articles(connection, [corrected, *articles[20:25]], "pubmed"))
        store.finish_run(connection, second, "succeeded", None)
    finally:
        connection.close()
    return articles


def test_the_counts_kept_per_run_follow_a_batch_that_rolls_back_and_deletions(db_path: Path) -> None:
    articles = _two_runs_with_a_failed_batch(db_path)
    assert_run_counts_match(db_path)
    assert [row[:3] for row in run_rows(db_path)] == [(1, "new", 20), (2, "changed", 1), (2, "new", 5)]
    connection = store.connect(db_path)
    try:
        with store.transaction(connection):
            # The changed article and one of run 1's: each takes its run rows, and its counts, with it.
            store.delete_articles(connection, [articles[0].pmid, articles[1].pmid])
    finally:
        connection.close()
    assert_run_counts_match(db_path)
    assert [row[:3] for row in run_rows(db_path)] == [(1, "new", 18), (2, "new", 5)]


def test_a_migration_counts_the_runs_of_an_older_store_and_drops_the_unread_index(db_path: Path) -> None:
    _two_runs_with_a_failed_batch(db_path)
    expected = run_rows(db_path)
    older = db_path.with_name("older.sqlite")
    shutil.copyfile(db_path, older)
    # The store as schema 11 kept it: no counts per run, the facets' index on their rules version.
    connection = sqlite3.connect(older, isolation_level=None)
    undo_run_counts(connection)
    connection.execute("PRAGMA user_version = 11")
    connection.close()
    store.connect(older).close()
    assert run_rows(older) == expected
    assert_run_counts_match(older)
    with store.reading(older) as connection:
        indexes = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert connection.execute("PRAGMA user_version").fetchone()[0] == store.SCHEMA_VERSION
    assert "article_facets_rules_version" not in indexes


# --- a store from before runs recorded their articles ---------------------------------------------------------

def _old_store(db_path: Path) -> None:
    """A store at the schema before run_articles: two fetch runs, an import between them, a killed third run."""
    from tracker.store.connection import MIGRATIONS

    connection = sqlite3.connect(db_path)
    version = next(number for number, script in enumerate(MIGRATIONS) if "run_articles" in script)
    for script in MIGRATIONS[:version]:
        connection.executescript(script)
    connection.execute(f"PRAGMA user_version = {version}")
    connection.executemany(
        "INSERT INTO fetch_runs (id, started_at, finished_at, status) VALUES (?, ?, ?, ?)",
        [(1, "2026-11-20T02:30:00+00:00", "2026-11-20T02:41:00+00:00", "succeeded"),
         (2, "2026-11-21T02:30:00+00:00", "2026-11-21T02:31:00+00:00", "succeeded"),
         (3, "2026-11-22T02:30:00+00:00", None, "running")])
    articles = [  # pmid, first_seen, last_changed, source
        (1, "2026-11-20T02:35:00+00:00", "2026-11-20T02:35:00+00:00", "pubmed"),
        (2, "2026-11-20T02:40:00+00:00", "2026-11-21T02:30:30+00:00", "pubmed"),  # retracted on day 2
        (3, "2026-11-20T12:00:00+00:00", "2026-11-20T12:00:00+00:00", "import:mine.nbib"),
        (4, "2026-11-21T02:31:00+00:00", "2026-11-21T02:31:00+00:00", "pubmed"),
        (5, "2026-11-22T02:32:00+00:00", "2026-11-22T02:32:00+00:00", "pubmed"),
    ]
    for pmid, first_seen, last_changed, source in articles:
        connection.execute("INSERT INTO articles (pmid, kind, title, content_hash, first_seen, last_changed) "
                           "VALUES (?, 'journal', 't', 'h', ?, ?)", (pmid, first_seen, last_changed))
        connection.execute("INSERT INTO article_sources VALUES (?, ?, ?)", (pmid, source, first_seen))
    connection.commit()
    connection.close()


def test_an_older_store_attributes_its_articles_to_the_fetch_run_whose_window_holds_them(db_path: Path) -> None:
    _old_store(db_path)
    store.connect(db_path).close()
    connection = sqlite3.connect(db_path)
    try:
        rows = connection.execute("SELECT run_id, pmid, change FROM run_articles ORDER BY run_id, pmid").fetchall()
        kinds = connection.execute("SELECT id, kind, files FROM fetch_runs ORDER BY id").fetchall()
    finally:
        connection.close()
    # The imported article had no run and gets none; the run still open holds what came after its start.
    assert rows == [(1, 1, "new"), (1, 2, "new"), (2, 2, "changed"), (2, 4, "new"), (3, 5, "new")]
    assert kinds == [(1, "fetch", None), (2, "fetch", None), (3, "fetch", None)]


# --- a day-2 fetch: 138 new after a first sync past esearch's cap ------------------------------------------------

# Past the cap both days, so that both syncs page through date windows: a cap of 100 does it with a few hundred
# records where PubMed's 9,999 took 11,530 (test_fetch.py keeps one sync past the real cap).
ESEARCH_CAP = 100
FIRST_DAY_COUNT = 150
SECOND_DAY_COUNT = 138


@pytest.fixture(scope="module")
def two_day_store(tmp_path_factory: pytest.TempPathFactory):
    """A first sync of 150 records, then a fetch that brings 138 new ones and one new retraction link."""
    tmp_path = tmp_path_factory.mktemp("two_days")
    first_day = synthetic_corpus(FIRST_DAY_COUNT, seed=11, first_pmid=30_000_000)
    second_day = synthetic_corpus(SECOND_DAY_COUNT, seed=12, first_pmid=31_000_000)
    with EutilsStandin(rate_limit=False, esearch_cap=ESEARCH_CAP) as server:
        server.add_corpus(first_day)
        server.set_query(BASELINE_QUERY, first_day)
        server.set_query(SEROTONIN_QUERY, list(first_day)[:50])
        server.set_query(SLEEP_QUERY, [])
        settings = make_settings(tmp_path, server.base_url, batch_size=500)
        first = fetch(settings, ESEARCH_CAP)
        # Not a retracted one already: its retraction link must be what changed.
        retracted_pmid = next(pmid for pmid, xml in first_day.items() if b"RetractionIn" not in xml)
        server.add_corpus(second_day)
        server.set_query(BASELINE_QUERY, [*first_day, *second_day])
        server.update_record(retracted_pmid, article_xml(retracted_pmid, year=2012, retracted_in=39_999_999),
                             mdat=today())
        second = fetch(settings, ESEARCH_CAP)
        paged = [r for r in server.requests_to("esearch") if r.params.get("datetype") == "edat"]
    assert paged, "neither sync went past the esearch cap"
    assert (first.status, second.status) == ("succeeded", "succeeded"), (first.error, second.error)
    with store.reading(settings.db_path) as connection:
        catalogue, runs = store.load_catalogue(connection), store.load_run_history(connection)
    return {"settings": settings, "catalogue": catalogue, "runs": runs, "first": first.run_id,
            "second": second.run_id, "second_day": set(second_day), "retracted": retracted_pmid}


def test_a_day_2_fetch_shows_exactly_its_138_articles_as_new_in_the_latest_run(two_day_store) -> None:
    catalogue, runs = two_day_store["catalogue"], two_day_store["runs"]
    assert len(catalogue) == FIRST_DAY_COUNT + SECOND_DAY_COUNT
    new = select_articles(catalogue, Selection(new_in_run="latest", include_retracted=True), runs=runs)
    assert set(new["pmid"]) == two_day_store["second_day"]
    by_id = select_articles(catalogue, Selection(new_in_run=two_day_store["second"], include_retracted=True),
                            runs=runs)
    assert by_id["pmid"].tolist() == new["pmid"].tolist()
    first = select_articles(catalogue, Selection(new_in_run=two_day_store["first"], include_retracted=True),
                            runs=runs)
    assert len(first) == FIRST_DAY_COUNT
    # Retracted articles stay out unless asked for, as everywhere.
    kept = select_articles(catalogue, Selection(new_in_run="latest"), runs=runs)
    retracted = set(catalogue.loc[catalogue["retracted"], "pmid"])
    assert set(kept["pmid"]) == two_day_store["second_day"] - retracted


def test_changed_in_the_latest_run_is_the_record_whose_retraction_link_appeared(two_day_store) -> None:
    catalogue, runs = two_day_store["catalogue"], two_day_store["runs"]
    changed = select_articles(catalogue, Selection(changed_in_run="latest", include_retracted=True), runs=runs)
    assert changed["pmid"].tolist() == [two_day_store["retracted"]]
    assert bool(changed["retracted"].iloc[0])
    assert select_articles(catalogue, Selection(changed_in_run=two_day_store["first"], include_retracted=True),
                           runs=runs).empty


# --- tracker status lists the runs the options name ------------------------------------------------------------

def test_status_lists_each_run_with_its_id_kind_counts_and_a_failed_runs_error(db_path: Path) -> None:
    from click.testing import CliRunner
    from support.seed import add_fetch_run, seed_store

    from tracker.cli import cli

    hypotheses = load_settings().hypotheses
    seed_store(db_path, hypotheses, make_articles(8, seed=1))
    connection = store.connect(db_path)
    try:
        import_files(connection, [MEDLINE_FILE], hypotheses)
    finally:
        connection.close()
    add_fetch_run(db_path, hypotheses, make_articles(2, seed=2), status="failed")

    result = CliRunner().invoke(cli, ["status", "--db", str(db_path)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    header = next(number for number, line in enumerate(lines) if line.startswith("run "))
    table = [line.split() for line in lines[header:header + 4]]
    assert [row[:3] + row[-3:] for row in table] == [
        ["run", "kind", "status", "new", "changed", "files"],
        ["3", "fetch", "failed", "2", "0", "-"],
        ["2", "import", "succeeded", "4", "0", "medline_fibromyalgia.txt"],
        ["1", "fetch", "succeeded", "8", "0", "-"],
    ]
    assert lines[header + 4:header + 6] == [
        "run 3 failed: no network", "last run 3: failed (started {0}, finished {1})".format(*table[1][3:5])]
    # An import after a failed fetch leaves that fetch as the last run shown.
    connection = store.connect(db_path)
    try:
        import_files(connection, [XML_FILE], hypotheses)
    finally:
        connection.close()
    after_import = CliRunner().invoke(cli, ["status", "--db", str(db_path)]).stdout.splitlines()
    assert after_import[header + 1].split()[:2] == ["4", "import"]
    assert after_import[header + 5] == "run 3 failed: no network"
    assert after_import[header + 6].startswith("last run 3: failed")
    document = json.loads(CliRunner().invoke(cli, ["status", "--json", "--db", str(db_path)]).stdout)
    assert [(r["run"], r["kind"], r["status"], r["new"], r["files"], r["error"]) for r in document["runs"]] == [
        (4, "import", "succeeded", 2, ["import_fibromyalgia.xml"], None), (3, "fetch", "failed", 2, [], "no network"),
        (2, "import", "succeeded", 4, ["medline_fibromyalgia.txt"], None), (1, "fetch", "succeeded", 8, [], None)]
    assert (document["last_run"]["id"], document["last_run"]["kind"]) == (3, "fetch")


@pytest.mark.parametrize("seed", range(20))
def test_each_successful_run_counts_its_own_new_articles_and_those_of_the_failed_fetches_before_it(seed: int) -> None:
    rng = random.Random(seed)
    count = rng.randint(0, 40)
    history = [{"id": run_id, "kind": rng.choice(["fetch", "fetch", "import"]),
                "status": rng.choice(["succeeded", "succeeded", "failed", "interrupted", "running"]),
                "new_count": rng.choice([0, 0, 0, 3, 12])} for run_id in range(1, count + 1)]
    # By hand: a successful fetch adds the fetches before it back to the previous successful fetch (imports
    # between them neither fold nor stop the walk); an import counts only its own.
    expected_counts, expected_folds = {}, {}
    for position, run in enumerate(history):
        if run["status"] != "succeeded":
            continue
        folds = []
        if run["kind"] == "fetch":
            for earlier in reversed(history[:position]):
                if earlier["kind"] != "fetch":
                    continue
                if earlier["status"] == "succeeded":
                    break
                folds.append(earlier["id"])
        expected_folds[run["id"]] = [run["id"], *folds]
        expected_counts[run["id"]] = run["new_count"] + sum(history[other - 1]["new_count"] for other in folds)
    # In any row order: the store's frames are in id order, but nothing may rest on it.
    runs = pd.DataFrame(history, columns=["id", "kind", "status", "new_count"]).sample(frac=1, random_state=seed)
    assert new_by_successful_run(runs) == expected_counts
    assert list(new_by_successful_run(runs)) == sorted(expected_counts)
    assert {run_id: folded_run_ids(runs, run_id) for run_id in expected_folds} == expected_folds
