"""The fetch job: date windows → esearch → efetch batches → parse → store → tag.

This is the one place that calls the steps in order. A run:

1. asks PubMed, per hypothesis, for its whole result set of PMIDs (split into Entrez-date windows when it passes
   esearch's 9,999-record cap) and, when it synced before, for the PMIDs modified since then (`mdat`);
2. efetches, once across all hypotheses, the PMIDs not stored yet and the stored ones that changed, in batches
   that each commit atomically with their hypothesis links;
3. per hypothesis, in one transaction, drops links PubMed no longer returns, checks coverage
   (stored == PubMed's count) and only then advances the sync state.

Comparing whole id sets, not only recent Entrez dates, is what catches a record that entered PubMed late with an
old publication date. A run killed at any instant leaves whole batches behind; the next run fetches the rest.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Protocol

import numpy as np

from tracker import store
from tracker.config import Hypothesis, Settings
from tracker.errors import EutilsError, EutilsQueryError, ParseError
from tracker.pubmed.client import EutilsClient
from tracker.models import Article, Deletion
from tracker.pubmed.parse import iter_pubmed_records
from tracker.jobs.retag import refresh_tags
from tracker.analysis.tagging import compile_rules
from tracker.vocabulary import FIRST_PUBMED_YEAR
from tracker.wording import counted

# The name log lines have always carried (scheduler logs and -v output are read by it).
log = logging.getLogger("tracker.fetch")

# Entrez dates start with PubMed's oldest records; the window's end moves with the clock.
EARLIEST_ENTREZ_DATE = date(FIRST_PUBMED_YEAR, 1, 1)
# NCBI dates are US Eastern and the modification date has a one-day grain: look a day further back than needed.
MODIFIED_MARGIN = timedelta(days=1)


class FetchProgress(Protocol):
    """What the CLI shows while a fetch runs."""

    def searched(self, hypothesis_id: str, count: int, window_count: int) -> None: ...

    def fetching(self, pmid_count: int, batch_count: int) -> None: ...

    def batch_done(self, record_count: int) -> None: ...

    def tagged(self, done: int, total: int) -> None: ...


class _SilentProgress:
    def searched(self, hypothesis_id: str, count: int, window_count: int) -> None:
        pass

    def fetching(self, pmid_count: int, batch_count: int) -> None:
        pass

    def batch_done(self, record_count: int) -> None:
        pass

    def tagged(self, done: int, total: int) -> None:
        pass


@dataclass
class HypothesisOutcome:
    """One hypothesis' line of the run summary."""

    hypothesis_id: str
    status: str = "failed"
    pubmed_count: int | None = None
    stored_count: int | None = None
    new_count: int = 0
    updated_count: int = 0
    removed_count: int = 0
    error: str | None = None


@dataclass
class FetchReport:
    """What a run did: per-hypothesis outcomes and the requests it cost."""

    run_id: int
    status: str
    outcomes: list[HypothesisOutcome]
    esearch_requests: int = 0
    efetch_requests: int = 0
    fetched_records: int = 0
    elapsed_s: float = 0.0
    error: str | None = None

    @property
    def succeeded(self) -> bool:
        """True when every hypothesis synced."""
        return self.status == "succeeded"


# PMIDs are held as sorted int64 arrays, not sets of Python ints: 8 bytes a record where a set takes about 60, so
# that a sync of 200,000 records needs little more memory than one of 20,000.
_NO_PMIDS = np.zeros(0, dtype="int64")


def _pmid_array(pmids: Iterable[int]) -> np.ndarray:
    """Sorted distinct PMIDs as an int64 array."""
    return np.unique(np.fromiter(pmids, dtype="int64"))


def _contains(sorted_pmids: np.ndarray, pmids: np.ndarray) -> np.ndarray:
    """Per PMID of `pmids`, whether it is in `sorted_pmids` (a binary search each: `pmids` is the small one)."""
    places = np.minimum(np.searchsorted(sorted_pmids, pmids), max(len(sorted_pmids) - 1, 0))
    return sorted_pmids[places] == pmids if len(sorted_pmids) else np.zeros(len(pmids), dtype=bool)


@dataclass
class _SearchResult:
    hypothesis: Hypothesis
    pmids: np.ndarray  # sorted
    pubmed_count: int
    query_translation: str | None
    window_count: int
    searched_on: date
    linked_before: np.ndarray  # sorted
    modified_pmids: np.ndarray = field(default_factory=lambda: _NO_PMIDS)


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def run_fetch(settings: Settings, hypothesis_ids: Iterable[str] | None = None, full: bool = False,
              progress: FetchProgress | None = None, client: EutilsClient | None = None,
              clock: Callable[[], datetime] = _utc_now) -> FetchReport:
    """Sync the store with PubMed for the chosen hypotheses (all by default).

    `clock` gives the current time (timezone-aware): it decides NCBI's "today", the end of every date window.
    """
    hypotheses = _choose(settings, hypothesis_ids)
    # Checked before anything is fetched or written: a bad tagging term must not cost a whole sync first.
    rules = compile_rules(settings.hypotheses, source=str(settings.hypotheses_path))
    progress = progress or _SilentProgress()
    started = time.monotonic()
    connection = store.connect(settings.db_path)
    run_id = store.start_run(connection, full_sync=full)
    own_client = client is None
    client = client or EutilsClient(settings, now=clock)
    outcomes = {h.id: HypothesisOutcome(h.id) for h in hypotheses}
    fetched_records = 0
    run_error: str | None = None
    try:
        # NCBI's dates are its own (US Eastern); UTC's date, with the one-day margins below, covers them.
        today = clock().astimezone(timezone.utc).date()
        searches = _search_all(client, connection, hypotheses, outcomes, full, progress, today)
        fetched_records, missing = _fetch_records(client, connection, settings, searches, full, outcomes, progress,
                                                  run_id)
        affected = _finish_hypotheses(connection, run_id, searches, missing, outcomes)
        refresh_tags(connection, rules, affected, progress=progress.tagged)
    except (EutilsError, ParseError) as error:
        # Not a query's own fault (network, NCBI down, unreadable replies): stop the whole run, keep what committed.
        run_error = str(error)
        for outcome in outcomes.values():
            if outcome.status != "succeeded" and outcome.error is None:
                outcome.error = run_error
    except BaseException as error:
        # Ctrl-C, a full disk, a bug: the run is logged as failed with the reason, and the error goes on up.
        run_error = f"the run stopped: {type(error).__name__}" + (f": {error}" if str(error) else "")
        raise
    finally:
        status = "succeeded" if all(o.status == "succeeded" for o in outcomes.values()) else "failed"
        if status == "failed" and run_error is None:
            failed = [o for o in outcomes.values() if o.status != "succeeded"]
            run_error = "; ".join(f"{o.hypothesis_id}: {o.error}" for o in failed)
        _log_outcomes(connection, run_id, outcomes)
        store.finish_run(connection, run_id, status, run_error, requests=client.requests_made,
                         efetch_requests=client.request_counts["efetch.fcgi"])
        store.checkpoint(connection)
        connection.close()
        if own_client:
            client.close()
    return FetchReport(
        run_id=run_id, status=status, outcomes=list(outcomes.values()),
        esearch_requests=client.request_counts["esearch.fcgi"], efetch_requests=client.request_counts["efetch.fcgi"],
        fetched_records=fetched_records, elapsed_s=time.monotonic() - started, error=run_error,
    )


def _choose(settings: Settings, hypothesis_ids: Iterable[str] | None) -> list[Hypothesis]:
    if not hypothesis_ids:
        return list(settings.hypotheses)
    chosen: list[Hypothesis] = []
    for hypothesis_id in hypothesis_ids:
        hypothesis = settings.hypothesis(hypothesis_id)
        if hypothesis not in chosen:
            chosen.append(hypothesis)
    return chosen


# --- 1. search --------------------------------------------------------------------------------------------------

def _search_all(client: EutilsClient, connection: sqlite3.Connection, hypotheses: list[Hypothesis],
                outcomes: dict[str, HypothesisOutcome], full: bool, progress: FetchProgress,
                today: date) -> list[_SearchResult]:
    searches: list[_SearchResult] = []
    for hypothesis in hypotheses:
        try:
            search = _search_hypothesis(client, connection, hypothesis, full, today)
        except EutilsQueryError as error:
            # The query itself is wrong: that hypothesis fails, the others still sync.
            outcomes[hypothesis.id].error = f"{error}; fix its query in the hypotheses file"
            log.error("%s: %s", hypothesis.id, error)
            continue
        outcomes[hypothesis.id].pubmed_count = search.pubmed_count
        progress.searched(hypothesis.id, search.pubmed_count, search.window_count)
        searches.append(search)
    return searches


def _search_hypothesis(client: EutilsClient, connection: sqlite3.Connection, hypothesis: Hypothesis, full: bool,
                       today: date) -> _SearchResult:
    first = client.esearch(hypothesis.query, retmax=client.esearch_cap)
    ncbi_today = _ncbi_today(client, connection, today)
    # Windows end at the later of the two clocks: one running behind must not cut off what NCBI already has.
    window_end = max(today, ncbi_today) + timedelta(days=1)
    if first.count <= client.esearch_cap:
        pmids, window_count = _pmid_array(first.pmids), 1
        if len(pmids) != first.count:
            raise EutilsError(f"esearch.fcgi: PubMed counted {counted(first.count, 'record')} for [{hypothesis.id}] but listed "
                              f"{len(pmids)}; run `tracker fetch` again")
    else:
        pmids, window_count = _collect_in_windows(client, hypothesis, "edat", EARLIEST_ENTREZ_DATE, window_end)
        if len(pmids) != first.count:
            # Records added while we paged change the sum; one more pass settles it, a second mismatch is an error.
            first = client.esearch(hypothesis.query, retmax=0)
            if len(pmids) != first.count:
                raise EutilsError(
                    f"esearch.fcgi: [{hypothesis.id}] date windows add up to {counted(len(pmids), 'record')} but PubMed "
                    f"counts {first.count}; run `tracker fetch` again")
    linked_before = _pmid_array(store.linked_pmids(connection, hypothesis.id))
    search = _SearchResult(hypothesis, pmids, first.count, first.query_translation, window_count,
                           searched_on=ncbi_today, linked_before=linked_before)
    state = store.load_sync_state(connection, hypothesis.id)
    if state is not None and not full and state["query"] == hypothesis.query:
        # In the future is after NCBI's today when it said one, else after ours (the newest revision can be old).
        from_server = client.server_now is not None
        since = _checked_watermark(connection, hypothesis.id, date.fromisoformat(state["modified_since"]),
                                   ncbi_today if from_server else today, from_server)
        modified, _ = _collect_in_windows(client, hypothesis, "mdat", since, window_end)
        search.modified_pmids = np.intersect1d(modified, pmids)
        if since + MODIFIED_MARGIN == search.searched_on:
            # A re-run on the day of the last sync. PubMed dates a modification by the day, so the window holds
            # again every record that entered PubMed inside it (its modification date is its entry): those stored
            # today are left to the first run of a later day, whose window reaches back over today. A record that
            # entered earlier and changed today (a retraction link) is fetched at once.
            search.modified_pmids = np.setdiff1d(search.modified_pmids, _pmid_array(store.pmids_stored_since(
                connection, today.isoformat(), entered_since=since.isoformat())))
    return search


def _ncbi_today(client: EutilsClient, connection: sqlite3.Connection, today: date) -> date:
    """NCBI's date as its replies state it; lacking that, today by our clock but never past the newest revision.

    The sync watermark is taken from this, not from our clock: a clock that ran ahead once would otherwise set it in
    the future, and every later run would ask for changes after a date PubMed has not reached.
    """
    if client.server_now is not None:
        return client.server_now.astimezone(timezone.utc).date()
    newest = _newest_revision(connection)
    return today if newest is None else min(today, newest)


def _newest_revision(connection: sqlite3.Connection) -> date | None:
    newest = store.newest_revision(connection)
    try:
        return None if newest is None else date.fromisoformat(newest)
    except ValueError:
        return None


def _checked_watermark(connection: sqlite3.Connection, hypothesis_id: str, since: date, ncbi_today: date,
                       from_server: bool) -> date:
    """The stored modification watermark, or, when it lies after `ncbi_today`, one reset to a date PubMed reached."""
    if since <= ncbi_today:
        return since
    newest = _newest_revision(connection)
    # A day before the newest revision stored: whatever changed after the run that set the future date is asked for.
    if newest is None:
        reset, reason = EARLIEST_ENTREZ_DATE, "as no revision is stored"
    else:
        reset, reason = min(newest, ncbi_today) - MODIFIED_MARGIN, "a day before the newest revision stored"
    whose_today = "NCBI's today" if from_server else "today"
    log.warning("[%s] the last sync's modification date %s is after %s (%s): a clock was ahead; reset to %s, %s",
                hypothesis_id, since, whose_today, ncbi_today, reset, reason)
    store.reset_modified_since(connection, hypothesis_id, reset.isoformat())
    return reset


def _collect_in_windows(client: EutilsClient, hypothesis: Hypothesis, datetype: str, start: date,
                        end: date) -> tuple[np.ndarray, int]:
    """All PMIDs of the query with `datetype` in [start, end], halving windows until each is under the cap."""
    result = client.esearch(hypothesis.query, retmax=client.esearch_cap, datetype=datetype,
                            mindate=_ncbi_date(start), maxdate=_ncbi_date(end))
    if result.count <= client.esearch_cap:
        if len(result.pmids) != result.count:
            raise EutilsError(f"esearch.fcgi: PubMed counted {counted(result.count, 'record')} for [{hypothesis.id}] "
                              f"{datetype} {start}..{end} but listed {len(result.pmids)}; run `tracker fetch` again")
        return _pmid_array(result.pmids), 1
    if start >= end:
        raise EutilsError(f"esearch.fcgi: [{hypothesis.id}] has {counted(result.count, 'record')} on the single day {start}, "
                          f"more than PubMed can list; narrow the query in the hypotheses file")
    middle = start + (end - start) // 2
    early, early_windows = _collect_in_windows(client, hypothesis, datetype, start, middle)
    late, late_windows = _collect_in_windows(client, hypothesis, datetype, middle + timedelta(days=1), end)
    return np.union1d(early, late), early_windows + late_windows


def _ncbi_date(day: date) -> str:
    return day.strftime("%Y/%m/%d")


# --- 2. fetch ---------------------------------------------------------------------------------------------------

def _fetch_records(client: EutilsClient, connection: sqlite3.Connection, settings: Settings, searches: list[_SearchResult], full: bool,
                   outcomes: dict[str, HypothesisOutcome], progress: FetchProgress,
                   run_id: int) -> tuple[int, set[int]]:
    """Efetch what is new or changed, once across hypotheses; return records stored and PMIDs PubMed withheld."""
    wanted = np.unique(np.concatenate([_NO_PMIDS, *(search.pmids for search in searches)]))
    stored = np.intersect1d(wanted, store.load_stored_pmids(connection))
    to_fetch = wanted if full else np.setdiff1d(wanted, stored)
    if not full:
        to_fetch = np.union1d(to_fetch, np.intersect1d(
            np.concatenate([_NO_PMIDS, *(search.modified_pmids for search in searches)]), stored))
    batches = [to_fetch[i:i + settings.batch_size] for i in range(0, len(to_fetch), settings.batch_size)]
    progress.fetching(len(to_fetch), len(batches))
    fetched = 0
    missing: set[int] = set()
    for batch in batches:
        articles, deletions = _efetch_batch(client, batch.tolist())
        returned = {a.pmid for a in articles} | {d.pmid for d in deletions}
        missing |= set(batch.tolist()) - returned
        _save_batch(connection, articles, deletions, _links_of(searches, batch), outcomes, run_id)
        fetched += len(articles)
        progress.batch_done(len(batch))
    if missing:
        # PubMed drops ids it cannot serve right now without a word; one more try for those alone.
        retried = _pmid_array(missing)
        articles, deletions = _efetch_batch(client, retried.tolist())
        _save_batch(connection, articles, deletions, _links_of(searches, retried), outcomes, run_id)
        fetched += len(articles)
        missing -= {a.pmid for a in articles} | {d.pmid for d in deletions}
    return fetched, missing


def _links_of(searches: list[_SearchResult], pmids: np.ndarray) -> dict[int, list[str]]:
    """The hypotheses whose search returned each of `pmids` (one batch), in the order of the searches."""
    links_by_pmid: dict[int, list[str]] = {}
    for search in searches:
        for pmid in pmids[_contains(search.pmids, pmids)].tolist():
            links_by_pmid.setdefault(pmid, []).append(search.hypothesis.id)
    return links_by_pmid


def _efetch_batch(client: EutilsClient, pmids: list[int]) -> tuple[list[Article], list[Deletion]]:
    body = client.efetch(pmids)
    asked = set(pmids)
    articles: list[Article] = []
    deletions: list[Deletion] = []
    for record in iter_pubmed_records(body):
        if record.pmid not in asked:
            # A DeleteCitation for a PMID this batch did not ask about must not remove it (it may be an article a
            # user imported); an unasked article is simply not ours to store.
            if isinstance(record, Deletion):
                log.warning("efetch: ignored a DeleteCitation for PMID %d, which this batch did not ask for",
                            record.pmid)
            continue
        if isinstance(record, Deletion):
            deletions.append(record)
        else:
            articles.append(record)
    return articles, deletions


def _save_batch(connection: sqlite3.Connection, articles: list[Article], deletions: list[Deletion],
                links_by_pmid: dict[int, list[str]], outcomes: dict[str, HypothesisOutcome], run_id: int) -> None:
    now = store.utc_now()
    with store.transaction(connection):
        results = store.save_articles(connection, articles, source="pubmed", now=now)
        store.record_run_articles(connection, run_id, results)
        by_hypothesis: dict[str, list[int]] = {}
        for article in articles:
            for hypothesis_id in links_by_pmid.get(article.pmid, ()):
                by_hypothesis.setdefault(hypothesis_id, []).append(article.pmid)
                if results[article.pmid] == "updated":
                    outcomes[hypothesis_id].updated_count += 1
        for hypothesis_id, pmids in by_hypothesis.items():
            store.link_hypothesis(connection, hypothesis_id, pmids, now)
        for hypothesis_id, pmids in _links_of_deleted(connection, deletions).items():
            if hypothesis_id in outcomes:
                outcomes[hypothesis_id].removed_count += len(pmids)
        store.delete_articles(connection, [d.pmid for d in deletions])


def _links_of_deleted(connection: sqlite3.Connection, deletions: list[Deletion]) -> dict[str, list[int]]:
    by_hypothesis: dict[str, list[int]] = {}
    for pmid, hypothesis_ids in store.hypotheses_of(connection, [d.pmid for d in deletions]).items():
        for hypothesis_id in hypothesis_ids:
            by_hypothesis.setdefault(hypothesis_id, []).append(pmid)
    return by_hypothesis


# --- 3. finish ----------------------------------------------------------------------------------------------------

def _finish_hypotheses(connection: sqlite3.Connection, run_id: int, searches: list[_SearchResult], missing: set[int],
                       outcomes: dict[str, HypothesisOutcome]) -> np.ndarray:
    """Unlink what PubMed no longer returns, check coverage, advance sync state; return PMIDs whose tags may change."""
    affected = [_NO_PMIDS]
    withheld_all = _pmid_array(missing)
    # Linking and unlinking leave the articles as they are: the stored PMIDs are read once for every hypothesis.
    stored = store.load_stored_pmids(connection)
    for search in searches:
        outcome = outcomes[search.hypothesis.id]
        withheld = np.intersect1d(search.pmids, withheld_all)
        now = store.utc_now()
        with store.transaction(connection):
            linked = _pmid_array(store.linked_pmids(connection, search.hypothesis.id))
            present = np.intersect1d(search.pmids, stored)
            dropped = np.setdiff1d(linked, search.pmids)
            store.unlink_hypothesis(connection, search.hypothesis.id, dropped.tolist())
            store.link_hypothesis(connection, search.hypothesis.id, present.tolist(), now)
            outcome.removed_count += len(dropped)
            outcome.new_count = len(np.setdiff1d(present, search.linked_before))
            outcome.stored_count = len(present)
            affected += [dropped, np.setdiff1d(present, linked)]
            if len(withheld) or len(present) != search.pubmed_count:
                absent = np.setdiff1d(search.pmids, present)
                example = int(withheld[0]) if len(withheld) else int(absent[0]) if len(absent) else None
                outcome.error = (f"stored {len(present)} of PubMed's {counted(search.pubmed_count, 'record')} "
                                 f"(PubMed did not return e.g. PMID {example}); run `tracker fetch` again")
                continue
            store.save_sync_state(
                connection, search.hypothesis.id, query=search.hypothesis.query,
                query_translation=search.query_translation, pubmed_count=search.pubmed_count,
                window_count=search.window_count, modified_since=(search.searched_on - MODIFIED_MARGIN).isoformat(),
                run_id=run_id)
            outcome.status = "succeeded"
    removed_orphans = _remove_orphans(connection)
    affected.append(_pmid_array(store.pmids_changed_since_start(connection, run_id)))
    return np.setdiff1d(np.unique(np.concatenate(affected)), _pmid_array(removed_orphans))


def _remove_orphans(connection: sqlite3.Connection) -> set[int]:
    """Delete fetched articles no hypothesis returns any more (imported ones stay: a user chose them)."""
    with store.transaction(connection):
        orphans = store.orphan_pmids(connection)
        store.delete_articles(connection, orphans)
    return orphans


def _log_outcomes(connection: sqlite3.Connection, run_id: int, outcomes: dict[str, HypothesisOutcome]) -> None:
    with store.transaction(connection):
        for outcome in outcomes.values():
            store.record_run_hypothesis(
                connection, run_id, outcome.hypothesis_id, outcome.status, pubmed_count=outcome.pubmed_count,
                stored_count=outcome.stored_count, new_count=outcome.new_count, updated_count=outcome.updated_count,
                removed_count=outcome.removed_count, error=outcome.error)

