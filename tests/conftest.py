"""Shared test fixtures: no network but loopback, no NCBI_* from the developer's shell, a fresh store per test."""

from __future__ import annotations

import ipaddress
import socket
from pathlib import Path

import pytest

FIXTURES_DIR = Path(__file__).parent / "fixtures"


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


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """A fresh, not yet created store file."""
    return tmp_path / "tracker.sqlite"


@pytest.fixture
def eutils_server(monkeypatch: pytest.MonkeyPatch, clean_environment: None):
    """A running E-utilities stand-in (tests/support/standin.py) that NCBI_EUTILS_URL points at, stopped after."""
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
