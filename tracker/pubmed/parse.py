"""PubMed efetch XML → `Article` and `Deletion` records, streamed.

The document is fed in chunks to ElementTree's C pull parser; each finished PubmedArticle, PubmedBookArticle or
DeleteCitation is turned into a record and then dropped from the tree, so memory stays flat however many records
a response holds. No DTD is ever read or downloaded: the DOCTYPE line PubMed sends is only a name, and a
document that declares its own entities (billion laughs, external entities) is refused before any is expanded,
and a field or record far beyond PubMed's sizes (`SizeLimits`) is refused while it streams in.

Besides efetch's PubmedArticleSet, a user's file may be NLM's older MedlineCitationSet or one bare PubmedArticle.
MathML is read as the plain text of its symbols ("VO2max"), never with its pretty-printing whitespace.
"""

from __future__ import annotations

import datetime
import io
import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from dataclasses import replace
from typing import BinaryIO

from tracker.errors import ParseError
from tracker.models import (
    COMMENT_TYPES,
    KEPT_CORRECTION_TYPES,
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
from tracker.pubmed.text import (MONTH_ABBREVIATIONS, month_number, normalise_orcid, parse_pubmed_date_text,
                                 pmid_number)
from tracker.pubmed.xmlguard import EntityGuard

__all__ = ["iter_pubmed_records", "normalise_orcid", "parse_pubmed_date_text", "pmid_number"]

# 64 KiB keeps the per-chunk Python overhead negligible while holding only a sliver of a large response.
CHUNK_SIZE_BYTES = 64 * 1024

RECORD_TAGS = frozenset({"PubmedArticle", "PubmedBookArticle", "DeleteCitation"})
# What each accepted document root holds: efetch's sets, NLM's older MedlineCitationSet files (whose records are
# MedlineCitation elements without PubmedData), and a file of one bare record, which is its own record.
RECORD_TAGS_BY_ROOT = {
    "PubmedArticleSet": RECORD_TAGS,
    "PubmedBookArticleSet": RECORD_TAGS,
    "MedlineCitationSet": frozenset({"MedlineCitation", "DeleteCitation"}),
    "PubmedArticle": frozenset({"PubmedArticle"}),
    "PubmedBookArticle": frozenset({"PubmedBookArticle"}),
}

MATHML = "{http://www.w3.org/1998/Math/MathML}"
MATHML_MATH = MATHML + "math"
# What MathML holds besides the formula's own text: other encodings of it (TeX source, content markup).
MATHML_SKIPPED = frozenset({MATHML + "annotation", MATHML + "annotation-xml"})
# Token elements whose text keeps its inner spaces ("<mtext> ml/kg</mtext>"); the others' is trimmed.
MATHML_SPACED_TOKENS = frozenset({MATHML + "mtext", MATHML + "ms"})
MATHML_ACCENTED = frozenset({MATHML + "mover", MATHML + "munder"})
# An accent over a symbol ("V̇O2" as V under a dot) has no plain-text form: the symbol alone is written.
MATHML_ACCENTS = frozenset({".", "˙", "·", "¯", "‾", "^", "ˆ", "~", "˜", "→", "⃗"})

# XML's own whitespace only: a no-break or thin space in a title is content and is kept as it is.
XML_WHITESPACE_RUN = re.compile(r"[ \t\r\n]+")


def iter_pubmed_records(source: bytes | BinaryIO, limits: SizeLimits = SizeLimits()) -> Iterator[Article | Deletion]:
    """Stream the records of a PubmedArticleSet (efetch reply or saved PubMed XML file) as Articles and Deletions.

    A user's file may also be an older MedlineCitationSet (records without PubmedData) or one bare PubmedArticle.
    Records are yielded as they finish, so a document cut off half-way yields its complete records first and
    then raises ParseError: a caller that needs all-or-nothing collects the records before saving them. A field
    or record larger than `limits` is refused as soon as that much of it has streamed in.
    """
    name = _source_name(source)
    stream = io.BytesIO(source) if isinstance(source, (bytes, bytearray, memoryview)) else source
    guard = EntityGuard(name)
    parser = ElementTree.XMLPullParser(events=("start", "end"))
    # Small enough that a text node is measured to within a quarter of the field limit (see _SizeWatch).
    chunk_size = max(1, min(CHUNK_SIZE_BYTES, limits.field // 4))
    watch = _SizeWatch(name, limits)
    root: ElementTree.Element | None = None
    record_tags: frozenset[str] = frozenset()
    open_tags: list[str] = []
    record_number = 0
    try:
        while True:
            chunk = stream.read(chunk_size)
            if not chunk:
                parser.close()
            else:
                guard.feed(chunk)
                parser.feed(chunk)
            had_events = False
            # A syntax error waits in the queue behind the good events and is raised when reached.
            for event, element in parser.read_events():
                had_events = True
                if event == "start":
                    if root is None:
                        root = element
                        record_tags = _record_tags(name, root)
                    open_tags.append(element.tag)
                    if len(open_tags) == 1 + (element is not root) and element.tag in record_tags:
                        watch.start_record(record_number + 1)
                    continue
                open_tags.pop()
                if element.tag == "PMID" and watch.pmid is None:
                    watch.pmid = (element.text or "").strip()[:40]
                # A record is a child of the set, or the document itself when it is one bare record.
                if len(open_tags) == (element is not root) and element.tag in record_tags:
                    record_number += 1
                    watch.end_record()
                    yield from _records_from(element, record_number, name)
                    # Cut the finished record loose so neither it nor an empty shell of it stays in memory.
                    root.clear()
            if not chunk:
                return
            watch.fed(len(chunk), had_events, open_tags)
    except ElementTree.ParseError as error:
        raise _malformed(name, error) from None


class _SizeWatch:
    """Refuse a field or a record beyond the limits while the document streams, before it is built in memory.

    ElementTree reports no byte positions, so a field's size is measured as the bytes of the chunks that went by
    without a single start or end event: those lie wholly inside one text (or a comment or attribute list). With
    chunks of at most a quarter of the limit, a field below the limit is never refused and one a little above it
    always is.
    """

    def __init__(self, name: str, limits: SizeLimits) -> None:
        self._name = name
        self._limits = limits
        self._since_event = 0
        self._record_bytes: int | None = None
        self._record_number = 0
        self.pmid: str | None = None

    def start_record(self, record_number: int) -> None:
        self._record_bytes = 0
        self._record_number = record_number
        self.pmid = None

    def end_record(self) -> None:
        self._record_bytes = None

    def fed(self, size: int, had_events: bool, open_tags: list[str]) -> None:
        self._since_event = 0 if had_events else self._since_event + size
        if self._since_event > self._limits.field:
            element = f"<{open_tags[-1]}>" if open_tags else "text"
            self._refuse(f"has a {element} field of more than {self._limits.field:,} bytes")
        if self._record_bytes is not None:
            self._record_bytes += size
            if self._record_bytes > self._limits.record:
                self._refuse(f"is more than {self._limits.record:,} bytes long")

    def _refuse(self, problem: str) -> None:
        if self._record_bytes is None:
            where = "outside any record"
        else:
            where = f"record {self._record_number}" + (f" (PMID {self.pmid})" if self.pmid else "")
        raise ParseError(
            f"{self._name}: {where} {problem}, far beyond any real PubMed record; the file is damaged or not"
            f" from PubMed — {_redo(self._name)}"
        )


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


def _record_tags(name: str, root: ElementTree.Element) -> frozenset[str]:
    """The tags of the records a document with this root holds."""
    record_tags = RECORD_TAGS_BY_ROOT.get(root.tag)
    if record_tags is None:
        raise ParseError(
            f"{name}: the document is a <{root.tag}>, not a <PubmedArticleSet>; ask efetch for db=pubmed with"
            " retmode=xml"
        )
    return record_tags


def _records_from(element: ElementTree.Element, record_number: int, name: str) -> Iterator[Article | Deletion]:
    if element.tag == "DeleteCitation":
        pmids = element.findall("PMID")
        if not pmids:
            raise _missing_pmid(name, record_number, element.tag)
        for pmid in pmids:
            yield Deletion(pmid=_pmid(pmid, record_number, name, element.tag))
    elif element.tag == "PubmedArticle":
        citation = element.find("MedlineCitation")
        if citation is None:
            raise _missing_pmid(name, record_number, element.tag)
        yield _parse_article(citation, element.find("PubmedData"), record_number, name, element.tag)
    elif element.tag == "MedlineCitation":
        yield _parse_article(element, None, record_number, name, element.tag)
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
    pmid = pmid_number(text)
    if pmid is None:
        raise ParseError(
            f"{name}: record {record_number} (<{tag}>) has the PMID {text[:40]!r}, which is not a positive whole"
            f" number below 2^63; the document is not PubMed XML — {_redo(name)}"
        )
    return pmid


def _parse_article(citation: ElementTree.Element, pubmed_data: ElementTree.Element | None, record_number: int,
                   name: str, tag: str) -> Article:
    pmid = _pmid(citation.find("PMID"), record_number, name, tag)
    article = citation.find("Article")
    if article is None:
        article = ElementTree.Element("Article")
    journal = article.find("Journal")
    journal_issue = journal.find("JournalIssue") if journal is not None else None
    article_ids = _article_ids(pubmed_data.find("ArticleIdList") if pubmed_data is not None else None)
    pub_year, pub_month, pub_day, pub_date_raw = _pub_date(
        journal_issue.find("PubDate") if journal_issue is not None else None
    )
    title = _flat_text(article.find("ArticleTitle")) or _flat_text(article.find("VernacularTitle")) or ""
    abstract, copyright_text = _abstract(article.find("Abstract"))
    comments_list = citation.find("CommentsCorrectionsList")
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
        authors=_with_article_affiliations(_authors(article.find("AuthorList")), article),
        doi=article_ids.get("doi") or _elocation_doi(article),
        pmcid=article_ids.get("pmc"),
        languages=_texts(article.findall("Language")),
        publication_types=_publication_types(article.find("PublicationTypeList")),
        mesh=_mesh(citation.find("MeshHeadingList")),
        keywords=_keywords(citation.findall("KeywordList")),
        corrections=_corrections(comments_list, KEPT_CORRECTION_TYPES),
        comments=_corrections(comments_list, COMMENT_TYPES),
        grants=_grants(article.find("GrantList")),
        coi_statement=_flat_text(citation.find("CoiStatement")),
        chemicals=_chemicals(citation.find("ChemicalList")),
        publication_status=_flat_text(pubmed_data.find("PublicationStatus")) if pubmed_data is not None else None,
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
        grants=_grants(document.find("GrantList")),
        coi_statement=_flat_text(document.find("CoiStatement")),
        publication_status=_flat_text(book_data.find("PublicationStatus")) if book_data is not None else None,
    )


def _flat_text(element: ElementTree.Element | None) -> str | None:
    """All text of an element and its inline markup (<i>, <sup>, MathML, tails), whitespace collapsed."""
    if element is None:
        return None
    if not len(element):
        text = element.text
    elif next(element.iter(MATHML_MATH), None) is None:
        text = "".join(element.itertext())
    else:
        parts: list[str] = []
        _append_text(element, parts)
        text = "".join(parts)
    if not text:
        return None
    # Most PubMed text has no runs to collapse: the membership tests are far cheaper than the regex.
    if "\n" in text or "  " in text or "\t" in text or "\r" in text:
        text = XML_WHITESPACE_RUN.sub(" ", text)
    return text.strip(" ") or None


def _append_text(element: ElementTree.Element, parts: list[str]) -> None:
    """Append an element's text as itertext() would, but each MathML formula's as _append_math writes it."""
    if element.tag == MATHML_MATH:
        _append_math(element, parts)
    else:
        if element.text:
            parts.append(element.text)
        for child in element:
            _append_text(child, parts)
    if element.tail:
        parts.append(element.tail)


def _append_math(element: ElementTree.Element, parts: list[str]) -> None:
    """Append a formula's symbols run together ("VO2max"): its pretty-printing whitespace is not content.

    Annotations (TeX source) are left out, as is an accent over a symbol.
    """
    if element.tag in MATHML_SKIPPED:
        return
    if element.tag in MATHML_ACCENTED and len(element) == 2 and "".join(element[1].itertext()).strip() in MATHML_ACCENTS:
        _append_math(element[0], parts)
        return
    if element.text:
        parts.append(XML_WHITESPACE_RUN.sub(" ", element.text) if element.tag in MATHML_SPACED_TOKENS
                     else element.text.strip())
    for child in element:
        _append_math(child, parts)
        if child.tail:
            parts.append(child.tail.strip())


def _texts(elements: list[ElementTree.Element]) -> tuple[str, ...]:
    texts = (_flat_text(element) for element in elements)
    return tuple(text for text in texts if text)


def _pub_date(pub_date: ElementTree.Element | None) -> tuple[int | None, int | None, int | None, str | None]:
    """Year, month, day and the raw text of a PubDate, whether in parts or as a MedlineDate."""
    if pub_date is None:
        return None, None, None, None
    raw = _flat_text(pub_date.find("MedlineDate"))
    if raw is None:
        # Rebuild the parts as one text ("2019 Aug 5") so a single reader handles both forms alike.
        year = _flat_text(pub_date.find("Year"))
        month = _flat_text(pub_date.find("Month"))
        number = month_number(month)
        if number is not None:
            month = MONTH_ABBREVIATIONS[number - 1]
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
    month = month_number(_flat_text(date.find("Month")))
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
                orcid=next((orcid for identifier in author.findall("Identifier")
                            if identifier.get("Source") == "ORCID"
                            and (orcid := normalise_orcid(_flat_text(identifier)))), None),
            )
        )
    return tuple(authors)


def _with_article_affiliations(authors: tuple[Author, ...], article: ElementTree.Element) -> tuple[Author, ...]:
    """Give the first author the affiliation records before 2014 carry once per article (<Article><Affiliation>).

    MEDLINE text writes it as an AD line above the first author, which the MEDLINE parser gives to that author:
    both formats then agree. An article without authors has no one to give it to.
    """
    affiliation = _flat_text(article.find("Affiliation"))
    if not affiliation or not authors:
        return authors
    first = authors[0]
    return (replace(first, affiliations=(affiliation, *first.affiliations)), *authors[1:])


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


def _grants(grant_list: ElementTree.Element | None) -> tuple[Grant, ...]:
    if grant_list is None:
        return ()
    grants = (Grant(grant_id=_flat_text(grant.find("GrantID")), agency=_flat_text(grant.find("Agency")),
                    country=_flat_text(grant.find("Country"))) for grant in grant_list.findall("Grant"))
    return tuple(grant for grant in grants if grant != Grant())


def _chemicals(chemical_list: ElementTree.Element | None) -> tuple[Chemical, ...]:
    if chemical_list is None:
        return ()
    return tuple(
        Chemical(name=name, registry_number=_flat_text(chemical.find("RegistryNumber")))
        for chemical in chemical_list.findall("Chemical")
        if (name := _flat_text(chemical.find("NameOfSubstance")))
    )


def _corrections(comments_list: ElementTree.Element | None, ref_types: frozenset[str]) -> tuple[Correction, ...]:
    if comments_list is None:
        return ()
    corrections = []
    for comment in comments_list.findall("CommentsCorrections"):
        ref_type = comment.get("RefType")
        if ref_type not in ref_types:
            continue
        pmid_text = _flat_text(comment.find("PMID"))
        corrections.append(
            Correction(
                ref_type=ref_type,
                pmid=pmid_number(pmid_text) if pmid_text else None,
                ref_source=_flat_text(comment.find("RefSource")),
            )
        )
    return tuple(corrections)
