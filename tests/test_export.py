"""CSV, RIS and BibTeX exports: written, read back with csv / rispy / bibtexparser, compared field by field."""

from __future__ import annotations

import csv
import functools
import io
from pathlib import Path

import bibtexparser
import pandas as pd
import pytest
import rispy
from click.testing import CliRunner

from support.catalogue import HYPOTHESIS_IDS, article_row, catalogue_frame, group, person, standard_catalogue
from tracker.outputs.export import (
    CSV_COLUMNS,
    BibtexKeys,
    bibtex_keys,
    csv_bytes,
    latex_escape,
    neutralise_cell,
    page_ranges,
    protect_capitals,
    ris_records,
    write_bibtex,
    write_csv,
    write_ris,
)
from support.seed import (add_fetch_run, make_articles, read_catalogue, read_run_history, read_stances, seed_store,
                          seed_two_runs)
from tracker import store
from tracker.store import articles, selecting
from tracker.cli import cli
from tracker.config import DEFAULT_HYPOTHESES_PATH, load_hypotheses
from tracker.outputs.selection import Selection, select_articles

DEFAULT_ORDER = [1001, 1002, 1008, 1005, 1007, 1006, 1004]
# The columns appended after the first release, empty for an article that has none of their data.
LATER_COLUMNS = ("orcids", "grants", "coi_statement", "chemicals", "publication_status", "comments_on", "comments_in")
NO_LATER_FIELDS = dict.fromkeys(LATER_COLUMNS, "")


def selected(selection: Selection = Selection()):
    """The standard catalogue's selection, decoded as `tracker export` and the dashboard hand it to the writers."""
    return store.decode_details(select_articles(standard_catalogue(), selection, hypothesis_ids=HYPOTHESIS_IDS))


def decoded_frame(rows: list[dict]):
    """A catalogue of these rows with its detail columns decoded."""
    return store.decode_details(catalogue_frame(rows))


def read_csv(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


# --- CSV ------------------------------------------------------------------------------------------------------

def test_csv_round_trips_every_column_of_every_row() -> None:
    rows = read_csv(csv_bytes(selected(), with_abstract=True))
    assert rows[0] == [*CSV_COLUMNS, "abstract"]
    by_pmid = {row[0]: dict(zip(rows[0], row)) for row in rows[1:]}
    assert [row[0] for row in rows[1:]] == [str(p) for p in DEFAULT_ORDER]
    assert by_pmid["1002"] == {
        "pmid": "1002",
        "title": "Sleep & pain: 50% of patients_with ~ {insomnia} #1 $5 ^2 \\ ok",
        "authors": "Müller J; O'Neil A",
        "journal": "Journal of Pain Research",
        "year": "2020",
        "publication_date": "2020 Nov-Dec",
        "doi": "10.1000/fm.1002",
        "pmcid": "PMC7654321",
        "pubmed_url": "https://pubmed.ncbi.nlm.nih.gov/1002/",
        "hypotheses": "fibromyalgia; sleep",
        "matched_terms": "sleep: insomnia",
        "design": "rct",
        "species": "both",
        "publication_types": "Journal Article; Randomized Controlled Trial",
        "mesh_terms": "Fibromyalgia; Sleep Initiation and Maintenance Disorders; Humans; Animals",
        "retracted": "false",
        "retraction_notice": "false",
        "has_erratum": "false",
        "expression_of_concern": "false",
        "first_seen": "2026-11-24T10:00:00+00:00",
        "abstract": "BACKGROUND: Pain.\n\nRESULTS: Less pain.",
        **NO_LATER_FIELDS,
    }
    assert by_pmid["1001"]["matched_terms"] == "serotonin: 5-HT, SSRI"
    assert by_pmid["1001"]["publication_date"] == "2021"
    assert by_pmid["1008"]["publication_date"] == "2019 Aug 5"
    assert by_pmid["1004"] == {
        "pmid": "1004", "title": "Undated letter on substance P", "authors": "Fibromyalgia Study Group & Partners",
        "journal": "Journal of Pain Research", "year": "", "publication_date": "", "doi": "", "pmcid": "",
        "pubmed_url": "https://pubmed.ncbi.nlm.nih.gov/1004/", "hypotheses": "fibromyalgia; substance_p",
        "matched_terms": "", "design": "editorial", "species": "unknown", "publication_types": "Letter",
        "mesh_terms": "Fibromyalgia; Humans", "retracted": "false", "retraction_notice": "false",
        "has_erratum": "false", "expression_of_concern": "false", "first_seen": "2026-11-24T23:59:59+00:00",
        "abstract": "", **NO_LATER_FIELDS,
    }
    assert by_pmid["1005"] == {
        "pmid": "1005", "title": "'=HYPERLINK(\"http://evil.example\",\"click\")", "authors": "'-Smith J",
        "journal": "'+Journal", "year": "2019", "publication_date": "2019 Aug 5", "doi": "10.1000/fm.1005",
        "pmcid": "", "pubmed_url": "https://pubmed.ncbi.nlm.nih.gov/1005/", "hypotheses": "fibromyalgia; sleep",
        "matched_terms": "", "design": "cohort", "species": "human",
        "publication_types": "Journal Article", "mesh_terms": "Fibromyalgia; Humans", "retracted": "false",
        "retraction_notice": "false", "has_erratum": "false", "expression_of_concern": "true",
        "first_seen": "2026-11-01T02:30:00+00:00", "abstract": "'@SUM(A1)\nsecond line, \"quoted\"", **NO_LATER_FIELDS,
    }


def test_csv_includes_retracted_articles_flagged_only_when_asked() -> None:
    rows = read_csv(csv_bytes(selected(Selection(include_retracted=True))))
    by_pmid = {row[0]: dict(zip(rows[0], row)) for row in rows[1:]}
    assert (by_pmid["1003"]["retracted"], by_pmid["1003"]["has_erratum"]) == ("true", "true")
    assert "1003" not in {row[0] for row in read_csv(csv_bytes(selected()))[1:]}


def test_csv_without_abstract_has_exactly_the_documented_columns() -> None:
    rows = read_csv(csv_bytes(selected()))
    assert rows[0] == list(CSV_COLUMNS)
    assert {len(row) for row in rows} == {len(CSV_COLUMNS)}


@pytest.mark.parametrize(
    ("excel", "prefix"),
    [(False, b"pmid,title,"), (True, b"\xef\xbb\xbfpmid,title,")],
)
def test_excel_switch_adds_a_byte_order_mark(excel: bool, prefix: bytes) -> None:
    data = csv_bytes(selected(), excel=excel)
    assert data.startswith(prefix)
    assert data.count(b"\xef\xbb\xbf") == (1 if excel else 0)


def test_csv_bytes_are_what_write_csv_writes_with_crlf_rows_and_quoted_newlines() -> None:
    frame = selected()
    stream = io.StringIO(newline="")
    assert write_csv(frame, stream, with_abstract=True) == len(DEFAULT_ORDER)
    data = csv_bytes(frame, with_abstract=True)
    assert data == stream.getvalue().encode("utf-8")
    assert data.count(b"\r\n") == len(DEFAULT_ORDER) + 1
    assert b'"BACKGROUND: Pain.\n\nRESULTS: Less pain."' in data


@pytest.mark.parametrize(
    ("title", "cell"),
    [
        ('=HYPERLINK("http://evil.example","x")', '\'=HYPERLINK("http://evil.example","x")'),
        ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("- a bullet", "'- a bullet"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("-1", "-1"),
        ("-0.5", "-0.5"),
        ("+3", "+3"),
        ("-1.5e3", "-1.5e3"),
        ("Normal title - with a dash", "Normal title - with a dash"),
        ("", ""),
    ],
)
def test_formula_cells_are_neutralised_and_numbers_kept(title: str, cell: str) -> None:
    frame = decoded_frame([article_row(1, title=title, journal=title, author_names=title)])
    rows = read_csv(csv_bytes(frame))
    record = dict(zip(rows[0], rows[1]))
    assert (record["title"], record["journal"], record["authors"]) == (cell, cell, cell)


@pytest.mark.parametrize(
    ("value", "cell"),
    [(None, ""), (float("nan"), ""), (12, "12"), (-3, "-3"), ("=1", "'=1"), ("@x", "'@x"), ("a=b", "a=b")],
)
def test_neutralise_cell_turns_any_value_into_safe_text(value: object, cell: str) -> None:
    assert neutralise_cell(value) == cell


def test_no_csv_cell_can_start_a_formula() -> None:
    rows = read_csv(csv_bytes(selected(Selection(include_retracted=True)), with_abstract=True))
    risky = [cell for row in rows for cell in row
             if cell[:1] in ("=", "+", "-", "@", "\t", "\r") and cell not in ("-1", "-0.5")]
    assert risky == []


# --- RIS ------------------------------------------------------------------------------------------------------

def ris_entries(frame) -> list[dict]:
    stream = io.StringIO(newline="")
    count = write_ris(frame, stream)
    entries = rispy.loads(stream.getvalue().replace("\r\n", "\n"))
    assert count == len(entries)
    return entries


def test_ris_round_trips_every_field() -> None:
    entries = ris_entries(selected())
    assert [entry["accession_number"] for entry in entries] == [str(p) for p in DEFAULT_ORDER]
    by_pmid = {entry["accession_number"]: entry for entry in entries}
    assert by_pmid["1002"] == {
        "type_of_reference": "JOUR",
        "authors": ["Müller, Jürgen", "O'Neil, Ann"],
        "title": "Sleep & pain: 50% of patients_with ~ {insomnia} #1 $5 ^2 \\ ok",
        "secondary_title": "Journal of Pain Research",
        "alternate_title2": "J Pain Res",
        "year": "2020",
        "date": "2020/11",
        "volume": "12",
        "number": "3",
        "start_page": "e1234",
        "doi": "10.1000/fm.1002",
        "accession_number": "1002",
        "abstract": "BACKGROUND: Pain. RESULTS: Less pain.",
        "keywords": ["Fibromyalgia", "Sleep Initiation and Maintenance Disorders", "Humans", "Animals",
                     "chronic pain"],
        "urls": ["https://pubmed.ncbi.nlm.nih.gov/1002/"],
    }
    assert by_pmid["1004"] == {
        "type_of_reference": "JOUR",
        "authors": ["Fibromyalgia Study Group & Partners"],
        "title": "Undated letter on substance P",
        "secondary_title": "Journal of Pain Research",
        "alternate_title2": "J Pain Res",
        "accession_number": "1004",
        "keywords": ["Fibromyalgia", "Humans"],
        "urls": ["https://pubmed.ncbi.nlm.nih.gov/1004/"],
    }
    assert by_pmid["1006"] == {
        "type_of_reference": "CHAP",
        "authors": ["Smith, John A", "Doe, Jane"],
        "title": "Sleep in chronic pain",
        "secondary_title": "Pain Medicine Handbook",
        "year": "2018",
        "date": "2018/08/05",
        "volume": "12",
        "number": "3",
        "start_page": "45",
        "end_page": "67",
        "doi": "10.1000/fm.1006",
        "accession_number": "1006",
        "abstract": "BACKGROUND: Pain. RESULTS: Less pain.",
        "keywords": ["Fibromyalgia", "Humans", "chronic pain"],
        "urls": ["https://pubmed.ncbi.nlm.nih.gov/1006/"],
    }
    assert by_pmid["1007"] == {
        "type_of_reference": "BOOK",
        "authors": ["Smith, John A"],
        "title": "Fibromyalgia: a clinical guide",
        "year": "2018",
        "date": "2018/08/05",
        "doi": "10.1000/fm.1007",
        "accession_number": "1007",
        "abstract": "BACKGROUND: Pain. RESULTS: Less pain.",
        "keywords": ["chronic pain"],
        "urls": ["https://pubmed.ncbi.nlm.nih.gov/1007/"],
    }
    assert (by_pmid["1008"]["notes"], by_pmid["1008"]["start_page"], by_pmid["1008"]["end_page"]) == (
        ["Retraction notice"], "123", "129")
    assert by_pmid["1005"]["abstract"] == '@SUM(A1) second line, "quoted"'


@pytest.mark.parametrize(
    ("publication_types", "kind", "journal", "type_code"),
    [
        (["Journal Article"], "journal", "J Pain", "JOUR"),
        (["Dataset"], "journal", "J Pain", "DATA"),
        (["Congress"], "journal", "J Pain", "CONF"),
        (["Technical Report"], "journal", "J Pain", "RPRT"),
        (["Journal Article"], "journal", None, "GEN"),
        (["Review"], "book", "A Handbook", "CHAP"),
        (["Book"], "book", None, "BOOK"),
    ],
)
def test_ris_type_follows_the_publication_type(publication_types, kind, journal, type_code) -> None:
    frame = decoded_frame([article_row(1, publication_types=publication_types, kind=kind, journal=journal)])
    assert ris_entries(frame)[0]["type_of_reference"] == type_code


def test_ris_records_end_lines_with_crlf_and_keep_multiline_text_on_one_line() -> None:
    stream = io.StringIO(newline="")
    write_ris(decoded_frame([article_row(1, title="Two\nlines", abstract="A\r\nB")]), stream)
    text = stream.getvalue()
    assert text.startswith("TY  - JOUR\r\nAU  - Smith, John A\r\nAU  - Doe, Jane\r\nTI  - Two lines\r\n")
    assert "AB  - A B\r\n" in text
    assert text.endswith("ER  - \r\n\r\n")
    assert "\n" not in text.replace("\r\n", "")


# --- BibTeX ---------------------------------------------------------------------------------------------------

_LATEX_UNESCAPES = [(r"\textbackslash{}", "\\"), (r"\textbraceleft{}", "{"), (r"\textbraceright{}", "}"),
                    (r"\textasciitilde{}", "~"), (r"\textasciicircum{}", "^"), (r"\&", "&"), (r"\%", "%"),
                    (r"\$", "$"), (r"\#", "#"), (r"\_", "_")]


def latex_unescape(text: str) -> str:
    for escaped, character in _LATEX_UNESCAPES:
        text = text.replace(escaped, character)
    return text


def bibtex_entries(frame) -> list[dict]:
    stream = io.StringIO()
    count = write_bibtex(frame, stream)
    entries = bibtexparser.loads(stream.getvalue()).entries
    assert count == len(entries)
    return entries


def test_bibtex_round_trips_every_field() -> None:
    entries = bibtex_entries(selected())
    assert [entry["pmid"] for entry in entries] == [str(p) for p in DEFAULT_ORDER]
    by_pmid = {entry["pmid"]: entry for entry in entries}
    assert by_pmid["1002"] == {
        "ENTRYTYPE": "article",
        "ID": "muller2020sleep",
        "author": "Müller, Jürgen and O'Neil, Ann",
        "title": r"Sleep \& pain: 50\% of patients\_with \textasciitilde{} \textbraceleft{}insomnia\textbraceright{}"
                 r" \#1 \$5 \textasciicircum{}2 \textbackslash{} ok",
        "journal": "Journal of Pain Research",
        "year": "2020",
        "volume": "12",
        "number": "3",
        "pages": "e1234",
        "doi": "10.1000/fm.1002",
        "pmid": "1002",
        "pmcid": "PMC7654321",
        "url": "https://pubmed.ncbi.nlm.nih.gov/1002/",
        "abstract": "BACKGROUND: Pain. RESULTS: Less pain.",
        "keywords": "Fibromyalgia; Sleep Initiation and Maintenance Disorders; Humans; Animals; chronic pain",
    }
    assert latex_unescape(by_pmid["1002"]["title"]) == "Sleep & pain: 50% of patients_with ~ {insomnia} #1 $5 ^2 \\ ok"
    assert by_pmid["1004"] == {
        "ENTRYTYPE": "article",
        "ID": "fibromyalgiandundated",
        "author": r"{Fibromyalgia Study Group \& Partners}",
        "title": "Undated letter on substance P",
        "journal": "Journal of Pain Research",
        "pmid": "1004",
        "url": "https://pubmed.ncbi.nlm.nih.gov/1004/",
        "keywords": "Fibromyalgia; Humans",
    }
    assert by_pmid["1006"] == {
        "ENTRYTYPE": "incollection",
        "ID": "smith2018sleep",
        "author": "Smith, John A and Doe, Jane",
        "title": "Sleep in chronic pain",
        "booktitle": "Pain Medicine Handbook",
        "year": "2018",
        "volume": "12",
        "number": "3",
        "pages": "45--67",
        "doi": "10.1000/fm.1006",
        "pmid": "1006",
        "url": "https://pubmed.ncbi.nlm.nih.gov/1006/",
        "abstract": "BACKGROUND: Pain. RESULTS: Less pain.",
        "keywords": "Fibromyalgia; Humans; chronic pain",
    }
    assert (by_pmid["1007"]["ENTRYTYPE"], by_pmid["1007"]["ID"]) == ("book", "smith2018fibromyalgia")
    assert (by_pmid["1008"]["pages"], by_pmid["1008"]["note"]) == ("123--129", "Retraction notice")
    assert (by_pmid["1005"]["ID"], by_pmid["1005"]["note"]) == ("smith2019hyperlink", "Expression of concern")


def test_bibtex_keys_are_unique_and_do_not_depend_on_row_order() -> None:
    rows = [article_row(30, title="Fibromyalgia and sleep"), article_row(10, title="Fibromyalgia and mood"),
            article_row(20, title="The fibromyalgia puzzle"), article_row(40, title="Sleep", pub_year=None)]
    expected = {10: "smith2019fibromyalgiaa", 20: "smith2019fibromyalgiab", 30: "smith2019fibromyalgiac",
                40: "smithndsleep"}
    frame = decoded_frame(rows)
    assert bibtex_keys(frame) == expected
    assert bibtex_keys(frame.iloc[::-1]) == expected
    assert [entry["ID"] for entry in bibtex_entries(frame.iloc[::-1])] == [
        "smithndsleep", "smith2019fibromyalgiac", "smith2019fibromyalgiab", "smith2019fibromyalgiaa"]


def test_bibtex_written_in_batches_with_the_whole_exports_keys_equals_one_frame() -> None:
    rows = [article_row(30, title="Fibromyalgia and sleep"), article_row(10, title="Fibromyalgia and mood"),
            article_row(20, title="The fibromyalgia puzzle"), article_row(40, title="Sleep", pub_year=None)]
    frame = decoded_frame(rows)
    whole = io.StringIO()
    write_bibtex(frame, whole)
    # Keys made from one article a batch, entries written one article a batch.
    keys = BibtexKeys([[(row["pmid"], row["title"], row["pub_year"], person("Smith", "John A", "JA"))]
                       for row in rows])
    batched = io.StringIO()
    count = write_bibtex([(frame.iloc[[position]], None) for position in range(len(frame))], batched, keys=keys)
    assert (count, batched.getvalue()) == (4, whole.getvalue())
    assert "smith2019fibromyalgiac" in whole.getvalue()


def test_bibtex_keys_get_longer_suffixes_past_z() -> None:
    frame = decoded_frame([article_row(pmid, title="Pain") for pmid in range(1, 29)])
    keys = bibtex_keys(frame)
    assert (keys[1], keys[26], keys[27], keys[28]) == ("smith2019paina", "smith2019painz", "smith2019painaa",
                                                       "smith2019painab")
    assert len(set(keys.values())) == 28


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("a & b", r"a \& b"),
        ("50%", r"50\%"),
        ("$5", r"\$5"),
        ("#1", r"\#1"),
        ("a_b", r"a\_b"),
        ("{x}", r"\textbraceleft{}x\textbraceright{}"),
        ("~", r"\textasciitilde{}"),
        ("x^2", r"x\textasciicircum{}2"),
        ("a\\b", r"a\textbackslash{}b"),
        ("Müller – β", "Müller – β"),
    ],
)
def test_latex_escape(text: str, escaped: str) -> None:
    assert latex_escape(text) == escaped
    assert latex_unescape(escaped) == text


@pytest.mark.parametrize(
    ("title", "protected"),
    [
        ("SSRI and SNRI therapy", "{SSRI} and {SNRI} therapy"),
        ("Serotonin (5-HT) levels", "Serotonin {(5-HT)} levels"),
        ("Fibromyalgia in a McGill cohort", "Fibromyalgia in a {McGill} cohort"),
        ("IGF-1: a review", "{IGF-1:} a review"),
        ("Plain title, Zürich", "Plain title, Zürich"),
    ],
)
def test_protect_capitals_braces_acronyms_and_inner_capitals(title: str, protected: str) -> None:
    assert protect_capitals(title) == protected


def test_bibtex_titles_keep_acronyms_through_a_round_trip() -> None:
    frame = decoded_frame([article_row(3, title="SSRIs & IGF-1 in 50% of FM patients")])
    assert bibtex_entries(frame)[0]["title"] == r"{SSRIs} \& {IGF-1} in 50\% of {FM} patients"


def test_every_bibtex_entry_has_balanced_braces() -> None:
    stream = io.StringIO()
    write_bibtex(selected(Selection(include_retracted=True)), stream)
    entries = stream.getvalue().split("\n\n")
    assert [entry.count("{") - entry.count("}") for entry in entries if entry.strip()] == [0] * 8


# --- shared ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("pages", "ranges"),
    [
        ("123-9", [("123", "129")]),
        ("1123-45", [("1123", "1145")]),
        ("99-101", [("99", "101")]),
        ("e1234", [("e1234", None)]),
        ("S1-S10", [("S1", "S10")]),
        ("12-5, 20-2", [("12", "15"), ("20", "22")]),
        ("", []),
    ],
)
def test_page_ranges_expand_medline_short_forms(pages: str, ranges: list) -> None:
    assert page_ranges(pages) == ranges


# --- tracker export, end to end over a seeded store -----------------------------------------------------------

CAUSE_IDS = [h.id for h in load_hypotheses(DEFAULT_HYPOTHESES_PATH) if not h.baseline]


@pytest.fixture(scope="module")
def seeded_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """400 articles from run 1; run 2 (the same day) stores 30 more and gives 5 stored ones a retraction link."""
    return seed_two_runs(tmp_path_factory.mktemp("export") / "tracker.sqlite", load_hypotheses(DEFAULT_HYPOTHESES_PATH),
                         make_articles(400, seed=5), make_articles(30, seed=6), 5)


@pytest.mark.parametrize(
    ("arguments", "selection"),
    [
        ([], Selection()),
        (["--hypothesis", "sleep", "--hypothesis", "serotonin"], Selection(hypotheses=("sleep", "serotonin"))),
        (["--from-year", "2000", "--to-year", "2010", "--include-retracted"],
         Selection(from_year=2000, to_year=2010, include_retracted=True)),
        (["--design", "rct", "--design", "meta_analysis", "--species", "human"],
         Selection(designs=("rct", "meta_analysis"), species="human")),
        (["--query", "SÃO PAULO", "--new-since", "2000-01-01"], Selection(text="SÃO PAULO", new_since="2000-01-01")),
        (["--new-in-run", "latest"], Selection(new_in_run=2)),
        (["--new-in-run", "1", "--species", "animal"], Selection(new_in_run=1, species="animal")),
        (["--only-new", "--species", "human"], Selection(new_in_run="latest", species="human")),
        (["--changed-in-run", "latest", "--include-retracted"], Selection(changed_in_run=2, include_retracted=True)),
    ],
)
def test_export_command_writes_the_rows_select_articles_keeps(seeded_db: Path, arguments: list[str],
                                                             selection: Selection) -> None:
    expected = select_articles(read_catalogue(seeded_db), selection, runs=read_run_history(seeded_db))
    assert 0 < len(expected)
    result = CliRunner().invoke(cli, ["export", "--db", str(seeded_db), "--with-abstract", *arguments])
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout_bytes == csv_bytes(store.decode_details(expected), with_abstract=True,
                                            stances=read_stances(seeded_db), cause_ids=CAUSE_IDS)
    assert [row[0] for row in read_csv(result.stdout_bytes)[1:]] == [str(p) for p in expected["pmid"]]


@pytest.mark.parametrize(
    ("export_format", "read_back"),
    [
        ("ris", lambda data: [entry["accession_number"] for entry in rispy.loads(data.replace("\r\n", "\n"))]),
        ("bibtex", lambda data: [entry["pmid"] for entry in bibtexparser.loads(data).entries]),
    ],
)
def test_export_command_writes_ris_and_bibtex_to_a_file(seeded_db: Path, tmp_path: Path, export_format: str,
                                                       read_back) -> None:
    output = tmp_path / f"articles.{export_format}"
    result = CliRunner().invoke(cli, ["export", "--db", str(seeded_db), "--format", export_format,
                                      "--hypothesis", "sleep", "-o", str(output)])
    expected = select_articles(read_catalogue(seeded_db), Selection(hypotheses=("sleep",)))
    assert result.exit_code == 0
    assert result.stderr == f"wrote {len(expected)} articles to {output} ({export_format})\n"
    assert read_back(output.read_text(encoding="utf-8")) == [str(p) for p in expected["pmid"]]
    assert sorted(p.name for p in tmp_path.iterdir()) == [output.name]


def test_export_command_keys_bibtex_across_the_stores_batches(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    # Entries and key fields read a few dozen articles a batch, many sharing a key base: suffixes span batches.
    monkeypatch.setattr(selecting, "iter_selected", functools.partial(selecting.iter_selected, batch_size=40))
    monkeypatch.setattr(articles, "KEY_FIELDS_BATCH_SIZE", 70)
    db_path = tmp_path / "tracker.sqlite"
    seed_store(db_path, load_hypotheses(DEFAULT_HYPOTHESES_PATH), make_articles(300))
    result = CliRunner().invoke(cli, ["export", "--db", str(db_path), "--format", "bibtex"])
    expected = io.StringIO()
    write_bibtex(store.decode_details(select_articles(read_catalogue(db_path), Selection())), expected,
                 stances=read_stances(db_path), cause_ids=CAUSE_IDS)
    assert (result.exit_code, result.stdout) == (0, expected.getvalue())
    keys = [entry["ID"] for entry in bibtexparser.loads(result.stdout).entries]
    assert len(keys) == len(set(keys)) > 250
    assert sum(key.endswith("b") for key in keys) > 10


@pytest.mark.parametrize(
    ("arguments", "exit_code", "message"),
    [
        (["--design", "rtc"], 2, "Error: Invalid value for '--design': 'rtc' is not a study design; did you mean "
                                 "'rct'?\n"),
        (["--hypothesis", "serotonine"], 2, "Error: Invalid value for '--hypothesis': 'serotonine' is not a "
                                            "hypothesis; did you mean 'serotonin'?\n"),
        (["--from-year", "2020", "--to-year", "2010"],
         2, "tracker: from-year 2020 is after to-year 2010; swap them or drop one of the bounds\n"),
        (["--format", "ris", "--excel"], 2, None),
    ],
)
def test_a_refused_export_leaves_no_file(seeded_db: Path, tmp_path: Path, arguments: list[str], exit_code: int,
                                         message: str | None) -> None:
    output = tmp_path / "out.csv"
    output.write_text("the previous export\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["export", "--db", str(seeded_db), "-o", str(output), *arguments])
    assert result.exit_code == exit_code
    if message is not None:
        assert result.stderr.endswith(message)
    else:
        assert "--with-abstract and --excel apply to CSV only" in result.stderr
    assert output.read_text(encoding="utf-8") == "the previous export\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_an_export_that_fails_midway_keeps_the_previous_file(seeded_db: Path, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    output = tmp_path / "out.csv"
    output.write_text("the previous export\n", encoding="utf-8")

    def fail_halfway(frame, stream, **_options):
        stream.write("pmid,title\r\n1,half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("tracker.outputs.export.write_csv", fail_halfway)
    result = CliRunner().invoke(cli, ["export", "--db", str(seeded_db), "-o", str(output)])
    assert (result.exit_code, result.stderr) == (
        1, f"tracker: {output}: cannot write there (No space left on device); choose another -o path\n")
    assert output.read_text(encoding="utf-8") == "the previous export\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_export_from_a_missing_store_says_how_to_create_it(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["export", "--db", str(tmp_path / "none.sqlite")])
    assert (result.exit_code, result.stderr) == (
        1, f"tracker: {tmp_path / 'none.sqlite'}: no store yet; run `tracker fetch` (or `tracker import FILE`) "
           f"to create it\n")


@pytest.mark.parametrize(
    ("author", "title", "year", "key"),
    [
        ({"last_name": "Ørsted", "fore_name": "Åse"}, "Søvn og smerte", 2001, "orsted2001sovn"),
        ({"last_name": "Weiß", "fore_name": "Jörg"}, "Über Schlaf", 2002, "weiss2002uber"),
        ({"last_name": "Łukasz-Nowak", "fore_name": "Ewa"}, "The β-endorphin story", 2003, "lukasznowak2003endorphin"),
        ({"last_name": "van der Berg", "fore_name": "Piet"}, "A", None, "vanderbergnd"),
        ({"last_name": None, "collective_name": "FM-Study Group"}, "On pain", 2004, "fmstudy2004pain"),
    ],
)
def test_bibtex_keys_fold_names_and_titles_to_ascii(author: dict, title: str, year: int | None, key: str) -> None:
    authors = [{"last_name": None, "fore_name": None, "initials": None, "collective_name": None,
                "affiliations": []} | author]
    frame = decoded_frame([article_row(7, authors=authors, title=title, pub_year=year)])
    assert bibtex_keys(frame) == {7: key}


@pytest.mark.parametrize("writer", [lambda frame: csv_bytes(frame), lambda frame: write_ris(frame, io.StringIO()),
                                    lambda frame: write_bibtex(frame, io.StringIO()), bibtex_keys],
                         ids=["csv", "ris", "bibtex", "bibtex_keys"])
def test_a_frame_whose_details_are_still_json_is_refused(writer) -> None:
    # The caller decodes (store.decode_details): JSON bytes iterated as a list would write numbers.
    with pytest.raises(ValueError, match=r"decode it first: store.decode_details\(frame, export.detail_columns"):
        writer(catalogue_frame([article_row(1)]))


def test_the_writers_read_no_store_encoding() -> None:
    import ast
    import inspect

    from tracker.outputs import export

    tree = ast.parse(inspect.getsource(export))
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert not {name for name in imported if name.startswith("tracker.store")}, imported


def test_the_later_columns_are_appended_and_written() -> None:
    rich = article_row(
        2001,
        authors=[{**person("Lindqvist", "Maja", "M"), "orcid": "0000-0002-1825-0097"}, person("Okafor", "Chidi", "C"),
                 {**group("Pain Group"), "orcid": "0000-0001-5109-3700"}],
        grants=[{"grant_id": "R01 AR053295", "agency": "NIAMS NIH HHS", "country": "United States"},
                {"grant_id": None, "agency": "Wellcome Trust", "country": "United Kingdom"},
                {"grant_id": "X-1", "agency": None, "country": None}],
        coi_statement="ML is paid by Pfizer.\nCO declares none.",
        chemicals=[{"name": "Pregabalin", "registry_number": "55JG375S6M"},
                   {"name": "Analgesics", "registry_number": "0"}],
        publication_status="aheadofprint",
        comments=[{"ref_type": "CommentOn", "pmid": 11, "ref_source": "Pain. 2020;1:1"},
                  {"ref_type": "CommentIn", "pmid": None, "ref_source": "=Pain. 2021;2:2"},
                  {"ref_type": "CommentIn", "pmid": 13, "ref_source": "Pain. 2022"}],
    )
    rows = read_csv(csv_bytes(decoded_frame([rich]), with_abstract=True))

    # Existing columns keep their places; the new ones follow first_seen, and the abstract stays last.
    assert rows[0][:20] == list(CSV_COLUMNS[:20]) and rows[0][20:] == [*LATER_COLUMNS, "abstract"]
    assert dict(zip(rows[0], rows[1]))["first_seen"] == rows[1][19]
    assert {column: value for column, value in zip(rows[0], rows[1]) if column in LATER_COLUMNS} == {
        "orcids": "Lindqvist M: 0000-0002-1825-0097; Pain Group: 0000-0001-5109-3700",
        "grants": "NIAMS NIH HHS (United States) R01 AR053295; Wellcome Trust (United Kingdom); X-1",
        "coi_statement": "ML is paid by Pfizer. CO declares none.",
        "chemicals": "Pregabalin (55JG375S6M); Analgesics",
        "publication_status": "aheadofprint",
        "comments_on": "11",
        # A cell that starts as a formula would is neutralised like every other.
        "comments_in": "'=Pain. 2021;2:2; 13",
    }


def test_the_later_fields_reach_the_csv_from_a_real_store(tmp_path: Path) -> None:
    from tracker import store
    from tracker.jobs.importer import import_files

    db_path = tmp_path / "store.db"
    connection = store.connect(db_path)
    import_files(connection, [Path(__file__).parent / "fixtures" / "efetch_paired.xml"],
                 load_hypotheses(DEFAULT_HYPOTHESES_PATH))
    rows = read_csv(csv_bytes(store.decode_details(store.load_catalogue(connection))))
    connection.close()
    first = dict(zip(rows[0], rows[1]))
    assert (first["orcids"], first["comments_in"], first["publication_status"]) == (
        "Lindqvist M: 0000-0002-1825-0097; Okafor CE: 0000-0001-5109-3700", "39600003", "ppublish")
    assert first["chemicals"] == "Analgesics; Pregabalin (55JG375S6M)"
    assert dict(zip(rows[0], rows[2]))["comments_on"] == "39600004"


def test_ris_carries_funding_and_conflict_of_interest_as_notes() -> None:
    rich = article_row(2002, grants=[{"grant_id": "R01 1", "agency": "NIAMS NIH HHS", "country": "United States"}],
                       coi_statement="AB is paid\nby Pfizer.")
    [pairs] = list(ris_records(decoded_frame([rich])))
    assert [value for tag, value in pairs if tag == "N1"] == [
        "Funding: NIAMS NIH HHS (United States) R01 1", "Conflict of interest: AB is paid by Pfizer."]


# --- stance per cause -----------------------------------------------------------------------------------------

_STANCES = pd.DataFrame({"pmid": [1001, 1002], "hypothesis_id": ["serotonin", "sleep"],
                         "stance": ["contradicts", "supports"], "confidence": ["high", "low"]})


def _per_cause(*fields: str) -> list[str]:
    return [f"{field}_{cause}" for field in fields for cause in ("serotonin", "sleep")]


REVIEW_CELLS = ("reviewed", "reviewer", "reviewed_at", "machine_stance", "review_disputed")


def test_csv_has_a_stance_column_per_cause_before_the_abstract() -> None:
    frame = decoded_frame([article_row(1001, hypotheses=["fibromyalgia", "serotonin", "sleep"]),
                           article_row(1002, hypotheses=["fibromyalgia", "sleep"])])
    rows = read_csv(csv_bytes(frame, with_abstract=True, stances=_STANCES, cause_ids=["serotonin", "sleep"]))
    assert rows[0] == [*CSV_COLUMNS, *_per_cause("stance", "confidence", *REVIEW_CELLS), "abstract"]
    readings = [dict(zip(rows[0], row)) for row in rows[1:]]
    # Stored stance and its confidence; a carried cause not read yet counts as no_finding of unknown confidence
    # (and nobody reviewed it); a cause not carried stays empty. Stance rows without the review columns leave the
    # review cells of a read pair empty: unknown, not "false".
    assert [[reading[name] for name in _per_cause("stance", "confidence", "reviewed", "machine_stance")]
            for reading in readings] == [
        ["contradicts", "no_finding", "high", "", "", "false", "", "no_finding"],
        ["", "supports", "", "low", "", "", "", ""]]
    # Without causes the file is exactly as before.
    assert read_csv(csv_bytes(frame))[0] == list(CSV_COLUMNS)


# Stance rows as `store.load_stance_frame` gives them with the review columns: serotonin of 1001 reviewed by two
# people who disagree (the latest, whose name a spreadsheet would run, counts), sleep of 1002 read by the machine.
_REVIEWED = pd.DataFrame({
    "pmid": [1001, 1002], "hypothesis_id": ["serotonin", "sleep"], "stance": ["mixed", "supports"],
    "confidence": ["high", "low"], "machine_stance": ["contradicts", "supports"], "reviewed": [True, False],
    "reviewer": ["=bo_k & co", None], "reviewed_at": ["2026-12-02T09:00:00+00:00", None],
    "review_disagreement": [True, False]})


def test_csv_carries_each_pairs_review_beside_its_stance() -> None:
    frame = decoded_frame([article_row(1001, hypotheses=["fibromyalgia", "serotonin", "sleep"]),
                           article_row(1002, hypotheses=["fibromyalgia", "sleep"])])
    rows = read_csv(csv_bytes(frame, stances=_REVIEWED, cause_ids=["serotonin", "sleep"]))
    readings = [dict(zip(rows[0], row)) for row in rows[1:]]
    assert [{name: reading[name] for name in _per_cause("stance", *REVIEW_CELLS)} for reading in readings] == [
        {"stance_serotonin": "mixed", "stance_sleep": "no_finding",
         "reviewed_serotonin": "true", "reviewed_sleep": "false",
         "reviewer_serotonin": "'=bo_k & co", "reviewer_sleep": "",
         "reviewed_at_serotonin": "2026-12-02T09:00:00+00:00", "reviewed_at_sleep": "",
         "machine_stance_serotonin": "contradicts", "machine_stance_sleep": "no_finding",
         "review_disputed_serotonin": "true", "review_disputed_sleep": "false"},
        {"stance_serotonin": "", "stance_sleep": "supports",
         "reviewed_serotonin": "", "reviewed_sleep": "false",
         "reviewer_serotonin": "", "reviewer_sleep": "",
         "reviewed_at_serotonin": "", "reviewed_at_sleep": "",
         "machine_stance_serotonin": "", "machine_stance_sleep": "supports",
         "review_disputed_serotonin": "", "review_disputed_sleep": "false"}]


def test_ris_and_bibtex_carry_the_stance_per_cause_in_their_notes() -> None:
    frame = decoded_frame([article_row(1001, hypotheses=["fibromyalgia", "serotonin", "sleep"], retracted=True),
                           article_row(1002, hypotheses=["fibromyalgia", "sleep"])])
    ris = io.StringIO(newline="")
    write_ris(frame, ris, stances=_STANCES, cause_ids=["serotonin", "sleep"])
    assert "N1  - Stance: serotonin contradicts; sleep no_finding\r\n" in ris.getvalue()
    assert "N1  - Stance: sleep supports (low confidence)\r\n" in ris.getvalue()
    bibtex = io.StringIO()
    write_bibtex(frame, bibtex, stances=_STANCES, cause_ids=["serotonin", "sleep"])
    assert r"note = {Retracted publication. Stance: serotonin contradicts; sleep no\_finding}" in bibtex.getvalue()


def test_ris_and_bibtex_notes_say_who_reviewed_a_pair_and_that_reviewers_disagree() -> None:
    frame = decoded_frame([article_row(1001, hypotheses=["fibromyalgia", "serotonin", "sleep"]),
                           article_row(1002, hypotheses=["fibromyalgia", "sleep"])])
    ris = io.StringIO(newline="")
    write_ris(frame, ris, stances=_REVIEWED, cause_ids=["serotonin", "sleep"])
    assert [line for line in ris.getvalue().split("\r\n") if line.startswith("N1  - Stance")] == [
        "N1  - Stance: serotonin mixed (reviewed by =bo_k & co on 2026-12-02T09:00:00+00:00, disputed by another "
        "reviewer; machine: contradicts); sleep no_finding",
        "N1  - Stance: sleep supports (low confidence)"]
    bibtex = io.StringIO()
    write_bibtex(frame, bibtex, stances=_REVIEWED, cause_ids=["serotonin", "sleep"])
    assert (r"note = {Stance: serotonin mixed (reviewed by =bo\_k \& co on 2026-12-02T09:00:00+00:00, disputed by "
            r"another reviewer; machine: contradicts); sleep no\_finding}") in bibtex.getvalue()


def test_new_and_changed_in_the_latest_run_are_what_run_2_stored_and_changed(seeded_db: Path) -> None:
    # Both runs stored on the same day: a filter by day could not tell the 30 from the 400.
    new = CliRunner().invoke(cli, ["export", "--db", str(seeded_db), "--new-in-run", "latest", "--include-retracted"])
    assert sorted(int(row[0]) for row in read_csv(new.stdout_bytes)[1:]) == [a.pmid for a in make_articles(30, seed=6)]
    changed = CliRunner().invoke(cli, ["export", "--db", str(seeded_db), "--changed-in-run", "2",
                                       "--include-retracted"])
    assert sorted(int(row[0]) for row in read_csv(changed.stdout_bytes)[1:]) == [
        a.pmid for a in make_articles(400, seed=5)[:5]]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--new-in-run", "3"],
         "tracker: new-in-run 3: there is no run 3; choose latest or 1-2 (see `tracker status`)\n"),
        (["--changed-in-run", "0"],
         "tracker: changed-in-run 0 is not a run; give latest or a run id that `tracker status` lists\n"),
        (["--new-in-run", "last"],
         "tracker: new-in-run 'last' is not a run; give latest or a run id that `tracker status` lists\n"),
    ],
)
def test_an_unknown_run_is_bad_usage_and_leaves_no_file(seeded_db: Path, tmp_path: Path, arguments, message) -> None:
    output = tmp_path / "out.csv"
    result = CliRunner().invoke(cli, ["export", "--db", str(seeded_db), "-o", str(output), *arguments])
    assert (result.exit_code, result.stderr) == (2, message)
    assert not output.exists()


def test_a_failed_run_is_refused_naming_the_runs_to_choose(tmp_path: Path) -> None:
    db_path = tmp_path / "tracker.sqlite"
    hypotheses = load_hypotheses(DEFAULT_HYPOTHESES_PATH)
    seed_store(db_path, hypotheses, make_articles(10, seed=1))
    failed = add_fetch_run(db_path, hypotheses, make_articles(3, seed=2), status="failed")
    result = CliRunner().invoke(cli, ["export", "--db", str(db_path), "--new-in-run", str(failed)])
    assert (result.exit_code, result.stderr) == (
        2, f"tracker: new-in-run {failed}: run {failed} failed; choose latest or 1 (see `tracker status`)\n")


def test_only_new_and_new_in_run_together_are_refused(seeded_db: Path) -> None:
    result = CliRunner().invoke(cli, ["export", "--db", str(seeded_db), "--only-new", "--new-in-run", "1"])
    assert result.exit_code == 2
    assert "--only-new is --new-in-run latest; give one of them" in result.stderr


CONTROLS = "\x0c\x1b\x7f\x85\u2028\u2029\x01\x9b"


def test_bibtex_and_ris_carry_no_control_characters() -> None:
    import unicodedata

    frame = decoded_frame([article_row(
        7001, title=f"Sleep{CONTROLS}and pain", journal=f"Pain{CONTROLS}", keywords=[f"fatigue{CONTROLS}"],
        abstract=f"Low{CONTROLS}serotonin.", authors=[person(f"Smi\x1bth", f"Jo\x7fhn", "J")])])
    for write in (write_bibtex, write_ris):
        stream = io.StringIO()
        write(frame, stream)
        text = stream.getvalue()
        kept = {character for character in text if unicodedata.category(character) in ("Cc", "Zl", "Zp")}
        assert kept <= {"\n", "\r"}, (write.__name__, kept)
    [entry] = bibtex_entries(frame)
    assert (entry["title"], entry["journal"], entry["keywords"].split("; ")[-1], entry["author"]) == (
        "Sleep and pain", "Pain", "fatigue", "Smith, John")
