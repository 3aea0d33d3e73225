"""The dashboard's pages: each reads through `loaders` and draws through `views`."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import pandas as pd
import streamlit as st

from dashboard import loaders, views
from tracker import export, store
from tracker.config import Hypothesis, Settings
from tracker.errors import TrackerError
from tracker.selection import LATEST_RUN, Selection, select_articles
from tracker.tagging import DESIGN_LABELS, DESIGNS, SPECIES

PAGES = ("Overview", "Cause", "Citations", "Fetch status", "Emerging")
CHART_MODES = {
    "count": "Articles per year",
    "cumulative": "Cumulative articles",
    "per_1000": "Per 1,000 fibromyalgia articles of the year",
}
ANY_SPECIES = "any"
TOP_MESH_COUNT = 15
NEWEST_COUNT = 10


@dataclass(frozen=True)
class Context:
    """What every page needs: settings, the store's state and the reader's global choices."""

    settings: Settings
    state: loaders.StoreState
    include_retracted: bool

    @property
    def hypotheses(self) -> tuple[Hypothesis, ...]:
        """Every configured hypothesis, the baseline included."""
        return self.settings.hypotheses

    @property
    def causes(self) -> tuple[Hypothesis, ...]:
        """The hypotheses that are causes."""
        return self.settings.causes

    @property
    def labels(self) -> dict[str, str]:
        """What the reader sees for each hypothesis id."""
        return {h.id: h.label for h in self.settings.hypotheses}

    @property
    def hypothesis_ids(self) -> tuple[str, ...]:
        """The configured ids a selection may name."""
        return tuple(h.id for h in self.settings.hypotheses)


def render(argv: Sequence[str], environ: Mapping[str, str]) -> None:
    """Draw the page for this rerun; a store or configuration problem becomes one visible message."""
    db_name = "the store"
    try:
        settings = loaders.read_settings(argv, environ)
        db_name = str(settings.db_path)
        state = loaders.read_store_state(settings.db_path)
        if state is None:
            views.draw_first_screen(str(settings.db_path), has_runs=False)
            return
        _render_store(settings, state)
    except TrackerError as error:
        views.draw_store_error(str(error))
    except sqlite3.Error as error:
        views.draw_store_error(f"{db_name}: could not be read ({error}); reload the page, and if it persists "
                               "check the file given with --db or TRACKER_DB")


def _render_store(settings: Settings, state: loaders.StoreState) -> None:
    catalogue = loaders.load_catalogue(state)
    if catalogue.empty:
        runs = loaders.load_runs(state)
        views.draw_first_screen(str(settings.db_path), has_runs=not runs.empty)
        if not runs.empty:
            views.draw_runs(runs)
        return
    st.sidebar.title("Fibromyalgia evidence")
    page = st.sidebar.radio("Page", PAGES, key="page")
    include_retracted = st.sidebar.checkbox(
        "Include retracted articles", key="include_retracted",
        help="Retracted articles are left out of every count and list unless this is ticked.")
    st.sidebar.caption(f"Store: `{state.db_path}`")
    context = Context(settings, state, include_retracted)
    {"Overview": overview_page, "Cause": cause_page, "Citations": citations_page,
     "Fetch status": status_page, "Emerging": emerging_page}[page](context)


def emerging_page(context: Context) -> None:
    """The Emerging page; its module, and SciPy with it, load only when the page is opened."""
    from dashboard.emerging_page import emerging_page as draw_emerging_page

    draw_emerging_page(context)


def overview_page(context: Context) -> None:
    """Headline figures, coverage per cause, evidence over time, and one cause stacked by study design."""
    st.title("Fibromyalgia evidence over time")
    catalogue = loaders.load_catalogue(context.state)
    # The warning below is about fetches: an import since a failed fetch must not hide it.
    runs = loaders.load_runs(context.state).query("kind == 'fetch'")
    latest = _latest_run(context)
    new_count = 0 if latest is None else len(loaders.load_selected_pmids(
        context.state, Selection(new_in_run=int(latest["id"]), include_retracted=True), context.hypothesis_ids))
    views.draw_headline(len(catalogue), new_count, None if latest is None else _run_label(latest),
                        loaders.load_last_success(context.state),
                        runs.iloc[0].to_dict() if len(runs) else None)

    if not context.causes:
        views.draw_no_causes(context.settings.hypotheses_path)
        return
    st.subheader("Articles per cause")
    st.caption("Articles tagged with a cause, by PubMed's query for it or by the terms in their text"
               + ("." if context.include_retracted else "; retracted articles left out."))
    totals = loaders.load_cause_totals(context.state, context.hypotheses, context.include_retracted)
    columns = st.columns(min(len(context.causes), 6) or 1)
    for position, cause in enumerate(context.causes):
        columns[position % len(columns)].metric(cause.label, f"{totals.get(cause.id, 0):,}")

    st.subheader("Coverage: stored articles against PubMed's count")
    status = loaders.load_status(context.state)
    views.draw_coverage(views.coverage_frame(context.causes, status))

    st.subheader("Evidence over time")
    mode = st.radio("Show", list(CHART_MODES), format_func=CHART_MODES.get, horizontal=True, key="chart_mode")
    chart_data = loaders.load_chart_data(context.state, context.hypotheses, context.include_retracted, mode)
    st.altair_chart(views.line_chart(chart_data, "Publication year", CHART_MODES[mode]), width="stretch")
    unknown = loaders.load_unknown_year_counts(context.state, context.hypotheses, context.include_retracted)
    if unknown:
        st.caption("Not in the chart, publication year unknown: "
                   + "; ".join(f"{context.labels[i]} {n:,}" for i, n in unknown.items()))
    if not context.include_retracted:
        st.caption("Retracted articles are not counted; tick “Include retracted articles” to count them.")

    st.subheader("By study design")
    cause_id = st.selectbox("Cause", [c.id for c in context.causes], format_func=context.labels.get,
                            key="design_cause")
    design_data = loaders.load_design_chart_data(context.state, context.hypotheses, context.include_retracted,
                                                 cause_id)
    st.altair_chart(views.stacked_design_chart(design_data, "Articles per year"), width="stretch")


def cause_page(context: Context) -> None:
    """One cause: what it proposes, the query as used, coverage, design and species, MeSH terms, newest articles."""
    if not context.causes:
        views.draw_no_causes(context.settings.hypotheses_path)
        return
    cause_id = st.sidebar.selectbox("Cause", [c.id for c in context.causes], format_func=context.labels.get,
                                    key="cause")
    cause = context.settings.hypothesis(cause_id)
    st.title(cause.label)
    st.markdown(views.escape_text(cause.description), unsafe_allow_html=True)

    sync_states = loaders.load_sync_states(context.state, context.hypothesis_ids)
    st.markdown("**PubMed query**")
    if cause.id in sync_states.index:
        used_query = sync_states.at[cause.id, "query"]
        st.code(used_query, language=None, wrap_lines=True)
        if used_query != cause.query:
            st.warning("The hypotheses file now has another query; the next `tracker fetch` syncs with it:",
                       icon=":material/warning:")
            st.code(cause.query, language=None, wrap_lines=True)
        translation = sync_states.at[cause.id, "query_translation"]
        st.markdown("**PubMed's translation of the query**")
        st.code(translation or "PubMed gave no translation", language=None, wrap_lines=True)
    else:
        st.code(cause.query, language=None, wrap_lines=True)
        st.info("Not synced with PubMed yet: run `tracker fetch`.")
    totals = loaders.load_cause_totals(context.state, context.hypotheses, context.include_retracted)
    st.metric("Articles tagged with this cause", f"{totals.get(cause.id, 0):,}",
              help="By PubMed's query or by the terms in their text"
                   + ("" if context.include_retracted else "; retracted articles left out"))
    views.draw_coverage(views.coverage_frame([cause], loaders.load_status(context.state)))

    counts = loaders.load_breakdowns(context.state, context.hypotheses, context.include_retracted, cause.id)
    columns = st.columns(2)
    with columns[0]:
        st.altair_chart(views.breakdown_chart(counts["design"], DESIGN_LABELS, "Study design"), width="stretch")
    with columns[1]:
        st.altair_chart(views.breakdown_chart(counts["species"], views.SPECIES_LABELS, "Species"), width="stretch")

    st.markdown(f"**Most frequent MeSH terms** (top {TOP_MESH_COUNT})")
    top_mesh = loaders.load_top_mesh(context.state, cause.id, context.include_retracted, TOP_MESH_COUNT)
    st.dataframe(top_mesh.rename(columns={"mesh_term": "MeSH term", "articles": "Articles"}), hide_index=True)
    st.markdown("**Newest articles**")
    newest = loaders.load_selected_pmids(
        context.state, Selection(hypotheses=(cause.id,), include_retracted=context.include_retracted),
        context.hypothesis_ids)
    views.draw_citations(views.citation_rows(loaders.catalogue_rows(context.state, newest[:NEWEST_COUNT]),
                                             context.labels))


def citations_page(context: Context) -> None:
    """The filtered table, its CSV download, and the chosen article in full."""
    st.title("Citations")
    selection = _citation_filters(context)
    catalogue = loaders.load_catalogue(context.state)
    runs = loaders.load_run_history(context.state)
    selected = loaders.load_selected_pmids(context.state, selection, context.hypothesis_ids)
    st.metric("Matching articles", f"{len(selected):,}")
    page_count = max(1, -(-len(selected) // views.CITATION_PAGE_SIZE))
    page_number = 1
    if page_count > 1:
        page_number = st.number_input(f"Page (of {page_count:,}, {views.CITATION_PAGE_SIZE} rows each)",
                                      min_value=1, max_value=page_count, value=1, step=1, key="citations_page")
    start = (page_number - 1) * views.CITATION_PAGE_SIZE
    shown = loaders.catalogue_rows(context.state, selected[start:start + views.CITATION_PAGE_SIZE])
    views.draw_citations(views.citation_rows(shown, context.labels))
    st.download_button(
        f"Download these {len(selected):,} articles as CSV",
        # Built on click, not on every rerun (the CSV of 200,000 rows takes seconds), by the very calls that
        # `tracker export` makes, on the catalogue this screen shows even if a fetch has committed since.
        data=lambda: export.csv_bytes(store.decode_details(select_articles(
            catalogue, selection, hypothesis_ids=context.hypothesis_ids, runs=runs), export.detail_columns("csv"))),
        file_name="fibromyalgia-evidence.csv",
        mime="text/csv",
        on_click="ignore",
        key="download_csv",
    )
    st.caption("The CSV holds every matching article in the order shown, through the same code as "
               "`tracker export`; cells that a spreadsheet would run as a formula are neutralised.")
    if shown.empty:
        st.info("No article matches these filters; widen the year range or clear a filter.")
        return
    pmid = st.selectbox("Article", shown["pmid"].tolist(), key="article",
                        format_func=_article_label(shown))
    views.draw_article(store.decode_details(shown[shown["pmid"] == pmid]).iloc[0], context.hypotheses)


def _citation_filters(context: Context) -> Selection:
    catalogue = loaders.load_catalogue(context.state)
    years = catalogue["pub_year"].dropna()
    first_year, last_year = (int(years.min()), int(years.max())) if len(years) else (None, None)
    with st.sidebar:
        st.header("Filters")
        causes = st.multiselect("Causes", [c.id for c in context.causes], format_func=context.labels.get,
                                key="filter_causes")
        from_year = to_year = None
        if first_year is not None and first_year < last_year:
            chosen = st.slider("Publication years", first_year, last_year, (first_year, last_year),
                               key="filter_years",
                               help="Articles of unknown year are listed only while the whole range is chosen.")
            # The full range means "no year filter", so that articles of unknown year stay in.
            if chosen != (first_year, last_year):
                from_year, to_year = chosen
        designs = st.multiselect("Study design", list(DESIGNS), format_func=DESIGN_LABELS.get, key="filter_designs")
        species = st.selectbox("Species", (ANY_SPECIES, *SPECIES), key="filter_species",
                               format_func=lambda s: "Any" if s == ANY_SPECIES else views.SPECIES_LABELS[s])
        run_fields = _run_filters(context)
        text = st.text_input("Search title, abstract, authors, journal", key="filter_text")
    return Selection(
        hypotheses=tuple(causes), from_year=from_year, to_year=to_year, designs=tuple(designs),
        species=None if species == ANY_SPECIES else species, include_retracted=context.include_retracted,
        text=text.strip() or None, **run_fields,
    )


NEW_FILTERS = {"all": "All articles", "run": "New in run …", "since": "New since a date"}


def _latest_run(context: Context) -> Mapping | None:
    """The newest successful fetch or import, or None before the first."""
    runs = loaders.load_run_history(context.state).runs
    succeeded = runs[runs["status"] == "succeeded"]
    return None if succeeded.empty else succeeded.iloc[-1].to_dict()


def _run_label(run: Mapping) -> str:
    """A run as the reader picks it: "run 7 (fetch, 2026-12-01 02:31 UTC)", an import with its files."""
    what = run["kind"] if run["kind"] != "import" or not run["files"] else f"import of {', '.join(run['files'])}"
    when = str(run["finished_at"] or run["started_at"])
    return f"run {run['id']} ({what}, {when[:10]} {when[11:16]} UTC)"


def _run_filters(context: Context) -> dict[str, object]:
    """The "new in run …" (the latest by default, any earlier run, or since a date) and "changed in run …"
    choices, as the Selection fields they set."""
    runs = loaders.load_run_history(context.state).runs
    succeeded = runs[runs["status"] == "succeeded"].iloc[::-1]  # newest first: the latest is the default
    labels = {int(run["id"]): _run_label(run) for run in succeeded.to_dict("records")}
    # "latest" rather than its id: after the next fetch the same choice shows that fetch's articles.
    choices = [LATEST_RUN, *labels] if labels else []
    choice_label = {LATEST_RUN: f"the latest, {next(iter(labels.values()))}" if labels else "", **labels}.get
    fields: dict[str, object] = {}
    mode = st.radio("New articles", list(NEW_FILTERS), format_func=NEW_FILTERS.get, key="filter_new",
                    help="New: stored for the first time by a fetch or an import, as `tracker status` lists them.")
    if mode == "run" and choices:
        fields["new_in_run"] = st.selectbox("New in run", choices, format_func=choice_label, key="filter_new_run")
    elif mode == "run":
        st.caption("No fetch or import has succeeded yet.")
    elif mode == "since":
        latest = _latest_run(context)
        # The default comes from the store, not the clock: the day the latest run started.
        default = str(latest["started_at"] if latest else loaders.load_catalogue(context.state)["first_seen"].max())
        since = st.date_input("First seen on or after (UTC)", value=date.fromisoformat(default[:10]),
                              key="filter_new_since")
        fields["new_since"] = since.isoformat()
    changed = st.checkbox("Changed in run …", key="filter_changed",
                          help="Stored articles whose record changed: a new retraction or erratum link, a corrected "
                               "record.")
    if changed and choices:
        fields["changed_in_run"] = st.selectbox("Changed in run", choices, format_func=choice_label,
                                                key="filter_changed_run")
    return fields


def _article_label(shown: pd.DataFrame) -> Callable[[int], str]:
    titles = dict(zip(shown["pmid"], shown["title"]))

    def label(pmid: int) -> str:
        title = titles[pmid]
        return f"{pmid} — {title[:90]}{'…' if len(title) > 90 else ''}"

    return label


def status_page(context: Context) -> None:
    """Recent runs with outcome and errors, the latest run per cause, sync state, and the schedule."""
    st.title("Fetch status")
    runs = loaders.load_runs(context.state)
    if runs.empty:
        st.info("No fetch has run yet: run `tracker fetch`.")
    else:
        st.subheader("Recent runs")
        views.draw_runs(runs)
        fetches = runs[runs["kind"] == "fetch"]
        # An import has no per-cause lines: show the newest fetch's.
        run_id = int((fetches if len(fetches) else runs)["id"].iloc[0])
        st.subheader(f"Run {run_id}, per cause")
        views.draw_run_log(loaders.load_run_log(context.state, run_id), context.labels)
    st.subheader("Sync state per cause")
    views.draw_sync_states(loaders.load_sync_states(context.state, context.hypothesis_ids), context.hypotheses)
    st.subheader("Schedule")
    views.draw_schedule()
