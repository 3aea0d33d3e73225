"""The Emerging page: ideas rising in the stored fibromyalgia articles that no configured cause covers yet.

It draws what `tracker.emerging` computes (through the cached `loaders.load_emerging`): the ranked table, each top
candidate's yearly share with its burst years shaded, links to the articles behind it, and the "add as a cause"
entry for the hypotheses file.
"""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import labels, loaders, markup
from tracker.analysis import emerging
from tracker.wording import plural, runnable


TABLE_ROWS = 100
DETAILED_COUNT = 5
# The Citations page's own widget keys: this page hands a search over to it through them.
CITATIONS_PAGE = "Citations"
PAGE_KEY = "page"
CITATIONS_TEXT_KEY = "filter_text"


def emerging_page(context) -> None:
    """The ranked candidates as of a chosen year, then the top ones in detail."""
    st.title("Emerging causes")
    method = emerging.Method()
    st.caption(
        f"Candidates are MeSH headings, chemicals, author keywords and noun phrases of the fibromyalgia articles "
        f"(retracted ones left out) that no configured cause covers. A candidate is **emerging** when its share of "
        f"each year's fibromyalgia articles rose in the last {method.recent_years} years against the "
        f"{method.before_years} before (rate ratio ≥ {method.min_rate_ratio}, exact test, Benjamini-Hochberg "
        f"q < {method.max_q}) and it is bursting (Kleinberg) in the latest year or trending up (Mann-Kendall).")
    # The page script reads the clock once per rerun (screens.render's `now`); this page passes its year down.
    current_year = context.now.year
    earliest, _latest = loaders.load_year_span(context.state)
    first_year = max(earliest if earliest is not None else current_year - 1, emerging.EARLIEST_AS_OF)
    columns = st.columns(3)
    as_of = columns[0].selectbox("As of the end of", list(range(current_year - 1, min(first_year, current_year - 1) - 1, -1)),
                                 key="emerging_as_of",
                                 help="Only articles that had entered PubMed by the end of that year count.")
    min_articles = columns[1].number_input("Minimum articles", min_value=1, value=method.min_articles, step=1,
                                           key="emerging_min_articles",
                                           help="Candidates mentioned in fewer fibromyalgia articles are not tested.")
    only_emerging = columns[2].checkbox("Only emerging candidates", value=True, key="emerging_only")
    result = loaders.load_emerging(context.state, context.hypotheses, int(as_of), current_year, int(min_articles))
    ranked = result.ranked
    flagged = ranked[ranked["emerging"]]
    metrics = st.columns(2)
    metrics[0].metric("Candidates tested", f"{len(ranked):,}")
    metrics[1].metric("Emerging", f"{len(flagged):,}")
    shown = flagged if only_emerging else ranked
    if shown.empty:
        # A plain line, not an alert: an empty result is an answer, not a problem.
        st.markdown("No candidate is emerging as of this year; untick “Only emerging candidates” to see them all, or "
                "lower the minimum articles." if only_emerging and len(ranked) else
                "No candidate is mentioned in enough fibromyalgia articles; lower the minimum articles.")
        return
    st.dataframe(table_frame(shown.head(TABLE_ROWS)), hide_index=True, placeholder=labels.MISSING_CELL,
                 width="stretch",
                 column_config={"Share recent": st.column_config.NumberColumn(format="percent"),
                                "Share before": st.column_config.NumberColumn(format="percent"),
                                "First flagged": st.column_config.NumberColumn(format="%d")})
    if len(shown) > TABLE_ROWS:
        st.caption(runnable(f"The first {TABLE_ROWS} of {len(shown):,}; `tracker emerging --top N` lists more."))
    st.subheader(f"The top {min(DETAILED_COUNT, len(shown))} in detail")
    for _, row in shown.head(DETAILED_COUNT).iterrows():
        _draw_candidate(row, result.yearly, context, int(as_of))


def table_frame(ranked: pd.DataFrame) -> pd.DataFrame:
    """The ranked rows as the table shows them."""
    return pd.DataFrame({
        "Rank": ranked["rank"].to_numpy(),
        "Term": ranked["term"].to_numpy(dtype=object),
        # The other names of the same idea (candidates that share its articles), merged into this row.
        "Also named": ["; ".join(terms) for terms in ranked["idea_terms"]],
        "Found in": ranked["kind"].to_numpy(dtype=object),
        "Articles": ranked["articles"].to_numpy(),
        "Share recent": ranked["share_recent"].to_numpy(),
        "Share before": ranked["share_before"].to_numpy(),
        "Rate ratio": [_ratio_text(value) for value in ranked["rate_ratio"]],
        "q": [f"{value:.2g}" for value in ranked["q_value"]],
        "Trend": ranked["trend"].to_numpy(dtype=object),
        "Burst years": [emerging.year_ranges(years) or "–" for years in ranked["burst_years"]],
        "First flagged": ranked["first_flagged_year"].to_numpy(dtype="float64"),
        "Emerging": ranked["emerging"].to_numpy(dtype=bool),
    })


def _ratio_text(value: float) -> str:
    return "new" if value == float("inf") else "–" if value != value else f"{value:.2f}"


def share_chart(yearly: pd.DataFrame) -> alt.LayerChart:
    """A candidate's share of each year's fibromyalgia articles, its burst years shaded behind the bars."""
    data = yearly.assign(percent=yearly["share"].fillna(0.0) * 100)
    x = alt.X("year:O", title="Publication year", sort="ascending", axis=alt.Axis(labelAngle=0))
    bursts = alt.Chart(data[data["bursting"]]).mark_rect(color="#f4a261", opacity=0.35).encode(
        x=x, tooltip=[alt.Tooltip("year:O", title="Burst year")])
    bars = alt.Chart(data).mark_bar(color="#2a6f97").encode(
        x=x,
        y=alt.Y("percent:Q", title="% of the year's articles"),
        tooltip=["year:O", alt.Tooltip("articles:Q", title="Articles"),
                 alt.Tooltip("baseline_articles:Q", title="Fibromyalgia articles"),
                 alt.Tooltip("percent:Q", title="%", format=".2f")])
    return alt.layer(bursts, bars).properties(height=240)


def _draw_candidate(row: pd.Series, yearly: pd.DataFrame, context, as_of: int) -> None:
    st.markdown(f"#### {int(row['rank'])}. {markup.escape_text(str(row['term']))}", unsafe_allow_html=True)
    if row["idea_terms"]:
        st.caption("Also named: " + "; ".join(markup.escape_text(str(term)) for term in row["idea_terms"])
                   + " (the articles mostly coincide: one idea, one row)", unsafe_allow_html=True)
    st.caption(
        f"Found in: {row['kind']} · {int(row['articles']):,} {plural(int(row['articles']), 'article')} · share {row['share_recent']:.1%} in the last "
        f"3 years against {row['share_before']:.1%} before (rate ratio {_ratio_text(row['rate_ratio'])}, "
        f"q = {row['q_value']:.2g}) · trend {row['trend']} · burst years "
        f"{emerging.year_ranges(row['burst_years']) or 'none'}"
        + ("" if pd.isna(row["first_flagged_year"]) else f" · first flagged {int(row['first_flagged_year'])}"))
    rows = yearly[yearly["key"] == row["key"]]
    if len(rows):
        st.altair_chart(share_chart(rows), width="stretch")
    links = ", ".join(f"[{pmid}]({markup.article_url(pmid, context.demo)})" for pmid in row["example_pmids"])
    st.markdown(f"Newest articles: {links}" if links else "No article to show.")
    search_text = row["key"]
    if "phrase" in row["kind"]:
        st.button("Show its articles on the Citations page", key=f"emerging_show_{row['key']}",
                  on_click=_show_in_citations, args=(search_text,),
                  help=f"Opens Citations searching the text for “{search_text}”. Other spellings "
                       f"({', '.join(row['variants'][1:]) or 'none seen'}) and articles that carry it only in "
                       "their MeSH headings or keywords are not found by that search; the other filters stay as "
                       "you left them.")
    else:
        st.caption("Found in MeSH headings or keywords only, which the Citations search does not read: the "
                   "newest articles are linked above.")
    with st.expander("Add as a cause"):
        st.caption(runnable(f"Paste this into {context.settings.hypotheses_path}, write the description, then run "
                            "`tracker fetch`."))
        st.code(emerging.hypothesis_toml(row, context.hypotheses, as_of), language="toml")


def _show_in_citations(text: str) -> None:
    """Switch to the Citations page searching for `text` (a callback runs before the next rerun draws widgets)."""
    st.session_state[PAGE_KEY] = CITATIONS_PAGE
    st.session_state[CITATIONS_TEXT_KEY] = text
