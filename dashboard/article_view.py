"""The article view the Citations and Cause pages share: the article a clicked row or a link chose, drawn with its
review controls."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import streamlit as st

from dashboard import loaders, reviewing, views
from dashboard.context import Context
from tracker import store


def selected_rows(event: object) -> list[int]:
    """The rows of a table that its selection event says were clicked (none for no event)."""
    selection = event.get("selection") if isinstance(event, Mapping) else getattr(event, "selection", None)
    rows = selection.get("rows") if isinstance(selection, Mapping) else getattr(selection, "rows", None)
    return list(rows or [])


def draw_selected_article(context: Context, shown: pd.DataFrame, event: object, linked_pmid: int | None,
                           table_key: str = "citations_table") -> None:
    """The article of the row clicked last, else the one a link named, else a hint."""
    rows = selected_rows(event)
    if linked_pmid is not None and rows == st.session_state.get("_rows_at_link", {}).get(table_key, []):
        rows = []  # no click since the link was followed
    article_rows = None
    if rows and rows[0] < len(shown):
        article_rows = shown.iloc[[rows[0]]]
    elif linked_pmid is not None:
        linked_rows = loaders.load_rows_of(context.state, (int(linked_pmid),))
        if len(linked_rows):
            article_rows = linked_rows
    if article_rows is None:
        if len(shown):
            st.info("Click a row of the table to read the article here.", icon=":material/touch_app:")
        return
    st.divider()
    pmid = int(article_rows["pmid"].iloc[0])
    article = store.decode_details(article_rows).iloc[0].copy()
    article["revised_date"] = loaders.load_revised_date(context.state, pmid)
    stances = loaders.load_article_stances(context.state, pmid)
    views.draw_article(article, context.hypotheses, stances, reviewing.article_controls(context, article, stances),
                       demo=context.demo)
