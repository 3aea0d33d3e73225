"""The dashboard's charts: Vega-Lite specs built once per shape, drawn from the frames the loaders give."""

from __future__ import annotations

import functools
import json
import textwrap
from collections.abc import Mapping, Sequence

import altair as alt
import pandas as pd
import streamlit as st

from dashboard.labels import LEVEL_COLOURS, STANCE_COLOURS, STANCE_LABELS_SHOWN
from tracker.vocabulary import DESIGN_LABELS, DESIGNS


def breakdown_chart(counts: pd.Series, labels: Mapping[str, str], title: str) -> alt.Chart:
    """Horizontal bars of article counts, in the order of `counts` (the tagging module's order), not A to Z."""
    data = pd.DataFrame({"category": [labels.get(key, key) for key in counts.index], "articles": counts.to_numpy()})
    return alt.Chart(data).mark_bar().encode(
        x=alt.X("articles:Q", title="Articles"),
        y=alt.Y("category:N", title=title, sort=list(data["category"]), axis=alt.Axis(labelLimit=0)),
        tooltip=[alt.Tooltip("category", title=title), alt.Tooltip("articles", title="Articles")],
    )


def _colour_scale(by: str) -> alt.Scale:
    colours = STANCE_COLOURS if by == "stance" else LEVEL_COLOURS
    return alt.Scale(domain=list(colours), range=list(colours.values()))


def draw_stacked_bars(data: pd.DataFrame, by: str, y_title: str, *, facet: bool, shared_scale: bool = True) -> None:
    """Bars per publication year stacked by stance or evidence level; one small chart per cause when `facet`.

    `data` is `loaders.load_stacked_chart_data`'s frame. A bar with a caveat (the partial current year; a
    per-1,000 value from a small baseline) is drawn faint, and its tooltip says why.
    """
    spec = _stacked_bars_spec(by, y_title, facet, shared_scale, int(data["year"].min()), int(data["year"].max()),
                              tuple(dict.fromkeys(data["cause"])))
    # The axis and the small charts are set from every row above; a bar segment of height 0 draws nothing and
    # cannot be pointed at, so it is not sent (four rows in five of a store's grid of causes × years × stances).
    drawn = data[data["value"] != 0].reset_index(drop=True)
    st.vega_lite_chart(spec={**spec, "datasets": {"data": _dictionary_encoded(drawn)}}, width="stretch")


def _dictionary_encoded(data: pd.DataFrame) -> pd.DataFrame:
    """The frame with its text columns as categories: Arrow sends each distinct label once (a cause's name and a
    stance's label repeat on every bar), which cut the Overview's first chart from 220 kB to 85 kB."""
    texts = [name for name in data.columns if data[name].dtype == object]
    return data.astype({name: "category" for name in texts})


# Validating a spec against Vega-Lite's schema takes longer than building it; the tests validate every shape
# (they set this to True), the dashboard trusts them.
SPEC_VALIDATION = False


# Chart specs are cached without their data: building and validating an Altair chart costs more than a rerun's
# every other step together, and only a few shapes are ever drawn.
@functools.lru_cache(maxsize=64)
def _stacked_bars_spec(by: str, y_title: str, facet: bool, shared_scale: bool, first: int, last: int,
                       causes: tuple[str, ...], columns: int = 2) -> dict:
    legend_title = "Stance" if by == "stance" else "Evidence level"
    base = alt.Chart(alt.NamedData(name="data")).mark_bar().encode(
        # Quantitative years on one shared domain: every small chart has the same time axis.
        x=alt.X("year:Q", title=None, scale=alt.Scale(domain=[first - 0.5, last + 0.5], nice=False),
                axis=alt.Axis(format="d", tickMinStep=1, labelOverlap=True)),
        # One row per bar segment already: no aggregate for Vega to compute.
        # A small chart is 150 px tall: a longer title would run down into the next row, so it wraps.
        y=alt.Y("value:Q", title=wrap_label(y_title, AXIS_TITLE_CHARACTERS) if facet else y_title, stack="zero"),
        # Above the small charts, two columns of labels fit a window 1,024 px wide; beside one half-width chart
        # the stance labels fit two abreast, the long evidence-level labels only one.
        color=alt.Color("group:N", title=legend_title, scale=_colour_scale(by),
                        legend=alt.Legend(orient="top", labelLimit=0,
                                          columns=2 if facet or by == "stance" else 1)),
        order=alt.Order("group_rank:Q"),
        opacity=alt.condition(alt.datum.caveat == "", alt.value(1.0), alt.value(0.4)),
        tooltip=[alt.Tooltip("cause:N", title="Cause"), alt.Tooltip("year:Q", title="Year", format="d"),
                 alt.Tooltip("group:N", title=legend_title), alt.Tooltip("value:Q", title=y_title, format=",.1f"),
                 alt.Tooltip("articles:Q", title="Articles", format=","),
                 alt.Tooltip("baseline:Q", title="Fibromyalgia articles that year", format=","),
                 alt.Tooltip("caveat:N", title="Note")],
    # 210 px a small chart, two abreast: they fit beside the sidebar in a window 1,024 px wide.
    ).properties(height=150 if facet else 300, **({"width": 210} if facet else {}))
    if not facet:
        return base.to_dict(validate=SPEC_VALIDATION)
    return base.facet(
        facet=alt.Facet("cause:N", title=None, sort=list(causes),
                        # A long cause name wraps onto a second line: unwrapped, it widens its column and pushes the third
        # column of charts off the page.
        header=alt.Header(labelLimit=0, labelFontSize=13, labelFontWeight="bold", labelAnchor="start",
                          labelExpr=_wrapped_labels_expression(causes))),
        columns=columns,
    ).resolve_scale(y="shared" if shared_scale else "independent").to_dict(validate=SPEC_VALIDATION)


FACET_LABEL_CHARACTERS = 28  # what fits above a 210 px small chart in 13 px bold
AXIS_TITLE_CHARACTERS = 22  # a line of a small chart's axis title: two lines fit its 150 px height
DESIGN_LABEL_CHARACTERS = 22  # a line of a study design's name over a column of the heat map
CAUSE_LABEL_CHARACTERS = 24  # a line of a cause's name beside a row of the heat map
ROW_STEP_PX = 36  # a row beside a cause's name of up to three lines


def wrap_label(label: str, width: int = FACET_LABEL_CHARACTERS) -> list[str]:
    """A label as the lines of at most `width` characters it wraps onto, broken at spaces."""
    return textwrap.wrap(label, width, break_long_words=False) or [label]


def _wrapped_labels_expression(labels: Sequence[str], width: int = FACET_LABEL_CHARACTERS) -> str:
    """A Vega expression that gives each long label as its lines (a Vega text mark draws a list as lines).

    It compares `datum.value`, the raw field: Vega-Lite pastes its formatting expression, an unbracketed
    conditional, in place of `datum.label`, which would swallow the comparison."""
    expression = "datum.label"
    for label in labels:
        lines = wrap_label(label, width)
        if len(lines) > 1:
            expression = f"datum.value === {json.dumps(label)} ? {json.dumps(lines)} : {expression}"
    return expression


def draw_design_heatmap(matrix: pd.DataFrame, summary: pd.DataFrame) -> None:
    """Causes × study designs, each cell the articles of that design, with each cause's share of high-level
    evidence (meta-analyses, systematic reviews, RCTs) as a last column."""
    share = pd.DataFrame({"cause": summary["label"].to_numpy(), "share": summary["high_level_share"].to_numpy(),
                          "high_level": summary["high_level"].to_numpy(), "articles": summary["articles"].to_numpy()})
    spec = _design_heatmap_spec(tuple(summary["label"]))
    st.vega_lite_chart(spec={**spec, "datasets": {"matrix": matrix, "share": share}})


@functools.lru_cache(maxsize=8)
def _design_heatmap_spec(cause_order: tuple[str, ...]) -> dict:
    cause_order = list(cause_order)
    design_order = [DESIGN_LABELS[d] for d in DESIGNS]
    heat = alt.Chart(alt.NamedData(name="matrix")).encode(
        x=alt.X("design:N", sort=design_order, title=None,
                # Every design named: slanted labels do not touch, but their boxes do, and Vega's overlap rule
                # would hide two in three.
                # and a long design name on two lines, as one slanted line would run out of the chart's top.
                axis=alt.Axis(labelAngle=-90, labelLimit=0, labelOverlap=False, orient="top",
                              labelExpr=_wrapped_labels_expression(design_order, DESIGN_LABEL_CHARACTERS))),
        # Long cause names on two or three lines: on one they would push the map past a 1,024 px window.
        y=alt.Y("cause:N", sort=cause_order, title=None, axis=alt.Axis(
            labelLimit=0, labelOverlap=False,
            labelExpr=_wrapped_labels_expression(cause_order, CAUSE_LABEL_CHARACTERS))),
    )
    cells = heat.mark_rect().encode(
        color=alt.Color("share:Q", title="Share of the cause's articles", scale=alt.Scale(scheme="blues"),
                        legend=alt.Legend(format=".0%", orient="bottom")),
        tooltip=[alt.Tooltip("cause:N", title="Cause"), alt.Tooltip("design:N", title="Design"),
                 alt.Tooltip("articles:Q", title="Articles", format=","),
                 alt.Tooltip("share:Q", title="Share of the cause", format=".0%")],
    )
    labels = heat.mark_text(fontSize=10).encode(
        text=alt.Text("articles:Q", format=","),
        color=alt.condition(alt.datum.share > 0.35, alt.value("white"), alt.value("black")),
    )
    share_column = alt.Chart(alt.NamedData(name="share")).mark_text(fontWeight="bold").encode(
        y=alt.Y("cause:N", sort=cause_order, title=None, axis=None),
        text=alt.Text("share:Q", format=".0%"),
        tooltip=[alt.Tooltip("cause:N", title="Cause"),
                 alt.Tooltip("high_level:Q", title="Meta-analyses, systematic reviews, RCTs", format=","),
                 alt.Tooltip("articles:Q", title="All articles", format=","),
                 alt.Tooltip("share:Q", title="High-level share", format=".0%")],
    ).properties(width=50, title=alt.TitleParams("High-level", fontSize=11, anchor="middle"))
    # 30 px a column: with the cause names and the share column, the map fits beside the sidebar in a window
    # 1,024 px wide.
    return alt.hconcat((cells + labels).properties(width=alt.Step(30), height=alt.Step(ROW_STEP_PX)),
                       share_column.properties(height=alt.Step(ROW_STEP_PX)),
                       spacing=4).to_dict(validate=SPEC_VALIDATION)


def high_level_balance_chart(balance: pd.DataFrame) -> alt.Chart:
    """Per cause, the stances of its high-level articles as shares of one bar; `balance` has cause, group,
    group_rank, articles."""
    causes = list(dict.fromkeys(balance["cause"]))
    # Short titles, wrapped names and a legend in two columns: the chart fits a window 1,024 px wide.
    return alt.Chart(balance).mark_bar().encode(
        x=alt.X("articles:Q", stack="normalize", title=["Share of the cause's", "high-level articles"],
                axis=alt.Axis(format="%")),
        y=alt.Y("cause:N", title=None, sort=causes, axis=alt.Axis(
            labelLimit=0, labelOverlap=False, labelExpr=_wrapped_labels_expression(causes, CAUSE_LABEL_CHARACTERS))),
        color=alt.Color("group:N", title="Stance", scale=_colour_scale("stance"),
                        legend=alt.Legend(orient="top", columns=2)),
        order=alt.Order("group_rank:Q"),
        tooltip=[alt.Tooltip("cause:N", title="Cause"), alt.Tooltip("group:N", title="Stance"),
                 alt.Tooltip("articles:Q", title="Articles", format=",")],
    ).properties(height=alt.Step(ROW_STEP_PX))


def draw_how_to_read(text: str) -> None:
    """A short note under a chart that says, in a reader's words, what it shows and what to be careful of."""
    st.caption(f"**How to read this.** {text}")


def draw_share_over_time(periods: pd.DataFrame) -> None:
    """One cause's findings per period, counted (stacked by stance) beside support's share of them with its 95%
    interval: `evidence.share_by_period` rows of one cause."""
    counts = periods.melt(id_vars=["period"], value_vars=list(STANCE_LABELS_SHOWN), var_name="stance",
                          value_name="count")
    counts["group"] = counts["stance"].map(STANCE_LABELS_SHOWN)
    counts["rank"] = counts["stance"].map(list(STANCE_LABELS_SHOWN).index)
    shares = periods[["period", "share", "share_low", "share_high", "findings"]].reset_index(drop=True)
    spec = _share_over_time_spec(tuple(periods["period"]))
    st.vega_lite_chart(spec={**spec, "datasets": {"counts": counts.drop(columns="stance"), "shares": shares}},
                       width="content")


@functools.lru_cache(maxsize=16)
def _share_over_time_spec(order: tuple[str, ...]) -> dict:
    order = list(order)
    bars = alt.Chart(alt.NamedData(name="counts")).mark_bar().encode(
        x=alt.X("period:N", sort=order, title=None, axis=alt.Axis(labelAngle=0)),
        y=alt.Y("count:Q", title="Findings", stack="zero", axis=alt.Axis(tickMinStep=1, format="d")),
        color=alt.Color("group:N", title=None, scale=alt.Scale(
            domain=list(STANCE_LABELS_SHOWN.values()),
            range=[STANCE_COLOURS[label] for label in STANCE_LABELS_SHOWN.values()]),
            legend=alt.Legend(orient="top")),
        order=alt.Order("rank:Q"),
        tooltip=[alt.Tooltip("period:N", title="Period"), alt.Tooltip("group:N", title="Finding"),
                 alt.Tooltip("count:Q", title="Findings", format=",")],
    ).properties(title="Findings per period", width=190, height=180)
    base = alt.Chart(alt.NamedData(name="shares")).encode(
        x=alt.X("period:N", sort=order, title=None, axis=alt.Axis(labelAngle=0)))
    tooltip = [alt.Tooltip("period:N", title="Period"), alt.Tooltip("share:Q", title="Supporting", format=".0%"),
               alt.Tooltip("share_low:Q", title="95% interval from", format=".0%"),
               alt.Tooltip("share_high:Q", title="to", format=".0%"),
               alt.Tooltip("findings:Q", title="Findings", format=",")]
    interval = base.mark_rule(strokeWidth=2, color="#1b9e77").encode(
        y=alt.Y("share_low:Q", title="Share supporting", scale=alt.Scale(domain=[0, 1]),
                axis=alt.Axis(format="%")), y2="share_high:Q", tooltip=tooltip)
    points = base.mark_point(filled=True, size=60, color="#1b9e77").encode(y="share:Q", tooltip=tooltip)
    half = alt.Chart(alt.InlineData(values=[{"y": 0.5}])).mark_rule(strokeDash=[4, 4], color="#888").encode(
        y="y:Q")
    shares = (interval + points + half).properties(title="Share supporting, 95% interval", width=190, height=180)
    return alt.hconcat(bars, shares).resolve_scale(color="independent").to_dict(validate=SPEC_VALIDATION)
