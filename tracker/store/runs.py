"""Runs and sync state: what each fetch or import did, stored first or changed; what each query last returned."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
import pandas as pd

from tracker.models import RunHistory
from tracker.store.connection import read_snapshot, transaction, utc_now

RUN_KINDS = ("fetch", "import")
# save_articles' outcome → what a run did to the article; "unchanged" leaves no trace.
_RUN_CHANGES = {"new": "new", "updated": "changed"}


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


def reset_modified_since(connection: sqlite3.Connection, hypothesis_id: str, modified_since: str) -> None:
    """Move a hypothesis' modification watermark back (one a wrong clock set in the future)."""
    with transaction(connection):
        connection.execute("UPDATE sync_state SET modified_since = ? WHERE hypothesis_id = ?",
                           (modified_since, hypothesis_id))


def newest_revision(connection: sqlite3.Connection) -> str | None:
    """The newest DateRevised stored ("YYYY-MM-DD"): a date PubMed itself has reached, whatever a clock says."""
    return connection.execute("SELECT MAX(revised_date) FROM articles").fetchone()[0]


def load_sync_state(connection: sqlite3.Connection, hypothesis_id: str) -> sqlite3.Row | None:
    """The hypothesis' last successful sync, or None before the first."""
    return connection.execute("SELECT * FROM sync_state WHERE hypothesis_id = ?", (hypothesis_id,)).fetchone()


def load_status_frame(connection: sqlite3.Connection) -> pd.DataFrame:
    """Per hypothesis: last successful sync, PubMed count, stored count, and the newest run's outcome for it.

    The stored count is the articles PubMed's query found (its links), summed from the store's summary by source
    (`summaries`: a link is a pair found by 'query' or 'query+text'), not counted over every link.
    """
    return pd.read_sql_query(
        """
        WITH ids AS (
            SELECT hypothesis_id FROM sync_state
            UNION SELECT hypothesis_id FROM fetch_run_hypotheses
            UNION SELECT hypothesis_id FROM summary_by_source WHERE source != 'text'
        ),
        latest AS (
            SELECT frh.hypothesis_id, frh.run_id, frh.status, frh.error,
                   ROW_NUMBER() OVER (PARTITION BY frh.hypothesis_id ORDER BY frh.run_id DESC) AS position
            FROM fetch_run_hypotheses frh
        )
        SELECT ids.hypothesis_id,
               s.last_success_at,
               s.pubmed_count,
               (SELECT coalesce(SUM(b.articles), 0) FROM summary_by_source b
                WHERE b.hypothesis_id = ids.hypothesis_id AND b.source != 'text') AS stored_count,
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


def load_runs_frame(connection: sqlite3.Connection, limit: int = 20, kind: str | None = None) -> pd.DataFrame:
    """The most recent runs (of one of RUN_KINDS, or all), newest first."""
    return pd.read_sql_query(
        "SELECT * FROM fetch_runs WHERE ? IS NULL OR kind = ? ORDER BY id DESC LIMIT ?", connection,
        params=(kind, kind, limit))


def load_last_successful_run(connection: sqlite3.Connection) -> dict[str, object] | None:
    """The newest fetch run that succeeded, however many failed runs came after it; None before the first."""
    row = connection.execute(
        "SELECT * FROM fetch_runs WHERE status = 'succeeded' AND kind = 'fetch' ORDER BY id DESC LIMIT 1").fetchone()
    return None if row is None else dict(row)


def pmids_changed_since_start(connection: sqlite3.Connection, run_id: int) -> set[int]:
    """The PMIDs stored for the first time or changed since this run started."""
    started_at = connection.execute("SELECT started_at FROM fetch_runs WHERE id = ?", (run_id,)).fetchone()[0]
    return {row[0] for row in connection.execute("SELECT pmid FROM articles WHERE last_changed >= ?", (started_at,))}


def pmids_stored_since(connection: sqlite3.Connection, moment: str, entered_since: str) -> set[int]:
    """The PMIDs whose stored copy was saved (first, or changed) at or after `moment` (an ISO date or time, UTC)
    and that entered PubMed on or after the date `entered_since`."""
    return {row[0] for row in connection.execute(
        "SELECT pmid FROM articles WHERE last_changed >= ? AND entry_date >= ?", (moment, entered_since))}


def load_run_hypotheses_frame(connection: sqlite3.Connection, run_id: int) -> pd.DataFrame:
    """One run's per-hypothesis log."""
    return pd.read_sql_query(
        "SELECT * FROM fetch_run_hypotheses WHERE run_id = ? ORDER BY hypothesis_id", connection, params=(run_id,))


def record_run_articles(connection: sqlite3.Connection, run_id: int, outcomes: Mapping[int, str]) -> None:
    """Record what a run did to the articles it saved (`save_articles`' outcomes); call in the same transaction.

    "new" and "updated" become the run's "new" and "changed" rows; "unchanged" leaves none. An article a run
    saves twice (PubMed's missing ids asked again) keeps its first row, so one new in the run stays new. The
    store's triggers count the rows per run (`run_counts`) in the same transaction.
    """
    connection.executemany(
        "INSERT OR IGNORE INTO run_articles (run_id, pmid, change) VALUES (?, ?, ?)",
        [(run_id, pmid, _RUN_CHANGES[outcome]) for pmid, outcome in outcomes.items() if outcome in _RUN_CHANGES],
    )


def record_import_run(connection: sqlite3.Connection, file_names: Sequence[str], started_at: str) -> int:
    """Log an import as a succeeded run of kind "import" naming its files; return its id.

    Call inside the import's own transaction: an import is all or nothing, so a failed one leaves no run.
    """
    cursor = connection.execute(
        "INSERT INTO fetch_runs (started_at, finished_at, status, kind, files) VALUES (?, ?, 'succeeded', 'import', ?)",
        (started_at, utc_now(), json.dumps(list(file_names), ensure_ascii=False)))
    return int(cursor.lastrowid)


def load_run_history(connection: sqlite3.Connection) -> RunHistory:
    """Every run and its new and changed articles, read in one snapshot."""
    with read_snapshot(connection):
        runs = load_run_list(connection)
        changes = pd.read_sql_query("SELECT run_id, pmid, change FROM run_articles ORDER BY run_id, pmid", connection)
    changes = changes.astype({"run_id": "int64", "pmid": "int64"})
    return RunHistory(runs, changes)


def load_run_list(connection: sqlite3.Connection) -> pd.DataFrame:
    """Every run with how many articles it stored first and changed (RunHistory's runs, without the articles),
    from the counts the store keeps per run (`run_counts`), not from every article's run rows."""
    runs = pd.read_sql_query(
        "SELECT r.id, r.kind, r.status, r.started_at, r.finished_at, r.files, r.error, "
        "COALESCE(SUM(CASE rc.change WHEN 'new' THEN rc.articles END), 0) AS new_count, "
        "COALESCE(SUM(CASE rc.change WHEN 'changed' THEN rc.articles END), 0) AS changed_count "
        "FROM fetch_runs r LEFT JOIN run_counts rc ON rc.run_id = r.id GROUP BY r.id ORDER BY r.id",
        connection)
    # A fetch has no files: NULL, which pandas reads as NaN once an import's text shares the column.
    runs["files"] = pd.Series([json.loads(files) if isinstance(files, str) else [] for files in runs["files"]],
                              index=runs.index, dtype=object)
    for column in ("id", "new_count", "changed_count"):
        runs[column] = runs[column].astype("int64")
    return runs
