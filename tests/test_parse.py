"""The PubMed XML parser against the project's hand-written efetch fixtures and hostile documents."""

from __future__ import annotations

import io

import pytest

from tests.conftest import FIXTURES_DIR
from tracker.pubmed import parse
from tracker.errors import ParseError
from tracker.models import (
    AbstractSection,
    Article,
    Author,
    Chemical,
    Correction,
    Deletion,
    Grant,
    MeshHeading,
    MeshQualifier,
    SizeLimits,
)
from tracker.pubmed.parse import iter_pubmed_records, parse_pubmed_date_text

DOCTYPE_2025 = (
    b'<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2025//EN"'
    b' "https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">'
)
MINIMAL_RECORD = (
    b"<PubmedArticle><MedlineCitation><PMID>39500001</PMID><Article><ArticleTitle>Fibromyalgia and IGF-1."
    b"</ArticleTitle></Article></MedlineCitation></PubmedArticle>"
)
MINIMAL_ARTICLE = Article(pmid=39500001, title="Fibromyalgia and IGF-1.")


def read_fixture(name: str) -> bytes:
    return (FIXTURES_DIR / name).read_bytes()


def records_by_pmid(name: str) -> dict[int, Article]:
    return {record.pmid: record for record in iter_pubmed_records(read_fixture(name))}


SUBSTANCE_P_TRIAL = Article(
    pmid=39100001,
    title=(
        "Cerebrospinal fluid substance P and 5-HT2A binding in fibromyalgia: a randomized, placebo-controlled"
        " trial of milnacipran®."
    ),
    kind="journal",
    abstract=(
        AbstractSection(
            text="Elevated substance P in cerebrospinal fluid has been proposed as a marker of central"
            " sensitisation in fibromyalgia.",
            label="BACKGROUND", nlm_category="BACKGROUND",
        ),
        AbstractSection(
            text="We randomised 120 women (age ≥ 18 years) to milnacipran 100 mg/day or placebo for 12 weeks and"
            " measured CSF substance P (pg/mL) by radioimmunoassay.",
            label="METHODS", nlm_category="METHODS",
        ),
        AbstractSection(
            text="Substance P fell by 18% (95% CI 9–27%) with milnacipran and by 2% with placebo; pain scores fell"
            " in parallel (p = 0.01).",
            label="RESULTS", nlm_category="RESULTS",
        ),
        AbstractSection(
            text="Reduction of CSF substance P accompanies clinical response.",
            label="CONCLUSIONS", nlm_category="CONCLUSIONS",
        ),
    ),
    copyright=(
        "Copyright © 2024 United States Association for the Study of Pain, Inc. Published by Elsevier Inc."
        " All rights reserved."
    ),
    journal="The journal of pain",
    journal_iso="J Pain",
    volume="25",
    issue="9",
    pages="104571",
    pub_year=2024,
    pub_month=9,
    pub_day=5,
    pub_date_raw="2024 Sep 5",
    electronic_date="2024-06-14",
    entry_date="2024-06-15",
    revised_date="2025-01-07",
    authors=(
        Author(
            last_name="Müller", fore_name="Jörg", initials="J",
            affiliations=(
                "Klinik für Rheumatologie, Universitätsklinikum Köln, Köln, Germany.",
                "Zentrum für Schmerzforschung, Köln, Germany.",
            ),
            orcid="0000-0000-0000-0001",
        ),
        Author(
            last_name="García-López", fore_name="Ana", initials="A",
            affiliations=("Unidad de Dolor, Hospital Universitario, Sevilla, Spain.",),
        ),
        Author(collective_name="Fibromyalgia CSF Study Group"),
    ),
    doi="10.1016/j.jpain.2024.104571",
    pmcid="PMC11000001",
    languages=("eng",),
    publication_types=("Randomized Controlled Trial", "Research Support, Non-U.S. Gov't"),
    mesh=(
        MeshHeading(
            descriptor="Fibromyalgia", ui="D005356", major=True,
            qualifiers=(MeshQualifier("blood", major=False), MeshQualifier("drug therapy", major=True)),
        ),
        MeshHeading(descriptor="Humans", ui="D006801", major=False),
        MeshHeading(
            descriptor="Substance P", ui="D013373", major=False,
            qualifiers=(MeshQualifier("cerebrospinal fluid", major=False),),
        ),
    ),
    keywords=("central sensitisation", "neuropeptides", "SNRI therapy"),
    corrections=(Correction(ref_type="ErratumIn", pmid=39100098, ref_source="J Pain. 2025 Jan;26(1):104720"),),
    comments=(Correction(ref_type="CommentIn", pmid=39100099, ref_source="J Pain. 2024 Dec;25(12):104700"),),
    grants=(Grant(grant_id="R01 AR000000", agency="NIAMS NIH HHS", country="United States"),),
    chemicals=(Chemical(name="Substance P", registry_number="33507-63-0"),),
    publication_status="ppublish",
)

RETRACTED_SLEEP_STUDY = Article(
    pmid=39100002,
    title="Slow-wave sleep deprivation and somatomedin C in women with fibromyalgia.",
    journal="Sleep & pain reports",
    journal_iso="Sleep Pain Rep",
    volume="12",
    issue="6",
    pages="411-419",
    pub_year=2019,
    pub_month=11,
    pub_date_raw="2019 Nov-Dec",
    entry_date="2019-12-03",
    revised_date="2023-03-02",
    authors=(Author(last_name="Øvrebø", fore_name="Sigrid", initials="S"),),
    doi="10.5555/spr.2019.0411",
    languages=("eng",),
    publication_types=("Journal Article", "Retracted Publication"),
    corrections=(
        Correction(ref_type="RetractionIn", pmid=39100003, ref_source="Sleep Pain Rep. 2022 Feb;15(2):101"),
    ),
    publication_status="ppublish",
)

AUTONOMIC_STUDY = Article(
    pmid=39100004,
    title="Herzfrequenzvariabilität und Kipptisch-Test bei Fibromyalgie",
    abstract=(
        AbstractSection(
            text="Heart-rate variability (L/H ratio) was lower in patients; norepinephrine rose by 40 pg/mL after"
            " tilt."
        ),
    ),
    journal="Zeitschrift für Rheumatologie",
    journal_iso="Z Rheumatol",
    volume="31",
    pub_year=2020,
    pub_date_raw="2020 Spring",
    authors=(Author(collective_name="Deutsche Fibromyalgie-Studiengruppe", affiliations=("Berlin, Germany.",)),),
    languages=("ger", "eng"),
    publication_types=("Journal Article", "English Abstract"),
    mesh=(
        MeshHeading(
            descriptor="Heart Rate", ui="D006339", major=False,
            qualifiers=(MeshQualifier("physiology", major=True),),
        ),
    ),
    corrections=(
        Correction(ref_type="ExpressionOfConcernIn", pmid=39100005, ref_source="Z Rheumatol. 2021;32:5"),
        Correction(ref_type="UpdateIn", pmid=None, ref_source="Z Rheumatol. 2023;34:77"),
    ),
)

BOOK_CHAPTER = Article(
    pmid=39300001,
    title="Fibromyalgia: central pain and the HPA axis",
    kind="book",
    abstract=(
        AbstractSection(
            text="Fibromyalgia is widespread pain with fatigue; cortisol rhythms are often flattened.",
            label="OVERVIEW",
        ),
    ),
    copyright="Copyright © 2025, StatPearls Publishing LLC.",
    journal="StatPearls®",
    pub_year=2025,
    pub_month=1,
    pub_date_raw="2025 Jan",
    entry_date="2025-01-20",
    revised_date="2025-01-20",
    authors=(
        Author(
            last_name="Nakamura", fore_name="Kenji", initials="K", affiliations=("東京大学医学部, Tokyo, Japan",)
        ),
    ),
    languages=("eng",),
    publication_types=("Review", "Study Guide"),
    keywords=("Fibromyalgia",),
    publication_status="ppublish",
)

WHOLE_BOOK = Article(
    pmid=39300002,
    title="Chronic Widespread Pain: Infections, Injury and Stress",
    kind="book",
    volume="2",
    pub_year=2011,
    pub_date_raw="2011",
    authors=(Author(collective_name="Committee on Chronic Pain Research"),),
    doi="10.5555/nbk900002",
    languages=("eng",),
    publication_types=("Review",),
)


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("efetch_journal.xml", SUBSTANCE_P_TRIAL),
        ("efetch_journal.xml", RETRACTED_SLEEP_STUDY),
        ("efetch_journal.xml", AUTONOMIC_STUDY),
        ("efetch_book.xml", BOOK_CHAPTER),
        ("efetch_book.xml", WHOLE_BOOK),
    ],
    ids=lambda value: str(value.pmid) if isinstance(value, Article) else value,
)
def test_whole_records(fixture: str, expected: Article) -> None:
    assert records_by_pmid(fixture)[expected.pmid] == expected


@pytest.mark.parametrize(
    ("fixture", "expected_records"),
    [
        # Only each record's own PMID: the ReferenceList and CommentsCorrections PMIDs must not leak in.
        ("efetch_journal.xml", [39100001, 39100002, 39100003, 39100004]),
        ("efetch_book.xml", [39300001, 39300002]),
        (
            "efetch_deletions.xml",
            [Deletion(39400001), Deletion(39400002), 39400003, Deletion(39400004)],
        ),
    ],
)
def test_record_sequence(fixture: str, expected_records: list[int | Deletion]) -> None:
    records = list(iter_pubmed_records(read_fixture(fixture)))
    assert [record if isinstance(record, Deletion) else record.pmid for record in records] == expected_records


@pytest.mark.parametrize(
    ("pmid", "expected_date"),
    [
        (39200001, (2019, 8, 5, "2019 Aug 5")),
        (39200002, (2019, 8, 5, "2019 Aug 5")),  # "08" / "05" as numbers
        (39200003, (2021, 3, None, "2021 Mar")),
        (39200004, (2018, None, None, "2018")),
        (39200005, (2020, None, None, "2020 Winter")),
        (39200006, (2017, 2, None, "2017 Feb 30")),  # an impossible day is dropped, the text kept
        (39200007, (1998, 12, None, "1998 Dec-1999 Jan")),
        (39200008, (2019, 11, None, "2019 Nov-Dec")),
        (39200009, (2020, None, None, "Spring 2020")),
        (39200010, (2000, None, None, "2000-2001")),
        (39200011, (2019, 8, 5, "2019 Aug 5-11")),
        (39200012, (1975, None, None, "1975-1976 Winter")),
        (39200013, (1999, 12, 27, "1999 Dec 27-2000 Jan 2")),
        (39200014, (None, None, None, "n.d.")),
        (39200015, (None, None, None, None)),
    ],
)
def test_publication_dates(pmid: int, expected_date: tuple[object, ...]) -> None:
    article = records_by_pmid("efetch_dates.xml")[pmid]
    assert (article.pub_year, article.pub_month, article.pub_day, article.pub_date_raw) == expected_date


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2019 Nov-Dec", (2019, 11, None)),
        ("1998 Dec-1999 Jan", (1998, 12, None)),
        ("Spring 2020", (2020, None, None)),
        ("2000-2001", (2000, None, None)),
        ("2019 Aug 5", (2019, 8, 5)),
        ("2019 August 05", (2019, 8, 5)),
        ("2019 Sept", (2019, 9, None)),
        ("2019 08-09", (2019, 8, None)),  # a month range, not 9 August
        ("2019 13", (2019, None, None)),
        ("2019 Fall", (2019, None, None)),
        ("2019 Jan/Feb", (2019, 1, None)),
        ("2019 Feb 29", (2019, 2, None)),
        ("2020 Feb 29", (2020, 2, 29)),
        ("Winter 2019-2020", (2019, None, None)),
        ("2019 Aug 28-Sep 3", (2019, 8, 28)),
        ("", (None, None, None)),
        ("undated", (None, None, None)),
        ("12345", (None, None, None)),
    ],
)
def test_parse_pubmed_date_text(text: str, expected: tuple[int | None, int | None, int | None]) -> None:
    assert parse_pubmed_date_text(text) == expected


@pytest.mark.parametrize(
    ("pmid", "expected_corrections"),
    [
        (39100001, (Correction("ErratumIn", 39100098, "J Pain. 2025 Jan;26(1):104720"),)),  # CommentIn dropped
        (39100002, (Correction("RetractionIn", 39100003, "Sleep Pain Rep. 2022 Feb;15(2):101"),)),  # Cites dropped
        (39100003, (Correction("RetractionOf", 39100002, "Sleep Pain Rep. 2019 Nov-Dec;12(6):411-419"),)),
        (
            39100004,
            (
                Correction("ExpressionOfConcernIn", 39100005, "Z Rheumatol. 2021;32:5"),
                Correction("UpdateIn", None, "Z Rheumatol. 2023;34:77"),
            ),
        ),
    ],
)
def test_integrity_links(pmid: int, expected_corrections: tuple[Correction, ...]) -> None:
    assert records_by_pmid("efetch_journal.xml")[pmid].corrections == expected_corrections


@pytest.mark.parametrize(
    ("pmid", "expected_dates"),
    [
        (39100001, ("2024-06-14", "2024-06-15", "2025-01-07")),  # entrez, not the later "pubmed" date
        (39100002, (None, "2019-12-03", "2023-03-02")),  # no entrez date: the "pubmed" one
        (39100003, (None, "2022-03-01", None)),  # an impossible entrez date (Feb 30) falls back too
        (39100004, (None, None, None)),
    ],
)
def test_electronic_entry_and_revised_dates(pmid: int, expected_dates: tuple[str | None, ...]) -> None:
    article = records_by_pmid("efetch_journal.xml")[pmid]
    assert (article.electronic_date, article.entry_date, article.revised_date) == expected_dates


@pytest.mark.parametrize(
    ("title_xml", "expected_title"),
    [
        (b"Plain title.", "Plain title."),
        (b"<i>In vivo</i> 5-HT<sub>1A</sub> and Ca<sup>2+</sup>", "In vivo 5-HT1A and Ca2+"),
        (b"<b>Bold</b>  and\n\t<u>under</u>lined", "Bold and underlined"),
        (
            b'Ratio <mml:math xmlns:mml="http://www.w3.org/1998/Math/MathML"><mml:mi>x</mml:mi>'
            b"<mml:mo>&#x2264;</mml:mo><mml:mn>2</mml:mn></mml:math> holds",
            "Ratio x≤2 holds",
        ),
        ("Schlaf\u00a0und Schmerz — ΔHRV 😴".encode(), "Schlaf\u00a0und Schmerz — ΔHRV 😴"),
        (b"Tom &amp; Jerry &lt;3", "Tom & Jerry <3"),
    ],
)
def test_title_markup_flattened(title_xml: bytes, expected_title: str) -> None:
    document = MINIMAL_RECORD.replace(b"Fibromyalgia and IGF-1.", title_xml)
    [article] = iter_pubmed_records(b"<PubmedArticleSet>" + document + b"</PubmedArticleSet>")
    assert article.title == expected_title


@pytest.mark.parametrize(
    "prolog",
    [
        b"",
        b'<?xml version="1.0" ?>\n' + DOCTYPE_2025 + b"\n",
        b'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE PubmedArticleSet SYSTEM "http://example.org/never.dtd">\n',
        b'<?xml version="1.0"?>\n<!DOCTYPE PubmedArticleSet [ <!ELEMENT PubmedArticleSet ANY> ]>\n',
        b"<!-- saved from PubMed -->\n",
    ],
    ids=["none", "pubmed_2025", "system_dtd", "subset_without_entities", "comment"],
)
def test_doctype_lines_parse_without_any_dtd(prolog: bytes) -> None:
    document = prolog + b"<PubmedArticleSet>" + MINIMAL_RECORD + b"</PubmedArticleSet>"
    assert list(iter_pubmed_records(document)) == [MINIMAL_ARTICLE]


@pytest.mark.parametrize(
    ("doctype", "expected_message"),
    [
        (
            b'<!DOCTYPE PubmedArticleSet [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;">'
            b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>',
            "PubMed XML: declares the entity 'lol' in its DTD at line 2",
        ),
        (
            b'<!DOCTYPE PubmedArticleSet [<!ENTITY secret SYSTEM "file:///etc/passwd">]>',
            "PubMed XML: declares the entity 'secret' in its DTD at line 2",
        ),
        (
            b'<!DOCTYPE PubmedArticleSet [\n<!ENTITY % remote SYSTEM "http://example.org/evil.dtd">\n%remote;]>',
            "PubMed XML: declares the parameter entity 'remote' in its DTD at line 3",
        ),
    ],
    ids=["billion_laughs", "external_entity", "parameter_entity"],
)
@pytest.mark.parametrize("chunk_size_bytes", [1, 5, parse.CHUNK_SIZE_BYTES])
def test_entity_declarations_refused(
    monkeypatch: pytest.MonkeyPatch, doctype: bytes, expected_message: str, chunk_size_bytes: int
) -> None:
    # Small chunks split the declaration and its use across feeds: the guard must still see it first.
    monkeypatch.setattr(parse, "CHUNK_SIZE_BYTES", chunk_size_bytes)
    body = b"<PubmedArticleSet>" + MINIMAL_RECORD.replace(b"IGF-1.", b"&lol3;&secret;") + b"</PubmedArticleSet>"
    records = []
    with pytest.raises(ParseError) as raised:
        records.extend(iter_pubmed_records(b'<?xml version="1.0"?>\n' + doctype + body))
    assert records == []
    assert str(raised.value).startswith(expected_message)
    assert "fetch the records from PubMed again" in str(raised.value)


@pytest.mark.parametrize(
    ("cut_after", "expected_pmids", "expected_error"),
    [
        (b"<PubmedArticleSet>", [], "line 3, column 18: no element found"),
        (b"<Title>The journal", [], "line 29, column 34: no element found"),
        (b"</PubmedArticle>\n<PubmedArticle>", [39100001], "line 182, column 15: no element found"),
        (b"Sleep Pain Rep</ISOAbbreviation>", [39100001], "line 200, column 65: no element found"),
        (
            b"</PubmedArticle>\n</PubmedArticleSet",
            [39100001, 39100002, 39100003, 39100004],
            "line 355, column 0: unclosed token",
        ),
    ],
)
def test_truncated_xml_yields_complete_records_then_fails_with_position(
    cut_after: bytes, expected_pmids: list[int], expected_error: str
) -> None:
    document = read_fixture("efetch_journal.xml")
    cut = document.index(cut_after) + len(cut_after)
    pmids = []
    with pytest.raises(ParseError) as raised:
        pmids.extend(record.pmid for record in iter_pubmed_records(document[:cut]))
    assert pmids == expected_pmids
    assert str(raised.value) == (
        f"PubMed XML is malformed at {expected_error}; it was probably cut off or is not PubMed XML"
        " — fetch it again"
    )


@pytest.mark.parametrize(
    ("document", "expected_message"),
    [
        (b"", "PubMed XML is malformed at line 1, column 0: no element found"),
        (
            b"<PubmedArticleSet><PubmedArticle></PubmedArticleSet>",
            "PubMed XML is malformed at line 1, column 35: mismatched tag",
        ),
        (
            b"<PubmedArticleSet>&nbsp;</PubmedArticleSet>",
            "PubMed XML is malformed at line 1, column 18: undefined entity",
        ),
        (
            b"<html><body>502 Bad Gateway</body></html>",
            "PubMed XML: the document is a <html>, not a <PubmedArticleSet>",
        ),
        (
            b"<PubmedArticleSet>" + MINIMAL_RECORD + b"<PubmedArticle><MedlineCitation><Article/></MedlineCitation>"
            b"</PubmedArticle></PubmedArticleSet>",
            "PubMed XML: record 2 (<PubmedArticle>) has no PMID",
        ),
        (
            b"<PubmedArticleSet>" + MINIMAL_RECORD + MINIMAL_RECORD
            + b"<PubmedBookArticle><BookDocument><PMID> </PMID></BookDocument></PubmedBookArticle></PubmedArticleSet>",
            "PubMed XML: record 3 (<PubmedBookArticle>) has no PMID",
        ),
        (
            b"<PubmedArticleSet><DeleteCitation/></PubmedArticleSet>",
            "PubMed XML: record 1 (<DeleteCitation>) has no PMID",
        ),
        (
            b"<PubmedArticleSet><DeleteCitation><PMID>12a</PMID></DeleteCitation></PubmedArticleSet>",
            "PubMed XML: record 1 (<DeleteCitation>) has the PMID '12a', which is not a positive whole number below 2^63",
        ),
    ],
    ids=["empty", "mismatched", "undefined_entity", "html_page", "article_no_pmid", "book_blank_pmid",
         "deletion_no_pmid", "deletion_bad_pmid"],
)
def test_malformed_documents(document: bytes, expected_message: str) -> None:
    with pytest.raises(ParseError) as raised:
        list(iter_pubmed_records(document))
    assert str(raised.value).startswith(expected_message)


def test_empty_article_set_has_no_records() -> None:
    assert list(iter_pubmed_records(b"<PubmedArticleSet>\n</PubmedArticleSet>\n")) == []


def test_file_source_named_in_errors(tmp_path) -> None:
    saved = tmp_path / "pubmed-fibromyalg-set.xml"
    saved.write_bytes(read_fixture("efetch_journal.xml")[:500])
    with saved.open("rb") as stream, pytest.raises(ParseError) as raised:
        list(iter_pubmed_records(stream))
    assert str(raised.value).startswith(f"PubMed XML {str(saved)!r} is malformed at line ")


@pytest.mark.parametrize(
    "fixture", ["efetch_journal.xml", "efetch_book.xml", "efetch_deletions.xml", "efetch_dates.xml"]
)
@pytest.mark.parametrize("chunk_size_bytes", [1, 7, 4096])
def test_chunk_boundaries_do_not_change_records(
    monkeypatch: pytest.MonkeyPatch, fixture: str, chunk_size_bytes: int
) -> None:
    whole = list(iter_pubmed_records(read_fixture(fixture)))
    monkeypatch.setattr(parse, "CHUNK_SIZE_BYTES", chunk_size_bytes)
    assert list(iter_pubmed_records(io.BytesIO(read_fixture(fixture)))) == whole


@pytest.mark.parametrize("pmid", ["1" * 30, "0", "-5", "+5", "9223372036854775808", "twelve", "１２", "1e5"])
def test_a_pmid_that_is_not_a_positive_integer_below_2_63_is_a_one_line_parse_error(pmid: str) -> None:
    document = MINIMAL_RECORD.replace(b"39500001", pmid.encode())
    with pytest.raises(ParseError) as raised:
        list(iter_pubmed_records(b"<PubmedArticleSet>" + document + b"</PubmedArticleSet>"))
    assert str(raised.value).startswith(
        f"PubMed XML: record 1 (<PubmedArticle>) has the PMID {pmid!r}, which is not a positive whole number"
        " below 2^63")
    assert "\n" not in str(raised.value)


def test_the_largest_pmid_sqlite_holds_is_read() -> None:
    document = MINIMAL_RECORD.replace(b"39500001", b"9223372036854775807")
    [article] = iter_pubmed_records(b"<PubmedArticleSet>" + document + b"</PubmedArticleSet>")
    assert article.pmid == 2**63 - 1


def test_a_correction_pmid_out_of_range_keeps_the_notice_without_it() -> None:
    document = MINIMAL_RECORD.replace(
        b"</Article>", b"</Article><CommentsCorrectionsList><CommentsCorrections RefType=\"RetractionIn\">"
        b"<RefSource>J Pain. 2020;1:1</RefSource><PMID>" + b"9" * 30 + b"</PMID></CommentsCorrections>"
        b"</CommentsCorrectionsList>")
    [article] = iter_pubmed_records(b"<PubmedArticleSet>" + document + b"</PubmedArticleSet>")
    assert article.corrections == (Correction("RetractionIn", None, "J Pain. 2020;1:1"),)


# NLM's older sample files: a MedlineCitationSet of MedlineCitation records, without PubmedData.
MEDLINE_CITATION_SET = (
    b'<?xml version="1.0"?>\n<!DOCTYPE MedlineCitationSet PUBLIC "-//NLM//DTD Medline Citation, 1st January, 2012//EN"'
    b' "http://www.nlm.nih.gov/databases/dtd/nlmmedlinecitationset_120101.dtd">\n<MedlineCitationSet>\n'
    b'<MedlineCitation Owner="NLM" Status="MEDLINE"><PMID Version="1">39500011</PMID><Article PubModel="Print">'
    b"<Journal><JournalIssue><Volume>12</Volume><PubDate><Year>2011</Year><Month>Mar</Month></PubDate>"
    b"</JournalIssue><Title>Pain</Title></Journal><ArticleTitle>Sleep and widespread pain.</ArticleTitle>"
    b"<AuthorList><Author><LastName>Okafor</LastName><ForeName>Ngozi</ForeName><Initials>N</Initials></Author>"
    b"</AuthorList></Article>"
    b'<MeshHeadingList><MeshHeading><DescriptorName MajorTopicYN="Y">Fibromyalgia</DescriptorName></MeshHeading>'
    b"</MeshHeadingList></MedlineCitation>\n"
    b"<MedlineCitation><PMID>39500012</PMID><Article><ArticleTitle>Second.</ArticleTitle></Article>"
    b"</MedlineCitation>\n<DeleteCitation><PMID>39500013</PMID></DeleteCitation>\n</MedlineCitationSet>\n"
)


def test_a_medline_citation_set_is_read() -> None:
    assert list(iter_pubmed_records(MEDLINE_CITATION_SET)) == [
        Article(pmid=39500011, title="Sleep and widespread pain.", journal="Pain", volume="12", pub_year=2011,
                pub_month=3, pub_date_raw="2011 Mar",
                authors=(Author(last_name="Okafor", fore_name="Ngozi", initials="N"),),
                mesh=(MeshHeading("Fibromyalgia", major=True),)),
        Article(pmid=39500012, title="Second."),
        Deletion(39500013),
    ]


@pytest.mark.parametrize("document", [
    MINIMAL_RECORD,
    b'<?xml version="1.0"?>\n<!DOCTYPE PubmedArticle PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2025//EN"'
    b' "https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">\n' + MINIMAL_RECORD + b"\n",
], ids=["bare", "with_prolog"])
def test_a_bare_pubmed_article_is_read(document: bytes) -> None:
    assert list(iter_pubmed_records(document)) == [MINIMAL_ARTICLE]


def test_a_bare_book_article_is_read() -> None:
    document = (b"<PubmedBookArticle><BookDocument><PMID>39500021</PMID><Book><BookTitle>Pain handbook</BookTitle>"
                b"</Book></BookDocument></PubmedBookArticle>")
    assert list(iter_pubmed_records(document)) == [Article(pmid=39500021, title="Pain handbook", kind="book")]


def test_a_record_nested_below_the_set_is_not_a_record() -> None:
    # Only the set's own children are records: a PubmedArticle inside something else is not one of them.
    document = b"<PubmedArticleSet><Wrapper>" + MINIMAL_RECORD + b"</Wrapper></PubmedArticleSet>"
    assert list(iter_pubmed_records(document)) == []


def _record_with_abstract(pmid: int, abstract: bytes) -> bytes:
    return (b"<PubmedArticle><MedlineCitation><PMID>%d</PMID><Article><ArticleTitle>T</ArticleTitle><Abstract>"
            b"<AbstractText>%s</AbstractText></Abstract></Article></MedlineCitation></PubmedArticle>" % (pmid, abstract))


def test_a_field_beyond_the_limit_is_refused_naming_record_field_and_limit() -> None:
    limits = SizeLimits(field=1000, record=100_000)
    document = (b"<PubmedArticleSet>" + _record_with_abstract(39500031, b"a" * 900)
                + _record_with_abstract(39500032, b"b" * 1300) + b"</PubmedArticleSet>")
    with pytest.raises(ParseError) as raised:
        list(iter_pubmed_records(io.BytesIO(document), limits))
    assert str(raised.value).startswith(
        "PubMed XML: record 2 (PMID 39500032) has a <AbstractText> field of more than 1,000 bytes, far beyond any"
        " real PubMed record")


def test_a_field_just_below_the_limit_is_read() -> None:
    limits = SizeLimits(field=1000, record=100_000)
    document = b"<PubmedArticleSet>" + _record_with_abstract(39500031, b"a" * 999) + b"</PubmedArticleSet>"
    [article] = iter_pubmed_records(document, limits)
    assert article.abstract_text == "a" * 999


def test_a_record_beyond_the_limit_is_refused_though_each_field_is_small() -> None:
    limits = SizeLimits(field=1000, record=20_000)
    many_authors = b"".join(b"<Author><LastName>Name%d</LastName></Author>" % number for number in range(1000))
    document = (b"<PubmedArticleSet>" + MINIMAL_RECORD.replace(b"</Article>", b"<AuthorList>" + many_authors
                + b"</AuthorList></Article>") + b"</PubmedArticleSet>")
    with pytest.raises(ParseError, match=r"^PubMed XML: record 1 \(PMID 39500001\) is more than 20,000 bytes long"):
        list(iter_pubmed_records(document, limits))


def _one_article(inside_citation: bytes, inside_article: bytes = b"", pubmed_data: bytes = b"") -> Article:
    document = (b"<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID>39500041</PMID><Article>" + inside_article
                + b"</Article>" + inside_citation + b"</MedlineCitation>" + pubmed_data
                + b"</PubmedArticle></PubmedArticleSet>")
    [article] = iter_pubmed_records(document)
    return article


MML = b'<mml:math xmlns:mml="http://www.w3.org/1998/Math/MathML">'


@pytest.mark.parametrize(("title", "expected"), [
    # PubMed's pretty-printed MathML: the indentation between symbols is not content.
    (b"Peak " + MML + b"\n  <mml:msub>\n    <mml:mi>VO</mml:mi>\n    <mml:mrow>\n      <mml:mn>2</mml:mn>\n"
     b"      <mml:mi>m</mml:mi>\n      <mml:mi>a</mml:mi>\n      <mml:mi>x</mml:mi>\n    </mml:mrow>\n"
     b"  </mml:msub>\n</mml:math> in fibromyalgia.", "Peak VO2max in fibromyalgia."),
    # An overdot accent (V-dot for a rate) has no plain-text form: the symbol stays, the accent goes.
    (MML + b"<mml:mover><mml:mi>V</mml:mi><mml:mo>\xcb\x99</mml:mo></mml:mover><mml:msub><mml:mi>O</mml:mi>"
     b"<mml:mn>2</mml:mn></mml:msub></mml:math> peak", "VO2 peak"),
    # TeX annotations repeat the formula: left out.
    (MML + b"<mml:semantics><mml:mrow><mml:mi>p</mml:mi><mml:mo>&lt;</mml:mo><mml:mn>0.05</mml:mn></mml:mrow>"
     b"<mml:annotation encoding=\"application/x-tex\">p &lt; 0.05</mml:annotation></mml:semantics></mml:math>",
     "p<0.05"),
    # mtext keeps its inner spaces.
    (MML + b"<mml:mn>45</mml:mn><mml:mtext> ml/kg/min</mml:mtext></mml:math>", "45 ml/kg/min"),
    (b"Plain <i>italic</i> title.", "Plain italic title."),
])
def test_mathml_text_is_joined_without_its_pretty_printing(title: bytes, expected: str) -> None:
    article = _one_article(b"", b"<ArticleTitle>" + title + b"</ArticleTitle><Abstract><AbstractText>" + title
                           + b"</AbstractText></Abstract>")
    assert (article.title, article.abstract_text) == (expected, expected)


@pytest.mark.parametrize(("identifier", "expected"), [
    ("0000-0002-1825-0097", "0000-0002-1825-0097"),
    ("https://orcid.org/0000-0002-1825-0097", "0000-0002-1825-0097"),
    ("http://orcid.org/0000-0002-1694-233x/", "0000-0002-1694-233X"),
    ("0000000218250097", "0000-0002-1825-0097"),
    (" 0000-0002-1825-0097 ", "0000-0002-1825-0097"),
    ("0000-0002-1825-0098", None),  # fails the checksum: a typo, which would name someone else
    ("0000-0002-1825", None),
    ("10000-0002-1825-0097", None),
    ("not an id", None),
])
def test_orcid_identifiers_are_normalised(identifier: str, expected: str | None) -> None:
    assert parse.normalise_orcid(identifier) == expected
    article = _one_article(b"", b"<AuthorList><Author><LastName>Lee</LastName><Identifier Source=\"ISNI\">"
                           b"0000000121032683</Identifier><Identifier Source=\"ORCID\">" + identifier.encode()
                           + b"</Identifier></Author></AuthorList>")
    assert article.authors == (Author(last_name="Lee", orcid=expected),)


def test_the_pre_2014_article_affiliation_goes_to_the_first_author() -> None:
    article = _one_article(b"", b"<Affiliation>Dept of Pain, Leeds, UK.</Affiliation><AuthorList><Author>"
                           b"<LastName>Ash</LastName></Author><Author><LastName>Birch</LastName></Author></AuthorList>")
    assert article.authors == (Author(last_name="Ash", affiliations=("Dept of Pain, Leeds, UK.",)),
                               Author(last_name="Birch"))


@pytest.mark.parametrize("status", ["ppublish", "epublish", "aheadofprint"])
def test_publication_status(status: str) -> None:
    article = _one_article(b"", pubmed_data=b"<PubmedData><PublicationStatus>%s</PublicationStatus></PubmedData>"
                           % status.encode())
    assert article.publication_status == status


def test_comments_are_kept_apart_from_corrections_and_other_links_dropped() -> None:
    article = _one_article(
        b"<CommentsCorrectionsList>"
        b"<CommentsCorrections RefType=\"CommentOn\"><RefSource>Pain. 2020;1:1</RefSource><PMID>11</PMID>"
        b"</CommentsCorrections><CommentsCorrections RefType=\"CommentIn\"><RefSource>Pain. 2021;2:2</RefSource>"
        b"</CommentsCorrections><CommentsCorrections RefType=\"Cites\"><PMID>13</PMID></CommentsCorrections>"
        b"<CommentsCorrections RefType=\"ErratumIn\"><PMID>14</PMID></CommentsCorrections>"
        b"</CommentsCorrectionsList>")
    assert article.comments == (Correction("CommentOn", 11, "Pain. 2020;1:1"), Correction("CommentIn", None,
                                                                                          "Pain. 2021;2:2"))
    assert article.corrections == (Correction("ErratumIn", 14, None),)


def test_grants_chemicals_and_conflict_of_interest() -> None:
    article = _one_article(
        b"<ChemicalList><Chemical><RegistryNumber>0</RegistryNumber><NameOfSubstance UI=\"D1\">Analgesics"
        b"</NameOfSubstance></Chemical><Chemical><RegistryNumber>1</RegistryNumber></Chemical></ChemicalList>"
        b"<CoiStatement>AB is paid by <i>Pfizer</i>.</CoiStatement>",
        b"<GrantList><Grant><GrantID>R01 1</GrantID><Acronym>AR</Acronym><Agency>NIAMS NIH HHS</Agency>"
        b"<Country>United States</Country></Grant><Grant><Agency>Wellcome Trust</Agency></Grant><Grant/>"
        b"</GrantList>")
    assert article.grants == (Grant("R01 1", "NIAMS NIH HHS", "United States"), Grant(agency="Wellcome Trust"))
    assert article.chemicals == (Chemical("Analgesics", "0"),)
    assert article.coi_statement == "AB is paid by Pfizer."
