"""Fetch-run bookkeeping and per-hypothesis sync state: what ran, how it ended, what each query last returned."""

from __future__ import annotations

import sqlite3

import pandas as pd

from tracker.store.connection import transaction, utc_now


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
