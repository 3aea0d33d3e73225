"""Shared test fixtures: no network but loopback, no NCBI_* from the developer's shell, a fresh store per test, and
no process left running after its test."""

from __future__ import annotations

import ctypes
import glob
import ipaddress
import os
import signal
import socket
import time
from pathlib import Path

import pytest

FIXTURES_DIR = Path(__file__).parent / "fixtures"
# prctl's PR_SET_CHILD_SUBREAPER: a process whose parent dies is handed to this one, not to init, so that what a
# test's child started (a Streamlit under `tracker dashboard`) still shows as ours when it outlives its parent.
_PR_SET_CHILD_SUBREAPER = 36
# How long a child that was just killed may take to become a zombie before it counts as left running.
_EXIT_GRACE_STEPS, _EXIT_GRACE_STEP_S = 40, 0.05


def pytest_configure(config: pytest.Config) -> None:
    """Adopt every orphaned descendant of the test session (Linux), so that the process guard sees it."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # not Linux: the guard still sees direct children


def _process_state(pid: int) -> tuple[str, str] | None:
    """A process' state letter ("Z" for a zombie) and its command line, or None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as stat_file:
            state = stat_file.read().rsplit(")", 1)[1].split()[0]
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline_file:
            command = cmdline_file.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()
    except (OSError, IndexError):
        return None
    return state, command


def _running_children() -> dict[int, str]:
    """This process' children that are still running (zombies reaped on the way), with their command lines."""
    children: dict[int, str] = {}
    for path in glob.glob(f"/proc/{os.getpid()}/task/*/children"):
        try:
            with open(path, encoding="ascii") as children_file:
                pids = [int(pid) for pid in children_file.read().split()]
        except OSError:
            continue  # the thread ended meanwhile
        for pid in pids:
            state = _process_state(pid)
            if state is None:
                continue
            if state[0] == "Z":
                # A child that ended but was never waited for (or an orphan handed to us): reap it.
                try:
                    os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    pass
                continue
            children[pid] = state[1]
    return children


@pytest.fixture(autouse=True)
def no_process_left_running(request: pytest.FixtureRequest):
    """Fail a test that leaves a process running after its own fixtures ended, and stop that process.

    Autouse, so it is set up before the test's other fixtures and checks after all of them are torn down.
    """
    yield
    if not os.path.isdir(f"/proc/{os.getpid()}/task"):
        return  # no /proc to look in
    left = _running_children()
    for _ in range(_EXIT_GRACE_STEPS):
        if not left:
            return
        # time.sleep, not a clock deadline: the suite also runs under faketime.
        time.sleep(_EXIT_GRACE_STEP_S)
        left = _running_children()
    listed = "; ".join(f"PID {pid} ({command})" for pid, command in sorted(left.items()))
    # Killing a child hands us what it started (we are the subreaper): a few rounds stop those too.
    stopping = left
    for _ in range(5):
        for pid in stopping:
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
        time.sleep(_EXIT_GRACE_STEP_S)
        stopping = _running_children()
        if not stopping:
            break
    pytest.fail(f"{request.node.name} left {len(left)} process{'es' if len(left) > 1 else ''} running: {listed}; "
                "stop every process a test starts in a finally block or a fixture", pytrace=False)


def _is_loopback(address: object) -> bool:
    if not isinstance(address, tuple) or not address:
        return True  # AF_UNIX paths and the like never leave the machine
    host = address[0]
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name that is not localhost would need DNS: refuse it


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say in the summary, not only as an "s" among the dots, that the browser tests did not run."""
    reasons = [report.longrepr[2] for report in terminalreporter.stats.get("skipped", [])
               if isinstance(report.longrepr, tuple) and "chromium" in report.longrepr[2].lower()]
    if reasons:
        terminalreporter.write_line(
            f"NOT RUN: {len(reasons)} end-to-end browser test{'s' if len(reasons) > 1 else ''}: "
            f"{reasons[0].removeprefix('Skipped: ')}", yellow=True, bold=True)


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any test that opens a socket to anything but loopback."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def guarded_connect(sock: socket.socket, address: object) -> object:
        if not _is_loopback(address):
            raise AssertionError(f"test tried to reach the network: {address!r}")
        return real_connect(sock, address)

    def guarded_connect_ex(sock: socket.socket, address: object) -> object:
        if not _is_loopback(address):
            raise AssertionError(f"test tried to reach the network: {address!r}")
        return real_connect_ex(sock, address)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", guarded_connect_ex)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Clear NCBI_* and TRACKER_* so a developer's shell never leaks into a test, and keep the store in tmp."""
    import os

    for key in list(os.environ):
        if key.startswith(("NCBI_", "TRACKER_")):
            monkeypatch.delenv(key)
    monkeypatch.setenv("TRACKER_DB", str(tmp_path / "tracker.sqlite"))
    # As after activating the environment: hints name plain `tracker`, whatever the shell that ran the tests.
    import sys

    monkeypatch.setenv("PATH", os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """A fresh, not yet created store file."""
    return tmp_path / "tracker.sqlite"


@pytest.fixture
def eutils_server(monkeypatch: pytest.MonkeyPatch, clean_environment: None):
    """A running E-utilities stand-in (tracker/demo/standin.py) that NCBI_EUTILS_URL points at, stopped after."""
    from support.standin import EutilsStandin

    with EutilsStandin() as server:
        monkeypatch.setenv("NCBI_EUTILS_URL", server.base_url)
        yield server


@pytest.fixture(scope="module")
def planted_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store of the planted emerging corpus (tests/support/planted.py), built once per test module."""
    from support.planted import seed_planted_store

    return seed_planted_store(tmp_path_factory.mktemp("planted") / "seeded.sqlite")


_LOCK_HOLDER_SCRIPT = """
import sys
from pathlib import Path
from tracker.jobs.lock import job_lock

with job_lock(Path(sys.argv[1])):
    print("holding", flush=True)
    sys.stdin.readline()
"""


@pytest.fixture
def hold_lock():
    """Start a real process that holds the job lock on a store until it reads a line, or the test ends."""
    import subprocess
    import sys

    processes: list[subprocess.Popen] = []

    def start(db_path: Path) -> subprocess.Popen:
        process = subprocess.Popen([sys.executable, "-c", _LOCK_HOLDER_SCRIPT, str(db_path)],
                                   cwd=Path(__file__).resolve().parent.parent,
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        processes.append(process)
        assert process.stdout.readline() == "holding\n"
        return process

    yield start
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


@pytest.fixture
def chromium() -> Path:
    """Debian's Chromium for the browser tests: skipped where it is not installed, a failure in CI."""
    import os

    from support.browser import CHROMIUM_PATH

    if not CHROMIUM_PATH.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM_PATH} is missing in CI; .ci/run installs it with apt-get install chromium")
        pytest.skip(f"{CHROMIUM_PATH} is not installed; apt-get install chromium to run the browser test")
    return CHROMIUM_PATH
