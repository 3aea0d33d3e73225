"""MEDLINE text → Articles: every field of hand-written records, and malformed input refused with its position."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from tracker.errors import ParseError
from tracker.pubmed.medline import iter_medline_articles
from tracker.models import (
    AbstractSection,
    Article,
    Author,
    Chemical,
    Correction,
    Grant,
    MeshHeading,
    MeshQualifier,
    SizeLimits,
)

FIXTURE = Path(__file__).parent / "fixtures" / "medline_fibromyalgia.txt"

EXPECTED = [
    Article(
        pmid=39000101,
        title="Serotonin transporter availability and pain thresholds in women with fibromyalgia: "
              "a randomized controlled trial.",
        abstract=(
            AbstractSection("Serotonin signalling may modulate central sensitization in fibromyalgia.", "BACKGROUND"),
            AbstractSection("Sixty women were randomly assigned to duloxetine or placebo for twelve weeks.", "METHODS"),
            AbstractSection("Pain thresholds rose by 14% (95% CI 6-22).", "RESULTS"),
            AbstractSection("Serotonergic treatment raised pain thresholds.", "CONCLUSIONS"),
        ),
        copyright="Copyright © 2019 The Authors.",
        journal="The journal of pain", journal_iso="J Pain", volume="20", issue="6", pages="101-109",
        pub_year=2019, pub_month=11, pub_day=None, pub_date_raw="2019 Nov-Dec",
        electronic_date="2019-08-15", entry_date="2019-08-16", revised_date="2024-01-05",
        authors=(
            Author(last_name="Müller", fore_name="Jörg A", initials="JA",
                   affiliations=("Department of Rheumatology, Universitätsklinikum Köln, Cologne, Germany.",
                                 "Pain Research Unit, Charité, Berlin, Germany.")),
            Author(last_name="van der Berg", fore_name="Anna", initials="A",
                   affiliations=("Leiden University Medical Center, Leiden, the Netherlands.",)),
            Author(collective_name="Fibromyalgia Outcomes Research Collaborative Group of the Northern European "
                                   "Rheumatology Network"),
        ),
        doi="10.1000/fm.2019.0101", pmcid="PMC6800101", languages=("eng",),
        publication_types=("Journal Article", "Randomized Controlled Trial", "Retracted Publication"),
        mesh=(
            MeshHeading("Adult"), MeshHeading("Female"),
            MeshHeading("Fibromyalgia", major=True,
                        qualifiers=(MeshQualifier("drug therapy"), MeshQualifier("metabolism", major=True))),
            MeshHeading("Humans"),
            MeshHeading("Pain Threshold", qualifiers=(MeshQualifier("drug effects", major=True),)),
            MeshHeading("Serotonin Plasma Membrane Transport Proteins",
                        qualifiers=(MeshQualifier("metabolism", major=True),)),
        ),
        keywords=("central sensitization", "serotonin"),
        corrections=(
            Correction("RetractionIn", 39000199, "J Pain. 2021 Mar;22(3):350. doi: 10.1000/fm.2021.0350"),
            Correction("ErratumIn", 39000150, "J Pain. 2020 Jan;21(1):12"),
        ),
        # The AUID line's ORCID fails its checksum and is dropped.
        publication_status="ppublish",
    ),
    Article(
        pmid=39000102,
        title="Sleep architecture in primary fibrositis syndrome.",
        abstract=(AbstractSection("Alpha intrusion into non-REM sleep was recorded in eleven of twelve patients. "
                                  "The finding supports a sleep hypothesis of the syndrome."),),
        journal="Tidsskrift for den Norske laegeforening", journal_iso="Tidsskr Nor Laegeforen", pages="45-9",
        pub_year=1998, pub_month=12, pub_date_raw="1998 Dec-1999 Jan", entry_date="1999-01-20",
        # An affiliation above the first author (records before 2014) is the first author's, as in the XML.
        authors=(Author(last_name="Hansen", initials="K",
                        affiliations=("Sleep Laboratory, St. Olav Hospital, Trondheim, Norway.",)),
                 Author(last_name="Plato")),
        languages=("nor",), publication_types=("English Abstract", "Journal Article"),
        mesh=(MeshHeading("Fibromyalgia", qualifiers=(MeshQualifier("physiopathology", major=True),)),
              MeshHeading("Humans"), MeshHeading("Sleep Stages", qualifiers=(MeshQualifier("physiology"),))),
    ),
    Article(
        pmid=39000103,
        title="Autonomic dysfunction and small fibre pathology: a narrative review.",
        journal="Pain reports", journal_iso="Pain Rep", volume="12",
        pub_year=2020, pub_date_raw="Spring 2020", entry_date="2020-04-01",
        authors=(Author(last_name="Øberg", fore_name="Siri", initials="S"),),
        doi="10.1000/pr.2020.12", languages=("eng",), publication_types=("Journal Article", "Review"),
        corrections=(Correction("ExpressionOfConcernIn", 39000177, "Pain Rep. 2022;7(2):e990"),),
    ),
    Article(
        pmid=39000104, title="Fibromyalgia.", kind="book", journal="StatPearls",
        pub_year=2021, pub_date_raw="2021", entry_date="2021-01-04",
        authors=(Author(collective_name="StatPearls Editorial Board"),),
        languages=("eng",), publication_types=("Study Guide", "Book Chapter"),
    ),
]


def test_every_field_of_the_hand_written_records() -> None:
    assert list(iter_medline_articles(FIXTURE)) == EXPECTED


@pytest.mark.parametrize("make_source", [
    pytest.param(lambda: FIXTURE.read_bytes(), id="bytes"),
    pytest.param(lambda: str(FIXTURE), id="str path"),
    pytest.param(lambda: io.BytesIO(FIXTURE.read_bytes()), id="binary handle"),
    pytest.param(lambda: io.StringIO(FIXTURE.read_text(encoding="utf-8")), id="text handle"),
    # PubMed's .nbib download: Windows line ends, and some tools add a byte-order mark.
    pytest.param(lambda: b"\xef\xbb\xbf" + FIXTURE.read_bytes().replace(b"\n", b"\r\n"), id="nbib CRLF + BOM"),
    pytest.param(lambda: b"\n\n" + FIXTURE.read_bytes() + b"\n\n\n", id="blank lines around"),
])
def test_every_kind_of_source_gives_the_same_articles(make_source) -> None:
    assert list(iter_medline_articles(make_source())) == EXPECTED


@pytest.mark.parametrize(("abstract_lines", "expected"), [
    ("AB  - Plain text without labels.", (AbstractSection("Plain text without labels."),)),
    ("AB  - OBJECTIVE(S): To test. METHODS AND RESULTS: We did. CONCLUSION: It works.",
     (AbstractSection("To test.", "OBJECTIVE(S)"), AbstractSection("We did.", "METHODS AND RESULTS"),
      AbstractSection("It works.", "CONCLUSION"))),
    # A capitalised word with a colon inside a sentence is not a section label.
    ("AB  - Levels of IL-6 were raised. In contrast, TNF: unchanged.",
     (AbstractSection("Levels of IL-6 were raised. In contrast, TNF: unchanged."),)),
    ("AB  - We studied HIV: no labels unless the text starts with one.",
     (AbstractSection("We studied HIV: no labels unless the text starts with one."),)),
    ("AB  -", ()),
])
def test_abstract_sections(abstract_lines: str, expected: tuple[AbstractSection, ...]) -> None:
    (article,) = iter_medline_articles(f"PMID- 1\nTI  - T\n{abstract_lines}\n".encode())
    assert article.abstract == expected


@pytest.mark.parametrize(("lines", "expected"), [
    ("FAU - Smith, John A\nAU  - Smith JA", (Author(last_name="Smith", fore_name="John A", initials="JA"),)),
    ("AU  - de la Cruz MT", (Author(last_name="de la Cruz", initials="MT"),)),
    ("FAU - Nakamura\nAU  - Nakamura", (Author(last_name="Nakamura"),)),
    ("CN  - The Trial Group\nFAU - Lee, Min\nAU  - Lee M\nAD  - Seoul.",
     (Author(collective_name="The Trial Group"), Author(last_name="Lee", fore_name="Min", initials="M",
                                                       affiliations=("Seoul.",)))),
    ("AD  - Nowhere.", ()),
])
def test_authors(lines: str, expected: tuple[Author, ...]) -> None:
    (article,) = iter_medline_articles(f"PMID- 1\nTI  - T\n{lines}\n".encode())
    assert article.authors == expected


@pytest.mark.parametrize(("line", "expected"), [
    ("RIN - Pain. 2020;1:2. PMID: 123", Correction("RetractionIn", 123, "Pain. 2020;1:2")),
    ("ROF - Pain. 2019;1:1. PMID: 122.", Correction("RetractionOf", 122, "Pain. 2019;1:1")),
    ("EFR - Arch Intern Med 2000 Mar 13;160(5):623", Correction("ErratumFor", None, "Arch Intern Med 2000 Mar 13;160(5):623")),
    ("ECF - Pain Rep. 2022;7:1. PMID: 9", Correction("ExpressionOfConcernFor", 9, "Pain Rep. 2022;7:1")),
    ("UIN - Cochrane. 2021. PMID: 7", Correction("UpdateIn", 7, "Cochrane. 2021")),
    ("UOF - Cochrane. 2015. PMID: 6", Correction("UpdateOf", 6, "Cochrane. 2015")),
    ("CRI - BMJ. 2020. PMID: 5", Correction("RepublishedIn", 5, "BMJ. 2020")),
    ("CRF - BMJ. 2019. PMID: 4", Correction("RepublishedFrom", 4, "BMJ. 2019")),
])
def test_corrections(line: str, expected: Correction) -> None:
    (article,) = iter_medline_articles(f"PMID- 1\nTI  - T\n{line}\nCIN - Not an integrity signal. PMID: 3\n".encode())
    assert article.corrections == (expected,)


@pytest.mark.parametrize(("lines", "expected"), [
    ("AID - 10.1/a [doi]\nLID - 10.2/b [doi]", "10.1/a"),
    ("LID - 10.2/b [doi]", "10.2/b"),
    ("AID - S0001 [pii]\nLID - e12 [pii]", None),
])
def test_doi_from_aid_then_lid(lines: str, expected: str | None) -> None:
    (article,) = iter_medline_articles(f"PMID- 1\nTI  - T\n{lines}\n".encode())
    assert article.doi == expected


@pytest.mark.parametrize(("text", "message"), [
    (b"", "<MEDLINE input>: has no MEDLINE records"),
    (b"\n\n", "<MEDLINE input>: has no MEDLINE records"),
    (b"PMID- 1\nTI  - fine\n\nthis line is garbage\n",
     "<MEDLINE input>: line 4 ('this line is garbage') is neither a MEDLINE field"),
    (b"PMID- 1\nTI\t- tabbed\n", "<MEDLINE input>: line 2 ('TI\\t- tabbed') is neither a MEDLINE field"),
    (b'<?xml version="1.0"?>\n<PubmedArticleSet>\n', "<MEDLINE input>: line 1 ('<?xml version=\"1.0\"?>')"),
    (b"PMID- 1\nTI  - one\n\nTI  - no id\nAB  - text\n",
     "<MEDLINE input>: record 2 (line 4) has no PMID line"),
    (b"PMID- 1\nTI  - one\nPMID- 2\nTI  - two\n",
     "<MEDLINE input>: record 1 (line 1) has a second PMID at line 3; records must be separated by a blank line"),
    (b"PMID- 12a\nTI  - one\n", "<MEDLINE input>: line 1: PMID '12a' is not a positive whole number"),
    (b"PMID-\nTI  - one\n", "<MEDLINE input>: line 1: PMID '' is not a positive whole number"),
    (b"      continued\nPMID- 1\n", "<MEDLINE input>: line 1 continues a field but no field starts above it"),
    (b"PMID- 1\nTI  - caf\xe9\n", "<MEDLINE input>: line 2 is not UTF-8 text (byte 0xe9)"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "<MEDLINE input>: line 1 is not UTF-8 text (byte 0x89)"),
    (b"PMID- 1\nTI  - a\x00b\n", "<MEDLINE input>: line 2 holds binary data (NUL bytes)"),
])
def test_malformed_input_names_the_position_and_the_fix(text: bytes, message: str) -> None:
    with pytest.raises(ParseError) as raised:
        list(iter_medline_articles(text))
    assert str(raised.value).startswith(message)
    assert "export it again from PubMed" in str(raised.value)


def test_error_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "search.nbib"
    path.write_bytes(b"PMID- 1\nTI  - fine\n\nPMID- 2\nbroken line\n")
    with pytest.raises(ParseError, match=r"^.*search\.nbib: line 5 \('broken line'\) is neither"):
        list(iter_medline_articles(path))


def test_missing_file_is_a_parse_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ParseError, match=r"absent\.txt: cannot be read \(No such file or directory\)"):
        list(iter_medline_articles(tmp_path / "absent.txt"))


PAIRED = Path(__file__).parent / "fixtures" / "medline_paired.nbib"
TRUNCATED = Path(__file__).parent / "fixtures" / "medline_paired_truncated.nbib"


def test_a_file_cut_mid_line_is_refused_with_its_line() -> None:
    with pytest.raises(ParseError) as raised:
        list(iter_medline_articles(TRUNCATED))
    assert str(raised.value).startswith(
        f"{TRUNCATED}: ends in the middle of line 67 (record 2, which starts at line 58); the file was cut off")


def test_a_file_cut_between_lines_of_its_last_record_is_refused() -> None:
    # Every record of a PubMed export ends with SO: a last record without it lost its end.
    text = PAIRED.read_bytes()
    cut = text[:text.index(b"FAU - Brown")]
    with pytest.raises(ParseError) as raised:
        list(iter_medline_articles(cut))
    assert str(raised.value).startswith(
        "<MEDLINE input>: record 2 (line 58) ends at line 72 without the SO (source) line that ends every other"
        " record; the file was cut off")


def test_a_single_record_without_a_source_line_is_read() -> None:
    # Nothing shows that a lone record should have had SO: hand-written files often leave it out.
    (article,) = iter_medline_articles(b"PMID- 1\nTI  - Title.\nAU  - Smith J\n")
    assert article.authors == (Author(last_name="Smith", initials="J"),)


@pytest.mark.parametrize("lines", [b"PMID- 5\nAU  - Smith J\nAB  - Text.\n", b"PMID- 5\nTI  -\nSO  - Pain.\n"])
def test_a_record_without_a_title_is_refused(lines: bytes) -> None:
    with pytest.raises(ParseError, match=r"^<MEDLINE input>: record 1 \(line 1\) \(PMID 5\) has no title \(TI"):
        list(iter_medline_articles(lines))


@pytest.mark.parametrize("pmid", ["1" * 30, "0", "-5", "9223372036854775808", "twelve", "１２"])
def test_a_pmid_that_is_not_a_positive_integer_below_2_63_is_a_one_line_parse_error(pmid: str) -> None:
    with pytest.raises(ParseError) as raised:
        list(iter_medline_articles(f"PMID- {pmid}\nTI  - T\n".encode()))
    assert str(raised.value).startswith(
        f"<MEDLINE input>: line 1: PMID {pmid!r} is not a positive whole number below 2^63")


def test_a_correction_pmid_out_of_range_keeps_the_notice_without_it() -> None:
    (article,) = iter_medline_articles(f"PMID- 1\nTI  - T\nRIN - Pain. 2020. PMID: {'9' * 30}\n".encode())
    assert article.corrections == (Correction("RetractionIn", None, "Pain. 2020"),)


def test_a_field_beyond_the_limit_is_refused_naming_record_field_and_limit() -> None:
    wrapped_abstract = "AB  - start\n" + "      " + "\n      ".join(["word " * 20] * 12) + "\n"
    text = f"PMID- 1\nTI  - One\nAB  - short\n\nPMID- 2\nTI  - Two\n{wrapped_abstract}".encode()
    with pytest.raises(ParseError) as raised:
        list(iter_medline_articles(text, SizeLimits(field=1000, record=100_000)))
    assert str(raised.value).startswith(
        "<MEDLINE input>: record 2 (line 5) has a AB field (from line 7) of more than 1,000 characters, far beyond"
        " any real PubMed record")


def test_one_line_beyond_the_limit_is_refused_before_it_is_read_whole() -> None:
    text = b"PMID- 1\nTI  - " + b"x" * 50_000 + b"\n"
    with pytest.raises(ParseError, match=r"^<MEDLINE input>: record 1 \(line 1\) has a TI field \(from line 2\) of more than 1,000 characters"):
        list(iter_medline_articles(text, SizeLimits(field=1000, record=100_000)))


def test_a_field_at_the_limit_is_read() -> None:
    (article,) = iter_medline_articles(b"PMID- 1\nTI  - T\nAB  - " + b"y" * 1000 + b"\n",
                                       SizeLimits(field=1000, record=100_000))
    assert article.abstract_text == "y" * 1000


def test_a_record_beyond_the_limit_is_refused_though_each_field_is_small() -> None:
    authors = "".join(f"AU  - Name{number} A\n" for number in range(2000))
    with pytest.raises(ParseError, match=r"^<MEDLINE input>: record 1 \(line 1\) is more than 10,000 characters"):
        list(iter_medline_articles(f"PMID- 1\nTI  - T\n{authors}".encode(), SizeLimits(field=1000, record=10_000)))


@pytest.mark.parametrize(("line", "expected"), [
    ("GR  - R01 AR053295/AR/NIAMS NIH HHS/United States", Grant("R01 AR053295", "NIAMS NIH HHS", "United States")),
    ("GR  - MR/K006584/1/MRC_/Medical Research Council/United Kingdom",
     Grant("MR/K006584/1", "Medical Research Council", "United Kingdom")),
    ("GR  - 2019-01/Swedish Research Council/Sweden", Grant("2019-01", "Swedish Research Council", "Sweden")),
    ("GR  - Wellcome Trust/United Kingdom", Grant(None, "Wellcome Trust", "United Kingdom")),
    ("GR  - Wellcome Trust", Grant(None, "Wellcome Trust", None)),
])
def test_grants(line: str, expected: Grant) -> None:
    (article,) = iter_medline_articles(f"PMID- 1\nTI  - T\n{line}\n".encode())
    assert article.grants == (expected,)


@pytest.mark.parametrize(("line", "expected"), [
    ("RN  - 0 (Analgesics)", Chemical("Analgesics", "0")),
    ("RN  - EC 3.4.21.- (Serine Endopeptidases)", Chemical("Serine Endopeptidases", "EC 3.4.21.-")),
    ("RN  - 0 (Receptors, Serotonin, 5-HT2 (sub))", Chemical("Receptors, Serotonin, 5-HT2 (sub)", "0")),
    ("RN  - Unbracketed", Chemical("Unbracketed")),
])
def test_chemicals(line: str, expected: Chemical) -> None:
    (article,) = iter_medline_articles(f"PMID- 1\nTI  - T\n{line}\n".encode())
    assert article.chemicals == (expected,)


def test_orcids_go_to_the_author_above_them_in_any_form() -> None:
    (article,) = iter_medline_articles(
        b"PMID- 1\nTI  - T\nFAU - Ash, Ann\nAU  - Ash A\nAUID- ORCID: https://orcid.org/0000-0002-1825-0097\n"
        b"FAU - Birch, Bo\nAU  - Birch B\nAUID- ORCID: 0000-0002-1825-0098\nCN  - Group\n"
        b"AUID- ORCID: 0000000216942 33X\n")
    assert [author.orcid for author in article.authors] == ["0000-0002-1825-0097", None, None]


def test_comments_status_and_conflict_of_interest() -> None:
    (article,) = iter_medline_articles(
        b"PMID- 1\nTI  - T\nCON - Pain. 2020;1:1. PMID: 11\nCIN - Pain. 2021;2:2\nCOIS- AB is paid\n"
        b"      by Pfizer.\nPST - aheadofprint\n")
    assert article.comments == (Correction("CommentOn", 11, "Pain. 2020;1:1"), Correction("CommentIn", None,
                                                                                          "Pain. 2021;2:2"))
    assert article.coi_statement == "AB is paid by Pfizer."
    assert article.publication_status == "aheadofprint"
    assert article.corrections == ()


def test_the_same_articles_in_xml_and_medline_give_equal_records() -> None:
    from tracker.pubmed.parse import iter_pubmed_records

    xml_articles = list(iter_pubmed_records((Path(__file__).parent / "fixtures" / "efetch_paired.xml").read_bytes()))
    medline_articles = list(iter_medline_articles(PAIRED))
    assert medline_articles == xml_articles
    # And the fields this pair exists for are there, not equal by both being empty.
    first, second = medline_articles
    assert [a.orcid for a in first.authors] == ["0000-0002-1825-0097", "0000-0001-5109-3700"]
    assert first.title == "Peak oxygen uptake (VO2max) and pain sensitivity in women with fibromyalgia."
    assert first.abstract[0].text == "Aerobic capacity (VO2max) is reduced in fibromyalgia."
    assert first.grants == (Grant("R01 AR053295", "NIAMS NIH HHS", "United States"),
                            Grant("2019-01234", "Swedish Research Council", "Sweden"),
                            Grant(None, "Wellcome Trust", "United Kingdom"))
    assert first.chemicals == (Chemical("Analgesics", "0"), Chemical("Pregabalin", "55JG375S6M"))
    assert first.coi_statement == "ML has received speaker fees from Pfizer. CEO declares no competing interests."
    assert first.comments == (Correction("CommentIn", 39600003, "J Pain. 2021 Sep;22(9):1100"),)
    assert (first.publication_status, second.publication_status) == ("ppublish", "ppublish")
    assert second.comments == (Correction("CommentOn", 39600004, "Pain. 2011 Mar;152(3):500-1"),)
    assert second.authors[0].affiliations == ("Sleep Research Unit, University of Manchester, Manchester, UK.",)
    assert second.authors[1].affiliations == ()


def test_a_file_with_cr_only_line_ends_is_read_like_any_other() -> None:
    # Classic Mac OS line ends, as some older reference managers still write them.
    assert list(iter_medline_articles(FIXTURE.read_bytes().replace(b"\n", b"\r"))) == EXPECTED
    assert list(iter_medline_articles(io.StringIO(FIXTURE.read_text(encoding="utf-8").replace("\n", "\r"),
                                                  newline=""))) == EXPECTED
