"""The Cause page: one cause's evidence over time, by design and species, its MeSH headings, newest articles
and query."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import charts, labels, loaders, markup, views
from dashboard.article_view import draw_selected_article
from dashboard.context import Context
from tracker import vocabulary
from tracker.config import Hypothesis
from tracker.vocabulary import DESIGN_LABELS
from tracker.wording import runnable


TOP_MESH_COUNT = 15
NEWEST_COUNT = 10


def cause_page(context: Context) -> None:
    """One cause: what it proposes, the query as used, what was found over time, designs, MeSH, newest articles."""
    if not context.causes:
        views.draw_no_causes(context.settings.hypotheses_path)
        return
    cause_id = st.sidebar.selectbox("Cause", [c.id for c in context.causes], format_func=context.labels.get,
                                    key="cause")
    cause = context.settings.hypothesis(cause_id)
    st.title(cause.label)
    st.markdown(markup.escape_text(cause.description), unsafe_allow_html=True)

    row = loaders.load_cause_row(context.state, context.hypotheses, context.include_retracted, cause.id)
    columns = st.columns(3)
    columns[0].metric("Articles tagged with this cause", f"{int(row['articles']):,}",
                      help="By PubMed's query or by the terms in their text"
                           + ("" if context.include_retracted else "; retracted articles left out"))
    columns[1].metric("Meta-analyses, systematic reviews, RCTs", f"{int(row['high_level']):,}",
                      help=f"{row['high_level_share']:.0%} of the cause's articles")
    columns[2].metric("Retracted", f"{int(row['retracted']):,}",
                      help="Retracted articles tagged with this cause, counted whether or not they are included")
    st.markdown(views.cause_links_markdown(cause.id, row, context.retracted_filter), unsafe_allow_html=True)
    if int(row["articles"]) == 0:
        st.info(f"No article is tagged with {cause.label} yet"
                + ("" if context.include_retracted else " (retracted ones left out)")
                + ", so there is nothing to count or chart. Check its PubMed query and terms below; `tracker fetch` "
                  "tags what the query finds.", icon=":material/info:")
        _query_section(context, cause)
        return

    by_stance = loaders.has_stances(context.state)
    if by_stance:
        st.subheader("What the articles found")
        scope = views.choose_evidence_scope()
        verdict = loaders.load_verdict(context.state, (cause,), context.include_retracted, scope, context.now.year)
        views.draw_shown_scope(scope)
        views.draw_verdict_table(verdict[verdict["hypothesis_id"] == cause.id], scope, context.retracted_filter)
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
            charts.draw_stacked_bars(data, stack, "Articles per year", facet=False)
    charts.draw_how_to_read(
        f"Articles per publication year. {context.now.year} is not over: its faint bar counts the articles so far. "
        + ("The stance chart splits them by what they report about this cause, the findings read with low "
           "confidence apart in pale tints; the other by study design. "
           if by_stance else "Bars split the articles by study design, high-level evidence at the bottom. "))

    counts = loaders.load_breakdowns(context.state, context.hypotheses, context.include_retracted, cause.id)
    columns = st.columns(2)
    with columns[0]:
        st.altair_chart(charts.breakdown_chart(counts["design"], DESIGN_LABELS, "Study design"), width="stretch")
    with columns[1]:
        st.altair_chart(charts.breakdown_chart(counts["species"], labels.SPECIES_LABELS, "Species"), width="stretch")
    charts.draw_how_to_read(
        "All the cause's articles, of any year, by study design (strongest evidence first, as PubMed's publication "
        "types and MeSH terms say) and by who was studied (MeSH check tags; a study of both humans and animals "
        "counts once, under “Humans and animals”).")

    _query_section(context, cause)

    st.markdown(f"**Most frequent MeSH terms** (top {TOP_MESH_COUNT}, check tags and demographic headings left out)")
    top_mesh = loaders.load_top_mesh(context.state, cause.id, context.include_retracted, TOP_MESH_COUNT)
    st.dataframe(top_mesh.rename(columns={"mesh_term": "MeSH term", "articles": "Articles"}), hide_index=True,
                 placeholder=labels.MISSING_CELL)
    with st.expander("Headings left out of this list"):
        st.dataframe(pd.DataFrame({"MeSH heading": list(vocabulary.MESH_CHECK_TAGS)}), hide_index=True,
                     placeholder=labels.MISSING_CELL)
        st.caption("NLM indexes these check tags (species, sex, age groups, pregnancy, common laboratory animals) "
                   "on almost every article; they describe who was studied, not what the article is about.")

    st.subheader("Newest articles")
    newest = tuple(loaders.load_newest_pmids(context.state, cause.id, context.include_retracted, NEWEST_COUNT))
    shown = loaders.load_rows_of(context.state, newest)
    event = views.draw_citations(views.citation_rows(shown, context.labels,
                                                     loaders.load_stances_of(context.state, newest),
                                                     only_cause=cause.id, demo=context.demo),
                                 key="newest_table", demo=context.demo)
    draw_selected_article(context, shown, event, None, "newest_table")


def _query_section(context: Context, cause: Hypothesis) -> None:
    sync_states = loaders.load_sync_states(context.state, context.hypothesis_ids)
    st.markdown("**PubMed query**")
    if cause.id in sync_states.index:
        used_query = sync_states.at[cause.id, "query"]
        st.code(used_query, language=None, wrap_lines=True)
        if used_query != cause.query:
            st.warning(runnable("The hypotheses file now has another query; the next `tracker fetch` syncs with it:"),
                       icon=":material/warning:")
            st.code(cause.query, language=None, wrap_lines=True)
        translation = sync_states.at[cause.id, "query_translation"]
        st.markdown("**PubMed's translation of the query**")
        st.code(translation or "PubMed gave no translation", language=None, wrap_lines=True)
    else:
        st.code(cause.query, language=None, wrap_lines=True)
        st.info(runnable("Not synced with PubMed yet: run `tracker fetch`."))
    views.draw_coverage(views.coverage_frame([cause], loaders.load_status(context.state)))
