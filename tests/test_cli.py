"""Every command has help and is documented in the README; the group's options behave as documented."""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from support.seed import make_articles, read_catalogue, seed_stances, seed_store

from tracker import store
from tracker.cli import cli
from tracker.config import DEFAULT_HYPOTHESES_PATH, load_hypotheses

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
COMMANDS = sorted(cli.commands)


def test_the_issue_commands_all_exist() -> None:
    assert COMMANDS == ["dashboard", "demo", "emerging", "evidence", "export", "feed", "fetch", "import", "retag",
                        "review", "schedule", "status"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command: str) -> None:
    result = CliRunner().invoke(cli, [command, "--help"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Usage: cli {command} [OPTIONS]")
    assert len(cli.commands[command].help or "") > 20


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_appears_in_the_readme(command: str) -> None:
    assert re.search(rf"`?\$? ?tracker {command}\b", README), f"README never shows `tracker {command}`"


def test_readme_starts_with_the_run_and_test_commands() -> None:
    first_block = README.split("```")[1]
    assert [line.split("#")[0].strip() for line in first_block.strip().splitlines()[1:]] == ["make run", "make test"]


def test_unknown_command_is_bad_usage() -> None:
    result = CliRunner().invoke(cli, ["fecth"])
    assert result.exit_code == 2
    assert "No such command 'fecth'" in result.output


def test_a_usage_error_names_the_help_command_as_it_can_be_typed_here(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "tracker"
    # The environment is not activated: the shell would not find a bare `tracker`.
    path = os.pathsep.join(part for part in os.environ.get("PATH", "").split(os.pathsep)
                           if Path(part).resolve() != script.parent.resolve())
    result = subprocess.run([sys.executable, "-m", "tracker", "export", "--format", "xls"], cwd=tmp_path,
                            env={**os.environ, "PATH": path}, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    # Click names one of the two help options: -h under Click 8.2 and 8.3, --help under 8.5.
    assert re.search(rf"Try '{re.escape(str(script))} export (-h|--help)' for help\.", result.stderr), result.stderr


def test_status_of_a_missing_store_says_how_to_create_it(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["status", "--db", str(tmp_path / "none.sqlite")])
    assert result.exit_code == 1
    assert result.stderr == (f"tracker: {tmp_path / 'none.sqlite'}: no store yet; run `tracker fetch` "
                             f"(or `tracker import FILE`) to create it\n")
    assert not (tmp_path / "none.sqlite").exists()


# --- counts in words, and an export that matched nothing ----------------------------------------------------------

MEDLINE_FILE = Path(__file__).resolve().parent / "fixtures" / "medline_fibromyalgia.txt"


@pytest.fixture
def one_record_file(tmp_path: Path) -> Path:
    """The fixture's second MEDLINE record alone (the first is retracted, which exports leave out)."""
    text = MEDLINE_FILE.read_text(encoding="utf-8")
    second = text.index("PMID- 39000102")
    path = tmp_path / "one.nbib"
    path.write_text(text[second:text.index("PMID- ", second + 1)], encoding="utf-8")
    return path


def test_one_record_is_said_in_the_singular_by_import_retag_export_and_feed(one_record_file: Path,
                                                                           tmp_path: Path) -> None:
    from tracker.analysis import tagging
    from tracker.config import DEFAULT_HYPOTHESES_PATH, load_hypotheses

    db = str(tmp_path / "one.sqlite")
    imported = CliRunner().invoke(cli, ["import", "--db", db, str(one_record_file)])
    assert imported.exit_code == 0, imported.output
    assert imported.stdout.splitlines()[0] == f"{one_record_file}: MEDLINE, 1 record: 1 new, 0 updated, 0 unchanged"
    retagged = CliRunner().invoke(cli, ["retag", "--db", db])
    version = tagging.compile_rules(load_hypotheses(DEFAULT_HYPOTHESES_PATH)).version
    assert retagged.stdout == f"tagged 1 article with rules {version} from {DEFAULT_HYPOTHESES_PATH}\n"
    output = tmp_path / "one.csv"
    exported = CliRunner().invoke(cli, ["export", "--db", db, "-o", str(output)])
    assert exported.stderr == f"wrote 1 article to {output} (csv)\n"
    feed = CliRunner().invoke(cli, ["feed", "--db", db, "--days", "1", "-o", str(tmp_path / "new.atom")])
    assert feed.stderr == f"wrote the feed of the last 1 day (1 entry) to {tmp_path / 'new.atom'}\n"
    assert b"<subtitle>Articles first seen in the last day</subtitle>" in (tmp_path / "new.atom").read_bytes()


def test_a_fetch_of_one_record_is_said_in_the_singular(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from support.fetch_helpers import HYPOTHESES_TOML, seed_corpus
    from support.standin import EutilsStandin

    hypotheses = tmp_path / "hypotheses.toml"
    hypotheses.write_text(HYPOTHESES_TOML, encoding="utf-8")
    with EutilsStandin(rate_limit=False) as server:
        seed_corpus(server, range(1000, 1001), {1000}, set())
        monkeypatch.setenv("NCBI_EUTILS_URL", server.base_url)
        result = CliRunner().invoke(cli, ["fetch", "--db", str(tmp_path / "one.sqlite"),
                                          "--hypotheses", str(hypotheses)])
    assert result.exit_code == 0, result.output
    assert "searched fibromyalgia: 1 record in PubMed\n" in result.stderr
    assert "searched sleep: 0 records in PubMed\n" in result.stderr
    assert "fetching 1 new or changed record in 1 batch\n" in result.stderr
    assert re.fullmatch(r"run 1: \d+ esearch \+ 1 efetch requests, 1 record fetched in \d+\.\d s",
                        result.stdout.splitlines()[-1])


@pytest.mark.parametrize(("export_format", "to_file", "content", "message"), [
    ("csv", False, "header", "wrote only the CSV header row to standard output"),
    ("csv", True, "header", "wrote only the CSV header row to {output}"),
    ("ris", False, "", "wrote nothing to standard output"),
    ("ris", True, "", "wrote an empty RIS file to {output}"),
    ("bibtex", True, "", "wrote an empty BibTeX file to {output}"),
])
def test_an_export_that_matched_nothing_says_so_and_succeeds(one_record_file: Path, tmp_path: Path,
                                                             export_format: str, to_file: bool, content: str,
                                                             message: str) -> None:
    from tracker.config import load_settings
    from tracker.outputs.export import csv_header

    db = str(tmp_path / "one.sqlite")
    assert CliRunner().invoke(cli, ["import", "--db", db, str(one_record_file)]).exit_code == 0
    output = tmp_path / f"none.{export_format}"
    arguments = ["export", "--db", db, "--format", export_format, "--from-year", "2100"]
    result = CliRunner().invoke(cli, [*arguments, *(["-o", str(output)] if to_file else [])])
    assert result.exit_code == 0, result.output
    assert result.stderr == f"tracker: no article matched the filters; {message.format(output=output)}\n"
    written = output.read_bytes() if to_file else result.stdout_bytes
    causes = [h.id for h in load_settings(environ={}).causes]
    assert written == (",".join(csv_header(cause_ids=causes)).encode() + b"\r\n" if content == "header" else b"")


# --- make run, as a new user types it -------------------------------------------------------------------------------

def _make_dry_run(*arguments: str) -> list[str]:
    import os
    import shutil
    import subprocess

    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    # Under `make test` the suite runs inside make: its MAKEFLAGS and MAKELEVEL would make this a sub-make that
    # prints "Entering/Leaving directory" lines around the commands.
    environment = {key: value for key, value in os.environ.items()
                   if key not in ("PORT", "MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MAKEOVERRIDES")}
    result = subprocess.run(["make", "--no-print-directory", "-n", *arguments],
                            cwd=Path(__file__).resolve().parent.parent,
                            capture_output=True, text=True, timeout=30, env=environment)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


@pytest.mark.parametrize(("arguments", "port"), [(["run"], "8501"), (["run", "PORT=8601"], "8601"),
                                                 (["dashboard", "PORT=8601"], "8601")])
def test_make_run_takes_a_port(arguments: list[str], port: str) -> None:
    assert _make_dry_run(*arguments)[-1] == f".venv/bin/tracker dashboard --port {port}"


def test_readme_says_how_to_run_tracker_after_make_run() -> None:
    first_section = README.split("\n## ")[0]
    assert "make run PORT=8601" in first_section
    assert ". .venv/bin/activate" in first_section and ".venv/bin/tracker" in first_section


# --- a cause renamed in the hypotheses file -------------------------------------------------------------------------

@pytest.fixture
def renamed_cause(tmp_path: Path) -> tuple[Path, Path]:
    """A store seeded with the shipped causes and stances, and a hypotheses file that renames serotonin."""
    db_path = tmp_path / "tracker.sqlite"
    seed_store(db_path, load_hypotheses(DEFAULT_HYPOTHESES_PATH), make_articles(60, seed=3))
    seed_stances(db_path, read_catalogue(db_path))
    renamed = tmp_path / "hypotheses.toml"
    renamed.write_text(DEFAULT_HYPOTHESES_PATH.read_text(encoding="utf-8").replace(
        'id = "serotonin"', 'id = "serotonin_deficit"'), encoding="utf-8")
    return db_path, renamed


def _rows_of(db_path: Path, table: str, hypothesis_id: str) -> int:
    with store.reading(db_path) as connection:
        return connection.execute(f"SELECT COUNT(*) FROM {table} WHERE hypothesis_id = ?", (hypothesis_id,)).fetchone()[0]


def test_a_renamed_cause_leaves_no_ghost_in_an_export(renamed_cause: tuple[Path, Path]) -> None:
    db_path, hypotheses_path = renamed_cause
    result = CliRunner().invoke(cli, ["export", "--db", str(db_path), "--hypotheses", str(hypotheses_path)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    carried = {cause for row in rows for cause in row["hypotheses"].split("; ")}
    matched = {part.split(": ")[0] for row in rows for part in row["matched_terms"].split(" | ") if part}
    assert "serotonin" not in carried | matched
    assert "fibromyalgia" in carried and "sleep" in matched


def test_status_says_what_is_parked_and_nothing_is_deleted(renamed_cause: tuple[Path, Path]) -> None:
    import json

    db_path, hypotheses_path = renamed_cause
    counts = {table: _rows_of(db_path, table, "serotonin") for table in ("hypothesis_articles", "stances")}
    assert min(counts.values()) > 0
    result = CliRunner().invoke(cli, ["status", "--db", str(db_path), "--hypotheses", str(hypotheses_path)])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == (
        f"parked: serotonin ({counts['hypothesis_articles']} linked articles, {counts['stances']} stances) is no "
        "longer in the hypotheses file: kept in the store, neither shown nor exported; give a cause that id again "
        "to show it")
    result = CliRunner().invoke(cli, ["status", "--json", "--db", str(db_path), "--hypotheses", str(hypotheses_path)])
    assert json.loads(result.stdout)["parked"] == [
        {"hypothesis": "serotonin", "linked": counts["hypothesis_articles"], "stances": counts["stances"]}]
    assert {table: _rows_of(db_path, table, "serotonin") for table in counts} == counts


# --- bad filter values are bad usage: exit 2, nothing read or written, the near match suggested ----------------------

ALL_IDS = ("fibromyalgia, substance_p, serotonin, sleep, autonomic, injury, infection, muscle, stress_hormones, "
           "central_sensitisation, pregnancy, comorbid_conditions")


@pytest.mark.parametrize(("arguments", "message"), [
    (["export", "--hypothesis", "nope"], f"Invalid value for '--hypothesis': 'nope' is not a hypothesis; choose from "
                                         f"{ALL_IDS}"),
    (["export", "--hypothesis", "Serotonin"], "Invalid value for '--hypothesis': 'Serotonin' is not a hypothesis; "
                                              "did you mean 'serotonin'?"),
    (["export", "--hypothesis", "serotonine"], "Invalid value for '--hypothesis': 'serotonine' is not a hypothesis; "
                                               "did you mean 'serotonin'?"),
    (["export", "--design", "rtc"], "Invalid value for '--design': 'rtc' is not a study design; did you mean 'rct'?"),
    (["export", "--design", "RCT"], "Invalid value for '--design': 'RCT' is not a study design; did you mean 'rct'?"),
    (["export", "--species", "humans"], "Invalid value for '--species': 'humans' is not a species; did you mean "
                                        "'human'?"),
    (["export", "--format", "RIS"], "Invalid value for '--format': 'RIS' is not an export format; did you mean "
                                    "'ris'?"),
    (["export", "--from-year", "15"], "Invalid value for '--from-year': 15 is before PubMed's first records (1781); "
                                      "give a four-digit year such as 2015"),
    (["export", "--to-year", "1700"], "Invalid value for '--to-year': 1700 is before PubMed's first records (1781); "
                                      "give a four-digit year such as 2015"),
    (["export", "--from-year", "2020", "--to-year", "2010"],
     "from-year 2020 is after to-year 2010; swap them or drop one of the bounds"),
    (["export", "--new-since", "yesterday"],
     "new-since 'yesterday' is not an ISO date or datetime; write it as 2026-01-31 or 2026-01-31T08:00:00Z"),
    (["evidence", "--stance", "maybe"], "Invalid value for '--stance': 'maybe' is not a stance; choose from "
                                        "supports, contradicts, mixed, no_finding"),
    (["evidence", "--stance", "Supports"], "Invalid value for '--stance': 'Supports' is not a stance; did you mean "
                                           "'supports'?"),
    (["evidence", "--hypothesis", "fibromyalgia"], "Invalid value for '--hypothesis': 'fibromyalgia' is not a "
                                                   "cause; choose from " + ALL_IDS.removeprefix("fibromyalgia, ")),
    (["evidence", "--format", "JSON"], "Invalid value for '--format': 'JSON' is not an evidence format; did you "
                                       "mean 'json'?"),
    (["feed", "--hypothesis", "Sleep"], "Invalid value for '--hypothesis': 'Sleep' is not a hypothesis; did you "
                                        "mean 'sleep'?"),
    (["feed", "--days", "0"], "Invalid value for '--days': 0 is not in the range 1<=x<=3650."),
    (["fetch", "--hypothesis", "SLEEP"], "Invalid value for '--hypothesis': 'SLEEP' is not a hypothesis; did you "
                                         "mean 'sleep'?"),
])
def test_a_bad_filter_value_is_bad_usage_with_the_near_match(tmp_path: Path, arguments: list[str],
                                                             message: str) -> None:
    db_path, output = tmp_path / "tracker.sqlite", tmp_path / "out"
    command, *options = arguments
    written = ["-o", str(output)] if command in ("export", "evidence", "feed") else []
    result = CliRunner().invoke(cli, [command, "--db", str(db_path), *written, *options])
    assert result.exit_code == 2, result.output
    assert result.stderr.rstrip("\n").splitlines()[-1].removeprefix("Error: ").removeprefix("tracker: ") == message
    assert list(tmp_path.iterdir()) == []  # neither the output nor a store


def test_a_good_value_in_another_case_is_not_guessed(seeded_store: Path) -> None:
    # Suggested, not taken: an export of "RCT" that quietly meant "rct" would hide a typo of another id.
    result = CliRunner().invoke(cli, ["export", "--db", str(seeded_store), "--design", "rct"])
    assert result.exit_code == 0, result.stderr


@pytest.fixture
def seeded_store(tmp_path: Path) -> Path:
    db_path = tmp_path / "tracker.sqlite"
    seed_store(db_path, load_hypotheses(DEFAULT_HYPOTHESES_PATH), make_articles(20, seed=4))
    return db_path


# --- a taken port: said at once, before any fetch -----------------------------------------------------------------

@pytest.fixture
def taken_port():
    import socket

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


def test_tracker_dashboard_on_a_taken_port_says_so_in_one_line_and_starts_nothing(monkeypatch, tmp_path,
                                                                                 taken_port) -> None:
    started = []
    monkeypatch.setattr("os.execv", lambda *command: started.append(command))
    result = CliRunner().invoke(cli, ["dashboard", "--db", str(tmp_path / "t.sqlite"), "--port", str(taken_port)])
    assert (result.exit_code, started, result.stdout) == (1, [], "")
    assert result.stderr == (f"tracker: port {taken_port} on 127.0.0.1 is taken (another program listens there); "
                             f"choose another with --port N (make run PORT=N)\n")


def test_make_run_on_a_taken_port_stops_before_the_fetch(tmp_path, taken_port) -> None:
    import os
    import shutil
    import subprocess

    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    environment = {key: value for key, value in os.environ.items()
                   if key not in ("PORT", "MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MAKEOVERRIDES")}
    # A fetch, had it started, would create the store and fail against a closed port within a few tries.
    environment.update(TRACKER_DB=str(tmp_path / "run.sqlite"), NCBI_EUTILS_URL="http://127.0.0.1:9/")
    result = subprocess.run(["make", "--no-print-directory", "-o", ".venv/bin/tracker", "run", f"PORT={taken_port}"],
                            cwd=Path(__file__).resolve().parent.parent, capture_output=True, text=True, timeout=120,
                            env=environment)
    assert result.returncode != 0
    assert f"tracker: port {taken_port} on 127.0.0.1 is taken" in result.stderr
    assert "fetch" not in result.stdout.replace("--port", "") and "serving" not in result.stderr
    assert not (tmp_path / "run.sqlite").exists()


# --- set-up and the test summary say what happens ----------------------------------------------------------------

def test_the_set_up_step_says_what_it_does_and_lets_pip_show_its_progress() -> None:
    import os
    import subprocess

    environment = {key: value for key, value in os.environ.items()
                   if key not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MAKEOVERRIDES")}
    result = subprocess.run(["make", "--no-print-directory", "-n", "-B", ".venv/bin/tracker"],
                            cwd=Path(__file__).resolve().parent.parent, capture_output=True, text=True, timeout=30,
                            env=environment)
    lines = result.stdout.splitlines()
    assert lines[0].startswith("echo \"setting up .venv: the tracker and its dependencies")
    install = next(line for line in lines if "-e '.[dev]'" in line)
    assert "--quiet" not in install and " -q" not in install


def test_make_test_says_in_its_summary_that_the_browser_tests_did_not_run() -> None:
    import os
    import subprocess
    import sys

    environment = {key: value for key, value in os.environ.items() if key != "CI"}
    environment["TEST_CHROMIUM_PATH"] = "/nonexistent/chromium"
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_browser.py"],
                            cwd=Path(__file__).resolve().parent.parent, capture_output=True, text=True, timeout=300,
                            env=environment)
    assert result.returncode == 0, result.stdout
    assert re.search(r"NOT RUN: \d+ end-to-end browser tests: /nonexistent/chromium is not installed; "
                     r"apt-get install chromium", result.stdout), result.stdout
    ci = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_browser.py"],
                        cwd=Path(__file__).resolve().parent.parent, capture_output=True, text=True, timeout=300,
                        env={**environment, "CI": "1"})
    assert ci.returncode == 1 and "is missing in CI" in ci.stdout


def test_ci_installs_chromium_and_runs_the_tests_as_ci() -> None:
    script = (Path(__file__).resolve().parent.parent / ".ci" / "run").read_text(encoding="utf-8")
    assert "apt-get install -y -qq chromium" in script
    assert script.rstrip().endswith("CI=1 make test")


@pytest.mark.parametrize(("path", "command"), [("venv", "tracker"), ("none", ".venv/bin/tracker")])
def test_a_hint_names_the_command_as_it_runs_here(monkeypatch, tmp_path, path, command) -> None:
    import os
    import sys

    monkeypatch.chdir(Path(__file__).resolve().parent.parent)
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent) if path == "venv" else os.devnull)
    result = CliRunner().invoke(cli, ["status", "--db", str(tmp_path / "none.sqlite")])
    assert result.stderr == (f"tracker: {tmp_path / 'none.sqlite'}: no store yet; run `{command} fetch` "
                             f"(or `{command} import FILE`) to create it\n")


def test_the_readme_is_a_short_read_that_links_every_document_in_docs() -> None:
    docs = Path(__file__).resolve().parent.parent / "docs"
    assert len(README.splitlines()) <= 180
    linked = set(re.findall(r"\]\(docs/([\w.-]+\.md)\)", README))
    assert linked == {path.name for path in docs.glob("*.md")}
    for path in docs.glob("*.md"):
        text = path.read_text(encoding="utf-8")
        assert text.startswith("# ") and "](../README.md)" in text, path
