"""Serving the dashboard for a real browser: Debian's Chromium, a free loopback port, a wait for health, a stop.

Shared by the end-to-end test (tests/test_browser.py) and its benchmark (bench/bench_browser.py).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

CHROMIUM_PATH = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
# Waits, not timing assertions: generous enough for a loaded 2-core CI machine; a normal run never waits that long.
STARTUP_TIMEOUT_S = 120


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
