"""The dashboard's wiring: settings and the store's state, the filters a count's link presets, the sidebar, then the
page the reader chose (`PAGES`, in the sidebar's order: a new page is one module in pages/ and one entry there).

Every page reads through `loaders` and draws through `views`, `charts` and `markup`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path

import streamlit as st

from dashboard import loaders, markup, reviewing, views
from dashboard.article_view import selected_rows
from dashboard.context import Context
from dashboard.pages.cause import cause_page
from dashboard.pages.citations import citations_page
from dashboard.pages.citations import ANY_CONFIDENCE
from dashboard.pages.overview import overview_page
from dashboard.pages.review import review_page
from dashboard.pages.status import status_page
from tracker.analysis.reviews import check_reviewer
from tracker.config import Settings
from tracker.errors import TrackerError
from tracker.outputs.selection import QUERY_NAMES, from_query, shown_value
from tracker.vocabulary import pmid_number


# The widget each Selection field of a count's link presets (the address names them as `selection.to_query` does).
_LINK_WIDGETS = {"hypotheses": "filter_causes", "stances": "filter_stances", "designs": "filter_designs",
                 "only_retracted": "filter_only_retracted", "include_retracted": "include_retracted",
                 "evidence_kinds": "filter_kinds"}
# Every parameter an address may hold; Streamlit's own (embedding options) are left to Streamlit.
ADDRESS_NAMES = ("page", "cause", "scope", *QUERY_NAMES.values(), "retracted", "hedged", "pmid",
                 markup.REVIEWER_PARAM)
_STREAMLIT_NAMES = ("embed", "embed_options")


def render(argv: Sequence[str], environ: Mapping[str, str], now: datetime) -> None:
    """Draw the page for this rerun; a store or configuration problem becomes one visible message."""
    st.html(markup.MESSAGE_WRAP_STYLE)
    db_name = "the store"
    demo = loaders.is_demo(argv)
    if demo:
        views.draw_demo_banner()
    try:
        settings = loaders.read_settings(argv, environ)
        db_name = str(settings.db_path)
        state = loaders.read_store_state(settings.db_path, tuple(h.id for h in settings.hypotheses))
        if state is None:
            views.draw_missing_store(str(settings.db_path), Path(settings.db_path).parent.is_dir())
            return
        reviewer = environ.get("TRACKER_REVIEWER", "").strip()
        _render_store(settings, state, now, check_reviewer(reviewer, "TRACKER_REVIEWER") if reviewer else None,
                      demo)
    except TrackerError as error:
        views.draw_store_error(str(error))
    except sqlite3.Error as error:
        views.draw_store_error(f"{db_name}: could not be read ({error}); reload the page, and if it persists "
                               "check the file given with --db or TRACKER_DB")


def _render_store(settings: Settings, state: loaders.StoreState, now: datetime, reviewer: str | None,
                  demo: bool) -> None:
    if not loaders.load_article_count(state):
        runs = loaders.load_runs(state)
        views.draw_first_screen(str(settings.db_path), has_runs=not runs.empty)
        if not runs.empty:
            views.draw_runs(runs)
        return
    _apply_link(settings)
    _keep_choices_across_pages()
    st.sidebar.title("Fibromyalgia evidence")
    page = st.sidebar.radio("Page", list(PAGES), key="page")
    include_retracted = st.sidebar.checkbox(
        "Include retracted articles", key="include_retracted",
        help="Retracted articles are left out of every count and list unless this is ticked.")
    st.sidebar.caption(f"Store: {markup.escape_text(state.db_path)}", unsafe_allow_html=True)
    context = Context(settings, state, include_retracted, now, reviewer, demo)
    reviewing.keep_reviewer(context)
    PAGES[page](context)


# Choices kept while the reader visits pages that do not show them: back on the Cause page, the cause they were
# reading; on the Overview or a Cause page, the findings they chose to count; on the Overview, how its table is
# sorted and what its charts show; the Emerging page's year and thresholds; the Review queue's filters. (Not the
# Overview's page of causes: fewer causes may leave it out of range. Not Citations' filters: a count's link sets
# them, and the sidebar's Citations is every article.)
_KEPT_CHOICES = ("cause", "evidence_scope", "verdict_sort", "share_cause", "chart_mode", "stack_by", "same_scale",
                 "split_sources", "emerging_as_of", "emerging_min_articles", "emerging_only", "review_cause",
                 "review_stances")


def _keep_choices_across_pages() -> None:
    """Keep `_KEPT_CHOICES` through a run whose page lacks their widget, which Streamlit would otherwise forget
    at the run's end: a value set through session state outlives its widget. (A kept cause that the hypotheses
    file no longer holds is not an error: the selectbox shows the first cause.)"""
    for key in _KEPT_CHOICES:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


def _apply_link(settings: Settings) -> None:
    """Preset the page and filters a count's link names (`?page=Citations&causes=sleep&stances=supports`), once per
    address: afterwards the reader's own choices rule. A value that is not allowed is left out with a note."""
    params = st.query_params
    # Keyed on the address, not a flag: the browser keeps its session when the reader follows another link. The
    # reviewer's name is no preset: the page adds it to the address, which must not apply the link again.
    address = tuple(sorted((name, params[name]) for name in params if name != markup.REVIEWER_PARAM))
    if st.session_state.get("_link_applied") == address:
        return
    st.session_state["_link_applied"] = address
    if not address:
        return
    cause_ids = [h.id for h in settings.causes]
    fields, notes = from_query({name: params[name] for name in params}, cause_ids)
    notes += [f"{shown_value(name)[1:-1]}: not a parameter the dashboard reads ({', '.join(ADDRESS_NAMES)})"
              for name in params if name not in ADDRESS_NAMES and name not in _STREAMLIT_NAMES]
    for name, choices, key, what in (("page", list(PAGES), "page", "a page"),
                                     ("cause", cause_ids, "cause", "one of the causes"),
                                     ("scope", list(views.SCOPE_CHOICES), "evidence_scope", "a choice of findings")):
        if name in params and params[name] in choices:
            st.session_state[key] = params[name]
        elif name in params:
            notes.append(f"{name}: {shown_value(params[name])} is not {what} ({', '.join(choices)})")
    for field, key in _LINK_WIDGETS.items():
        if field in fields:
            value = fields[field]
            st.session_state[key] = list(value) if isinstance(value, tuple) else value
    if "stances" in fields:
        # A count of stances names the confidence it counted, or none: what an earlier link set does not linger.
        st.session_state["filter_confidence"] = fields.get("confidence", ANY_CONFIDENCE)
    if "hedged" in fields:
        st.session_state["filter_hedged"] = "yes" if fields["hedged"] else "no"
    years = (fields.get("from_year"), fields.get("to_year"))
    if any(year is not None for year in years):
        st.session_state["_link_years"] = years
    if "pmid" in params:
        pmid = pmid_number(params["pmid"])
        if pmid is None:
            notes.append(f"pmid: {shown_value(params['pmid'])} is not a PMID (a whole number such as 31234567); "
                         "no article is opened")
        else:
            st.session_state["_link_pmid"] = pmid
            # The rows clicked before the link: while they stay as they are, the linked article is the newer
            # choice.
            st.session_state["_rows_at_link"] = {key: selected_rows(st.session_state.get(key))
                                                 for key in ("citations_table", "newest_table")}
    for note in notes:
        st.warning(f"This page's address: {markup.escape_markdown(note)}", icon=":material/link_off:")


def emerging_page(context: Context) -> None:
    """The Emerging page; its module, and SciPy with it, load only when the page is opened."""
    from dashboard.pages.emerging import emerging_page as draw_emerging_page

    draw_emerging_page(context)


# The sidebar's pages, in order: a new page is one function above and one entry here.
PAGES: dict[str, Callable[[Context], None]] = {
    "Overview": overview_page,
    "Cause": cause_page,
    "Citations": citations_page,
    "Fetch status": status_page,
    "Emerging": emerging_page,
    "Review": review_page,
}
