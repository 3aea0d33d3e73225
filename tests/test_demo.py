"""`tracker demo`: synthetic records from the stand-in on loopback, fetched by the real client into a store of their
own, the dashboard on them saying so, and Ctrl-C stopping it all."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from support.browser import free_port, wait_for_health
from streamlit.testing.v1 import AppTest

from tracker import cli, store
from tracker.config import load_settings
from tracker.demo.corpus import DEMO_FIRST_PMID, SYNTHETIC_MARK, demo_corpus
from tracker.demo.standin import EutilsStandin
from tracker.pubmed.parse import iter_pubmed_records
from tracker.demo.synthetic import pubmed_article_set

PROJECT_DIR = Path(__file__).resolve().parent.parent
RECORD_COUNT = 300


@pytest.fixture(scope="module")
def settings():
    return load_settings(environ={})


def test_the_demo_corpus_is_marked_synthetic_and_every_query_finds_articles(settings) -> None:
    corpus = demo_corpus(settings.hypotheses, RECORD_COUNT)
    articles = list(iter_pubmed_records(pubmed_article_set(corpus.records.values())))
    assert [a.pmid for a in articles] == list(range(DEMO_FIRST_PMID, DEMO_FIRST_PMID + RECORD_COUNT))
    assert all(a.title.startswith(SYNTHETIC_MARK) for a in articles)
    # The dashboard links a DOI and a PMC id: a demo article's must not open a real, unrelated article.
    assert {a.doi.split("/")[0] for a in articles if a.doi} == {"10.5555"}
    assert {a.pmcid for a in articles if a.pmcid} <= {f"PMC{a.pmid}" for a in articles}
    assert any(a.pmcid for a in articles)
    assert corpus.members[settings.baseline.id] == frozenset(corpus.records)
    assert all(corpus.members[cause.id] for cause in settings.causes)
    assert demo_corpus(settings.hypotheses, RECORD_COUNT).records == corpus.records


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.parametrize("stopped_by", ["ctrl_c", "kill"])
def test_tracker_demo_fetches_into_its_own_store_serves_it_and_stops_on_ctrl_c_or_kill(tmp_path, stopped_by) -> None:
    port = free_port()
    own_store, demo_store = tmp_path / "own.sqlite", tmp_path / "demo.sqlite"
    # An unreachable NCBI, as on a machine without the network: the demo never asks it.
    environment = {**os.environ, "TRACKER_DB": str(own_store), "NCBI_EUTILS_URL": "http://127.0.0.1:9/",
                   "NCBI_EMAIL": "you@example.org"}
    log = tmp_path / "demo.log"
    with log.open("w") as log_file:
        demo = subprocess.Popen(
            [sys.executable, "-m", "tracker", "demo", "--records", str(RECORD_COUNT), "--port", str(port),
             "--db", str(demo_store)], cwd=PROJECT_DIR, env=environment, stdout=log_file, stderr=subprocess.STDOUT,
            start_new_session=True)
    try:
        wait_for_health(port, demo)
        lines = log.read_text().splitlines()
        standin_url = next(line for line in lines if "stand-in serving them at" in line).split(" at ")[1].split()[0]
        standin_port = int(standin_url.split(":")[2].split("/")[0])
        assert _listening(standin_port)
        asked = time.monotonic()
        if stopped_by == "ctrl_c":
            os.killpg(demo.pid, signal.SIGINT)  # Ctrl-C reaches the terminal's whole process group
        else:
            os.kill(demo.pid, signal.SIGTERM)  # a kill or a service manager reaches the demo alone
        assert demo.wait(timeout=60) == 0
        # The dashboard is stopped, not waited for: a child the signal never reached was waited on for ten seconds.
        assert time.monotonic() - asked < 8
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)
            demo.wait()
    output = log.read_text()
    assert output.startswith(f"tracker demo: SYNTHETIC DATA, not PubMed: {RECORD_COUNT} generated records")
    assert f"{RECORD_COUNT} records fetched" in output
    assert "tracker demo: stopped the dashboard and the stand-in" in output
    assert not own_store.exists()
    with store.reading(demo_store) as connection:
        catalogue = store.load_catalogue(connection)
    assert len(catalogue) == RECORD_COUNT and catalogue["title"].str.startswith(SYNTHETIC_MARK).all()
    time.sleep(0.5)
    assert not _listening(port) and not _listening(standin_port)


def test_tracker_demo_never_writes_into_the_users_store(tmp_path, monkeypatch) -> None:
    own_store = tmp_path / "own.sqlite"
    own_store.write_bytes(b"")
    monkeypatch.setenv("TRACKER_DB", str(own_store))
    result = CliRunner().invoke(cli.cli, ["demo", "--port", str(free_port()), "--db", str(own_store)])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"tracker: --db {own_store}: that is your store")
    assert own_store.read_bytes() == b""


def test_tracker_dashboard_on_the_demo_store_tells_the_page_so(monkeypatch, tmp_path) -> None:
    calls = []
    monkeypatch.setattr("os.execv", lambda path, command: calls.append(command))
    monkeypatch.setattr(cli, "DEMO_DB_PATH", tmp_path / "demo.sqlite")
    result = CliRunner().invoke(cli.cli, ["dashboard", "--db", str(tmp_path / "demo.sqlite"),
                                          "--port", str(free_port())])
    assert result.exit_code == 0, result.output
    assert calls[0][-1] == "--demo"
    assert "the synthetic demo store" in result.stderr


@pytest.mark.parametrize("demo", [True, False])
def test_every_page_of_the_demo_says_its_data_are_synthetic(monkeypatch, tmp_path, demo) -> None:
    monkeypatch.setenv("TRACKER_DB", str(tmp_path / "missing.sqlite"))
    monkeypatch.setattr(sys, "argv", ["app.py", *(["--demo"] if demo else [])])
    app = AppTest.from_file(str(PROJECT_DIR / "dashboard" / "app.py"), default_timeout=60)
    app.run()
    assert not app.exception
    banners = [w.value for w in app.warning if "synthetic" in w.value]
    assert len(banners) == (1 if demo else 0)


def test_make_demo_runs_tracker_demo_on_the_port() -> None:
    environment = {key: value for key, value in os.environ.items()
                   if key not in ("PORT", "MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MAKEOVERRIDES")}
    result = subprocess.run(["make", "--no-print-directory", "-n", "demo", "PORT=8602"], cwd=PROJECT_DIR,
                            capture_output=True, text=True, timeout=30, env=environment)
    assert result.stdout.splitlines()[-1] == ".venv/bin/tracker demo --port 8602"


def test_the_empty_store_page_prints_a_command_that_runs_as_typed(monkeypatch, tmp_path) -> None:
    monkeypatch.chdir(PROJECT_DIR)
    monkeypatch.setenv("PATH", os.devnull)  # not activated: the command is the environment's own
    monkeypatch.setenv("TRACKER_DB", str(tmp_path / "missing.sqlite"))
    app = AppTest.from_file(str(PROJECT_DIR / "dashboard" / "app.py"), default_timeout=60)
    app.run()
    assert [block.value for block in app.code] == [f".venv/bin/tracker fetch --db {tmp_path / 'missing.sqlite'}"]
