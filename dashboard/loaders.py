"""Every read the dashboard makes: read-only, cached, keyed on the store's committed state.

A loader takes a `StoreState` first. The state changes whenever the store's files change, as every commit changes
them (a fetch run's start included), so a page rerun after a fetch reloads, and a rerun after a filter change reuses
what was read.
"""

from __future__ import annotations

import argparse
import contextlib
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import streamlit as st

from tracker import store, tagging
from tracker.config import Hypothesis, Settings, load_settings
from tracker.selection import SELECTION_COLUMNS, Selection, select_articles


# How the overview groups the eleven study designs when it stacks by evidence level: the first level is the
# high-level evidence a guideline panel would weigh first.
EVIDENCE_LEVELS: dict[str, tuple[str, ...]] = {
    "high": ("meta_analysis", "systematic_review", "rct"),
    "primary": ("clinical_trial", "cohort", "case_control", "observational"),
    "reports_opinion": ("case_report", "narrative_review", "editorial"),
    "other": ("other",),
}
EVIDENCE_LEVEL_LABELS = {
    "high": "Meta-analyses, systematic reviews, RCTs",
    "primary": "Other trials and observational studies",
    "reports_opinion": "Case reports, narrative reviews, opinion",
    "other": "Other or not stated",
}
HIGH_LEVEL_DESIGNS = EVIDENCE_LEVELS["high"]
_LEVEL_OF_DESIGN = {design: level for level, designs in EVIDENCE_LEVELS.items() for design in designs}
# A per-1,000 value from fewer fibromyalgia articles than this in its year swings on one article: it is marked.
SMALL_BASELINE = 20
# MeSH check tags and demographic headings: indexed on almost every article, they say nothing about the cause.
# NLM's check-tag list, plus the age groups and the laboratory animals indexed as check tags until 2013.
MESH_CHECK_TAGS: tuple[str, ...] = (
    "Humans", "Animals", "Female", "Male", "Pregnancy", "Infant, Newborn", "Infant", "Child, Preschool", "Child",
    "Adolescent", "Young Adult", "Adult", "Middle Aged", "Aged", "Aged, 80 and over", "Cats", "Cattle",
    "Chick Embryo", "Dogs", "Guinea Pigs", "Cricetinae", "Mice", "Rabbits", "Rats",
)


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


def read_settings(argv: Sequence[str], environ: Mapping[str, str]) -> Settings:
    """Build Settings from `streamlit run app.py -- --db PATH --hypotheses PATH`, else TRACKER_DB / TRACKER_HYPOTHESES."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--db")
    parser.add_argument("--hypotheses")
    # parse_known_args: under AppTest the script sees pytest's own arguments.
    options, _unknown = parser.parse_known_args(list(argv))
    return load_settings(hypotheses_path=options.hypotheses, db_path=options.db, environ=dict(environ))


def read_store_state(db_path: Path) -> StoreState | None:
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
    return StoreState(str(path), tuple(stamps))


@contextlib.contextmanager
def _reading(db_path: str) -> Iterator[sqlite3.Connection]:
    """A read-only connection inside one read transaction, so every query sees the same committed snapshot."""
    connection = store.connect(Path(db_path), read_only=True)
    try:
        connection.execute("BEGIN")
        yield connection
        connection.execute("COMMIT")
    finally:
        connection.close()


# cache_resource, not cache_data: cache_data would unpickle a fresh copy of every row (nested lists and dicts
# included) on each rerun, 2.2 s at 15,000 articles. Callers never mutate it. One entry: 200,000 articles take
# about 3 GB, and after a fetch only the new state is wanted.
@st.cache_resource(max_entries=1, show_spinner="Reading the store…")
def load_catalogue(state: StoreState) -> pd.DataFrame:
    """One row per stored article with its tags, as `store.load_catalogue` gives it."""
    with _reading(state.db_path) as connection:
        return store.load_catalogue(connection)


# The PMIDs, not the rows: a selection of 200,000 rows is 150 MB as a frame, 1.6 MB as an array.
@st.cache_data(max_entries=32, show_spinner=False)
def load_selected_pmids(state: StoreState, selection: Selection, hypothesis_ids: tuple[str, ...]) -> np.ndarray:
    """The PMIDs a selection keeps, in the order `tracker export` writes them."""
    # Only the columns the selection reads, so that it copies those alone when it orders the kept rows.
    catalogue = load_catalogue(state)[list(SELECTION_COLUMNS)]
    stances = load_stances(state) if selection.stances else None
    return select_articles(catalogue, selection, hypothesis_ids=hypothesis_ids, stances=stances,
                           runs=load_run_history(state))["pmid"].to_numpy()


# cache_resource: the rows of what each run stored are one per article, as many as the catalogue's; never mutated.
@st.cache_resource(max_entries=1, show_spinner=False)
def load_run_history(state: StoreState) -> store.RunHistory:
    """Every fetch and import with what it stored first and what it changed: the "new in run" filters' list."""
    with _reading(state.db_path) as connection:
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
    """The tagging module's evidence table over the stored catalogue: every count the dashboard shows."""
    return tagging.evidence_table(load_catalogue(state), hypotheses, include_retracted=include_retracted,
                                  by_species=by_species)


@st.cache_data(max_entries=16, show_spinner=False, hash_funcs=_HASH_HYPOTHESES)
def load_chart_data(state: StoreState, hypotheses: tuple[Hypothesis, ...], include_retracted: bool,
                    mode: str) -> pd.DataFrame:
    """One line per cause over the known publication years: year, hypothesis_id, cause (label), value.

    `mode` is an evidence-table column: "count", "cumulative" or "per_1000".
    """
    by_year = tagging.evidence_by_year(load_evidence(state, hypotheses, include_retracted), mode)
    by_year = by_year.drop(index=tagging.UNKNOWN_YEAR_LABEL, errors="ignore")
    labels = {h.id: h.label for h in hypotheses}
    causes = [h.id for h in hypotheses if not h.baseline and h.id in by_year.columns]
    long = by_year[causes].rename_axis(columns="hypothesis_id").reset_index().melt(
        id_vars="year_label", var_name="hypothesis_id", value_name="value")
    return pd.DataFrame({
        "year": long["year_label"].astype("int64"),
        "hypothesis_id": long["hypothesis_id"].astype(object),
        "cause": long["hypothesis_id"].map(labels).astype(object),
        "value": long["value"].astype("float64"),
    })


@st.cache_data(max_entries=16, show_spinner=False, hash_funcs=_HASH_HYPOTHESES)
def load_cause_totals(state: StoreState, hypotheses: tuple[Hypothesis, ...], include_retracted: bool) -> dict[str, int]:
    """Articles per cause, unknown years included."""
    by_year = tagging.evidence_by_year(load_evidence(state, hypotheses, include_retracted), "count")
    return {hypothesis_id: int(total) for hypothesis_id, total in by_year.sum().items()}


@st.cache_data(max_entries=16, show_spinner=False, hash_funcs=_HASH_HYPOTHESES)
def load_unknown_year_counts(state: StoreState, hypotheses: tuple[Hypothesis, ...],
                             include_retracted: bool) -> dict[str, int]:
    """Per cause, the articles of unknown publication year that a chart by year cannot place (zeros left out)."""
    by_year = tagging.evidence_by_year(load_evidence(state, hypotheses, include_retracted), "count")
    if tagging.UNKNOWN_YEAR_LABEL not in by_year.index:
        return {}
    unknown = by_year.loc[tagging.UNKNOWN_YEAR_LABEL]
    return {h.id: int(unknown[h.id]) for h in hypotheses if h.id in unknown.index and unknown[h.id] > 0}


@st.cache_data(max_entries=16, show_spinner=False, hash_funcs=_HASH_HYPOTHESES)
def load_design_chart_data(state: StoreState, hypotheses: tuple[Hypothesis, ...], include_retracted: bool,
                           hypothesis_id: str) -> pd.DataFrame:
    """One cause's articles per known publication year and study design: year, design (label), design_rank, value."""
    table = load_evidence(state, hypotheses, include_retracted)
    rows = table[(table["hypothesis_id"] == hypothesis_id) & table["year"].notna()]
    return pd.DataFrame({
        "year": rows["year"].astype("int64").to_numpy(),
        "design": rows["design"].map(tagging.DESIGN_LABELS).to_numpy(dtype=object),
        "design_rank": rows["design"].map(tagging.DESIGNS.index).to_numpy(dtype="int64"),
        "value": rows["count"].astype("float64").to_numpy(),
    })


@st.cache_data(max_entries=16, show_spinner=False, hash_funcs=_HASH_HYPOTHESES)
def load_breakdowns(state: StoreState, hypotheses: tuple[Hypothesis, ...], include_retracted: bool,
                    hypothesis_id: str) -> dict[str, pd.Series]:
    """One cause's article counts by study design and by species (ids as index, in the tagging module's order)."""
    table = load_evidence(state, hypotheses, include_retracted, by_species=True)
    rows = table[table["hypothesis_id"] == hypothesis_id]
    design = rows.groupby("design")["count"].sum().reindex(tagging.DESIGNS, fill_value=0)
    species = rows.groupby("species")["count"].sum().reindex(tagging.SPECIES, fill_value=0)
    return {
        "design": design.rename("articles"),
        "species": species.rename("articles"),
    }


@st.cache_data(max_entries=16, show_spinner=False)
def load_top_mesh(state: StoreState, hypothesis_id: str, include_retracted: bool, limit: int) -> pd.DataFrame:
    """The MeSH descriptors most often indexed on one cause's articles, check tags left out: mesh_term, articles."""
    catalogue = load_catalogue(state)
    carries = catalogue["hypotheses"].map(lambda ids: hypothesis_id in ids).astype(bool)
    if not include_retracted:
        carries &= ~catalogue["retracted"].astype(bool)
    terms = store.decode_details(catalogue.loc[carries], ["mesh_terms"])["mesh_terms"].explode().dropna()
    counts = terms[~terms.isin(MESH_CHECK_TAGS)].value_counts()
    # Ties broken by name, so the list does not reshuffle between reloads.
    top = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit]
    return pd.DataFrame(top, columns=["mesh_term", "articles"])


@st.cache_data(max_entries=4, show_spinner=False)
def load_status(state: StoreState) -> pd.DataFrame:
    """Per hypothesis: last sync, PubMed count, stored count and the newest run's outcome."""
    with _reading(state.db_path) as connection:
        return store.load_status_frame(connection)


@st.cache_data(max_entries=4, show_spinner=False)
def load_sync_states(state: StoreState, hypothesis_ids: tuple[str, ...]) -> pd.DataFrame:
    """The sync_state row of each hypothesis that has had a successful sync, indexed by hypothesis id."""
    with _reading(state.db_path) as connection:
        rows = [store.load_sync_state(connection, hypothesis_id) for hypothesis_id in hypothesis_ids]
    records = [dict(row) for row in rows if row is not None]
    columns = ["hypothesis_id", "query", "query_translation", "pubmed_count", "window_count", "modified_since",
               "last_success_run_id", "last_success_at"]
    return pd.DataFrame.from_records(records, columns=columns).set_index("hypothesis_id")


@st.cache_data(max_entries=4, show_spinner=False)
def load_runs(state: StoreState, limit: int = 20) -> pd.DataFrame:
    """The most recent fetch runs, newest first."""
    with _reading(state.db_path) as connection:
        return store.load_runs_frame(connection, limit=limit)


@st.cache_data(max_entries=4, show_spinner=False)
def load_last_success(state: StoreState) -> dict | None:
    """The newest successful fetch run, however many failed ones followed it."""
    with _reading(state.db_path) as connection:
        return store.load_last_successful_run(connection)


@st.cache_data(max_entries=8, show_spinner=False)
def load_run_log(state: StoreState, run_id: int) -> pd.DataFrame:
    """One fetch run's per-hypothesis lines."""
    with _reading(state.db_path) as connection:
        return store.load_run_hypotheses_frame(connection, run_id)


# cache_resource, like the catalogue: two rows per article at 200,000 articles, and cache_data would unpickle a
# copy on every call. Callers never mutate it.
@st.cache_resource(max_entries=1, show_spinner=False)
def load_stances(state: StoreState) -> pd.DataFrame:
    """Every stored stance row's key, stance and confidence (pmid, hypothesis_id, stance, confidence); empty until
    the stance reader ran."""
    with _reading(state.db_path) as connection:
        return store.load_stance_frame(connection, columns=("stance", "confidence"))


@st.cache_data(max_entries=4, show_spinner=False)
def has_stances(state: StoreState) -> bool:
    """Whether the store holds any stance row, i.e. whether charts can stack by stance."""
    with _reading(state.db_path) as connection:
        return connection.execute("SELECT 1 FROM stances LIMIT 1").fetchone() is not None


@st.cache_data(max_entries=8, show_spinner=False)
def load_revised_date(state: StoreState, pmid: int) -> str | None:
    """When PubMed last revised the article's record (its DateRevised): a retraction flag arrives with a revision."""
    with _reading(state.db_path) as connection:
        row = connection.execute("SELECT revised_date FROM articles WHERE pmid = ?", (int(pmid),)).fetchone()
    return row[0] if row else None


@st.cache_data(max_entries=8, show_spinner=False)
def load_article_stances(state: StoreState, pmid: int) -> pd.DataFrame:
    """One article's stance rows with their deciding sentence, cue, section and sample sizes."""
    with _reading(state.db_path) as connection:
        return store.load_stance_frame(connection, pmids=[int(pmid)])


@st.cache_data(max_entries=16, show_spinner=False, hash_funcs=_HASH_HYPOTHESES)
def load_stance_evidence(state: StoreState, hypotheses: tuple[Hypothesis, ...],
                         include_retracted: bool) -> pd.DataFrame:
    """The evidence table with its reading key (`READINGS`: a finding read with low confidence apart from the
    others; a pair not read yet counts as `models.UNREAD_STANCE`)."""
    catalogue, stances = load_catalogue(state), load_stances(state)
    every = tagging.evidence_table(catalogue, hypotheses, include_retracted=include_retracted, stances=stances)
    # The same grid counting only the low-confidence findings (every other pair falls to the unread key): what
    # to move from each finding's key to its low-confidence one.
    low_rows = stances[(stances["confidence"] == "low") & (stances["stance"] != "no_finding")]
    low = tagging.evidence_table(catalogue, hypotheses, include_retracted=include_retracted, stances=low_rows)
    # Both tables have the same grid, row for row: only their counts differ.
    moved = low["stance"].isin(list(_LOW_OF))
    table = every.assign(**{name: every[name] - low[name].where(moved, 0)
                            for name in ("count", "cumulative", "per_1000")})
    low_part = low[moved].assign(stance=low.loc[moved, "stance"].map(_LOW_OF))
    return pd.concat([table, low_part], ignore_index=True)


@st.cache_data(max_entries=16, show_spinner=False, hash_funcs=_HASH_HYPOTHESES)
def load_baseline_per_year(state: StoreState, hypotheses: tuple[Hypothesis, ...],
                           include_retracted: bool) -> pd.Series:
    """The fibromyalgia (baseline) articles of each known year: the per-1,000 denominators, as the evidence table
    divides by them."""
    baseline_id = next((h.id for h in hypotheses if h.baseline), None)
    catalogue = load_catalogue(state)
    if baseline_id is None:
        return pd.Series(dtype="int64")
    carries = catalogue["hypotheses"].map(lambda ids: baseline_id in ids).astype(bool)
    if not include_retracted:
        carries &= ~catalogue["retracted"].astype(bool)
    years = catalogue.loc[carries, "pub_year"].dropna().astype("int64")
    return years.value_counts().sort_index()


def _group_of(table: pd.DataFrame, by: str) -> tuple[pd.Series, dict[str, str], list[str]]:
    if by == "stance":
        return table["stance"], STANCE_LABELS, list(READINGS)
    return table["design"].map(_LEVEL_OF_DESIGN), EVIDENCE_LEVEL_LABELS, list(EVIDENCE_LEVELS)


# What charts and summaries count: each finding read with high confidence, then the same read with low confidence
# (hedged, a pooled population, a construct inferred from an abbreviation, ...) apart, then no finding.
_LOW_OF = {"supports": "supports_low", "contradicts": "contradicts_low", "mixed": "mixed_low"}
READINGS: tuple[str, ...] = ("supports", "contradicts", "mixed", *_LOW_OF.values(), "no_finding")
STANCE_LABELS = {"supports": "Supports", "contradicts": "Contradicts", "mixed": "Mixed",
                 "supports_low": "Supports, low confidence", "contradicts_low": "Contradicts, low confidence",
                 "mixed_low": "Mixed, low confidence", "no_finding": "No finding on it"}


def reading_keys(stances: pd.DataFrame) -> pd.Series:
    """Each stance row's key in `READINGS`: its stance, or the low-confidence key of a finding read with low
    confidence."""
    low = (stances["confidence"] == "low") & stances["stance"].isin(list(_LOW_OF))
    return stances["stance"].where(~low, stances["stance"].map(_LOW_OF)).astype(object)


@st.cache_data(max_entries=16, show_spinner=False, hash_funcs=_HASH_HYPOTHESES)
def load_stacked_chart_data(state: StoreState, hypotheses: tuple[Hypothesis, ...], include_retracted: bool,
                            mode: str, by: str, now_year: int, hypothesis_id: str | None = None) -> pd.DataFrame:
    """Per cause × known year × group (stance or evidence level): the value of `mode` with what explains it.

    Columns: hypothesis_id, cause, year, group, group_rank, value, articles (the count behind the value),
    baseline (the year's fibromyalgia articles), caveat (why the bar deserves care, or "").
    """
    table = (load_stance_evidence(state, hypotheses, include_retracted) if by == "stance"
             else load_evidence(state, hypotheses, include_retracted))
    table = table[table["year"].notna()]
    if hypothesis_id is not None:
        table = table[table["hypothesis_id"] == hypothesis_id]
    groups, labels, order = _group_of(table, by)
    grouped = table.assign(group=groups).groupby(["hypothesis_id", "year", "group"], sort=False).agg(
        count=("count", "sum"), cumulative=("cumulative", "sum")).reset_index()
    baseline = load_baseline_per_year(state, hypotheses, include_retracted)
    years = grouped["year"].astype("int64")
    denominator = years.map(baseline).fillna(0).astype("int64")
    if mode == "per_1000":
        value = (grouped["count"] * 1000.0 / denominator.where(denominator > 0)).astype("float64")
    else:
        value = grouped[mode].astype("float64")
    caveat = np.where(years == now_year, "partial year: counted so far", "")
    if mode == "per_1000":
        few = (denominator < SMALL_BASELINE) & (years != now_year)
        caveat = np.where(few, f"fewer than {SMALL_BASELINE} fibromyalgia articles that year", caveat)
    names = {h.id: h.label for h in hypotheses}
    return pd.DataFrame({
        "hypothesis_id": grouped["hypothesis_id"].to_numpy(dtype=object),
        "cause": grouped["hypothesis_id"].map(names).to_numpy(dtype=object),
        "year": years.to_numpy(),
        "group": grouped["group"].map(labels).to_numpy(dtype=object),
        "group_rank": grouped["group"].map(order.index).to_numpy(dtype="int64"),
        "value": value.to_numpy(),
        "articles": grouped["count"].astype("int64").to_numpy(),
        "baseline": denominator.to_numpy(),
        "caveat": caveat,
    })


@st.cache_data(max_entries=16, show_spinner=False, hash_funcs=_HASH_HYPOTHESES)
def load_design_matrix(state: StoreState, hypotheses: tuple[Hypothesis, ...], include_retracted: bool) -> pd.DataFrame:
    """Articles per cause × study design (unknown years included): hypothesis_id, cause, design, design_rank,
    articles, share (of the cause's articles)."""
    table = load_evidence(state, hypotheses, include_retracted)
    counts = table.groupby(["hypothesis_id", "design"], sort=False)["count"].sum().reset_index()
    totals = counts.groupby("hypothesis_id")["count"].transform("sum")
    names = {h.id: h.label for h in hypotheses}
    return pd.DataFrame({
        "hypothesis_id": counts["hypothesis_id"].to_numpy(dtype=object),
        "cause": counts["hypothesis_id"].map(names).to_numpy(dtype=object),
        "design": counts["design"].map(tagging.DESIGN_LABELS).to_numpy(dtype=object),
        "design_rank": counts["design"].map(tagging.DESIGNS.index).to_numpy(dtype="int64"),
        "articles": counts["count"].astype("int64").to_numpy(),
        "share": (counts["count"] / totals.where(totals > 0)).fillna(0.0).to_numpy(dtype="float64"),
    })


@st.cache_data(max_entries=16, show_spinner=False, hash_funcs=_HASH_HYPOTHESES)
def load_cause_summary(state: StoreState, hypotheses: tuple[Hypothesis, ...], include_retracted: bool) -> pd.DataFrame:
    """Per cause: articles, how they were found (query only, text only, both), retracted ones, high-level evidence.

    Indexed by hypothesis id, in the hypotheses file's order. `retracted` counts the cause's retracted articles
    whether or not they are counted elsewhere.
    """
    catalogue = load_catalogue(state)
    causes = [h for h in hypotheses if not h.baseline]
    # The catalogue shares one {hypothesis id: source} object among the articles with the same tags: count the
    # articles per shared object first, then spread each object's few pairs (a Python step per pair was most of
    # a first render).
    tag_sources = catalogue["tag_sources"].to_numpy(dtype=object)
    articles = pd.DataFrame({
        "key": [id(sources) for sources in tag_sources],
        "retracted": catalogue["retracted"].to_numpy(dtype=bool),
        "high": catalogue["design"].isin(HIGH_LEVEL_DESIGNS).to_numpy(dtype=bool),
    })
    sources_of = dict(zip(articles["key"], tag_sources))
    grouped = articles.groupby(["key", "retracted", "high"]).size().rename("n").reset_index()
    pairs = pd.DataFrame([
        (hypothesis_id, source, retracted, high, n)
        for key, retracted, high, n in grouped.itertuples(index=False)
        for hypothesis_id, source in sources_of[key].items()
    ], columns=["hypothesis_id", "source", "retracted", "high", "n"])
    pairs = pairs[pairs["hypothesis_id"].isin([h.id for h in causes])]
    retracted = pairs[pairs["retracted"]].groupby("hypothesis_id")["n"].sum()
    counted = pairs if include_retracted else pairs[~pairs["retracted"]]
    by_source = counted.groupby(["hypothesis_id", "source"])["n"].sum().unstack(fill_value=0)
    high = counted[counted["high"]].groupby("hypothesis_id")["n"].sum()
    index = pd.Index([h.id for h in causes], name="hypothesis_id")
    summary = pd.DataFrame(index=index)
    summary["label"] = [h.label for h in causes]
    for source in ("query", "text", "query+text"):
        column = by_source[source] if source in by_source else pd.Series(dtype="int64")
        summary[source] = column.reindex(index, fill_value=0).astype("int64")
    summary["articles"] = summary[["query", "text", "query+text"]].sum(axis=1)
    summary["retracted"] = retracted.reindex(index, fill_value=0).astype("int64")
    summary["high_level"] = high.reindex(index, fill_value=0).astype("int64")
    summary["high_level_share"] = (summary["high_level"] / summary["articles"].where(summary["articles"] > 0)).fillna(0.0)
    return summary


@st.cache_data(max_entries=16, show_spinner=False, hash_funcs=_HASH_HYPOTHESES)
def load_stance_counts(state: StoreState, hypotheses: tuple[Hypothesis, ...], include_retracted: bool,
                       hypothesis_id: str) -> pd.DataFrame:
    """One cause's stance rows joined to its articles: per reading (a stance, or a finding read with low
    confidence), all articles, the high-level ones, and the patients the articles that state a sample size
    studied; plus the first year. Index: `READINGS`."""
    catalogue = load_catalogue(state)
    stances = load_stances(state)
    rows = stances[stances["hypothesis_id"] == hypothesis_id]
    with _reading(state.db_path) as connection:
        sizes = store.load_stance_frame(connection, pmids=rows["pmid"].tolist(), columns=("n_patients",))
    sizes = sizes[sizes["hypothesis_id"] == hypothesis_id].set_index("pmid")["n_patients"]
    positions = np.searchsorted(catalogue["pmid"].to_numpy(), rows["pmid"].to_numpy())
    articles = catalogue.iloc[positions]
    keep = np.ones(len(rows), dtype=bool) if include_retracted else ~articles["retracted"].to_numpy(dtype=bool)
    frame = pd.DataFrame({
        "stance": reading_keys(rows).to_numpy(dtype=object),
        "high": articles["design"].isin(HIGH_LEVEL_DESIGNS).to_numpy(dtype=bool),
        "year": articles["pub_year"].to_numpy(),
        "patients": rows["pmid"].map(sizes).to_numpy(),
    })[keep]
    grouped = frame.groupby("stance")
    counts = pd.DataFrame({
        "articles": grouped.size(),
        "high_level": grouped["high"].sum(),
        "patients": grouped["patients"].sum(min_count=1),
        "with_size": grouped["patients"].count(),
        "first_year": grouped["year"].min(),
    }).reindex(list(READINGS))
    for column in ("articles", "high_level", "with_size"):
        counts[column] = counts[column].fillna(0).astype("int64")
    return counts


@st.cache_data(max_entries=16, show_spinner=False, hash_funcs=_HASH_HYPOTHESES)
def load_high_level_balance(state: StoreState, hypotheses: tuple[Hypothesis, ...],
                            include_retracted: bool) -> pd.DataFrame:
    """Per cause × stance, the meta-analyses, systematic reviews and RCTs: hypothesis_id, cause, group (stance
    label), group_rank, articles."""
    table = load_stance_evidence(state, hypotheses, include_retracted)
    high = table[table["design"].isin(HIGH_LEVEL_DESIGNS)]
    counts = high.groupby(["hypothesis_id", "stance"], sort=False)["count"].sum().reset_index()
    names = {h.id: h.label for h in hypotheses}
    return pd.DataFrame({
        "hypothesis_id": counts["hypothesis_id"].to_numpy(dtype=object),
        "cause": counts["hypothesis_id"].map(names).to_numpy(dtype=object),
        "group": counts["stance"].map(STANCE_LABELS).to_numpy(dtype=object),
        "group_rank": counts["stance"].map(list(READINGS).index).to_numpy(dtype="int64"),
        "articles": counts["count"].astype("int64").to_numpy(),
    })


@st.cache_data(max_entries=8, show_spinner="Looking for emerging causes…")
def load_emerging(state: StoreState, hypotheses: tuple[Hypothesis, ...], as_of: int, current_year: int,
                  min_articles: int):
    """The emerging module's ranking (an EmergingResult) of the stored catalogue as of the end of `as_of`."""
    # Imported here: SciPy takes a second to load, which the other pages need not wait for.
    from tracker import emerging

    return emerging.find_emerging(load_catalogue(state), hypotheses, as_of=as_of, current_year=current_year,
                                  method=emerging.Method(min_articles=min_articles))
