"""The Citations page: the articles a `Selection` keeps, filtered in the sidebar, in the order `tracker export` writes
them, and the one a reader clicks."""

from __future__ import annotations

from datetime import date

import streamlit as st

from dashboard import labels, loaders, views
from dashboard.article_view import draw_selected_article
from dashboard.context import Context, latest_run, run_label
from tracker import vocabulary
from tracker.models import CONFIDENCES, EVIDENCE_KINDS, STANCES
from tracker.outputs import export
from tracker.outputs.selection import LATEST_RUN, Selection
from tracker.vocabulary import DESIGN_LABELS, DESIGNS, SPECIES


ANY_SPECIES = "any"
ANY_HEDGING = "any"
# The hedging choice as the widget holds it (a link sets it) and as the Selection takes it.
HEDGING_CHOICES = {ANY_HEDGING: "Either", "no": "Stated plainly only", "yes": "Hedged only"}
HEDGING_VALUES = {ANY_HEDGING: None, "no": False, "yes": True}


def citations_page(context: Context) -> None:
    """The filtered table (click a row to open it), its CSV download, and the chosen article in full."""
    st.title("Citations")
    selection = _citation_filters(context, has_stances=loaders.has_stances(context.state))
    matching = loaders.load_selected_count(context.state, selection, context.hypothesis_ids)
    st.metric("Matching articles", f"{matching:,}")
    page_count = max(1, -(-matching // views.CITATION_PAGE_SIZE))
    page_number = 1
    if page_count > 1:
        page_number = st.number_input(f"Page (of {page_count:,}, {views.CITATION_PAGE_SIZE} rows each)",
                                      min_value=1, max_value=page_count, value=1, step=1, key="citations_page")
    # One page of PMIDs from SQLite, then the rows of those alone.
    page = tuple(loaders.load_selected_page(context.state, selection, context.hypothesis_ids, int(page_number),
                                            views.CITATION_PAGE_SIZE, matching).tolist())
    shown = loaders.load_rows_of(context.state, page)
    st.caption("Click a row to open the article below" + ("." if context.demo else
                                                          "; the PubMed column opens it on PubMed."))
    event = views.draw_citations(views.citation_rows(shown, context.labels, loaders.load_stances_of(context.state, page),
                                                     first_causes=selection.hypotheses, demo=context.demo),
                                 key="citations_table", height=480, demo=context.demo)
    chosen = loaders.article_filter(context.state, selection, context.hypothesis_ids)
    st.download_button(
        "Download this article as CSV" if matching == 1 else f"Download these {matching:,} articles as CSV",
        # Built on click, not on every rerun (the CSV of 200,000 rows takes seconds), by the very calls that
        # `tracker export` makes: the same query, read a batch at a time.
        data=lambda: export.csv_bytes(loaders.selected_batches(context.state, chosen, export.detail_columns("csv")),
                                         cause_ids=[c.id for c in context.causes]),
        file_name="fibromyalgia-evidence.csv",
        mime="text/csv",
        on_click="ignore",
        key="download_csv",
    )
    st.caption("The CSV holds every matching article in the order shown, through the same code as "
               "`tracker export`; cells that a spreadsheet would run as a formula are neutralised.")
    if shown.empty:
        st.info("No article matches these filters; widen the year range or clear a filter.")
    draw_selected_article(context, shown, event, st.session_state.get("_link_pmid"))


ANY_CONFIDENCE = "any"
CONFIDENCE_CHOICES = {ANY_CONFIDENCE: "Any", "high": "High confidence", "low": "Low confidence (a guess)"}


def _citation_filters(context: Context, has_stances: bool) -> Selection:
    first_year, last_year = loaders.load_year_span(context.state)
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
        kinds: list[str] = []
        hedging = ANY_HEDGING
        if has_stances:
            chosen_stances = st.multiselect(
                "What it found (stance)", list(STANCES), format_func=lambda s: vocabulary.STANCE_BADGES[s],
                key="filter_stances", help="For the chosen causes, or for any cause when none is chosen.")
            confidence = st.selectbox(
                "How sure the reading is", (ANY_CONFIDENCE, *CONFIDENCES), key="filter_confidence",
                format_func=CONFIDENCE_CHOICES.get, disabled=not chosen_stances,
                help="With a stance chosen: only readings the reader is sure of, or only those it is not (each "
                     "article says why).")
            kinds = st.multiselect(
                "Kind of evidence", list(EVIDENCE_KINDS), format_func=labels.EVIDENCE_KIND_LABELS.get,
                key="filter_kinds", help="Direct evidence: patients against controls, and associations; indirect: "
                                         "treatment results. For the chosen causes, with the chosen stance.")
            hedging = st.selectbox("Hedged (“may”, “suggests”)", list(HEDGING_CHOICES),
                                   format_func=HEDGING_CHOICES.get, key="filter_hedged")
        species = st.selectbox("Species", (ANY_SPECIES, *SPECIES), key="filter_species",
                               format_func=lambda s: "Any" if s == ANY_SPECIES else labels.SPECIES_LABELS[s])
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
        only_retracted=only_retracted, evidence_kinds=tuple(kinds), hedged=HEDGING_VALUES[hedging],
        **run_fields,
    )


NEW_FILTERS = {"all": "All articles", "run": "New in run …", "since": "New since a date"}


def _run_filters(context: Context) -> dict[str, object]:
    """The "new in run …" (the latest by default, any earlier run, or since a date) and "changed in run …"
    choices, as the Selection fields they set."""
    runs = loaders.load_run_list(context.state)
    succeeded = runs[runs["status"] == "succeeded"].iloc[::-1]  # newest first: the latest is the default
    labels = {int(run["id"]): run_label(run) for run in succeeded.to_dict("records")}
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
        latest = latest_run(context)
        # The default comes from the store, not the clock: the day the latest run started.
        default = str(latest["started_at"] if latest else loaders.load_latest_first_seen(context.state))
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
