"""Running the dashboard's page script in AppTest the way a browser runs it."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from dashboard.deferred import WATCH_ELEMENT


def run_as_browser(app: AppTest) -> AppTest:
    """Run the script, and once more if the page waits for its first chart to be drawn (dashboard/deferred.py):
    a browser reruns it then, and AppTest runs no JavaScript."""
    app.run()
    if app.get(WATCH_ELEMENT):
        app.run()
    return app
