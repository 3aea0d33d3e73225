"""`tracker import`: hand-written MEDLINE and XML files in, whole rows compared; malformed files change nothing."""

from __future__ import annotations

import gzip
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from tracker import store
from tracker.cli import cli
from tracker.config import load_settings
from tracker.errors import ConfigError, ParseError
from tracker.jobs.importer import FileImport, degraded_fields, detect_format, import_files
from tracker.jobs.lock import lock_path
from tracker.pubmed.medline import iter_medline_articles
from tracker.models import Article, SizeLimits
from tracker.pubmed.parse import iter_pubmed_records

FIXTURES = Path(__file__).parent / "fixtures"
MEDLINE_FILE = FIXTURES / "medline_fibromyalgia.txt"
XML_FILE = FIXTURES / "import_fibromyalgia.xml"

MEDLINE_PMIDS = [39000101, 39000102, 39000103, 39000104]
XML_PMIDS = [39000201, 39000202]


@pytest.fixture
def hypotheses():
    return load_settings().hypotheses


@pytest.fixture
def connection(db_path: Path) -> Iterator[sqlite3.Connection]:
    connection = store.connect(db_path)
    yield connection
    connection.close()


def _dump(connection: sqlite3.Connection) -> list[str]:
    """Every row of every table, to show that a failed or repeated import changed nothing at all."""
    return list(connection.iterdump())


def _sources(connection: sqlite3.Connection) -> list[tuple[int, str]]:
    return [tuple(row) for row in connection.execute("SELECT pmid, source FROM article_sources ORDER BY pmid, source")]


def _xml_articles() -> list[Article]:
    return [record for record in iter_pubmed_records(XML_FILE.read_bytes()) if isinstance(record, Article)]


def test_import_medline_and_xml_stores_every_article_with_its_source(connection, hypotheses) -> None:
    report = import_files(connection, [MEDLINE_FILE, XML_FILE], hypotheses)

    assert report.files == (
        FileImport(MEDLINE_FILE, "medline", records_read=4, new=4, updated=0, unchanged=0),
        FileImport(XML_FILE, "xml", records_read=2, new=2, updated=0, unchanged=0),
    )
    assert (report.new, report.updated, report.tagged) == (6, 0, 6)
    expected = list(iter_medline_articles(MEDLINE_FILE)) + _xml_articles()
    assert [store.load_article(connection, article.pmid) for article in expected] == expected
    assert _sources(connection) == (
        [(pmid, "import:medline_fibromyalgia.txt") for pmid in MEDLINE_PMIDS]
        + [(pmid, "import:import_fibromyalgia.xml") for pmid in XML_PMIDS]
    )
    # The XML file's DeleteCitation removes nothing, and imports never claim a query returned them.
    assert connection.execute("SELECT COUNT(*) FROM hypothesis_articles").fetchone()[0] == 0



def test_a_record_repeated_in_a_file_counts_once_as_new(connection, hypotheses, tmp_path) -> None:
    first_record = MEDLINE_FILE.read_text(encoding="utf-8").split("\n\n")[0]
    repeated = tmp_path / "repeated.nbib"
    repeated.write_text(f"{first_record}\n\n{first_record}\n", encoding="utf-8")

    report = import_files(connection, [repeated], hypotheses)

    assert report.files == (FileImport(repeated, "medline", records_read=2, new=1, updated=0, unchanged=0),)
    assert (report.new, report.updated, report.tagged) == (1, 0, 1)
    (article,) = iter_medline_articles(MEDLINE_FILE.read_bytes().split(b"\n\n")[0] + b"\n")
    assert store.load_article(connection, article.pmid) == article

def test_imported_articles_are_tagged_by_their_text(connection, hypotheses) -> None:
    import_files(connection, [MEDLINE_FILE, XML_FILE], hypotheses)
    catalogue = store.decode_details(store.load_catalogue(connection)).set_index("pmid")

    assert catalogue.loc[39000101, "hypotheses"] == ["central_sensitisation", "fibromyalgia", "serotonin"]
    assert catalogue.loc[39000101, "tag_sources"] == {"central_sensitisation": "text", "fibromyalgia": "text",
                                                      "serotonin": "text"}
    assert catalogue.loc[39000102, "hypotheses"] == ["fibromyalgia", "sleep"]
    assert catalogue.loc[39000201, "hypotheses"] == ["autonomic", "fibromyalgia"]
    assert catalogue.loc[39000202, "hypotheses"] == ["substance_p"]
    assert bool(catalogue.loc[39000101, "retracted"]) is True
    assert catalogue.loc[39000101, "sources"] == ["import:medline_fibromyalgia.txt"]


def test_importing_the_same_files_twice_changes_nothing(connection, hypotheses) -> None:
    import_files(connection, [MEDLINE_FILE, XML_FILE], hypotheses)
    before = _dump(connection)

    report = import_files(connection, [MEDLINE_FILE, XML_FILE], hypotheses)

    assert report.files == (
        FileImport(MEDLINE_FILE, "medline", records_read=4, new=0, updated=0, unchanged=4),
        FileImport(XML_FILE, "xml", records_read=2, new=0, updated=0, unchanged=2),
    )
    assert (report.new, report.updated, report.tagged) == (0, 0, 0)
    assert _dump(connection) == before


def _write(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


@pytest.mark.parametrize(("make_bad_file", "message"), [
    pytest.param(lambda tmp: FIXTURES / "medline_malformed.txt",
                 r"medline_malformed\.txt: record 2 \(line 6\) has no PMID line", id="medline without PMID"),
    pytest.param(lambda tmp: FIXTURES / "import_truncated.xml",
                 r"import_truncated\.xml' is malformed at line 31, column 0.*save it again from PubMed", id="truncated XML"),
    pytest.param(lambda tmp: _write(tmp / "notes.txt", b"My reading list\nSmith 2019\n"),
                 r"notes\.txt: is neither MEDLINE text .* it begins 'My reading list'", id="plain text"),
    pytest.param(lambda tmp: _write(tmp / "picture.nbib", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00"),
                 r"picture\.nbib: is neither MEDLINE text", id="binary"),
    pytest.param(lambda tmp: _write(tmp / "search.nbib.gz", gzip.compress(MEDLINE_FILE.read_bytes())),
                 r"search\.nbib\.gz: is gzip-compressed; unpack it first \(gunzip search\.nbib\.gz\)", id="gzip"),
    pytest.param(lambda tmp: _write(tmp / "empty.xml", b"<?xml version='1.0'?><PubmedArticleSet></PubmedArticleSet>"),
                 r"empty\.xml: holds no PubmedArticle, PubmedBookArticle or MedlineCitation records", id="empty XML set"),
    pytest.param(lambda tmp: _write(tmp / "empty.nbib", b"\n\n"),
                 r"empty\.nbib: is neither MEDLINE text", id="empty MEDLINE"),
    pytest.param(lambda tmp: _write(tmp / "other.xml", b"<html><body>Not PubMed</body></html>"),
                 r"other\.xml'?: the document is a <html>, not a <PubmedArticleSet>", id="other XML"),
])
@pytest.mark.parametrize("bad_position", ["first", "last"])
def test_a_malformed_file_anywhere_imports_nothing(connection, hypotheses, tmp_path: Path, make_bad_file,
                                                   message: str, bad_position: str) -> None:
    import_files(connection, [XML_FILE], hypotheses)
    before = _dump(connection)
    bad_file = make_bad_file(tmp_path)
    paths = [bad_file, MEDLINE_FILE] if bad_position == "first" else [MEDLINE_FILE, bad_file]

    with pytest.raises(ParseError, match=message):
        import_files(connection, paths, hypotheses)

    assert _dump(connection) == before


def test_missing_file_and_no_files_are_config_errors(connection, hypotheses, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"absent\.nbib: cannot be read \(No such file or directory\)"):
        import_files(connection, [MEDLINE_FILE, tmp_path / "absent.nbib"], hypotheses)
    with pytest.raises(ConfigError, match="no files to import"):
        import_files(connection, [], hypotheses)
    assert store.stored_pmids(connection) == set()


@pytest.mark.parametrize(("name", "content", "expected"), [
    ("search.xml", MEDLINE_FILE.read_bytes(), "medline"),
    ("search.nbib", XML_FILE.read_bytes(), "xml"),
    ("search.txt", b"\xef\xbb\xbf\r\n\r\nPMID- 1\r\n", "medline"),
    ("search", b"  \n<?xml version='1.0'?><PubmedArticleSet/>", "xml"),
])
def test_format_is_read_from_the_content_not_the_name(tmp_path: Path, name: str, content: bytes,
                                                      expected: str) -> None:
    assert detect_format(_write(tmp_path / name, content)) == expected


def test_a_fetched_article_is_kept_and_gains_the_import_as_a_source(connection, hypotheses) -> None:
    fetched = Article(pmid=39000102, title="Sleep architecture in primary fibrositis syndrome (fetched copy).",
                      pub_year=1999)
    with store.transaction(connection):
        store.save_articles(connection, [fetched], source="pubmed", now="2026-01-01T00:00:00+00:00")

    report = import_files(connection, [MEDLINE_FILE], hypotheses)

    assert report.files == (FileImport(MEDLINE_FILE, "medline", records_read=4, new=3, updated=0, unchanged=1),)
    assert store.load_article(connection, 39000102) == fetched
    assert [s for s in _sources(connection) if s[0] == 39000102] == [
        (39000102, "import:medline_fibromyalgia.txt"), (39000102, "pubmed")]


def test_a_changed_record_from_another_import_is_updated(connection, hypotheses, tmp_path: Path) -> None:
    import_files(connection, [MEDLINE_FILE], hypotheses)
    revised = _write(tmp_path / "revised.nbib", MEDLINE_FILE.read_bytes().replace(
        b"TI  - Sleep architecture in primary fibrositis syndrome.",
        b"TI  - Sleep architecture in primary fibrositis syndrome: a corrected title."))

    report = import_files(connection, [revised], hypotheses)

    assert report.files == (FileImport(revised, "medline", records_read=4, new=0, updated=1, unchanged=3),)
    assert store.load_article(connection, 39000102).title == (
        "Sleep architecture in primary fibrositis syndrome: a corrected title.")
    assert [s for s in _sources(connection) if s[0] == 39000102] == [
        (39000102, "import:medline_fibromyalgia.txt"), (39000102, "import:revised.nbib")]


# --- the command ----------------------------------------------------------------------------------------------

def test_import_command_reports_per_file(db_path: Path) -> None:
    result = CliRunner().invoke(cli, ["import", "--db", str(db_path), str(MEDLINE_FILE), str(XML_FILE)])

    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"{MEDLINE_FILE}: MEDLINE, 4 records: 4 new, 0 updated, 0 unchanged",
        f"{XML_FILE}: PubMed XML, 2 records: 2 new, 0 updated, 0 unchanged",
        "imported 6 new articles and 0 updated; tagged 6; run 1",
    ]

    again = CliRunner().invoke(cli, ["import", "--db", str(db_path), str(MEDLINE_FILE)])
    assert again.output.splitlines() == [
        f"{MEDLINE_FILE}: MEDLINE, 4 records: 0 new, 0 updated, 4 unchanged",
        "imported 0 new articles and 0 updated; tagged 0",
    ]


def test_import_command_counts_one_article_in_the_singular(db_path: Path, tmp_path: Path) -> None:
    one_record = tmp_path / "one.txt"
    one_record.write_text(MEDLINE_FILE.read_text(encoding="utf-8").split("\n\n")[0] + "\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["import", "--db", str(db_path), str(one_record)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [f"{one_record}: MEDLINE, 1 record: 1 new, 0 updated, 0 unchanged",
                                          "imported 1 new article and 0 updated; tagged 1; run 1"]


def test_import_command_refuses_a_malformed_file_with_one_line(db_path: Path) -> None:
    result = CliRunner().invoke(cli, ["import", "--db", str(db_path), str(MEDLINE_FILE),
                                      str(FIXTURES / "medline_malformed.txt")])

    assert result.exit_code == 1
    assert result.output == (
        f"tracker: {FIXTURES / 'medline_malformed.txt'}: record 2 (line 6) has no PMID line; every record starts "
        "with \"PMID- <number>\" — export it again from PubMed with Send to → Citation manager, or Save → "
        "Format: PubMed\n")
    connection = store.connect(db_path)
    assert store.stored_pmids(connection) == set()
    connection.close()


def _import_in_a_child(db_path: Path, *arguments: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    """The real command in its own process, with a timeout: an import that waits on a FIFO fails here, not hangs."""
    return subprocess.run([sys.executable, "-m", "tracker", "import", "--db", str(db_path), *arguments],
                          input=stdin, capture_output=True, timeout=60, cwd=Path(__file__).resolve().parent.parent)


def test_a_fifo_is_refused_before_the_store_or_its_lock_is_touched(db_path: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "records.nbib"
    os.mkfifo(fifo)
    result = _import_in_a_child(db_path, str(MEDLINE_FILE), str(fifo))
    assert (result.returncode, result.stderr.decode()) == (
        1, f"tracker: {fifo}: is a FIFO or pipe, not a regular file; save the records to a file and import that\n")
    assert not db_path.exists() and not lock_path(db_path).exists()


def test_a_pipe_given_as_dev_stdin_is_refused_not_read_as_no_records(db_path: Path) -> None:
    result = _import_in_a_child(db_path, "/dev/stdin", stdin=MEDLINE_FILE.read_bytes())
    assert (result.returncode, result.stderr.decode()) == (
        1, "tracker: /dev/stdin: is a FIFO or pipe, not a regular file; save the records to a file and import that\n")
    assert not db_path.exists()


def test_dash_says_standard_input_is_not_read(db_path: Path) -> None:
    result = CliRunner().invoke(cli, ["import", "--db", str(db_path), "-"])
    assert (result.exit_code, result.stderr) == (
        1, "tracker: -: standard input is not read; save the records to a file and import that\n")
    assert not db_path.exists()


def test_a_link_to_a_file_is_imported_as_the_file(db_path: Path, tmp_path: Path) -> None:
    link = tmp_path / "latest.nbib"
    link.symlink_to(MEDLINE_FILE)
    result = CliRunner().invoke(cli, ["import", "--db", str(db_path), str(link)])
    assert result.exit_code == 0, result.stderr
    assert result.output.splitlines()[0] == f"{link}: MEDLINE, 4 records: 4 new, 0 updated, 0 unchanged"


def test_a_bad_tagging_term_names_the_hypotheses_file_and_imports_nothing(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from tracker.cli import cli
    from tracker.config import DEFAULT_HYPOTHESES_PATH

    bad = tmp_path / "hypotheses.toml"
    bad.write_text(DEFAULT_HYPOTHESES_PATH.read_text(encoding="utf-8").replace('"whiplash",', '"re:whip(",', 1),
                   encoding="utf-8")
    db = tmp_path / "store.sqlite"
    result = CliRunner().invoke(cli, ["import", str(FIXTURES / "medline_fibromyalgia.txt"), "--db", str(db),
                                      "--hypotheses", str(bad)])
    assert result.exit_code == 1
    assert result.stderr.startswith(f'tracker: {bad}: [injury] term "re:whip(" is not a valid pattern')
    assert not db.exists()


# --- imports never degrade what is stored ---------------------------------------------------------------------

PAIRED_FILE = FIXTURES / "medline_paired.nbib"
TRUNCATED_FILE = FIXTURES / "medline_paired_truncated.nbib"


def test_a_truncated_file_is_refused_and_the_stored_records_stay(connection, hypotheses) -> None:
    import_files(connection, [PAIRED_FILE], hypotheses)
    before = _dump(connection)

    with pytest.raises(ParseError, match=r"medline_paired_truncated\.nbib: ends in the middle of line 67"):
        import_files(connection, [TRUNCATED_FILE], hypotheses)

    assert _dump(connection) == before
    assert store.load_article(connection, 39600002).title == "Sleep restriction and widespread pain: a crossover study."


def test_import_command_refuses_a_truncated_file_with_one_line(db_path: Path) -> None:
    result = CliRunner().invoke(cli, ["import", "--db", str(db_path), str(TRUNCATED_FILE)])

    assert result.exit_code == 1
    assert result.output == (
        f"tracker: {TRUNCATED_FILE}: ends in the middle of line 67 (record 2, which starts at line 58); the file was "
        "cut off — export it again from PubMed with Send to → Citation manager, or Save → Format: PubMed\n")


def _fragment_of_second_record(tmp_path: Path) -> Path:
    """Record 2 of the paired file without its abstract, second author and MeSH, yet ending properly with SO."""
    record = PAIRED_FILE.read_text(encoding="utf-8").split("\n\n")[1]
    kept_lines = [line for line in record.splitlines()
                  if not line.startswith(("AB  -", "MH  -", "FAU - Brown", "AU  - Brown"))]
    return _write(tmp_path / "fragment.nbib", ("\n".join(kept_lines) + "\n").encode())


def test_a_copy_that_carries_less_keeps_the_stored_record(connection, hypotheses, tmp_path: Path) -> None:
    import_files(connection, [PAIRED_FILE], hypotheses)
    stored = store.load_article(connection, 39600002)
    fragment = _fragment_of_second_record(tmp_path)

    report = import_files(connection, [fragment], hypotheses)

    assert report.files == (FileImport(fragment, "medline", records_read=1, new=0, updated=0, unchanged=0, kept=1,
                                       kept_pmids=(39600002,)),)
    assert report.kept == 1
    assert store.load_article(connection, 39600002) == stored
    assert [s for s in _sources(connection) if s[0] == 39600002] == [
        (39600002, "import:fragment.nbib"), (39600002, "import:medline_paired.nbib")]


def test_import_command_says_which_stored_records_it_kept(db_path: Path, tmp_path: Path) -> None:
    CliRunner().invoke(cli, ["import", "--db", str(db_path), str(PAIRED_FILE)])
    fragment = _fragment_of_second_record(tmp_path)

    result = CliRunner().invoke(cli, ["import", "--db", str(db_path), str(fragment)])

    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == (
        f"{fragment}: MEDLINE, 1 record: 0 new, 0 updated, 0 unchanged, 1 kept (stored record is more complete: "
        "PMID 39600002)")


@pytest.mark.parametrize(("label", "edit"), [
    # The second author takes an ORCID iD with them.
    ("authors, ORCID iDs", lambda a: replace(a, authors=a.authors[:1])),
    ("abstract", lambda a: replace(a, abstract=())),
    ("MeSH headings", lambda a: replace(a, mesh=())),
    ("title", lambda a: replace(a, title="")),
    ("DOI", lambda a: replace(a, doi=None)),
    ("grants", lambda a: replace(a, grants=a.grants[1:])),
    ("chemicals", lambda a: replace(a, chemicals=())),
    ("conflict-of-interest statement", lambda a: replace(a, coi_statement=None)),
    ("ORCID iDs", lambda a: replace(a, authors=tuple(replace(author, orcid=None) for author in a.authors))),
])
def test_each_loss_is_a_degradation(label: str, edit) -> None:
    (stored, _) = iter_medline_articles(PAIRED_FILE)
    assert degraded_fields(stored, edit(stored)) == label.split(", ")
    assert degraded_fields(stored, stored) == []


def test_a_copy_that_carries_more_still_updates(connection, hypotheses, tmp_path: Path) -> None:
    fragment = _fragment_of_second_record(tmp_path)
    import_files(connection, [fragment], hypotheses)

    report = import_files(connection, [PAIRED_FILE], hypotheses)

    assert (report.new, report.updated, report.kept) == (1, 1, 0)
    assert len(store.load_article(connection, 39600002).authors) == 2


def test_a_pmid_beyond_2_63_is_a_one_line_error_and_imports_nothing(db_path: Path, tmp_path: Path) -> None:
    bad = _write(tmp_path / "bad.xml", b"<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID>" + b"9" * 30
                 + b"</PMID><Article><ArticleTitle>T</ArticleTitle></Article></MedlineCitation></PubmedArticle>"
                 b"</PubmedArticleSet>")

    result = CliRunner().invoke(cli, ["import", "--db", str(db_path), str(PAIRED_FILE), str(bad)])

    assert result.exit_code == 1
    assert result.output == (
        f"tracker: PubMed XML {str(bad)!r}: record 1 (<PubmedArticle>) has the PMID {'9' * 30!r}, which is not a "
        "positive whole number below 2^63; the document is not PubMed XML — save it again from PubMed (Save, "
        "format PubMed XML)\n")
    assert "Traceback" not in result.output
    connection = store.connect(db_path)
    assert store.stored_pmids(connection) == set()
    connection.close()


def test_a_medline_citation_set_file_is_imported(connection, hypotheses, tmp_path: Path) -> None:
    citation_set = _write(tmp_path / "medsamp.xml", (
        b'<?xml version="1.0"?>\n<MedlineCitationSet><MedlineCitation Owner="NLM"><PMID>39600011</PMID>'
        b"<Article><ArticleTitle>Old sample record.</ArticleTitle></Article></MedlineCitation></MedlineCitationSet>\n"))

    report = import_files(connection, [citation_set], hypotheses)

    assert report.new == 1
    assert store.load_article(connection, 39600011).title == "Old sample record."


@pytest.mark.parametrize("file_format", ["medline", "xml"])
def test_a_field_beyond_the_limit_is_refused_and_imports_nothing(connection, hypotheses, tmp_path: Path,
                                                               file_format: str) -> None:
    huge = "pain " * 2_000
    if file_format == "medline":
        content = f"PMID- 39600021\nTI  - Huge.\nAB  - {huge}\n".encode()
    else:
        content = (f"<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID>39600021</PMID><Article><ArticleTitle>"
                   f"Huge.</ArticleTitle><Abstract><AbstractText>{huge}</AbstractText></Abstract></Article>"
                   f"</MedlineCitation></PubmedArticle></PubmedArticleSet>").encode()
    path = _write(tmp_path / f"huge.{file_format}", content)
    before = _dump(connection)

    with pytest.raises(ParseError, match=r"huge\.(medline|xml).*of more than 1,000 "):
        import_files(connection, [PAIRED_FILE, path], hypotheses, limits=SizeLimits(field=1_000, record=100_000))

    assert _dump(connection) == before
