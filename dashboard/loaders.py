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
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import streamlit as st

from tracker import store, tagging
from tracker.config import Hypothesis, Settings, load_settings
from tracker.selection import SELECTION_COLUMNS, Selection, select_articles


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
    return select_articles(catalogue, selection, hypothesis_ids=hypothesis_ids,
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


@st.cache_data(max_entries=16, show_spinner=False)
def load_evidence(state: StoreState, hypotheses: tuple[Hypothesis, ...], include_retracted: bool,
                  by_species: bool = False) -> pd.DataFrame:
    """The tagging module's evidence table over the stored catalogue: every count the dashboard shows."""
    return tagging.evidence_table(load_catalogue(state), hypotheses, include_retracted=include_retracted,
                                  by_species=by_species)


@st.cache_data(max_entries=16, show_spinner=False)
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


@st.cache_data(max_entries=16, show_spinner=False)
def load_cause_totals(state: StoreState, hypotheses: tuple[Hypothesis, ...], include_retracted: bool) -> dict[str, int]:
    """Articles per cause, unknown years included."""
    by_year = tagging.evidence_by_year(load_evidence(state, hypotheses, include_retracted), "count")
    return {hypothesis_id: int(total) for hypothesis_id, total in by_year.sum().items()}


@st.cache_data(max_entries=16, show_spinner=False)
def load_unknown_year_counts(state: StoreState, hypotheses: tuple[Hypothesis, ...],
                             include_retracted: bool) -> dict[str, int]:
    """Per cause, the articles of unknown publication year that a chart by year cannot place (zeros left out)."""
    by_year = tagging.evidence_by_year(load_evidence(state, hypotheses, include_retracted), "count")
    if tagging.UNKNOWN_YEAR_LABEL not in by_year.index:
        return {}
    unknown = by_year.loc[tagging.UNKNOWN_YEAR_LABEL]
    return {h.id: int(unknown[h.id]) for h in hypotheses if h.id in unknown.index and unknown[h.id] > 0}


@st.cache_data(max_entries=16, show_spinner=False)
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


@st.cache_data(max_entries=16, show_spinner=False)
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
    """The MeSH descriptors most often indexed on one cause's articles: mesh_term, articles."""
    catalogue = load_catalogue(state)
    carries = catalogue["hypotheses"].map(lambda ids: hypothesis_id in ids).astype(bool)
    if not include_retracted:
        carries &= ~catalogue["retracted"].astype(bool)
    terms = store.decode_details(catalogue.loc[carries], ["mesh_terms"])["mesh_terms"].explode().dropna()
    counts = terms.value_counts()
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


@st.cache_data(max_entries=8, show_spinner="Looking for emerging causes…")
def load_emerging(state: StoreState, hypotheses: tuple[Hypothesis, ...], as_of: int, current_year: int,
                  min_articles: int):
    """The emerging module's ranking (an EmergingResult) of the stored catalogue as of the end of `as_of`."""
    # Imported here: SciPy takes a second to load, which the other pages need not wait for.
    from tracker import emerging

    return emerging.find_emerging(load_catalogue(state), hypotheses, as_of=as_of, current_year=current_year,
                                  method=emerging.Method(min_articles=min_articles))
