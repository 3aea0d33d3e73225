"""The one filter behind `tracker export`, `tracker feed` and the dashboard's citations table.

The same `Selection` gives the same rows in the same order everywhere: newest publication year first, articles
of unknown year last, then PMID descending (newer records first within a year).

Decisions the filters make:
- hypotheses: an article passes when it carries any of the chosen ids (the baseline id included).
- from_year / to_year: inclusive; once either bound is set, articles of unknown year are left out.
- designs: any of the chosen `vocabulary.DESIGNS` ids.
- species: "human" also keeps "both" (a study in humans and animals is human evidence), and "animal" keeps
  "both" likewise; "both" and "unknown" match only themselves.
- include_retracted: retracted articles are out unless this is true, as in every evidence count.
- only_retracted: only the retracted articles (include_retracted is then implied), for checking what was
  withdrawn.
- new_since: articles first seen at or after this ISO date ("2026-01-31", midnight UTC) or datetime (naive means
  UTC).
- new_in_run: what one successful run stored for the first time: a run id as `tracker status` lists it (a fetch
  or an import), or "latest", the newest successful one. A fetch's new articles include those stored by the
  failed or interrupted fetches since the previous successful one: their batches committed, and the fetch that
  completed the sync is the one that brought them.
- changed_in_run: likewise, what the run changed: stored articles whose record PubMed modified (a new retraction
  or erratum link, a corrected record).
  Both read the store's `RunHistory`, passed to `select_articles` as `runs`.
- text: a case-insensitive literal substring of the title, abstract, author names or journal.
- stances, evidence_kinds, hedged, confidence: an article passes when one of its stored stance rows, for one of
  the chosen hypotheses (any, when none is chosen), has one of the chosen `models.STANCES`, one of the chosen
  `models.EVIDENCE_KINDS`, the chosen hedging (True: hedged only, False: unhedged only) and the chosen
  confidence (`models.CONFIDENCES`), each where chosen; a pair the stance reader has not read yet matches none.
  The caller passes the stance rows (`store.load_stance_frame`, pmid, hypothesis_id and the stance columns
  filtered by).
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np
import pandas as pd

from tracker.errors import ConfigError
from tracker.models import CONFIDENCES, EVIDENCE_KINDS, STANCES, ArticleFilter, RunHistory
from tracker.vocabulary import DESIGNS, SPECIES
from tracker.wording import number_ranges

TEXT_COLUMNS = ("title", "abstract", "author_names", "journal")
# Every catalogue column `select_articles` reads: a caller that needs only the PMIDs can pass just these.
SELECTION_COLUMNS = ("pmid", "pub_year", "hypotheses", "design", "species", "retracted", "first_seen", *TEXT_COLUMNS)

# "human" keeps "both" too, so asking for human evidence never hides the studies that also used animals.
_SPECIES_KEPT = {"human": ("human", "both"), "animal": ("animal", "both"), "both": ("both",),
                 "unknown": ("unknown",)}
LATEST_RUN = "latest"
# Selection field → the option that names it in messages, and the run_articles change it selects.
_RUN_FIELDS = {"new_in_run": ("new-in-run", "new"), "changed_in_run": ("changed-in-run", "changed")}
STATUS_WORDS = {"failed": "failed", "interrupted": "was interrupted", "running": "is still running"}


@dataclass(frozen=True)
class Selection:
    """What the user asked for: every field left at its default keeps every non-retracted article."""

    hypotheses: tuple[str, ...] = ()
    from_year: int | None = None
    to_year: int | None = None
    designs: tuple[str, ...] = ()
    species: str | None = None
    include_retracted: bool = False
    new_since: str | None = None
    text: str | None = None
    stances: tuple[str, ...] = ()
    confidence: str | None = None
    new_in_run: int | str | None = None
    changed_in_run: int | str | None = None
    only_retracted: bool = False
    evidence_kinds: tuple[str, ...] = ()
    hedged: bool | None = None

    def __post_init__(self) -> None:
        # The run choices first: a malformed one is bad usage (RunChoiceError), reported before the other fields.
        for name in _RUN_FIELDS:
            object.__setattr__(self, name, _run_choice(name, getattr(self, name)))
        # Lists from a form or click become tuples, so a Selection stays hashable (a cache key).
        for name in ("hypotheses", "designs", "stances", "evidence_kinds"):
            object.__setattr__(self, name, tuple(getattr(self, name) or ()))
        for name in ("species", "new_since", "text", "confidence"):
            if getattr(self, name) == "":
                object.__setattr__(self, name, None)
        for name in ("from_year", "to_year"):
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, numbers.Integral):
                raise ConfigError(f"{name.replace('_', '-')} {value!r} is not a year; give a whole number such as 2015")
            # A year read from a DataFrame is a numpy integer; a plain int keeps the Selection simple to compare.
            object.__setattr__(self, name, int(value))
        if self.from_year is not None and self.to_year is not None and self.from_year > self.to_year:
            raise ConfigError(
                f"from-year {self.from_year} is after to-year {self.to_year}; swap them or drop one of the bounds")
        unknown_designs = [d for d in self.designs if d not in DESIGNS]
        if unknown_designs:
            raise ConfigError(f"unknown study design {unknown_designs[0]!r}: choose from {', '.join(DESIGNS)}")
        check_stances(self.stances)
        if self.confidence is not None and self.confidence not in CONFIDENCES:
            raise ConfigError(f"unknown confidence {self.confidence!r}: choose one of {', '.join(CONFIDENCES)}")
        unknown_kinds = [kind for kind in self.evidence_kinds if kind not in EVIDENCE_KINDS]
        if unknown_kinds:
            raise ConfigError(f"unknown evidence kind {unknown_kinds[0]!r}: choose from {', '.join(EVIDENCE_KINDS)}")
        if self.species is not None and self.species not in SPECIES:
            raise ConfigError(f"unknown species {self.species!r}: choose one of {', '.join(SPECIES)}")
        if self.new_since is not None:
            new_since_time(self.new_since)


class RunChoiceError(ConfigError):
    """A run choice that is malformed, or names no successful run: the command's usage, not the store, is wrong."""


def check_stances(stances: Iterable[str]) -> None:
    """Refuse a stance that is not one of `models.STANCES`."""
    unknown = [stance for stance in stances if stance not in STANCES]
    if unknown:
        raise ConfigError(f"unknown stance {unknown[0]!r}: choose from {', '.join(STANCES)}")


# A selection in a dashboard address (`?page=Citations&causes=sleep&stances=supports`): each field's name there.
# include_retracted and only_retracted travel together as retracted=include or retracted=only.
QUERY_NAMES = {"hypotheses": "causes", "stances": "stances", "confidence": "confidence", "designs": "designs",
               "from_year": "from", "to_year": "to", "evidence_kinds": "kinds"}
# hedged travels as hedged=yes or hedged=no.
_HEDGED_WORDS = {True: "yes", False: "no"}


def to_query(selection: Selection) -> dict[str, str]:
    """The address parameters that name a selection's hypotheses, stances (and their confidence), designs, years
    and retracted choice."""
    query: dict[str, str] = {}
    for field, name in QUERY_NAMES.items():
        value = getattr(selection, field)
        if value is not None and value != ():
            query[name] = ",".join(str(item) for item in value) if isinstance(value, tuple) else str(value)
    if selection.only_retracted or selection.include_retracted:
        query["retracted"] = "only" if selection.only_retracted else "include"
    if selection.hedged is not None:
        query["hedged"] = _HEDGED_WORDS[selection.hedged]
    return query


def from_query(params: Mapping[str, str], hypothesis_ids: Iterable[str]) -> tuple[dict[str, object], list[str]]:
    """The Selection fields an address names, and a note for each value left out because it is not allowed.

    A link is never an error: a value not allowed is dropped (a year, both years when they are in the wrong order)
    and the rest of the address still applies.
    """
    allowed = {"hypotheses": (set(hypothesis_ids), "one of the causes"),
               "stances": (set(STANCES), f"a stance ({', '.join(STANCES)})"),
               "designs": (set(DESIGNS), "a study design"),
               "evidence_kinds": (set(EVIDENCE_KINDS), f"a kind of evidence ({', '.join(EVIDENCE_KINDS)})")}
    fields: dict[str, object] = {}
    notes: list[str] = []
    for field, (choices, what) in allowed.items():
        name = QUERY_NAMES[field]
        if name in params:
            values = [value for value in params[name].split(",") if value]
            fields[field] = tuple(value for value in values if value in choices)
            notes += [f"{name}: {shown_value(value)} is not {what}; left out" for value in values
                      if value not in choices]
    name = QUERY_NAMES["confidence"]
    if params.get(name) in CONFIDENCES:
        fields["confidence"] = params[name]
    elif name in params:
        notes.append(f"{name}: {shown_value(params[name])} is not a confidence ({', '.join(CONFIDENCES)}); "
                     "the page is shown without it")
    for field in ("from_year", "to_year"):
        name = QUERY_NAMES[field]
        if name in params:
            year = _year(params[name])
            if year is None:
                notes.append(f"{name}: {shown_value(params[name])} is not a year (four digits, such as 2015); "
                             "the page is shown without it")
            else:
                fields[field] = year
    if fields.get("from_year", 0) > fields.get("to_year", 10_000):
        notes.append(f"from {fields.pop('from_year')} is after to {fields.pop('to_year')}; "
                     "the page is shown without the years")
    retracted = params.get("retracted")
    if retracted in ("only", "include"):
        fields["include_retracted"] = True
        fields["only_retracted"] = retracted == "only"
    elif retracted is not None:
        notes.append(f"retracted: {shown_value(retracted)} is not include or only; the page is shown without it")
    hedged_words = {word: value for value, word in _HEDGED_WORDS.items()}
    if params.get("hedged") in hedged_words:
        fields["hedged"] = hedged_words[params["hedged"]]
    elif "hedged" in params:
        notes.append(f"hedged: {shown_value(params['hedged'])} is not yes or no; the page is shown without it")
    return fields, notes


def _year(text: str) -> int | None:
    """A year of four ASCII digits, else None (Python's isdigit also passes "²" and "٢", which int() refuses)."""
    return int(text) if len(text) == 4 and text.isascii() and text.isdigit() else None


def shown_value(text: str, limit: int = 20) -> str:
    """A value from an address, quoted and cut to `limit` characters, as a note shows it."""
    return repr(text if len(text) <= limit else text[:limit] + "…")


def new_since_time(text: str) -> pd.Timestamp:
    """Read an ISO date or datetime as a UTC timestamp; a date means its midnight UTC."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ConfigError(
            f"new-since {text!r} is not an ISO date or datetime; write it as 2026-01-31 or 2026-01-31T08:00:00Z"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return pd.Timestamp(moment).tz_convert("UTC")


def _run_choice(name: str, value: object) -> int | str | None:
    """A run choice as a Selection keeps it: None, "latest" or a positive run id (digits from a form or click too)."""
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.strip().lower() == LATEST_RUN:
        return LATEST_RUN
    if isinstance(value, str) and value.strip().isdecimal():
        value = int(value.strip())
    if isinstance(value, numbers.Integral) and not isinstance(value, bool) and value > 0:
        return int(value)
    raise RunChoiceError(f"{_RUN_FIELDS[name][0]} {value!r} is not a run; give latest or a run id that "
                         f"`tracker status` lists")


def resolve_run(runs: RunHistory | pd.DataFrame, choice: int | str, option: str = "new-in-run") -> int:
    """The id of the successful run or import that a choice names; "latest" is the newest of them.

    `runs` is the RunHistory or its runs. A run that does not exist, failed or is still running is refused,
    naming it and the ids to choose from.
    """
    history = runs.runs if isinstance(runs, RunHistory) else runs
    succeeded = history.loc[history["status"] == "succeeded", "id"].astype(int).tolist()
    if choice == LATEST_RUN:
        if not succeeded:
            raise RunChoiceError(f"{option} latest: no fetch or import has succeeded yet; run `tracker fetch` or "
                              f"`tracker import FILE` first")
        return max(succeeded)
    if choice in succeeded:
        return int(choice)
    status = history.loc[history["id"] == choice, "status"]
    problem = (f"run {choice} {STATUS_WORDS.get(status.iloc[0], status.iloc[0])}" if len(status)
               else f"there is no run {choice}")
    choices = f"latest or {number_ranges(succeeded)}" if succeeded else "none yet (no fetch or import has succeeded)"
    raise RunChoiceError(f"{option} {choice}: {problem}; choose {choices} (see `tracker status`)")


def run_pmids(runs: RunHistory, run_id: int, change: str) -> np.ndarray:
    """The PMIDs a successful run stored first (change "new") or changed ("changed").

    For a fetch, with those of the failed or interrupted fetches since the previous successful fetch.
    """
    changes = runs.changes
    return changes.loc[changes["run_id"].isin(folded_run_ids(runs.runs, run_id)) & (changes["change"] == change),
                       "pmid"].unique()


def _counting_runs(runs: pd.DataFrame) -> dict[int, int]:
    """Per run id, the successful run that counts the run's articles as its own: a successful run itself; a failed,
    interrupted or running fetch, the next successful fetch (none yet: left out); `runs`: RunHistory's runs."""
    counting: dict[int, int] = {}
    waiting: list[int] = []  # the fetches since the last successful one that did not succeed
    for run_id, kind, status in sorted(zip(runs["id"].tolist(), runs["kind"].tolist(), runs["status"].tolist())):
        if status == "succeeded":
            counting[run_id] = run_id
            if kind == "fetch":
                counting.update(dict.fromkeys(waiting, run_id))
                waiting = []
        elif kind == "fetch":
            waiting.append(run_id)
    return counting


def new_by_successful_run(runs: pd.DataFrame) -> dict[int, int]:
    """Per successful run (by id, in id order), the articles it stored first, with those of the fetches it folds in
    (`folded_run_ids`), from RunHistory's runs with their new_count: one pass, however many runs."""
    new = dict(zip(runs["id"].tolist(), runs["new_count"].tolist()))
    counting_runs = _counting_runs(runs)
    counts = {run_id: 0 for run_id, counting in sorted(counting_runs.items()) if counting == run_id}
    for run_id, counting in counting_runs.items():
        counts[counting] += new[run_id]
    return counts


def folded_run_ids(runs: pd.DataFrame, run_id: int) -> list[int]:
    """The run and, for a fetch, the failed or interrupted fetches since the previous successful one, whose
    articles it counts as its own (`runs`: RunHistory's runs), newest first."""
    folded = sorted((other for other, counting in _counting_runs(runs).items()
                     if counting == run_id and other != run_id), reverse=True)
    return [run_id, *folded]


def select_articles(
    catalogue: pd.DataFrame, selection: Selection, *, hypothesis_ids: Iterable[str] | None = None,
    stances: pd.DataFrame | None = None,
    runs: RunHistory | None = None,
) -> pd.DataFrame:
    """Return the catalogue rows the selection keeps, newest year first, unknown years last, then PMID descending.

    `hypothesis_ids` are the configured ids a selection may name; without them the ids present in the
    catalogue are the allowed ones, so a mistyped id is refused rather than giving an empty result. `stances`
    (pmid, hypothesis_id, stance) is needed when the selection filters by stance; `runs`, the store's run history,
    when it names a run.
    """
    # The runs first: a run that does not exist or failed is the caller's usage error, whatever else is wrong.
    run_pmid_sets = [run_pmids(runs, run_id, change) for run_id, change in _chosen_runs(selection, runs)]
    _check_hypotheses(catalogue, selection, hypothesis_ids)
    keep = pd.Series(True, index=catalogue.index)
    if selection.hypotheses:
        wanted = set(selection.hypotheses)
        keep &= catalogue["hypotheses"].map(lambda ids: not wanted.isdisjoint(ids)).astype(bool)
    years = catalogue["pub_year"]
    if selection.from_year is not None:
        keep &= (years >= selection.from_year).fillna(False).astype(bool)
    if selection.to_year is not None:
        keep &= (years <= selection.to_year).fillna(False).astype(bool)
    if selection.designs:
        keep &= catalogue["design"].isin(selection.designs)
    if selection.species is not None:
        keep &= catalogue["species"].isin(_SPECIES_KEPT[selection.species])
    if selection.only_retracted:
        keep &= catalogue["retracted"].astype(bool)
    elif not selection.include_retracted:
        keep &= ~catalogue["retracted"].astype(bool)
    if selection.new_since is not None:
        first_seen = pd.to_datetime(catalogue["first_seen"], utc=True, format="ISO8601")
        keep &= (first_seen >= new_since_time(selection.new_since)).fillna(False).astype(bool)
    for pmids in run_pmid_sets:
        keep &= catalogue["pmid"].isin(pmids)
    if selection.text is not None and selection.text.strip():
        keep &= _text_matches(catalogue, selection.text.strip())
    if by_stance_row(selection):
        if stances is None:
            raise ValueError("a selection by stance needs the stance rows: pass stances=store.load_stance_frame(...)")
        keep &= catalogue["pmid"].isin(_pmids_with_stance(stances, selection))
    return _order(catalogue, keep)


def by_stance_row(selection: Selection) -> bool:
    """Whether the selection filters by what the stance rows say (stance, evidence kind, hedging, confidence)."""
    return bool(selection.stances or selection.evidence_kinds or selection.hedged is not None
                or selection.confidence is not None)


def _chosen_runs(selection: Selection, runs: RunHistory | pd.DataFrame | None) -> list[tuple[int, str]]:
    """The run each of the selection's run fields names, resolved, with the change ("new", "changed") it selects."""
    chosen = []
    for name, (option, change) in _RUN_FIELDS.items():
        choice = getattr(selection, name)
        if choice is None:
            continue
        if runs is None:
            raise ValueError(f"the selection names a run ({option} {choice}): pass the store's RunHistory as runs")
        chosen.append((resolve_run(runs, choice, option), change))
    return chosen


def article_filter(selection: Selection, *, hypothesis_ids: Iterable[str], runs: pd.DataFrame | None = None
                   ) -> ArticleFilter:
    """The selection as the store's query tests it (`store.select_pmids`): the same rows as `select_articles`.

    `hypothesis_ids` are the configured ids a selection may name; `runs` (RunHistory's runs, or
    `store.load_run_list`) is needed when it names a run.
    """
    run_changes = [(tuple(folded_run_ids(runs, run_id)), change) for run_id, change in _chosen_runs(selection, runs)]
    hypothesis_ids = tuple(hypothesis_ids)
    _check_hypotheses(None, selection, hypothesis_ids)
    text = selection.text.strip() if selection.text is not None else ""
    return ArticleFilter(
        hypotheses=selection.hypotheses, from_year=selection.from_year, to_year=selection.to_year,
        designs=selection.designs, species=_SPECIES_KEPT[selection.species] if selection.species else (),
        retracted="only" if selection.only_retracted else "include" if selection.include_retracted else "exclude",
        first_seen_from=None if selection.new_since is None else new_since_time(selection.new_since).isoformat(),
        run_changes=tuple(run_changes), text=text or None, stances=selection.stances,
        # Stance rows of ids no longer configured are parked: with no cause chosen, any configured one.
        stance_hypotheses=(selection.hypotheses or tuple(hypothesis_ids)) if by_stance_row(selection) else (),
        stance_confidence=selection.confidence, evidence_kinds=selection.evidence_kinds, hedged=selection.hedged)


def _pmids_with_stance(stances: pd.DataFrame, selection: Selection) -> np.ndarray:
    matching = pd.Series(True, index=stances.index)
    if selection.stances:
        matching &= stances["stance"].isin(selection.stances)
    if selection.evidence_kinds:
        matching &= stances["evidence_kind"].isin(selection.evidence_kinds)
    if selection.hedged is not None:
        matching &= stances["hedged"].astype(bool) == selection.hedged
    if selection.confidence is not None:
        matching &= stances["confidence"] == selection.confidence
    if selection.hypotheses:
        matching &= stances["hypothesis_id"].isin(selection.hypotheses)
    return stances.loc[matching, "pmid"].unique()


def _check_hypotheses(catalogue: pd.DataFrame, selection: Selection, hypothesis_ids: Iterable[str] | None) -> None:
    if not selection.hypotheses:
        return
    if hypothesis_ids is None:
        allowed = sorted({i for ids in catalogue["hypotheses"] for i in ids})
    else:
        allowed = list(hypothesis_ids)
    unknown = [h for h in selection.hypotheses if h not in allowed]
    if unknown:
        choices = ", ".join(allowed) if allowed else "none yet (the store has no tagged articles)"
        raise ConfigError(f"unknown hypothesis {unknown[0]!r}: choose from {choices}")


def _text_matches(catalogue: pd.DataFrame, text: str) -> pd.Series:
    # Literal, not a regex: a user's "5-HT (serotonin)" or "c++" must not be read as a pattern. case=False on
    # pandas' Arrow-backed strings searches in C++, many times faster than lower-casing every abstract first.
    found = pd.Series(False, index=catalogue.index)
    for column in TEXT_COLUMNS:
        values = catalogue[column]
        if not pd.api.types.is_string_dtype(values) or values.dtype == object:
            values = values.fillna("").astype("str")
        found |= values.str.contains(text, case=False, regex=False).fillna(False).astype(bool)
    return found


def _order(catalogue: pd.DataFrame, keep: pd.Series) -> pd.DataFrame:
    # Sort the kept rows' keys, then take the rows once: filtering and then sorting the whole frame would copy
    # every column twice. na_position="last" applies to pub_year only: pmid is never missing.
    positions = np.flatnonzero(keep.to_numpy(dtype=bool))
    keys = catalogue[["pub_year", "pmid"]].iloc[positions].reset_index(drop=True)
    order = keys.sort_values(["pub_year", "pmid"], ascending=[False, False], na_position="last").index
    return catalogue.iloc[positions[order.to_numpy()]]
