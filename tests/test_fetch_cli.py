"""`tracker fetch` and `tracker status` as a user runs them: real processes, real rate limit, kill -9."""

from __future__ import annotations

import base64
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
from support.fetch_helpers import HYPOTHESES_TOML, make_settings, seed_corpus
from support.standin import EutilsStandin, Fault

from tracker import store
from tracker.cli import cli
from tracker.jobs.fetch import run_fetch

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
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == ("Error: Invalid value for '--hypothesis': 'vitamin_d' is not a "
                                              "hypothesis; choose from fibromyalgia, serotonin, sleep")
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
    with store.reading(db) as connection:
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
        try:
            process.wait(timeout=60)
        finally:
            process.kill()  # when it was never told to stop: the assertion below says so
            process.wait()
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

    with store.reading(db) as connection:
        assert len(store.stored_pmids(connection)) == 60
        assert store.linked_pmids(connection, "serotonin") == SEROTONIN
        assert connection.execute("SELECT COUNT(*) FROM articles").fetchone()[0] == 60
        assert store.load_runs_frame(connection)["status"].tolist() == ["succeeded", "interrupted"]
        assert connection.execute("SELECT COUNT(DISTINCT pmid) FROM article_facets").fetchone()[0] == 60


@pytest.mark.parametrize(("flags", "shows_retries"), [([], False), (["-v"], True)])
def test_retries_are_logged_only_when_verbose(tmp_path: Path, hypotheses_file: Path, monkeypatch: pytest.MonkeyPatch,
                                              flags: list[str], shows_retries: bool) -> None:
    from support.standin import Fault

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


# --- configuration and secrets as a user meets them ---

def test_fetch_without_an_email_warns_once_and_goes_on(tmp_path: Path, hypotheses_file: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    with EutilsStandin(rate_limit=False) as server:
        seed_corpus(server, BASELINE, SEROTONIN, SLEEP)
        monkeypatch.setenv("NCBI_EUTILS_URL", server.base_url)
        arguments = ["fetch", "--db", str(tmp_path / "store.sqlite"), "--hypotheses", str(hypotheses_file)]
        result = CliRunner().invoke(cli, arguments)
        assert result.exit_code == 0, result.output
        warnings = [line for line in result.stderr.splitlines() if "NCBI_EMAIL" in line]
        assert warnings == ["warning: NCBI_EMAIL is not set; NCBI asks every tool for an address it can "
                            "write to about problems: set NCBI_EMAIL=you@example.org"]
        monkeypatch.setenv("NCBI_EMAIL", "curator@example.org")
        again = CliRunner().invoke(cli, arguments)
        assert again.exit_code == 0, again.output
        assert "NCBI_EMAIL" not in again.stderr
        assert all(request.params.get("email") == "curator@example.org"
                   for request in server.requests[len(server.requests) // 2 + 1:])


@pytest.mark.parametrize(
    ("value", "message"),
    [("soon", "TRACKER_REQUEST_DEADLINE_S='soon' is not a number of seconds; set it to one from 1 to 86400, "
              "e.g. TRACKER_REQUEST_DEADLINE_S=300"),
     ("0", "TRACKER_REQUEST_DEADLINE_S=0 is out of range; set it to a number of seconds from 1 to 86400, "
           "e.g. TRACKER_REQUEST_DEADLINE_S=300"),
     ("nan", "TRACKER_REQUEST_DEADLINE_S=nan is out of range; set it to a number of seconds from 1 to 86400, "
             "e.g. TRACKER_REQUEST_DEADLINE_S=300")],
)
def test_a_bad_request_deadline_is_refused_before_anything_runs(tmp_path: Path, hypotheses_file: Path,
                                                                 monkeypatch: pytest.MonkeyPatch, value: str,
                                                                 message: str) -> None:
    monkeypatch.setenv("TRACKER_REQUEST_DEADLINE_S", value)
    db = tmp_path / "store.sqlite"
    result = CliRunner().invoke(cli, ["fetch", "--db", str(db), "--hypotheses", str(hypotheses_file)])
    assert (result.exit_code, result.stderr.strip()) == (1, f"tracker: {message}")
    assert not db.exists()


def test_the_request_deadline_setting_reaches_the_settings(tmp_path: Path, hypotheses_file: Path) -> None:
    from tracker.config import DEFAULT_REQUEST_DEADLINE_S, load_settings

    assert load_settings(hypotheses_file, environ={}).request_deadline_s == DEFAULT_REQUEST_DEADLINE_S == 300
    assert load_settings(hypotheses_file, environ={"TRACKER_REQUEST_DEADLINE_S": "42.5"}).request_deadline_s == 42.5


URL_PASSWORD = "s3cretPassw0rd"


def _secret_free(*texts: str) -> bool:
    return all(URL_PASSWORD not in text for text in texts)


def _store_text(db: Path) -> str:
    connection = sqlite3.connect(db)
    try:
        return "\n".join(connection.iterdump())
    finally:
        connection.close()


@pytest.mark.parametrize("fault", ["redirect", "not_found"])
def test_a_password_in_the_eutils_url_never_reaches_messages_logs_or_the_store(
        tmp_path: Path, hypotheses_file: Path, monkeypatch: pytest.MonkeyPatch, fault: str) -> None:
    from support.standin import Fault

    with EutilsStandin(rate_limit=False) as server:
        seed_corpus(server, BASELINE, SEROTONIN, SLEEP)
        base_url = server.base_url.replace("http://", f"http://alice:{URL_PASSWORD}@")
        if fault == "redirect":
            server.fail_next("esearch", Fault.redirect(307, f"http://alice:{URL_PASSWORD}@127.0.0.1:9/x?k=v"),
                             times=10)
        else:
            base_url = base_url.replace("/entrez/eutils/", "/eutils-typo/")
        monkeypatch.setenv("NCBI_EUTILS_URL", base_url)
        db = tmp_path / "store.sqlite"
        result = CliRunner().invoke(cli, ["-v", "fetch", "--db", str(db), "--hypotheses", str(hypotheses_file)])
        # Sent as HTTP Basic auth to the host the user named (and, no redirect being followed, to no other).
        assert {request.headers.get("Authorization") for request in server.requests} == {
            "Basic " + base64.b64encode(f"alice:{URL_PASSWORD}".encode()).decode()}
    assert result.exit_code == 1
    shown = "http://alice:****@127.0.0.1:9/x" if fault == "redirect" else "http://alice:****@127.0.0.1:"
    assert shown in result.stderr
    assert _secret_free(result.stdout, result.stderr, _store_text(db))


def test_a_password_in_the_eutils_url_never_reaches_retry_logs_or_run_errors(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    # Nothing listens on port 9 of loopback: every try is refused and retried, each retry logged.
    settings = make_settings(tmp_path, f"http://alice:{URL_PASSWORD}@127.0.0.1:9/entrez/eutils/")
    caplog.set_level("DEBUG")
    report = run_fetch(settings)
    assert report.status == "failed"
    assert report.error.startswith("esearch.fcgi: cannot connect to http://alice:****@127.0.0.1:9/entrez/eutils/ "
                                   "(connection refused), still after 4 tries")
    assert "retrying in" in caplog.text
    assert _secret_free(caplog.text, report.error, _store_text(settings.db_path), repr(settings))


def test_a_password_in_the_eutils_url_never_reaches_the_scheduler_log(tmp_path: Path, hypotheses_file: Path) -> None:
    from tracker.jobs import schedule as scheduling
    from tracker.config import load_settings

    settings = load_settings(hypotheses_file, tmp_path / "store.sqlite", environ={
        "NCBI_EUTILS_URL": f"http://alice:{URL_PASSWORD}@127.0.0.1:9/entrez/eutils/"})

    def leaky_fetch(_settings):
        raise RuntimeError(f"a library error that quotes {settings.eutils_url}")

    log_path = tmp_path / "schedule.log"
    log, close = scheduling.open_log(settings, log_path)
    try:
        assert scheduling.run_locked_fetch(settings, leaky_fetch, log) == "failed"
        log.info("settings: %s", settings)
    finally:
        close()
    text = log_path.read_text()
    assert "a library error that quotes http://alice:[redacted]@127.0.0.1:9/" in text
    assert _secret_free(text)


def test_a_bad_eutils_url_is_refused_without_showing_its_password(hypotheses_file: Path) -> None:
    from tracker.config import DEFAULT_EUTILS_URL, load_settings
    from tracker.errors import ConfigError

    with pytest.raises(ConfigError) as raised:
        load_settings(hypotheses_file, environ={"NCBI_EUTILS_URL": f"ftp://alice:{URL_PASSWORD}@mirror.example/e/"})
    assert str(raised.value) == ("NCBI_EUTILS_URL='ftp://alice:****@mirror.example/e/' is not an http(s) URL; "
                                 f"unset it to use {DEFAULT_EUTILS_URL}")


def test_a_servers_error_text_reaches_the_terminal_without_controls(tmp_path: Path, hypotheses_file: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # A right-to-left override shows the rest of the line reversed ("txt.exe" as "exe.txt"), NEL ends a line:
    # each is shown as its escape instead, in the error and in what status says of the run.
    with EutilsStandin(rate_limit=False) as server:
        seed_corpus(server, BASELINE, SEROTONIN, SLEEP)
        server.fail_next("efetch", Fault.error_element("Bad id list \u202etxt.exe\x85next line"))
        monkeypatch.setenv("NCBI_EUTILS_URL", server.base_url)
        db = tmp_path / "store.sqlite"
        fetched = CliRunner().invoke(cli, ["fetch", "--db", str(db), "--hypotheses", str(hypotheses_file)])
    status = CliRunner().invoke(cli, ["status", "--db", str(db), "--hypotheses", str(hypotheses_file)])
    assert fetched.exit_code == 1
    for output in (fetched.stdout, fetched.stderr, status.stdout):
        assert not {"\u202e", "\x85"} & set(output), output
    shown = "NCBI answered an error: Bad id list \\u202etxt.exe\\x85next line"
    assert fetched.stderr.splitlines()[-1] == f"tracker: fetch failed: efetch.fcgi: {shown}"
    assert f"run 1 failed: efetch.fcgi: {shown}" in status.stdout.splitlines()


def test_tagging_and_stance_after_the_fetch_show_their_own_progress(tmp_path: Path, hypotheses_file: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("tracker.jobs.retag.BATCH_SIZE", 25)
    with EutilsStandin(rate_limit=False) as server:
        seed_corpus(server, BASELINE, SEROTONIN, SLEEP)
        monkeypatch.setenv("NCBI_EUTILS_URL", server.base_url)
        result = CliRunner().invoke(cli, ["fetch", "--db", str(tmp_path / "store.sqlite"),
                                          "--hypotheses", str(hypotheses_file)])
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    after_fetch = lines[lines.index("fetched 60/60") + 1:]
    assert after_fetch == ["tagging and reading the stances of 60 articles", "tagged 25/60", "tagged 50/60",
                           "tagged 60/60"]
