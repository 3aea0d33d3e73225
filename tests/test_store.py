"""The SQLite store: migrations, idempotent upserts, atomic batches, readers beside a writer."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from tracker import store
from tracker.errors import StoreError
from tracker.models import AbstractSection, Article, Author, Chemical, Correction, Grant, MeshHeading, MeshQualifier

ARTICLE = Article(
    pmid=12345678,
    title="Substance P in the cerebrospinal fluid of patients with fibromyalgia: a Zürich cohort",
    abstract=(AbstractSection("Elevated levels were found.", "RESULTS", "RESULTS"),),
    journal="Arthritis & Rheumatism", journal_iso="Arthritis Rheum", volume="37", issue="11", pages="1593-601",
    pub_year=1994, pub_month=11, pub_date_raw="1994 Nov",
    authors=(Author("Russell", "I Jon", "IJ", affiliations=("University of Texas",)),
             Author(collective_name="Fibromyalgia Study Group")),
    doi="10.1002/art.1780371106", languages=("eng",), publication_types=("Journal Article",),
    mesh=(MeshHeading("Substance P", "D013373", False, (MeshQualifier("cerebrospinal fluid", True),)),),
    keywords=("nociception",), corrections=(Correction("ErratumIn", 7000001, "Arthritis Rheum. 1995"),),
)


def test_new_store_is_migrated_to_the_current_schema_in_wal_mode(db_path: Path) -> None:
    connection = store.connect(db_path)
    assert connection.execute("PRAGMA user_version").fetchone()[0] == store.SCHEMA_VERSION
    assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_upsert_is_idempotent_and_round_trips_every_field(db_path: Path) -> None:
    connection = store.connect(db_path)
    with store.transaction(connection):
        assert store.save_articles(connection, [ARTICLE], "pubmed") == {ARTICLE.pmid: "new"}
    with store.transaction(connection):
        assert store.save_articles(connection, [ARTICLE], "pubmed") == {ARTICLE.pmid: "unchanged"}
    corrected = Article(**{**ARTICLE.__dict__, "title": "Corrected title"})
    with store.transaction(connection):
        assert store.save_articles(connection, [corrected], "import:x.nbib") == {ARTICLE.pmid: "updated"}
    assert store.load_article(connection, ARTICLE.pmid) == corrected
    assert connection.execute("SELECT COUNT(*) FROM articles").fetchone()[0] == 1
    sources = [r[0] for r in connection.execute("SELECT source FROM article_sources ORDER BY source")]
    assert sources == ["import:x.nbib", "pubmed"]
    row = connection.execute("SELECT author_names, abstract FROM articles").fetchone()
    assert tuple(row) == ("Russell IJ; Fibromyalgia Study Group", "RESULTS: Elevated levels were found.")


def test_a_failed_batch_leaves_nothing_behind(db_path: Path) -> None:
    connection = store.connect(db_path)
    with pytest.raises(RuntimeError):
        with store.transaction(connection):
            store.save_articles(connection, [ARTICLE], "pubmed")
            store.link_hypothesis(connection, "substance_p", [ARTICLE.pmid], store.utc_now())
            raise RuntimeError("killed mid-batch")
    assert store.stored_pmids(connection) == set()
    assert store.linked_pmids(connection, "substance_p") == set()


def test_reader_sees_the_last_committed_state_while_a_writer_is_open(db_path: Path) -> None:
    writer = store.connect(db_path)
    with store.transaction(writer):
        store.save_articles(writer, [ARTICLE], "pubmed")
    reader = store.connect(db_path, read_only=True)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("DELETE FROM articles")
    assert store.stored_pmids(reader) == {ARTICLE.pmid}
    writer.execute("ROLLBACK")
    with pytest.raises(sqlite3.OperationalError):
        reader.execute("DELETE FROM articles")


def test_deleting_an_article_drops_its_links(db_path: Path) -> None:
    connection = store.connect(db_path)
    with store.transaction(connection):
        store.save_articles(connection, [ARTICLE], "pubmed")
        store.link_hypothesis(connection, "substance_p", [ARTICLE.pmid], store.utc_now())
        assert store.delete_articles(connection, [ARTICLE.pmid, 1]) == 1
    assert store.linked_pmids(connection, "substance_p") == set()


def test_interrupted_runs_are_marked_when_the_next_one_starts(db_path: Path) -> None:
    connection = store.connect(db_path)
    first = store.start_run(connection, full_sync=False)
    second = store.start_run(connection, full_sync=False)
    runs = store.load_runs_frame(connection).set_index("id")
    assert runs.loc[first, "status"] == "interrupted"
    assert runs.loc[second, "status"] == "running"


@pytest.mark.parametrize(
    ("prepare", "message"),
    [
        (lambda path: path.write_bytes(b"this is not a database at all" * 100), "is not a tracker store"),
        (lambda path: sqlite3.connect(path).execute("PRAGMA user_version = 999"), "was written by a newer tracker"),
    ],
)
def test_foreign_or_newer_files_are_refused(db_path: Path, prepare, message: str) -> None:
    prepare(db_path)
    with pytest.raises(StoreError, match=message):
        store.connect(db_path)


def test_reader_of_a_missing_store_is_told_how_to_create_it(db_path: Path) -> None:
    with pytest.raises(StoreError, match="no store yet; run `tracker fetch`"):
        store.connect(db_path, read_only=True)


def test_last_successful_run_is_found_behind_any_number_of_failed_ones(db_path: Path) -> None:
    connection = store.connect(db_path)
    assert store.load_last_successful_run(connection) is None
    succeeded = store.start_run(connection, full_sync=False)
    store.finish_run(connection, succeeded, "succeeded", None)
    for _ in range(25):  # three weeks and more of nights without network
        store.finish_run(connection, store.start_run(connection, full_sync=False), "failed", "no network")
    run = store.load_last_successful_run(connection)
    assert (run["id"], run["status"], run["error"]) == (succeeded, "succeeded", None)


def test_pmids_from_source(db_path: Path) -> None:
    connection = store.connect(db_path)
    other = Article(**{**ARTICLE.__dict__, "pmid": 99})
    with store.transaction(connection):
        store.save_articles(connection, [ARTICLE], "pubmed")
        store.save_articles(connection, [other], "import:a.nbib")
    wanted = [ARTICLE.pmid, 99, 5] + list(range(1000, 1700))  # more ids than one query takes
    assert store.pmids_from_source(connection, wanted, "pubmed") == {ARTICLE.pmid}
    assert store.pmids_from_source(connection, wanted, "import:a.nbib") == {99}


# What the parsers added later: comments, ORCID iDs, grants, conflicts of interest, chemicals, print status.
RICH_ARTICLE = replace(
    ARTICLE,
    authors=(replace(ARTICLE.authors[0], orcid="0000-0002-1825-0097"), ARTICLE.authors[1]),
    comments=(Correction("CommentIn", 7000002, "Arthritis Rheum. 1995;38:1"), Correction("CommentOn", None, "X")),
    grants=(Grant("R01 AR053295", "NIAMS NIH HHS", "United States"), Grant(None, "Wellcome Trust", None)),
    coi_statement="IJR has received fees from Pfizer.",
    chemicals=(Chemical("Substance P", "33507-63-0"), Chemical("Analgesics", "0")),
    publication_status="ppublish",
)


def test_the_later_fields_round_trip_and_reach_the_frames(db_path: Path) -> None:
    connection = store.connect(db_path)
    with store.transaction(connection):
        store.save_articles(connection, [RICH_ARTICLE], "pubmed")
    assert store.load_article(connection, RICH_ARTICLE.pmid) == RICH_ARTICLE

    [row] = store.load_articles_frame(connection).to_dict("records")
    assert row["comments"] == [{"ref_type": "CommentIn", "pmid": 7000002, "ref_source": "Arthritis Rheum. 1995;38:1"},
                               {"ref_type": "CommentOn", "pmid": None, "ref_source": "X"}]
    assert row["grants"][0] == {"grant_id": "R01 AR053295", "agency": "NIAMS NIH HHS", "country": "United States"}
    assert row["chemicals"][1] == {"name": "Analgesics", "registry_number": "0"}
    assert row["authors"][0]["orcid"] == "0000-0002-1825-0097"
    assert (row["coi_statement"], row["publication_status"]) == ("IJR has received fees from Pfizer.", "ppublish")

    [decoded] = store.decode_details(store.load_catalogue(connection)).to_dict("records")
    assert {key: decoded[key] for key in ("comments", "grants", "chemicals", "coi_statement",
                                          "publication_status")} == {
        key: row[key] for key in ("comments", "grants", "chemicals", "coi_statement", "publication_status")}


def test_the_content_hash_is_unchanged_without_the_later_fields_and_changes_with_them(db_path: Path) -> None:
    connection = store.connect(db_path)
    with store.transaction(connection):
        store.save_articles(connection, [ARTICLE], "pubmed")
    # The hash this article had before the later columns existed: stores written then see no change.
    assert connection.execute("SELECT content_hash FROM articles").fetchone()[0] == "f2dd1fabd5afe13c06771986648ac383"
    for field, value in [("authors", RICH_ARTICLE.authors), ("comments", RICH_ARTICLE.comments),
                         ("grants", RICH_ARTICLE.grants), ("coi_statement", RICH_ARTICLE.coi_statement),
                         ("chemicals", RICH_ARTICLE.chemicals), ("publication_status", "aheadofprint")]:
        with store.transaction(connection):
            outcome = store.save_articles(connection, [replace(ARTICLE, **{field: value})], "pubmed")
        assert outcome == {ARTICLE.pmid: "updated"}, field
        with store.transaction(connection):
            store.save_articles(connection, [ARTICLE], "pubmed")


def test_a_store_of_the_previous_schema_gains_the_later_columns(db_path: Path) -> None:
    old = sqlite3.connect(db_path)
    version = store.MIGRATIONS.index(next(m for m in store.MIGRATIONS if "ADD COLUMN coi_statement" in m))
    for migration in store.MIGRATIONS[:version]:
        old.executescript(migration)
    old.execute(f"PRAGMA user_version = {version}")
    old.execute("INSERT INTO articles (pmid, kind, title, content_hash, first_seen, last_changed) "
                "VALUES (1, 'journal', 'Old', 'x', '2020-01-01', '2020-01-01')")
    old.commit()
    old.close()

    connection = store.connect(db_path)
    assert store.load_article(connection, 1) == Article(pmid=1, title="Old")


def test_stance_rows_round_trip_and_are_replaced_per_article(db_path: Path) -> None:
    import pandas as pd

    connection = store.connect(db_path)
    row = {"pmid": ARTICLE.pmid, "hypothesis_id": "substance_p", "stance": "supports", "evidence_kind": "comparison",
           "hedged": False, "section": "RESULTS", "sentence": "Elevated levels were found.", "cue": "elevated",
           "n_patients": 32, "n_controls": None, "confidence": "low",
           "confidence_reason": "construct inferred from the abbreviation SP"}
    with store.transaction(connection):
        store.save_articles(connection, [ARTICLE], "pubmed")
        store.save_stances(connection, pd.DataFrame([row]), [ARTICLE.pmid], "v1")
    loaded = store.load_stance_frame(connection)
    assert [{key: None if pd.isna(value) else value for key, value in record.items()}
            for record in loaded.to_dict("records")] == [row]
    assert (str(loaded["n_patients"].dtype), str(loaded["hedged"].dtype)) == ("Int64", "bool")
    assert store.load_stance_frame(connection, [ARTICLE.pmid], ["stance"]).to_dict("records") == [
        {"pmid": ARTICLE.pmid, "hypothesis_id": "substance_p", "stance": "supports"}]
    with store.transaction(connection):
        store.save_stances(connection, pd.DataFrame(columns=list(row)), [ARTICLE.pmid], "v2")
    assert store.load_stance_frame(connection).empty
    with pytest.raises(ValueError, match="not a stance column: score"):
        store.load_stance_frame(connection, columns=["score"])


def test_a_store_from_before_stance_migrates_and_keeps_its_articles(db_path: Path) -> None:
    connection = sqlite3.connect(db_path)
    for number in range(2):
        for statement in store.MIGRATIONS[number].split(";"):
            if statement.strip():
                connection.execute(statement)
    connection.execute("PRAGMA user_version = 2")
    connection.commit()
    connection.close()
    with store.transaction(opened := store.connect(db_path)):
        store.save_articles(opened, [ARTICLE], "pubmed")
    opened.close()
    migrated = store.connect(db_path)
    assert migrated.execute("PRAGMA user_version").fetchone()[0] == store.SCHEMA_VERSION
    assert store.load_stance_frame(migrated).empty
    assert store.stored_pmids(migrated) == {ARTICLE.pmid}


def test_stances_read_before_confidence_migrate_as_low_confidence_until_read_again(db_path: Path) -> None:
    import pandas as pd

    migration = store.MIGRATIONS.index(next(m for m in store.MIGRATIONS if "confidence" in m))
    row = {"pmid": ARTICLE.pmid, "hypothesis_id": "sleep", "stance": "supports", "evidence_kind": "comparison",
           "hedged": 0, "section": None, "sentence": "Sleep was shorter.", "cue": "shorter", "n_patients": None,
           "n_controls": None}
    # The store as it was before the migration (made by the migrations before it): stances without confidence.
    connection = sqlite3.connect(db_path, isolation_level=None)
    connection.row_factory = sqlite3.Row
    for earlier in store.MIGRATIONS[:migration]:
        connection.executescript(earlier)
    store.save_articles(connection, [ARTICLE], "pubmed")
    connection.execute(f"INSERT INTO stances ({', '.join(row)}, rules_version) VALUES "
                       f"({', '.join('?' * (len(row) + 1))})", (*row.values(), "old-rules"))
    connection.execute(f"PRAGMA user_version = {migration}")
    connection.commit()
    connection.close()
    migrated = store.connect(db_path)
    assert store.load_stance_frame(migrated, columns=("stance", "confidence", "confidence_reason")).to_dict(
        "records") == [{"pmid": ARTICLE.pmid, "hypothesis_id": "sleep", "stance": "supports", "confidence": "low",
                        "confidence_reason": "read before readings kept their confidence, run tracker retag"}]
    assert store.stale_stance_pmids(migrated, "new-rules", ["sleep"]).tolist() == [ARTICLE.pmid]
    with pytest.raises(sqlite3.IntegrityError), store.transaction(migrated):
        store.save_stances(migrated, pd.DataFrame([{**row, "confidence": "certain", "confidence_reason": None}]),
                           [ARTICLE.pmid], "new-rules")


# --- failures of the file: one line naming it and the fix, nothing committed lost -------------------------------

PROJECT_DIR = Path(__file__).resolve().parent.parent
MEDLINE_FILE = PROJECT_DIR / "tests" / "fixtures" / "medline_fibromyalgia.txt"
DAMAGED_FIX = "restore it from a backup, or move it away and run `tracker fetch` to rebuild it"


def _as_ordinary_user() -> list[str]:
    """A command prefix under which file permissions hold: root ignores them, so drop into a user namespace."""
    import os
    import shutil
    import subprocess

    if os.geteuid() != 0:
        return []
    if shutil.which("unshare") is None or subprocess.run(["unshare", "--user", "true"]).returncode != 0:
        pytest.skip("running as root without user namespaces: file permissions cannot be tested")
    return ["unshare", "--user"]


def _tracker_process(*arguments: str) -> "subprocess.CompletedProcess":
    import os
    import subprocess
    import sys

    # A closed local port: a fetch that got past the store by mistake fails there instead of reaching NCBI.
    environment = {**os.environ, "NCBI_EUTILS_URL": "http://127.0.0.1:9/"}
    return subprocess.run([*_as_ordinary_user(), sys.executable, "-m", "tracker", *arguments], cwd=PROJECT_DIR,
                          capture_output=True, text=True, timeout=120, env=environment)


def _import(db_path: Path, *files: Path) -> "click.testing.Result":
    from click.testing import CliRunner

    from tracker.cli import cli

    return CliRunner().invoke(cli, ["import", "--db", str(db_path), *map(str, files)])


@pytest.fixture
def imported_store(tmp_path: Path) -> Path:
    """A store in its own folder holding the four fixture records, its lock file made by that first job."""
    db_path = tmp_path / "store" / "tracker.sqlite"
    assert _import(db_path, MEDLINE_FILE).exit_code == 0
    yield db_path
    db_path.chmod(0o644)
    db_path.parent.chmod(0o755)


@pytest.mark.parametrize("command", [["fetch"], ["import", str(MEDLINE_FILE)], ["retag"]], ids=lambda c: c[0])
@pytest.mark.parametrize("read_only", ["file", "folder"])
def test_a_read_only_store_is_one_line_naming_the_file_and_the_fix(imported_store: Path, read_only: str,
                                                                   command: list[str]) -> None:
    db_path = imported_store
    before = db_path.read_bytes()
    if read_only == "file":
        db_path.chmod(0o444)
        fix = f"the file is read-only: make it writable (chmod u+w {db_path}) or give another path with --db"
    else:
        db_path.parent.chmod(0o555)
        fix = (f"its folder is read-only, and SQLite must create tracker.sqlite-wal and tracker.sqlite-shm there: "
               f"make {db_path.parent} writable or give another path with --db")
    result = _tracker_process(*command, "--db", str(db_path))
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (f"tracker: {db_path}: SQLite cannot write there (attempt to write a readonly database); "
                             f"{fix}\n")
    assert db_path.read_bytes() == before


def _tiny_disk(monkeypatch: pytest.MonkeyPatch, spare_pages: int) -> None:
    """Let every connection the commands open grow the store by `spare_pages` pages only: a disk that fills up."""
    real_connect = store.connect

    def connect(path: Path, **options: object) -> sqlite3.Connection:
        connection = real_connect(path, **options)
        pages = connection.execute("PRAGMA page_count").fetchone()[0]
        connection.execute(f"PRAGMA max_page_count = {pages + spare_pages}")
        return connection

    monkeypatch.setattr(store, "connect", connect)


def _disk_full_line(db_path: Path) -> str:
    return (f"tracker: {db_path}: the disk is full (database or disk is full); free some space and run the "
            f"command again — every batch committed before is kept")


def _catalogue(db_path: Path):
    from support.seed import read_catalogue

    return store.decode_details(read_catalogue(db_path)).drop(columns=["first_seen"], errors="ignore")


def test_import_on_a_full_disk_is_one_line_and_keeps_what_was_stored(imported_store: Path, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from support.synthetic import pubmed_article_set, synthetic_corpus

    big_file = tmp_path / "pubmed-big.xml"
    big_file.write_bytes(pubmed_article_set(synthetic_corpus(400, seed=5).values()))
    before = _catalogue(imported_store)
    _tiny_disk(monkeypatch, spare_pages=20)
    result = _import(imported_store, big_file)
    assert result.exit_code == 1, result.output
    assert result.stderr == _disk_full_line(imported_store) + "\n"
    monkeypatch.undo()
    after = _catalogue(imported_store)
    assert after.equals(before)
    assert store.connect(imported_store, read_only=True).execute("PRAGMA quick_check").fetchall()[0][0] == "ok"


def test_fetch_on_a_full_disk_is_one_line_and_keeps_every_committed_batch(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner
    from support.fetch_helpers import HYPOTHESES_TOML, seed_corpus
    from support.standin import EutilsStandin

    from tracker.cli import cli

    hypotheses = tmp_path / "hypotheses.toml"
    hypotheses.write_text(HYPOTHESES_TOML, encoding="utf-8")
    db_path = tmp_path / "tracker.sqlite"
    arguments = ["fetch", "--db", str(db_path), "--hypotheses", str(hypotheses)]
    with EutilsStandin(rate_limit=False) as server:
        monkeypatch.setenv("NCBI_EUTILS_URL", server.base_url)
        monkeypatch.setenv("TRACKER_BATCH_SIZE", "20")
        seed_corpus(server, range(1000, 1040), set(range(1000, 1040, 3)), set(range(1001, 1040, 4)))
        assert CliRunner().invoke(cli, arguments).exit_code == 0
        before = _catalogue(db_path)
        seed_corpus(server, range(1000, 1600), set(range(1000, 1600, 3)), set(range(1001, 1600, 4)))
        _tiny_disk(monkeypatch, spare_pages=120)
        result = CliRunner().invoke(cli, arguments)
    assert result.exit_code == 1, result.output
    assert [line for line in result.stderr.splitlines() if line.startswith("tracker:")] == [_disk_full_line(db_path)]
    after = _catalogue(db_path).set_index("pmid")
    assert 40 < len(after) < 600  # some batches of the second run committed before the disk filled up
    kept = after.loc[before["pmid"]].reset_index()[before.columns]
    assert kept.drop(columns=["hypotheses", "tag_sources", "matched_terms"]).equals(
        before.drop(columns=["hypotheses", "tag_sources", "matched_terms"]))
    assert store.connect(db_path, read_only=True).execute("PRAGMA quick_check").fetchall()[0][0] == "ok"


@pytest.fixture
def damaged_store(tmp_path: Path) -> Path:
    """A real store of 400 articles with four pages in the middle of its articles' table overwritten, as a bad disk
    would (there, not in an index a read may skip, so that every read of the articles meets them)."""
    from support.seed import make_articles, seed_store

    from tracker.config import DEFAULT_HYPOTHESES_PATH, load_hypotheses

    db_path = tmp_path / "tracker.sqlite"
    seed_store(db_path, load_hypotheses(DEFAULT_HYPOTHESES_PATH), make_articles(400, seed=1))
    connection = sqlite3.connect(db_path)
    page_size, page_count = (connection.execute(f"PRAGMA {name}").fetchone()[0] for name in ("page_size", "page_count"))
    pages = [row[0] for row in connection.execute("SELECT pageno FROM dbstat WHERE name = 'articles' ORDER BY pageno")]
    connection.close()
    assert page_count > 40 and len(pages) > 8
    with open(db_path, "r+b") as stream:
        # Page numbers count from 1.
        stream.seek(page_size * (pages[len(pages) // 2] - 1))
        stream.write(bytes(range(256)) * (4 * page_size // 256))
    return db_path


@pytest.mark.parametrize("command", [["fetch"], ["import", str(MEDLINE_FILE)], ["retag"], ["status"]],
                         ids=lambda c: c[0])
def test_a_damaged_store_is_refused_before_any_command_adds_to_it(damaged_store: Path, command: list[str],
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from tracker.cli import cli

    monkeypatch.setenv("NCBI_EUTILS_URL", "http://127.0.0.1:9/")
    before = damaged_store.read_bytes()
    result = CliRunner().invoke(cli, [*command, "--db", str(damaged_store)])
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    # Either quick_check's own finding or the error SQLite raised while checking.
    assert result.stderr.startswith(f"tracker: {damaged_store}: the store is damaged (")
    assert result.stderr.endswith(f"); {DAMAGED_FIX}\n") and result.stderr.count("\n") == 1
    assert damaged_store.read_bytes() == before


def test_an_export_meeting_a_damaged_page_is_one_line(damaged_store: Path) -> None:
    from click.testing import CliRunner

    from tracker.cli import cli

    result = CliRunner().invoke(cli, ["export", "--db", str(damaged_store)])
    assert result.exit_code == 1
    assert result.stderr == (f"tracker: {damaged_store}: the store is damaged (database disk image is malformed); "
                             f"{DAMAGED_FIX}\n")


def test_a_tracker_bug_stays_a_sqlite_error(db_path: Path) -> None:
    connection = store.connect(db_path)
    with pytest.raises(sqlite3.OperationalError, match="no such column"):
        connection.execute("SELECT no_such_column FROM articles")


def test_an_import_is_not_the_last_successful_fetch(db_path: Path) -> None:
    # The scheduler catches up a missed fetch from this: an import in between must not hide the missed night.
    connection = store.connect(db_path)
    fetched = store.start_run(connection, full_sync=False)
    store.finish_run(connection, fetched, "succeeded", None)
    with store.transaction(connection):
        imported = store.record_import_run(connection, ["mine.nbib"], store.utc_now())
    assert imported > fetched
    assert store.load_last_successful_run(connection)["id"] == fetched


def test_run_articles_keep_the_first_outcome_and_leave_unchanged_ones_out(db_path: Path) -> None:
    connection = store.connect(db_path)
    run_id = store.start_run(connection, full_sync=False)
    with store.transaction(connection):
        store.record_run_articles(connection, run_id, store.save_articles(connection, [ARTICLE], "pubmed"))
        corrected = Article(**{**ARTICLE.__dict__, "title": "Corrected title"})
        other = Article(**{**ARTICLE.__dict__, "pmid": 99})
        store.record_run_articles(connection, run_id, store.save_articles(connection, [corrected, other], "pubmed"))
        store.record_run_articles(connection, run_id, store.save_articles(connection, [other], "pubmed"))
    history = store.load_run_history(connection)
    assert history.changes.values.tolist() == [[run_id, 99, "new"], [run_id, ARTICLE.pmid, "new"]]
    with store.transaction(connection):
        assert store.delete_articles(connection, [99]) == 1
    assert store.load_run_history(connection).changes["pmid"].tolist() == [ARTICLE.pmid]


def test_all_stance_keys_read_at_once_equal_the_rows_read_per_article(db_path: Path) -> None:
    import pandas as pd

    connection = store.connect(db_path)
    articles = [replace(ARTICLE, pmid=pmid) for pmid in (30, 4, 200)]
    rows = pd.DataFrame([
        {"pmid": pmid, "hypothesis_id": hypothesis_id, "stance": stance, "evidence_kind": kind, "hedged": False,
         "section": None, "sentence": None, "cue": None, "n_patients": None, "n_controls": None,
         "confidence": "high", "confidence_reason": None}
        for pmid, hypothesis_id, stance, kind in [
            (200, "sleep", "mixed", "review"), (4, "serotonin", "contradicts", "comparison"),
            (30, "sleep", "supports", "association"), (4, "autonomic", "no_finding", "other")]])
    with store.transaction(connection):
        store.save_articles(connection, articles, "pubmed")
        store.save_stances(connection, rows, [a.pmid for a in articles], "v1")
    pmids = [a.pmid for a in articles]
    for columns in (("stance",), ("stance", "evidence_kind"), ("stance", "confidence"), ()):
        every_row = store.load_stance_frame(connection, columns=columns)
        pd.testing.assert_frame_equal(every_row, store.load_stance_frame(connection, pmids, columns=columns))
        assert list(zip(every_row["pmid"], every_row["hypothesis_id"])) == [
            (4, "autonomic"), (4, "serotonin"), (30, "sleep"), (200, "sleep")]


# --- files the tracker did not make, and stores changed behind its back -------------------------------------------

def _cli(*arguments: str):
    from click.testing import CliRunner

    from tracker.cli import cli

    return CliRunner().invoke(cli, list(arguments))


def _foreign_database(path: Path, user_version: int = 0) -> None:
    foreign = sqlite3.connect(path)
    foreign.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    foreign.execute("INSERT INTO notes (body) VALUES ('someone else''s data')")
    foreign.execute(f"PRAGMA user_version = {user_version}")
    foreign.commit()
    foreign.close()


@pytest.mark.parametrize("command", [["import", str(MEDLINE_FILE)], ["fetch"], ["retag"], ["status"], ["export"]],
                         ids=lambda c: c[0])
@pytest.mark.parametrize("user_version", [0, 3])
def test_a_foreign_sqlite_file_is_refused_and_left_untouched(db_path: Path, command: list[str], user_version: int,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NCBI_EUTILS_URL", "http://127.0.0.1:9/")
    _foreign_database(db_path, user_version)
    before = db_path.read_bytes()
    result = _cli(*command, "--db", str(db_path))
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    assert result.stderr == (
        f"tracker: {db_path}: is not a tracker store (it holds tables the tracker never makes: notes); point --db at "
        "another file or move this one away — the tracker changed nothing in it\n")
    assert db_path.read_bytes() == before
    assert not Path(f"{db_path}-wal").exists()
    assert sqlite3.connect(db_path).execute("PRAGMA journal_mode").fetchone()[0] == "delete"


def test_an_empty_file_becomes_a_store(db_path: Path) -> None:
    db_path.write_bytes(b"")
    connection = store.connect(db_path)
    assert connection.execute("PRAGMA user_version").fetchone()[0] == store.SCHEMA_VERSION


ALTERATIONS = {
    "dropped column": ("ALTER TABLE articles DROP COLUMN coi_statement", "table articles has no column coi_statement"),
    "dropped table": ("DROP TABLE stances", "it has no table stances"),
    "trigger": ("CREATE TRIGGER no_inserts BEFORE INSERT ON articles BEGIN SELECT RAISE(ABORT, 'refused'); END",
                "it has a trigger no_inserts, which the tracker never makes"),
    "added column": ("ALTER TABLE tags ADD COLUMN note TEXT", "table tags has a column note the tracker never makes"),
    # Without it the summaries would stop following the stance rows, silently.
    "dropped trigger": ("DROP TRIGGER summary_stances_insert", "it has no trigger summary_stances_insert"),
}


def _altered(imported_store: Path, alteration: str) -> str:
    statement, detail = ALTERATIONS[alteration]
    connection = sqlite3.connect(imported_store)
    connection.execute(statement)
    connection.commit()
    connection.close()
    return (f"tracker: {imported_store}: this store's schema was changed outside the tracker ({detail}); "
            f"{DAMAGED_FIX}\n")


@pytest.mark.parametrize("alteration", ALTERATIONS)
def test_status_of_a_store_changed_outside_the_tracker_exits_1_in_one_line(imported_store: Path,
                                                                            alteration: str) -> None:
    message = _altered(imported_store, alteration)
    result = _cli("status", "--db", str(imported_store))
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", message)


@pytest.mark.parametrize("command", [["export"], ["evidence"], ["feed"], ["emerging"], ["import", str(MEDLINE_FILE)],
                                     ["retag"]], ids=lambda c: c[0])
def test_every_command_refuses_a_store_changed_outside_the_tracker(imported_store: Path, command: list[str]) -> None:
    message = _altered(imported_store, "trigger")
    result = _cli(*command, "--db", str(imported_store))
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", message)


def test_reads_for_the_configured_causes_leave_other_ids_out(tmp_path: Path) -> None:
    from support.seed import make_articles, read_catalogue, seed_stances, seed_store

    from tracker.config import DEFAULT_HYPOTHESES_PATH, load_hypotheses

    db_path = tmp_path / "tracker.sqlite"
    hypotheses = load_hypotheses(DEFAULT_HYPOTHESES_PATH)
    seed_store(db_path, hypotheses, make_articles(60, seed=3))
    seed_stances(db_path, read_catalogue(db_path))
    configured = [h.id for h in hypotheses if h.id != "serotonin"]
    connection = store.connect(db_path, read_only=True)
    everything = store.load_catalogue(connection)
    catalogue = store.decode_details(store.load_catalogue(connection, hypothesis_ids=configured), ["matched_terms"])
    stances = store.load_stance_frame(connection, hypothesis_ids=configured)
    all_stances = store.load_stance_frame(connection)
    connection.close()
    assert any("serotonin" in carried for carried in everything["hypotheses"])
    assert not any("serotonin" in carried for carried in catalogue["hypotheses"])
    assert not any("serotonin" in sources for sources in catalogue["tag_sources"])
    assert not any("serotonin" in terms for terms in catalogue["matched_terms"])
    assert [[c for c in carried if c != "serotonin"] for carried in everything["hypotheses"]] == [
        list(carried) for carried in catalogue["hypotheses"]]
    assert stances.equals(all_stances[all_stances["hypothesis_id"] != "serotonin"].reset_index(drop=True))
