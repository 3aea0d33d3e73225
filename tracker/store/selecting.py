"""The articles an `ArticleFilter` keeps, found by SQLite: a page of PMIDs in the chosen order, their count, and the
catalogue rows of all of them in batches (exports stream them, so memory stays flat however many match).

Text is searched through `articles_fts` (made by a migration in `connection`), an FTS5 index over title, abstract, author names and journal with the
trigram tokenizer: a MATCH finds any case-insensitive substring of three characters or more, as the catalogue's
filter does, without reading every abstract. Shorter texts are searched row by row.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence

import numpy as np
import pandas as pd

from tracker.models import ArticleFilter
from tracker.store.catalogue import decode_details, load_catalogue
from tracker.store.reviews import load_stance_frame
from tracker.store.connection import read_snapshot

# The orders a selection is read in: the export's (newest year first, unknown years last, then PMID descending)
# and the feed's (first seen newest first).
ORDERS = {
    "export": "a.pub_year IS NULL, a.pub_year DESC, a.pmid DESC",
    "first_seen": "a.first_seen DESC, a.pmid DESC",
}
_SEARCHED = ("title", "abstract", "author_names", "journal")
# The trigram tokenizer indexes runs of three characters: a shorter text cannot be looked up in it.
_SHORTEST_INDEXED = 3


def _marks(values: tuple) -> str:
    return ", ".join("?" * len(values))


def _where(connection: sqlite3.Connection, chosen: ArticleFilter) -> tuple[str, list]:
    """The WHERE clause (over articles a, article_facets f) and its parameters."""
    conditions: list[str] = []
    parameters: list = []
    if chosen.hypotheses:
        conditions.append(f"EXISTS (SELECT 1 FROM evidence_pairs p WHERE p.pmid = a.pmid "
                          f"AND p.hypothesis_id IN ({_marks(chosen.hypotheses)}))")
        parameters += chosen.hypotheses
    if chosen.from_year is not None:
        conditions.append("a.pub_year >= ?")
        parameters.append(chosen.from_year)
    if chosen.to_year is not None:
        conditions.append("a.pub_year <= ?")
        parameters.append(chosen.to_year)
    if chosen.designs:
        conditions.append(f"coalesce(f.design, 'other') IN ({_marks(chosen.designs)})")
        parameters += chosen.designs
    if chosen.species:
        conditions.append(f"coalesce(f.species, 'unknown') IN ({_marks(chosen.species)})")
        parameters += chosen.species
    if chosen.retracted != "include":
        conditions.append(f"coalesce(f.retracted, 0) = {1 if chosen.retracted == 'only' else 0}")
    if chosen.first_seen_from is not None:
        conditions.append("a.first_seen >= ?")
        parameters.append(chosen.first_seen_from)
    for run_ids, change in chosen.run_changes:
        conditions.append(f"a.pmid IN (SELECT pmid FROM run_articles WHERE change = ? "
                          f"AND run_id IN ({_marks(run_ids)}))")
        parameters += [change, *run_ids]
    if chosen.text:
        if len(chosen.text) >= _SHORTEST_INDEXED:
            # A phrase of the whole text: its trigrams in a row, that is the text as a substring.
            conditions.append("a.pmid IN (SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?)")
            parameters.append('"' + chosen.text.replace('"', '""') + '"')
        else:
            connection.create_function("contains_text", 2, _contains_text, deterministic=True)
            conditions.append("(" + " OR ".join(f"contains_text(a.{column}, ?)" for column in _SEARCHED) + ")")
            parameters += [chosen.text] * len(_SEARCHED)
    stance_tests = _stance_tests(chosen)
    if stance_tests:
        # One pair's stance row passes every test, its stance as counted (reviews applied): those the summaries
        # keep. A pair the stance reader has not read yet (stance '') passes none.
        tests, values = zip(*stance_tests)
        conditions.append("EXISTS (SELECT 1 FROM evidence_pairs p WHERE p.pmid = a.pmid AND p.stance != '' AND "
                          + " AND ".join(tests) + ")")
        parameters += [value for group in values for value in group]
    return " AND ".join(conditions) or "1", parameters


def _stance_tests(chosen: ArticleFilter) -> list[tuple[str, tuple]]:
    """The tests on a pair's stance row the filter makes, each with its parameters; none when it makes none."""
    tests = [(f"p.stance IN ({_marks(chosen.stances)})", chosen.stances) if chosen.stances else None,
             (f"p.evidence_kind IN ({_marks(chosen.evidence_kinds)})", chosen.evidence_kinds)
             if chosen.evidence_kinds else None,
             ("p.hedged = ?", (int(chosen.hedged),)) if chosen.hedged is not None else None,
             ("p.confidence = ?", (chosen.stance_confidence,)) if chosen.stance_confidence is not None else None]
    tests = [test for test in tests if test is not None]
    if tests and chosen.stance_hypotheses:
        tests.append((f"p.hypothesis_id IN ({_marks(chosen.stance_hypotheses)})", chosen.stance_hypotheses))
    return tests


def _contains_text(value: str | None, text: str) -> bool:
    return value is not None and text.casefold() in value.casefold()


_FROM = "FROM articles a LEFT JOIN article_facets f ON f.pmid = a.pmid"


def select_pmids(connection: sqlite3.Connection, chosen: ArticleFilter, *, order: str = "export",
                 limit: int | None = None, offset: int = 0) -> np.ndarray:
    """The PMIDs the filter keeps, in the order named (`ORDERS`), from `offset` on, at most `limit` of them."""
    where, parameters = _where(connection, chosen)
    cursor = connection.cursor()
    cursor.row_factory = None
    rows = cursor.execute(f"SELECT a.pmid {_FROM} WHERE {where} ORDER BY {ORDERS[order]} LIMIT ? OFFSET ?",
                          [*parameters, -1 if limit is None else limit, offset])
    return np.fromiter((row[0] for row in rows), dtype="int64")


def count_selected(connection: sqlite3.Connection, chosen: ArticleFilter) -> int:
    """How many articles the filter keeps."""
    where, parameters = _where(connection, chosen)
    return connection.execute(f"SELECT count(*) {_FROM} WHERE {where}", parameters).fetchone()[0]


# Articles read per batch: a few MB of rows, and few enough round trips that their fixed cost stays small.
BATCH_SIZE = 2_000


def iter_selected(connection: sqlite3.Connection, chosen: ArticleFilter, *, hypothesis_ids: Iterable[str] | None,
                  order: str = "export", limit: int | None = None,
                  batch_size: int = BATCH_SIZE) -> Iterator[pd.DataFrame]:
    """The catalogue rows (`load_catalogue`'s columns, the configured `hypothesis_ids` only) of the articles the
    filter keeps, in order, a batch at a time, all from one snapshot: what an export writes while holding only one
    batch."""
    with read_snapshot(connection):
        pmids = select_pmids(connection, chosen, order=order, limit=limit)
        for start in range(0, len(pmids), batch_size):
            batch = pmids[start:start + batch_size]
            rows = load_catalogue(connection, hypothesis_ids, pmids=batch.tolist())
            yield rows.iloc[pd.Index(rows["pmid"]).get_indexer(batch)].reset_index(drop=True)


def iter_selected_batches(connection: sqlite3.Connection, chosen: ArticleFilter, *,
                          hypothesis_ids: Iterable[str] | None, details: Sequence[str] = (),
                          stance_columns: Sequence[str] = ("stance",), order: str = "export",
                          limit: int | None = None) -> Iterator[tuple[pd.DataFrame, pd.DataFrame]]:
    """`iter_selected`'s batches with the named detail columns decoded, each with its articles' stance rows (the
    named stance or review columns, reviews applied): what an export writes."""
    for rows in iter_selected(connection, chosen, hypothesis_ids=hypothesis_ids, order=order, limit=limit):
        yield (decode_details(rows, details),
               load_stance_frame(connection, pmids=rows["pmid"].tolist(), columns=stance_columns,
                                 hypothesis_ids=hypothesis_ids))


def year_span(connection: sqlite3.Connection) -> tuple[int | None, int | None]:
    """The first and last known publication year of the stored articles."""
    first, last = connection.execute("SELECT min(pub_year), max(pub_year) FROM articles").fetchone()
    return first, last


def latest_first_seen(connection: sqlite3.Connection) -> str | None:
    """When the newest stored article was first seen."""
    return connection.execute("SELECT max(first_seen) FROM articles").fetchone()[0]
