"""Serving the dashboard for a real browser: Debian's Chromium, a free loopback port, a wait for health, a stop;
and a page of that browser that blocks and counts every request outside the machine.

Shared by the end-to-end tests (tests/test_browser.py, tests/test_review_browser.py) and their benchmark
(bench/bench_browser.py).
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from tracker.config import DEFAULT_HYPOTHESES_PATH

# Debian's Chromium; TEST_CHROMIUM_PATH names another build (and lets a test see the suite without one).
CHROMIUM_PATH = Path(os.environ.get("TEST_CHROMIUM_PATH") or "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
# Waits, not timing assertions: generous enough for a loaded 2-core CI machine; a normal run never waits that long.
STARTUP_TIMEOUT_S = 120
PAGE_TIMEOUT_MS = 60_000
VIEWPORT = {"width": 1400, "height": 1800}
PROJECT_DIR = Path(__file__).resolve().parent.parent.parent


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_health(port: int, server: subprocess.Popen) -> None:
    """Wait until the dashboard on `port` answers its health check; fail if its process exits first."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"tracker dashboard exited with {server.returncode}: {server.stderr.read()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"the dashboard did not answer /_stcore/health within {STARTUP_TIMEOUT_S} s")


def stop_server(server: subprocess.Popen) -> None:
    """Stop a server started in its own process group, and whatever it started."""
    try:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=10)
    except ProcessLookupError:
        pass  # it exited by itself (a failed start): nothing of its group is left
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()
    server.stderr.close()


def tracker_environment(**settings: str) -> dict[str, str]:
    """This process's environment without the user's NCBI_ and TRACKER_ settings, plus the test's own."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("NCBI_", "TRACKER_"))}
    return {**environment, **settings}


def start_dashboard(db_path: Path, hypotheses_path: Path = DEFAULT_HYPOTHESES_PATH) -> tuple[subprocess.Popen, str]:
    """`tracker dashboard` on a free loopback port, once it answers: the server and its address."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "tracker", "dashboard", "--db", str(db_path), "--hypotheses", str(hypotheses_path),
         "--port", str(port)],
        cwd=PROJECT_DIR, env=tracker_environment(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        # Its own process group, so that stopping it stops anything it started too.
        start_new_session=True)
    try:
        wait_for_health(port, server)
    except BaseException:
        stop_server(server)
        raise
    return server, f"http://127.0.0.1:{port}/"


def is_local(url: str) -> bool:
    """Whether a request stays on the machine: loopback, or data the page holds itself."""
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme in ("data", "blob", "about"):
        return True
    host = parsed.hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def guard(context, outside: list[str]) -> None:
    """Let loopback requests through; count and block every other one (web sockets included)."""
    def route(request_route) -> None:
        if is_local(request_route.request.url):
            request_route.continue_()
        else:
            outside.append(request_route.request.url)
            request_route.abort()

    context.route("**/*", route)
    context.on("request", lambda request: None if is_local(request.url) else outside.append(request.url))
    context.on("page", lambda page: page.on(
        "websocket", lambda socket_: None if is_local(socket_.url) else outside.append(socket_.url)))


@contextlib.contextmanager
def guarded_page(chromium: Path, outside: list[str], **context_options: object) -> Iterator:
    """A page of a fresh headless Chromium whose requests outside the machine are counted into `outside` and
    blocked; the browser is closed after the block."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport=VIEWPORT, **context_options)
            guard(context, outside)
            page = context.new_page()
            page.set_default_timeout(PAGE_TIMEOUT_MS)
            yield page
        finally:
            browser.close()


def settle(page) -> None:
    """Wait for the script run to end: no running indicator, no element greyed out as left over from the last run."""
    page.wait_for_function("""() => !document.querySelector('[data-testid^="stStatusWidgetRunning"]')
        && !document.querySelector('[data-stale="true"]')""", timeout=PAGE_TIMEOUT_MS)
    page.wait_for_timeout(300)  # Vega draws its canvas just after the element arrives
