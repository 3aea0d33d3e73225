"""The store's query for a selection keeps the rows `select_articles` keeps from the catalogue, in the same order,
and its text index follows every write."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from support.seed import make_articles, retracted_copy, seed_stances, seed_two_runs

from tracker import store
from tracker.config import DEFAULT_HYPOTHESES_PATH, load_hypotheses
from tracker.models import AbstractSection
from tracker.outputs.selection import Selection, article_filter, select_articles

SHIPPED = load_hypotheses(DEFAULT_HYPOTHESES_PATH)
HYPOTHESIS_IDS = [h.id for h in SHIPPED]
ARTICLES = make_articles(240, seed=5)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db_path = tmp_path_factory.mktemp("selecting") / "tracker.sqlite"
    seed_two_runs(db_path, SHIPPED, ARTICLES[:200], ARTICLES[200:], retracted_count=15)
    with store.reading(db_path) as connection:
        catalogue = store.load_catalogue(connection)
    seed_stances(db_path, catalogue)
    return db_path


SELECTIONS = [
    Selection(),
    Selection(include_retracted=True),
    Selection(only_retracted=True),
    Selection(hypotheses=("serotonin",)),
    Selection(hypotheses=("sleep", "substance_p"), include_retracted=True),
    Selection(from_year=2000),
    Selection(from_year=1990, to_year=2005),
    Selection(designs=("rct", "cohort", "other")),
    Selection(species="human"),
    Selection(species="unknown", include_retracted=True),
    Selection(text="sleep"),
    Selection(text="SLEEP quality"),
    Selection(text="Mü"),
    Selection(text='"quoted" (5-HT)'),
    Selection(text="pain", hypotheses=("serotonin",), designs=("observational",)),
    # Found in most articles: a first page tests the articles it walks one by one.
    Selection(text="fibromyalgia"),
    Selection(text="patients", designs=("observational", "rct", "other"), include_retracted=True),
    Selection(stances=("supports",)),
    Selection(stances=("contradicts", "mixed"), hypotheses=("serotonin", "sleep")),
    Selection(stances=("supports", "no_finding"), confidence="low"),
    Selection(confidence="high"),
    Selection(evidence_kinds=("comparison", "association")),
    Selection(evidence_kinds=("intervention", "other"), hypotheses=("sleep",)),
    Selection(hedged=True),
    Selection(stances=("supports",), evidence_kinds=("comparison", "association"), hedged=False, confidence="high"),
    Selection(hypotheses=("serotonin",), stances=("contradicts",), hedged=False, include_retracted=True),
    Selection(new_in_run="latest"),
    Selection(new_in_run=1, include_retracted=True),
    Selection(changed_in_run="latest", include_retracted=True),
    Selection(new_since="2000-01-01"),
    Selection(new_since="2999-01-01"),
]


def assert_pages(connection, chosen, order: str, expected: list[int]) -> None:
    """Every page of the order (the first, one in the middle, the last, one past the end; a year's articles split
    between two pages) holds the rows of the whole list there, whether the page is read from a year the summaries
    find, from the end (given the count) or by stepping over the rows before it."""
    count = len(expected)
    for offset in sorted({0, 3, count // 2, count // 2 + 1, max(count - 7, 0), max(count - 1, 0), count, count + 5}):
        for limit in (7, None):
            for matching in (None, count):
                page = store.select_pmids(connection, chosen, order=order, limit=limit, offset=offset,
                                          matching=matching)
                assert page.tolist() == expected[offset:None if limit is None else offset + limit], (
                    order, offset, limit, matching)


@pytest.mark.parametrize("selection", SELECTIONS, ids=repr)
def test_the_query_keeps_the_catalogues_rows_in_its_order(seeded: Path, selection: Selection) -> None:
    with store.reading(seeded) as connection:
        catalogue = store.load_catalogue(connection, HYPOTHESIS_IDS)
        stances = store.load_stance_frame(connection, columns=("stance", "confidence", "evidence_kind", "hedged"),
                                          hypothesis_ids=HYPOTHESIS_IDS)
        history = store.load_run_history(connection)
        expected = select_articles(catalogue, selection, hypothesis_ids=HYPOTHESIS_IDS, stances=stances,
                                   runs=history)["pmid"].tolist()
        chosen = article_filter(selection, hypothesis_ids=HYPOTHESIS_IDS, runs=store.load_run_list(connection))
        assert store.select_pmids(connection, chosen).tolist() == expected
        assert store.count_selected(connection, chosen) == len(expected)
        assert_pages(connection, chosen, "export", expected)
        assert_pages(connection, chosen, "first_seen", store.select_pmids(connection, chosen, order="first_seen").tolist())
        batches = list(store.iter_selected(connection, chosen, hypothesis_ids=HYPOTHESIS_IDS, batch_size=50))
    assert [len(batch) for batch in batches] == [min(50, len(expected) - start)
                                                 for start in range(0, len(expected), 50)]
    if batches:
        streamed = pd.concat(batches, ignore_index=True)
        rows = catalogue.set_index("pmid").loc[expected].reset_index()
        pd.testing.assert_frame_equal(streamed[["pmid", "title", "design", "pub_year", "first_seen"]],
                                      rows[["pmid", "title", "design", "pub_year", "first_seen"]])
        assert streamed["hypotheses"].tolist() == rows["hypotheses"].tolist()
        assert streamed["matched_terms"].tolist() == rows["matched_terms"].tolist()


def test_the_text_index_follows_updates_and_deletions(db_path: Path) -> None:
    articles = make_articles(20, seed=6)
    seed_two_runs(db_path, SHIPPED, articles, [], retracted_count=0)
    renamed = articles[0].__class__(**{**articles[0].__dict__, "title": "Quokka counts in fibromyalgia",
                                       "abstract": (AbstractSection("Nothing else."),)})
    connection = store.connect(db_path)
    try:
        with store.transaction(connection):
            store.save_articles(connection, [renamed, retracted_copy(articles[1])], "pubmed")
            store.delete_articles(connection, [articles[2].pmid])
    finally:
        connection.close()
    with store.reading(db_path) as connection:
        def found(text: str) -> list[int]:
            chosen = article_filter(Selection(text=text, include_retracted=True), hypothesis_ids=HYPOTHESIS_IDS)
            return store.select_pmids(connection, chosen).tolist()

        assert found("quokka") == [articles[0].pmid]
        everything = set(found("fibromyalgia"))
        assert articles[2].pmid not in everything
        assert articles[1].pmid in everything
    # FTS5's own check of the index against the articles' text: it raises if they differ.
    connection = store.connect(db_path)
    try:
        connection.execute("INSERT INTO articles_fts (articles_fts, rank) VALUES ('integrity-check', 1)")
    finally:
        connection.close()
