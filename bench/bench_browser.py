"""Time what a reader waits for in a real browser: from navigation to the first chart drawn, cold and warm.

AppTest times the page script only; the browser also pays for the web socket, the front end and Vega's drawing.
`tracker dashboard` serves a seeded store (15,000 articles by default) to Debian's headless Chromium (never a
downloaded browser):
- cold: the first visit after the server started (every cache empty: the store is read);
- warm: a new tab after that (a new session, the server's caches filled, the browser's HTTP cache holding
  Streamlit's scripts, as on a reader's second visit), the median of several.

Targets: warm < 2 s at 15,000 articles (issue 11), and within 1.3× of the baseline (issue 18). The baseline is the
same browser and Streamlit serving a trivial page with one small chart: the floor, what Streamlit's front end
costs before any chart. Its visits and the dashboard's alternate, one of each in turn, so a machine that grows
busier or quieter during the run weighs on both alike; the ratio judged is the median of the pairs' ratios.
The chart is looked for on every frame the page draws (not at Playwright's default steps, every 500 ms after
0.27 s, which made the wall time a step of those). Besides the wall time, each visit reports the page's
main-thread task time (what the browser computed: read just after the chart is found), the bytes the web socket
brought until then, and the page's own clock at the first frame with the chart drawn.

    .venv/bin/python bench/bench_browser.py
    .venv/bin/python bench/bench_browser.py --articles 15000 --repeats 9
    .venv/bin/python bench/bench_browser.py --parts   # and what the Overview's top costs, piece by piece

The seeded store is bench/out/dashboard-N.sqlite, shared with bench_dashboard.py.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(PROJECT_DIR), str(PROJECT_DIR / "bench"), str(PROJECT_DIR / "tests")]

from bench_dashboard import seeded_store  # noqa: E402
from support.browser import (CHROMIUM_ARGS, CHROMIUM_PATH, free_port, is_local, stop_server,  # noqa: E402
                             tracker_environment, wait_for_health)

WARM_TARGET_S = 2.0
BASELINE_TARGET = 1.3
CHART = "[data-testid='stVegaLiteChart'] canvas, [data-testid='stVegaLiteChart'] svg"
TIMEOUT_MS = 120_000
# Nothing leaves the machine: every request but loopback's goes to a proxy that is not there, so it fails at once
# and cannot hide in the timing. Not Playwright's request routing, which turns the browser's HTTP cache off: a warm
# visit would then fetch and compile Streamlit's scripts again, which no reader's second visit does.
NO_OUTSIDE_ARGS = ["--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=127.0.0.1"]
TRIVIAL_CHART = """
st.altair_chart(alt.Chart(pd.DataFrame({"x": range(10), "y": range(10)})).mark_bar().encode(x="x:O", y="y:Q"))
"""
BASELINE_SCRIPT = """
import altair as alt
import pandas as pd
import streamlit as st
st.set_page_config(page_icon="📚")
st.title("Baseline")
""" + TRIVIAL_CHART


def start_server(command: list[str], port_option: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    server = subprocess.Popen([*command, port_option, str(port)],
                              cwd=PROJECT_DIR, env=tracker_environment(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              text=True, start_new_session=True)
    wait_for_health(port, server)
    return server, f"http://127.0.0.1:{port}/"


# The page's own clock, read on every frame from the navigation's start, says when the chart was first drawn.
FIRST_FRAME_SCRIPT = """
(() => {
  const look = () => {
    const chart = document.querySelector(%s);
    const box = chart && chart.getBoundingClientRect();
    if (box && box.width > 0 && box.height > 0) { window.firstChartFrameMs = performance.now(); return; }
    requestAnimationFrame(look);
  };
  requestAnimationFrame(look);
})();
""" % repr(CHART)


class Visit(NamedTuple):
    """One navigation to the first chart visible: wall time, and what the browser did meanwhile."""

    seconds: float
    cpu_s: float  # the page's main-thread task time (Chrome's TaskDuration): script, style, layout, paint
    received_kb: float  # what the web socket brought (Streamlit's messages) until then
    frame_s: float  # the page's own clock: navigation start to the first frame with the chart drawn
    outside: int  # requests for anything outside the machine (refused)


def time_first_chart(context, url: str) -> Visit:
    """Navigate in a new tab and wait for the first frame with a chart's canvas or SVG drawn.

    The wall time swings with the machine's load; the main thread's task time much less, so it shows what the
    page itself costs the browser against the baseline's.
    """
    page = context.new_page()
    received: list[int] = []
    outside: list[str] = []
    page.on("request", lambda request: None if is_local(request.url) else outside.append(request.url))
    page.on("websocket", lambda socket: socket.on("framereceived", lambda payload: received.append(len(payload))))
    devtools = context.new_cdp_session(page)
    devtools.send("Performance.enable")
    try:
        started = time.perf_counter()
        page.goto(url)
        page.wait_for_function("window.firstChartFrameMs !== undefined", polling="raf", timeout=TIMEOUT_MS)
        seconds = time.perf_counter() - started
        metrics = {metric["name"]: metric["value"] for metric in devtools.send("Performance.getMetrics")["metrics"]}
        frame_s = page.evaluate("window.firstChartFrameMs") / 1000
        return Visit(seconds, metrics["TaskDuration"], sum(received) / 1000, frame_s, len(outside))
    finally:
        devtools.detach()
        page.close()


class Site(NamedTuple):
    """A server and the browser profile that visits it."""

    server: subprocess.Popen
    url: str
    context: object


@contextlib.contextmanager
def serving(browser, command: list[str], port_option: str) -> Iterator[Site]:
    """A fresh server, and a fresh browser profile (its own HTTP cache) for its visits."""
    server, url = start_server(command, port_option)
    try:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        context.add_init_script(FIRST_FRAME_SCRIPT)
        try:
            yield Site(server, url, context)
        finally:
            context.close()
    finally:
        stop_server(server)


# --parts: the Overview's top as static Streamlit pages that only draw (no store read, no server work), each adding
# one piece to the page before it. The widgets' choices, the headline's figures, the evidence table's HTML and the
# first chart's spec and rows are the dashboard's own, taken from its first run (AppTest) on the same store; the
# kinds of elements are copied from dashboard/pages/overview.py and dashboard/screens.py by hand.
PART_PREAMBLE = """
import json, pathlib
import altair as alt, pandas as pd, pyarrow as pa, streamlit as st
pieces = json.loads((pathlib.Path(__file__).parent / "pieces.json").read_text())
st.set_page_config(page_icon="📚", layout="wide")
"""
PART_SIDEBAR = """
st.sidebar.title("Fibromyalgia evidence")
st.sidebar.radio("Page", pieces["pages"])
st.sidebar.checkbox("Include retracted articles", help=pieces["retracted_help"])
st.sidebar.caption("Store: " + pieces["store"])
"""
PART_HEADLINE = """
st.title(pieces["title"])
for column, (label, value, help) in zip(st.columns(3), pieces["metrics"]):
    column.metric(label, value, help=help or None)
    column.caption(pieces["metric_caption"])
st.caption(pieces["totals"])
"""
PART_EVIDENCE = """
st.subheader("What the evidence says")
controls = st.columns([3, 3])
controls[0].radio("Findings counted", pieces["scopes"], horizontal=True, help=pieces["scope_help"])
controls[1].pills("Sort by", pieces["sorts"], default=pieces["sorts"][0], required=True, wrap=True,
                  help=pieces["sort_help"])
st.markdown("**Shown: " + pieces["scopes"][0] + ".**")
st.html(pieces["table"])
st.caption("**How to read this.** " + pieces["totals"])
st.markdown("**Is the evidence getting stronger?**")
st.pills("Cause", pieces["causes"], default=pieces["causes"][0], required=True)
"""
PART_FIRST_CHART = """
st.vega_lite_chart(spec={**json.loads(pieces["chart"]), "datasets": {
    name: pa.ipc.open_stream(bytes.fromhex(rows)).read_pandas() for name, rows in pieces["chart_rows"].items()}},
    width="content")
"""
PARTS = {
    "the trivial page with the sidebar": PART_SIDEBAR + TRIVIAL_CHART,
    "  + the headline": PART_SIDEBAR + PART_HEADLINE + TRIVIAL_CHART,
    "  + the evidence section, widgets and table": PART_SIDEBAR + PART_HEADLINE + PART_EVIDENCE + TRIVIAL_CHART,
    "  + the real first chart for the trivial one": PART_SIDEBAR + PART_HEADLINE + PART_EVIDENCE + PART_FIRST_CHART,
    "the real first chart alone": PART_FIRST_CHART,
}


def write_parts(db_path: Path, folder: Path) -> list[Path]:
    """The static pages of PARTS in `folder`, with the pieces they draw taken from the dashboard's first run."""
    from streamlit.testing.v1 import AppTest

    os.environ["TRACKER_DB"] = str(db_path)
    try:
        app = AppTest.from_file(str(PROJECT_DIR / "dashboard" / "app.py"), default_timeout=120).run()
    finally:
        del os.environ["TRACKER_DB"]
    chart = app.get("vega_lite_chart")[0].proto
    pieces = {
        "pages": app.sidebar.radio(key="page").options, "store": str(db_path),
        "retracted_help": app.sidebar.checkbox(key="include_retracted").help,
        "title": app.main.title[0].value, "metric_caption": app.caption[0].value, "totals": app.caption[-1].value,
        "metrics": [(metric.label, metric.value, metric.help) for metric in app.metric],
        "scopes": app.get_by_key("evidence_scope").options, "scope_help": app.get_by_key("evidence_scope").help,
        "sorts": app.get_by_key("verdict_sort").options, "sort_help": app.get_by_key("verdict_sort").help,
        "causes": app.get_by_key("share_cause").options,
        "table": next(html.proto.body for html in app.get("html") if "<table" in html.proto.body),
        "chart": chart.spec, "chart_rows": {data.name: data.data.data.hex() for data in chart.datasets},
    }
    (folder / "pieces.json").write_text(json.dumps(pieces), encoding="utf-8")
    paths = []
    for number, body in enumerate(PARTS.values()):
        paths.append(folder / f"part{number}.py")
        paths[-1].write_text(PART_PREAMBLE + body, encoding="utf-8")
    return paths


def measure(browser, commands: list[tuple[list[str], str]], repeats: int) -> tuple[list[Visit], list[list[Visit]]]:
    """Each server's cold visit, then `repeats` rounds of one warm visit to each in turn (the first, the
    baseline, always first; the others in the order given, then reversed, round after round)."""
    with contextlib.ExitStack() as stack:
        sites = [stack.enter_context(serving(browser, command, port_option)) for command, port_option in commands]
        cold = [time_first_chart(site.context, site.url) for site in sites]
        rounds = []
        for number in range(repeats):
            order = range(1, len(sites)) if number % 2 == 0 else range(len(sites) - 1, 0, -1)
            visits = {index: time_first_chart(sites[index].context, sites[index].url) for index in (0, *order)}
            rounds.append([visits[index] for index in range(len(sites))])
    return cold, rounds


def streamlit_command(script: Path) -> tuple[list[str], str]:
    return ([sys.executable, "-m", "streamlit", "run", str(script), "--server.headless", "true", "--server.address",
             "127.0.0.1", "--browser.gatherUsageStats", "false"], "--server.port")


def dashboard_command(db_path: Path) -> tuple[list[str], str]:
    return [sys.executable, "-m", "tracker", "dashboard", "--db", str(db_path)], "--port"


def paired(rounds: list[list[Visit]], index: int, field: str) -> float:
    """The median over the rounds of one page's figure ÷ the baseline's in the same round."""
    return statistics.median(getattr(visits[index], field) / getattr(visits[0], field) for visits in rounds)


def median(visits: list[Visit], field: str) -> float:
    return statistics.median(getattr(visit, field) for visit in visits)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=15_000)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--parts", action="store_true",
                        help="also time static copies of the Overview's top, one piece more each (see PARTS)")
    arguments = parser.parse_args()
    if not CHROMIUM_PATH.exists():
        raise SystemExit(f"{CHROMIUM_PATH} is not installed; apt-get install chromium")
    from playwright.sync_api import sync_playwright

    db_path = seeded_store(arguments.articles)
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
        baseline_path = Path(folder) / "baseline.py"
        baseline_path.write_text(BASELINE_SCRIPT, encoding="utf-8")
        commands = [streamlit_command(baseline_path), dashboard_command(db_path)]
        if arguments.parts:
            commands += [streamlit_command(path) for path in write_parts(db_path, Path(folder))]
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM_PATH),
                                             args=[*CHROMIUM_ARGS, *NO_OUTSIDE_ARGS])
        try:
            cold, rounds = measure(browser, commands, arguments.repeats)
        finally:
            browser.close()
    base_warm, warm = [visits[0] for visits in rounds], [visits[1] for visits in rounds]
    print(f"load average at the end: {', '.join(f'{load:.2f}' for load in os.getloadavg())}")
    print(f"baseline (trivial page, one chart): cold {cold[0].seconds:.2f} s, warm median "
          f"{median(base_warm, 'seconds'):.2f} s; main-thread task time warm {median(base_warm, 'cpu_s'):.2f} s, "
          f"{base_warm[0].received_kb:.0f} kB over the web socket")
    print(f"\n{arguments.articles:,} articles, navigation to the first chart visible; ÷baseline is the median of "
          f"{arguments.repeats} rounds' ratios, each round visiting the baseline and the dashboard in turn")
    print(f"  {'step':32} {'seconds':>8} {'target':>7} {'÷target':>8} {'÷baseline':>10}")
    print(f"  {'cold (first visit)':32} {cold[1].seconds:8.2f} {'-':>7} {'-':>8} "
          f"{cold[1].seconds / cold[0].seconds:10.2f}")
    warm_s, ratio = median(warm, "seconds"), paired(rounds, 1, "seconds")
    print(f"  {'warm (median of %d)' % arguments.repeats:32} {warm_s:8.2f} {WARM_TARGET_S:7.1f} "
          f"{warm_s / WARM_TARGET_S:8.2f} {ratio:10.2f}   target at most {BASELINE_TARGET:g}: "
          f"{'met' if ratio <= BASELINE_TARGET else 'MISSED'}")
    print(f"  {'warm main-thread task time':32} {median(warm, 'cpu_s'):8.2f} {'-':>7} {'-':>8} "
          f"{paired(rounds, 1, 'cpu_s'):10.2f}")
    print(f"  {'warm, the page clock':32} {median(warm, 'frame_s'):8.2f} {'-':>7} {'-':>8} "
          f"{paired(rounds, 1, 'frame_s'):10.2f}   (baseline {median(base_warm, 'frame_s'):.2f} s: navigation "
          "start to the first frame with the chart)")
    print(f"  warm runs: {', '.join(f'{visit.seconds:.2f}' for visit in warm)}")
    print(f"  baseline:  {', '.join(f'{visit.seconds:.2f}' for visit in base_warm)}")
    print(f"  web socket until the first chart: {median(warm, 'received_kb'):.0f} kB")
    outside = sum(visit.outside for visits in [cold, *rounds] for visit in visits)
    print(f"  requests for anything outside the machine: {outside} (refused)")
    if arguments.parts:
        print("\nThe Overview's top as static pages, no server work (not judged): the page clock and the main-thread "
              "task time, ÷baseline")
        for index, name in enumerate(PARTS, start=2):
            print(f"  {name:48} {median([visits[index] for visits in rounds], 'frame_s'):5.2f} s "
                  f"{paired(rounds, index, 'frame_s'):5.2f}   {paired(rounds, index, 'cpu_s'):5.2f}")
        print(f"  {'the dashboard itself':48} {median(warm, 'frame_s'):5.2f} s {paired(rounds, 1, 'frame_s'):5.2f}"
              f"   {paired(rounds, 1, 'cpu_s'):5.2f}")


if __name__ == "__main__":
    main()
