"""Every read the dashboard makes: read-only, cached, keyed on the store's committed state.

A loader takes a `StoreState` first. The state changes whenever the store's files change, as every commit changes
them (a fetch run's start included), so a page rerun after a fetch reloads, and a rerun after a filter change reuses
what was read.
"""

from __future__ import annotations

import argparse
import functools
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import streamlit as st

from tracker import store
from tracker.analysis import evidence
from tracker.config import Hypothesis, Settings, baseline_id_of, load_settings
from tracker.analysis.reviews import REVIEW_COLUMNS, agreement_table
from tracker.models import ArticleFilter
from tracker.outputs.export import STANCE_READ_COLUMNS
from tracker.outputs.selection import Selection
from tracker.outputs.selection import article_filter as selection_filter
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



def article_filter(state: StoreState, selection: Selection, hypothesis_ids: tuple[str, ...]) -> ArticleFilter:
    """The selection as the store's query tests it (its run choices resolved on the store's runs)."""
    return selection_filter(selection, hypothesis_ids=hypothesis_ids, runs=load_run_list(state))


@st.cache_data(max_entries=32, show_spinner=False)
def load_selected_count(state: StoreState, selection: Selection, hypothesis_ids: tuple[str, ...]) -> int:
    """How many articles a selection keeps, counted by SQLite."""
    with store.reading(Path(state.db_path)) as connection:
        return store.count_selected(connection, article_filter(state, selection, hypothesis_ids))


@st.cache_data(max_entries=32, show_spinner=False)
def load_selected_page(state: StoreState, selection: Selection, hypothesis_ids: tuple[str, ...], page_number: int,
                       page_size: int, matching: int) -> np.ndarray:
    """The PMIDs of one page (numbered from 1) of what a selection keeps, in the order `tracker export` writes;
    `matching`, how many it keeps (`load_selected_count`), lets a page past the middle be read from the end."""
    with store.reading(Path(state.db_path)) as connection:
        return store.select_pmids(connection, article_filter(state, selection, hypothesis_ids), limit=page_size,
                                  offset=(page_number - 1) * page_size, matching=matching)


def selected_batches(state: StoreState, chosen: ArticleFilter, details: Sequence[str]
                     ) -> Iterator[tuple[pd.DataFrame, pd.DataFrame]]:
    """The chosen articles' rows (the named detail columns decoded) and their stance rows, a batch at a time, in
    the order `tracker export` writes them: never cached, it is read once for a download."""
    with store.reading(Path(state.db_path)) as connection:
        yield from store.iter_selected_batches(connection, chosen, hypothesis_ids=state.hypothesis_ids,
                                               details=details, stance_columns=STANCE_READ_COLUMNS)


@st.cache_data(max_entries=4, show_spinner=False)
def load_year_span(state: StoreState) -> tuple[int | None, int | None]:
    """The first and last known publication year of the stored articles."""
    with store.reading(Path(state.db_path)) as connection:
        return store.year_span(connection)


@st.cache_data(max_entries=4, show_spinner=False)
def load_latest_first_seen(state: StoreState) -> str | None:
    """When the newest stored article was first seen."""
    with store.reading(Path(state.db_path)) as connection:
        return store.latest_first_seen(connection)


@st.cache_data(max_entries=8, show_spinner=False)
def load_summary(state: StoreState, name: str, include_retracted: bool) -> pd.DataFrame:
    """One of the store's summaries ("by_year" or "by_source", `store.load_summaries`): what the Overview counts
    from, a few thousand rows however large the store (retracted articles' rows only when included: the table of
    causes counts them apart, so it reads them all); read alone, as the Overview never draws the summary by
    kind."""
    with store.reading(Path(state.db_path)) as connection:
        return store.load_summaries(connection, names=(name,), include_retracted=include_retracted)[name]


@st.cache_data(max_entries=16, show_spinner=False, hash_funcs=_HASH_HYPOTHESES)
def load_cause_summaries(state: StoreState, hypotheses: tuple[Hypothesis, ...],
                         hypothesis_id: str) -> dict[str, pd.DataFrame]:
    """The store's summaries of one cause and of the baseline (the per-1,000 denominators): what the Cause page
    counts from, a small part of the Overview's read."""
    ids = [hypothesis_id, *(h.id for h in hypotheses if h.baseline and h.id != hypothesis_id)]
    with store.reading(Path(state.db_path)) as connection:
        return store.load_summaries(connection, ids)


@st.cache_data(max_entries=16, show_spinner=False, hash_funcs=_HASH_HYPOTHESES)
def load_summary_year_span(state: StoreState, hypotheses: tuple[Hypothesis, ...],
                           include_retracted: bool) -> tuple[int | None, int | None]:
    """The years the evidence table of `hypotheses` spans, for a table of one cause of them."""
    with store.reading(Path(state.db_path)) as connection:
        return store.summary_year_span(connection, [h.id for h in hypotheses], include_retracted)


@st.cache_data(max_entries=4, show_spinner=False)
def load_article_count(state: StoreState) -> int:
    """How many articles the store holds."""
    with store.reading(Path(state.db_path)) as connection:
        return store.count_articles(connection)


@st.cache_data(max_entries=4, show_spinner=False)
def load_retracted_count(state: StoreState) -> int:
    """How many of the stored articles are retracted."""
    with store.reading(Path(state.db_path)) as connection:
        return store.count_retracted(connection)


@st.cache_data(max_entries=4, show_spinner=False)
def load_run_list(state: StoreState) -> pd.DataFrame:
    """Every fetch and import with how many articles it stored first and changed (without the articles)."""
    with store.reading(Path(state.db_path)) as connection:
        return store.load_run_list(connection)


@st.cache_data(max_entries=16, show_spinner=False, hash_funcs=_HASH_HYPOTHESES)
def load_evidence(state: StoreState, hypotheses: tuple[Hypothesis, ...], include_retracted: bool) -> pd.DataFrame:
    """`evidence.evidence_table` from the store's summaries: every count over time the dashboard shows."""
    return evidence.evidence_table_from_summary(load_summary(state, "by_year", include_retracted), hypotheses,
                                                include_retracted=include_retracted)


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
    """`evidence.breakdowns` of one cause's articles by design and species, from the store's summaries."""
    return evidence.breakdowns_from_summary(load_cause_summaries(state, hypotheses, hypothesis_id)["by_kind"],
                                            hypothesis_id, include_retracted)


@st.cache_data(max_entries=16, show_spinner=False)
def load_top_mesh(state: StoreState, hypothesis_id: str, include_retracted: bool, limit: int) -> pd.DataFrame:
    """The MeSH descriptors most often indexed on one cause's stored articles, MeSH check tags left out."""
    with store.reading(Path(state.db_path)) as connection:
        return store.top_mesh(connection, hypothesis_id, include_retracted, list(MESH_CHECK_TAGS), limit)


@st.cache_data(max_entries=16, show_spinner=False)
def load_newest_pmids(state: StoreState, hypothesis_id: str, include_retracted: bool, limit: int) -> np.ndarray:
    """One cause's newest articles, in the order `tracker export` writes them."""
    with store.reading(Path(state.db_path)) as connection:
        return np.array(store.newest_pmids(connection, hypothesis_id, include_retracted, limit), dtype="int64")


@st.cache_data(max_entries=16, show_spinner=False)
def load_rows_of(state: StoreState, pmids: tuple[int, ...]) -> pd.DataFrame:
    """The catalogue rows of a few PMIDs (a page of a table, one linked article), in the order given; PMIDs not
    stored are left out."""
    with store.reading(Path(state.db_path)) as connection:
        rows = store.load_catalogue(connection, state.hypothesis_ids, pmids=pmids)
    positions = pd.Index(rows["pmid"]).get_indexer(list(pmids))
    return rows.iloc[positions[positions >= 0]]


@st.cache_data(max_entries=16, show_spinner=False)
def load_stances_of(state: StoreState, pmids: tuple[int, ...]) -> pd.DataFrame:
    """The stance rows' key and stance of a few PMIDs (pmid, hypothesis_id, stance)."""
    with store.reading(Path(state.db_path)) as connection:
        return store.load_stance_frame(connection, pmids=list(pmids), columns=("stance", "confidence"),
                                       hypothesis_ids=state.hypothesis_ids)


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



@st.cache_data(max_entries=16, show_spinner=False)
def load_finding_counts(state: StoreState, include_retracted: bool, cause_ids: tuple[str, ...]) -> pd.DataFrame:
    """`evidence.finding_counts` of the stored stance rows of `cause_ids`, from the store's summary of them: the
    small frame every verdict is computed from, a few thousand rows however large the store."""
    with store.reading(Path(state.db_path)) as connection:
        return store.load_finding_counts(connection, include_retracted=include_retracted, hypothesis_ids=cause_ids)


def _cause_ids(hypotheses: Sequence[Hypothesis]) -> tuple[str, ...]:
    return tuple(h.id for h in hypotheses if not h.baseline)


@st.cache_data(max_entries=16, show_spinner=False, hash_funcs=_HASH_HYPOTHESES)
def load_verdict(state: StoreState, hypotheses: tuple[Hypothesis, ...], include_retracted: bool, scope: str,
                 now_year: int) -> pd.DataFrame:
    """`evidence.verdict_table` of the stored findings: one row per cause (of `hypotheses`; one for a Cause page)."""
    return evidence.verdict_table(load_finding_counts(state, include_retracted, _cause_ids(hypotheses)), hypotheses,
                                  scope=scope, now_year=now_year)


@st.cache_data(max_entries=16, show_spinner=False, hash_funcs=_HASH_HYPOTHESES)
def load_share_by_period(state: StoreState, hypotheses: tuple[Hypothesis, ...], include_retracted: bool,
                         scope: str) -> pd.DataFrame:
    """`evidence.share_by_period` of the stored findings, five-year periods."""
    return evidence.share_by_period(load_finding_counts(state, include_retracted, _cause_ids(hypotheses)),
                                    hypotheses, scope=scope)


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
    return evidence.evidence_table_from_summary(load_summary(state, "by_year", include_retracted), hypotheses,
                                                include_retracted=include_retracted, by_reading=True)


@st.cache_data(max_entries=16, show_spinner=False, hash_funcs=_HASH_HYPOTHESES)
def load_baseline_per_year(state: StoreState, hypotheses: tuple[Hypothesis, ...],
                           include_retracted: bool) -> pd.Series:
    """`evidence.baseline_per_year` from the store's summaries: the per-1,000 denominators."""
    return evidence.baseline_from_summary(load_summary(state, "by_year", include_retracted), hypotheses,
                                          include_retracted)


@st.cache_data(max_entries=16, show_spinner=False, hash_funcs=_HASH_HYPOTHESES)
def load_stacked_chart_data(state: StoreState, hypotheses: tuple[Hypothesis, ...], include_retracted: bool,
                            mode: str, by: str, now_year: int, hypothesis_id: str | None = None) -> pd.DataFrame:
    """`evidence.stacked_chart_data` of the stored evidence (stance-keyed when stacking by stance), of every cause
    or of `hypothesis_id` alone, read from its own summary rows."""
    if hypothesis_id is None:
        table = (load_stance_evidence(state, hypotheses, include_retracted) if by == "stance"
                 else load_evidence(state, hypotheses, include_retracted))
        baseline = load_baseline_per_year(state, hypotheses, include_retracted)
    else:
        by_year = load_cause_summaries(state, hypotheses, hypothesis_id)["by_year"]
        # The cause's rows of the whole table: over the years every cause spans, not only its own.
        table = evidence.evidence_table_from_summary(
            by_year, [h for h in hypotheses if h.id == hypothesis_id or h.baseline],
            include_retracted=include_retracted, by_reading=by == "stance",
            year_span=load_summary_year_span(state, hypotheses, include_retracted))
        baseline = evidence.baseline_from_summary(by_year, hypotheses, include_retracted)
    return evidence.stacked_chart_data(table, baseline, hypotheses, mode, by, now_year, hypothesis_id)


@st.cache_data(max_entries=16, show_spinner=False, hash_funcs=_HASH_HYPOTHESES)
def load_design_matrix(state: StoreState, hypotheses: tuple[Hypothesis, ...], include_retracted: bool) -> pd.DataFrame:
    """`evidence.design_matrix` of the stored evidence."""
    return evidence.design_matrix(load_evidence(state, hypotheses, include_retracted), hypotheses)


@st.cache_data(max_entries=16, show_spinner=False, hash_funcs=_HASH_HYPOTHESES)
def load_cause_summary(state: StoreState, hypotheses: tuple[Hypothesis, ...], include_retracted: bool) -> pd.DataFrame:
    """`evidence.cause_summary` from the store's summaries."""
    return evidence.cause_summary_from_summary(load_summary(state, "by_source", include_retracted=True), hypotheses,
                                               include_retracted)


@st.cache_data(max_entries=16, show_spinner=False, hash_funcs=_HASH_HYPOTHESES)
def load_cause_row(state: StoreState, hypotheses: tuple[Hypothesis, ...], include_retracted: bool,
                   hypothesis_id: str) -> pd.Series:
    """One cause's row of `load_cause_summary`, from its own summary rows."""
    return evidence.cause_summary_from_summary(load_cause_summaries(state, hypotheses, hypothesis_id)["by_source"],
                                               [h for h in hypotheses if h.id == hypothesis_id],
                                               include_retracted).loc[hypothesis_id]


@st.cache_data(max_entries=16, show_spinner=False, hash_funcs=_HASH_HYPOTHESES)
def load_stance_counts(state: StoreState, hypotheses: tuple[Hypothesis, ...], include_retracted: bool,
                       hypothesis_id: str) -> pd.DataFrame:
    """`evidence.stance_counts` of one cause's stored stance rows, from the store's summaries."""
    summaries = load_cause_summaries(state, hypotheses, hypothesis_id)
    return evidence.stance_counts_from_summary(summaries["by_kind"], summaries["by_year"], hypothesis_id,
                                               include_retracted)


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

    with store.reading(Path(state.db_path)) as connection:
        # Read once per pass of the analysis, from the one snapshot `reading` holds.
        batches = functools.partial(store.iter_emerging_batches, connection,
                                    baseline_id_of(hypotheses))
        return emerging.find_emerging(batches, hypotheses, as_of=as_of, current_year=current_year,
                                      method=emerging.Method(min_articles=min_articles))


# --- reviews -----------------------------------------------------------------------------------------------------

# cache_resource, not cache_data: cache_data would unpickle a fresh copy of every row on each rerun. Only the Review
# page reads it (for its queue's designs and years); the other pages read the summaries or a page of rows.
@st.cache_resource(max_entries=1, show_spinner="Reading the store…")
def load_catalogue(state: StoreState) -> pd.DataFrame:
    """One row per stored article with its tags, as `store.load_catalogue` gives it."""
    with store.reading(Path(state.db_path)) as connection:
        return store.load_catalogue(connection, state.hypothesis_ids)


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
    """Per cause, the reviewed pairs that kept the machine's stance and what the others were changed to: the stance
    rows of the reviewed articles only, so that the Overview reads no more than the reviews."""
    with store.reading(Path(state.db_path)) as connection:
        reviewed = store.load_reviews(connection)["pmid"].unique().tolist()
        pairs = store.load_stance_frame(connection, pmids=reviewed, columns=("stance", *REVIEW_COLUMNS),
                                        hypothesis_ids=state.hypothesis_ids)
    return agreement_table(pairs, cause_ids)


@st.cache_data(max_entries=8, show_spinner=False)
def load_pair_reviews(state: StoreState, pmid: int) -> pd.DataFrame:
    """Every stored review of one article, oldest first (`store.REVIEW_TABLE_COLUMNS`)."""
    with store.reading(Path(state.db_path)) as connection:
        reviews = store.load_reviews(connection)
    return reviews[reviews["pmid"] == int(pmid)].reset_index(drop=True)
