"""The SQLite store: migrations, idempotent upserts, atomic batches, readers beside a writer."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tracker import store
from tracker.errors import StoreError
from tracker.models import AbstractSection, Article, Author, Correction, MeshHeading, MeshQualifier

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


def test_stance_rows_round_trip_and_are_replaced_per_article(db_path: Path) -> None:
    import pandas as pd

    connection = store.connect(db_path)
    row = {"pmid": ARTICLE.pmid, "hypothesis_id": "substance_p", "stance": "supports", "evidence_kind": "comparison",
           "hedged": False, "section": "RESULTS", "sentence": "Elevated levels were found.", "cue": "elevated",
           "n_patients": 32, "n_controls": None}
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
