"""The summaries the Overview and Cause pages draw and Citations counts from, kept by the store so that no page
reads the catalogue.

Three levels, each a few thousand rows however many articles are stored:
- `evidence_pairs`: one row per (article, hypothesis it carries) with what is counted about it (source, year,
  design, species, retracted, stance, evidence kind, hedging, patients): the catalogue's tags reduced to keys;
- `summary_by_year`: per hypothesis × publication year × design × retracted × stance × confidence, the articles,
  the patients studied and how many stated a sample size (the charts over time, the per-1,000 denominators);
- `summary_by_kind`: per hypothesis × design × species × retracted × stance × confidence × evidence kind ×
  hedging × reviewed, the same counts without the year (the Cause page's breakdowns and stance counts);
- `summary_by_source`: per hypothesis × source (query, text, both) × design × retracted (the table of causes);
- `summary_findings`: per hypothesis × publication year × design × retracted × stance × confidence × evidence
  kind × hedging × reviewed, the same counts (the Overview's evidence table and its share over time);
- `summary_verdict`: the same with high-level design or not instead of the design (what the Overview's evidence
  table reads: a quarter of the rows);
- `summary_mesh`: per hypothesis × retracted × MeSH descriptor, the articles (the Cause page's top headings), with
  `article_mesh`, each article's descriptors as last counted;
- `summary_articles`: per publication year × design × species × retracted, the articles whatever they carry (the
  Citations page's count without a cause, the headline's counts), with `article_keys`, each article's keys as
  last counted (also what Citations' query reads instead of the wide article rows: `selecting`).

Citations counts one cause's articles from the pair summaries (`selecting.count_from_summaries`). Apart from
`summary_articles`, a year and a species together are never drawn, so no pair table holds both: one that did
would hold a row for nearly every pair of a large store. An unknown year is -1, a pair without a stance row has stance and confidence ''.
The stance is the one every count reads: a person's review where there is one (`store.load_stance_frame`).

Triggers on the tables they derive from (articles, hypothesis links, tags, facets, stances) note the PMIDs a
write touches in `summary_dirty`; `flush` (which `transaction()` runs before every COMMIT) subtracts those
articles' old pairs from the summaries, derives their pairs again and adds them. So the summaries change in the
transaction that changed what they count, and a batch that rolls back leaves both as they were.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

import pandas as pd

from tracker.vocabulary import HIGH_LEVEL_DESIGNS

# Each summary: its table, its key columns (from evidence_pairs) and its sums.
_SUMMARIES = {
    "summary_by_year": (("hypothesis_id", "pub_year", "design", "retracted", "stance", "confidence"),
                        ("articles", "patients", "with_size")),
    "summary_by_kind": (("hypothesis_id", "design", "species", "retracted", "stance", "confidence", "evidence_kind",
                         "hedged", "reviewed"), ("articles", "patients", "with_size")),
    "summary_by_source": (("hypothesis_id", "source", "design", "retracted"), ("articles",)),
    "summary_findings": (("hypothesis_id", "pub_year", "design", "retracted", "stance", "confidence", "evidence_kind",
                          "hedged", "reviewed"), ("articles", "patients", "with_size")),
    "summary_verdict": (("hypothesis_id", "pub_year", "high_level", "retracted", "stance", "confidence",
                         "evidence_kind", "hedged", "reviewed"), ("articles", "patients", "with_size")),
}
# The keys that are not a column of evidence_pairs, as SQL over its columns: a high-level design is a meta-analysis,
# a systematic review or an RCT (the designs are the vocabulary's own words, safe to quote).
_HIGH_LEVEL = f"design IN ({', '.join(repr(design) for design in HIGH_LEVEL_DESIGNS)})"
_KEY_EXPRESSIONS = {"high_level": _HIGH_LEVEL}
# The type of every column of a summary.
_COLUMN_TYPES = {"hypothesis_id": "TEXT", "source": "TEXT", "pub_year": "INTEGER", "design": "TEXT",
                 "species": "TEXT", "retracted": "INTEGER", "stance": "TEXT", "confidence": "TEXT", "evidence_kind": "TEXT",
                 "hedged": "INTEGER", "reviewed": "INTEGER", "high_level": "INTEGER", "articles": "INTEGER",
                 "patients": "INTEGER", "with_size": "INTEGER"}


def _create_summary(table: str) -> str:
    keys, sums = _SUMMARIES[table]
    columns = ", ".join(f"{column} {_COLUMN_TYPES[column]} NOT NULL" for column in (*keys, *sums))
    return f"CREATE TABLE {table} ({columns}, PRIMARY KEY ({', '.join(keys)})) WITHOUT ROWID;"


# The summaries the first summaries' migration made (`MIGRATION`); later ones come with their own.
_SUMMARY_TABLES = "\n    ".join(_create_summary(table) for table in
                                 ("summary_by_year", "summary_by_kind", "summary_by_source", "summary_findings"))
# The writes that change what an article counts as: (table, event, the rows whose PMID is noted).
_TRACKED_WRITES = (
    ("articles", "INSERT", "NEW"), ("articles", "UPDATE OF pub_year, mesh", "NEW"), ("articles", "DELETE", "OLD"),
    ("hypothesis_articles", "INSERT", "NEW"), ("hypothesis_articles", "DELETE", "OLD"),
    *((table, event, rows) for table in ("tags", "article_facets", "stances", "reviews")
      for event, rows in (("INSERT", "NEW"), ("UPDATE", "NEW OLD"), ("DELETE", "OLD"))),
)
_TRIGGERS = "\n    ".join(
    f"CREATE TRIGGER summary_{table}_{event.split()[0].lower()} AFTER {event} ON {table} BEGIN "
    f"INSERT OR IGNORE INTO summary_dirty VALUES {', '.join(f'({row}.pmid)' for row in rows.split())}; END;"
    for table, event, rows in _TRACKED_WRITES)

# The article-level summary and its per-article keys (`CITATIONS_MIGRATION`): every article, whether or not it
# carries a hypothesis, so that Citations counts "all articles of these designs" without reading them.
_ARTICLE_KEYS = ("pub_year", "design", "species", "retracted")
# Each summary's key columns, the article-level one's included.
KEYS = {**{table: keys for table, (keys, _sums) in _SUMMARIES.items()}, "summary_articles": _ARTICLE_KEYS}

# The migration that creates the tables and fills them for an existing store (every article marked dirty; the
# COMMIT's flush derives them all).
MIGRATION = """
    CREATE TABLE evidence_pairs (
        pmid INTEGER NOT NULL,
        hypothesis_id TEXT NOT NULL,
        source TEXT NOT NULL,
        pub_year INTEGER NOT NULL,
        design TEXT NOT NULL,
        species TEXT NOT NULL,
        retracted INTEGER NOT NULL,
        stance TEXT NOT NULL,
        confidence TEXT NOT NULL,
        evidence_kind TEXT NOT NULL,
        hedged INTEGER NOT NULL,
        reviewed INTEGER NOT NULL,
        n_patients INTEGER,
        PRIMARY KEY (pmid, hypothesis_id)
    ) WITHOUT ROWID;
    -- A cause's articles in the export's order: its newest ones are the first few entries.
    CREATE INDEX evidence_pairs_newest ON evidence_pairs (hypothesis_id, pub_year = -1, pub_year DESC, pmid DESC);
    {summary_tables}
    CREATE TABLE article_mesh (pmid INTEGER NOT NULL, descriptor TEXT NOT NULL, PRIMARY KEY (pmid, descriptor))
        WITHOUT ROWID;
    CREATE TABLE summary_mesh (hypothesis_id TEXT NOT NULL, retracted INTEGER NOT NULL, descriptor TEXT NOT NULL,
        articles INTEGER NOT NULL, PRIMARY KEY (hypothesis_id, retracted, descriptor)) WITHOUT ROWID;
    CREATE TABLE summary_dirty (pmid INTEGER PRIMARY KEY);
    {triggers}
    INSERT INTO summary_dirty SELECT pmid FROM articles;
""".replace("{summary_tables}", _SUMMARY_TABLES).replace("{triggers}", _TRIGGERS)

_SUMS = {"articles": "count(*)", "patients": "coalesce(sum(n_patients), 0)", "with_size": "count(n_patients)"}
_DIRTY = "pmid IN (SELECT pmid FROM summary_dirty)"

# Each article's keys as the summaries count them: unknown year -1, no facets row yet 'other', 'unknown', not retracted.
_ARTICLE_KEY_VALUES = ("SELECT a.pmid, coalesce(a.pub_year, -1), coalesce(f.design, 'other'), "
                       "coalesce(f.species, 'unknown'), coalesce(f.retracted, 0) "
                       "FROM articles a LEFT JOIN article_facets f ON f.pmid = a.pmid")
_ARTICLE_KEY_LIST = ", ".join(_ARTICLE_KEYS)

# What Citations counts and pages from: the summary of every article and the keys it is counted by, filled from
# the stored articles at once rather than by marking them all dirty (which would derive every pair again: minutes
# at a million articles; the triggers already note every write of a year or a facet, so the next flush keeps
# both), and the indexes its pages and stance tests read.
CITATIONS_MIGRATION = f"""
    CREATE TABLE article_keys (pmid INTEGER PRIMARY KEY, pub_year INTEGER NOT NULL, design TEXT NOT NULL,
        species TEXT NOT NULL, retracted INTEGER NOT NULL);
    CREATE TABLE summary_articles (pub_year INTEGER NOT NULL, design TEXT NOT NULL, species TEXT NOT NULL,
        retracted INTEGER NOT NULL, articles INTEGER NOT NULL, PRIMARY KEY ({_ARTICLE_KEY_LIST})) WITHOUT ROWID;
    INSERT INTO article_keys (pmid, {_ARTICLE_KEY_LIST}) {_ARTICLE_KEY_VALUES};
    INSERT INTO summary_articles ({_ARTICLE_KEY_LIST}, articles)
        SELECT {_ARTICLE_KEY_LIST}, count(*) FROM article_keys GROUP BY {_ARTICLE_KEY_LIST};
    -- Citations' order, newest year first (unknown, -1, last), then PMID descending: this index read backwards.
    -- It replaces the one on articles, whose rows a page would have to read for the year.
    CREATE INDEX article_keys_year ON article_keys (pub_year);
    DROP INDEX articles_export_order;
    -- A stance test's pairs (a cause's, with a stance, a confidence, a kind, hedged or not) without reading them.
    CREATE INDEX evidence_pairs_stance ON evidence_pairs (hypothesis_id, stance, confidence, evidence_kind, hedged)
        WHERE stance != '';
"""

# What the Overview's evidence table reads (`load_finding_counts`): the findings with a high-level design or not
# rather than each design, a quarter of summary_findings' rows at a million articles, filled from it.
VERDICT_MIGRATION = f"""
    {_create_summary("summary_verdict")}
    INSERT INTO summary_verdict
        SELECT hypothesis_id, pub_year, {_HIGH_LEVEL}, retracted, stance, confidence, evidence_kind, hedged, reviewed,
               sum(articles), sum(patients), sum(with_size)
        FROM summary_findings GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9;
"""

# The review that counts for a pair: its latest (`reviews.review_states`). It replaces the machine's stance, and is
# read with high confidence, where the pair has a machine reading (`reviews.apply_reviews`); elsewhere it is parked.
_COUNTED_REVIEWS = f"""
    SELECT pmid, hypothesis_id, stance FROM (
        SELECT pmid, hypothesis_id, stance, row_number() OVER (
            PARTITION BY pmid, hypothesis_id ORDER BY reviewed_at DESC, reviewer DESC) AS newest
        FROM reviews WHERE {_DIRTY})
    WHERE newest = 1
"""

# An article carries a hypothesis when PubMed's query for it returned the article (a link) or its text mentions
# it (a text tag): the catalogue's rule (store.load_catalogue), in SQL.
_DERIVE_PAIRS = f"""
    INSERT INTO evidence_pairs
    SELECT c.pmid, c.hypothesis_id,
           CASE WHEN max(c.query) AND max(c.text) THEN 'query+text' WHEN max(c.text) THEN 'text' ELSE 'query' END,
           coalesce(a.pub_year, -1), coalesce(f.design, 'other'), coalesce(f.species, 'unknown'),
           coalesce(f.retracted, 0), coalesce(r.stance, s.stance, ''),
           CASE WHEN r.stance IS NOT NULL THEN 'high' ELSE coalesce(s.confidence, '') END,
           coalesce(s.evidence_kind, ''), coalesce(s.hedged, 0), r.stance IS NOT NULL, s.n_patients
    FROM (SELECT pmid, hypothesis_id, 1 AS query, 0 AS text FROM hypothesis_articles WHERE {_DIRTY}
          UNION ALL
          SELECT pmid, hypothesis_id, 0, 1 FROM tags WHERE source IN ('text', 'query+text') AND {_DIRTY}) c
    JOIN articles a ON a.pmid = c.pmid
    LEFT JOIN article_facets f ON f.pmid = c.pmid
    LEFT JOIN stances s ON s.pmid = c.pmid AND s.hypothesis_id = c.hypothesis_id
    LEFT JOIN ({_COUNTED_REVIEWS}) r ON r.pmid = s.pmid AND r.hypothesis_id = s.hypothesis_id
    GROUP BY c.pmid, c.hypothesis_id
"""


def _add_dirty_pairs(connection: sqlite3.Connection, sign: int) -> None:
    """Add (sign 1) or subtract (-1) the dirty articles' stored pairs, their MeSH headings and their keys, to every
    summary."""
    connection.execute(
        f"INSERT INTO summary_mesh (hypothesis_id, retracted, descriptor, articles) "
        f"SELECT p.hypothesis_id, p.retracted, m.descriptor, {sign} * count(*) FROM evidence_pairs p "
        f"JOIN article_mesh m ON m.pmid = p.pmid WHERE p.{_DIRTY} GROUP BY p.hypothesis_id, p.retracted, m.descriptor "
        "ON CONFLICT (hypothesis_id, retracted, descriptor) DO UPDATE SET articles = articles + excluded.articles")
    if sign < 0:
        connection.execute("DELETE FROM summary_mesh WHERE articles = 0")
    connection.execute(
        f"INSERT INTO summary_articles ({_ARTICLE_KEY_LIST}, articles) "
        f"SELECT {_ARTICLE_KEY_LIST}, {sign} * count(*) FROM article_keys WHERE {_DIRTY} GROUP BY {_ARTICLE_KEY_LIST} "
        f"ON CONFLICT ({_ARTICLE_KEY_LIST}) DO UPDATE SET articles = articles + excluded.articles")
    if sign < 0:
        connection.execute("DELETE FROM summary_articles WHERE articles = 0")
    for table, (keys, sums) in _SUMMARIES.items():
        key_list = ", ".join(keys)
        key_values = ", ".join(_KEY_EXPRESSIONS.get(key, key) for key in keys)
        connection.execute(
            f"INSERT INTO {table} ({key_list}, {', '.join(sums)}) "
            f"SELECT {key_values}, {', '.join(f'{sign} * {_SUMS[name]}' for name in sums)} FROM evidence_pairs "
            f"WHERE {_DIRTY} GROUP BY {key_values} "
            f"ON CONFLICT ({key_list}) DO UPDATE SET "
            + ", ".join(f"{name} = {name} + excluded.{name}" for name in sums))
        if sign < 0:
            connection.execute(f"DELETE FROM {table} WHERE articles = 0")


def flush(connection: sqlite3.Connection) -> None:
    """Bring the summaries up to date with the writes of the open transaction (what `transaction()` runs last)."""
    if connection.execute("SELECT 1 FROM summary_dirty LIMIT 1").fetchone() is None:
        return
    _add_dirty_pairs(connection, -1)
    connection.execute(f"DELETE FROM evidence_pairs WHERE {_DIRTY}")
    connection.execute(f"DELETE FROM article_mesh WHERE {_DIRTY}")
    connection.execute(f"DELETE FROM article_keys WHERE {_DIRTY}")
    connection.execute(_DERIVE_PAIRS)
    connection.execute(f"INSERT INTO article_keys (pmid, {_ARTICLE_KEY_LIST}) {_ARTICLE_KEY_VALUES} WHERE a.{_DIRTY}")
    # Each article's headings as they are now: what is subtracted when it changes next.
    connection.execute(
        "INSERT OR IGNORE INTO article_mesh (pmid, descriptor) SELECT a.pmid, json_extract(m.value, '$.descriptor') "
        f"FROM articles a, json_each(a.mesh) m WHERE a.{_DIRTY} AND json_extract(m.value, '$.descriptor') IS NOT NULL")
    _add_dirty_pairs(connection, 1)
    connection.execute("DELETE FROM summary_dirty")


def _of(hypothesis_ids: Sequence[str] | None) -> tuple[str, list]:
    """A condition keeping the rows of the named hypotheses (all when None), and its parameters."""
    if hypothesis_ids is None:
        return "1", []
    return f"hypothesis_id IN ({', '.join('?' * len(hypothesis_ids))})", list(hypothesis_ids)


def _read_frame(connection: sqlite3.Connection, sql: str, parameters: Sequence) -> pd.DataFrame:
    """A query's rows as a frame, as pandas.read_sql_query reads them but from plain tuples rather than the
    connection's sqlite3.Row objects: a third quicker on the tens of thousands of summary rows of a large store."""
    cursor = connection.cursor()
    cursor.row_factory = None
    rows = cursor.execute(sql, parameters).fetchall()
    return pd.DataFrame.from_records(rows, columns=[column[0] for column in cursor.description])


def _read(connection: sqlite3.Connection, table: str, hypothesis_ids: Sequence[str] | None,
          include_retracted: bool) -> pd.DataFrame:
    keys, sums = _SUMMARIES[table]
    kept, parameters = _of(hypothesis_ids)
    frame = _read_frame(connection, f"SELECT {', '.join(keys)}, {', '.join(sums)} FROM {table} WHERE {kept} "
                        "AND (? OR retracted = 0)", [*parameters, int(include_retracted)])
    if "retracted" in frame:
        frame["retracted"] = frame["retracted"].astype(bool)
    if "hedged" in frame:
        frame["hedged"] = frame["hedged"].astype(bool)
    if "pub_year" in frame:
        frame["pub_year"] = frame["pub_year"].astype("Int64").mask(frame["pub_year"] < 0)
    return frame


def load_summaries(connection: sqlite3.Connection, hypothesis_ids: Sequence[str] | None = None,
                   names: Sequence[str] = ("by_year", "by_kind", "by_source"), *,
                   include_retracted: bool = True) -> dict[str, pd.DataFrame]:
    """The summaries by year, kind and source as frames, keyed "by_year", "by_kind" and "by_source" (those of
    `names` only), of the named hypotheses only (all when None): their rows are stored in hypothesis order, so one
    cause's are a short read. Without `include_retracted`, the rows of retracted articles are left out in SQL
    (nearly half the summary by year of a large store, whose few retracted articles spread over its cells).

    pub_year is <NA> where unknown, stance and confidence '' where the pair has no stance row, retracted and hedged
    bools.
    """
    return {name: _read(connection, f"summary_{name}", hypothesis_ids, include_retracted) for name in names}


def summary_year_span(connection: sqlite3.Connection, hypothesis_ids: Sequence[str],
                      include_retracted: bool) -> tuple[int | None, int | None]:
    """The first and last known publication year of the named hypotheses' articles (retracted ones only when
    included): the years an evidence table of them spans."""
    kept, parameters = _of(hypothesis_ids)
    first, last = connection.execute(
        f"SELECT min(pub_year), max(pub_year) FROM summary_by_year WHERE {kept} AND pub_year != -1 "
        "AND (? OR retracted = 0)", [*parameters, int(include_retracted)]).fetchone()
    return first, last


def load_finding_counts(connection: sqlite3.Connection, *, include_retracted: bool = False,
                        hypothesis_ids: Sequence[str] | None = None) -> pd.DataFrame:
    """`evidence.finding_counts` of the stored stance rows, from `summary_verdict`: per FINDING_KEYS (hypothesis_id,
    year, high_level, stance, confidence, evidence_kind, hedged, reviewed) the articles, patients and with_size;
    of the named hypotheses only (all when None).

    Pairs the stance reader has not read are left out; a stance row without a kind of evidence counts as "other",
    year is <NA> where unknown.
    """
    kept, parameters = _of(hypothesis_ids)
    frame = _read_frame(
        connection,
        "SELECT hypothesis_id, nullif(pub_year, -1) AS year, high_level, stance, "
        "confidence, CASE evidence_kind WHEN '' THEN 'other' ELSE evidence_kind END AS evidence_kind, hedged, "
        "reviewed, sum(articles) AS articles, sum(patients) AS patients, sum(with_size) AS with_size "
        f"FROM summary_verdict WHERE {kept} AND stance != '' AND (? OR retracted = 0) "
        "GROUP BY 1, 2, 3, 4, 5, 6, 7, 8 "
        # The order of pandas' groupby: unknown years after the known ones.
        "ORDER BY hypothesis_id, year IS NULL, year, high_level, stance, confidence, evidence_kind, hedged, reviewed",
        [*parameters, int(include_retracted)])
    for name in ("high_level", "hedged", "reviewed"):
        frame[name] = frame[name].astype(bool)
    frame["year"] = frame["year"].astype("Int64")
    return frame.astype({"articles": "int64", "patients": "int64", "with_size": "int64"})


def count_articles(connection: sqlite3.Connection) -> int:
    """How many articles the store holds (from the summary of every article, not a pass over them)."""
    return connection.execute("SELECT coalesce(sum(articles), 0) FROM summary_articles").fetchone()[0]


def count_retracted(connection: sqlite3.Connection) -> int:
    """How many of the stored articles are retracted."""
    return connection.execute("SELECT coalesce(sum(articles), 0) FROM summary_articles WHERE retracted = 1"
                              ).fetchone()[0]


def top_mesh(connection: sqlite3.Connection, hypothesis_id: str, include_retracted: bool, left_out: list[str],
             limit: int) -> pd.DataFrame:
    """The MeSH descriptors most often indexed on one hypothesis' articles, `left_out` excluded: mesh_term,
    articles; ties by name."""
    marks = ", ".join("?" * len(left_out)) or "NULL"
    frame = pd.read_sql_query(
        "SELECT descriptor AS mesh_term, sum(articles) AS articles FROM summary_mesh "
        f"WHERE hypothesis_id = ? AND (? OR retracted = 0) AND descriptor NOT IN ({marks}) "
        "GROUP BY descriptor ORDER BY articles DESC, descriptor LIMIT ?",
        connection, params=[hypothesis_id, int(include_retracted), *left_out, limit])
    frame["articles"] = frame["articles"].astype("int64")
    return frame



def newest_pmids(connection: sqlite3.Connection, hypothesis_id: str, include_retracted: bool, limit: int) -> list[int]:
    """One hypothesis' newest articles in the export's order: newest year first, unknown years last, then PMID
    descending."""
    return [row[0] for row in connection.execute(
        "SELECT pmid FROM evidence_pairs WHERE hypothesis_id = ? AND (? OR retracted = 0) "
        "ORDER BY pub_year = -1, pub_year DESC, pmid DESC LIMIT ?", (hypothesis_id, int(include_retracted), limit))]
