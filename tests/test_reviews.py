"""Reviewed stances without a store: which review counts, stale and disputed reviews, agreement, the review file."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest

from tracker.analysis.reviews import (REVIEW_FIELDS, Review, agreement_table, apply_reviews, article_sentences,
                                      check_review, review_progress, review_queue, review_states, section_sentences,
                                      text_fingerprint)
from tracker.errors import ConfigError
from tracker.outputs.review_file import (parse_csv_reviews, parse_jsonl_reviews, read_review_file, write_reviews_csv,
                                          write_reviews_jsonl)

TITLE = "Serotonin in fibromyalgia"
ABSTRACT = "We studied 40 women. Serum serotonin was lower in patients than in controls. Sleep was poor."


def _review_rows(*rows: tuple) -> pd.DataFrame:
    """Stored review rows from (pmid, cause, reviewer, reviewed_at, stance, sentence) tuples."""
    frame = pd.DataFrame(rows, columns=["pmid", "hypothesis_id", "reviewer", "reviewed_at", "stance", "sentence"])
    frame["note"] = ""
    frame["text_fingerprint"] = text_fingerprint(TITLE, ABSTRACT)
    return frame


TEXTS = pd.DataFrame({"pmid": [1, 2], "title": [TITLE, TITLE], "abstract": [ABSTRACT, ABSTRACT]})
MACHINE = pd.DataFrame({
    "pmid": [1, 1, 2], "hypothesis_id": ["serotonin", "sleep", "serotonin"],
    "stance": pd.array(["mixed", "supports", "no_finding"], dtype="str"),
    "sentence": ["Serum serotonin was lower in patients than in controls.", "Sleep was poor.", None],
    "cue": ["lower", "poor", None], "section": ["RESULTS", None, None],
})


def test_the_latest_review_counts_and_two_reviewers_who_differ_are_a_disagreement() -> None:
    reviews = _review_rows(
        (1, "serotonin", "ana", "2026-12-01T09:00:00+00:00", "supports", ""),
        (1, "serotonin", "bo", "2026-12-02T09:00:00+00:00", "contradicts", ""),
        (2, "serotonin", "ana", "2026-12-01T09:00:00+00:00", "supports", ""),
        (2, "serotonin", "ana", "2026-12-03T09:00:00+00:00", "contradicts", ""),  # ana changed her mind
    )
    states = review_states(reviews, TEXTS)
    assert states[["pmid", "stance", "reviewer", "disagreement", "reviewers", "stale"]].to_dict("records") == [
        {"pmid": 1, "stance": "contradicts", "reviewer": "bo", "disagreement": True, "reviewers": 2, "stale": False},
        {"pmid": 2, "stance": "contradicts", "reviewer": "ana", "disagreement": False, "reviewers": 1,
         "stale": False},
    ]


def test_a_review_is_stale_once_its_sentence_or_the_abstract_it_read_has_changed() -> None:
    reviews = _review_rows(
        (1, "serotonin", "ana", "2026-12-01T09:00:00+00:00", "supports",
         "Serum serotonin was lower in patients than in controls."),
        (2, "serotonin", "ana", "2026-12-01T09:00:00+00:00", "supports", ""),
        (3, "serotonin", "ana", "2026-12-01T09:00:00+00:00", "supports", "Gone."),  # article absent: parked
    )
    revised = "We studied 40 women.  Serum serotonin was\nlower in patients than in controls. Sleep was good."
    unchanged = review_states(reviews, TEXTS)["stale"].tolist()
    changed = review_states(reviews, TEXTS.assign(abstract=[revised, revised]))["stale"].tolist()
    assert (unchanged, changed) == ([False, False, False], [False, True, False])
    moved = TEXTS.assign(abstract=["Serum serotonin did not differ.", ABSTRACT])
    assert review_states(reviews, moved)["stale"].tolist() == [True, False, False]


def test_apply_reviews_replaces_the_stance_keeps_the_machines_beside_it_and_parks_the_rest() -> None:
    reviews = _review_rows(
        (1, "serotonin", "ana", "2026-12-01T09:00:00+00:00", "supports",
         "Serum serotonin was lower in patients than in controls."),
        (1, "sleep", "ana", "2026-12-01T09:00:00+00:00", "no_finding", "We studied 40 women."),
        (2, "sleep", "ana", "2026-12-01T09:00:00+00:00", "supports", ""),  # no such pair: parked
    )
    effective = apply_reviews(MACHINE, review_states(reviews, TEXTS), with_review_columns=True)
    shown = effective.drop(columns=["pmid"]).astype(object)
    assert shown.where(shown.notna(), None).to_dict("records") == [
        {"hypothesis_id": "serotonin", "stance": "supports", "machine_stance": "mixed", "reviewed": True,
         "reviewer": "ana", "reviewed_at": "2026-12-01T09:00:00+00:00", "review_note": None, "review_stale": False,
         "review_disagreement": False, "sentence": "Serum serotonin was lower in patients than in controls.",
         "cue": "lower", "section": "RESULTS"},
        {"hypothesis_id": "sleep", "stance": "no_finding", "machine_stance": "supports", "reviewed": True,
         "reviewer": "ana", "reviewed_at": "2026-12-01T09:00:00+00:00", "review_note": None, "review_stale": False,
         "review_disagreement": False, "sentence": "We studied 40 women.", "cue": None, "section": None},
        {"hypothesis_id": "serotonin", "stance": "no_finding", "machine_stance": "no_finding", "reviewed": False,
         "reviewer": None, "reviewed_at": None, "review_note": None, "review_stale": False,
         "review_disagreement": False, "sentence": None, "cue": None, "section": None},
    ]
    assert effective["stance"].dtype == MACHINE["stance"].dtype
    # Without reviews the rows are the machine's, untouched.
    pd.testing.assert_frame_equal(apply_reviews(MACHINE, review_states(reviews.iloc[:0], TEXTS)), MACHINE)


def test_a_reviewer_picks_from_the_title_and_the_abstracts_sentences_once_each() -> None:
    sections = [{"text": "Levels were higher vs. controls (p < 0.05).  Sleep was poor.", "label": "RESULTS"},
                {"text": "Sleep was poor. We conclude."}]
    assert article_sentences(" Sleep in\nfibromyalgia ", sections) == [
        "Sleep in fibromyalgia", "Levels were higher vs. controls (p < 0.05).", "Sleep was poor.", "We conclude."]
    assert section_sentences(sections[0]["text"]) == ["Levels were higher vs. controls (p < 0.05).", "Sleep was poor."]


def test_a_reviewed_sentence_fills_a_pair_the_machine_found_no_sentence_for() -> None:
    reviews = _review_rows((2, "serotonin", "ana", "2026-12-01T09:00:00+00:00", "supports", "Sleep was poor."))
    effective = apply_reviews(MACHINE, review_states(reviews, TEXTS))
    assert effective.loc[2, ["stance", "sentence"]].tolist() == ["supports", "Sleep was poor."]
    assert effective.loc[2, ["cue", "section"]].isna().all()


def test_a_reviewed_pair_counts_as_a_sure_reading() -> None:
    reviews = _review_rows((1, "sleep", "ana", "2026-12-01T09:00:00+00:00", "contradicts", ""))
    unsure = MACHINE.assign(confidence=["low", "low", "low"], confidence_reason=["hedged", "hedged", "hedged"])
    effective = apply_reviews(unsure, review_states(reviews, TEXTS))
    assert effective["confidence"].tolist() == ["low", "high", "low"]
    assert effective["confidence_reason"].isna().tolist() == [False, True, False]


def test_agreement_counts_each_reviewed_pair_once_against_the_machines_reading() -> None:
    effective = pd.DataFrame({
        "pmid": [1, 2, 3, 4, 5, 6, 7],
        "hypothesis_id": ["serotonin"] * 5 + ["sleep", "sleep"],
        "stance": ["supports", "supports", "contradicts", "supports", "mixed", "supports", "mixed"],
        "machine_stance": ["supports", "mixed", "no_finding", "mixed", "mixed", "supports", "mixed"],
        "reviewed": [True, True, True, True, False, True, False],
    })
    table = agreement_table(effective, ["serotonin", "sleep", "injury"])
    assert table.drop(columns=["accepted_share"]).to_dict("records") == [
        {"hypothesis_id": "serotonin", "reviewed": 4, "accepted": 1, "changed": 3, "changed_to_supports": 2,
         "changed_to_contradicts": 1, "changed_to_mixed": 0, "changed_to_no_finding": 0,
         "changes": "mixed → supports 2; no_finding → contradicts 1"},
        {"hypothesis_id": "sleep", "reviewed": 1, "accepted": 1, "changed": 0, "changed_to_supports": 0,
         "changed_to_contradicts": 0, "changed_to_mixed": 0, "changed_to_no_finding": 0, "changes": ""},
        {"hypothesis_id": "injury", "reviewed": 0, "accepted": 0, "changed": 0, "changed_to_supports": 0,
         "changed_to_contradicts": 0, "changed_to_mixed": 0, "changed_to_no_finding": 0, "changes": ""},
    ]
    assert table["accepted_share"].tolist()[:2] == [0.25, 1.0]
    assert pd.isna(table["accepted_share"].iloc[2])


@pytest.mark.parametrize(("change", "message"), [
    ({"stance": "support"}, "x: stance 'support' is not one of supports, contradicts, mixed, no_finding"),
    ({"reviewed_at": "2026-12-01 09:00"}, "x: reviewed_at '2026-12-01 09:00' is not an ISO 8601 time with a zone"),
    ({"reviewer": "  "}, "x: no reviewer name; give one with --reviewer NAME or TRACKER_REVIEWER"),
    ({"reviewer": "ana\x1b[31m"}, "x: the reviewer name 'ana\\x1b[31m' holds a control character"),
    ({"note": "n" * 2001}, "x: the note is 2001 characters long; shorten it to at most 2000"),
])
def test_check_review_refuses_what_no_review_can_hold(change: dict, message: str) -> None:
    fields = {"pmid": 1, "hypothesis": "serotonin", "stance": "supports", "reviewer": "ana",
              "reviewed_at": "2026-12-01T09:00:00Z", **change}
    with pytest.raises(ConfigError) as caught:
        check_review(Review(**fields), "x")
    assert str(caught.value).startswith(message)


def test_check_review_normalises_time_and_white_space() -> None:
    review = check_review(Review(1, " serotonin ", "supports", " ana ", "2026-12-01T10:00:00+01:00",
                                 sentence=" Serum  serotonin\nwas lower. ", note=" why "), "x")
    assert review == Review(1, "serotonin", "supports", "ana", "2026-12-01T09:00:00+00:00",
                            sentence="Serum serotonin was lower.", note="why")


REVIEWS = [
    Review(20_000_001, "serotonin", "contradicts", "=ana", "2026-12-01T09:00:00+00:00",
           sentence="-5 points on the scale, not lower.", note='@SUM(A1) "quoted", with a comma\nand a line'),
    Review(20_000_002, "sleep", "no_finding", "bo", "2026-12-02T09:00:00+00:00"),
]


def test_csv_has_exactly_the_fields_neutralises_formulas_and_reads_back_as_written() -> None:
    stream = io.StringIO(newline="")
    assert write_reviews_csv(REVIEWS, stream) == 2
    text = stream.getvalue()
    assert text.splitlines()[0] == ",".join(REVIEW_FIELDS)
    assert "'=ana" in text and "'-5 points" in text and "'@SUM(A1)" in text
    assert [review for _, review in parse_csv_reviews(text, "r.csv")] == REVIEWS


def test_jsonl_has_the_fields_in_order_and_reads_back_as_written() -> None:
    stream = io.StringIO()
    write_reviews_jsonl(REVIEWS, stream)
    lines = stream.getvalue().splitlines()
    assert list(json.loads(lines[0])) == list(REVIEW_FIELDS)
    assert [review for _, review in parse_jsonl_reviews(stream.getvalue(), "r.jsonl")] == REVIEWS


_HEADER = ",".join(REVIEW_FIELDS)


@pytest.mark.parametrize(("text", "message"), [
    ("", "r.csv: is empty; its first row must be the header pmid,hypothesis,stance,reviewer,reviewed_at,sentence,note"),
    ("pmid,cause,stance\n", "r.csv: the header is 'pmid,cause,stance'; its first row must be exactly"),
    (f"{_HEADER}\n1,serotonin,supports,ana,2026-12-01T09:00:00Z,,\n2,sleep,maybe,ana,2026-12-01T09:00:00Z,,\n",
     "r.csv row 3: stance 'maybe' is not one of supports, contradicts, mixed, no_finding; write one of them"),
    (f"{_HEADER}\nPMID1,serotonin,supports,ana,2026-12-01T09:00:00Z,,\n",
     "r.csv row 2: pmid 'PMID1' is not a PubMed id; write the article's PMID, a positive whole number"),
    (f"{_HEADER}\n1,serotonin,supports,ana,2026-12-01T09:00:00Z\n", "r.csv row 2: has 5 cells, not 7"),
    (f"{_HEADER}\n1,serotonin,supports,,2026-12-01T09:00:00Z,,\n",
     "r.csv row 2: no reviewer name; give one with --reviewer NAME or TRACKER_REVIEWER"),
    (f"{_HEADER}\n1,serotonin,maybe,ana,2026-12-01T09:00:00Z,,\n2,sleep,mixed,ana,yesterday,,\n",
     "r.csv row 2: stance 'maybe' is not one of supports, contradicts, mixed, no_finding; write one of them "
     "(and 1 more rows with problems: row 3)"),
])
def test_a_wrong_csv_row_is_named_with_its_fix(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_csv_reviews(text, "r.csv")
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(("line", "message"), [
    ("{not json", "r.jsonl line 1: is not a JSON object"),
    ('{"pmid": 1, "hypothesis": "serotonin"}', "r.jsonl line 1: has the keys pmid, hypothesis; write exactly pmid, "
                                               "hypothesis, stance, reviewer, reviewed_at, sentence, note"),
    ('{"pmid": 1, "hypothesis": "serotonin", "stance": 3, "reviewer": "a", "reviewed_at": "2026-12-01T09:00:00Z",'
     ' "sentence": "", "note": ""}', "r.jsonl line 1: stance is 3; write it as a string"),
])
def test_a_wrong_jsonl_line_is_named_with_its_fix(line: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_jsonl_reviews(line + "\n", "r.jsonl")
    assert str(caught.value).startswith(message)


def test_an_empty_reviewer_takes_the_importers_name(tmp_path: Path) -> None:
    path = tmp_path / "shared.txt"  # no telling suffix: the content decides
    path.write_text(f"{_HEADER}\n1,serotonin,supports,,2026-12-01T09:00:00Z,,\n", encoding="utf-8")
    [(where, review)] = read_review_file(path, reviewer="cy")
    assert (where, review.reviewer) == ("shared.txt row 2", "cy")
    with pytest.raises(ConfigError, match=r"missing\.csv: no such file; give the path of a review file"):
        read_review_file(tmp_path / "missing.csv")


def _queue_pairs(**columns: list) -> pd.DataFrame:
    count = len(columns["pmid"])
    defaults = {"hypothesis_id": ["serotonin"] * count, "reviewed": [False] * count,
                "review_stale": [False] * count, "design": ["other"] * count, "pub_year": [2000] * count}
    frame = pd.DataFrame({**defaults, **columns})
    frame["machine_stance"] = frame["stance"]
    return frame


def test_the_queue_asks_first_for_what_a_person_most_likely_changes() -> None:
    pairs = _queue_pairs(
        pmid=[1, 2, 3, 4, 5, 6, 7],
        stance=["supports", "mixed", "supports", "contradicts", "supports", "supports", "no_finding"],
        design=["other", "other", "meta_analysis", "other", "other", "other", "rct"],
        pub_year=[2001, 2000, 2000, 2024, 2000, 2000, None],
        reviewed=[False, False, False, False, True, True, False],
        review_stale=[False, False, False, False, True, False, False],
    )
    queue = review_queue(pairs, ("meta_analysis", "rct"))
    assert list(zip(queue["pmid"], queue["reason"])) == [
        (5, "abstract changed since review"), (2, "mixed"), (3, "finding in a high-level study"),
        (4, "recent article"), (1, ""), (7, "")]
    confident = pairs.assign(confidence=[0.9, 0.8, 0.7, 0.95, 0.9, 0.9, 0.2])
    assert review_queue(confident, ("meta_analysis", "rct"))["pmid"].tolist()[:3] == [5, 7, 3]
    worded = pairs.assign(confidence=["high", "high", "medium", "low", "high", "high", "high"])
    queue = review_queue(worded, ("meta_analysis", "rct"), stances=("supports", "contradicts"))
    assert list(zip(queue["pmid"], queue["reason"])) == [
        (5, "abstract changed since review"), (4, "low confidence"), (3, "finding in a high-level study"), (1, "")]


def test_progress_counts_the_reviewed_pairs_the_machine_read_as_a_finding() -> None:
    pairs = _queue_pairs(pmid=[1, 2, 3, 4], stance=["supports", "mixed", "no_finding", "contradicts"],
                         reviewed=[True, False, True, False])
    pairs.loc[0, "stance"] = "no_finding"  # reviewed away from a finding: still one of the pairs with a finding
    assert review_progress(pairs, "serotonin") == (1, 3)
    assert review_progress(pairs, "sleep") == (0, 0)
