"""The Overview page: every cause over time, stacked by stance or by evidence level, with its table of causes."""

from __future__ import annotations

import streamlit as st

from dashboard import charts, loaders, markup, reviewing, views
from dashboard.context import Context, latest_run, new_in_run, run_label
from tracker.analysis import evidence


CHART_MODES = {
    "count": "Articles per year",
    "cumulative": "Cumulative articles",
    "per_1000": "Per 1,000 fibromyalgia articles of the year",
}


STACK_CHOICES = {"stance": "What they found (stance)", "level": "Evidence level (study design)"}


def overview_page(context: Context) -> None:
    """Headline figures, one clear count per cause, each cause over time, and causes × study designs."""
    st.title("Fibromyalgia evidence over time")
    # The warning below is about fetches: an import since a failed fetch must not hide it.
    runs = loaders.load_runs(context.state).query("kind == 'fetch'")
    latest = latest_run(context)
    new_count = 0 if latest is None else new_in_run(context, int(latest["id"]))
    views.draw_headline(loaders.load_article_count(context.state), new_count, None if latest is None else run_label(latest),
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
    charts.draw_stacked_bars(data, stack, CHART_MODES[mode], facet=True, shared_scale=shared_scale)
    charts.draw_how_to_read(_over_time_note(mode, stack, context))
    unknown = loaders.load_unknown_year_counts(context.state, context.hypotheses, context.include_retracted)
    if unknown:
        st.caption("Not in the charts, publication year unknown: "
                   + "; ".join(f"{markup.escape_text(context.labels[i])} {n:,}" for i, n in unknown.items()),
                   unsafe_allow_html=True)
    _below_the_first_chart(context, by_stance)


# A fragment: the first chart's data is sent before any of this is counted, and the toggle below reruns this part
# alone, not the charts above it.
@st.fragment
def _below_the_first_chart(context: Context, by_stance: bool) -> None:
    """The table of causes, coverage, designs per cause and what the high-level evidence found."""
    st.subheader("Articles per cause")
    summary = loaders.load_cause_summary(context.state, context.hypotheses, context.include_retracted)
    split = st.toggle("Show how the articles were found (PubMed's query or their text)", key="split_sources")
    st.markdown(views.cause_table_markdown(summary, split, context.retracted_filter), unsafe_allow_html=True)
    charts.draw_how_to_read(
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
    charts.draw_design_heatmap(matrix, summary)
    charts.draw_how_to_read(
        "Each row is a cause, each column a study design; a cell holds the number of articles and is darker the "
        "larger its share of the cause's articles. The last column is the share of high-level evidence "
        "(meta-analyses, systematic reviews, randomised controlled trials): a cause with many articles but few of "
        "these rests mostly on observational studies, case reports and opinion.")

    if by_stance:
        st.subheader("What the high-level evidence found")
        balance = loaders.load_high_level_balance(context.state, context.hypotheses, context.include_retracted)
        if balance["articles"].sum():
            st.altair_chart(charts.high_level_balance_chart(balance), width="stretch")
        else:
            st.info("No meta-analysis, systematic review or randomised trial among the tagged articles yet.")
        charts.draw_how_to_read(
            "For each cause, its meta-analyses, systematic reviews and randomised trials split by what they found "
            "about it. A bar mostly grey means these studies mention the cause without reporting a finding on it.")
        st.subheader("How far to trust the readings: reviewers against the machine")
        reviewing.draw_agreement(context)
        charts.draw_how_to_read(
            "Per cause, the (article, cause) pairs a person reviewed: how many kept the machine's stance and what "
            "the others were changed to. It is the tracker's running estimate of how far to trust the pairs nobody "
            "has reviewed; the charts above already count every reviewed pair with its reviewed stance.")
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
                     f"number); faint bars rest on fewer than {evidence.SMALL_BASELINE}, where one article moves "
                     "the value a lot.")
    elif mode == "cumulative":
        parts.append("Cumulative adds up every year so far.")
    parts.append(f"{year} is not over: its faint bar counts the articles so far, not a fall.")
    return " ".join(parts)
