"""`tracker fetch` and `tracker status` as a user runs them: real processes, real rate limit, kill -9."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from fetch_helpers import HYPOTHESES_TOML, make_settings, seed_corpus
from standin import EutilsStandin

from tracker import store
from tracker.cli import cli
from tracker.fetch import run_fetch

BASELINE = range(1000, 1060)
SEROTONIN = set(range(1000, 1060, 3))
SLEEP = set(range(1001, 1060, 4))
PROJECT_DIR = Path(__file__).resolve().parent.parent


@pytest.fixture
def hypotheses_file(tmp_path: Path) -> Path:
    path = tmp_path / "hypotheses.toml"
    path.write_text(HYPOTHESES_TOML, encoding="utf-8")
    return path


def test_a_normal_run_stays_under_ncbi_rate_limit(tmp_path: Path) -> None:
    with EutilsStandin(rate_limit=True) as server:
        seed_corpus(server, BASELINE, SEROTONIN, SLEEP)
        settings = make_settings(tmp_path, server.base_url, api_key=None, batch_size=15)
        report = run_fetch(settings)
        assert report.status == "succeeded", report.error
        assert server.rate_limited_count == 0
        assert server.peak_requests_per_second() <= 3
        assert len(server.requests) == 3 + 4


def test_fetch_prints_a_summary_and_status_reports_it(tmp_path: Path, hypotheses_file: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    with EutilsStandin(rate_limit=False) as server:
        seed_corpus(server, BASELINE, SEROTONIN, SLEEP)
        monkeypatch.setenv("NCBI_EUTILS_URL", server.base_url)
        db = tmp_path / "store.sqlite"
        runner = CliRunner()
        result = runner.invoke(cli, ["fetch", "--db", str(db), "--hypotheses", str(hypotheses_file)])
        assert result.exit_code == 0, result.output
        lines = result.stdout.splitlines()
        assert lines[0].split() == ["hypothesis", "pubmed", "stored", "new", "updated", "removed", "status"]
        assert lines[1].split() == ["fibromyalgia", "60", "60", "60", "0", "0", "ok"]
        assert lines[2].split() == ["serotonin", str(len(SEROTONIN)), str(len(SEROTONIN)), str(len(SEROTONIN)),
                                    "0", "0", "ok"]
        assert "searched fibromyalgia: 60 records in PubMed" in result.stderr

        status = runner.invoke(cli, ["status", "--json", "--db", str(db), "--hypotheses", str(hypotheses_file)])
        assert status.exit_code == 0, status.output
        document = json.loads(status.stdout)
        rows = {r["hypothesis"]: (r["pubmed"], r["stored"], r["last_run"]) for r in document["hypotheses"]}
        assert rows == {"fibromyalgia": (60, 60, "succeeded"), "serotonin": (20, 20, "succeeded"),
                        "sleep": (15, 15, "succeeded")}
        assert document["last_run"]["status"] == "succeeded"


def test_unknown_hypothesis_is_refused_before_anything_runs(tmp_path: Path, hypotheses_file: Path) -> None:
    db = tmp_path / "store.sqlite"
    result = CliRunner().invoke(cli, ["fetch", "--hypothesis", "vitamin_d", "--db", str(db),
                                      "--hypotheses", str(hypotheses_file)])
    assert result.exit_code == 1
    assert result.stderr.strip() == ("tracker: unknown hypothesis 'vitamin_d': choose one of fibromyalgia, "
                                     "serotonin, sleep")
    assert not db.exists()


def test_bad_hypotheses_file_is_one_line_and_fetches_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[[hypothesis]]\nid = 'x'\n", encoding="utf-8")
    db = tmp_path / "store.sqlite"
    result = CliRunner().invoke(cli, ["fetch", "--db", str(db), "--hypotheses", str(bad)])
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert f'{bad}: [x] has no "label"' in result.stderr
    assert not db.exists()


def test_network_down_is_one_line_nonzero_and_keeps_the_store(tmp_path: Path, hypotheses_file: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "store.sqlite"
    with EutilsStandin(rate_limit=False) as server:
        seed_corpus(server, BASELINE, SEROTONIN, SLEEP)
        monkeypatch.setenv("NCBI_EUTILS_URL", server.base_url)
        assert CliRunner().invoke(cli, ["fetch", "--db", str(db), "--hypotheses", str(hypotheses_file)]
                                  ).exit_code == 0
        closed_url = server.base_url
    before = sqlite3.connect(db).execute("SELECT COUNT(*) FROM articles").fetchone()[0]
    monkeypatch.setenv("NCBI_EUTILS_URL", closed_url)  # the stand-in is gone: connection refused
    result = CliRunner().invoke(cli, ["fetch", "--db", str(db), "--hypotheses", str(hypotheses_file)])
    assert result.exit_code == 1
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("tracker:")]
    assert len(error_lines) == 1
    assert "cannot connect to" in error_lines[0] and "connection refused" in error_lines[0]
    assert "check the network connection" in error_lines[0]
    connection = store.connect(db, read_only=True)
    assert connection.execute("SELECT COUNT(*) FROM articles").fetchone()[0] == before
    runs = store.load_runs_frame(connection)
    assert list(runs["status"]) == ["failed", "succeeded"]


def test_a_run_killed_between_batches_is_completed_by_the_next(tmp_path: Path, hypotheses_file: Path) -> None:
    db = tmp_path / "store.sqlite"
    with EutilsStandin(rate_limit=False) as server:
        seed_corpus(server, BASELINE, SEROTONIN, SLEEP)
        environment = {**os.environ, "NCBI_EUTILS_URL": server.base_url, "TRACKER_BATCH_SIZE": "8",
                       "TRACKER_DB": str(db), "TRACKER_HYPOTHESES": str(hypotheses_file)}
        process = subprocess.Popen([sys.executable, "-m", "tracker", "fetch"], cwd=PROJECT_DIR, env=environment,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        killed = threading.Event()

        def kill_on_fourth_efetch(request):
            # The fetch job commits a batch before it asks for the next, so three batches are in the store now.
            if request.endpoint == "efetch" and len(server.requests_to("efetch")) == 4 and not killed.is_set():
                process.send_signal(signal.SIGKILL)
                killed.set()
            return None

        server.on_request = kill_on_fourth_efetch
        process.wait(timeout=60)
        assert killed.is_set() and process.returncode == -signal.SIGKILL

        connection = store.connect(db, read_only=True)
        stored_after_kill = store.stored_pmids(connection)
        assert len(stored_after_kill) == 24  # three whole batches of 8, nothing half-written
        assert store.load_runs_frame(connection)["status"].tolist() == ["running"]
        connection.close()

        server.on_request = None
        efetch_before = len(server.requests_to("efetch"))
        rerun = subprocess.run([sys.executable, "-m", "tracker", "fetch"], cwd=PROJECT_DIR, env=environment,
                               capture_output=True, text=True, timeout=60)
        assert rerun.returncode == 0, rerun.stderr
        # only what was missing is fetched: 60 - 24 = 36 records in 5 batches of 8
        assert len(server.requests_to("efetch")) - efetch_before == 5

    connection = store.connect(db, read_only=True)
    assert len(store.stored_pmids(connection)) == 60
    assert store.linked_pmids(connection, "serotonin") == SEROTONIN
    assert connection.execute("SELECT COUNT(*) FROM articles").fetchone()[0] == 60
    assert store.load_runs_frame(connection)["status"].tolist() == ["succeeded", "interrupted"]
    assert connection.execute("SELECT COUNT(DISTINCT pmid) FROM article_facets").fetchone()[0] == 60


@pytest.mark.parametrize(("flags", "shows_retries"), [([], False), (["-v"], True)])
def test_retries_are_logged_only_when_verbose(tmp_path: Path, hypotheses_file: Path, monkeypatch: pytest.MonkeyPatch,
                                              flags: list[str], shows_retries: bool) -> None:
    from standin import Fault

    with EutilsStandin(rate_limit=False) as server:
        seed_corpus(server, BASELINE, SEROTONIN, SLEEP)
        server.fail_next("efetch", Fault.server_error(503))
        monkeypatch.setenv("NCBI_EUTILS_URL", server.base_url)
        result = CliRunner().invoke(cli, [*flags, "fetch", "--db", str(tmp_path / "s.sqlite"),
                                          "--hypotheses", str(hypotheses_file)])
    assert result.exit_code == 0, result.output
    assert ("efetch.fcgi: NCBI answered 503 Service Unavailable; retrying in" in result.stderr) is shows_retries


def test_a_bad_tagging_term_is_refused_before_any_request(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "hypotheses.toml"
    bad.write_text(HYPOTHESES_TOML.replace('terms = ["serotonin", "5-HT"]', 'terms = ["serotonin", "re:(5-HT"]'),
                   encoding="utf-8")
    db = tmp_path / "store.sqlite"
    with EutilsStandin(rate_limit=False) as server:
        monkeypatch.setenv("NCBI_EUTILS_URL", server.base_url)
        result = CliRunner().invoke(cli, ["fetch", "--db", str(db), "--hypotheses", str(bad)])
        assert server.requests == []
    assert result.exit_code == 1
    assert result.stderr.startswith(f'tracker: {bad}: [serotonin] term "re:(5-HT" is not a valid pattern')
    assert result.stderr.count("\n") == 1
    assert not db.exists()
