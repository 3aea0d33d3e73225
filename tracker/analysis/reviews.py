"""Reviewed stances: a person's reading of an (article, cause) pair, and what counts once pairs are reviewed.

Pure like `stance`: records and frames in, frames out; no I/O, no clock. The store keeps every review
(`store.reviews`); this module decides, in one place, what a pair's stance is once it has reviews:

- the latest review of a pair counts (by `reviewed_at`, then reviewer name for a tie), whoever wrote it;
- each reviewer's own latest review is their current reading: when two reviewers' current readings differ the
  pair shows a disagreement, and the latest still counts until one of them changes theirs;
- a review is stale when the abstract changed under it: its sentence is no longer in the title or abstract (or,
  for a review without a sentence, the title and abstract are no longer those it was written against). A stale
  review still counts;
- the machine's current reading stays beside the reviewed one (`machine_stance`), and the agreement between
  the two, per cause, is the tracker's running estimate of how far to trust the pairs nobody reviewed.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np
import pandas as pd

from tracker.errors import ConfigError
from tracker.models import STANCES
from tracker.analysis.stance import split_sentences

# The review file's fields, in this order (a CSV header or JSON Lines keys); `sentence` and `note` may be empty.
REVIEW_FIELDS: tuple[str, ...] = ("pmid", "hypothesis", "stance", "reviewer", "reviewed_at", "sentence", "note")
# Columns `store.load_stance_frame` adds on request beside the stance columns.
REVIEW_COLUMNS: tuple[str, ...] = ("machine_stance", "reviewed", "reviewer", "reviewed_at", "review_note",
                                   "review_stale", "review_disagreement")
# A reviewer's name and note are shown on every page and export: long enough for a sentence of reasoning, short
# enough that a pasted abstract is caught as a mistake.
MAX_REVIEWER_LENGTH = 80
MAX_NOTE_LENGTH = 2000


@dataclass(frozen=True)
class Review:
    """One person's reading of one (article, cause) pair at one time; `reviewed_at` in the store's ISO format."""

    pmid: int
    hypothesis: str
    stance: str
    reviewer: str
    reviewed_at: str
    sentence: str = ""
    note: str = ""


@dataclass(frozen=True)
class ReviewUndo:
    """One person taking back their latest review of one (article, cause) pair."""

    pmid: int
    hypothesis: str
    reviewer: str


def utc_timestamp(moment: datetime) -> str:
    """A review time as the store writes every time: ISO 8601 in UTC, whole seconds, "+00:00"."""
    return moment.astimezone(timezone.utc).replace(microsecond=0).isoformat()


def parse_reviewed_at(text: str, where: str) -> str:
    """The review time `text` (ISO 8601 with a zone: "Z" or an offset) in the store's format; refuse others."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise ConfigError(f"{where}: reviewed_at {text!r} is not an ISO 8601 time with a zone; write it as "
                          f"2026-12-01T09:30:00Z (UTC)")
    return utc_timestamp(moment)


def check_reviewer(name: str | None, where: str) -> str:
    """The reviewer's name without surrounding space; refuse an empty, over-long or control-character name."""
    cleaned = (name or "").strip()
    if not cleaned:
        raise ConfigError(f"{where}: no reviewer name; give one with --reviewer NAME or TRACKER_REVIEWER")
    if len(cleaned) > MAX_REVIEWER_LENGTH:
        raise ConfigError(f"{where}: the reviewer name is {len(cleaned)} characters long; shorten it to at most "
                          f"{MAX_REVIEWER_LENGTH}")
    if any(unicodedata.category(character).startswith("C") for character in cleaned):
        raise ConfigError(f"{where}: the reviewer name {cleaned!r} holds a control character; use letters, digits "
                          f"and punctuation only")
    return cleaned


def check_review(review: Review, where: str) -> Review:
    """The review with its texts trimmed and its time normalised; refuse a value no review can hold.

    What only the store knows (is the PMID stored, is the sentence in its abstract) is checked there.
    """
    if review.stance not in STANCES:
        raise ConfigError(f"{where}: stance {review.stance!r} is not one of {', '.join(STANCES)}; write one of them")
    if not review.hypothesis.strip():
        raise ConfigError(f"{where}: no hypothesis; write the cause's id from the hypotheses file")
    note = review.note.strip()
    if len(note) > MAX_NOTE_LENGTH:
        raise ConfigError(f"{where}: the note is {len(note)} characters long; shorten it to at most "
                          f"{MAX_NOTE_LENGTH}")
    return Review(pmid=review.pmid, hypothesis=review.hypothesis.strip(), stance=review.stance,
                  reviewer=check_reviewer(review.reviewer, where),
                  reviewed_at=parse_reviewed_at(review.reviewed_at, where),
                  sentence=" ".join(review.sentence.split()), note=note)


def normalised_text(text: object) -> str:
    """Text with every run of white space one space ("" for a missing value): how a sentence is found in an
    abstract."""
    return " ".join(text.split()) if isinstance(text, str) else ""


def text_fingerprint(title: str | None, abstract: str | None) -> str:
    """A short hash of an article's title and abstract as the stance reader reads them."""
    joined = normalised_text(title) + "\n" + normalised_text(abstract)
    return hashlib.sha256(joined.encode()).hexdigest()[:16]


def sentence_in_text(sentence: str, title: str | None, abstract: str | None) -> bool:
    """Whether `sentence` (white space aside) is in the title or the abstract."""
    wanted = normalised_text(sentence)
    return bool(wanted) and (wanted in normalised_text(abstract) or wanted in normalised_text(title))


def section_sentences(text: str | None) -> list[str]:
    """One abstract section's sentences, each exactly as it stands, split as the stance reader splits them."""
    text = text or ""
    return [text[start:end] for start, end in split_sentences(text)]


def article_sentences(title: str | None, sections: list[dict]) -> list[str]:
    """The title and every sentence of the abstract (white space normalised), in order and once each: what a
    reviewer may pick as the deciding sentence."""
    sentences = [normalised_text(title)]
    for section in sections:
        sentences += [normalised_text(sentence) for sentence in section_sentences(section.get("text"))]
    return list(dict.fromkeys(sentence for sentence in sentences if sentence))


def review_states(reviews: pd.DataFrame, texts: pd.DataFrame) -> pd.DataFrame:
    """Each pair's counted review (the latest), with whether it is stale and whether its reviewers disagree.

    `reviews` are the stored rows (pmid, hypothesis_id, reviewer, reviewed_at, stance, sentence, note,
    text_fingerprint); `texts` the current title and abstract of the reviewed PMIDs that are stored (pmid, title,
    abstract). One row per reviewed pair, ordered by PMID and cause: pmid, hypothesis_id, stance, reviewer,
    reviewed_at, sentence, note, stale, disagreement, reviewers (how many people reviewed it).
    """
    columns = ["pmid", "hypothesis_id", "stance", "reviewer", "reviewed_at", "sentence", "note", "stale",
               "disagreement", "reviewers"]
    if reviews.empty:
        return pd.DataFrame({name: pd.Series(dtype="int64" if name in ("pmid", "reviewers") else
                                             bool if name in ("stale", "disagreement") else object)
                             for name in columns})
    ordered = reviews.sort_values(["pmid", "hypothesis_id", "reviewed_at", "reviewer"], kind="stable")
    keys = ["pmid", "hypothesis_id"]
    per_reviewer = ordered.drop_duplicates([*keys, "reviewer"], keep="last")
    stances_per_pair = per_reviewer.groupby(keys, sort=False).agg(
        reviewers=("reviewer", "nunique"), distinct_stances=("stance", "nunique"))
    counted = ordered.drop_duplicates(keys, keep="last").set_index(keys)
    counted = counted.join(stances_per_pair).reset_index()
    # Plain dicts, not .at lookups: a pandas cell read costs tens of microseconds, and this runs per review.
    text_of = dict(zip(texts["pmid"].tolist(), zip(texts["title"].tolist(), texts["abstract"].tolist())))
    stale = []
    for pmid, sentence, fingerprint in zip(counted["pmid"].tolist(), counted["sentence"].tolist(),
                                           counted["text_fingerprint"].tolist()):
        if pmid not in text_of:
            # A parked review (its article is gone) is not stale: nothing changed that it could be compared with.
            stale.append(False)
        elif sentence:
            stale.append(not sentence_in_text(sentence, *text_of[pmid]))
        else:
            stale.append(bool(fingerprint) and fingerprint != text_fingerprint(*text_of[pmid]))
    counted["stale"] = stale
    counted["disagreement"] = counted["distinct_stances"] > 1
    counted["pmid"] = counted["pmid"].astype("int64")
    counted["reviewers"] = counted["reviewers"].astype("int64")
    return counted[columns].reset_index(drop=True)


def apply_reviews(machine: pd.DataFrame, states: pd.DataFrame, with_review_columns: bool = False) -> pd.DataFrame:
    """The stance rows every count reads: the machine's rows with each reviewed pair's stance the reviewed one.

    `machine` are the stored stance rows (pmid, hypothesis_id and some of the stance columns), `states` the
    `review_states` rows. A review whose pair has no machine row (its article or cause absent, or the article no
    longer tagged with the cause) is parked: it changes nothing until its pair comes back. Where a review names a
    sentence, it becomes the pair's sentence, and the machine's cue and section (which belong to another sentence)
    are cleared; a reviewed pair's confidence is high, whatever the reader's was. `with_review_columns` adds REVIEW_COLUMNS: the machine's stance beside the counted one, who
    reviewed it and when, the note, and whether the review is stale or disputed.
    """
    frame = machine.copy()
    if with_review_columns:
        frame["machine_stance"] = frame["stance"].astype(object) if "stance" in frame else None
        frame["reviewed"] = False
        for name in ("reviewer", "reviewed_at", "review_note"):
            frame[name] = pd.Series(None, index=frame.index, dtype=object)
        frame["review_stale"] = False
        frame["review_disagreement"] = False
    if states.empty or frame.empty:
        return frame
    pmids = frame["pmid"].to_numpy(dtype="int64")
    candidates = np.flatnonzero(np.isin(pmids, states["pmid"].to_numpy(dtype="int64")))
    position_of = dict(zip(zip(pmids[candidates].tolist(), frame["hypothesis_id"].to_numpy()[candidates].tolist()),
                           candidates.tolist()))
    found = [(position_of.get(pair), index) for index, pair in
             enumerate(zip(states["pmid"].tolist(), states["hypothesis_id"].tolist()))]
    found = [(position, index) for position, index in found if position is not None]
    if not found:
        return frame
    positions = np.array([position for position, _ in found])
    # Whole columns as lists, never a row at a time: iterating rows of Arrow-backed strings is slow.
    reviewed = states.iloc[[index for _, index in found]]
    chosen = {name: reviewed[name].tolist() for name in
              ("stance", "sentence", "reviewer", "reviewed_at", "note", "stale", "disagreement")}

    def put(name: str, values: list) -> None:
        if name in frame:
            column = frame[name].astype(object).to_numpy(copy=True)
            column[positions] = values
            # Back to the column's own dtype: the counting groups half a million stance strings by it.
            frame[name] = pd.Series(column, index=frame.index, dtype=object).astype(frame[name].dtype)

    put("stance", chosen["stance"])
    # A person's reading is no guess: counted with the sure findings, not apart with the reader's unsure ones.
    put("confidence", ["high"] * len(positions))
    put("confidence_reason", [None] * len(positions))
    with_sentence = [sentence or None for sentence in chosen["sentence"]]
    if "sentence" in frame:
        # The machine's cue and section belong to its own sentence: cleared where the reviewer chose another.
        machine_sentences = frame["sentence"].to_numpy(dtype=object)[positions]
        replaced = [picked is not None and picked != normalised_text(old)
                    for picked, old in zip(with_sentence, machine_sentences)]
        put("sentence", [picked if picked is not None else old
                         for picked, old in zip(with_sentence, machine_sentences)])
        for name in ("cue", "section"):
            if name in frame:
                old_values = frame[name].to_numpy(dtype=object)[positions]
                put(name, [None if change else old for change, old in zip(replaced, old_values)])
    if with_review_columns:
        put("reviewer", chosen["reviewer"])
        put("reviewed_at", chosen["reviewed_at"])
        put("review_note", [note or None for note in chosen["note"]])
        for name, values in (("reviewed", [True] * len(positions)), ("review_stale", chosen["stale"]),
                             ("review_disagreement", chosen["disagreement"])):
            column = frame[name].to_numpy(dtype=bool, copy=True)
            column[positions] = values
            frame[name] = column
    return frame


AGREEMENT_COLUMNS: tuple[str, ...] = ("hypothesis_id", "reviewed", "accepted", "changed", "accepted_share",
                                      *(f"changed_to_{stance}" for stance in STANCES), "changes")


def agreement_table(effective: pd.DataFrame, cause_ids: list[str] | tuple[str, ...]) -> pd.DataFrame:
    """Per cause, how often reviewers kept the machine's stance: reviewed pairs, accepted, changed and to what.

    `effective` are `apply_reviews` rows with the review columns. A pair counts once, by its counted review,
    against the machine's current reading (the one the unreviewed pairs carry). One row per cause in
    `cause_ids`' order, zeros included: AGREEMENT_COLUMNS, accepted_share NaN with no review, changes a text such
    as "mixed → supports 2; no_finding → contradicts 1" (most frequent first).
    """
    reviewed = effective[effective["reviewed"].astype(bool)] if len(effective) else effective
    rows = []
    for cause in cause_ids:
        pairs = reviewed[reviewed["hypothesis_id"] == cause] if len(reviewed) else reviewed
        machine = pairs["machine_stance"].astype(object).tolist() if len(pairs) else []
        chosen = pairs["stance"].astype(object).tolist() if len(pairs) else []
        transitions = pd.Series([f"{old} → {new}" for old, new in zip(machine, chosen) if old != new], dtype=object)
        accepted = sum(old == new for old, new in zip(machine, chosen))
        row = {"hypothesis_id": cause, "reviewed": len(chosen), "accepted": accepted,
               "changed": len(chosen) - accepted,
               "accepted_share": accepted / len(chosen) if chosen else float("nan")}
        for stance in STANCES:
            row[f"changed_to_{stance}"] = sum(old != new and new == stance for old, new in zip(machine, chosen))
        counts = transitions.value_counts(sort=False)
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        row["changes"] = "; ".join(f"{text} {count}" for text, count in ranked)
        rows.append(row)
    return pd.DataFrame(rows, columns=list(AGREEMENT_COLUMNS))


# Why a pair is in the Review queue, in the order it asks for them: what a person is most likely to change first.
QUEUE_REASONS: tuple[str, ...] = ("abstract changed since review", "low confidence", "mixed",
                                  "finding in a high-level study", "recent article")
# Stances that report a finding: "pairs with a finding" in the Review page's progress are those the machine read so.
FINDING_STANCES: tuple[str, ...] = tuple(stance for stance in STANCES if stance != "no_finding")
# Confidence words the stance reader may give, lowest first; a numeric confidence sorts as it is.
_CONFIDENCE_RANKS = {"low": 0, "medium": 1, "high": 2}
LOW_CONFIDENCE = 0.5


def review_queue(pairs: pd.DataFrame, high_level_designs: tuple[str, ...] | list[str], *,
                 hypothesis_ids: tuple[str, ...] | list[str] = (),
                 stances: tuple[str, ...] | list[str] = ()) -> pd.DataFrame:
    """The pairs left to check, the ones a person is most likely to change first, each with its reason.

    `pairs` are `apply_reviews` rows with the review columns, joined to their article's design and pub_year (and
    the stance reader's `confidence` where it gives one). First the reviewed pairs whose abstract changed since the
    review, then the unreviewed ones: the lowest confidence first, then `mixed`, then a finding in a study of
    `high_level_designs`, then the newest article; a pair reviewed and not stale is done and left out.
    `hypothesis_ids` and `stances` (the counted stance) keep only those pairs. The rows of `pairs` in that order,
    with `reason` (one of QUEUE_REASONS, the first that applies; "" for none).
    """
    kept = pairs[~pairs["reviewed"].astype(bool) | pairs["review_stale"].astype(bool)]
    if hypothesis_ids:
        kept = kept[kept["hypothesis_id"].isin(list(hypothesis_ids))]
    if stances:
        kept = kept[kept["stance"].isin(list(stances))]
    kept = kept.copy()
    stale = kept["review_stale"].astype(bool).to_numpy()
    confidence, low = _confidence(kept)
    mixed = (kept["stance"] == "mixed").to_numpy(dtype=bool)
    high_level = (kept["stance"].isin(list(FINDING_STANCES)) & kept["design"].isin(list(high_level_designs))
                  ).to_numpy(dtype=bool)
    year = kept["pub_year"].astype("Float64").fillna(-1).to_numpy(dtype=float)
    recent = year >= np.max(year, initial=-1) - 1 if len(year) else np.zeros(0, dtype=bool)
    reasons = np.select([stale, low, mixed, high_level, recent & (year >= 0)], list(QUEUE_REASONS), default="")
    kept["reason"] = reasons
    # np.lexsort sorts by its last key first: stale, then confidence, mixed, high-level, newest, PMID.
    order = np.lexsort((-kept["pmid"].to_numpy(dtype="int64"), -year, ~high_level, ~mixed,
                        np.nan_to_num(confidence, nan=np.inf), ~stale))
    return kept.iloc[order].reset_index(drop=True)


def _confidence(pairs: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Each pair's confidence as a number to sort by (NaN where the reader gave none), and whether it is low:
    the word "low", or a number under LOW_CONFIDENCE."""
    if "confidence" not in pairs:
        return np.full(len(pairs), np.nan), np.zeros(len(pairs), dtype=bool)
    values = pairs["confidence"]
    if pd.api.types.is_numeric_dtype(values):
        numbers = values.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        return numbers, np.nan_to_num(numbers, nan=np.inf) < LOW_CONFIDENCE
    ranks = values.map(lambda word: _CONFIDENCE_RANKS.get(str(word).lower(), np.nan)).to_numpy(dtype=float)
    return ranks, ranks == _CONFIDENCE_RANKS["low"]


def review_progress(pairs: pd.DataFrame, hypothesis_id: str) -> tuple[int, int]:
    """(reviewed, all) of the cause's pairs with a finding: the pairs the machine read as a finding."""
    own = pairs[(pairs["hypothesis_id"] == hypothesis_id) & pairs["machine_stance"].isin(list(FINDING_STANCES))]
    return int(own["reviewed"].astype(bool).sum()), len(own)
