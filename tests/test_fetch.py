"""The fetch job against the E-utilities stand-in: complete, incremental, atomic, and strict about errors."""

from __future__ import annotations

import math
import sqlite3
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from support.fetch_helpers import (BASELINE_QUERY, SEROTONIN_QUERY, SLEEP_QUERY, article_xml, make_settings,
                           seed_corpus)
from support.standin import EutilsStandin, Fault
from support.synthetic import synthetic_corpus

from tracker import store
from tracker.pubmed.client import EutilsClient
from tracker.jobs.fetch import run_fetch
from tracker.jobs.lock import job_lock

BASELINE = range(1000, 1040)
SEROTONIN = set(range(1000, 1040, 3))
SLEEP = set(range(1001, 1040, 4))


@pytest.fixture
def server():
    # No rate limit here: these tests skip the client's spacing (fake sleep); test_eutils checks the spacing.
    with EutilsStandin(rate_limit=False) as standin:
        seed_corpus(standin, BASELINE, SEROTONIN, SLEEP)
        yield standin


class SleepRecorder:
    def __init__(self) -> None:
        self.delays_s: list[float] = []

    def __call__(self, delay_s: float) -> None:
        self.delays_s.append(delay_s)


def fetch(settings, **options):
    client = EutilsClient(settings, sleep=SleepRecorder())
    try:
        return run_fetch(settings, client=client, **options), client
    finally:
        client.close()


def outcome_rows(report) -> dict[str, tuple]:
    return {o.hypothesis_id: (o.status, o.pubmed_count, o.stored_count, o.new_count, o.updated_count,
                              o.removed_count) for o in report.outcomes}


def linked(settings, hypothesis_id: str) -> set[int]:
    with store.reading(settings.db_path) as connection:
        return store.linked_pmids(connection, hypothesis_id)


def test_first_sync_stores_every_record_once_with_its_links(tmp_path: Path, server: EutilsStandin) -> None:
    settings = make_settings(tmp_path, server.base_url)
    report, _ = fetch(settings)
    assert report.status == "succeeded"
    assert outcome_rows(report) == {
        "fibromyalgia": ("succeeded", 40, 40, 40, 0, 0),
        "serotonin": ("succeeded", len(SEROTONIN), len(SEROTONIN), len(SEROTONIN), 0, 0),
        "sleep": ("succeeded", len(SLEEP), len(SLEEP), len(SLEEP), 0, 0),
    }
    # ids shared by several hypotheses are fetched once: the minimum number of efetch calls
    assert report.efetch_requests == math.ceil(40 / settings.batch_size)
    assert report.esearch_requests == 3
    assert linked(settings, "serotonin") == SEROTONIN
    assert linked(settings, "sleep") == SLEEP
    with store.reading(settings.db_path) as connection:
        state = connection.execute("SELECT hypothesis_id, pubmed_count, query_translation, window_count "
                                   "FROM sync_state ORDER BY hypothesis_id").fetchall()
        assert [tuple(row) for row in state] == [
            ("fibromyalgia", 40, '"fibromyalgia"[Title/Abstract]', 1),
            ("serotonin", len(SEROTONIN), '"fibromyalgia"[Title/Abstract] AND "serotonin"[Title/Abstract]', 1),
            ("sleep", len(SLEEP), '"fibromyalgia"[Title/Abstract] AND "sleep"[Title/Abstract]', 1),
        ]
        run = connection.execute("SELECT status, error, efetch_requests FROM fetch_runs").fetchone()
        assert tuple(run) == ("succeeded", None, 4)
        tagged = connection.execute("SELECT COUNT(DISTINCT pmid) FROM article_facets").fetchone()[0]
        assert tagged == 40


def test_rerun_with_nothing_new_costs_no_efetch(tmp_path: Path, server: EutilsStandin) -> None:
    settings = make_settings(tmp_path, server.base_url)
    fetch(settings)
    report, _ = fetch(settings)
    assert report.status == "succeeded"
    assert report.efetch_requests == 0
    # per hypothesis: the result set, and what was modified since the last sync
    assert report.esearch_requests == 6
    assert outcome_rows(report)["fibromyalgia"] == ("succeeded", 40, 40, 0, 0, 0)


def test_rerun_fetches_only_new_and_changed_and_unlinks_what_no_longer_matches(
        tmp_path: Path, server: EutilsStandin) -> None:
    settings = make_settings(tmp_path, server.base_url)
    fetch(settings)
    today = date.today()
    # a new record, and a record that entered PubMed late with an old publication (and Entrez) date
    server.add_record(2000, article_xml(2000, year=2024), edat=date(2024, 6, 1), pdat=date(2024, 5, 1),
                      mdat=today, crdt=today)
    server.add_record(2001, article_xml(2001, year=1998), edat=date(1998, 3, 1), pdat=date(1998, 3, 1),
                      mdat=today, crdt=today)
    # a stored record gains a retraction link (its modification date moves on)
    retracted_pmid = min(SEROTONIN)
    server.update_record(retracted_pmid, article_xml(retracted_pmid, year=1990 + retracted_pmid % 35,
                                                     retracted_in=3000), mdat=today)
    # and a record that the sleep query no longer returns
    dropped = min(SLEEP)
    server.set_query(BASELINE_QUERY, list(BASELINE) + [2000, 2001])
    server.set_query(SEROTONIN_QUERY, SEROTONIN | {2001})
    server.set_query(SLEEP_QUERY, SLEEP - {dropped})

    report, _ = fetch(settings)

    assert report.status == "succeeded"
    assert report.fetched_records == 3  # 2000, 2001, and the retracted one: nothing else
    assert report.efetch_requests == 1
    assert outcome_rows(report) == {
        "fibromyalgia": ("succeeded", 42, 42, 2, 1, 0),
        "serotonin": ("succeeded", len(SEROTONIN) + 1, len(SEROTONIN) + 1, 1, 1, 0),
        "sleep": ("succeeded", len(SLEEP) - 1, len(SLEEP) - 1, 0, 0, 1),
    }
    assert linked(settings, "serotonin") == SEROTONIN | {2001}
    assert linked(settings, "sleep") == SLEEP - {dropped}
    with store.reading(settings.db_path) as connection:
        corrections = store.load_article(connection, retracted_pmid).corrections
        assert [(c.ref_type, c.pmid) for c in corrections if c.ref_type == "RetractionIn"] == [("RetractionIn", 3000)]
        retracted = connection.execute("SELECT retracted FROM article_facets WHERE pmid = ?", (retracted_pmid,))
        assert retracted.fetchone()[0] == 1
        # the dropped PMID is still a fibromyalgia article, so it stays stored
        assert dropped in store.stored_pmids(connection)


def test_withdrawn_records_leave_the_store(tmp_path: Path, server: EutilsStandin) -> None:
    settings = make_settings(tmp_path, server.base_url)
    fetch(settings)
    withdrawn = min(SEROTONIN)
    server.delete_record(withdrawn)
    report, _ = fetch(settings)
    assert report.status == "succeeded"
    assert outcome_rows(report)["serotonin"] == ("succeeded", len(SEROTONIN) - 1, len(SEROTONIN) - 1, 0, 0, 1)
    with store.reading(settings.db_path) as connection:
        assert withdrawn not in store.stored_pmids(connection)
        assert connection.execute("SELECT COUNT(*) FROM tags WHERE pmid = ?", (withdrawn,)).fetchone()[0] == 0


def test_delete_citation_in_an_efetch_reply_removes_the_pmid(tmp_path: Path, server: EutilsStandin) -> None:
    settings = make_settings(tmp_path, server.base_url)
    fetch(settings, hypothesis_ids=["serotonin"])
    # PubMed still lists the PMID but efetch answers with a DeleteCitation: it must not linger in the store
    withdrawn = min(SLEEP - SEROTONIN)
    server.delete_record(withdrawn)
    server.set_query(SLEEP_QUERY, SLEEP)  # the query answer still names it, as in PubMed's lag between indexes
    server._deleted.discard(withdrawn)  # esearch lists it …
    server.on_request = lambda request: server._deleted.add(withdrawn) if request.endpoint == "efetch" else None
    report, _ = fetch(settings, hypothesis_ids=["sleep"])
    with store.reading(settings.db_path) as connection:
        assert withdrawn not in store.stored_pmids(connection)
        # the record cannot be stored, so coverage for sleep is short by one and the run says so
        assert report.status == "failed"
        assert "stored 9 of PubMed's 10 records" in outcome_by_id(report, "sleep").error


def outcome_by_id(report, hypothesis_id: str):
    return next(o for o in report.outcomes if o.hypothesis_id == hypothesis_id)


def test_full_refetches_everything(tmp_path: Path, server: EutilsStandin) -> None:
    settings = make_settings(tmp_path, server.base_url)
    fetch(settings)
    report, _ = fetch(settings, full=True)
    assert report.status == "succeeded"
    assert report.efetch_requests == 4
    assert report.fetched_records == 40


def test_query_over_9999_records_is_split_into_date_windows(tmp_path: Path) -> None:
    corpus = synthetic_corpus(10_050, seed=7, first_pmid=5_000_000)
    with EutilsStandin(rate_limit=False) as server:
        server.add_corpus(corpus)
        server.set_query(BASELINE_QUERY, corpus)
        server.set_query(SEROTONIN_QUERY, list(corpus)[:5])
        server.set_query(SLEEP_QUERY, [])
        settings = make_settings(tmp_path, server.base_url, batch_size=500)
        server.server_time = datetime(2030, 6, 30, 12, tzinfo=timezone.utc)
        report, _ = fetch(settings, clock=lambda: server.server_time)
        windowed = [r for r in server.requests_to("esearch") if r.params.get("datetype") == "edat"]
    assert report.status == "succeeded", report.error
    assert outcome_rows(report)["fibromyalgia"] == ("succeeded", 10_050, 10_050, 10_050, 0, 0)
    assert report.efetch_requests == math.ceil(10_050 / 500)
    assert len(windowed) >= 3  # the whole range, then at least two halves
    assert max(r.params["maxdate"] for r in windowed) == "2030/07/01"  # the injected clock's tomorrow
    with store.reading(settings.db_path) as connection:
        assert connection.execute("SELECT window_count FROM sync_state WHERE hypothesis_id = 'fibromyalgia'"
                                  ).fetchone()[0] >= 2
        assert len(store.stored_pmids(connection)) == 10_050


TRANSPORT_FAULTS = [Fault.too_many_requests(), Fault.rate_limit_body(), Fault.server_error(500),
                    Fault.server_error(502), Fault.server_error(503), Fault.truncated(),
                    Fault.truncated(declared_full_length=True), Fault.dropped()]
# NCBI's backend failures: JSON and warning forms come from esearch only, the <ERROR> element from both.
BACKEND_FAULTS = [Fault.error_json(), Fault.backend_failed_warning(), Fault.error_element()]
EFETCH_BACKEND_FAULTS = [Fault.error_element(), Fault.error_element("Backend failure")]


@pytest.mark.parametrize(
    ("endpoint", "fault"),
    [("esearch", fault) for fault in TRANSPORT_FAULTS + BACKEND_FAULTS]
    + [("efetch", fault) for fault in TRANSPORT_FAULTS + EFETCH_BACKEND_FAULTS],
    ids=lambda value: value if isinstance(value, str) else (
        f"{value.kind}-{value.status}-{value.declared_full_length}-{value.message.split(':')[0].replace(' ', '_')}"),
)
def test_transient_faults_are_retried_and_never_taken_as_data(tmp_path: Path, server: EutilsStandin, fault: Fault,
                                                               endpoint: str) -> None:
    settings = make_settings(tmp_path, server.base_url)
    server.fail_next(endpoint, fault, times=2)
    report, client = fetch(settings)
    assert report.status == "succeeded", report.error
    assert outcome_rows(report)["fibromyalgia"] == ("succeeded", 40, 40, 40, 0, 0)
    assert client.request_counts[f"{endpoint}.fcgi"] == (3 if endpoint == "esearch" else 4) + 2


def test_retry_after_is_honoured(tmp_path: Path, server: EutilsStandin) -> None:
    settings = make_settings(tmp_path, server.base_url, backoff_max_s=30.0)
    server.fail_next("esearch", Fault.too_many_requests(retry_after_s=7))
    sleeps = SleepRecorder()
    client = EutilsClient(settings, sleep=sleeps)
    report = run_fetch(settings, client=client)
    assert report.status == "succeeded"
    assert max(sleeps.delays_s) >= 7


def test_a_slow_reply_times_out_and_is_retried(tmp_path: Path, server: EutilsStandin) -> None:
    settings = make_settings(tmp_path, server.base_url, read_timeout_s=0.3)
    server.fail_next("efetch", Fault.slow(2.0))
    report, client = fetch(settings)
    assert report.status == "succeeded"
    assert client.request_counts["efetch.fcgi"] == 5


def test_a_query_error_fails_that_hypothesis_only(tmp_path: Path, server: EutilsStandin) -> None:
    settings = make_settings(tmp_path, server.base_url)
    server.on_request = lambda request: (Fault.error_element("Invalid query: unbalanced quotes")
                                         if request.params.get("term") == SLEEP_QUERY else None)
    report, _ = fetch(settings)
    assert report.status == "failed"
    assert outcome_rows(report)["serotonin"][0] == "succeeded"
    sleep = outcome_by_id(report, "sleep")
    assert sleep.status == "failed"
    assert "Invalid query: unbalanced quotes" in sleep.error and "fix its query" in sleep.error
    assert linked(settings, "sleep") == set()


def test_phrase_not_found_with_count_zero_is_a_real_zero(tmp_path: Path, server: EutilsStandin) -> None:
    settings = make_settings(tmp_path, server.base_url)
    server._queries.pop(SLEEP_QUERY)  # the stand-in answers an unknown term with PhraseNotFound and Count 0
    report, _ = fetch(settings)
    assert report.status == "succeeded"
    assert outcome_rows(report)["sleep"] == ("succeeded", 0, 0, 0, 0, 0)


def test_exhausted_retries_fail_the_run_and_change_no_data(tmp_path: Path, server: EutilsStandin) -> None:
    settings = make_settings(tmp_path, server.base_url, max_retries=2)
    fetch(settings)
    before = dump(settings.db_path, "articles", "hypothesis_articles", "sync_state")
    server.add_record(2000, article_xml(2000), edat=date(2015, 6, 1), pdat=date(2015, 6, 1),
                      mdat=date.today(), crdt=date.today())
    server.set_query(BASELINE_QUERY, list(BASELINE) + [2000])
    server.fail_next("efetch", Fault.server_error(503), times=10)
    report, _ = fetch(settings)
    assert report.status == "failed"
    assert "efetch.fcgi: NCBI answered 503" in report.error and "still after 3 tries" in report.error
    assert dump(settings.db_path, "articles", "hypothesis_articles", "sync_state") == before
    with store.reading(settings.db_path) as connection:
        assert tuple(connection.execute("SELECT status FROM fetch_runs ORDER BY id DESC").fetchone()) == ("failed",)


def dump(db_path: Path, *tables: str) -> dict[str, list[tuple]]:
    connection = sqlite3.connect(db_path)
    try:
        return {t: sorted(tuple(r) for r in connection.execute(f"SELECT * FROM {t}")) for t in tables}
    finally:
        connection.close()


def test_identity_is_sent_and_secrets_never_leak(tmp_path: Path, server: EutilsStandin,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    settings = make_settings(tmp_path, server.base_url, max_retries=1)
    server.fail_next("efetch", Fault.server_error(502))
    server.on_request = lambda request: (Fault.error_element("Invalid query") if request.params.get("term")
                                         == SLEEP_QUERY else None)
    caplog.set_level("DEBUG")
    report, _ = fetch(settings)
    for request in server.requests:
        assert request.method == "POST"
        assert request.params["tool"] == "fibromyalgia-evidence-tracker"
        assert request.params["email"] == "curator@example.org"
        assert request.params["api_key"] == "0123456789abcdef"
        assert "0123456789abcdef" not in request.query_string and "curator" not in request.query_string
    stored_text = "\n".join(line for line in sqlite3.connect(settings.db_path).iterdump())
    for secret in ("0123456789abcdef", "curator@example.org"):
        assert secret not in caplog.text
        assert secret not in stored_text
        assert secret not in (report.error or "")


def test_a_run_stopped_by_ctrl_c_is_logged_with_its_reason(tmp_path: Path, server: EutilsStandin) -> None:
    settings = make_settings(tmp_path, server.base_url)

    class StopAfterFirstBatch:
        def searched(self, *_: object) -> None:
            pass

        def fetching(self, *_: object) -> None:
            pass

        def batch_done(self, record_count: int) -> None:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_fetch(settings, progress=StopAfterFirstBatch(), client=EutilsClient(settings, sleep=SleepRecorder()))
    with store.reading(settings.db_path) as connection:
        run = connection.execute("SELECT status, error FROM fetch_runs").fetchone()
        assert tuple(run) == ("failed", "the run stopped: KeyboardInterrupt")
        assert len(store.stored_pmids(connection)) == settings.batch_size  # the batch that committed stays
        assert connection.execute("SELECT COUNT(*) FROM sync_state").fetchone()[0] == 0


def test_an_unrequested_delete_citation_removes_nothing_and_is_logged(tmp_path: Path, server: EutilsStandin,
                                                                      caplog: pytest.LogCaptureFixture) -> None:
    settings = make_settings(tmp_path, server.base_url)
    fetch(settings, hypothesis_ids=["serotonin"])
    kept = min(SEROTONIN - SLEEP)
    # A reply that names a PMID the batch never asked for (a server's mix-up, or a hostile stand-in)
    server.add_unrequested_deletion(kept)
    caplog.set_level("WARNING", logger="tracker")
    report, _ = fetch(settings, hypothesis_ids=["sleep"])
    assert report.status == "succeeded", report.error
    assert outcome_rows(report)["sleep"] == ("succeeded", len(SLEEP), len(SLEEP), len(SLEEP), 0, 0)
    with store.reading(settings.db_path) as connection:
        assert kept in store.stored_pmids(connection)
        assert store.linked_pmids(connection, "serotonin") == SEROTONIN
        warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
        assert warnings == [f"efetch: ignored a DeleteCitation for PMID {kept}, which this batch did not ask for"]


def test_a_same_day_rerun_leaves_the_records_that_entered_pubmed_today_to_the_next_day(tmp_path: Path,
                                                                       server: EutilsStandin) -> None:
    settings = make_settings(tmp_path, server.base_url)
    today = datetime.now(timezone.utc).date()
    dated_today = [2000, 2001, 2002]
    for pmid in dated_today:  # entered PubMed today: their modification date is today too
        server.add_record(pmid, article_xml(pmid, year=today.year, entrez=today, revised=today), edat=today,
                          pdat=today, mdat=today, crdt=today)
    server.set_query(BASELINE_QUERY, [*BASELINE, *dated_today])
    assert fetch(settings)[0].fetched_records == len(BASELINE) + len(dated_today)
    same_day, _ = fetch(settings)
    assert (same_day.status, same_day.fetched_records, same_day.efetch_requests) == ("succeeded", 0, 0)
    # The next day's window reaches back over today: a change made to them after the first run is caught here.
    # (A stored record modified today, a new retraction link, is fetched the same day: see the re-run test above.)
    next_day, _ = fetch(settings, clock=lambda: datetime.now(timezone.utc) + timedelta(days=1))
    assert (next_day.status, next_day.fetched_records) == ("succeeded", len(dated_today))


def test_ncbi_today_comes_from_the_injected_clock(tmp_path: Path, server: EutilsStandin) -> None:
    settings = make_settings(tmp_path, server.base_url)
    first_day = datetime(2031, 3, 15, 23, 30, tzinfo=timezone.utc)
    client = EutilsClient(settings, sleep=SleepRecorder())
    server.server_time = first_day
    assert run_fetch(settings, client=client, clock=lambda: first_day).status == "succeeded"
    # Two days later, in another zone: the modification window runs from a day before the last sync to tomorrow.
    later = (first_day + timedelta(days=2)).astimezone(timezone(timedelta(hours=-5)))
    server.server_time = later
    assert run_fetch(settings, client=client, clock=lambda: later).status == "succeeded"
    client.close()
    windows = {(r.params["mindate"], r.params["maxdate"]) for r in server.requests_to("esearch")
               if r.params.get("datetype") == "mdat"}
    assert windows == {("2031/03/14", "2031/03/18")}
    with store.reading(settings.db_path) as connection:
        assert {row[0] for row in connection.execute("SELECT modified_since FROM sync_state")} == {"2031-03-16"}


def test_a_trickling_server_fails_the_run_at_the_deadline_and_frees_the_lock(tmp_path: Path,
                                                                             server: EutilsStandin) -> None:
    settings = make_settings(tmp_path, server.base_url, request_deadline_s=0.3, max_retries=1)
    server.fail_next("efetch", Fault.trickle(0.05), times=10)
    with job_lock(settings.db_path):
        report, _ = fetch(settings)
    assert report.status == "failed"
    assert report.error == ("efetch.fcgi: no complete reply within the 0.3 s deadline (TRACKER_REQUEST_DEADLINE_S), "
                            "still after 2 tries; NCBI may be busy: run `tracker fetch` again later, ideally "
                            "off-peak (21:00-05:00 US Eastern)")
    with store.reading(settings.db_path) as connection:
        assert tuple(connection.execute("SELECT status, error FROM fetch_runs").fetchone()) == ("failed", report.error)
        with job_lock(settings.db_path):  # released: a second job may start
            pass


# --- a clock that jumps (the machine's, or NCBI's as its Date header says) ---------------------------------------

SERVER_NOW = datetime(2031, 3, 15, 14, 0, tzinfo=timezone.utc)


def watermarks(settings) -> set[str]:
    with store.reading(settings.db_path) as connection:
        return {row[0] for row in connection.execute("SELECT modified_since FROM sync_state")}


def revise(server: EutilsStandin, pmid: int, revised_on: date) -> None:
    """Give a stored record a retraction link, as PubMed does, with its modification date moved on."""
    server.update_record(pmid, article_xml(pmid, year=1990 + pmid % 35, retracted_in=3000), mdat=revised_on)


def test_a_clock_ahead_never_sets_the_watermark_past_the_servers_now(tmp_path: Path, server: EutilsStandin) -> None:
    settings = make_settings(tmp_path, server.base_url)
    server.server_time = SERVER_NOW
    months_ahead = SERVER_NOW + timedelta(days=120)
    assert fetch(settings, clock=lambda: months_ahead)[0].status == "succeeded"
    assert watermarks(settings) == {"2031-03-14"}  # NCBI's today less the margin, not the wrong clock's
    # Back on the right clock two days on: what PubMed revised in between is fetched.
    server.server_time = SERVER_NOW + timedelta(days=2)
    revise(server, min(SEROTONIN), date(2031, 3, 16))
    report, _ = fetch(settings, clock=lambda: SERVER_NOW + timedelta(days=2))
    assert (report.status, report.fetched_records) == ("succeeded", 1)
    assert watermarks(settings) == {"2031-03-16"}


def test_a_clock_behind_still_asks_for_what_changed_up_to_the_servers_now(tmp_path: Path,
                                                                         server: EutilsStandin) -> None:
    settings = make_settings(tmp_path, server.base_url)
    server.server_time = SERVER_NOW
    fetch(settings, clock=lambda: SERVER_NOW)
    revise(server, min(SEROTONIN), date(2031, 3, 15))
    months_behind = SERVER_NOW - timedelta(days=60)
    report, _ = fetch(settings, clock=lambda: months_behind)
    assert (report.status, report.fetched_records) == ("succeeded", 1)
    windows = {(r.params["mindate"], r.params["maxdate"]) for r in server.requests_to("esearch")
               if r.params.get("datetype") == "mdat"}
    assert windows == {("2031/03/14", "2031/03/16")}  # up to NCBI's tomorrow, not the slow clock's
    assert watermarks(settings) == {"2031-03-14"}  # and the watermark does not move back with it


def test_a_watermark_in_the_future_is_reset_with_a_warning(tmp_path: Path, server: EutilsStandin,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    settings = make_settings(tmp_path, server.base_url)
    server.server_time = SERVER_NOW
    fetch(settings, clock=lambda: SERVER_NOW)
    # What a run on a clock months ahead left behind before watermarks were checked.
    with sqlite3.connect(settings.db_path) as connection:
        connection.execute("UPDATE sync_state SET modified_since = '2031-09-01'")
    connection.close()
    revise(server, min(SEROTONIN), date(2031, 3, 15))
    with caplog.at_level("WARNING", logger="tracker.fetch"):
        report, _ = fetch(settings, clock=lambda: SERVER_NOW)
    assert report.status == "succeeded"
    with store.reading(settings.db_path) as connection:
        corrections = store.load_article(connection, min(SEROTONIN)).corrections
    assert [c.pmid for c in corrections if c.ref_type == "RetractionIn"] == [3000]
    # Reset to a day before the newest revision stored: whatever a watermark in the future hid is asked for again.
    windows = {(r.params["mindate"], r.params["maxdate"]) for r in server.requests_to("esearch")
               if r.params.get("datetype") == "mdat"}
    assert windows == {("2024/06/30", "2031/03/16")}
    assert [r.getMessage() for r in caplog.records if r.levelname == "WARNING"] == [
        f"[{hypothesis_id}] the last sync's modification date 2031-09-01 is after NCBI's today (2031-03-15): a "
        "clock was ahead; reset to 2024-06-30, a day before the newest revision stored"
        for hypothesis_id in ("fibromyalgia", "serotonin", "sleep")]
    assert watermarks(settings) == {"2031-03-14"}


def test_without_a_date_from_the_server_a_watermark_set_by_a_clock_ahead_is_reset(
        tmp_path: Path, server: EutilsStandin, caplog: pytest.LogCaptureFixture) -> None:
    settings = make_settings(tmp_path, server.base_url)
    server.send_date = False
    report, client = fetch(settings, clock=lambda: SERVER_NOW + timedelta(days=120))
    assert (report.status, client.server_now) == ("succeeded", None)
    revise(server, min(SEROTONIN), date(2031, 3, 15))
    with caplog.at_level("WARNING", logger="tracker.fetch"):
        report, _ = fetch(settings, clock=lambda: SERVER_NOW)
    assert (report.status, report.fetched_records) == ("succeeded", 2)  # the revised record, and 1034 of 2024
    assert [r.getMessage() for r in caplog.records][0] == (
        "[fibromyalgia] the last sync's modification date 2031-07-12 is after today (2031-03-15): a clock was ahead; "
        "reset to 2024-06-30, a day before the newest revision stored")
    # With no date from the server, never past the newest revision stored: PubMed has reached that one.
    assert watermarks(settings) == {"2024-06-30"}
