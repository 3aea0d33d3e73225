"""The Fetch status page: recent runs, the latest run per cause, sync state, the schedule."""

from __future__ import annotations

import streamlit as st

from dashboard import loaders, views
from dashboard.context import Context
from tracker.wording import runnable


def status_page(context: Context) -> None:
    """Recent runs with outcome and errors, the latest run per cause, sync state, and the schedule."""
    st.title("Fetch status")
    runs = loaders.load_runs(context.state)
    if runs.empty:
        st.info(runnable("No fetch has run yet: run `tracker fetch`."))
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
