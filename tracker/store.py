"""The SQLite store: schema and migrations, WAL, idempotent upserts by PMID, fetch-run bookkeeping, reads.

Writers use `transaction()` so that every batch commits whole or not at all; readers (the dashboard, exports)
open the file read-only and see the last committed state while a fetch writes.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import gc
import hashlib
import json
import sqlite3
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from tracker.errors import StoreError
from tracker.models import AbstractSection, Article, Author, Correction, MeshHeading, MeshQualifier

# Each entry migrates the schema from version N to N + 1; append, never edit a released one.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE articles (
        pmid INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        title TEXT NOT NULL,
        abstract TEXT NOT NULL DEFAULT '',
        abstract_sections TEXT NOT NULL DEFAULT '[]',
        copyright TEXT,
        journal TEXT,
        journal_iso TEXT,
        volume TEXT,
        issue TEXT,
        pages TEXT,
        pub_year INTEGER,
        pub_month INTEGER,
        pub_day INTEGER,
        pub_date_raw TEXT,
        electronic_date TEXT,
        entry_date TEXT,
        revised_date TEXT,
        authors TEXT NOT NULL DEFAULT '[]',
        author_names TEXT NOT NULL DEFAULT '',
        doi TEXT,
        pmcid TEXT,
        languages TEXT NOT NULL DEFAULT '[]',
        publication_types TEXT NOT NULL DEFAULT '[]',
        mesh TEXT NOT NULL DEFAULT '[]',
        keywords TEXT NOT NULL DEFAULT '[]',
        corrections TEXT NOT NULL DEFAULT '[]',
        content_hash TEXT NOT NULL,
        first_seen TEXT NOT NULL,
        last_changed TEXT NOT NULL
    );
    CREATE INDEX articles_pub_year ON articles(pub_year);
    CREATE TABLE article_sources (
        pmid INTEGER NOT NULL REFERENCES articles(pmid) ON DELETE CASCADE,
        source TEXT NOT NULL,
        first_seen TEXT NOT NULL,
        PRIMARY KEY (pmid, source)
    ) WITHOUT ROWID;
    CREATE TABLE hypothesis_articles (
        hypothesis_id TEXT NOT NULL,
        pmid INTEGER NOT NULL REFERENCES articles(pmid) ON DELETE CASCADE,
        first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL,
        PRIMARY KEY (hypothesis_id, pmid)
    ) WITHOUT ROWID;
    CREATE INDEX hypothesis_articles_pmid ON hypothesis_articles(pmid);
    CREATE TABLE fetch_runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        status TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'interrupted')),
        full_sync INTEGER NOT NULL DEFAULT 0,
        requests INTEGER,
        efetch_requests INTEGER,
        error TEXT
    );
    CREATE TABLE fetch_run_hypotheses (
        run_id INTEGER NOT NULL REFERENCES fetch_runs(id) ON DELETE CASCADE,
        hypothesis_id TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('succeeded', 'failed')),
        pubmed_count INTEGER,
        stored_count INTEGER,
        new_count INTEGER NOT NULL DEFAULT 0,
        updated_count INTEGER NOT NULL DEFAULT 0,
        removed_count INTEGER NOT NULL DEFAULT 0,
        error TEXT,
        PRIMARY KEY (run_id, hypothesis_id)
    );
    CREATE TABLE sync_state (
        hypothesis_id TEXT PRIMARY KEY,
        query TEXT NOT NULL,
        query_translation TEXT,
        pubmed_count INTEGER NOT NULL,
        window_count INTEGER NOT NULL DEFAULT 1,
        modified_since TEXT NOT NULL,
        last_success_run_id INTEGER NOT NULL REFERENCES fetch_runs(id),
        last_success_at TEXT NOT NULL
    );
    """,
    """
    CREATE TABLE tags (
        pmid INTEGER NOT NULL REFERENCES articles(pmid) ON DELETE CASCADE,
        hypothesis_id TEXT NOT NULL,
        source TEXT NOT NULL CHECK (source IN ('query', 'text', 'query+text')),
        matched_terms TEXT NOT NULL DEFAULT '[]',
        rules_version TEXT NOT NULL,
        PRIMARY KEY (pmid, hypothesis_id)
    ) WITHOUT ROWID;
    CREATE INDEX tags_hypothesis ON tags(hypothesis_id);
    CREATE TABLE article_facets (
        pmid INTEGER PRIMARY KEY REFERENCES articles(pmid) ON DELETE CASCADE,
        design TEXT NOT NULL,
        species TEXT NOT NULL,
        in_vitro INTEGER NOT NULL,
        retracted INTEGER NOT NULL,
        retraction_notice INTEGER NOT NULL,
        has_erratum INTEGER NOT NULL,
        expression_of_concern INTEGER NOT NULL,
        rules_version TEXT NOT NULL
    );
    CREATE INDEX article_facets_rules_version ON article_facets(rules_version);
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)


def utc_now() -> str:
    """The current UTC time as an ISO string with seconds, the store's one timestamp format."""
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def connect(path: Path, *, read_only: bool = False) -> sqlite3.Connection:
    """Open the store, creating and migrating it for writers; readers get a read-only connection."""
    path = Path(path)
    if read_only:
        if not path.exists():
            raise StoreError(f"{path}: no store yet; run `tracker fetch` (or `tracker import FILE`) to create it")
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None,
                                     check_same_thread=False)
    else:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        except (OSError, sqlite3.Error) as error:
            raise StoreError(f"{path}: cannot open the store ({error}); check the path given with --db or TRACKER_DB") from None
    connection.row_factory = sqlite3.Row
    try:
        # A reader waits for a checkpoint, a writer for another writer's batch, rather than failing at once.
        connection.execute("PRAGMA busy_timeout = 30000")
        connection.execute("PRAGMA foreign_keys = ON")
        if not read_only:
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = NORMAL")
        _check_or_migrate(connection, path, read_only)
    except sqlite3.DatabaseError as error:
        connection.close()
        raise StoreError(f"{path}: is not a tracker store ({error}); point --db at another file or move this one away") from None
    return connection


def _check_or_migrate(connection: sqlite3.Connection, path: Path, read_only: bool) -> None:
    version = connection.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise StoreError(f"{path}: was written by a newer tracker (schema {version} > {SCHEMA_VERSION}); upgrade the tracker")
    if version == SCHEMA_VERSION:
        return
    if read_only:
        raise StoreError(f"{path}: has an older schema ({version}); run `tracker fetch` or `tracker retag` once to upgrade it")
    with transaction(connection):
        # Re-read under the write lock: another process may have migrated meanwhile.
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        for number in range(version, SCHEMA_VERSION):
            for statement in _split_statements(MIGRATIONS[number]):
                connection.execute(statement)
            connection.execute(f"PRAGMA user_version = {number + 1}")


def _split_statements(script: str) -> list[str]:
    # executescript() would commit the open transaction; run the statements one by one inside it instead.
    return [statement for statement in script.split(";") if statement.strip()]


@contextlib.contextmanager
def transaction(connection: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """Run a block as one IMMEDIATE transaction: all of it commits, or none of it does."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield connection
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


@contextlib.contextmanager
def read_snapshot(connection: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """Run a block of reads on one committed state, joining the transaction the caller may have open.

    Each statement outside a transaction sees the newest commit, so a fetch committing between two reads
    would pair one state's articles with another's tags; a deferred BEGIN (which a read-only connection may
    open) holds one snapshot until the block ends.
    """
    if connection.in_transaction:
        yield connection
        return
    connection.execute("BEGIN")
    try:
        yield connection
    finally:
        if connection.in_transaction:
            connection.execute("COMMIT")


def checkpoint(connection: sqlite3.Connection) -> None:
    """Fold the WAL back into the database so it cannot grow without bound while readers stay open."""
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")


# --- articles -------------------------------------------------------------------------------------------------

def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


# Hand-written, not dataclasses.asdict(): asdict deep-copies every field and was a third of a fetch's CPU time.
def _section_dict(section: AbstractSection) -> dict[str, object]:
    return {"text": section.text, "label": section.label, "nlm_category": section.nlm_category}


def _author_dict(author: Author) -> dict[str, object]:
    return {"last_name": author.last_name, "fore_name": author.fore_name, "initials": author.initials,
            "collective_name": author.collective_name, "affiliations": list(author.affiliations)}


def _mesh_dict(heading: MeshHeading) -> dict[str, object]:
    return {"descriptor": heading.descriptor, "ui": heading.ui, "major": heading.major,
            "qualifiers": [{"name": q.name, "major": q.major} for q in heading.qualifiers]}


def _correction_dict(correction: Correction) -> dict[str, object]:
    return {"ref_type": correction.ref_type, "pmid": correction.pmid, "ref_source": correction.ref_source}


def _article_row(article: Article) -> dict[str, object]:
    row: dict[str, object] = {
        "pmid": article.pmid,
        "kind": article.kind,
        "title": article.title,
        "abstract": article.abstract_text,
        "abstract_sections": _json([_section_dict(s) for s in article.abstract]),
        "copyright": article.copyright,
        "journal": article.journal,
        "journal_iso": article.journal_iso,
        "volume": article.volume,
        "issue": article.issue,
        "pages": article.pages,
        "pub_year": article.pub_year,
        "pub_month": article.pub_month,
        "pub_day": article.pub_day,
        "pub_date_raw": article.pub_date_raw,
        "electronic_date": article.electronic_date,
        "entry_date": article.entry_date,
        "revised_date": article.revised_date,
        "authors": _json([_author_dict(a) for a in article.authors]),
        "author_names": "; ".join(a.display_name for a in article.authors),
        "doi": article.doi,
        "pmcid": article.pmcid,
        "languages": _json(list(article.languages)),
        "publication_types": _json(list(article.publication_types)),
        "mesh": _json([_mesh_dict(m) for m in article.mesh]),
        "keywords": _json(list(article.keywords)),
        "corrections": _json([_correction_dict(c) for c in article.corrections]),
    }
    row["content_hash"] = hashlib.sha256(_json(row).encode()).hexdigest()[:32]
    return row


_ARTICLE_COLUMNS = list(_article_row(Article(pmid=0, title="")).keys())


def save_articles(
    connection: sqlite3.Connection, articles: Iterable[Article], source: str, now: str | None = None
) -> dict[int, str]:
    """Upsert articles by PMID and record where they came from; return each PMID's outcome.

    The outcome is "new", "updated" (its content changed) or "unchanged". Call inside `transaction()`.
    """
    now = now or utc_now()
    outcomes: dict[int, str] = {}
    for article in articles:
        row = _article_row(article)
        existing = connection.execute("SELECT content_hash FROM articles WHERE pmid = ?", (article.pmid,)).fetchone()
        if existing is None:
            columns = _ARTICLE_COLUMNS + ["first_seen", "last_changed"]
            connection.execute(
                f"INSERT INTO articles ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                [row[c] for c in _ARTICLE_COLUMNS] + [now, now],
            )
            outcomes[article.pmid] = "new"
        elif existing["content_hash"] != row["content_hash"]:
            assignments = ", ".join(f"{c} = ?" for c in _ARTICLE_COLUMNS if c != "pmid")
            connection.execute(
                f"UPDATE articles SET {assignments}, last_changed = ? WHERE pmid = ?",
                [row[c] for c in _ARTICLE_COLUMNS if c != "pmid"] + [now, article.pmid],
            )
            outcomes[article.pmid] = "updated"
        else:
            outcomes[article.pmid] = "unchanged"
        connection.execute(
            "INSERT OR IGNORE INTO article_sources (pmid, source, first_seen) VALUES (?, ?, ?)",
            (article.pmid, source, now),
        )
    return outcomes


def delete_articles(connection: sqlite3.Connection, pmids: Iterable[int]) -> int:
    """Remove withdrawn PMIDs with their links; return how many were stored."""
    removed = 0
    for pmid in pmids:
        removed += connection.execute("DELETE FROM articles WHERE pmid = ?", (pmid,)).rowcount
    return removed


# PMIDs bound per "IN (...)" query: SQLite before 3.32 refuses a statement with more than 999 variables.
_PMIDS_PER_QUERY = 500


def stored_pmids(connection: sqlite3.Connection, pmids: Iterable[int] | None = None) -> set[int]:
    """The PMIDs in the store, all of them or those of `pmids` that are stored."""
    if pmids is None:
        return {row[0] for row in connection.execute("SELECT pmid FROM articles")}
    return _pmids_where(connection, "SELECT pmid FROM articles WHERE pmid IN ({marks})", (), pmids)


def pmids_from_source(connection: sqlite3.Connection, pmids: Iterable[int], source: str) -> set[int]:
    """Those of `pmids` that came from `source` ("pubmed" for the fetch job, "import:<file name>")."""
    return _pmids_where(connection, "SELECT pmid FROM article_sources WHERE source = ? AND pmid IN ({marks})",
                        (source,), pmids)


def _pmids_where(connection: sqlite3.Connection, sql: str, parameters: tuple, pmids: Iterable[int]) -> set[int]:
    wanted = list(pmids)
    found: set[int] = set()
    for start in range(0, len(wanted), _PMIDS_PER_QUERY):
        chunk = wanted[start:start + _PMIDS_PER_QUERY]
        found.update(row[0] for row in connection.execute(sql.format(marks=", ".join("?" * len(chunk))),
                                                          (*parameters, *chunk)))
    return found


def article_from_row(row: sqlite3.Row | dict) -> Article:
    """Rebuild an Article from its stored row."""
    mesh = tuple(
        MeshHeading(descriptor=m["descriptor"], ui=m["ui"], major=m["major"],
                    qualifiers=tuple(MeshQualifier(**q) for q in m["qualifiers"]))
        for m in json.loads(row["mesh"])
    )
    authors = tuple(
        Author(**{**a, "affiliations": tuple(a["affiliations"])}) for a in json.loads(row["authors"])
    )
    return Article(
        pmid=row["pmid"], title=row["title"], kind=row["kind"],
        abstract=tuple(AbstractSection(**s) for s in json.loads(row["abstract_sections"])),
        copyright=row["copyright"], journal=row["journal"], journal_iso=row["journal_iso"],
        volume=row["volume"], issue=row["issue"], pages=row["pages"],
        pub_year=row["pub_year"], pub_month=row["pub_month"], pub_day=row["pub_day"],
        pub_date_raw=row["pub_date_raw"], electronic_date=row["electronic_date"],
        entry_date=row["entry_date"], revised_date=row["revised_date"], authors=authors,
        doi=row["doi"], pmcid=row["pmcid"], languages=tuple(json.loads(row["languages"])),
        publication_types=tuple(json.loads(row["publication_types"])), mesh=mesh,
        keywords=tuple(json.loads(row["keywords"])),
        corrections=tuple(Correction(**c) for c in json.loads(row["corrections"])),
    )


def load_article(connection: sqlite3.Connection, pmid: int) -> Article | None:
    """One stored article, or None."""
    row = connection.execute("SELECT * FROM articles WHERE pmid = ?", (pmid,)).fetchone()
    return None if row is None else article_from_row(row)


# --- hypothesis links ------------------------------------------------------------------------------------------

def linked_pmids(connection: sqlite3.Connection, hypothesis_id: str) -> set[int]:
    """The PMIDs PubMed returned for this hypothesis at its last sync (and those added since)."""
    return {row[0] for row in connection.execute(
        "SELECT pmid FROM hypothesis_articles WHERE hypothesis_id = ?", (hypothesis_id,))}


def link_hypothesis(connection: sqlite3.Connection, hypothesis_id: str, pmids: Iterable[int], now: str) -> None:
    """Record that PubMed returns these PMIDs for the hypothesis (first seen kept, last seen moved on)."""
    connection.executemany(
        "INSERT INTO hypothesis_articles (hypothesis_id, pmid, first_seen, last_seen) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (hypothesis_id, pmid) DO UPDATE SET last_seen = excluded.last_seen",
        [(hypothesis_id, pmid, now, now) for pmid in pmids],
    )


def unlink_hypothesis(connection: sqlite3.Connection, hypothesis_id: str, pmids: Iterable[int]) -> None:
    """Drop the hypothesis link of PMIDs that its query no longer returns."""
    connection.executemany(
        "DELETE FROM hypothesis_articles WHERE hypothesis_id = ? AND pmid = ?",
        [(hypothesis_id, pmid) for pmid in pmids],
    )


# --- fetch runs and sync state ---------------------------------------------------------------------------------

def start_run(connection: sqlite3.Connection, full_sync: bool) -> int:
    """Open a fetch-run record; runs left 'running' by a killed process become 'interrupted'."""
    now = utc_now()
    with transaction(connection):
        connection.execute(
            "UPDATE fetch_runs SET status = 'interrupted', finished_at = COALESCE(finished_at, ?), "
            "error = COALESCE(error, 'the process stopped before the run finished') WHERE status = 'running'",
            (now,),
        )
        cursor = connection.execute(
            "INSERT INTO fetch_runs (started_at, status, full_sync) VALUES (?, 'running', ?)", (now, int(full_sync)))
    return int(cursor.lastrowid)


def finish_run(connection: sqlite3.Connection, run_id: int, status: str, error: str | None,
               requests: int | None = None, efetch_requests: int | None = None) -> None:
    """Close a fetch-run record with its outcome."""
    with transaction(connection):
        connection.execute(
            "UPDATE fetch_runs SET finished_at = ?, status = ?, error = ?, requests = ?, efetch_requests = ? "
            "WHERE id = ?",
            (utc_now(), status, error, requests, efetch_requests, run_id),
        )


def record_run_hypothesis(connection: sqlite3.Connection, run_id: int, hypothesis_id: str, status: str, *,
                          pubmed_count: int | None = None, stored_count: int | None = None, new_count: int = 0,
                          updated_count: int = 0, removed_count: int = 0, error: str | None = None) -> None:
    """Write one hypothesis' line of a run's log; call inside `transaction()`."""
    connection.execute(
        "INSERT OR REPLACE INTO fetch_run_hypotheses (run_id, hypothesis_id, status, pubmed_count, stored_count, "
        "new_count, updated_count, removed_count, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (run_id, hypothesis_id, status, pubmed_count, stored_count, new_count, updated_count, removed_count, error),
    )


def save_sync_state(connection: sqlite3.Connection, hypothesis_id: str, *, query: str, query_translation: str | None,
                    pubmed_count: int, window_count: int, modified_since: str, run_id: int) -> None:
    """Advance a hypothesis' sync state; call inside the transaction that stores what it describes."""
    connection.execute(
        "INSERT OR REPLACE INTO sync_state (hypothesis_id, query, query_translation, pubmed_count, window_count, "
        "modified_since, last_success_run_id, last_success_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (hypothesis_id, query, query_translation, pubmed_count, window_count, modified_since, run_id, utc_now()),
    )


def load_sync_state(connection: sqlite3.Connection, hypothesis_id: str) -> sqlite3.Row | None:
    """The hypothesis' last successful sync, or None before the first."""
    return connection.execute("SELECT * FROM sync_state WHERE hypothesis_id = ?", (hypothesis_id,)).fetchone()


def load_status_frame(connection: sqlite3.Connection) -> pd.DataFrame:
    """Per hypothesis: last successful sync, PubMed count, stored count, and the newest run's outcome for it."""
    return pd.read_sql_query(
        """
        WITH ids AS (
            SELECT hypothesis_id FROM sync_state
            UNION SELECT hypothesis_id FROM fetch_run_hypotheses
            UNION SELECT hypothesis_id FROM hypothesis_articles
        ),
        latest AS (
            SELECT frh.hypothesis_id, frh.run_id, frh.status, frh.error,
                   ROW_NUMBER() OVER (PARTITION BY frh.hypothesis_id ORDER BY frh.run_id DESC) AS position
            FROM fetch_run_hypotheses frh
        )
        SELECT ids.hypothesis_id,
               s.last_success_at,
               s.pubmed_count,
               (SELECT COUNT(*) FROM hypothesis_articles ha WHERE ha.hypothesis_id = ids.hypothesis_id) AS stored_count,
               s.query_translation,
               latest.run_id AS last_run_id,
               latest.status AS last_run_status,
               latest.error AS last_run_error
        FROM ids
        LEFT JOIN sync_state s ON s.hypothesis_id = ids.hypothesis_id
        LEFT JOIN latest ON latest.hypothesis_id = ids.hypothesis_id AND latest.position = 1
        ORDER BY ids.hypothesis_id
        """,
        connection,
    )


def load_runs_frame(connection: sqlite3.Connection, limit: int = 20) -> pd.DataFrame:
    """The most recent fetch runs, newest first."""
    return pd.read_sql_query(
        "SELECT * FROM fetch_runs ORDER BY id DESC LIMIT ?", connection, params=(limit,))


def load_last_successful_run(connection: sqlite3.Connection) -> dict[str, object] | None:
    """The newest fetch run that succeeded, however many failed runs came after it; None before the first."""
    row = connection.execute(
        "SELECT * FROM fetch_runs WHERE status = 'succeeded' ORDER BY id DESC LIMIT 1").fetchone()
    return None if row is None else dict(row)


def load_run_hypotheses_frame(connection: sqlite3.Connection, run_id: int) -> pd.DataFrame:
    """One run's per-hypothesis log."""
    return pd.read_sql_query(
        "SELECT * FROM fetch_run_hypotheses WHERE run_id = ? ORDER BY hypothesis_id", connection, params=(run_id,))


# --- tags (migration 2) ----------------------------------------------------------------------------------------

FACET_COLUMNS = ("design", "species", "in_vitro", "retracted", "retraction_notice", "has_erratum",
                 "expression_of_concern")
_FLAG_COLUMNS = FACET_COLUMNS[2:]
# What an article that was never tagged shows until `tracker retag` (or the next fetch) tags it.
_UNTAGGED_FACETS = {"design": "other", "species": "unknown", **{flag: False for flag in _FLAG_COLUMNS}}
_JSON_LIST_COLUMNS = ("abstract_sections", "authors", "languages", "publication_types", "mesh", "keywords",
                      "corrections")
_CATALOGUE_COLUMNS = (
    "pmid", "kind", "title", "abstract", "abstract_sections", "author_names", "authors", "journal", "journal_iso",
    "volume", "issue", "pages", "pub_year", "pub_month", "pub_day", "pub_date_raw", "electronic_date", "entry_date",
    "doi", "pmcid", "languages", "publication_types", "mesh_terms", "mesh", "keywords", "corrections", "first_seen",
    "last_changed", "sources", "hypotheses", "tag_sources", "matched_terms", *FACET_COLUMNS,
)
# What only an export or the one article on screen reads: `load_catalogue` keeps these as the stored JSON's UTF-8
# bytes (decoding them for every row was most of a dashboard's first render); `decode_details` decodes the rows
# that need them.
DETAIL_COLUMNS = ("abstract_sections", "authors", "languages", "publication_types", "mesh_terms", "mesh", "keywords",
                  "corrections", "sources", "matched_terms")
_CATALOGUE_TEXT_COLUMNS = ("kind", "title", "abstract", "author_names", "journal", "journal_iso", "volume", "issue",
                           "pages", "pub_date_raw", "electronic_date", "entry_date", "doi", "pmcid", "first_seen",
                           "last_changed")
_DATE_PART_COLUMNS = ("pub_year", "pub_month", "pub_day")
_SEARCHED_COLUMNS = ("title", "abstract", "author_names", "journal")


def save_tags(connection: sqlite3.Connection, tags: pd.DataFrame, facets: pd.DataFrame, rules_version: str) -> None:
    """Replace the tags and facets of every PMID in `facets`; call inside `transaction()`.

    `tags` has pmid, hypothesis_id, source, matched_terms (list of {"term", "field"}); `facets` one row per
    tagged PMID with the columns of FACET_COLUMNS. A PMID in `facets` without tag rows ends up with no tags.
    """
    pmids = [(int(pmid),) for pmid in facets["pmid"]]
    connection.executemany("DELETE FROM tags WHERE pmid = ?", pmids)
    connection.executemany(
        f"INSERT OR REPLACE INTO article_facets (pmid, {', '.join(FACET_COLUMNS)}, rules_version) "
        f"VALUES ({', '.join('?' * (len(FACET_COLUMNS) + 2))})",
        [(int(row[0]), row[1], row[2], *(int(bool(flag)) for flag in row[3:]), rules_version)
         for row in facets[["pmid", *FACET_COLUMNS]].itertuples(index=False, name=None)],
    )
    connection.executemany(
        "INSERT INTO tags (pmid, hypothesis_id, source, matched_terms, rules_version) VALUES (?, ?, ?, ?, ?)",
        [(int(pmid), hypothesis_id, source, _json(list(matched)), rules_version)
         for pmid, hypothesis_id, source, matched in
         tags[["pmid", "hypothesis_id", "source", "matched_terms"]].itertuples(index=False, name=None)],
    )


def stale_tag_pmids(connection: sqlite3.Connection, rules_version: str) -> list[int]:
    """The stored PMIDs never tagged, or tagged by rules other than `rules_version`, in PMID order."""
    return [row[0] for row in connection.execute(
        "SELECT a.pmid FROM articles a LEFT JOIN article_facets f ON f.pmid = a.pmid "
        "WHERE f.pmid IS NULL OR f.rules_version != ? ORDER BY a.pmid", (rules_version,))]


def _read_chunked(connection: sqlite3.Connection, sql: str, pmids: list[int] | None,
                  where_column: str) -> pd.DataFrame:
    """Run `sql` (which ends in a WHERE clause hook "{where}") for all rows or for the PMIDs in chunks."""
    if pmids is None:
        return pd.read_sql_query(sql.format(where="1 = 1"), connection)
    frames = [
        pd.read_sql_query(sql.format(where=f"{where_column} IN ({', '.join('?' * len(chunk))})"), connection,
                          params=chunk)
        for chunk in (pmids[start:start + _PMIDS_PER_QUERY] for start in range(0, len(pmids), _PMIDS_PER_QUERY))
    ]
    frames = [frame for frame in frames if not frame.empty]
    if not frames:
        return pd.read_sql_query(sql.format(where="0 = 1"), connection)
    return pd.concat(frames, ignore_index=True)


def _grouped_lists(frame: pd.DataFrame, key: str, value: str) -> dict[int, list[str]]:
    """{pmid: sorted values} from a two-column frame."""
    grouped: dict[int, list[str]] = {}
    for pmid, item in zip(frame[key].tolist(), frame[value].tolist()):
        grouped.setdefault(int(pmid), []).append(item)
    return {pmid: sorted(items) for pmid, items in grouped.items()}


def _decoded_json_bytes(column: pd.Series) -> list:
    """Decode a column of UTF-8 JSON bytes with one parse, as `_decoded_json` does for texts."""
    return json.loads(b"[" + b",".join(column.tolist()) + b"]")


def _decoded_json(column: pd.Series) -> list:
    """Decode a column of JSON texts with one parse: a json.loads call per cell costs several times more."""
    return json.loads("[" + ",".join(column.tolist()) + "]")


def load_articles_frame(connection: sqlite3.Connection, pmids: Iterable[int] | None = None) -> pd.DataFrame:
    """The stored articles (all, or those of `pmids`) as a DataFrame ordered by PMID, JSON columns decoded.

    Besides the article's own columns it has mesh_terms (descriptor names), sources (where the record came
    from) and query_hypotheses (the hypotheses whose PubMed query returned it), each a sorted list.
    """
    wanted = None if pmids is None else sorted({int(pmid) for pmid in pmids})
    frame = _read_chunked(
        connection, "SELECT * FROM articles WHERE {where}", wanted, "pmid"
    ).drop(columns=["content_hash"]).sort_values("pmid", ignore_index=True)
    frame["pmid"] = frame["pmid"].astype("int64")
    for column in ("pub_year", "pub_month", "pub_day"):
        frame[column] = frame[column].astype("Int64")
    for column in _JSON_LIST_COLUMNS:
        frame[column] = pd.Series(_decoded_json(frame[column]), index=frame.index, dtype=object)
    frame["mesh_terms"] = frame["mesh"].map(lambda headings: [h["descriptor"] for h in headings]).astype(object)
    sources = _grouped_lists(
        _read_chunked(connection, "SELECT pmid, source FROM article_sources WHERE {where}", wanted, "pmid"),
        "pmid", "source")
    links = _grouped_lists(
        _read_chunked(connection, "SELECT pmid, hypothesis_id FROM hypothesis_articles WHERE {where}", wanted, "pmid"),
        "pmid", "hypothesis_id")
    frame["sources"] = pd.Series([sources.get(pmid, []) for pmid in frame["pmid"]], index=frame.index, dtype=object)
    frame["query_hypotheses"] = pd.Series([links.get(pmid, []) for pmid in frame["pmid"]], index=frame.index,
                                          dtype=object)
    return frame


def load_catalogue(connection: sqlite3.Connection) -> pd.DataFrame:
    """One row per stored article with its hypotheses, design, species and flags, ordered by PMID.

    The columns are those of `decode_details`' result but mesh_terms, and the DETAIL_COLUMNS among them hold
    undecoded UTF-8 JSON: the stored columns as they are, sources the list of this article's sources and
    matched_terms {hypothesis id: terms} of its text tags only. Pass the rows you write or show through
    `decode_details`. hypotheses (the sorted ids the article carries) and tag_sources ({hypothesis id: "query",
    "text" or "query+text"}) are objects shared by the rows with the same tags: read them, never mutate them.

    The "query" half of a tag comes from the live hypothesis links, the "text" half from the stored tags, so
    a link the fetch added or dropped shows at once; facets of never-tagged articles show as "other"/"unknown".
    `connection` must be one of `connect()`'s, which any thread may use: a helper thread reads the tags on it.
    """
    as_read = ("pmid", *_DATE_PART_COLUMNS, *FACET_COLUMNS,
               *(name for name in _CATALOGUE_TEXT_COLUMNS if name not in _SEARCHED_COLUMNS))
    as_bytes = (*_SEARCHED_COLUMNS, *_JSON_LIST_COLUMNS)
    names = (*as_read, *as_bytes)
    with (read_snapshot(connection), _collection_paused(),
          concurrent.futures.ThreadPoolExecutor(max_workers=1) as helper):
        # Long texts as BLOBs, their UTF-8 bytes: never decoded into Python strings, they go to Arrow strings
        # in C++ (the searched ones) or stay bytes for `decode_details` (the JSON).
        rows = connection.execute(
            f"SELECT {', '.join(('f.' if name in FACET_COLUMNS else 'a.') + name for name in as_read)}, "
            f"{', '.join(f'CAST(a.{name} AS BLOB)' for name in as_bytes)} "
            "FROM articles a LEFT JOIN article_facets f ON f.pmid = a.pmid ORDER BY a.pmid").fetchall()
        # SQLite groups the tags while this thread builds the columns (it lets Python run meanwhile); the
        # connection, used by one thread at a time, reads them in the same snapshot.
        grouped = helper.submit(_read_grouped_tags, connection)
        # One 2-D array of the rows, then a column is a slice: much quicker than transposing tuple by tuple.
        table = np.array(rows, dtype=object) if rows else np.empty((0, len(names)), dtype=object)
        del rows
        values = {name: table[:, position] for position, name in enumerate(names)}
        pmids = values["pmid"].astype("int64")
        columns: dict[str, object] = {"pmid": pmids}
        for name in _DATE_PART_COLUMNS:
            columns[name] = pd.array(values[name], dtype="Int64")
        for name in (*_CATALOGUE_TEXT_COLUMNS, *_JSON_LIST_COLUMNS):
            # Arrow strings where a text filter searches (selection.TEXT_COLUMNS), so that it searches in C++;
            # elsewhere a conversion would cost more than it saves.
            columns[name] = (_utf8_strings(values[name]) if name in _SEARCHED_COLUMNS
                             else pd.Series(values[name], dtype=object))
        for name, default in _UNTAGGED_FACETS.items():
            filled = np.where(pd.isna(values[name]), default, values[name])
            # design and species as Arrow strings too: the filters' isin() on them is quicker so.
            columns[name] = filled.astype(bool) if name in _FLAG_COLUMNS else pd.array(filled, dtype="str")
        del table, values

        sources, text_tags, query_links = grouped.result()
        [columns["sources"]] = _per_pmid_texts(pmids, sources, [b"[]"])
        text_ids, columns["matched_terms"] = _per_pmid_texts(pmids, text_tags, [b"[]", b"{}"])
        columns["hypotheses"], columns["tag_sources"] = _carried_tags(pmids, query_links, text_ids)
        return pd.DataFrame({name: columns[name] for name in _CATALOGUE_COLUMNS if name != "mesh_terms"})


def _utf8_strings(values: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """UTF-8 bytes (None for NULL) as pandas' Arrow-backed strings, checked and converted in C++."""
    return pd.array(pa.array(values, type=pa.large_binary()).cast(pa.large_string()), dtype="str")


@contextlib.contextmanager
def _collection_paused() -> Iterator[None]:
    """Pause Python's cycle collector while reading or decoding: the millions of objects made hold no cycles, but
    every automatic collection would scan all of them again (a fifth of the catalogue's read at 200,000 articles,
    most of a large decode)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# Each query returns one row: the PMIDs, then per PMID a JSON text, joined by the unit separator, which JSON
# cannot hold unescaped (the group_concat calls of one query take the rows in the same order). One row is one
# call into SQLite, which lets other Python threads run for all of it. SQLite caps a text at 1 GB: about ten
# million tags.
_GROUPED_SOURCES = """
    SELECT group_concat(pmid), CAST(group_concat(sources, char(31)) AS BLOB)
    FROM (SELECT pmid, json_group_array(source) AS sources FROM article_sources GROUP BY pmid)
"""
_GROUPED_TEXT_TAGS = """
    SELECT group_concat(pmid), CAST(group_concat(ids, char(31)) AS BLOB), CAST(group_concat(terms, char(31)) AS BLOB)
    FROM (SELECT pmid, json_group_array(hypothesis_id) AS ids,
                 '{' || group_concat(json_quote(hypothesis_id) || ':' || matched_terms, ',') || '}' AS terms
          FROM tags WHERE source IN ('text', 'query+text') GROUP BY pmid)
"""


def _read_grouped_tags(connection: sqlite3.Connection) -> tuple[list, list, dict[str, np.ndarray]]:
    """Per PMID its sources and its text tags' ids and terms (JSON bytes); per hypothesis its linked PMIDs."""
    grouped = []
    for sql in (_GROUPED_SOURCES, _GROUPED_TEXT_TAGS):
        pmids_text, *joined = connection.execute(sql).fetchone()
        grouped.append([np.fromstring(pmids_text or "", dtype="int64", sep=","),
                        *((texts or b"").split(b"\x1f") if pmids_text else [] for texts in joined)])
    query_links = {hypothesis_id: np.fromstring(pmids_text, dtype="int64", sep=",") for hypothesis_id, pmids_text in
                   connection.execute("SELECT hypothesis_id, group_concat(pmid) FROM hypothesis_articles "
                                      "GROUP BY hypothesis_id")}
    return grouped[0], grouped[1], query_links


def _per_pmid_texts(pmids: np.ndarray, grouped: list, defaults: list[bytes]) -> list[pd.Series]:
    """Spread `grouped` ([PMIDs, texts, more texts, ...]) over the ordered `pmids`: one Series per list of texts,
    in which a PMID without a group gets that list's default."""
    keys, *texts_by_default = grouped
    positions = np.searchsorted(pmids, keys).clip(max=max(len(pmids) - 1, 0))
    # Foreign keys tie these rows to stored articles; a store written without them may hold strays.
    stored = pmids[positions] == keys if len(pmids) else np.zeros(len(keys), dtype=bool)
    aligned = []
    for default, found in zip(defaults, texts_by_default):
        texts = np.full(len(pmids), default, dtype=object)
        texts[positions[stored]] = np.array(found, dtype=object)[stored]
        aligned.append(pd.Series(texts, dtype=object))
    return aligned


def _carried_tags(pmids: np.ndarray, query_links: dict[str, np.ndarray],
                  text_ids: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Each article's hypotheses (sorted ids) and tag sources, from its query links and its text tags' ids.

    A bit per hypothesis makes an article's tags two integers (Python's, so any number of hypotheses fits);
    the lists and dicts of the few distinct pairs are built once.
    """
    text_sets = {text: frozenset(json.loads(text)) for text in set(text_ids)}
    bits = {hypothesis_id: 1 << position for position, hypothesis_id in
            enumerate(sorted(set(query_links).union(*text_sets.values())))}
    queried = np.zeros(len(pmids), dtype=object)
    for hypothesis_id, linked in query_links.items():
        positions = np.searchsorted(pmids, linked).clip(max=max(len(pmids) - 1, 0))
        queried[positions[pmids[positions] == linked] if len(pmids) else positions[:0]] |= bits[hypothesis_id]
    text_masks = {text: sum(bits[i] for i in ids) for text, ids in text_sets.items()}
    pairs = list(zip(queried.tolist(), [text_masks[text] for text in text_ids]))
    carried: dict[tuple[int, int], tuple[list[str], dict[str, str]]] = {}
    for pair in set(pairs):
        query_mask, text_mask = pair
        ids = [i for i, bit in bits.items() if (query_mask | text_mask) & bit]
        carried[pair] = (ids, {
            i: "query+text" if query_mask & bits[i] and text_mask & bits[i] else
            "text" if text_mask & bits[i] else "query" for i in ids})
    hypotheses, tag_sources = zip(*(carried[pair] for pair in pairs)) if pairs else ((), ())
    return pd.Series(hypotheses, dtype=object), pd.Series(tag_sources, dtype=object)


def decode_details(catalogue_rows: pd.DataFrame, columns: Iterable[str] = DETAIL_COLUMNS) -> pd.DataFrame:
    """Return a copy of `load_catalogue` rows with the named DETAIL_COLUMNS (all by default) decoded.

    mesh_terms (the descriptor names) is derived from mesh and placed before it, sources becomes a sorted list,
    and matched_terms {hypothesis id: [{"term", "field"}, ...]} names every hypothesis the row carries ([] for
    query-only tags). Decode only the rows you need: the columns hold many small objects each.
    """
    wanted = set(columns)
    unknown = wanted - set(DETAIL_COLUMNS)
    if unknown:
        raise ValueError(
            f"not a detail column: {', '.join(sorted(unknown))}; choose from {', '.join(DETAIL_COLUMNS)}")
    with _collection_paused():
        frame = catalogue_rows.copy(deep=False)
        index = frame.index
        for column in _JSON_LIST_COLUMNS:
            if column in wanted:
                frame[column] = pd.Series(_decoded_json_bytes(frame[column]), index=index, dtype=object)
        if "mesh_terms" in wanted:
            headings = frame["mesh"] if "mesh" in wanted else _decoded_json_bytes(frame["mesh"])
            frame.insert(frame.columns.get_loc("mesh"), "mesh_terms",
                         pd.Series([[h["descriptor"] for h in row] for row in headings], index=index, dtype=object))
        if "sources" in wanted:
            frame["sources"] = pd.Series([sorted(sources) for sources in _decoded_json_bytes(frame["sources"])],
                                         index=index, dtype=object)
        if "matched_terms" in wanted:
            text_terms = _decoded_json_bytes(frame["matched_terms"])
            frame["matched_terms"] = pd.Series(
                [{i: matched.get(i, []) for i in carried} for carried, matched in zip(frame["hypotheses"], text_terms)],
                index=index, dtype=object)
        return frame
