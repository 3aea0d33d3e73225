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
