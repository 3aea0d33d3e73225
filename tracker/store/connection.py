"""The store's file: schema and migrations, WAL, transactions and read snapshots, the timestamp format.

Every connection `connect()` returns turns SQLite's failures of the file itself (read-only, disk full, damaged,
locked too long, I/O errors) into a `StoreError` naming the file and the fix, whichever statement meets them; a
failure that means a bug in the tracker (a misspelt column, a broken constraint) stays a sqlite3 error.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sqlite3
from collections.abc import Iterator
from typing import NoReturn
from datetime import datetime, timezone
from pathlib import Path

from tracker.errors import StoreError
from tracker.models import STANCES
from tracker.store import summaries

# The reviews people give (store/reviews.py): made by the first review written in a store of an earlier version, and
# by a migration since the summaries count them.
REVIEWS_TABLE = f"""
    CREATE TABLE IF NOT EXISTS reviews (
        pmid INTEGER NOT NULL,
        hypothesis_id TEXT NOT NULL,
        reviewer TEXT NOT NULL,
        reviewed_at TEXT NOT NULL,
        stance TEXT NOT NULL CHECK (stance IN ({', '.join(repr(stance) for stance in STANCES)})),
        sentence TEXT NOT NULL DEFAULT '',
        note TEXT NOT NULL DEFAULT '',
        machine_stance TEXT,
        rules_version TEXT,
        text_fingerprint TEXT,
        PRIMARY KEY (pmid, hypothesis_id, reviewer, reviewed_at)
    ) WITHOUT ROWID
"""

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
    """
    CREATE TABLE stances (
        pmid INTEGER NOT NULL REFERENCES articles(pmid) ON DELETE CASCADE,
        hypothesis_id TEXT NOT NULL,
        stance TEXT NOT NULL CHECK (stance IN ('supports', 'contradicts', 'mixed', 'no_finding')),
        evidence_kind TEXT NOT NULL
            CHECK (evidence_kind IN ('comparison', 'association', 'intervention', 'review', 'other')),
        hedged INTEGER NOT NULL DEFAULT 0,
        section TEXT,
        sentence TEXT,
        cue TEXT,
        n_patients INTEGER,
        n_controls INTEGER,
        rules_version TEXT NOT NULL,
        PRIMARY KEY (pmid, hypothesis_id)
    ) WITHOUT ROWID;
    CREATE INDEX stances_hypothesis ON stances(hypothesis_id);
    """,
    # What the parsers added for judging evidence quality: comments, funding, conflicts of interest, substances,
    # print status. Authors' ORCID iDs live in the authors JSON, which needs no column.
    """
    ALTER TABLE articles ADD COLUMN comments TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE articles ADD COLUMN grants TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE articles ADD COLUMN coi_statement TEXT;
    ALTER TABLE articles ADD COLUMN chemicals TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE articles ADD COLUMN publication_status TEXT;
    """,
    # What each run stored for the first time ("new") or changed (its content hash moved: a new retraction or
    # erratum link, a corrected record), one row per run and article, so "new in run N" is exact and an article
    # keeps every run that changed it. Imports become runs too (kind 'import', with their file names). Articles of
    # an older store are attributed by first_seen (and last_changed) to the fetch run whose start..finish holds
    # it (the latest one started before it, found through an index that lives only as long as the migration);
    # imported ones, which had no run, get none.
    """
    ALTER TABLE fetch_runs ADD COLUMN kind TEXT NOT NULL DEFAULT 'fetch' CHECK (kind IN ('fetch', 'import'));
    ALTER TABLE fetch_runs ADD COLUMN files TEXT;
    CREATE TABLE run_articles (
        run_id INTEGER NOT NULL REFERENCES fetch_runs(id) ON DELETE CASCADE,
        pmid INTEGER NOT NULL REFERENCES articles(pmid) ON DELETE CASCADE,
        change TEXT NOT NULL CHECK (change IN ('new', 'changed')),
        PRIMARY KEY (run_id, pmid)
    ) WITHOUT ROWID;
    CREATE INDEX run_articles_pmid ON run_articles(pmid);
    CREATE INDEX migration_fetch_runs_started_at ON fetch_runs(started_at, id);
    INSERT OR IGNORE INTO run_articles (run_id, pmid, change)
        SELECT r.id, a.pmid, 'new' FROM articles a
        JOIN fetch_runs r ON r.id = (SELECT id FROM fetch_runs WHERE started_at <= a.first_seen
                                     ORDER BY started_at DESC, id DESC LIMIT 1)
        WHERE a.first_seen <= COALESCE(r.finished_at, a.first_seen)
        AND EXISTS (SELECT 1 FROM article_sources s WHERE s.pmid = a.pmid AND s.source = 'pubmed')
        UNION ALL
        SELECT r.id, a.pmid, 'changed' FROM articles a
        JOIN fetch_runs r ON r.id = (SELECT id FROM fetch_runs WHERE started_at <= a.last_changed
                                     ORDER BY started_at DESC, id DESC LIMIT 1)
        WHERE a.last_changed != a.first_seen AND a.last_changed <= COALESCE(r.finished_at, a.last_changed)
        AND EXISTS (SELECT 1 FROM article_sources s WHERE s.pmid = a.pmid AND s.source = 'pubmed');
    DROP INDEX migration_fetch_runs_started_at;
    """,
    # How sure each stance reading is: 'high', or 'low' with the reason (hedged, a construct inferred from an
    # abbreviation, an unstructured abstract, ...). Rows read before were read by other stance rules, so the next
    # fetch or `tracker retag` reads them again; until then they count as low-confidence and say why.
    """
    ALTER TABLE stances ADD COLUMN confidence TEXT NOT NULL DEFAULT 'low' CHECK (confidence IN ('high', 'low'));
    ALTER TABLE stances ADD COLUMN confidence_reason TEXT;
    UPDATE stances SET confidence_reason = 'read before readings kept their confidence, run tracker retag';
    """,
    # The reviews' table, which the summaries count (a store that has had a review has it already).
    REVIEWS_TABLE,
    # The summaries the Overview and Cause pages read instead of the catalogue (store/summaries.py), filled for
    # the stored articles by the migration's COMMIT.
    summaries.MIGRATION,
    # The text search's index (store/selecting.py) and the triggers that keep it in step with every write of the
    # searched columns: an external-content table, the text itself stays in `articles`. And the export's order as
    # an index, so that a page of rows in that order reads that page, not every article.
    """
    CREATE INDEX articles_export_order ON articles (pub_year IS NULL, pub_year DESC, pmid DESC);
    CREATE VIRTUAL TABLE articles_fts USING fts5(
        title, abstract, author_names, journal, content='articles', content_rowid='pmid', tokenize='trigram');
    INSERT INTO articles_fts (articles_fts) VALUES ('rebuild');
    CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles BEGIN
        INSERT INTO articles_fts (rowid, title, abstract, author_names, journal)
        VALUES (NEW.pmid, NEW.title, NEW.abstract, NEW.author_names, NEW.journal);
    END;
    CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN
        INSERT INTO articles_fts (articles_fts, rowid, title, abstract, author_names, journal)
        VALUES ('delete', OLD.pmid, OLD.title, OLD.abstract, OLD.author_names, OLD.journal);
    END;
    CREATE TRIGGER articles_fts_update AFTER UPDATE OF title, abstract, author_names, journal ON articles BEGIN
        INSERT INTO articles_fts (articles_fts, rowid, title, abstract, author_names, journal)
        VALUES ('delete', OLD.pmid, OLD.title, OLD.abstract, OLD.author_names, OLD.journal);
        INSERT INTO articles_fts (rowid, title, abstract, author_names, journal)
        VALUES (NEW.pmid, NEW.title, NEW.abstract, NEW.author_names, NEW.journal);
    END;
""",
    # Citations' count from a summary of every article (store/summaries.py), the narrow per-article keys that its
    # pages and a count in SQL read instead of the articles, and an index of the pairs' stances.
    summaries.CITATIONS_MIGRATION,
    # The Overview's evidence table from a summary keyed by high-level design or not (store/summaries.py).
    summaries.VERDICT_MIGRATION,
    # Each run's count of new and changed articles (store/runs.py), kept by triggers on every row a run records and
    # every row that goes (an article deleted takes its rows with it), so that the run list reads a row or two per
    # run rather than every article's; filled from the recorded rows. And the index on the facets' rules version
    # goes: none of the store's queries reads it (EXPLAIN QUERY PLAN), and every tagging wrote it.
    """
    CREATE TABLE run_counts (
        run_id INTEGER NOT NULL REFERENCES fetch_runs(id) ON DELETE CASCADE,
        change TEXT NOT NULL,
        articles INTEGER NOT NULL,
        PRIMARY KEY (run_id, change)
    ) WITHOUT ROWID;
    INSERT INTO run_counts (run_id, change, articles)
        SELECT run_id, change, count(*) FROM run_articles GROUP BY run_id, change;
    CREATE TRIGGER run_counts_insert AFTER INSERT ON run_articles BEGIN
        INSERT INTO run_counts (run_id, change, articles) VALUES (NEW.run_id, NEW.change, 1)
        ON CONFLICT (run_id, change) DO UPDATE SET articles = articles + 1;
    END;
    CREATE TRIGGER run_counts_delete AFTER DELETE ON run_articles BEGIN
        UPDATE run_counts SET articles = articles - 1 WHERE run_id = OLD.run_id AND change = OLD.change;
        DELETE FROM run_counts WHERE run_id = OLD.run_id AND change = OLD.change AND articles = 0;
    END;
    DROP INDEX article_facets_rules_version;
    """,
]
# The first schema version that keeps the summaries: a transaction on an older one has none to bring up to date.
_SUMMARIES_VERSION = MIGRATIONS.index(summaries.MIGRATION) + 1

SCHEMA_VERSION = len(MIGRATIONS)


def utc_now() -> str:
    """The current UTC time as an ISO string with seconds, the store's one timestamp format."""
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def connect(path: Path, *, read_only: bool = False, check: bool | None = None,
            busy_timeout_s: float = 30) -> sqlite3.Connection:
    """Open the store, creating and migrating it for writers; readers get a read-only connection.

    `check` runs SQLite's `PRAGMA quick_check` first and refuses a damaged file; writers check by default, so
    that no job adds to a damaged store (about a second at 200,000 articles: bench/bench_store.py).
    `busy_timeout_s` is how long a statement waits for another writer's transaction before failing.
    """
    path = Path(path)
    check = not read_only if check is None else check
    if path.exists():
        refuse_hard_links(path)
    if read_only:
        if not path.exists():
            raise StoreError(f"{path}: no store yet; run `tracker fetch` (or `tracker import FILE`) to create it")
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None,
                                     check_same_thread=False, factory=_StoreConnection)
    else:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False,
                                         factory=_StoreConnection)
        except (OSError, sqlite3.Error) as error:
            raise StoreError(f"{path}: cannot open the store ({error}); check the path given with --db or TRACKER_DB") from None
    connection.row_factory = sqlite3.Row
    try:
        # A reader waits for a checkpoint, a writer for another writer's batch, rather than failing at once.
        connection.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
        connection.execute("PRAGMA foreign_keys = ON")
        if check:
            _quick_check(connection, path)
        # Before WAL mode or any migration: a file the tracker did not make must be left exactly as it was.
        _check_schema(connection, path)
        if not read_only:
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = NORMAL")
        _check_or_migrate(connection, path, read_only)
        if not read_only:
            # Take the write lock once now: a read-only file fails here, before a job spends minutes on PubMed.
            with transaction(connection):
                pass
    except sqlite3.DatabaseError as error:
        connection.close()
        translated = store_error(path, error, read_only=read_only)
        if translated is None or getattr(error, "sqlite_errorcode", None) == sqlite3.SQLITE_NOTADB:
            raise StoreError(f"{path}: is not a tracker store ({error}); point --db at another file or move this one "
                             f"away") from None
        raise translated from error
    except StoreError:
        connection.close()
        raise
    # From here on every statement's failure of the file is a StoreError (see `_store_errors`).
    connection.store_path = path
    connection.read_only = read_only
    return connection


def refuse_hard_links(path: Path) -> None:
    """Refuse a store file that has other names: SQLite keeps its WAL beside each name, so two names corrupt it."""
    links = os.stat(path).st_nlink
    if links > 1:
        raise StoreError(
            f"{path}: this store file has {links} names (hard links); SQLite keeps a write-ahead log beside each "
            f"name, so jobs through two names corrupt it — use one path: delete the other names, or make an "
            f"independent copy (cp {path} NEW.sqlite) and give that to --db")


def _quick_check(connection: sqlite3.Connection, path: Path) -> None:
    # quick_check, not integrity_check: it reads every page but skips matching indexes to tables, 6 times faster.
    problems = [row[0] for row in connection.execute("PRAGMA quick_check(10)").fetchall()]
    if problems != ["ok"]:
        first = " ".join(problems[0].replace("*** in database main ***", "").split())
        more = " and more" if len(problems) > 1 else ""
        raise StoreError(f"{path}: the store is damaged (PRAGMA quick_check: {first}{more}); {_DAMAGED_FIX}")


_DAMAGED_FIX = "restore it from a backup, or move it away and run `tracker fetch` to rebuild it"
_BUSY_TIMEOUT_S = 30


def store_error(path: Path, error: sqlite3.Error, *, read_only: bool = False) -> StoreError | None:
    """The StoreError (naming the file and the fix) for a failure of the store file; None for a tracker bug."""
    code = getattr(error, "sqlite_errorcode", None)
    if code is None or (read_only and code == sqlite3.SQLITE_READONLY):
        # A write through a read-only connection is the tracker's mistake, not the file's.
        return None
    primary = code & 0xFF
    path = Path(path)
    if primary in (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_PERM, sqlite3.SQLITE_CANTOPEN):
        return StoreError(f"{path}: SQLite cannot write there ({error}); {_writable_fix(path)}")
    if primary == sqlite3.SQLITE_FULL:
        return StoreError(f"{path}: the disk is full ({error}); free some space and run the command again — "
                          f"every batch committed before is kept")
    if primary in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
        return StoreError(f"{path}: the store is damaged ({error}); {_DAMAGED_FIX}")
    if primary in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return StoreError(f"{path}: another program kept the store locked for over {_BUSY_TIMEOUT_S} s ({error}); "
                          f"run the command again once it has finished")
    if primary in (sqlite3.SQLITE_IOERR, sqlite3.SQLITE_NOMEM, sqlite3.SQLITE_PROTOCOL):
        return StoreError(f"{path}: the store could not be read or written ({error}); check the disk and its free "
                          f"space, then run the command again")
    return None


def _writable_fix(path: Path) -> str:
    # os.access, not the mode bits: it answers for this user, ACLs and read-only mounts included.
    folder = path.parent
    if path.exists() and not os.access(path, os.W_OK):
        return f"the file is read-only: make it writable (chmod u+w {path}) or give another path with --db"
    if not os.access(folder, os.W_OK | os.X_OK):
        return (f"its folder is read-only, and SQLite must create {path.name}-wal and {path.name}-shm there: make "
                f"{folder} writable or give another path with --db")
    return f"check that {path} and its folder are writable by you, or give another path with --db"


class _StoreCursor(sqlite3.Cursor):
    """A cursor whose failures of the store file are StoreErrors (see `store_error`)."""

    # try/except in each method, not a context manager: __next__ runs once a row.
    def execute(self, sql: str, parameters: object = ()) -> sqlite3.Cursor:
        try:
            return super().execute(sql, parameters)
        except sqlite3.Error as error:
            _raise_for(self.connection, error)

    def executemany(self, sql: str, parameters: object) -> sqlite3.Cursor:
        try:
            return super().executemany(sql, parameters)
        except sqlite3.Error as error:
            _raise_for(self.connection, error)

    def fetchone(self) -> object:
        try:
            return super().fetchone()
        except sqlite3.Error as error:
            _raise_for(self.connection, error)

    def fetchmany(self, size: int | None = None) -> list:
        try:
            return super().fetchmany(self.arraysize if size is None else size)
        except sqlite3.Error as error:
            _raise_for(self.connection, error)

    def fetchall(self) -> list:
        try:
            return super().fetchall()
        except sqlite3.Error as error:
            _raise_for(self.connection, error)

    def __next__(self) -> object:
        try:
            return super().__next__()
        except sqlite3.Error as error:
            _raise_for(self.connection, error)


class _StoreConnection(sqlite3.Connection):
    """A connection that knows its file and hands out `_StoreCursor`s, for its own execute() calls too."""

    # Set by connect() once the file is open and checked; until then failures stay sqlite3 errors for it to word.
    store_path: Path | None = None
    read_only = False

    def cursor(self, factory: type[sqlite3.Cursor] = _StoreCursor) -> sqlite3.Cursor:
        return super().cursor(factory)

    def execute(self, sql: str, parameters: object = ()) -> sqlite3.Cursor:
        return self.cursor().execute(sql, parameters)

    def executemany(self, sql: str, parameters: object) -> sqlite3.Cursor:
        return self.cursor().executemany(sql, parameters)

    def commit(self) -> None:
        try:
            super().commit()
        except sqlite3.Error as error:
            _raise_for(self, error)


def _raise_for(connection: sqlite3.Connection, error: sqlite3.Error) -> NoReturn:
    """Raise the StoreError for a failure of the connection's file, or the sqlite3 error itself for a bug."""
    path = getattr(connection, "store_path", None)
    translated = None if path is None else store_error(path, error, read_only=connection.read_only)
    if translated is None:
        raise error
    raise translated from error


def _check_schema(connection: sqlite3.Connection, path: Path) -> None:
    """Refuse a file the tracker did not make, or a store whose tables were changed outside it.

    Cheap enough for every open: the column names of each table, and the triggers (only those the migrations make:
    another can make any statement fail). A table of the user's own beside the tracker's harms nothing and is let
    be.
    """
    version = connection.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise StoreError(f"{path}: was written by a newer tracker (schema {version} > {SCHEMA_VERSION}); upgrade the tracker")
    actual = _table_columns(connection)
    expected, expected_triggers = _expected_schema(version)
    if actual and not set(actual) & set(expected):
        # Nothing of the tracker's in it (an empty file has no tables at all): someone else's database.
        names = sorted(actual)
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        raise StoreError(f"{path}: is not a tracker store (it holds tables the tracker never makes: {shown}); point "
                         "--db at another file or move this one away — the tracker changed nothing in it")
    if not actual and version == 0:
        return  # a new store
    problems = []
    for table, columns in expected.items():
        if table not in actual:
            problems.append(f"it has no table {table}")
            continue
        problems += [f"table {table} has no column {column}" for column in columns if column not in actual[table]]
        problems += [f"table {table} has a column {column} the tracker never makes"
                     for column in actual[table] if column not in columns]
    triggers = _triggers(connection)
    problems += [f"it has a trigger {name}, which the tracker never makes" for name in triggers
                 if name not in expected_triggers]
    # A trigger of a table that is missing went with it: the missing table says it.
    problems += [f"it has no trigger {name}" for name, table in expected_triggers.items()
                 if name not in triggers and table in actual]
    if problems:
        more = " and more" if len(problems) > 1 else ""
        raise StoreError(f"{path}: this store's schema was changed outside the tracker ({problems[0]}{more}); "
                         f"{_DAMAGED_FIX}")


def _table_columns(connection: sqlite3.Connection) -> dict[str, tuple[str, ...]]:
    """Each table's column names in order, SQLite's own tables left out."""
    columns: dict[str, list[str]] = {}
    rows = connection.execute(
        "SELECT m.name, c.name FROM sqlite_master m JOIN pragma_table_info(m.name) c "
        "WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite^_%' ESCAPE '^' ORDER BY m.name, c.cid")
    for table, column in rows:
        columns.setdefault(table, []).append(column)
    return {table: tuple(names) for table, names in columns.items()}


def _triggers(connection: sqlite3.Connection) -> dict[str, str]:
    """Each trigger's table, by the trigger's name."""
    return dict(connection.execute("SELECT name, tbl_name FROM sqlite_master WHERE type = 'trigger' ORDER BY name"))


@functools.cache
def _expected_schema(version: int) -> tuple[dict[str, tuple[str, ...]], dict[str, str]]:
    """The tables and columns, and the triggers, the migrations up to `version` make, built once in memory."""
    scratch = sqlite3.connect(":memory:")
    try:
        for migration in MIGRATIONS[:version]:
            scratch.executescript(migration)
        return _table_columns(scratch), _triggers(scratch)
    finally:
        scratch.close()


def _check_or_migrate(connection: sqlite3.Connection, path: Path, read_only: bool) -> None:
    version = connection.execute("PRAGMA user_version").fetchone()[0]
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
    # executescript() would commit the open transaction; run the statements one by one inside it instead. A
    # piece joins the next until SQLite calls it complete: a trigger's body holds semicolons of its own.
    statements, pending = [], ""
    for piece in script.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            statements.append(pending)
            pending = ""
    return [statement for statement in statements if statement.strip(" \n;")]


@contextlib.contextmanager
def transaction(connection: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """Run a block as one IMMEDIATE transaction: all of it commits, or none of it does."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield connection
    except BaseException:
        # SQLite may have rolled back already (a full disk, an I/O error): a second ROLLBACK would hide why.
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise
    try:
        if _keeps_summaries(connection):
            summaries.flush(connection)
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


def _keeps_summaries(connection: sqlite3.Connection) -> bool:
    return connection.execute("PRAGMA user_version").fetchone()[0] >= _SUMMARIES_VERSION


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


@contextlib.contextmanager
def reading(path: Path, *, check: bool = False) -> Iterator[sqlite3.Connection]:
    """A read-only connection to the store holding one committed snapshot for the block, closed after it.

    What every reader (the CLI's reports, exports, the dashboard, the scheduler) does: it never creates, migrates
    or writes the file. `check` runs `PRAGMA quick_check` first, as `connect` does.
    """
    connection = connect(path, read_only=True, check=check)
    try:
        with read_snapshot(connection):
            yield connection
    finally:
        connection.close()


def checkpoint(connection: sqlite3.Connection) -> None:
    """Fold the WAL back into the database so it cannot grow without bound while readers stay open."""
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
