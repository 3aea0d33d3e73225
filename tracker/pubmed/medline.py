"""MEDLINE / .nbib text (PubMed's own "Format: PubMed" and citation-manager export) → `Article` records.

Bio.Medline reads the fields, but it accepts anything — garbage lines become fields, a record without PMID is
still a record — and it splits wrapped lines of list fields (a long CN or RIN) into separate values. So this module
first checks every line of a record, keeping line numbers for the error message, joins each field's wrapped lines
into one, and only then hands the record to `Bio.Medline`. Affiliations belong to the author above them, an order
Bio's dict drops, so authors are read from the checked field list instead.

Decisions where the format is thinner than PubMed XML:
- a structured abstract ("BACKGROUND: ... METHODS: ...") is split into labelled sections, so that its plain text
  reads like the XML's; MEDLINE has no NlmCategory, so `nlm_category` stays None;
- affiliations written before the first author (records before 2014) belong to the first author, as in the XML;
- the entry date is the create date (CRDT, the XML's "entrez" date), or the Entrez date (EDAT) without one;
- a record with a book title (BTI) is a "book"; as in the XML its title is the chapter title (TI), its "journal"
  the book title, or, for a whole book, the title is the book title and there is no journal;
- a file cut off is refused rather than read as a shorter record: it ends mid-line, or its last record lacks the SO
  line PubMed writes at the end of every record while all the file's other records have one (a lone record
  without SO is read: hand-written files often leave it out); a record without TI, BTI or TT is incomplete too;
- GR "number/acronym/agency/country" keeps number, agency and country as the XML's Grant does (a number may hold
  "/"; the acronym is NIH's two capitals or another funder's code ending in "_"); RN "number (name)" is a chemical;
  AUID "ORCID: ..." is the ORCID iD of the author above it; CIN / CON are comments, read like corrections.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, TextIO

from Bio import Medline

from tracker.errors import ParseError
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
from tracker.pubmed.text import normalise_orcid, parse_pubmed_date_text, pmid_number

# "PMID- 123", "TI  - text", "AB  -": a tag of 2-4 capitals/digits padded to four characters, then "- ".
_FIELD_LINE = re.compile(r"^(?=[A-Z][A-Z0-9 ]{3}-)([A-Z][A-Z0-9]{1,3}) *-(?: (.*)|)$")
_CONTINUATION_INDENT = "      "
# A record needs one of these to be complete: an article's title, a book's title, or only a vernacular title.
_TITLE_TAGS = frozenset({"TI", "BTI", "TT"})
# A structured abstract's labels: capitals (with digits, spaces and a little punctuation) followed by ": ".
_ABSTRACT_LABEL = re.compile(r"(?:^|(?<=[.?!)\]]) )([A-Z][A-Z0-9 &/,()'-]*[A-Z)]): ")
_CORRECTION_TAGS = {
    "RIN": "RetractionIn", "ROF": "RetractionOf", "EIN": "ErratumIn", "EFR": "ErratumFor",
    "ECI": "ExpressionOfConcernIn", "ECF": "ExpressionOfConcernFor", "UIN": "UpdateIn", "UOF": "UpdateOf",
    "CRI": "RepublishedIn", "CRF": "RepublishedFrom",
}
_COMMENT_TAGS = {"CON": "CommentOn", "CIN": "CommentIn"}
# A GR line's acronym part: NIH institutes' two capitals ("AR"), other funders' code ending in "_" ("MRC_").
_GRANT_ACRONYM = re.compile(r"^(?:[A-Z]{2}|[A-Z0-9]+_)$")
_CORRECTION_PMID = re.compile(r"^(.*?)[\s.]*PMID:\s*(\d+)\.?\s*$")
# How much a CR-only file is read at a time: lines are cut from it in memory.
_READ_CHUNK = 1 << 16
_EXPORT_HINT = "export it again from PubMed with Send to → Citation manager, or Save → Format: PubMed"


@dataclass
class _Record:
    """One record's checked fields, each with the line it starts on."""

    number: int
    first_line: int
    entries: list[tuple[str, str, int]] = field(default_factory=list)
    # The field being read: its tag, its lines' texts (joined once it ends, never piece by piece), its first
    # line and its length so far.
    open_tag: str = ""
    open_parts: list[str] = field(default_factory=list)
    open_line: int = 0
    open_chars: int = 0
    chars: int = 0

    def close_field(self) -> None:
        if self.open_tag:
            self.entries.append((self.open_tag, " ".join(part for part in self.open_parts if part), self.open_line))
            self.open_tag, self.open_parts = "", []


def iter_medline_articles(source: str | os.PathLike[str] | bytes | BinaryIO | TextIO,
                          limits: SizeLimits = SizeLimits()) -> Iterator[Article]:
    """Yield an Article per record of a MEDLINE file, raising ParseError at the first malformed record.

    A file cut off inside a record (mid-line, or before the last record's closing SO line where every other record
    has one), a record without a title, and a field or record beyond `limits` are malformed.
    """
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        try:
            with path.open("rb") as handle:
                yield from _iter_articles(str(path), handle, limits)
        except OSError as error:
            raise ParseError(f"{path}: cannot be read ({error.strerror}); check the path and its permissions") from None
        return
    if isinstance(source, bytes):
        yield from _iter_articles("<MEDLINE input>", io.BytesIO(source), limits)
        return
    name = getattr(source, "name", None)
    yield from _iter_articles(name if isinstance(name, str) else "<MEDLINE input>", source, limits)


def _iter_articles(name: str, handle: BinaryIO | TextIO, limits: SizeLimits) -> Iterator[Article]:
    count = 0
    for record in _iter_records(name, handle, limits):
        count += 1
        yield _article(name, record)
    if count == 0:
        raise ParseError(f"{name}: has no MEDLINE records (no \"PMID- \" line); {_EXPORT_HINT}")


def _iter_lines(name: str, handle: BinaryIO | TextIO, limits: SizeLimits) -> Iterator[tuple[int, str, bool, bool]]:
    """(line number, text without its line end, whether it had one, whether it is longer than any field may be).

    A line too long is cut where the limit is reached, never read whole: its start is enough to name its field.
    """
    # A field's first line carries its tag ("TAG - "), six characters; UTF-8 takes up to four bytes a character.
    line_limit = 4 * (limits.field + len(_CONTINUATION_INDENT)) + 2
    line_number = 0
    for raw in _raw_lines(handle, line_limit):
        line_number += 1
        ended = raw.endswith(b"\n" if isinstance(raw, bytes) else "\n")
        too_long = not ended and len(raw) == line_limit
        if too_long:
            # Only the line's start is kept, to name its field: the caller refuses the line, so the rest is never read.
            raw = raw[:200]
            line = raw.decode("utf-8", errors="ignore") if isinstance(raw, bytes) else raw
        else:
            line = _decode(name, line_number, raw).rstrip("\r\n")
        if line_number == 1:
            line = line.removeprefix("\ufeff")
        yield line_number, line, ended, too_long


def _raw_lines(handle: BinaryIO | TextIO, line_limit: int) -> Iterator[bytes | str]:
    """The handle's lines as readline(line_limit) gives them, also where lines end in a lone CR (classic Mac OS).

    readline splits at LF only: a CR-only file would read as one line with no end, "cut off". The first line
    tells: a CR inside it, or at its end without an LF, switches to splitting at every CR, LF or CR LF.
    """
    first = handle.readline(line_limit)
    carriage_return, line_feed = (b"\r", b"\n") if isinstance(first, bytes) else ("\r", "\n")
    if carriage_return in first.rstrip(carriage_return + line_feed) or first.endswith(carriage_return):
        yield from _split_at_any_line_end(first, handle, line_limit)
        return
    raw = first
    while raw:
        yield raw
        raw = handle.readline(line_limit)


def _split_at_any_line_end(start: bytes | str, handle: BinaryIO | TextIO,
                           line_limit: int) -> Iterator[bytes | str]:
    """Lines ending in CR, LF or CR LF, each given with an LF; a line past `line_limit` comes cut, with no end."""
    text_mode = isinstance(start, str)
    line_end = re.compile("\r\n?|\n" if text_mode else b"\r\n?|\n")
    carriage_return, line_feed = ("\r", "\n") if text_mode else (b"\r", b"\n")
    buffer, position, at_end = start, 0, False
    while True:
        found = line_end.search(buffer, position)
        # A CR at the end of what was read may be the first half of a CR LF: read on before deciding.
        undecided = found is not None and found.group() == carriage_return and found.end() == len(buffer) and not at_end
        if found is not None and not undecided and found.start() - position < line_limit:
            yield buffer[position:found.start()] + line_feed
            position = found.end()
        elif len(buffer) - position >= line_limit:
            yield buffer[position:position + line_limit]  # too long: the caller refuses it, reading no further
            position += line_limit
        elif at_end:
            if position < len(buffer):
                yield buffer[position:]
            return
        else:
            chunk = handle.read(_READ_CHUNK)
            at_end = not chunk
            buffer, position = buffer[position:] + chunk, 0


def _iter_records(name: str, handle: BinaryIO | TextIO, limits: SizeLimits) -> Iterator[_Record]:
    """Split the text into records at blank lines, checking that every line is a field or a continuation."""
    record: _Record | None = None
    record_count = 0
    # PubMed ends every record with its SO (source) line: when all records so far did, the last one must too.
    every_record_ends_with_source = False
    line_number, ended = 0, True
    for line_number, line, ended, too_long in _iter_lines(name, handle, limits):
        if too_long:
            _refuse_long_line(name, record, line_number, line, limits)
        if "\x00" in line:
            raise ParseError(f"{name}: line {line_number} holds binary data (NUL bytes): it is not MEDLINE text; "
                             f"{_EXPORT_HINT}")
        # A line of at least six spaces is a blank line inside a field (an abstract's paragraph break), not an end.
        if not line.strip() and not line.startswith(_CONTINUATION_INDENT):
            if record is not None:
                record.close_field()
                yield _checked(name, record)
                every_record_ends_with_source = record.entries[-1][0] == "SO" and (
                    record.number == 1 or every_record_ends_with_source)
                record = None
            continue
        if line.startswith(_CONTINUATION_INDENT):
            if record is None:
                raise ParseError(f"{name}: line {line_number} continues a field but no field starts above it; "
                                 f"a record must begin with \"PMID- <number>\" — {_EXPORT_HINT}")
            text = line.strip()
            record.open_parts.append(text)
            _count(name, record, len(text) + 1, limits)
            continue
        match = _FIELD_LINE.match(line)
        if match is None:
            raise ParseError(f"{name}: line {line_number} ({line[:40]!r}) is neither a MEDLINE field "
                             f"(\"TAG - value\") nor a continuation (six spaces); the file is not MEDLINE text or "
                             f"was edited — {_EXPORT_HINT}")
        if record is None:
            record_count += 1
            record = _Record(number=record_count, first_line=line_number)
        record.close_field()
        text = (match.group(2) or "").strip()
        record.open_tag, record.open_parts, record.open_line, record.open_chars = match.group(1), [text], line_number, 0
        _count(name, record, len(text), limits)
    if not ended:
        where = f" (record {record.number}, which starts at line {record.first_line})" if record is not None else ""
        raise ParseError(f"{name}: ends in the middle of line {line_number}{where}; the file was cut off — "
                         f"{_EXPORT_HINT}")
    if record is not None:
        record.close_field()
        if every_record_ends_with_source and record.entries[-1][0] != "SO":
            raise ParseError(f"{name}: record {record.number} (line {record.first_line}) ends at line {line_number} "
                             f"without the SO (source) line that ends every other record; the file was cut off — "
                             f"{_EXPORT_HINT}")
        yield _checked(name, record)


def _refuse_long_line(name: str, record: _Record | None, line_number: int, line: str, limits: SizeLimits) -> None:
    """Refuse a line longer than any field may be, naming its record and field as _count does."""
    match = _FIELD_LINE.match(line[:6] + " ") if not line.startswith(_CONTINUATION_INDENT) else None
    if record is not None and (match is None or match.group(1) != "PMID"):
        if match is not None:
            record.open_tag, record.open_line = match.group(1), line_number
        _count(name, record, limits.field + 1, limits)
    raise ParseError(f"{name}: line {line_number} is longer than any PubMed field ({limits.field:,} characters); "
                     f"the file is damaged or not from PubMed — {_EXPORT_HINT}")


def _count(name: str, record: _Record, chars: int, limits: SizeLimits) -> None:
    """Add a line's characters to its field and record, refusing either once it passes its limit."""
    record.open_chars += chars
    record.chars += chars
    if record.open_chars > limits.field:
        raise ParseError(f"{name}: record {record.number} (line {record.first_line}) has a {record.open_tag} field "
                         f"(from line {record.open_line}) of more than {limits.field:,} characters, far beyond any "
                         f"real PubMed record; the file is damaged or not from PubMed — {_EXPORT_HINT}")
    if record.chars > limits.record:
        raise ParseError(f"{name}: record {record.number} (line {record.first_line}) is more than "
                         f"{limits.record:,} characters long, far beyond any real PubMed record; the file is "
                         f"damaged or not from PubMed — {_EXPORT_HINT}")


def _decode(name: str, line_number: int, raw: bytes | str) -> str:
    if isinstance(raw, str):
        return raw
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ParseError(f"{name}: line {line_number} is not UTF-8 text (byte 0x{raw[error.start]:02x}); "
                         f"a binary file or another encoding — {_EXPORT_HINT}") from None


def _checked(name: str, record: _Record) -> _Record:
    pmid_lines = [(value, line) for tag, value, line in record.entries if tag == "PMID"]
    where = f"{name}: record {record.number} (line {record.first_line})"
    if not pmid_lines:
        raise ParseError(f"{where} has no PMID line; every record starts with \"PMID- <number>\" — {_EXPORT_HINT}")
    if len(pmid_lines) > 1:
        raise ParseError(f"{where} has a second PMID at line {pmid_lines[1][1]}; records must be separated by a "
                         f"blank line — {_EXPORT_HINT}")
    value, line = pmid_lines[0]
    if pmid_number(value) is None:
        raise ParseError(f"{name}: line {line}: PMID {value[:40]!r} is not a positive whole number below 2^63; "
                         f"{_EXPORT_HINT}")
    if not any(tag in _TITLE_TAGS and value for tag, value, _line in record.entries):
        raise ParseError(f"{where} (PMID {value}) has no title (TI, or BTI for a book); every PubMed record has one, "
                         f"so the record is incomplete — {_EXPORT_HINT}")
    return record


def _article(name: str, record: _Record) -> Article:
    # One line per field, wrapped lines already joined: Bio.Medline then neither splits nor mis-joins a value.
    fields = Medline.read([f"{tag:<4}- {value}\n" for tag, value, _line in record.entries])
    book_title = _first(fields.get("BTI"))
    chapter_title = fields.get("TI") or None
    date_raw = fields.get("DP") or None
    year, month, day = parse_pubmed_date_text(date_raw) if date_raw else (None, None, None)
    return Article(
        pmid=pmid_number(fields["PMID"]),
        title=chapter_title or book_title or fields.get("TT") or "",
        kind="book" if book_title else "journal",
        abstract=_abstract_sections(fields.get("AB", "")),
        copyright=_first(fields.get("CI")),
        journal=fields.get("JT") or (book_title if chapter_title else None),
        journal_iso=fields.get("TA") or None,
        volume=fields.get("VI") or None,
        issue=fields.get("IP") or None,
        pages=fields.get("PG") or None,
        pub_year=year,
        pub_month=month,
        pub_day=day,
        pub_date_raw=date_raw,
        electronic_date=_iso_date(fields.get("DEP")),
        entry_date=_iso_date(_first(fields.get("CRDT"))) or _iso_date(fields.get("EDAT")),
        revised_date=_iso_date(fields.get("LR")),
        authors=_authors(record.entries),
        doi=_identifier(fields.get("AID", []), "doi") or _identifier([fields.get("LID", "")], "doi"),
        pmcid=fields.get("PMC") or None,
        languages=tuple(fields.get("LA", [])),
        publication_types=tuple(fields.get("PT", [])),
        mesh=tuple(_mesh_heading(value) for value in fields.get("MH", [])),
        keywords=tuple(value.lstrip("*") for value in fields.get("OT", [])),
        corrections=tuple(
            _correction(ref_type, value)
            for tag, ref_type in _CORRECTION_TAGS.items() for value in fields.get(tag, [])
        ),
        comments=tuple(
            _correction(ref_type, value) for tag, value, _line in record.entries
            if (ref_type := _COMMENT_TAGS.get(tag))
        ),
        grants=tuple(grant for value in fields.get("GR", []) if (grant := _grant(value)) != Grant()),
        coi_statement=" ".join(fields.get("COIS", [])) or None,
        chemicals=tuple(_chemical(value) for value in fields.get("RN", []) if value),
        publication_status=fields.get("PST") or None,
    )


def _first(value: str | list[str] | None) -> str | None:
    """The first value of a field Bio.Medline keeps as a list (or the text of one it keeps as text)."""
    if isinstance(value, list):
        return value[0] if value else None
    return value or None


def _abstract_sections(text: str) -> tuple[AbstractSection, ...]:
    text = " ".join(text.split())
    if not text:
        return ()
    labels = list(_ABSTRACT_LABEL.finditer(text))
    if not labels or labels[0].start() != 0:
        return (AbstractSection(text=text),)
    sections = []
    for index, label in enumerate(labels):
        end = labels[index + 1].start() if index + 1 < len(labels) else len(text)
        sections.append(AbstractSection(text=text[label.end():end].strip(), label=label.group(1)))
    return tuple(sections)


def _iso_date(text: str | None) -> str | None:
    """"20060110" or "2002/09/17 10:00" → "2006-01-10"; anything else → None."""
    match = re.match(r"^(\d{4})/?(\d{2})/?(\d{2})\b", text or "")
    return "-".join(match.groups()) if match else None


def _identifier(values: list[str], kind: str) -> str | None:
    """The id tagged "[kind]" in AID/LID values such as "10.1186/1471-2105-7-10 [doi]"."""
    suffix = f" [{kind}]"
    return next((value[:-len(suffix)].strip() for value in values if value.endswith(suffix)), None)


def _mesh_heading(value: str) -> MeshHeading:
    """"Fibromyalgia/*drug therapy/psychology" → descriptor with qualifiers; "*" marks a major topic."""
    descriptor, *qualifiers = value.split("/")
    return MeshHeading(
        descriptor=descriptor.lstrip("*").strip(),
        major=descriptor.startswith("*"),
        qualifiers=tuple(MeshQualifier(name=q.lstrip("*").strip(), major=q.startswith("*")) for q in qualifiers),
    )


def _correction(ref_type: str, value: str) -> Correction:
    """"J Pain. 2020 Jan;21(1):1. PMID: 31234567" → the notice's source text and PMID."""
    match = _CORRECTION_PMID.match(value)
    if match is None:
        return Correction(ref_type=ref_type, ref_source=value or None)
    return Correction(ref_type=ref_type, pmid=pmid_number(match.group(2)), ref_source=match.group(1) or None)


def _grant(value: str) -> Grant:
    """"R01 AR053295/AR/NIAMS NIH HHS/United States" (number/acronym/agency/country; a number may hold "/"),
    "Wellcome Trust/United Kingdom" (agency/country) → a Grant without the acronym, as the XML parser keeps it."""
    parts = [part.strip() for part in value.split("/")]
    if len(parts) == 1:
        return Grant(agency=parts[0] or None)
    *head, agency, country = parts
    if head and _GRANT_ACRONYM.match(head[-1]):
        head = head[:-1]
    return Grant(grant_id="/".join(head) or None, agency=agency or None, country=country or None)


def _chemical(value: str) -> Chemical:
    """"55JG375S6M (Pregabalin)" or "0 (Analgesics)" → name and registry number."""
    registry_number, separator, rest = value.partition(" (")
    if not separator or not rest.endswith(")"):
        return Chemical(name=value)
    return Chemical(name=rest[:-1], registry_number=registry_number or None)


def _authors(entries: list[tuple[str, str, int]]) -> tuple[Author, ...]:
    """Authors in file order (FAU/AU pairs, AU alone in old records, CN groups) with the AD lines below each."""
    people: list[dict] = []
    early_affiliations: list[str] = []
    awaiting_short_name = False
    for tag, value, _line in entries:
        if tag == "FAU":
            last_name, _, fore_name = (part.strip() for part in value.partition(","))
            people.append({"last_name": last_name or None, "fore_name": fore_name or None, "affiliations": []})
            awaiting_short_name = True
        elif tag == "AU" and awaiting_short_name:
            people[-1]["initials"] = _initials(value, people[-1]["last_name"])
            awaiting_short_name = False
        elif tag == "AU":
            last_name, initials = _split_short_name(value)
            people.append({"last_name": last_name, "initials": initials, "affiliations": []})
        elif tag == "CN":
            people.append({"collective_name": value, "affiliations": []})
            awaiting_short_name = False
        elif tag == "AD" and value:
            (people[-1]["affiliations"] if people else early_affiliations).append(value)
        elif tag == "AUID" and people and value.startswith("ORCID"):
            # "ORCID: 0000-0002-1825-0097" or "ORCID: https://orcid.org/..."; the first valid one is kept.
            people[-1].setdefault("orcid", normalise_orcid(value.removeprefix("ORCID").lstrip(": ")))
            if people[-1]["orcid"] is None:
                del people[-1]["orcid"]
    if people and early_affiliations:
        people[0]["affiliations"][:0] = early_affiliations
    return tuple(Author(**{**person, "affiliations": tuple(person["affiliations"])}) for person in people)


def _initials(short_name: str, last_name: str | None) -> str | None:
    """"Casbon JA" with last name "Casbon" → "JA"."""
    if last_name and short_name.startswith(last_name + " "):
        return short_name[len(last_name):].strip() or None
    return _split_short_name(short_name)[1]


def _split_short_name(short_name: str) -> tuple[str | None, str | None]:
    """"van der Berg JA" → ("van der Berg", "JA"); a name without initials stays whole."""
    head, _, tail = short_name.rpartition(" ")
    if head and re.fullmatch(r"[A-Z]{1,4}", tail):
        return head, tail
    return short_name or None, None
