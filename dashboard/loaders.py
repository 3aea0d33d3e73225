"""Every read the dashboard makes: read-only, cached, keyed on the store's committed state.

A loader takes a `StoreState` first. The state changes whenever the store's files change, as every commit changes
them (a fetch run's start included), so a page rerun after a fetch reloads, and a rerun after a filter change reuses
what was read.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import streamlit as st

from tracker import store
from tracker.analysis import evidence
from tracker.config import Hypothesis, Settings, load_settings
from tracker.analysis.reviews import REVIEW_COLUMNS, agreement_table
from tracker.models import RunHistory
from tracker.outputs.selection import SELECTION_COLUMNS, Selection, by_stance_row, select_articles
from tracker.vocabulary import MESH_CHECK_TAGS


# Hypotheses are a cache key of many loaders: hashed by their repr (every field), not by Streamlit's generic walk
# over the objects, which cost a quarter of a rerun.
_HASH_HYPOTHESES = {Hypothesis: repr}


def utc_now() -> datetime:
    """The one clock the dashboard reads (the current year is partial in every chart); tests replace it."""
    return datetime.now(UTC)


class StoreState(NamedTuple):
    """One committed state of the store: the caches' key."""

    db_path: str
    file_stamps: tuple[int, ...]  # modification time (ns) and size (bytes) of the store and of its WAL
    # The configured causes: rows of any other id (a renamed cause's) are parked in the store and never read.
    # None reads every id.
    hypothesis_ids: tuple[str, ...] | None = None


def _page_arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--db")
    parser.add_argument("--hypotheses")
    parser.add_argument("--demo", action="store_true")
    # parse_known_args: under AppTest the script sees pytest's own arguments.
    options, _unknown = parser.parse_known_args(list(argv))
    return options


def read_settings(argv: Sequence[str], environ: Mapping[str, str]) -> Settings:
    """Build Settings from `streamlit run app.py -- --db PATH --hypotheses PATH`, else TRACKER_DB / TRACKER_HYPOTHESES."""
    options = _page_arguments(argv)
    return load_settings(hypotheses_path=options.hypotheses, db_path=options.db, environ=dict(environ))


def is_demo(argv: Sequence[str]) -> bool:
    """Whether the page serves `tracker demo`'s synthetic store (`streamlit run app.py -- --demo`)."""
    return _page_arguments(argv).demo


def read_store_state(db_path: Path, hypothesis_ids: tuple[str, ...] | None = None) -> StoreState | None:
    """Fingerprint the store from its files' metadata, or None when there is no store file yet.

    Every rerun calls this, so it opens no connection: an unreadable store is reported by the first loader.
    """
    path = Path(db_path).resolve()
    if not path.exists():
        return None
    stamps: list[int] = []
    # With WAL, commits land in the -wal file first; the main file changes only at checkpoints.
    for file in (path, path.with_name(path.name + "-wal")):
        try:
            status = file.stat()
        except FileNotFoundError:
            stamps += [0, 0]
            continue
        stamps += [status.st_mtime_ns, status.st_size]
    return StoreState(str(path), tuple(stamps), hypothesis_ids)


# cache_resource, not cache_data: cache_data would unpickle a fresh copy of every row (nested lists and dicts
# included) on each rerun, 2.2 s at 15,000 articles. Callers never mutate it. One entry: 200,000 articles take
# about 3 GB, and after a fetch only the new state is wanted.
@st.cache_resource(max_entries=1, show_spinner="Reading the store…")
def load_catalogue(state: StoreState) -> pd.DataFrame:
    """One row per stored article with its tags, as `store.load_catalogue` gives it."""
    with store.reading(Path(state.db_path)) as connection:
        return store.load_catalogue(connection, state.hypothesis_ids)


# The PMIDs, not the rows: a selection of 200,000 rows is 150 MB as a frame, 1.6 MB as an array.
@st.cache_data(max_entries=32, show_spinner=False)
def load_selected_pmids(state: StoreState, selection: Selection, hypothesis_ids: tuple[str, ...]) -> np.ndarray:
    """The PMIDs a selection keeps, in the order `tracker export` writes them."""
    # Only the columns the selection reads, so that it copies those alone when it orders the kept rows.
    catalogue = load_catalogue(state)[list(SELECTION_COLUMNS)]
    stances = None
    if selection.evidence_kinds or selection.hedged is not None:
        stances = load_stance_details(state)
    elif by_stance_row(selection):
        stances = load_stances(state)
    return select_articles(catalogue, selection, hypothesis_ids=hypothesis_ids, stances=stances,
                           runs=load_run_history(state))["pmid"].to_numpy()


# cache_resource: the rows of what each run stored are one per article, as many as the catalogue's; never mutated.
@st.cache_resource(max_entries=1, show_spinner=False)
def load_run_history(state: StoreState) -> RunHistory:
    """Every fetch and import with what it stored first and what it changed: the "new in run" filters' list."""
    with store.reading(Path(state.db_path)) as connection:
        return store.load_run_history(connection)


def catalogue_rows(state: StoreState, pmids: np.ndarray, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """The catalogue rows of these PMIDs (with all columns, or those named), in the order given."""
    catalogue = load_catalogue(state)
    # The catalogue is ordered by PMID, so a binary search finds each row without building an index.
    positions = np.searchsorted(catalogue["pmid"].to_numpy(), pmids)
    return catalogue.iloc[positions] if columns is None else catalogue[list(columns)].iloc[positions]


@st.cache_data(max_entries=16, show_spinner=False, hash_funcs=_HASH_HYPOTHESES)
def load_evidence(state: StoreState, hypotheses: tuple[Hypothesis, ...], include_retracted: bool,
                  by_species: bool = False) -> pd.DataFrame:
    """`evidence.evidence_table` over the stored catalogue: every count the dashboard shows."""
    return evidence.evidence_table(load_catalogue(state), hypotheses, include_retracted=include_retracted,
                                   by_species=by_species)


@st.cache_data(max_entries=16, show_spinner=False, hash_funcs=_HASH_HYPOTHESES)
def load_chart_data(state: StoreState, hypotheses: tuple[Hypothesis, ...], include_retracted: bool,
                    mode: str) -> pd.DataFrame:
    """`evidence.chart_data` of the stored evidence."""
    return evidence.chart_data(load_evidence(state, hypotheses, include_retracted), hypotheses, mode)


@st.cache_data(max_entries=16, show_spinner=False, hash_funcs=_HASH_HYPOTHESES)
def load_cause_totals(state: StoreState, hypotheses: tuple[Hypothesis, ...], include_retracted: bool) -> dict[str, int]:
    """`evidence.cause_totals` of the stored evidence."""
    return evidence.cause_totals(load_evidence(state, hypotheses, include_retracted))


@st.cache_data(max_entries=16, show_spinner=False, hash_funcs=_HASH_HYPOTHESES)
def load_unknown_year_counts(state: StoreState, hypotheses: tuple[Hypothesis, ...],
                             include_retracted: bool) -> dict[str, int]:
    """`evidence.unknown_year_counts` of the stored evidence."""
    return evidence.unknown_year_counts(load_evidence(state, hypotheses, include_retracted), hypotheses)


@st.cache_data(max_entries=16, show_spinner=False, hash_funcs=_HASH_HYPOTHESES)
def load_design_chart_data(state: StoreState, hypotheses: tuple[Hypothesis, ...], include_retracted: bool,
                           hypothesis_id: str) -> pd.DataFrame:
    """`evidence.design_chart_data` of the stored evidence."""
    return evidence.design_chart_data(load_evidence(state, hypotheses, include_retracted), hypothesis_id)


@st.cache_data(max_entries=16, show_spinner=False, hash_funcs=_HASH_HYPOTHESES)
def load_breakdowns(state: StoreState, hypotheses: tuple[Hypothesis, ...], include_retracted: bool,
                    hypothesis_id: str) -> dict[str, pd.Series]:
    """`evidence.breakdowns` of the stored evidence by species."""
    return evidence.breakdowns(load_evidence(state, hypotheses, include_retracted, by_species=True), hypothesis_id)


@st.cache_data(max_entries=16, show_spinner=False)
def load_top_mesh(state: StoreState, hypothesis_id: str, include_retracted: bool, limit: int) -> pd.DataFrame:
    """`evidence.top_mesh` of one cause's stored articles, MeSH check tags left out."""
    articles = evidence.cause_articles(load_catalogue(state), hypothesis_id, include_retracted)
    return evidence.top_mesh(store.decode_details(articles, ["mesh_terms"])["mesh_terms"], MESH_CHECK_TAGS, limit)


@st.cache_data(max_entries=4, show_spinner=False)
def load_status(state: StoreState) -> pd.DataFrame:
    """Per hypothesis: last sync, PubMed count, stored count and the newest run's outcome."""
    with store.reading(Path(state.db_path)) as connection:
        return store.load_status_frame(connection)


@st.cache_data(max_entries=4, show_spinner=False)
def load_sync_states(state: StoreState, hypothesis_ids: tuple[str, ...]) -> pd.DataFrame:
    """The sync_state row of each hypothesis that has had a successful sync, indexed by hypothesis id."""
    with store.reading(Path(state.db_path)) as connection:
        rows = [store.load_sync_state(connection, hypothesis_id) for hypothesis_id in hypothesis_ids]
    records = [dict(row) for row in rows if row is not None]
    columns = ["hypothesis_id", "query", "query_translation", "pubmed_count", "window_count", "modified_since",
               "last_success_run_id", "last_success_at"]
    return pd.DataFrame.from_records(records, columns=columns).set_index("hypothesis_id")


@st.cache_data(max_entries=4, show_spinner=False)
def load_runs(state: StoreState, limit: int = 20) -> pd.DataFrame:
    """The most recent fetch runs, newest first."""
    with store.reading(Path(state.db_path)) as connection:
        return store.load_runs_frame(connection, limit=limit)


@st.cache_data(max_entries=4, show_spinner=False)
def load_last_success(state: StoreState) -> dict | None:
    """The newest successful fetch run, however many failed ones followed it."""
    with store.reading(Path(state.db_path)) as connection:
        return store.load_last_successful_run(connection)


@st.cache_data(max_entries=8, show_spinner=False)
def load_run_log(state: StoreState, run_id: int) -> pd.DataFrame:
    """One fetch run's per-hypothesis lines."""
    with store.reading(Path(state.db_path)) as connection:
        return store.load_run_hypotheses_frame(connection, run_id)


# cache_resource, like the catalogue: two rows per article at 200,000 articles, and cache_data would unpickle a
# copy on every call. Callers never mutate it.
@st.cache_resource(max_entries=1, show_spinner=False)
def load_stances(state: StoreState) -> pd.DataFrame:
    """Every stored stance row's key, stance and confidence (pmid, hypothesis_id, stance, confidence); empty until
    the stance reader ran."""
    with store.reading(Path(state.db_path)) as connection:
        return store.load_stance_frame(connection, columns=("stance", "confidence"),
                                       hypothesis_ids=state.hypothesis_ids)


# cache_resource as load_stances: a row per read (article, cause) pair, never mutated.
@st.cache_resource(max_entries=1, show_spinner=False)
def load_stance_details(state: StoreState) -> pd.DataFrame:
    """Every stance row with what the verdict counts: stance, confidence, evidence_kind, hedged, n_patients and
    whether a person reviewed it (a reviewed pair's stance is the reviewed one)."""
    with store.reading(Path(state.db_path)) as connection:
        return store.load_stance_frame(connection, columns=("stance", "confidence", "evidence_kind", "hedged",
                                                            "n_patients", "reviewed"),
                                       hypothesis_ids=state.hypothesis_ids)


@st.cache_data(max_entries=16, show_spinner=False)
def load_finding_counts(state: StoreState, include_retracted: bool) -> pd.DataFrame:
    """`evidence.finding_counts` of the stored stance rows: the small frame every verdict is computed from."""
    return evidence.finding_counts(load_catalogue(state), load_stance_details(state),
                                   include_retracted=include_retracted)


@st.cache_data(max_entries=16, show_spinner=False, hash_funcs=_HASH_HYPOTHESES)
def load_verdict(state: StoreState, hypotheses: tuple[Hypothesis, ...], include_retracted: bool, scope: str,
                 now_year: int) -> pd.DataFrame:
    """`evidence.verdict_table` of the stored findings: one row per cause."""
    return evidence.verdict_table(load_finding_counts(state, include_retracted), hypotheses, scope=scope,
                                  now_year=now_year)


@st.cache_data(max_entries=16, show_spinner=False, hash_funcs=_HASH_HYPOTHESES)
def load_share_by_period(state: StoreState, hypotheses: tuple[Hypothesis, ...], include_retracted: bool,
                         scope: str) -> pd.DataFrame:
    """`evidence.share_by_period` of the stored findings, five-year periods."""
    return evidence.share_by_period(load_finding_counts(state, include_retracted), hypotheses, scope=scope)


@st.cache_data(max_entries=4, show_spinner=False)
def has_stances(state: StoreState) -> bool:
    """Whether the store holds any stance row, i.e. whether charts can stack by stance."""
    with store.reading(Path(state.db_path)) as connection:
        return store.has_stances(connection)


@st.cache_data(max_entries=8, show_spinner=False)
def load_revised_date(state: StoreState, pmid: int) -> str | None:
    """When PubMed last revised the article's record (its DateRevised): a retraction flag arrives with a revision."""
    with store.reading(Path(state.db_path)) as connection:
        return store.load_revised_date(connection, pmid)


@st.cache_data(max_entries=8, show_spinner=False)
def load_article_stances(state: StoreState, pmid: int) -> pd.DataFrame:
    """One article's stance rows with their deciding sentence, cue, section and sample sizes, who reviewed each
    (`reviews.REVIEW_COLUMNS`), and the machine's own sentence and cue beside a reviewed one (machine_sentence,
    machine_cue)."""
    with store.reading(Path(state.db_path)) as connection:
        counted = store.load_stance_frame(connection, pmids=[int(pmid)],
                                          columns=(*store.STANCE_COLUMNS, *REVIEW_COLUMNS),
                                          hypothesis_ids=state.hypothesis_ids)
        machine = store.load_machine_stance_frame(connection, pmids=[int(pmid)], columns=("sentence", "cue"),
                                                  hypothesis_ids=state.hypothesis_ids)
    return counted.merge(machine.rename(columns={"sentence": "machine_sentence", "cue": "machine_cue"}),
                         on=["pmid", "hypothesis_id"], how="left")


@st.cache_data(max_entries=16, show_spinner=False, hash_funcs=_HASH_HYPOTHESES)
def load_stance_evidence(state: StoreState, hypotheses: tuple[Hypothesis, ...],
                         include_retracted: bool) -> pd.DataFrame:
    """The evidence table with its reading key (`vocabulary.READINGS`: a finding read with low confidence apart
    from the others; a pair not read yet counts as `models.UNREAD_STANCE`)."""
    return evidence.reading_evidence_table(load_catalogue(state), hypotheses, include_retracted=include_retracted,
                                           stances=load_stances(state))


@st.cache_data(max_entries=16, show_spinner=False, hash_funcs=_HASH_HYPOTHESES)
def load_baseline_per_year(state: StoreState, hypotheses: tuple[Hypothesis, ...],
                           include_retracted: bool) -> pd.Series:
    """`evidence.baseline_per_year` of the stored catalogue: the per-1,000 denominators."""
    return evidence.baseline_per_year(load_catalogue(state), hypotheses, include_retracted)


@st.cache_data(max_entries=16, show_spinner=False, hash_funcs=_HASH_HYPOTHESES)
def load_stacked_chart_data(state: StoreState, hypotheses: tuple[Hypothesis, ...], include_retracted: bool,
                            mode: str, by: str, now_year: int, hypothesis_id: str | None = None) -> pd.DataFrame:
    """`evidence.stacked_chart_data` of the stored evidence (stance-keyed when stacking by stance)."""
    table = (load_stance_evidence(state, hypotheses, include_retracted) if by == "stance"
             else load_evidence(state, hypotheses, include_retracted))
    return evidence.stacked_chart_data(table, load_baseline_per_year(state, hypotheses, include_retracted),
                                       hypotheses, mode, by, now_year, hypothesis_id)


@st.cache_data(max_entries=16, show_spinner=False, hash_funcs=_HASH_HYPOTHESES)
def load_design_matrix(state: StoreState, hypotheses: tuple[Hypothesis, ...], include_retracted: bool) -> pd.DataFrame:
    """`evidence.design_matrix` of the stored evidence."""
    return evidence.design_matrix(load_evidence(state, hypotheses, include_retracted), hypotheses)


@st.cache_data(max_entries=16, show_spinner=False, hash_funcs=_HASH_HYPOTHESES)
def load_cause_summary(state: StoreState, hypotheses: tuple[Hypothesis, ...], include_retracted: bool) -> pd.DataFrame:
    """`evidence.cause_summary` of the stored catalogue."""
    return evidence.cause_summary(load_catalogue(state), hypotheses, include_retracted)


@st.cache_data(max_entries=16, show_spinner=False, hash_funcs=_HASH_HYPOTHESES)
def load_stance_counts(state: StoreState, hypotheses: tuple[Hypothesis, ...], include_retracted: bool,
                       hypothesis_id: str) -> pd.DataFrame:
    """`evidence.stance_counts` of one cause's stored stance rows, with their sample sizes read from the store."""
    stances = load_stances(state)
    pmids = stances.loc[stances["hypothesis_id"] == hypothesis_id, "pmid"].tolist()
    with store.reading(Path(state.db_path)) as connection:
        sizes = store.load_stance_frame(connection, pmids=pmids, columns=("n_patients",))
    return evidence.stance_counts(load_catalogue(state), stances, sizes, hypothesis_id, include_retracted)


@st.cache_data(max_entries=16, show_spinner=False, hash_funcs=_HASH_HYPOTHESES)
def load_high_level_balance(state: StoreState, hypotheses: tuple[Hypothesis, ...],
                            include_retracted: bool) -> pd.DataFrame:
    """`evidence.high_level_balance` of the stored stance-keyed evidence."""
    return evidence.high_level_balance(load_stance_evidence(state, hypotheses, include_retracted), hypotheses)


@st.cache_data(max_entries=8, show_spinner="Looking for emerging causes…")
def load_emerging(state: StoreState, hypotheses: tuple[Hypothesis, ...], as_of: int, current_year: int,
                  min_articles: int):
    """The emerging module's ranking (an EmergingResult) of the stored catalogue as of the end of `as_of`."""
    # Imported here: SciPy takes a second to load, which the other pages need not wait for.
    from tracker.analysis import emerging

    return emerging.find_emerging(load_catalogue(state), hypotheses, as_of=as_of, current_year=current_year,
                                  method=emerging.Method(min_articles=min_articles))


# --- reviews -----------------------------------------------------------------------------------------------------

# cache_resource, like the stances: a row per (article, cause), never mutated by its callers.
@st.cache_resource(max_entries=1, show_spinner=False)
def load_review_pairs(state: StoreState) -> pd.DataFrame:
    """Every stance row with the review columns and its article's design, year and retracted flag: what the
    Review page's queue and progress and the agreement figures read."""
    # The stance reader's confidence puts its least sure readings first in the queue.
    with store.reading(Path(state.db_path)) as connection:
        pairs = store.load_stance_frame(connection, columns=("stance", "confidence", *REVIEW_COLUMNS),
                                        hypothesis_ids=state.hypothesis_ids)
    catalogue = load_catalogue(state)
    positions = np.searchsorted(catalogue["pmid"].to_numpy(), pairs["pmid"].to_numpy())
    articles = catalogue.iloc[positions.clip(max=max(len(catalogue) - 1, 0))]
    for name in ("design", "pub_year", "retracted"):
        pairs[name] = articles[name].to_numpy()
    return pairs


@st.cache_data(max_entries=4, show_spinner=False)
def load_agreement(state: StoreState, cause_ids: tuple[str, ...]) -> pd.DataFrame:
    """Per cause, the reviewed pairs that kept the machine's stance and what the others were changed to."""
    return agreement_table(load_review_pairs(state), cause_ids)


@st.cache_data(max_entries=8, show_spinner=False)
def load_pair_reviews(state: StoreState, pmid: int) -> pd.DataFrame:
    """Every stored review of one article, oldest first (`store.REVIEW_TABLE_COLUMNS`)."""
    with store.reading(Path(state.db_path)) as connection:
        reviews = store.load_reviews(connection)
    return reviews[reviews["pmid"] == int(pmid)].reset_index(drop=True)
