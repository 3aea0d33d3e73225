"""The dashboard's pages: each reads through `loaders` and draws through `views`.

A page is a function of the `Context`; `PAGES` at the end lists them in the sidebar's order, so a new page is one
function and one entry there.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import streamlit as st

from dashboard import loaders, views
from tracker import export, store
from tracker.config import Hypothesis, Settings
from tracker.errors import TrackerError
from tracker.models import CONFIDENCES, STANCES
from tracker.selection import LATEST_RUN, Selection, select_articles
from tracker.tagging import DESIGN_LABELS, DESIGNS, SPECIES

CHART_MODES = {
    "count": "Articles per year",
    "cumulative": "Cumulative articles",
    "per_1000": "Per 1,000 fibromyalgia articles of the year",
}
STACK_CHOICES = {"stance": "What they found (stance)", "level": "Evidence level (study design)"}
ANY_CONFIDENCE = "any"
CONFIDENCE_CHOICES = {ANY_CONFIDENCE: "Any", "high": "High confidence", "low": "Low confidence (a guess)"}
ANY_SPECIES = "any"
TOP_MESH_COUNT = 15
NEWEST_COUNT = 10
# The link parameters a number's link may carry (views.citations_link), and the widget each one presets.
_LINK_LIST_FILTERS = {"causes": "filter_causes", "stances": "filter_stances", "designs": "filter_designs"}


@dataclass(frozen=True)
class Context:
    """What every page needs: settings, the store's state, the clock and the reader's global choices."""

    settings: Settings
    state: loaders.StoreState
    include_retracted: bool
    now: datetime

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

    @property
    def retracted_filter(self) -> str | None:
        """What a count's link says about retracted articles: counted with the others, or not."""
        return "include" if self.include_retracted else None


def render(argv: Sequence[str], environ: Mapping[str, str], now: datetime) -> None:
    """Draw the page for this rerun; a store or configuration problem becomes one visible message."""
    db_name = "the store"
    try:
        settings = loaders.read_settings(argv, environ)
        db_name = str(settings.db_path)
        state = loaders.read_store_state(settings.db_path)
        if state is None:
            views.draw_missing_store(str(settings.db_path), Path(settings.db_path).parent.is_dir())
            return
        _render_store(settings, state, now)
    except TrackerError as error:
        views.draw_store_error(str(error))
    except sqlite3.Error as error:
        views.draw_store_error(f"{db_name}: could not be read ({error}); reload the page, and if it persists "
                               "check the file given with --db or TRACKER_DB")


def _render_store(settings: Settings, state: loaders.StoreState, now: datetime) -> None:
    catalogue = loaders.load_catalogue(state)
    if catalogue.empty:
        runs = loaders.load_runs(state)
        views.draw_first_screen(str(settings.db_path), has_runs=not runs.empty)
        if not runs.empty:
            views.draw_runs(runs)
        return
    _apply_link(settings)
    st.sidebar.title("Fibromyalgia evidence")
    page = st.sidebar.radio("Page", list(PAGES), key="page")
    include_retracted = st.sidebar.checkbox(
        "Include retracted articles", key="include_retracted",
        help="Retracted articles are left out of every count and list unless this is ticked.")
    st.sidebar.caption(f"Store: {views.escape_text(state.db_path)}", unsafe_allow_html=True)
    PAGES[page](Context(settings, state, include_retracted, now))


def _apply_link(settings: Settings) -> None:
    """Preset the page and filters a count's link names (`?page=Citations&causes=sleep&stances=supports`), once per
    address: afterwards the reader's own choices rule. Values that are not allowed are ignored."""
    params = st.query_params
    # Keyed on the address, not a flag: the browser keeps its session when the reader follows another link.
    address = tuple(sorted((name, params[name]) for name in params))
    if st.session_state.get("_link_applied") == address:
        return
    st.session_state["_link_applied"] = address
    if not address:
        return
    if params.get("page") in PAGES:
        st.session_state["page"] = params["page"]
    allowed = {"causes": [h.id for h in settings.causes], "stances": list(STANCES), "designs": list(DESIGNS)}
    for name, key in _LINK_LIST_FILTERS.items():
        if name in params:
            st.session_state[key] = [v for v in params[name].split(",") if v in allowed[name]]
    if "stances" in params:
        # A count of stances names the confidence it counted, or none: what an earlier link set does not linger.
        st.session_state["filter_confidence"] = (params["confidence"] if params.get("confidence") in CONFIDENCES
                                                 else ANY_CONFIDENCE)
    if params.get("cause") in allowed["causes"]:
        st.session_state["cause"] = params["cause"]
    if params.get("retracted") == "only":
        st.session_state["filter_only_retracted"] = True
    if params.get("retracted") in ("only", "include"):
        st.session_state["include_retracted"] = True
    years = []
    for name in ("from", "to"):
        value = params.get(name, "")
        years.append(int(value) if value.isdigit() else None)
    if any(year is not None for year in years):
        st.session_state["_link_years"] = tuple(years)
    if params.get("pmid", "").isdigit():
        st.session_state["_link_pmid"] = int(params["pmid"])
        # The rows clicked before the link: while they stay as they are, the linked article is the newer choice.
        st.session_state["_rows_at_link"] = {key: _selected_rows(st.session_state.get(key))
                                             for key in ("citations_table", "newest_table")}


# --- overview -----------------------------------------------------------------------------------------------------

def overview_page(context: Context) -> None:
    """Headline figures, one clear count per cause, each cause over time, and causes × study designs."""
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
    by_stance = loaders.has_stances(context.state)

    st.subheader("Each cause over time")
    controls = st.columns([3, 3, 2])
    mode = controls[0].radio("Show", list(CHART_MODES), format_func=CHART_MODES.get, key="chart_mode")
    if by_stance:
        stack = controls[1].radio("Stack by", list(STACK_CHOICES), format_func=STACK_CHOICES.get, key="stack_by")
    else:
        stack = "level"
        controls[1].markdown("**Stacked by evidence level**")
        controls[1].caption("Stance (supports / contradicts / no finding) appears here once the stance reader "
                            "has read the stored articles (`tracker retag`).")
    shared_scale = controls[2].toggle("Same scale for every cause", value=True, key="same_scale",
                                      help="Off: each small chart gets its own scale, so small causes show their "
                                           "shape; on: the heights compare across causes.")
    data = loaders.load_stacked_chart_data(context.state, context.hypotheses, context.include_retracted, mode,
                                           stack, context.now.year)
    views.draw_stacked_bars(data, stack, CHART_MODES[mode], facet=True, shared_scale=shared_scale)
    views.draw_how_to_read(_over_time_note(mode, stack, context))
    unknown = loaders.load_unknown_year_counts(context.state, context.hypotheses, context.include_retracted)
    if unknown:
        st.caption("Not in the charts, publication year unknown: "
                   + "; ".join(f"{views.escape_text(context.labels[i])} {n:,}" for i, n in unknown.items()),
                   unsafe_allow_html=True)

    st.subheader("Articles per cause")
    summary = loaders.load_cause_summary(context.state, context.hypotheses, context.include_retracted)
    split = st.toggle("Show how the articles were found (PubMed's query or their text)", key="split_sources")
    st.markdown(views.cause_table_markdown(summary, split, context.retracted_filter), unsafe_allow_html=True)
    views.draw_how_to_read(
        "Each number opens the articles behind it in Citations. An article counts once per cause, whether PubMed's "
        "query for the cause returned it, its title, abstract or MeSH terms mention the cause, or both; an article "
        "about two causes counts under each. "
        + ("Retracted articles are counted too (ticked in the sidebar). " if context.include_retracted else
           "Retracted articles are not in the counts; the Retracted column lists them separately. ")
        + "“High-level” is the share of meta-analyses, systematic reviews and randomised trials.")
    with st.expander("Coverage: stored articles against PubMed's count"):
        views.draw_coverage(views.coverage_frame(context.causes, loaders.load_status(context.state)))

    st.subheader("Study designs per cause")
    matrix = loaders.load_design_matrix(context.state, context.hypotheses, context.include_retracted)
    views.draw_design_heatmap(matrix, summary)
    views.draw_how_to_read(
        "Each row is a cause, each column a study design; a cell holds the number of articles and is darker the "
        "larger its share of the cause's articles. The last column is the share of high-level evidence "
        "(meta-analyses, systematic reviews, randomised controlled trials): a cause with many articles but few of "
        "these rests mostly on observational studies, case reports and opinion.")

    if by_stance:
        st.subheader("What the high-level evidence found")
        balance = loaders.load_high_level_balance(context.state, context.hypotheses, context.include_retracted)
        if balance["articles"].sum():
            st.altair_chart(views.high_level_balance_chart(balance), width="stretch")
        else:
            st.info("No meta-analysis, systematic review or randomised trial among the tagged articles yet.")
        views.draw_how_to_read(
            "For each cause, its meta-analyses, systematic reviews and randomised trials split by what they found "
            "about it. A bar mostly grey means these studies mention the cause without reporting a finding on it.")
    if not context.include_retracted:
        st.caption("Retracted articles are not counted in the charts; tick “Include retracted articles” to count "
                   "them.")


def _over_time_note(mode: str, stack: str, context: Context) -> str:
    year = context.now.year
    parts = ["One small chart per cause, all on the same years."]
    if stack == "stance":
        parts.append("Each bar splits the year's articles by what they report about the cause: a finding that "
                     "supports it, one that contradicts it (no difference, or the opposite direction), mixed "
                     "findings, or none (the cause is only background or method). A finding the reader is not "
                     "sure of (hedged, a pooled population, a measure named only by an abbreviation, ...) is "
                     "stacked apart in a pale tint of its colour above the confident ones.")
    else:
        parts.append("Each bar splits the year's articles by evidence level, from meta-analyses, systematic "
                     "reviews and randomised trials (dark blue) to case reports and opinion.")
    if mode == "per_1000":
        parts.append(f"Per 1,000 divides by all fibromyalgia articles of that year (the tooltip gives that "
                     f"number); faint bars rest on fewer than {loaders.SMALL_BASELINE}, where one article moves "
                     "the value a lot.")
    elif mode == "cumulative":
        parts.append("Cumulative adds up every year so far.")
    parts.append(f"{year} is not over: its faint bar counts the articles so far, not a fall.")
    return " ".join(parts)


# --- one cause ----------------------------------------------------------------------------------------------------

def cause_page(context: Context) -> None:
    """One cause: what it proposes, the query as used, what was found over time, designs, MeSH, newest articles."""
    if not context.causes:
        views.draw_no_causes(context.settings.hypotheses_path)
        return
    cause_id = st.sidebar.selectbox("Cause", [c.id for c in context.causes], format_func=context.labels.get,
                                    key="cause")
    cause = context.settings.hypothesis(cause_id)
    st.title(cause.label)
    st.markdown(views.escape_text(cause.description), unsafe_allow_html=True)

    summary = loaders.load_cause_summary(context.state, context.hypotheses, context.include_retracted)
    row = summary.loc[cause.id]
    columns = st.columns(3)
    columns[0].metric("Articles tagged with this cause", f"{int(row['articles']):,}",
                      help="By PubMed's query or by the terms in their text"
                           + ("" if context.include_retracted else "; retracted articles left out"))
    columns[1].metric("Meta-analyses, systematic reviews, RCTs", f"{int(row['high_level']):,}",
                      help=f"{row['high_level_share']:.0%} of the cause's articles")
    columns[2].metric("Retracted", f"{int(row['retracted']):,}",
                      help="Retracted articles tagged with this cause, counted whether or not they are included")
    st.markdown(views.cause_links_markdown(cause.id, row, context.retracted_filter), unsafe_allow_html=True)

    by_stance = loaders.has_stances(context.state)
    if by_stance:
        st.subheader("What the articles found")
        counts = loaders.load_stance_counts(context.state, context.hypotheses, context.include_retracted, cause.id)
        st.markdown(views.stance_summary_markdown(cause, counts, int(row["articles"]), context.retracted_filter),
                    unsafe_allow_html=True)

    st.subheader("Over time")
    chart_columns = st.columns(2 if by_stance else 1)
    for column, stack in zip(chart_columns, ["stance", "level"] if by_stance else ["level"]):
        data = loaders.load_stacked_chart_data(context.state, context.hypotheses, context.include_retracted,
                                               "count", stack, context.now.year, cause.id)
        with column:
            st.markdown(f"**By {'stance' if stack == 'stance' else 'evidence level'}**")
            views.draw_stacked_bars(data, stack, "Articles per year", facet=False)
    views.draw_how_to_read(
        f"Articles per publication year. {context.now.year} is not over: its faint bar counts the articles so far. "
        + ("The stance chart splits them by what they report about this cause, the findings read with low "
           "confidence apart in pale tints; the other by study design. "
           if by_stance else "Bars split the articles by study design, high-level evidence at the bottom. "))

    counts = loaders.load_breakdowns(context.state, context.hypotheses, context.include_retracted, cause.id)
    columns = st.columns(2)
    with columns[0]:
        st.altair_chart(views.breakdown_chart(counts["design"], DESIGN_LABELS, "Study design"), width="stretch")
    with columns[1]:
        st.altair_chart(views.breakdown_chart(counts["species"], views.SPECIES_LABELS, "Species"), width="stretch")
    views.draw_how_to_read(
        "All the cause's articles, of any year, by study design (strongest evidence first, as PubMed's publication "
        "types and MeSH terms say) and by who was studied (MeSH check tags; a study of both humans and animals "
        "counts once, under “Humans and animals”).")

    _query_section(context, cause)

    st.markdown(f"**Most frequent MeSH terms** (top {TOP_MESH_COUNT}, check tags and demographic headings left out)")
    top_mesh = loaders.load_top_mesh(context.state, cause.id, context.include_retracted, TOP_MESH_COUNT)
    st.dataframe(top_mesh.rename(columns={"mesh_term": "MeSH term", "articles": "Articles"}), hide_index=True)
    with st.expander("Headings left out of this list"):
        st.dataframe(pd.DataFrame({"MeSH heading": list(loaders.MESH_CHECK_TAGS)}), hide_index=True)
        st.caption("NLM indexes these check tags (species, sex, age groups, pregnancy, common laboratory animals) "
                   "on almost every article; they describe who was studied, not what the article is about.")

    st.subheader("Newest articles")
    newest = loaders.load_selected_pmids(
        context.state, Selection(hypotheses=(cause.id,), include_retracted=context.include_retracted),
        context.hypothesis_ids)
    shown = loaders.catalogue_rows(context.state, newest[:NEWEST_COUNT])
    event = views.draw_citations(views.citation_rows(shown, context.labels, loaders.load_stances(context.state)),
                                 key="newest_table")
    _draw_selected_article(context, shown, event, None, "newest_table")


def _query_section(context: Context, cause: Hypothesis) -> None:
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
    views.draw_coverage(views.coverage_frame([cause], loaders.load_status(context.state)))


# --- citations ----------------------------------------------------------------------------------------------------

def citations_page(context: Context) -> None:
    """The filtered table (click a row to open it), its CSV download, and the chosen article in full."""
    st.title("Citations")
    stances = loaders.load_stances(context.state)
    selection = _citation_filters(context, has_stances=len(stances) > 0)
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
    st.caption("Click a row to open the article below; the PubMed column opens it on PubMed.")
    event = views.draw_citations(views.citation_rows(shown, context.labels, stances), key="citations_table",
                                 height=480)
    st.download_button(
        "Download this article as CSV" if len(selected) == 1 else f"Download these {len(selected):,} articles as CSV",
        # Built on click, not on every rerun (the CSV of 200,000 rows takes seconds), by the very calls that
        # `tracker export` makes, on the catalogue this screen shows even if a fetch has committed since.
        data=lambda: export.csv_bytes(
            store.decode_details(select_articles(catalogue, selection, hypothesis_ids=context.hypothesis_ids,
                                                 stances=stances, runs=runs), export.detail_columns("csv")),
            stances=stances, cause_ids=[c.id for c in context.causes]),
        file_name="fibromyalgia-evidence.csv",
        mime="text/csv",
        on_click="ignore",
        key="download_csv",
    )
    st.caption("The CSV holds every matching article in the order shown, through the same code as "
               "`tracker export`; cells that a spreadsheet would run as a formula are neutralised.")
    if shown.empty:
        st.info("No article matches these filters; widen the year range or clear a filter.")
    _draw_selected_article(context, shown, event, st.session_state.get("_link_pmid"))


def _selected_rows(event: object) -> list[int]:
    selection = event.get("selection") if isinstance(event, Mapping) else getattr(event, "selection", None)
    rows = selection.get("rows") if isinstance(selection, Mapping) else getattr(selection, "rows", None)
    return list(rows or [])


def _draw_selected_article(context: Context, shown: pd.DataFrame, event: object, linked_pmid: int | None,
                           table_key: str = "citations_table") -> None:
    """The article of the row clicked last, else the one a link named, else a hint."""
    rows = _selected_rows(event)
    if linked_pmid is not None and rows == st.session_state.get("_rows_at_link", {}).get(table_key, []):
        rows = []  # no click since the link was followed
    article_rows = None
    if rows and rows[0] < len(shown):
        article_rows = shown.iloc[[rows[0]]]
    elif linked_pmid is not None:
        catalogue = loaders.load_catalogue(context.state)
        position = int(catalogue["pmid"].searchsorted(linked_pmid))
        if position < len(catalogue) and catalogue["pmid"].iloc[position] == linked_pmid:
            article_rows = catalogue.iloc[[position]]
    if article_rows is None:
        if len(shown):
            st.info("Click a row of the table to read the article here.", icon=":material/touch_app:")
        return
    st.divider()
    pmid = int(article_rows["pmid"].iloc[0])
    article = store.decode_details(article_rows).iloc[0].copy()
    article["revised_date"] = loaders.load_revised_date(context.state, pmid)
    views.draw_article(article, context.hypotheses, loaders.load_article_stances(context.state, pmid))


def _citation_filters(context: Context, has_stances: bool) -> Selection:
    catalogue = loaders.load_catalogue(context.state)
    years = catalogue["pub_year"].dropna()
    first_year, last_year = (int(years.min()), int(years.max())) if len(years) else (None, None)
    with st.sidebar:
        st.header("Filters")
        causes = st.multiselect("Causes", [c.id for c in context.causes], format_func=context.labels.get,
                                key="filter_causes")
        from_year = to_year = None
        if first_year is not None and first_year < last_year:
            linked = st.session_state.pop("_link_years", None)
            if linked is not None:
                low, high = (first_year if y is None else min(max(y, first_year), last_year) for y in linked)
                st.session_state["filter_years"] = (low, max(low, high if linked[1] is not None else last_year))
            # No default once the state holds one (a link's years): Streamlit warns when both are given.
            default = None if "filter_years" in st.session_state else (first_year, last_year)
            chosen = st.slider("Publication years", first_year, last_year, default, key="filter_years",
                               help="Articles of unknown year are listed only while the whole range is chosen.")
            # The full range means "no year filter", so that articles of unknown year stay in.
            if chosen != (first_year, last_year):
                from_year, to_year = chosen
        designs = st.multiselect("Study design", list(DESIGNS), format_func=DESIGN_LABELS.get, key="filter_designs")
        chosen_stances: list[str] = []
        confidence = ANY_CONFIDENCE
        if has_stances:
            chosen_stances = st.multiselect(
                "What it found (stance)", list(STANCES), format_func=lambda s: views.STANCE_BADGES[s],
                key="filter_stances", help="For the chosen causes, or for any cause when none is chosen.")
            confidence = st.selectbox(
                "How sure the reading is", (ANY_CONFIDENCE, *CONFIDENCES), key="filter_confidence",
                format_func=CONFIDENCE_CHOICES.get, disabled=not chosen_stances,
                help="With a stance chosen: only readings the reader is sure of, or only those it is not (each "
                     "article says why).")
        species = st.selectbox("Species", (ANY_SPECIES, *SPECIES), key="filter_species",
                               format_func=lambda s: "Any" if s == ANY_SPECIES else views.SPECIES_LABELS[s])
        only_retracted = st.checkbox("Only retracted articles", key="filter_only_retracted",
                                     help="Every retracted article, whether or not retracted ones are included "
                                          "elsewhere.")
        run_fields = _run_filters(context)
        text = st.text_input("Search title, abstract, authors, journal", key="filter_text")
    return Selection(
        hypotheses=tuple(causes), from_year=from_year, to_year=to_year, designs=tuple(designs),
        species=None if species == ANY_SPECIES else species, include_retracted=context.include_retracted,
        text=text.strip() or None, stances=tuple(chosen_stances),
        confidence=None if confidence == ANY_CONFIDENCE or not chosen_stances else confidence,
        only_retracted=only_retracted,
        **run_fields,
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
        # The sidebar cuts a long choice; the run it names, in full.
        st.caption(labels[max(labels)] if fields["new_in_run"] == LATEST_RUN else labels[fields["new_in_run"]])
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
        st.caption(labels[max(labels)] if fields["changed_in_run"] == LATEST_RUN else labels[fields["changed_in_run"]])
    return fields


# --- emerging causes -----------------------------------------------------------------------------------------------

def emerging_page(context: Context) -> None:
    """The Emerging page; its module, and SciPy with it, load only when the page is opened."""
    from dashboard.emerging_page import emerging_page as draw_emerging_page

    draw_emerging_page(context)


# --- fetch status -------------------------------------------------------------------------------------------------

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


# The sidebar's pages, in order: a new page is one function above and one entry here.
PAGES: dict[str, Callable[[Context], None]] = {
    "Overview": overview_page,
    "Cause": cause_page,
    "Citations": citations_page,
    "Fetch status": status_page,
    "Emerging": emerging_page,
}
