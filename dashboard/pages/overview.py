"""The Overview page: every cause over time, stacked by stance or by evidence level, with its table of causes."""

from __future__ import annotations

import streamlit as st

from dashboard import charts, deferred, loaders, markup, reviewing, views
from dashboard.context import Context, latest_run_with_new, run_label
from tracker.analysis import evidence
from tracker.wording import runnable


CHART_MODES = {
    "count": "Articles per year",
    "cumulative": "Cumulative articles",
    "per_1000": "Per 1,000 fibromyalgia articles of the year",
}


STACK_CHOICES = {"stance": "What they found (stance)", "level": "Evidence level (study design)"}


def overview_page(context: Context) -> None:
    """The evidence table first (one row per cause, a page of causes at a time), what each cause's findings
    say over time, then the articles per cause, over time and by study design, for the same page of causes."""
    st.title("Fibromyalgia evidence: what it says, cause by cause")
    # The warning below is about fetches: an import since a failed fetch must not hide it.
    runs = loaders.load_runs(context.state).query("kind == 'fetch'")
    latest, new_count, quiet = latest_run_with_new(context)
    stored = loaders.load_article_count(context.state)
    views.draw_headline(stored, new_count, None if latest is None else run_label(latest),
                        loaders.load_last_success(context.state),
                        runs.iloc[0].to_dict() if len(runs) else None,
                        quiet_run=None if quiet is None else run_label(quiet))
    st.caption(views.totals_note(stored, loaders.load_retracted_count(context.state), context.include_retracted))

    if not context.causes:
        views.draw_no_causes(context.settings.hypotheses_path)
        return
    by_stance = loaders.has_stances(context.state)
    charted = False
    if by_stance:
        page_ids, charted = _verdict_section(context)
    else:
        st.info(runnable("The verdict per cause (what the articles found, and how strongly) appears once the stance "
                         "reader has read the stored articles: run `tracker retag`."), icon=":material/info:")
        page_ids = _page_of_causes(context, [c.id for c in context.causes])
    page_causes = tuple(h for h in context.hypotheses if h.baseline or h.id in page_ids)
    _below_first_chart(context, page_causes, by_stance, charted)


# A fragment: on a session's first run it waits for the browser to draw the chart above (`deferred`); afterwards
# its widgets (what the charts show) rerun it alone, not the evidence table above.
@st.fragment
def _below_first_chart(context: Context, page_causes: tuple, by_stance: bool, chart_above: bool) -> None:
    """The causes over time, the articles per cause and the charts of them."""
    if not deferred.below_first_chart("overview", chart_above):
        return
    _over_time_section(context, page_causes, by_stance)
    _articles_section(context, page_causes, by_stance)
    if not context.include_retracted:
        st.caption("Retracted articles are not counted in the table or the charts; tick “Include retracted "
                   "articles” to count them.")


def _page_of_causes(context: Context, ordered_ids: list[str]) -> list[str]:
    """The causes of the page the reader chose, VERDICT_PAGE_SIZE at a time, in the order given."""
    page_count = max(1, -(-len(ordered_ids) // views.VERDICT_PAGE_SIZE))
    if page_count == 1:
        return ordered_ids
    page_number = st.number_input(f"Causes, page (of {page_count:,}, {views.VERDICT_PAGE_SIZE} causes each)",
                                  min_value=1, max_value=page_count, value=1, step=1, key="cause_page")
    start = (page_number - 1) * views.VERDICT_PAGE_SIZE
    return ordered_ids[start:start + views.VERDICT_PAGE_SIZE]


def _verdict_section(context: Context) -> tuple[list[str], bool]:
    """The evidence table and one cause's findings over time; returns the ids of the causes on the page, and
    whether a chart was drawn."""
    st.subheader("What the evidence says")
    controls = st.columns([3, 3])
    scope = views.choose_evidence_scope(controls[0])
    # Pills, not drop-down lists, above the first chart: all the choices in sight, one click to change, and a
    # drop-down list's first use costs the browser more time than the evidence table (bench_browser).
    sort_by = controls[1].pills("Sort by", list(views.VERDICT_SORTS), format_func=views.VERDICT_SORTS.get,
                                default="order", required=True, key="verdict_sort", help=views.VERDICT_SORTS_HELP,
                                # In a column, pills would otherwise stay on one row and hide the last ones.
                                wrap=True)
    verdict = views.sort_verdict(loaders.load_verdict(context.state, context.hypotheses, context.include_retracted,
                                                      scope, context.now.year), sort_by)
    page_ids = _page_of_causes(context, verdict["hypothesis_id"].tolist())
    rows = verdict.set_index("hypothesis_id").loc[page_ids].reset_index()
    views.draw_shown_scope(scope)
    views.draw_verdict_table(rows, scope, context.retracted_filter)
    charts.draw_how_to_read(
        "A finding is an article whose abstract reports a result on the cause: supporting it, contradicting it "
        "(no difference, or the opposite of what it predicts), or both (mixed). The bar sets contradicting findings "
        "left of the centre line and supporting ones right of it, mixed astride. Supporting is the share of "
        "supporting among all findings, with its 95% Wilson interval: a wide interval means few findings. "
        "High-level counts the meta-analyses, systematic reviews and randomised trials whatever their kind of "
        "finding. Last 10 years tests whether the supporting share rose or fell by year (Kendall's tau-b between "
        "year and support, p < 0.05; “too few” under 10 findings). Patients adds the patients of the findings "
        "whose abstracts state them. Under a cause's name, what the table keeps apart: the findings read with low "
        "confidence and, with direct findings only, the treatment results, reviews, other results and hedged "
        "findings that “Include the others” adds. Each count opens its articles in Citations.")
    return page_ids, _share_over_time(context, rows, scope)


def _share_over_time(context: Context, rows, scope: str) -> bool:
    """One cause's findings per period, for the causes of the table that have any; returns whether it drew the
    chart."""
    st.markdown("**Is the evidence getting stronger?**")
    periods = loaders.load_share_by_period(context.state, context.hypotheses, context.include_retracted, scope)
    # Only causes with a finding to chart are offered: a choice that can only say "nothing yet" is no choice.
    charted = set(periods["hypothesis_id"])
    causes = [cause for cause in rows["hypothesis_id"] if cause in charted]
    finding = "direct finding" if scope == "direct" else "finding"
    if not causes:
        st.info(f"No {finding} of known year on these causes has been read yet, so there is nothing to chart."
                + (" Include the others to count treatment results, reviews, other results and hedged findings."
                   if scope == "direct" else ""))
        return False
    chosen = st.pills("Cause", causes, format_func=context.labels.get, default=causes[0], required=True,
                      key="share_cause")
    left_out = [context.labels[cause] for cause in rows["hypothesis_id"] if cause not in charted]
    if left_out:
        st.caption(f"Not offered, no {finding} of known year yet: "
                   + "; ".join(map(markup.escape_text, left_out)), unsafe_allow_html=True)
    periods = periods[periods["hypothesis_id"] == chosen]
    charts.draw_share_over_time(periods)
    charts.draw_how_to_read(
        "Five-year periods. Left: the findings of each period, counted. Right: the share of them that supports "
        "the cause, with its 95% interval; the dashed line is one half. A share resting on few findings has a long "
        "interval: compare the intervals, not only the dots.")
    return True


def _over_time_section(context: Context, page_causes: tuple, by_stance: bool) -> None:
    st.subheader("Each cause over time")
    controls = st.columns([3, 3, 2])
    mode = controls[0].radio("Show", list(CHART_MODES), format_func=CHART_MODES.get, key="chart_mode")
    if by_stance:
        stack = controls[1].radio("Stack by", list(STACK_CHOICES), format_func=STACK_CHOICES.get, key="stack_by")
    else:
        stack = "level"
        controls[1].markdown("**Stacked by evidence level**")
        controls[1].caption(runnable("Stance (supports / contradicts / no finding) appears here once the stance "
                                     "reader has read the stored articles (`tracker retag`)."))
    shared_scale = controls[2].toggle("Same scale", value=True, key="same_scale",
                                      help="Off: each small chart gets its own scale, so small causes show their "
                                           "shape; on: the heights compare across causes.")
    data = loaders.load_stacked_chart_data(context.state, page_causes, context.include_retracted, mode, stack,
                                           context.now.year)
    empty = [h.label for h in page_causes if not h.baseline
             and not data.loc[data["hypothesis_id"] == h.id, "articles"].any()]
    data = data[~data["cause"].isin(empty)]
    if data.empty:
        st.info("None of these causes has an article of known year yet.")
    else:
        charts.draw_stacked_bars(data, stack, CHART_MODES[mode], facet=True, shared_scale=shared_scale)
        charts.draw_how_to_read(_over_time_note(mode, stack, context))
    if empty:
        st.caption("No article yet, so no chart: " + "; ".join(markup.escape_text(label) for label in empty),
                   unsafe_allow_html=True)
    unknown = loaders.load_unknown_year_counts(context.state, page_causes, context.include_retracted)
    if unknown:
        st.caption("Not in the charts, publication year unknown: "
                   + "; ".join(f"{markup.escape_text(context.labels[i])} {n:,}" for i, n in unknown.items()),
                   unsafe_allow_html=True)


# A fragment: the evidence table and the first chart are sent before any of this is counted, and the toggle below
# reruns this part alone, not the charts above it.
@st.fragment
def _articles_section(context: Context, page_causes: tuple, by_stance: bool) -> None:
    """The table of causes, coverage, designs per cause and what the high-level evidence found."""
    st.subheader("Articles per cause")
    summary = loaders.load_cause_summary(context.state, page_causes, context.include_retracted)
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
        views.draw_coverage(views.coverage_frame([h for h in page_causes if not h.baseline],
                                                 loaders.load_status(context.state)))

    st.subheader("Study designs per cause")
    matrix = loaders.load_design_matrix(context.state, page_causes, context.include_retracted)
    charts.draw_design_heatmap(matrix, summary)
    charts.draw_how_to_read(
        "Each row is a cause, each column a study design; a cell holds the number of articles and is darker the "
        "larger its share of the cause's articles. The last column is the share of high-level evidence "
        "(meta-analyses, systematic reviews, randomised controlled trials): a cause with many articles but few of "
        "these rests mostly on observational studies, case reports and opinion.")

    if by_stance:
        st.subheader("What the high-level evidence found")
        balance = loaders.load_high_level_balance(context.state, page_causes, context.include_retracted)
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
            "has reviewed; the table and charts above already count every reviewed pair with its reviewed stance.")


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
