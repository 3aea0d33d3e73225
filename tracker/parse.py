"""PubMed efetch XML → `Article` and `Deletion` records, streamed.

The document is fed in chunks to ElementTree's C pull parser; each finished PubmedArticle, PubmedBookArticle or
DeleteCitation is turned into a record and then dropped from the tree, so memory stays flat however many records
a response holds. No DTD is ever read or downloaded: the DOCTYPE line PubMed sends is only a name, and a
document that declares its own entities (billion laughs, external entities) is refused before any is expanded.
"""

from __future__ import annotations

import datetime
import io
import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from typing import BinaryIO

from tracker.errors import ParseError
from tracker.models import (
    KEPT_CORRECTION_TYPES,
    AbstractSection,
    Article,
    Author,
    Correction,
    Deletion,
    MeshHeading,
    MeshQualifier,
)
from tracker.xmlguard import EntityGuard

__all__ = ["iter_pubmed_records", "parse_pubmed_date_text"]

# 64 KiB keeps the per-chunk Python overhead negligible while holding only a sliver of a large response.
CHUNK_SIZE_BYTES = 64 * 1024

RECORD_TAGS = frozenset({"PubmedArticle", "PubmedBookArticle", "DeleteCitation"})

MONTH_ABBREVIATIONS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MONTH_NUMBERS = {
    **{name.lower(): number for number, name in enumerate(MONTH_ABBREVIATIONS, start=1)},
    **{
        name: number
        for number, name in enumerate(
            ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
             "november", "december"),
            start=1,
        )
    },
    "sept": 9,
}

# The first year in the text, then (after whitespace only) a month, then (after whitespace only) a day:
# "2019 Nov-Dec" → 2019 Nov, "2019 Aug 5-11" → 2019 Aug 5, but "2019 08-09" never reads 09 as a day.
DATE_TEXT_PATTERN = re.compile(
    r"(?<!\d)(?P<year>\d{4})(?!\d)(?:\s+(?P<month>[A-Za-z]+|\d{1,2}(?!\d))(?:\s+(?P<day>\d{1,2})(?!\d))?)?"
)

# XML's own whitespace only: a no-break or thin space in a title is content and is kept as it is.
XML_WHITESPACE_RUN = re.compile(r"[ \t\r\n]+")


def parse_pubmed_date_text(text: str) -> tuple[int | None, int | None, int | None]:
    """Read (year, month, day) from a PubMed date such as "2019 Aug 5", "1998 Dec-1999 Jan" or "Spring 2020".

    A range keeps its start; whatever is not known (a season, a missing day, an impossible date) is None.
    """
    match = DATE_TEXT_PATTERN.search(text or "")
    if match is None:
        return None, None, None
    year = int(match["year"])
    month = _month_number(match["month"])
    day = int(match["day"]) if month is not None and match["day"] else None
    if day is not None:
        try:
            datetime.date(year, month, day)
        except ValueError:
            day = None
    return year, month, day


def iter_pubmed_records(source: bytes | BinaryIO) -> Iterator[Article | Deletion]:
    """Stream the records of a PubmedArticleSet (efetch reply or saved PubMed XML file) as Articles and Deletions.

    Records are yielded as they finish, so a document cut off half-way yields its complete records first and
    then raises ParseError: a caller that needs all-or-nothing collects the records before saving them.
    """
    name = _source_name(source)
    stream = io.BytesIO(source) if isinstance(source, (bytes, bytearray, memoryview)) else source
    guard = EntityGuard(name)
    parser = ElementTree.XMLPullParser(events=("start", "end"))
    root: ElementTree.Element | None = None
    record_number = 0
    try:
        while True:
            chunk = stream.read(CHUNK_SIZE_BYTES)
            if not chunk:
                parser.close()
            else:
                guard.feed(chunk)
                parser.feed(chunk)
            # A syntax error waits in the queue behind the good events and is raised when reached.
            for event, element in parser.read_events():
                if event == "end":
                    if element.tag in RECORD_TAGS:
                        record_number += 1
                        yield from _records_from(element, record_number, name)
                        # Cut the finished record loose so neither it nor an empty shell of it stays in memory.
                        root.clear()
                elif root is None:
                    root = element
                    _check_root(name, root)
            if not chunk:
                return
    except ElementTree.ParseError as error:
        raise _malformed(name, error) from None


def _source_name(source: object) -> str:
    file_name = getattr(source, "name", None)
    return f"PubMed XML {file_name!r}" if isinstance(file_name, str) else "PubMed XML"


def _redo(name: str) -> str:
    """The fix for a broken document: fetch an efetch reply again, save a user's file again."""
    return "fetch it again" if name == "PubMed XML" else "save it again from PubMed (Save, format PubMed XML)"


def _malformed(name: str, error: ElementTree.ParseError) -> ParseError:
    line, column = error.position
    reason = str(error).split(":")[0]
    return ParseError(
        f"{name} is malformed at line {line}, column {column}: {reason}; it was probably cut off or"
        f" is not PubMed XML — {_redo(name)}"
    )


def _check_root(name: str, root: ElementTree.Element) -> None:
    if root.tag not in ("PubmedArticleSet", "PubmedBookArticleSet"):
        raise ParseError(
            f"{name}: the document is a <{root.tag}>, not a <PubmedArticleSet>; ask efetch for db=pubmed with"
            " retmode=xml"
        )


def _records_from(element: ElementTree.Element, record_number: int, name: str) -> Iterator[Article | Deletion]:
    if element.tag == "DeleteCitation":
        pmids = element.findall("PMID")
        if not pmids:
            raise _missing_pmid(name, record_number, element.tag)
        for pmid in pmids:
            yield Deletion(pmid=_pmid(pmid, record_number, name, element.tag))
    elif element.tag == "PubmedArticle":
        yield _parse_article(element, record_number, name)
    else:
        yield _parse_book(element, record_number, name)


def _missing_pmid(name: str, record_number: int, tag: str) -> ParseError:
    return ParseError(
        f"{name}: record {record_number} (<{tag}>) has no PMID; the document is not complete PubMed XML"
        f" — {_redo(name)}"
    )


def _pmid(element: ElementTree.Element | None, record_number: int, name: str, tag: str) -> int:
    if element is None or not (element.text or "").strip():
        raise _missing_pmid(name, record_number, tag)
    text = element.text.strip()
    if not text.isdigit() or not text.isascii():
        raise ParseError(
            f"{name}: record {record_number} (<{tag}>) has the PMID {text!r}, which is not a number;"
            f" the document is not PubMed XML — {_redo(name)}"
        )
    return int(text)


def _parse_article(record: ElementTree.Element, record_number: int, name: str) -> Article:
    citation = record.find("MedlineCitation")
    if citation is None:
        raise _missing_pmid(name, record_number, record.tag)
    pmid = _pmid(citation.find("PMID"), record_number, name, record.tag)
    article = citation.find("Article")
    if article is None:
        article = ElementTree.Element("Article")
    journal = article.find("Journal")
    journal_issue = journal.find("JournalIssue") if journal is not None else None
    pubmed_data = record.find("PubmedData")
    article_ids = _article_ids(pubmed_data.find("ArticleIdList") if pubmed_data is not None else None)
    pub_year, pub_month, pub_day, pub_date_raw = _pub_date(
        journal_issue.find("PubDate") if journal_issue is not None else None
    )
    title = _flat_text(article.find("ArticleTitle")) or _flat_text(article.find("VernacularTitle")) or ""
    abstract, copyright_text = _abstract(article.find("Abstract"))
    return Article(
        pmid=pmid,
        title=title,
        kind="journal",
        abstract=abstract,
        copyright=copyright_text,
        journal=_flat_text(journal.find("Title")) if journal is not None else None,
        journal_iso=_flat_text(journal.find("ISOAbbreviation")) if journal is not None else None,
        volume=_flat_text(journal_issue.find("Volume")) if journal_issue is not None else None,
        issue=_flat_text(journal_issue.find("Issue")) if journal_issue is not None else None,
        pages=_pages(article.find("Pagination")),
        pub_year=pub_year,
        pub_month=pub_month,
        pub_day=pub_day,
        pub_date_raw=pub_date_raw,
        electronic_date=_electronic_date(article),
        entry_date=_entry_date(pubmed_data),
        revised_date=_iso_date(citation.find("DateRevised")),
        authors=_authors(article.find("AuthorList")),
        doi=article_ids.get("doi") or _elocation_doi(article),
        pmcid=article_ids.get("pmc"),
        languages=_texts(article.findall("Language")),
        publication_types=_publication_types(article.find("PublicationTypeList")),
        mesh=_mesh(citation.find("MeshHeadingList")),
        keywords=_keywords(citation.findall("KeywordList")),
        corrections=_corrections(citation.find("CommentsCorrectionsList")),
    )


def _parse_book(record: ElementTree.Element, record_number: int, name: str) -> Article:
    document = record.find("BookDocument")
    if document is None:
        raise _missing_pmid(name, record_number, record.tag)
    pmid = _pmid(document.find("PMID"), record_number, name, record.tag)
    book = document.find("Book")
    if book is None:
        book = ElementTree.Element("Book")
    book_title = _flat_text(book.find("BookTitle"))
    chapter_title = _flat_text(document.find("ArticleTitle"))
    pub_year, pub_month, pub_day, pub_date_raw = _pub_date(book.find("PubDate"))
    abstract, copyright_text = _abstract(document.find("Abstract"))
    book_data = record.find("PubmedBookData")
    article_ids = _article_ids(document.find("ArticleIdList"))
    if book_data is not None:
        article_ids = {**_article_ids(book_data.find("ArticleIdList")), **article_ids}
    authors = _book_authors(document) or _book_authors(book)
    return Article(
        pmid=pmid,
        title=chapter_title or book_title or "",
        kind="book",
        abstract=abstract,
        copyright=copyright_text,
        # A chapter's container is its book, as a journal article's is its journal; a whole book has none.
        journal=book_title if chapter_title else None,
        volume=_flat_text(book.find("Volume")),
        pages=_pages(document.find("Pagination")),
        pub_year=pub_year,
        pub_month=pub_month,
        pub_day=pub_day,
        pub_date_raw=pub_date_raw,
        entry_date=_entry_date(book_data),
        revised_date=_iso_date(document.find("DateRevised")),
        authors=authors,
        doi=article_ids.get("doi") or _elocation_doi(document),
        pmcid=article_ids.get("pmc"),
        languages=_texts(document.findall("Language")),
        publication_types=_texts(document.findall("PublicationType")),
        keywords=_keywords(document.findall("KeywordList")),
    )


def _flat_text(element: ElementTree.Element | None) -> str | None:
    """All text of an element and its inline markup (<i>, <sup>, MathML, tails), whitespace collapsed."""
    if element is None:
        return None
    text = "".join(element.itertext()) if len(element) else element.text
    if not text:
        return None
    # Most PubMed text has no runs to collapse: the membership tests are far cheaper than the regex.
    if "\n" in text or "  " in text or "\t" in text or "\r" in text:
        text = XML_WHITESPACE_RUN.sub(" ", text)
    return text.strip(" ") or None


def _texts(elements: list[ElementTree.Element]) -> tuple[str, ...]:
    texts = (_flat_text(element) for element in elements)
    return tuple(text for text in texts if text)


def _month_number(text: str | None) -> int | None:
    if not text:
        return None
    if text.isdigit():
        number = int(text)
        return number if 1 <= number <= 12 else None
    return MONTH_NUMBERS.get(text.lower())


def _pub_date(pub_date: ElementTree.Element | None) -> tuple[int | None, int | None, int | None, str | None]:
    """Year, month, day and the raw text of a PubDate, whether in parts or as a MedlineDate."""
    if pub_date is None:
        return None, None, None, None
    raw = _flat_text(pub_date.find("MedlineDate"))
    if raw is None:
        # Rebuild the parts as one text ("2019 Aug 5") so a single reader handles both forms alike.
        year = _flat_text(pub_date.find("Year"))
        month = _flat_text(pub_date.find("Month"))
        month_number = _month_number(month)
        if month_number is not None:
            month = MONTH_ABBREVIATIONS[month_number - 1]
        day = _flat_text(pub_date.find("Day"))
        if day is not None and day.isdigit():
            day = str(int(day))
        season = _flat_text(pub_date.find("Season"))
        raw = " ".join(part for part in (year, month, day, season) if part) or None
    if raw is None:
        return None, None, None, None
    return (*parse_pubmed_date_text(raw), raw)


def _iso_date(date: ElementTree.Element | None) -> str | None:
    """A Year/Month/Day element as "YYYY-MM-DD"; None when a part is missing or the date cannot exist."""
    if date is None:
        return None
    year = _flat_text(date.find("Year"))
    month = _month_number(_flat_text(date.find("Month")))
    day = _flat_text(date.find("Day"))
    if not (year and year.isdigit() and month and day and day.isdigit()):
        return None
    try:
        return datetime.date(int(year), month, int(day)).isoformat()
    except ValueError:
        return None


def _electronic_date(article: ElementTree.Element) -> str | None:
    for article_date in article.findall("ArticleDate"):
        if article_date.get("DateType", "Electronic") == "Electronic":
            return _iso_date(article_date)
    return None


def _entry_date(pubmed_data: ElementTree.Element | None) -> str | None:
    """The Entrez (CRDT) date from the record's history, or its "pubmed" date when PubMed gave no "entrez" one."""
    history = pubmed_data.find("History") if pubmed_data is not None else None
    if history is None:
        return None
    dates = {date.get("PubStatus"): date for date in history.findall("PubMedPubDate")}
    return _iso_date(dates.get("entrez")) or _iso_date(dates.get("pubmed"))


def _pages(pagination: ElementTree.Element | None) -> str | None:
    if pagination is None:
        return None
    medline_pages = _flat_text(pagination.find("MedlinePgn"))
    if medline_pages:
        return medline_pages
    start_page = _flat_text(pagination.find("StartPage"))
    end_page = _flat_text(pagination.find("EndPage"))
    if start_page and end_page:
        return f"{start_page}-{end_page}"
    return start_page or end_page


def _abstract(abstract: ElementTree.Element | None) -> tuple[tuple[AbstractSection, ...], str | None]:
    if abstract is None:
        return (), None
    sections = []
    for abstract_text in abstract.findall("AbstractText"):
        text = _flat_text(abstract_text)
        if text:
            sections.append(
                AbstractSection(
                    text=text, label=abstract_text.get("Label") or None,
                    nlm_category=abstract_text.get("NlmCategory") or None,
                )
            )
    return tuple(sections), _flat_text(abstract.find("CopyrightInformation"))


def _authors(author_list: ElementTree.Element | None) -> tuple[Author, ...]:
    if author_list is None:
        return ()
    authors = []
    for author in author_list.findall("Author"):
        # ValidYN="N" marks a misspelling PubMed keeps for searching, next to the corrected author.
        if author.get("ValidYN") == "N":
            continue
        authors.append(
            Author(
                last_name=_flat_text(author.find("LastName")),
                fore_name=_flat_text(author.find("ForeName")),
                initials=_flat_text(author.find("Initials")),
                collective_name=_flat_text(author.find("CollectiveName")),
                affiliations=tuple(
                    text for info in author.findall("AffiliationInfo")
                    if (text := _flat_text(info.find("Affiliation")))
                ),
            )
        )
    return tuple(authors)


def _book_authors(parent: ElementTree.Element) -> tuple[Author, ...]:
    """The authors of a book record, never its editors."""
    for author_list in parent.findall("AuthorList"):
        if author_list.get("Type", "authors") == "authors":
            return _authors(author_list)
    return ()


def _article_ids(article_id_list: ElementTree.Element | None) -> dict[str, str]:
    """The record's own ids by type ("doi", "pmc", ...); a ReferenceList's ids live elsewhere and never come here."""
    if article_id_list is None:
        return {}
    ids: dict[str, str] = {}
    for article_id in article_id_list.findall("ArticleId"):
        text = _flat_text(article_id)
        if text:
            ids.setdefault(article_id.get("IdType", ""), text)
    return ids


def _elocation_doi(parent: ElementTree.Element) -> str | None:
    for location in parent.findall("ELocationID"):
        if location.get("EIdType") == "doi" and location.get("ValidYN", "Y") == "Y":
            return _flat_text(location)
    return None


def _publication_types(type_list: ElementTree.Element | None) -> tuple[str, ...]:
    return _texts(type_list.findall("PublicationType")) if type_list is not None else ()


def _mesh(heading_list: ElementTree.Element | None) -> tuple[MeshHeading, ...]:
    if heading_list is None:
        return ()
    headings = []
    for heading in heading_list.findall("MeshHeading"):
        descriptor = heading.find("DescriptorName")
        descriptor_name = _flat_text(descriptor)
        if not descriptor_name:
            continue
        headings.append(
            MeshHeading(
                descriptor=descriptor_name,
                ui=descriptor.get("UI"),
                major=descriptor.get("MajorTopicYN") == "Y",
                qualifiers=tuple(
                    MeshQualifier(name=qualifier_name, major=qualifier.get("MajorTopicYN") == "Y")
                    for qualifier in heading.findall("QualifierName")
                    if (qualifier_name := _flat_text(qualifier))
                ),
            )
        )
    return tuple(headings)


def _keywords(keyword_lists: list[ElementTree.Element]) -> tuple[str, ...]:
    """Keywords of every list (author's and NLM's), each once, in order."""
    keywords: dict[str, None] = {}
    for keyword_list in keyword_lists:
        for keyword in _texts(keyword_list.findall("Keyword")):
            keywords.setdefault(keyword, None)
    return tuple(keywords)


def _corrections(comments_list: ElementTree.Element | None) -> tuple[Correction, ...]:
    if comments_list is None:
        return ()
    corrections = []
    for comment in comments_list.findall("CommentsCorrections"):
        ref_type = comment.get("RefType")
        if ref_type not in KEPT_CORRECTION_TYPES:
            continue
        pmid_text = _flat_text(comment.find("PMID"))
        corrections.append(
            Correction(
                ref_type=ref_type,
                pmid=int(pmid_text) if pmid_text and pmid_text.isdigit() else None,
                ref_source=_flat_text(comment.find("RefSource")),
            )
        )
    return tuple(corrections)
