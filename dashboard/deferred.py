"""The part of a page below its first chart, sent once the browser has drawn that chart.

Streamlit sends each element as the script makes it, and on a returning visit (the caches filled) the whole
Overview reaches the browser within a tenth of a second: the browser then lays out, styles and draws all of it,
and loads the front-end modules of every kind of element on it, before the first chart shows. So on the first
run of the part below, it waits: a few lines of JavaScript, run in the page itself (no frame, nothing loaded from
anywhere), watch for the first chart to be painted and then rerun the fragment that holds that part. Every later
run draws it at once.
"""

from __future__ import annotations

import streamlit as st

# The component's type, as AppTest names it: what a test looks for to see a page waiting for its first chart.
WATCH_ELEMENT = "bidi_component"
# At most this long: a chart that never draws (an error, a browser without SVG) cannot keep the rest away.
LIMIT_MS = 3_000
_WATCH_JS = """
export default function ({ data, setTriggerValue }) {
  const started = performance.now();
  let sent = false;
  const send = () => { if (!sent) { sent = true; setTriggerValue("drawn", true); } };
  const drawn = () => {
    const chart = document.querySelector(
      "[data-testid='stVegaLiteChart'] svg, [data-testid='stVegaLiteChart'] canvas");
    const box = chart && chart.getBoundingClientRect();
    return Boolean(box && box.width > 0 && box.height > 0);
  };
  const watch = () => {
    if (performance.now() - started > data.limit_ms) {
      send();
    } else if (drawn()) {
      // Two frames on, the chart has been painted; a hidden tab runs no frames, hence the timer beside them.
      requestAnimationFrame(() => requestAnimationFrame(send));
      setTimeout(send, 250);
    } else {
      setTimeout(watch, 20);
    }
  };
  watch();
}
"""


def drawn_key(name: str) -> str:
    """The session state's key that says the part below the first chart of page `name` has been asked for."""
    return f"_below_first_chart_{name}"


def below_first_chart(name: str, chart_above: bool) -> bool:
    """Whether this run draws the part of the page below its first chart: called first thing in the fragment that
    draws it. False on its first run when a chart is above (the browser is asked to rerun the fragment once that
    chart is painted); True on every other run."""
    state_key = drawn_key(name)
    waited = st.session_state.get(state_key, False)
    st.session_state[state_key] = True
    if waited or not chart_above:
        return True
    # Registered where it is used, not at import (no Streamlit runtime there); the same definition again is a no-op.
    watch = st.components.v2.component("tracker_first_chart_drawn", js=_WATCH_JS)
    watch(key=f"{state_key}_watch", data={"limit_ms": LIMIT_MS},
          on_drawn_change=lambda: None, height=0)
    return False
