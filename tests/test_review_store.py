"""Reviews in the store: kept through retags, fetches, deletions and removed causes; stale, disputed, undone; short
writes that lose nothing while a fetch and a retag write at the same time."""

from __future__ import annotations

import dataclasses
import sqlite3
import threading
import time
from datetime import date
from pathlib import Path

import pytest
from support.fetch_helpers import (BASELINE_QUERY, HYPOTHESES_TOML, SEROTONIN_QUERY, SLEEP_QUERY, article_xml,
                                   make_settings)
from support.reviewed import CAUSES, PAIRED, SEROTONIN_SENTENCE, SHIPPED, SLEEP, read_counted_stances, read_reviews
from support.seed import seed_store
from support.standin import EutilsStandin, Fault

from tracker import store
from tracker.analysis import evidence
from tracker.analysis.reviews import Review, ReviewUndo
from tracker.config import load_settings
from tracker.errors import ConfigError, StoreError
from tracker.jobs import retag
from tracker.jobs.fetch import run_fetch
from tracker.models import STANCES, AbstractSection
from tracker.pubmed.client import EutilsClient

def _review(stance: str, reviewer: str = "ana", at: str = "2026-12-01T09:00:00+00:00", *, pmid: int = PAIRED.pmid,
            hypothesis: str = "serotonin", sentence: str = "", note: str = "") -> Review:
    return Review(pmid=pmid, hypothesis=hypothesis, stance=stance, reviewer=reviewer, reviewed_at=at,
                  sentence=sentence, note=note)


def _pair(db_path: Path, pmid: int = PAIRED.pmid, hypothesis: str = "serotonin") -> dict | None:
    frame = read_counted_stances(db_path)
    rows = frame[(frame["pmid"] == pmid) & (frame["hypothesis_id"] == hypothesis)]
    if rows.empty:
        return None
    row = rows.iloc[0].astype(object)
    return row.where(row.notna(), None).to_dict()


def _summary(db_path: Path, causes: list[str] = CAUSES) -> dict[str, int]:
    with store.reading(db_path) as connection:
        return store.load_review_summary(connection, causes)


@pytest.fixture
def seeded(db_path: Path) -> Path:
    seed_store(db_path, SHIPPED, [PAIRED, SLEEP])
    return db_path


def test_a_review_counts_beside_the_machines_reading_and_survives_a_retag(seeded: Path) -> None:
    assert _pair(seeded)["stance"] == "contradicts"
    store.write_review(seeded, _review("supports", sentence=SEROTONIN_SENTENCE, note="<b>dose</b> matters"),
                       CAUSES)
    reviewed = {"stance": "supports", "machine_stance": "contradicts", "reviewed": True, "reviewer": "ana",
                "reviewed_at": "2026-12-01T09:00:00+00:00", "review_note": "<b>dose</b> matters",
                "review_stale": False, "review_disagreement": False, "sentence": SEROTONIN_SENTENCE}
    assert {key: _pair(seeded)[key] for key in reviewed} == reviewed
    connection = store.connect(seeded)
    try:
        assert retag.refresh_tags(connection, SHIPPED, all_articles=True) == 2
        # The retag wrote the machine's rows again: the review is untouched, and it records what it corrected.
        [stored] = store.load_reviews(connection).to_dict("records")
    finally:
        connection.close()
    assert {key: _pair(seeded)[key] for key in reviewed} == reviewed
    assert (stored["machine_stance"], stored["rules_version"] is not None) == ("contradicts", True)


def test_a_review_turns_stale_when_the_abstract_loses_its_sentence_and_still_counts(seeded: Path) -> None:
    store.write_review(seeded, _review("supports", sentence=SEROTONIN_SENTENCE), CAUSES)
    store.write_review(seeded, _review("no_finding", pmid=SLEEP.pmid, hypothesis="sleep"), CAUSES)
    assert _summary(seeded) == {"reviewed_pairs": 2, "parked": 0, "stale": 0}
    revised = dataclasses.replace(PAIRED, abstract=(
        PAIRED.abstract[0], AbstractSection("Serum serotonin was lower in patients than in controls.", "RESULTS")))
    connection = store.connect(seeded)
    try:
        with store.transaction(connection):
            assert store.save_articles(connection, [revised], "pubmed") == {PAIRED.pmid: "updated"}
        retag.refresh_tags(connection, SHIPPED, [PAIRED.pmid])
    finally:
        connection.close()
    pair = _pair(seeded)
    assert (pair["stance"], pair["review_stale"]) == ("supports", True)
    assert _pair(seeded, SLEEP.pmid, "sleep")["review_stale"] is False
    assert _summary(seeded) == {"reviewed_pairs": 2, "parked": 0, "stale": 1}


def test_two_reviewers_who_differ_both_stay_and_the_latest_counts_until_one_changes(seeded: Path) -> None:
    store.write_review(seeded, _review("supports", "ana", "2026-12-01T09:00:00+00:00"), CAUSES)
    store.write_review(seeded, _review("mixed", "bo", "2026-12-02T09:00:00+00:00"), CAUSES)
    pair = _pair(seeded)
    assert (pair["stance"], pair["reviewer"], pair["review_disagreement"]) == ("mixed", "bo", True)
    store.write_review(seeded, _review("mixed", "ana", "2026-12-03T09:00:00+00:00"), CAUSES)
    pair = _pair(seeded)
    assert (pair["stance"], pair["reviewer"], pair["review_disagreement"]) == ("mixed", "ana", False)
    assert len(read_reviews(seeded)) == 3  # every review kept, none overwritten


def test_undo_takes_back_the_reviewers_latest_review_only(seeded: Path) -> None:
    store.write_review(seeded, _review("supports", "ana", "2026-12-01T09:00:00+00:00"), CAUSES)
    store.write_review(seeded, _review("mixed", "ana", "2026-12-02T09:00:00+00:00"), CAUSES)
    assert store.write_review(seeded, ReviewUndo(PAIRED.pmid, "serotonin", "bo"), CAUSES) is None
    assert store.write_review(seeded, ReviewUndo(PAIRED.pmid, "serotonin", "ana"), CAUSES).stance == "mixed"
    assert _pair(seeded)["stance"] == "supports"
    store.write_review(seeded, ReviewUndo(PAIRED.pmid, "serotonin", "ana"), CAUSES)
    assert (_pair(seeded)["stance"], _pair(seeded)["reviewed"]) == ("contradicts", False)


def test_the_same_reviewer_within_one_second_replaces_their_review(seeded: Path) -> None:
    store.write_review(seeded, _review("supports"), CAUSES)
    store.write_review(seeded, _review("mixed"), CAUSES)
    assert read_reviews(seeded)["stance"].tolist() == ["mixed"]


@pytest.mark.parametrize(("review", "message"), [
    (_review("supports", hypothesis="vitamin_d"), "review of PMID 32000001 for vitamin_d: unknown cause 'vitamin_d'"),
    (_review("supports", pmid=1), "review of PMID 1 for serotonin: PMID 1 is not in the store; fetch or import"),
    (_review("supports", sentence="Serotonin was high."),
     "review of PMID 32000001 for serotonin: the sentence is not in PMID 32000001's title or abstract"),
])
def test_a_review_the_store_cannot_place_is_refused_and_nothing_written(seeded: Path, review: Review,
                                                                        message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        store.write_review(seeded, review, CAUSES)
    assert str(caught.value).startswith(message)
    assert read_reviews(seeded).empty


def test_counts_follow_the_reviewed_stance(seeded: Path) -> None:
    def serotonin_counts() -> dict[str, int]:
        with store.reading(seeded) as connection:
            table = evidence.evidence_table(store.load_catalogue(connection), SHIPPED,
                                            stances=store.load_stance_frame(connection, columns=("stance",)))
        rows = table[table["hypothesis_id"] == "serotonin"]
        return {stance: int(rows.loc[rows["stance"] == stance, "count"].sum()) for stance in STANCES}

    before = serotonin_counts()
    store.write_review(seeded, _review("supports"), CAUSES)
    after = serotonin_counts()
    assert (before["contradicts"] - after["contradicts"], after["supports"] - before["supports"]) == (1, 1)


def test_an_old_tracker_still_opens_a_store_with_reviews(seeded: Path) -> None:
    store.write_review(seeded, _review("supports"), CAUSES)
    connection = sqlite3.connect(seeded)
    # A tracker refuses only a newer schema version: the reviews table leaves the version as it was.
    assert connection.execute("PRAGMA user_version").fetchone()[0] == store.SCHEMA_VERSION
    connection.close()


def test_a_store_without_the_reviews_table_reads_as_one_without_reviews(seeded: Path) -> None:
    with store.reading(seeded) as connection:
        assert store.load_reviews(connection).empty
        assert store.load_review_summary(connection, CAUSES) == {"reviewed_pairs": 0, "parked": 0, "stale": 0}
        assert not store.load_stance_frame(connection, columns=("stance", "reviewed"))["reviewed"].any()


def test_a_busy_store_asks_to_try_again_and_writes_nothing(seeded: Path) -> None:
    blocker = sqlite3.connect(seeded, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreError, match=r"the store is busy .*; nothing was saved: try again in a moment$"):
            store.write_review(seeded, _review("supports"), CAUSES, busy_timeout_s=0.05)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert _pair(seeded)["reviewed"] is False
    store.write_review(seeded, _review("supports"), CAUSES, busy_timeout_s=0.05)
    assert _pair(seeded)["reviewed"] is True


# --- through the fetch job, against the E-utilities stand-in ---------------------------------------------------

CORPUS = range(1000, 1030)
SEROTONIN_PMIDS = set(range(1000, 1030, 3))
SLEEP_PMIDS = set(range(1001, 1030, 4))


def _serve(server: EutilsStandin, pmids: range) -> None:
    for pmid in pmids:
        year = 1990 + pmid % 35
        server.add_record(pmid, article_xml(pmid, year=year), edat=date(year, 6, 1), pdat=date(year, 5, 1),
                          mdat=date(year, 7, 1), crdt=date(year, 6, 1))


def _queries(server: EutilsStandin) -> None:
    server.set_query(BASELINE_QUERY, CORPUS)
    server.set_query(SEROTONIN_QUERY, SEROTONIN_PMIDS)
    server.set_query(SLEEP_QUERY, SLEEP_PMIDS)


@pytest.fixture
def server():
    with EutilsStandin(rate_limit=False) as standin:
        _serve(standin, CORPUS)
        _queries(standin)
        yield standin


def _fetch(settings, **options):
    client = EutilsClient(settings, sleep=lambda delay_s: None)
    try:
        return run_fetch(settings, client=client, **options)
    finally:
        client.close()


def _changed_reviews(settings, cause: str, count: int) -> list[Review]:
    """Reviews of the first `count` pairs of `cause` the machine read, each changing its stance."""
    machine = read_counted_stances(settings.db_path)
    rows = machine[machine["hypothesis_id"] == cause].head(count)
    assert len(rows) == count
    return [_review(next(s for s in STANCES if s != stance), pmid=int(pmid), hypothesis=cause,
                    sentence=sentence.split("\n")[0] if isinstance(sentence, str) else "")
            for pmid, stance, sentence in zip(rows["pmid"], rows["stance"], rows["sentence"])]


def test_a_review_is_parked_while_its_article_is_withdrawn_and_counts_again_once_it_is_back(
        tmp_path: Path, server: EutilsStandin) -> None:
    settings = make_settings(tmp_path, server.base_url)
    causes = [h.id for h in settings.causes]
    assert _fetch(settings).status == "succeeded"
    [review] = _changed_reviews(settings, "serotonin", 1)
    store.write_review(settings.db_path, review, causes)
    server.delete_record(review.pmid)
    assert _fetch(settings).status == "succeeded"
    assert _pair(settings.db_path, review.pmid) is None
    assert _summary(settings.db_path, causes) == {"reviewed_pairs": 1, "parked": 1, "stale": 0}
    _serve(server, range(review.pmid, review.pmid + 1))
    _queries(server)
    assert _fetch(settings).status == "succeeded"
    assert _pair(settings.db_path, review.pmid)["stance"] == review.stance
    assert _summary(settings.db_path, causes) == {"reviewed_pairs": 1, "parked": 0, "stale": 0}


def test_a_review_is_parked_while_its_cause_is_out_of_the_hypotheses_file(tmp_path: Path,
                                                                          server: EutilsStandin) -> None:
    settings = make_settings(tmp_path, server.base_url)
    assert _fetch(settings).status == "succeeded"
    [review] = _changed_reviews(settings, "sleep", 1)
    store.write_review(settings.db_path, review, [h.id for h in settings.causes])
    without_sleep = tmp_path / "without_sleep.toml"
    without_sleep.write_text(HYPOTHESES_TOML.split('[[hypothesis]]\nid = "sleep"')[0], encoding="utf-8")
    for hypotheses_path in (without_sleep, settings.hypotheses_path):
        narrowed = load_settings(hypotheses_path=hypotheses_path, db_path=settings.db_path)
        connection = store.connect(settings.db_path)
        retag.refresh_tags(connection, narrowed.hypotheses, all_articles=True)
        connection.close()
        causes = [h.id for h in narrowed.causes]
        parked = 0 if "sleep" in causes else 1
        assert _summary(settings.db_path, causes)["parked"] == parked
        assert (_pair(settings.db_path, review.pmid, "sleep") or {}).get("stance") == (None if parked else
                                                                                       review.stance)


def test_reviews_written_during_a_fetch_and_a_retag_are_all_kept(tmp_path: Path, server: EutilsStandin) -> None:
    settings = make_settings(tmp_path, server.base_url)
    causes = [h.id for h in settings.causes]
    assert _fetch(settings).status == "succeeded"
    reviews = _changed_reviews(settings, "serotonin", 8)
    outcomes: dict[str, object] = {}
    # Slow replies stretch the fetch over the reviews' writes, as a real sync stretches over a reviewing session.
    server.fail_next("efetch", Fault.slow(0.3), times=3)

    def fetch_everything() -> None:
        outcomes["fetch"] = _fetch(settings, full=True).status

    def retag_everything() -> None:
        connection = store.connect(settings.db_path)
        try:
            outcomes["retag"] = retag.refresh_tags(connection, settings.hypotheses, all_articles=True)
        finally:
            connection.close()

    jobs = [threading.Thread(target=fetch_everything), threading.Thread(target=retag_everything)]
    for job in jobs:
        job.start()
    written_while_running = 0
    for number, review in enumerate(reviews):
        review = dataclasses.replace(review, reviewed_at=f"2026-12-01T09:00:{number:02d}+00:00")
        while True:
            try:
                store.write_review(settings.db_path, review, causes)
                written_while_running += any(job.is_alive() for job in jobs)
                break
            except StoreError as error:
                # What the dashboard shows: the click is not lost, the user clicks again.
                assert "try again" in str(error)
                time.sleep(0.05)
        time.sleep(0.05)
    for job in jobs:
        job.join(timeout=120)
    assert outcomes == {"fetch": "succeeded", "retag": len(CORPUS)}
    effective = read_counted_stances(settings.db_path)
    reviewed = effective[effective["reviewed"]]
    assert sorted(zip(reviewed["pmid"], reviewed["stance"])) == sorted((r.pmid, r.stance) for r in reviews)
    assert written_while_running >= len(reviews) // 2
