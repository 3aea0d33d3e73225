"""The store's summaries equal a count from the catalogue after every kind of write: fetch, import, retag, stance
rows, unlinks and deletions, a migration of an older store, and a batch that fails and rolls back."""

from __future__ import annotations

import dataclasses
import shutil
import sqlite3
from pathlib import Path

import pandas as pd
import pytest
from support.fetch_helpers import make_settings, seed_corpus
from support.seed import make_articles, retracted_copy, seed_stances, seed_store, undo_run_counts
from support.standin import EutilsStandin

from tracker import store
from tracker.analysis import emerging, evidence
from tracker.analysis.reviews import Review, ReviewUndo
from tracker.config import DEFAULT_HYPOTHESES_PATH, Hypothesis, load_hypotheses
from tracker.jobs import retag
from tracker.jobs.fetch import run_fetch
from tracker.jobs.importer import import_files
from tracker.outputs.selection import Selection, article_filter, select_articles
from tracker.pubmed.client import EutilsClient
from tracker.store import selecting
from tracker.store.connection import MIGRATIONS, _split_statements
from tracker.vocabulary import MESH_CHECK_TAGS

SHIPPED = load_hypotheses(DEFAULT_HYPOTHESES_PATH)
FIXTURES = Path(__file__).parent / "fixtures"


def assert_summaries_match(db_path: Path, hypotheses: tuple[Hypothesis, ...]) -> None:
    """Every table the Overview and Cause pages draw, from the summaries and from the catalogue, is the same."""
    with store.reading(db_path) as connection:
        summaries = store.load_summaries(connection)
        kept_by_year = {flag: store.load_summaries(connection, names=("by_year",), include_retracted=flag)["by_year"]
                        for flag in (False, True)}
        catalogue = store.load_catalogue(connection)
        stances = store.load_stance_frame(connection, columns=("stance", "confidence"))
        sizes = store.load_stance_frame(connection, columns=("n_patients",))
        details = store.load_stance_frame(connection, columns=("stance", "confidence", "evidence_kind", "hedged",
                                                               "n_patients", "reviewed"))
        findings = {flag: store.load_finding_counts(connection, include_retracted=flag) for flag in (False, True)}
        status = store.load_status_frame(connection)
        stored, retracted = store.count_articles(connection), store.count_retracted(connection)
        links = dict(connection.execute("SELECT hypothesis_id, count(*) FROM hypothesis_articles GROUP BY 1"))
        ids = [h.id for h in hypotheses]
        counted = {selection: selecting.count_from_summaries(connection, article_filter(selection, hypothesis_ids=ids))
                   for selection in COUNTED_SELECTIONS if set(selection.hypotheses) <= set(ids)}
    causes = [h.id for h in hypotheses if not h.baseline]
    assert (stored, retracted) == (len(catalogue), int(catalogue["retracted"].sum()))
    # The coverage table's stored count: every link of the hypothesis.
    assert {hypothesis_id: count for hypothesis_id, count in zip(status["hypothesis_id"], status["stored_count"])
            if count or hypothesis_id in links} == links
    # Citations' count from the summaries: the articles the same filter keeps from the catalogue.
    for selection, count in counted.items():
        assert count == len(select_articles(catalogue, selection, hypothesis_ids=ids, stances=details)), selection
    for include_retracted in (False, True):
        for by_stance in (False, True):
            pd.testing.assert_frame_equal(
                evidence.evidence_table_from_summary(summaries["by_year"], hypotheses,
                                                     include_retracted=include_retracted, by_stance=by_stance),
                evidence.evidence_table(catalogue, hypotheses, include_retracted=include_retracted,
                                        stances=stances if by_stance else None))
        # What the Overview reads: the summary by year without the retracted articles' rows unless included.
        overview_rows = kept_by_year[include_retracted]
        assert include_retracted or not overview_rows["retracted"].any()
        for by_reading in (False, True):
            pd.testing.assert_frame_equal(
                evidence.evidence_table_from_summary(overview_rows, hypotheses, include_retracted=include_retracted,
                                                     by_reading=by_reading),
                evidence.evidence_table_from_summary(summaries["by_year"], hypotheses,
                                                     include_retracted=include_retracted, by_reading=by_reading))
        pd.testing.assert_series_equal(
            evidence.baseline_from_summary(overview_rows, hypotheses, include_retracted),
            evidence.baseline_from_summary(summaries["by_year"], hypotheses, include_retracted))
        keys = ["hypothesis_id", "year_label", "design", "stance"]
        pd.testing.assert_frame_equal(
            evidence.evidence_table_from_summary(summaries["by_year"], hypotheses, include_retracted=include_retracted,
                                                 by_reading=True).sort_values(keys, ignore_index=True),
            evidence.reading_evidence_table(catalogue, hypotheses, include_retracted=include_retracted,
                                            stances=stances).sort_values(keys, ignore_index=True))
        pd.testing.assert_frame_equal(
            evidence.cause_summary_from_summary(summaries["by_source"], hypotheses, include_retracted),
            evidence.cause_summary(catalogue, hypotheses, include_retracted))
        pd.testing.assert_series_equal(evidence.baseline_from_summary(summaries["by_year"], hypotheses,
                                                                      include_retracted),
                                       evidence.baseline_per_year(catalogue, hypotheses, include_retracted))
        # The verdict's frame: the store's summary against the count over the catalogue and every stance row.
        pd.testing.assert_frame_equal(findings[include_retracted],
                                      evidence.finding_counts(catalogue, details, include_retracted=include_retracted))
        by_species = evidence.evidence_table(catalogue, hypotheses, include_retracted=include_retracted,
                                             by_species=True)
        verdict = evidence.verdict_table(findings[include_retracted], hypotheses, now_year=2026).set_index(
            "hypothesis_id")
        wholes = {by_reading: evidence.evidence_table_from_summary(
                      summaries["by_year"], hypotheses, include_retracted=include_retracted, by_reading=by_reading)
                  for by_reading in (False, True)}
        for cause in causes:
            drawn = [h for h in hypotheses if h.id == cause or h.baseline]
            # What the Cause page reads: the cause's and the baseline's rows, the years every cause spans.
            with store.reading(db_path) as connection:
                top = store.top_mesh(connection, cause, include_retracted, list(MESH_CHECK_TAGS), 1_000)
                own = store.load_summaries(connection, [h.id for h in drawn])
                span = store.summary_year_span(connection, [h.id for h in hypotheses], include_retracted)
                own_findings = store.load_finding_counts(connection, include_retracted=include_retracted,
                                                         hypothesis_ids=[cause])
            articles = evidence.cause_articles(catalogue, cause, include_retracted)
            pd.testing.assert_frame_equal(top, evidence.top_mesh(
                store.decode_details(articles, ["mesh_terms"])["mesh_terms"], MESH_CHECK_TAGS, 1_000), check_dtype=False)
            pd.testing.assert_frame_equal(
                evidence.stance_counts_from_summary(own["by_kind"], own["by_year"], cause, include_retracted),
                evidence.stance_counts(catalogue, stances, sizes, cause, include_retracted), check_dtype=False)
            expected = evidence.breakdowns(by_species, cause)
            for name, counts in evidence.breakdowns_from_summary(own["by_kind"], cause, include_retracted).items():
                pd.testing.assert_series_equal(counts, expected[name])
            for by_reading, whole in wholes.items():
                pd.testing.assert_frame_equal(
                    evidence.evidence_table_from_summary(own["by_year"], drawn, include_retracted=include_retracted,
                                                         by_reading=by_reading, year_span=span),
                    whole[whole["hypothesis_id"] == cause].reset_index(drop=True))
            pd.testing.assert_series_equal(
                evidence.baseline_from_summary(own["by_year"], hypotheses, include_retracted),
                evidence.baseline_per_year(catalogue, hypotheses, include_retracted))
            pd.testing.assert_series_equal(
                evidence.cause_summary_from_summary(own["by_source"], drawn, include_retracted).loc[cause],
                evidence.cause_summary(catalogue, hypotheses, include_retracted).loc[cause])
            cause_verdict = evidence.verdict_table(own_findings, drawn, now_year=2026).set_index("hypothesis_id")
            pd.testing.assert_series_equal(cause_verdict.loc[cause], verdict.loc[cause])


# Filters Citations counts from a summary, on one cause at most: each column a summary is keyed by, alone and
# together, a stance test on the cause's pairs, the baseline as the cause.
COUNTED_SELECTIONS = [
    Selection(),
    Selection(include_retracted=True),
    Selection(only_retracted=True),
    Selection(designs=("rct", "other"), species="human"),
    Selection(from_year=2000, to_year=2015, species="animal", include_retracted=True),
    Selection(to_year=2010, designs=("observational",)),
    Selection(hypotheses=("serotonin",)),
    Selection(hypotheses=("sleep",), from_year=2005, designs=("observational", "rct")),
    Selection(hypotheses=("sleep",), species="human", only_retracted=True),
    Selection(hypotheses=("serotonin",), stances=("supports", "mixed")),
    Selection(hypotheses=("serotonin",), stances=("contradicts",), confidence="high", from_year=2000),
    Selection(hypotheses=("sleep",), evidence_kinds=("comparison",), hedged=False, species="human"),
    Selection(hypotheses=("substance_p",), hedged=True, include_retracted=True),
    Selection(hypotheses=("fibromyalgia",), to_year=2010),
]


def summary_rows(db_path: Path) -> dict[str, list[tuple]]:
    with store.reading(db_path) as connection:
        return {table: sorted(connection.execute(f"SELECT * FROM {table}").fetchall(), key=tuple)
                for table in ("evidence_pairs", "summary_by_year", "summary_by_kind", "summary_by_source",
                              "summary_findings", "summary_verdict", "summary_mesh", "article_mesh", "summary_articles",
                              "article_keys")}


@pytest.fixture
def seeded(db_path: Path) -> Path:
    seed_store(db_path, SHIPPED, make_articles(300, seed=3))
    return db_path


def test_after_seeding_stances_retag_and_a_second_run(seeded: Path) -> None:
    assert_summaries_match(seeded, SHIPPED)
    catalogue = store.load_catalogue(store.connect(seeded, read_only=True))
    seed_stances(seeded, catalogue)
    assert_summaries_match(seeded, SHIPPED)
    # A later run retracts some stored articles and adds new ones: facets, years and links change.
    from support.seed import add_fetch_run
    stored = make_articles(300, seed=3)
    moved = [dataclasses.replace(article, pub_year=1999) for article in stored[10:20]]
    add_fetch_run(seeded, SHIPPED, make_articles(40, seed=4),
                  changed=[retracted_copy(article) for article in stored[:10]] + moved)
    assert_summaries_match(seeded, SHIPPED)
    connection = store.connect(seeded)
    try:
        retag.refresh_tags(connection, SHIPPED, all_articles=True)
    finally:
        connection.close()
    assert_summaries_match(seeded, SHIPPED)


def test_after_unlinks_and_deletions(seeded: Path) -> None:
    connection = store.connect(seeded)
    try:
        pmids = sorted(store.linked_pmids(connection, "serotonin"))
        with store.transaction(connection):
            store.unlink_hypothesis(connection, "serotonin", pmids[:5])
            store.unlink_hypothesis(connection, "fibromyalgia", pmids[5:8])
            store.delete_articles(connection, pmids[8:12])
    finally:
        connection.close()
    assert_summaries_match(seeded, SHIPPED)


def test_a_failed_batch_leaves_the_summaries_as_they_were(seeded: Path) -> None:
    before = summary_rows(seeded)
    connection = store.connect(seeded)
    try:
        with pytest.raises(RuntimeError), store.transaction(connection):
            store.save_articles(connection, [retracted_copy(article) for article in make_articles(50, seed=3)],
                                "pubmed")
            retag.refresh_tags(connection, SHIPPED, all_articles=True)
            store.delete_articles(connection, [make_articles(1, seed=3)[0].pmid])
            raise RuntimeError("the batch fails after its writes")
        # The next batch on the same connection counts only its own writes.
        with store.transaction(connection):
            store.link_hypothesis(connection, "sleep", [article.pmid for article in make_articles(5, seed=3)],
                                  store.utc_now())
    finally:
        connection.close()
    assert summary_rows(seeded)["summary_by_year"] != before["summary_by_year"]
    assert_summaries_match(seeded, SHIPPED)


def test_a_failed_fold_rolls_back_the_batch(seeded: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = summary_rows(seeded)
    connection = store.connect(seeded)

    def failing_flush(_connection: sqlite3.Connection) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(store.summaries, "flush", failing_flush)
    try:
        with pytest.raises(sqlite3.OperationalError), store.transaction(connection):
            store.unlink_hypothesis(connection, "fibromyalgia", sorted(store.linked_pmids(connection, "fibromyalgia")))
    finally:
        connection.close()
    assert summary_rows(seeded) == before
    with store.reading(seeded) as reader:
        assert reader.execute("SELECT count(*) FROM hypothesis_articles WHERE hypothesis_id = 'fibromyalgia'"
                              ).fetchone()[0] == 300


def test_after_an_import(db_path: Path) -> None:
    connection = store.connect(db_path)
    try:
        import_files(connection, [FIXTURES / "medline_fibromyalgia.txt", FIXTURES / "import_fibromyalgia.xml"],
                     SHIPPED)
    finally:
        connection.close()
    assert_summaries_match(db_path, SHIPPED)
    with store.reading(db_path) as connection:
        assert connection.execute("SELECT count(*) FROM evidence_pairs").fetchone()[0] > 0


def test_after_fetches(tmp_path: Path) -> None:
    with EutilsStandin(rate_limit=False) as server:
        seed_corpus(server, range(1000, 1040), set(range(1000, 1040, 3)), set(range(1001, 1040, 4)))
        settings = make_settings(tmp_path, server.base_url)
        for serotonin in (set(range(1000, 1040, 3)), set(range(1000, 1020, 3))):
            server.set_query("fibromyalgia[tiab] AND serotonin[tiab]", serotonin)
            client = EutilsClient(settings, sleep=lambda _delay_s: None)
            try:
                assert run_fetch(settings, client=client).status == "succeeded"
            finally:
                client.close()
            assert_summaries_match(settings.db_path, settings.hypotheses)


def test_a_migration_fills_the_summaries_of_an_older_store(seeded: Path, tmp_path: Path) -> None:
    expected = summary_rows(seeded)
    older = tmp_path / "older.sqlite"
    connection = sqlite3.connect(older, isolation_level=None)
    version = MIGRATIONS.index(store.summaries.MIGRATION)
    for number in range(version):
        for statement in _split_statements(MIGRATIONS[number]):
            connection.execute(statement)
    connection.execute(f"PRAGMA user_version = {version}")
    connection.execute("ATTACH ? AS seeded", (str(seeded),))
    for table in ("articles", "article_sources", "hypothesis_articles", "tags", "article_facets", "stances",
                  "fetch_runs", "run_articles"):
        connection.execute(f"INSERT INTO {table} SELECT * FROM seeded.{table}")
    connection.execute("DETACH seeded")
    connection.close()
    store.connect(older).close()
    assert summary_rows(older) == expected
    assert_summaries_match(older, SHIPPED)


def test_emerging_ranks_the_same_from_the_stores_reduced_read(seeded: Path) -> None:
    connection = store.connect(seeded)
    try:
        # Some retracted and some of unknown year: the reduced read must leave out what the analysis leaves out.
        with store.transaction(connection):
            store.save_articles(connection, [retracted_copy(article) for article in make_articles(30, seed=3)],
                                "pubmed")
        retag.refresh_tags(connection, SHIPPED)
    finally:
        connection.close()
    with store.reading(seeded) as connection:
        catalogue = store.load_catalogue(connection)
        (reduced,) = store.iter_emerging_batches(connection, "fibromyalgia", batch_size=1_000_000)  # one batch
    assert catalogue["retracted"].any() and catalogue["pub_year"].isna().any()
    options = {"as_of": 2025, "current_year": 2026, "method": emerging.Method(min_articles=3)}
    expected = emerging.find_emerging(catalogue, SHIPPED, **options)
    got = emerging.find_emerging(reduced, SHIPPED, **options)
    assert len(expected.ranked) > 0
    pd.testing.assert_frame_equal(got.ranked, expected.ranked)
    pd.testing.assert_frame_equal(got.yearly, expected.yearly)


def test_after_reviews_and_their_undoing(seeded: Path) -> None:
    with store.reading(seeded) as connection:
        catalogue = store.load_catalogue(connection)
    seed_stances(seeded, catalogue)
    with store.reading(seeded) as connection:
        pairs = store.load_stance_frame(connection, columns=("stance", "confidence")).head(6)
    cause_ids = [h.id for h in SHIPPED if not h.baseline]
    for number, (pmid, hypothesis_id, stance) in enumerate(zip(pairs["pmid"], pairs["hypothesis_id"],
                                                                 pairs["stance"])):
        changed = "contradicts" if stance != "contradicts" else "supports"
        # Two people on the first pair, the later one counting; one person twice on the second.
        for reviewer, second in (("ana", 0), ("ben", 1)) if number == 0 else (("ana", 0), ("ana", 1)) \
                if number == 1 else (("ana", 0),):
            store.write_review(seeded, Review(pmid=int(pmid), hypothesis=hypothesis_id, stance=changed,
                                              reviewer=reviewer, reviewed_at=f"2026-01-0{1 + second}T00:00:00+00:00"),
                               cause_ids)
    assert_summaries_match(seeded, SHIPPED)
    with store.reading(seeded) as connection:
        assert connection.execute("SELECT count(*) FROM evidence_pairs WHERE reviewed").fetchone()[0] == 6
    store.write_review(seeded, ReviewUndo(int(pairs["pmid"][1]), pairs["hypothesis_id"][1], "ana"), cause_ids)
    store.write_review(seeded, ReviewUndo(int(pairs["pmid"][2]), pairs["hypothesis_id"][2], "ana"), cause_ids)
    assert_summaries_match(seeded, SHIPPED)


def test_a_migration_fills_the_article_summary_of_a_store_that_keeps_the_others(seeded: Path, tmp_path: Path) -> None:
    expected = summary_rows(seeded)
    older = tmp_path / "older.sqlite"
    shutil.copyfile(seeded, older)
    # The store as the version before kept it: without the article summary, its keys and the stance index, with the
    # index on the articles' order.
    connection = sqlite3.connect(older, isolation_level=None)
    connection.execute("DROP TABLE article_keys")
    connection.execute("DROP TABLE summary_articles")
    connection.execute("DROP INDEX evidence_pairs_stance")
    connection.execute("DROP TABLE summary_verdict")  # later migrations'
    undo_run_counts(connection)
    connection.execute("CREATE INDEX articles_export_order ON articles (pub_year IS NULL, pub_year DESC, pmid DESC)")
    connection.execute(f"PRAGMA user_version = {MIGRATIONS.index(store.summaries.CITATIONS_MIGRATION)}")
    connection.close()
    store.connect(older).close()
    assert summary_rows(older) == expected
    with store.reading(older) as connection:
        assert connection.execute("SELECT count(*) FROM article_keys").fetchone()[0] == 300
        indexes = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {"article_keys_year", "evidence_pairs_stance"} <= indexes and "articles_export_order" not in indexes
    assert_summaries_match(older, SHIPPED)


def test_a_migration_fills_the_verdict_summary_from_the_findings_summary(seeded: Path, tmp_path: Path) -> None:
    with store.reading(seeded) as connection:
        catalogue = store.load_catalogue(connection)
    seed_stances(seeded, catalogue)
    expected = summary_rows(seeded)
    older = tmp_path / "older.sqlite"
    shutil.copyfile(seeded, older)
    connection = sqlite3.connect(older, isolation_level=None)
    connection.execute("DROP TABLE summary_verdict")
    undo_run_counts(connection)  # a later migration's
    connection.execute(f"PRAGMA user_version = {MIGRATIONS.index(store.summaries.VERDICT_MIGRATION)}")
    connection.close()
    store.connect(older).close()
    assert summary_rows(older) == expected
    assert len(expected["summary_verdict"]) > 10
    assert_summaries_match(older, SHIPPED)
