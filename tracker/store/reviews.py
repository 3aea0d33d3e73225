"""Reviews: the stances people gave (article, cause) pairs, kept apart from the machine's and never deleted by a job.

The table is additive and created by the first review written (`CREATE TABLE IF NOT EXISTS`), not by a numbered
migration: a migration raises the schema version, and a tracker of an earlier version refuses a store whose
version is newer than its own, while one that ignores an extra table reads this store as before. Readers treat
a store without the table as one without reviews.

It has no foreign key to `articles`: a `DeleteCitation`, a fetch that drops an article or a cause removed from
the hypotheses file leaves the reviews in place, parked (not counted) until the article or cause comes back.

`load_stance_frame` is the one read of stances: every count, page and export gets the reviewed stance from it.
The dashboard writes only through `write_review` (a review, or an undo of one), a short transaction that waits at
most a second for a job's batch and then asks the user to try again.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import pandas as pd

from tracker.analysis.reviews import (
    REVIEW_COLUMNS,
    Review,
    ReviewUndo,
    apply_reviews,
    review_states,
    sentence_in_text,
    text_fingerprint,
)
from tracker.errors import StoreError, rows_refused
from tracker.models import STANCES
from tracker.store.articles import PMIDS_PER_QUERY
from tracker.store.catalogue import STANCE_COLUMNS, load_stance_frame as load_machine_stance_frame
from tracker.store.connection import REVIEWS_TABLE as _REVIEWS_TABLE, connect, read_snapshot, transaction

# What each stored review holds: the review file's fields, then what the store adds at writing time (the machine's
# reading and its rules version then, and a fingerprint of the title and abstract it was read against).
REVIEW_TABLE_COLUMNS = ("pmid", "hypothesis_id", "stance", "reviewer", "reviewed_at", "sentence", "note",
                        "machine_stance", "rules_version", "text_fingerprint")
# How long a review waits for a fetch's or retag's batch: longer, and the dashboard's click would seem lost.
REVIEW_WAIT_S = 1.0


def _has_reviews(connection: sqlite3.Connection) -> bool:
    return connection.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'reviews'").fetchone() is not None


def load_reviews(connection: sqlite3.Connection) -> pd.DataFrame:
    """Every stored review, parked ones included, oldest first: REVIEW_TABLE_COLUMNS."""
    if not _has_reviews(connection):
        return pd.DataFrame({name: pd.Series(dtype="int64" if name == "pmid" else object)
                             for name in REVIEW_TABLE_COLUMNS})
    frame = pd.read_sql_query(
        f"SELECT {', '.join(REVIEW_TABLE_COLUMNS)} FROM reviews ORDER BY reviewed_at, pmid, hypothesis_id, reviewer",
        connection)
    frame["pmid"] = frame["pmid"].astype("int64")
    return frame


def _texts(connection: sqlite3.Connection, pmids: Iterable[int]) -> pd.DataFrame:
    """The title and abstract of those of `pmids` that are stored: pmid, title, abstract."""
    wanted = sorted({int(pmid) for pmid in pmids})
    rows: list[tuple] = []
    for start in range(0, len(wanted), PMIDS_PER_QUERY):
        chunk = wanted[start:start + PMIDS_PER_QUERY]
        rows += [tuple(row) for row in connection.execute(
            f"SELECT pmid, title, abstract FROM articles WHERE pmid IN ({', '.join('?' * len(chunk))})", chunk)]
    return pd.DataFrame(rows, columns=["pmid", "title", "abstract"])


def load_review_states(connection: sqlite3.Connection) -> pd.DataFrame:
    """Each reviewed pair's counted review, stale and disagreement flags (`reviews.review_states`)."""
    with read_snapshot(connection):
        reviews = load_reviews(connection)
        texts = _texts(connection, reviews["pmid"].unique().tolist())
    return review_states(reviews, texts)


def load_stance_frame(connection: sqlite3.Connection, pmids: Iterable[int] | None = None,
                      columns: Iterable[str] = STANCE_COLUMNS,
                      hypothesis_ids: Iterable[str] | None = None) -> pd.DataFrame:
    """The stance rows every count reads (all, or those of `pmids`): a reviewed pair's stance is the reviewed one.

    pmid, hypothesis_id and the named columns, STANCE_COLUMNS or `reviews.REVIEW_COLUMNS` (the machine's stance,
    who reviewed the pair and when, the note, stale and disagreement flags), ordered by PMID then cause. With
    `hypothesis_ids` (the configured causes) the rows of other ids are left out, as `catalogue.load_stance_frame`
    leaves them out.
    """
    wanted = list(columns)
    unknown = set(wanted) - set(STANCE_COLUMNS) - set(REVIEW_COLUMNS)
    if unknown:
        raise ValueError(f"not a stance column: {', '.join(sorted(unknown))}; choose from "
                         f"{', '.join((*STANCE_COLUMNS, *REVIEW_COLUMNS))}")
    with_review_columns = any(name in REVIEW_COLUMNS for name in wanted)
    stance_columns = [name for name in wanted if name in STANCE_COLUMNS]
    if with_review_columns and "stance" not in stance_columns:
        stance_columns.insert(0, "stance")
    with read_snapshot(connection):
        machine = load_machine_stance_frame(connection, pmids, columns=stance_columns, hypothesis_ids=hypothesis_ids)
        states = load_review_states(connection)
    effective = apply_reviews(machine, states, with_review_columns)
    return effective[["pmid", "hypothesis_id", *wanted]]


def _machine_readings(connection: sqlite3.Connection, pmids: list[int]) -> dict[tuple[int, str], tuple[str, str]]:
    readings: dict[tuple[int, str], tuple[str, str]] = {}
    for start in range(0, len(pmids), PMIDS_PER_QUERY):
        chunk = pmids[start:start + PMIDS_PER_QUERY]
        for row in connection.execute(
                f"SELECT pmid, hypothesis_id, stance, rules_version FROM stances "
                f"WHERE pmid IN ({', '.join('?' * len(chunk))})", chunk):
            readings[(row[0], row[1])] = (row[2], row[3])
    return readings


def _stored_reviews(connection: sqlite3.Connection, pmids: list[int]) -> dict[tuple, sqlite3.Row]:
    stored: dict[tuple, sqlite3.Row] = {}
    for start in range(0, len(pmids), PMIDS_PER_QUERY):
        chunk = pmids[start:start + PMIDS_PER_QUERY]
        for row in connection.execute(
                f"SELECT pmid, hypothesis_id, reviewer, reviewed_at, stance, sentence, note FROM reviews "
                f"WHERE pmid IN ({', '.join('?' * len(chunk))})", chunk):
            stored[(row[0], row[1], row[2], row[3])] = row
    return stored


def save_reviews(connection: sqlite3.Connection, reviews: Sequence[Review], cause_ids: Iterable[str],
                 where: Sequence[str], *, replace: bool = False) -> int:
    """Add checked reviews (`reviews.check_review`), all or none; call inside `transaction()`. Return how many
    were new.

    Refused, naming the review by its `where` and the fix: an unknown cause, a PMID not stored, a sentence that is
    not in the article's title or abstract, and a review whose key (PMID, cause, reviewer, time) is stored with
    other content, unless `replace` (the same person changing their mind within the second). A review stored
    exactly as given is skipped, so importing a file twice adds nothing.
    """
    connection.execute(_REVIEWS_TABLE)
    causes = list(cause_ids)
    pmids = sorted({review.pmid for review in reviews})
    texts = _texts(connection, pmids)
    text_of = dict(zip(texts["pmid"].tolist(), zip(texts["title"].tolist(), texts["abstract"].tolist())))
    readings = _machine_readings(connection, pmids)
    stored = _stored_reviews(connection, pmids)
    problems: list[tuple[str, str]] = []
    rows: dict[tuple, tuple] = {}
    for review, label in zip(reviews, where):
        key = (review.pmid, review.hypothesis, review.reviewer, review.reviewed_at)
        content = (review.stance, review.sentence, review.note)
        problem = None
        if review.hypothesis not in causes:
            problem = f"unknown cause {review.hypothesis!r}; use one of {', '.join(causes)}"
        elif review.pmid not in text_of:
            problem = f"PMID {review.pmid} is not in the store; fetch or import the article first, or drop the row"
        elif review.sentence and not sentence_in_text(review.sentence, *text_of[review.pmid]):
            problem = (f"the sentence is not in PMID {review.pmid}'s title or abstract; copy it from the abstract as "
                       f"it stands, or leave it empty")
        elif not replace and key in stored and tuple(stored[key])[4:] != content:
            problem = (f"{review.reviewer} already has a review of PMID {review.pmid} for {review.hypothesis} at "
                       f"{review.reviewed_at}, with stance {stored[key]['stance']}; give this one a later "
                       f"reviewed_at, or drop the row")
        elif key in rows and rows[key][4:7] != content:
            problem = (f"a second review of PMID {review.pmid} for {review.hypothesis} by {review.reviewer} at "
                       f"{review.reviewed_at} with other content; keep one of them")
        elif replace or key not in stored:
            machine_stance, rules_version = readings.get((review.pmid, review.hypothesis), (None, None))
            rows[key] = (*key, *content, machine_stance, rules_version, text_fingerprint(*text_of[review.pmid]))
        if problem:
            problems.append((label, f"{label}: {problem}"))
    if problems:
        raise rows_refused(problems)
    connection.executemany(
        f"INSERT OR REPLACE INTO reviews (pmid, hypothesis_id, reviewer, reviewed_at, stance, sentence, note, "
        f"machine_stance, rules_version, text_fingerprint) VALUES ({', '.join('?' * 10)})", list(rows.values()))
    return len(rows)


@contextlib.contextmanager
def _short_write(path: Path, busy_timeout_s: float) -> Iterator[sqlite3.Connection]:
    """A write transaction that waits at most `busy_timeout_s` for another writer, then says to try again."""
    path = Path(path)
    try:
        with (contextlib.closing(connect(path, check=False, busy_timeout_s=busy_timeout_s)) as connection,
              transaction(connection)):
            yield connection
    except StoreError as error:
        cause = error.__cause__
        code = getattr(cause, "sqlite_errorcode", None)
        if code is not None and code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
            raise StoreError(f"{path}: the store is busy (a fetch, import or retag is writing a batch); nothing "
                             f"was saved: try again in a moment") from None
        raise


def write_review(path: Path, change: Review | ReviewUndo, cause_ids: Iterable[str], *,
                 busy_timeout_s: float = REVIEW_WAIT_S) -> Review | None:
    """Store one checked review, or take one back, in its own short transaction: the dashboard's one write (and
    `tracker review set`'s and `undo`'s). Return the review stored, or the one taken back (None when the reviewer
    had none of the pair).

    A review by the same person of the same pair within the same second replaces the first. An undo deletes the
    reviewer's latest review of the pair: their earlier one, if any, counts again. A store that another writer
    holds for longer than `busy_timeout_s` is a StoreError that says to try again; nothing is written.
    """
    with _short_write(path, busy_timeout_s) as connection:
        if isinstance(change, ReviewUndo):
            return _undo_latest(connection, change)
        save_reviews(connection, [change], cause_ids,
                     [f"review of PMID {change.pmid} for {change.hypothesis}"], replace=True)
        return change


def _undo_latest(connection: sqlite3.Connection, undo: ReviewUndo) -> Review | None:
    connection.execute(_REVIEWS_TABLE)
    row = connection.execute(
        "SELECT pmid, hypothesis_id, stance, reviewer, reviewed_at, sentence, note FROM reviews "
        "WHERE pmid = ? AND hypothesis_id = ? AND reviewer = ? ORDER BY reviewed_at DESC LIMIT 1",
        (int(undo.pmid), undo.hypothesis, undo.reviewer)).fetchone()
    if row is None:
        return None
    connection.execute("DELETE FROM reviews WHERE pmid = ? AND hypothesis_id = ? AND reviewer = ? "
                       "AND reviewed_at = ?", (row["pmid"], row["hypothesis_id"], row["reviewer"],
                                               row["reviewed_at"]))
    return Review(pmid=row["pmid"], hypothesis=row["hypothesis_id"], stance=row["stance"], reviewer=row["reviewer"],
                  reviewed_at=row["reviewed_at"], sentence=row["sentence"], note=row["note"])


def load_review_summary(connection: sqlite3.Connection, cause_ids: Iterable[str]) -> dict[str, int]:
    """How many pairs have reviews, how many of them are parked (their article or cause absent, or the article
    no longer tagged with the cause: not counted) and how many counted reviews are stale."""
    if not _has_reviews(connection):
        return {"reviewed_pairs": 0, "parked": 0, "stale": 0}
    causes = sorted(set(cause_ids))
    with read_snapshot(connection):
        pairs, parked = connection.execute(
            "SELECT count(*), coalesce(sum(CASE WHEN r.hypothesis_id NOT IN "
            f"({', '.join('?' * len(causes)) or 'NULL'}) OR NOT EXISTS (SELECT 1 FROM stances s "
            "WHERE s.pmid = r.pmid AND s.hypothesis_id = r.hypothesis_id) THEN 1 ELSE 0 END), 0) "
            "FROM (SELECT DISTINCT pmid, hypothesis_id FROM reviews) r", causes).fetchone()
        states = load_review_states(connection)
    return {"reviewed_pairs": int(pairs), "parked": int(parked), "stale": int(states["stale"].sum())}
