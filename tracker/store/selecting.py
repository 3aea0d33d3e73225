"""The articles an `ArticleFilter` keeps, found by SQLite: a page of PMIDs in the chosen order, their count, and the
catalogue rows of all of them in batches (exports stream them, so memory stays flat however many match).

The query reads `article_keys` (each article's year, design, species and retraction: a few bytes an article, kept
by `summaries`), never the wide `articles` rows but for a first-seen date or a text too short for the index; a
page walks its index on the year. The count is summed from a summary where the filter tests only what one is
keyed by (`count_from_summaries`), which is every filter of the years, designs, species and retraction, with at
most one cause and a stance test on its pairs.

Text is searched through `articles_fts` (made by a migration in `connection`), an FTS5 index over title, abstract,
author names and journal with the trigram tokenizer: a MATCH finds any case-insensitive substring of three
characters or more, as the catalogue's filter does, without reading every abstract. Shorter texts are searched row
by row.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence

import numpy as np
import pandas as pd

from tracker.models import ArticleFilter
from tracker.store import summaries
from tracker.store.catalogue import decode_details, load_catalogue
from tracker.store.connection import read_snapshot
from tracker.store.reviews import load_stance_frame

# The orders a selection is read in: the export's (newest year first, unknown years last, then PMID descending:
# an unknown year is -1 in article_keys, below every year, so this is the order of its index on pub_year read
# backwards) and the feed's (first seen newest first).
ORDERS = {
    "export": "k.pub_year DESC, k.pmid DESC",
    "first_seen": "a.first_seen DESC, a.pmid DESC",
}
# Each order read backwards, for a page nearer the end: the same rows, from the other end of the index.
_REVERSED_ORDERS = {
    "export": "k.pub_year, k.pmid",
    "first_seen": "a.first_seen, a.pmid",
}
_SEARCHED = ("title", "abstract", "author_names", "journal")
# The trigram tokenizer indexes runs of three characters: a shorter text cannot be looked up in it.
_SHORTEST_INDEXED = 3


def _marks(values: tuple) -> str:
    return ", ".join("?" * len(values))


# A test of one column: the column, the test with {} where the column goes, and its parameters.
_Test = tuple[str, str, list]


def _key_tests(chosen: ArticleFilter) -> list[_Test]:
    """The filter's tests of an article's keys (`article_keys`, as the summaries count them: unknown year -1)."""
    tests: list[_Test] = []
    if chosen.from_year is not None or chosen.to_year is not None:
        tests.append(("pub_year", "{} != -1", []))
    if chosen.from_year is not None:
        tests.append(("pub_year", "{} >= ?", [chosen.from_year]))
    if chosen.to_year is not None:
        tests.append(("pub_year", "{} <= ?", [chosen.to_year]))
    if chosen.designs:
        tests.append(("design", f"{{}} IN ({_marks(chosen.designs)})", list(chosen.designs)))
    if chosen.species:
        tests.append(("species", f"{{}} IN ({_marks(chosen.species)})", list(chosen.species)))
    if chosen.retracted != "include":
        tests.append(("retracted", "{} = ?", [1 if chosen.retracted == "only" else 0]))
    return tests


def _stance_tests(chosen: ArticleFilter) -> list[_Test]:
    """The tests on a pair's stance row the filter makes (its stance as counted, reviews applied, and read: a pair
    the stance reader has not read yet, stance '', passes none); none when it makes none."""
    tests = [("stance", f"{{}} IN ({_marks(chosen.stances)})", list(chosen.stances)) if chosen.stances else None,
             ("evidence_kind", f"{{}} IN ({_marks(chosen.evidence_kinds)})", list(chosen.evidence_kinds))
             if chosen.evidence_kinds else None,
             ("hedged", "{} = ?", [int(chosen.hedged)]) if chosen.hedged is not None else None,
             ("confidence", "{} = ?", [chosen.stance_confidence]) if chosen.stance_confidence is not None else None]
    tests = [test for test in tests if test is not None]
    return [("stance", "{} != ''", []), *tests] if tests else []


def _joined(tests: list[_Test], alias: str | None) -> tuple[list[str], list]:
    """The tests as SQL on the columns of `alias` (or bare names), and their parameters in order."""
    return ([test.format(f"{alias}.{column}" if alias else column) for column, test, _ in tests],
            [value for _, _, values in tests for value in values])


# How a text test reads the index (`_where`): "list", the PMIDs of every match, which a page probes while it walks
# the order's index; "join", the index driving a count from each match to its keys (a third quicker than
# probing the list for a text found in most articles); "probe", each article the walk reaches tested on its own
# (`t.rowid = k.pmid`), which a first page of such a text does: a few hundred tests rather than listing 800,000
# matches first.
_TEXT_TESTS = {
    "list": "k.pmid IN (SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?)",
    "join": "t.articles_fts MATCH ?",
    "probe": "EXISTS (SELECT 1 FROM articles_fts t WHERE t.articles_fts MATCH ? AND t.rowid = k.pmid)",
}
# The most articles a page walks while testing each against the text ("probe"): each test takes 0.1-0.6 ms at a
# million articles (more for a longer text), about what listing the matches of a text in a third of them costs.
_MOST_PROBES = 300


def _where(connection: sqlite3.Connection, chosen: ArticleFilter, text_test: str = "list") -> tuple[str, list]:
    """The WHERE clause over article_keys k (and articles a, for first_seen and short texts; articles_fts t for a
    text joined: `_from`) and its parameters; `text_test` names how an indexed text is tested (`_TEXT_TESTS`)."""
    conditions, parameters = _joined(_key_tests(chosen), "k")
    # The tests on an article's pairs as lists of PMIDs (IN, not EXISTS): SQLite reads a cause's from the index of
    # its pairs, and either drives the count from that list or probes it while walking the order's index.
    if chosen.hypotheses:
        conditions.append(f"k.pmid IN (SELECT pmid FROM evidence_pairs WHERE hypothesis_id IN "
                          f"({_marks(chosen.hypotheses)}))")
        parameters += chosen.hypotheses
    if chosen.first_seen_from is not None:
        conditions.append("a.first_seen >= ?")
        parameters.append(chosen.first_seen_from)
    for run_ids, change in chosen.run_changes:
        conditions.append(f"k.pmid IN (SELECT pmid FROM run_articles WHERE change = ? "
                          f"AND run_id IN ({_marks(run_ids)}))")
        parameters += [change, *run_ids]
    if chosen.text:
        if _indexed_text(chosen):
            # A phrase of the whole text: its trigrams in a row, that is the text as a substring.
            conditions.append(_TEXT_TESTS[text_test])
            parameters.append('"' + chosen.text.replace('"', '""') + '"')
        else:
            connection.create_function("contains_text", 2, _contains_text, deterministic=True)
            conditions.append("(" + " OR ".join(f"contains_text(a.{column}, ?)" for column in _SEARCHED) + ")")
            parameters += [chosen.text] * len(_SEARCHED)
    stance_tests = _stance_tests(chosen)
    if stance_tests:
        # One pair's stance row passes every test (those the summaries keep), of one of the stance hypotheses.
        if chosen.stance_hypotheses:
            stance_tests.append(("hypothesis_id", f"{{}} IN ({_marks(chosen.stance_hypotheses)})",
                                 list(chosen.stance_hypotheses)))
        tests, values = _joined(stance_tests, "p")
        conditions.append("k.pmid IN (SELECT p.pmid FROM evidence_pairs p WHERE " + " AND ".join(tests) + ")")
        parameters += values
    return " AND ".join(conditions) or "1", parameters


def _from(chosen: ArticleFilter, order: str | None = None, text_test: str = "list") -> str:
    """The FROM clause: article_keys k, after the text index t where a text is joined, and joined to articles a
    where the filter or the order reads a column only `articles` holds (first seen, a text too short for the
    index)."""
    reads_articles = (chosen.first_seen_from is not None or order == "first_seen"
                      or (chosen.text is not None and not _indexed_text(chosen)))
    joins_text = text_test == "join" and _indexed_text(chosen)
    return ("FROM " + ("articles_fts t JOIN article_keys k ON k.pmid = t.rowid" if joins_text else "article_keys k")
            + (" JOIN articles a ON a.pmid = k.pmid" if reads_articles else ""))


def _indexed_text(chosen: ArticleFilter) -> bool:
    """Whether the filter has a text the trigram index can look up (one of `_SHORTEST_INDEXED` characters or more)."""
    return chosen.text is not None and len(chosen.text) >= _SHORTEST_INDEXED


def _contains_text(value: str | None, text: str) -> bool:
    return value is not None and text.casefold() in value.casefold()


def select_pmids(connection: sqlite3.Connection, chosen: ArticleFilter, *, order: str = "export",
                 limit: int | None = None, offset: int = 0, matching: int | None = None) -> np.ndarray:
    """The PMIDs the filter keeps, in the order named (`ORDERS`), from `offset` on, at most `limit` of them.

    `matching`, how many articles the filter keeps (counted on the same state), when the caller knows it. A page
    deep in the order is read without stepping over every row before it (an OFFSET of 900,000 steps over 900,000):
    in the export's order it starts at the first year it reaches where a summary counts the filter's articles per
    year (`_year_counts`); otherwise, given `matching`, a page past the middle is read from the end. A page of a
    text found in most articles tests the articles it walks one by one rather than listing every match
    (`_TEXT_TESTS`).
    """
    order_by, backwards, text_test, first_year = ORDERS[order], False, "list", None
    with read_snapshot(connection):
        years = _year_counts(connection, chosen) if offset and order == "export" else None
        if years is not None:
            # The years wholly before the page are skipped: the query starts at the page's first year in the index.
            ends = np.cumsum(years["articles"])
            first = int(np.searchsorted(ends, offset, side="right"))
            if first == len(ends):
                return np.empty(0, dtype="int64")
            first_year = int(years["pub_year"][first])
            offset -= int(ends[first] - years["articles"][first])
        elif matching is not None and offset > matching // 2:
            # Past the middle: the page's rows counted from the end, read in the reverse order and turned around.
            stop = matching if limit is None else min(matching, offset + limit)
            if stop <= offset:
                return np.empty(0, dtype="int64")
            order_by, backwards = _REVERSED_ORDERS[order], True
            limit, offset = stop - offset, matching - stop
        # The articles the walk reaches before the page's last, if the text's matches are spread evenly: the
        # stored articles per match, times the rows up to the page's end.
        if (order == "export" and limit is not None and matching and _walks_testing_text(chosen)
                and (offset + limit) * summaries.count_articles(connection) <= _MOST_PROBES * matching):
            text_test = "probe"
        where, parameters = _where(connection, chosen, text_test)
        if first_year is not None:
            where += " AND k.pub_year <= ?"
            parameters.append(first_year)
        cursor = connection.cursor()
        cursor.row_factory = None
        rows = cursor.execute(f"SELECT k.pmid {_from(chosen, order)} WHERE {where} ORDER BY {order_by} "
                              "LIMIT ? OFFSET ?", [*parameters, -1 if limit is None else limit, offset])
        pmids = np.fromiter((row[0] for row in rows), dtype="int64")
    return pmids[::-1].copy() if backwards else pmids


def _walks_testing_text(chosen: ArticleFilter) -> bool:
    """Whether a page of the filter walks the year index testing each article against an indexed text: the text
    and tests of the keys only (with a cause, a run, a stance or a first-seen date SQLite may start from their
    list instead, and would then test every article of it)."""
    return (_indexed_text(chosen) and not chosen.hypotheses
            and not chosen.run_changes and chosen.first_seen_from is None and not _stance_tests(chosen))


# The summaries a count can be summed from, smallest first: a filter that tests only the columns one is keyed by
# (`summaries.KEYS`) is counted from its few rows instead of the articles.
_COUNTING_SUMMARIES = ("summary_articles", "summary_by_year", "summary_by_kind", "summary_findings")


def _counting_summary(chosen: ArticleFilter, *, by_year: bool = False) -> tuple[str, str, list] | None:
    """The smallest summary that counts the articles the filter keeps (per publication year too, `by_year`), with
    the condition on its rows and its parameters; None when none can (a text, a run, a first-seen date, more than
    one cause, a stance test on the pairs of more than one cause, or a test of a key the summary lacks).

    A pair summary counts an article once per cause it carries, so it answers for one cause at most.
    """
    if chosen.text or chosen.run_changes or chosen.first_seen_from is not None or len(chosen.hypotheses) > 1:
        return None
    tests = _key_tests(chosen)
    stance_tests = _stance_tests(chosen)
    if stance_tests and (len(chosen.hypotheses) != 1 or set(chosen.stance_hypotheses) != set(chosen.hypotheses)):
        return None
    tests += stance_tests
    if chosen.hypotheses:
        tests.append(("hypothesis_id", "{} = ?", [chosen.hypotheses[0]]))
    tested = {column for column, _, _ in tests} | ({"pub_year"} if by_year else set())
    table = next((table for table in _COUNTING_SUMMARIES if tested <= set(summaries.KEYS[table])), None)
    if table is None:
        return None
    conditions, parameters = _joined(tests, None)
    return table, " AND ".join(conditions) or "1", parameters


def count_from_summaries(connection: sqlite3.Connection, chosen: ArticleFilter) -> int | None:
    """How many articles the filter keeps, summed from a summary the store keeps; None when none can say
    (`_counting_summary`)."""
    summary = _counting_summary(chosen)
    if summary is None:
        return None
    table, where, parameters = summary
    return connection.execute(f"SELECT coalesce(sum(articles), 0) FROM {table} WHERE {where}",
                              parameters).fetchone()[0]


def _year_counts(connection: sqlite3.Connection, chosen: ArticleFilter) -> dict[str, np.ndarray] | None:
    """How many articles the filter keeps in each publication year that has any ("pub_year", unknown -1, newest
    first, and "articles"), summed from a summary; None when none can say."""
    summary = _counting_summary(chosen, by_year=True)
    if summary is None:
        return None
    table, where, parameters = summary
    rows = connection.execute(f"SELECT pub_year, sum(articles) FROM {table} WHERE {where} GROUP BY pub_year "
                              "HAVING sum(articles) > 0 ORDER BY pub_year DESC", parameters).fetchall()
    return {"pub_year": np.array([row[0] for row in rows], dtype="int64"),
            "articles": np.array([row[1] for row in rows], dtype="int64")}


def count_selected(connection: sqlite3.Connection, chosen: ArticleFilter) -> int:
    """How many articles the filter keeps: from a summary where one can say (`count_from_summaries`), otherwise by
    SQLite over the narrow per-article keys."""
    counted = count_from_summaries(connection, chosen)
    if counted is not None:
        return counted
    where, parameters = _where(connection, chosen, text_test="join")
    return connection.execute(f"SELECT count(*) {_from(chosen, text_test='join')} WHERE {where}",
                              parameters).fetchone()[0]


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
    # Two subqueries, not one with both: SQLite reads one end of the index for a lone min() or max(), but every
    # entry for the two together.
    first, last = connection.execute("SELECT (SELECT min(pub_year) FROM articles), "
                                     "(SELECT max(pub_year) FROM articles)").fetchone()
    return first, last


def latest_first_seen(connection: sqlite3.Connection) -> str | None:
    """When the newest stored article was first seen."""
    return connection.execute("SELECT max(first_seen) FROM articles").fetchone()[0]
