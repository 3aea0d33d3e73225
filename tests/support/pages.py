"""Running the dashboard's page script in AppTest the way a browser runs it."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from dashboard.deferred import WATCH_ELEMENT, drawn_key


def run_as_browser(app: AppTest) -> AppTest:
    """Run the script, and once more if the page waits for its first chart to be drawn (dashboard/deferred.py):
    a browser reruns it then, and AppTest runs no JavaScript."""
    app.run()
    if app.get(WATCH_ELEMENT):
        app.run()
    return app


def whole_pages(app: AppTest) -> AppTest:
    """Have the Overview drawn whole in each run, as a browser has it after its first visit: a bench then times
    what the server computes for the page (in the browser, the first run and the rerun of the part below the first
    chart), not the part above twice."""
    app.session_state[drawn_key("overview")] = True
    return app


def evidence_table(app: AppTest) -> str:
    """The evidence table's HTML, as `views.draw_verdict_table` drew it."""
    return next(element.proto.body for element in app.get("html")
                if '<table class="evidence-table">' in element.proto.body)
