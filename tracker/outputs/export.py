"""Write a selection of the catalogue as CSV, RIS or BibTeX: the same code for `tracker export` and the dashboard.

Every writer takes the frame `selection.select_articles` returns and keeps its rows and their order. The catalogue
keeps its detail columns as stored, JSON bytes; the caller decodes the ones a writer reads (`detail_columns(format)`)
with `store.decode_details` before handing the frame over, so this module never reads the store's encoding.

CSV columns (stable; new columns are only ever appended):

    pmid                   PubMed identifier
    title                  article title
    authors                "Smith JA; Doe J"
    journal                journal (or book) title
    year                   publication year, empty when unknown
    publication_date       the date as PubMed gives it ("2019 Nov-Dec"), else built from its parts ("2019 Aug 5")
    doi                    DOI without the https://doi.org/ prefix
    pmcid                  PubMed Central id ("PMC1234567")
    pubmed_url             https://pubmed.ncbi.nlm.nih.gov/<pmid>/
    hypotheses             ids of the hypotheses the article carries, "serotonin; sleep" (baseline included)
    matched_terms          the terms that tagged it, per hypothesis: "serotonin: 5-HT, SSRI | sleep: insomnia"
    design                 study design id (`vocabulary.DESIGNS`, e.g. "rct", "meta_analysis")
    species                human, animal, both or unknown
    publication_types      PubMed publication types, "; "-separated
    mesh_terms             MeSH descriptor names, "; "-separated
    retracted              true / false
    retraction_notice      true / false
    has_erratum            true / false
    expression_of_concern  true / false
    first_seen             when the tracker first stored it (ISO 8601, UTC)
    orcids                 authors' ORCID iDs, "Smith JA: 0000-0002-1825-0097; Doe J: 0000-0001-5109-3700"
    grants                 funding, "agency (country) grant number": "NIAMS NIH HHS (United States) R01 AR053295;
                           Wellcome Trust (United Kingdom)"
    coi_statement          the conflict-of-interest statement, on one line
    chemicals              substances indexed, "name (registry number)": "Pregabalin (55JG375S6M); Analgesics"
                           (no number where PubMed has none, its "0")
    publication_status     PubMed's ppublish (in print), epublish (online only) or aheadofprint
    comments_on            the articles this one comments on: PMIDs, or the citation where PubMed gives no PMID
    comments_in            the articles that comment on this one, as comments_on
    stance_<cause>         one per cause in `cause_ids`, when stance rows are given: the article's stance for that
                           cause (`models.STANCES`; a person's where one reviewed the pair), no_finding for a cause
                           it carries but the reader has not read yet, empty for a cause it does not carry
    confidence_<cause>     one per cause, after the stance columns: how sure that reading is, high or low (`tracker
                           evidence` gives the reason; high for a reviewed pair), empty where the cause is not
                           carried or not read yet
    reviewed_<cause>       then a group of columns per field of the review, one per cause each, empty for a cause
    reviewer_<cause>       the article does not carry: whether a person reviewed the pair (true / false), who and
    reviewed_at_<cause>    when (ISO 8601, UTC) for the review that counts (the latest), the machine's own stance
    machine_stance_<cause> beside the counted one, and whether reviewers' latest readings differ (true / false:
    review_disputed_<cause> the latest counts until one of them changes theirs)
    abstract               only with `with_abstract=True` (`--with-abstract`); sections as "LABEL: text" paragraphs;
                           always the last column

RIS (N1) and BibTeX (note) carry the same stances as "Stance: serotonin supports (low confidence); sleep
no_finding", a reviewed pair as "sleep contradicts (reviewed by ana on 2026-12-01T09:30:00+00:00; machine: mixed)"
("…, disputed by another reviewer; …" where reviewers differ).

CSV is UTF-8 (with a byte-order mark when `excel=True`, so Excel detects the encoding), quoted per RFC 4180 by the
csv module (CRLF row ends; fields with quotes, commas or newlines quoted). Text cells that a spreadsheet would run
as a formula (starting with = + - @ tab or CR) get a leading apostrophe; plain numbers such as "-1" stay as they are.

BibTeX keys are "<first author's last name><year><first title word>" in lower-case ASCII ("smith2019fibromyalgia",
"anon" without authors, "nd" without a year); articles of one export that share a key all get a suffix "a", "b", ...
in ascending PMID order, so the keys do not depend on the row order. Title words with a capital after their first
letter (SSRI, IGF-1, McGill) are braced so that sentence-case styles keep them.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, NamedTuple, TextIO

import numpy as np
import pandas as pd

from tracker.models import UNREAD_STANCE
from tracker.vocabulary import pubmed_url

CSV_COLUMNS: tuple[str, ...] = (
    "pmid", "title", "authors", "journal", "year", "publication_date", "doi", "pmcid", "pubmed_url", "hypotheses",
    "matched_terms", "design", "species", "publication_types", "mesh_terms", "retracted", "retraction_notice",
    "has_erratum", "expression_of_concern", "first_seen", "orcids", "grants", "coi_statement", "chemicals",
    "publication_status", "comments_on", "comments_in",
)
ABSTRACT_COLUMN = "abstract"
FLAG_COLUMNS = ("retracted", "retraction_notice", "has_erratum", "expression_of_concern")
# The catalogue's detail columns each format reads: decoding only these keeps a large export quick.
_CSV_DETAILS = ("publication_types", "mesh_terms", "matched_terms", "authors", "grants", "chemicals", "comments")
_CITATION_DETAILS = ("authors", "publication_types", "mesh_terms", "keywords", "grants")
_DETAILS_BY_FORMAT = {"csv": _CSV_DETAILS, "ris": _CITATION_DETAILS, "bibtex": _CITATION_DETAILS}

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# Excel, LibreOffice and Google Sheets start a formula (or DDE call) at these; OWASP's list for CSV injection.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_START_SET = frozenset(_FORMULA_STARTS)
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def detail_columns(export_format: str) -> tuple[str, ...]:
    """The catalogue's detail columns the writer of "csv", "ris" or "bibtex" reads: decode them before writing."""
    return _DETAILS_BY_FORMAT[export_format]


def neutralise_cell(value: object) -> str:
    """Return the cell as text, with a leading apostrophe when a spreadsheet would run it as a formula."""
    text = _text(value)
    if text.startswith(_FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


# --- CSV ------------------------------------------------------------------------------------------------------

def csv_header(*, with_abstract: bool = False, cause_ids: Sequence[str] = ()) -> list[str]:
    """Return the CSV header row; `cause_ids` add the per-cause columns (`stance_columns`) after the others but the
    abstract."""
    return [*CSV_COLUMNS, *stance_columns(cause_ids), *([ABSTRACT_COLUMN] if with_abstract else [])]


class _Reading(NamedTuple):
    """An article's reading of one cause as the exports write it, each field a cell ("" where it does not apply)."""

    stance: str
    confidence: str
    reviewed: str = ""
    reviewer: str = ""
    reviewed_at: str = ""
    machine_stance: str = ""
    review_disputed: str = ""


# The stance rows' columns the writers read (`store.load_stance_frame`): the counted stance and the review beside it.
STANCE_READ_COLUMNS: tuple[str, ...] = ("stance", "confidence", "machine_stance", "reviewed", "reviewer",
                                        "reviewed_at", "review_disagreement")


def stance_columns(cause_ids: Sequence[str]) -> list[str]:
    """The CSV's per-cause column names, a group per field of the reading in the order of `cause_ids`:
    "stance_serotonin", …, then "confidence_…", "reviewed_…", "reviewer_…", "reviewed_at_…", "machine_stance_…",
    "review_disputed_…"."""
    return [f"{field}_{cause_id}" for field in _Reading._fields for cause_id in cause_ids]


def _flag_text(value: object) -> str:
    return "true" if value is not None and value is not pd.NA and bool(value) else "false"


def stances_by_pair(stances: pd.DataFrame | None) -> dict[tuple[int, str], _Reading]:
    """{(pmid, hypothesis id): reading} from `store.load_stance_frame` rows (pmid, hypothesis_id, stance, and the
    other STANCE_READ_COLUMNS where read: a field left out is written "")."""
    if stances is None or stances.empty:
        return {}
    count = len(stances)
    stance = stances["stance"].tolist()

    def texts(name: str) -> list[str]:
        return [_text(value) for value in stances[name].tolist()] if name in stances else [""] * count

    if "reviewed" in stances:
        reviewed = [_flag_text(value) for value in stances["reviewed"].tolist()]
        disputed = [_flag_text(value) for value in stances["review_disagreement"].tolist()] \
            if "review_disagreement" in stances else [""] * count
        machine = [text or counted for text, counted in zip(texts("machine_stance"), stance)]
    else:
        reviewed = disputed = machine = [""] * count
    return dict(zip(zip(stances["pmid"].astype("int64").tolist(), stances["hypothesis_id"].tolist()),
                    map(_Reading, stance, texts("confidence"), reviewed, texts("reviewer"), texts("reviewed_at"),
                        machine, disputed)))


def article_stances(row: dict[str, Any], cause_ids: Sequence[str],
                    by_pair: dict[tuple[int, str], _Reading]) -> list[_Reading]:
    """The article's reading per cause: its stored (or reviewed) stance and the rest, the unread value for a cause
    it carries without a reading (nobody can review a pair the reader has not read: its review is parked), and
    empty cells for a cause it does not carry."""
    carried = set(_items(row.get("hypotheses")))
    pmid = int(row["pmid"])
    unread = _Reading(UNREAD_STANCE, "", "false", "", "", UNREAD_STANCE, "false")
    return [by_pair.get((pmid, cause_id), unread) if cause_id in carried else _Reading("", "")
            for cause_id in cause_ids]


def _reading_note(cause_id: str, reading: _Reading) -> str:
    """"serotonin supports (low confidence)", or for a reviewed pair "serotonin contradicts (reviewed by ana on
    2026-12-01T09:30:00+00:00; machine: supports)", with "disputed by another reviewer" where reviewers differ."""
    if reading.reviewed == "true":
        disputed = ", disputed by another reviewer" if reading.review_disputed == "true" else ""
        return (f"{cause_id} {reading.stance} (reviewed by {_one_line(reading.reviewer)} on {reading.reviewed_at}"
                f"{disputed}; machine: {reading.machine_stance})")
    return f"{cause_id} {reading.stance}" + (" (low confidence)" if reading.confidence == "low" else "")


def _stance_note(row: dict[str, Any], cause_ids: Sequence[str], by_pair: dict[tuple[int, str], _Reading]) -> str:
    pairs = [_reading_note(cause_id, reading)
             for cause_id, reading in zip(cause_ids, article_stances(row, cause_ids, by_pair)) if reading.stance]
    return "Stance: " + "; ".join(pairs) if pairs else ""


def csv_records(frame: pd.DataFrame, *, with_abstract: bool = False, stances: pd.DataFrame | None = None,
                cause_ids: Sequence[str] = ()) -> Iterator[list[str]]:
    """Yield one list of (not yet neutralised) CSV cells per article, in the frame's order."""
    by_pair = stances_by_pair(stances)
    for row in _records(frame, _CSV_DETAILS):
        cells = [
            str(int(row["pmid"])),
            _text(row.get("title")),
            _text(row.get("author_names")),
            _text(row.get("journal")),
            _year_text(row.get("pub_year")),
            publication_date_text(row),
            _text(row.get("doi")),
            _text(row.get("pmcid")),
            pubmed_url(row["pmid"]),
            "; ".join(_items(row.get("hypotheses"))),
            matched_terms_text(row.get("matched_terms")),
            _text(row.get("design")),
            _text(row.get("species")),
            "; ".join(_items(row.get("publication_types"))),
            "; ".join(_items(row.get("mesh_terms"))),
            *("true" if _flag(row.get(name)) else "false" for name in FLAG_COLUMNS),
            _text(row.get("first_seen")),
            orcids_text(row.get("authors")),
            grants_text(row.get("grants")),
            _one_line(row.get("coi_statement")),
            chemicals_text(row.get("chemicals")),
            _text(row.get("publication_status")),
            comments_text(row.get("comments"), "CommentOn"),
            comments_text(row.get("comments"), "CommentIn"),
        ]
        if cause_ids:
            readings = article_stances(row, cause_ids, by_pair)
            cells += [value for values in zip(*readings) for value in values]
        if with_abstract:
            cells.append(_text(row.get("abstract")))
        yield cells


def write_csv(frame: pd.DataFrame | Iterable[Batch], stream: TextIO, *, with_abstract: bool = False,
              excel: bool = False, stances: pd.DataFrame | None = None, cause_ids: Sequence[str] = ()) -> int:
    """Write the articles as CSV to a text stream opened with newline=""; return how many rows were written.

    `frame` may be batches instead: (articles, their stance rows) pairs, written in turn under one header, so
    that an export holds one batch at a time. With `cause_ids` (and the stance rows, `stances`) a stance column
    per cause follows the others, before the abstract.
    """
    if excel:
        stream.write("\ufeff")
    writer = csv.writer(stream, lineterminator="\r\n")
    writer.writerow(csv_header(with_abstract=with_abstract, cause_ids=cause_ids))
    count = 0
    for articles, batch_stances in batches_of(frame, stances):
        for cells in csv_records(articles, with_abstract=with_abstract, stances=batch_stances, cause_ids=cause_ids):
            # Checking the first character inline skips a call per cell for the many cells that are safe.
            writer.writerow([neutralise_cell(cell) if cell[:1] in _FORMULA_START_SET else cell for cell in cells])
            count += 1
    return count


# A batch of an export: articles (their detail columns decoded) and their stance rows (or None).
Batch = tuple[pd.DataFrame, "pd.DataFrame | None"]


def batches_of(frame: pd.DataFrame | Iterable[Batch], stances: pd.DataFrame | None = None) -> Iterable[Batch]:
    """A writer's input as batches: one frame (with `stances`) is one batch."""
    return [(frame, stances)] if isinstance(frame, pd.DataFrame) else frame


def csv_bytes(frame: pd.DataFrame | Iterable[Batch], *, with_abstract: bool = False, excel: bool = False,
              stances: pd.DataFrame | None = None, cause_ids: Sequence[str] = ()) -> bytes:
    """Return the CSV file as UTF-8 bytes, what the dashboard's download button serves (from one frame, or from
    batches as `write_csv` takes them)."""
    buffer = io.StringIO(newline="")
    write_csv(frame, buffer, with_abstract=with_abstract, excel=excel, stances=stances, cause_ids=cause_ids)
    return buffer.getvalue().encode("utf-8")


def orcids_text(authors: object) -> str:
    """"Smith JA: 0000-0002-1825-0097; ..." for the authors with an ORCID iD."""
    return "; ".join(
        f"{_author_display_name(author)}: {author['orcid']}" for author in authors or () if author.get("orcid"))


def grants_text(grants: object) -> str:
    """"NIAMS NIH HHS (United States) R01 AR053295; Wellcome Trust (United Kingdom)"."""
    cells = []
    for grant in grants or ():
        funder = " ".join(part for part in (_one_line(grant.get("agency")),
                                             f"({_one_line(grant['country'])})" if grant.get("country") else "")
                          if part)
        cells.append(" ".join(part for part in (funder, _one_line(grant.get("grant_id"))) if part))
    return "; ".join(cell for cell in cells if cell)


def chemicals_text(chemicals: object) -> str:
    """"Pregabalin (55JG375S6M); Analgesics": PubMed's registry number "0" means none and is left out."""
    return "; ".join(
        f"{_one_line(chemical['name'])} ({chemical['registry_number']})"
        if chemical.get("registry_number") not in (None, "", "0") else _one_line(chemical["name"])
        for chemical in chemicals or ())


def comments_text(comments: object, ref_type: str) -> str:
    """The PMIDs of one kind of comment link, or the cited source where PubMed gives no PMID."""
    return "; ".join(
        str(comment["pmid"]) if comment.get("pmid") is not None else _one_line(comment.get("ref_source"))
        for comment in comments or () if comment.get("ref_type") == ref_type)


def _author_display_name(author: dict[str, Any]) -> str:
    """"Smith JA" for a person, the group's name for a collective, as the authors column writes them."""
    if author.get("collective_name"):
        return _one_line(author["collective_name"])
    return " ".join(_one_line(part) for part in (author.get("last_name"),
                                                 author.get("initials") or author.get("fore_name")) if part)


def publication_date_text(row: dict[str, Any]) -> str:
    """Return the publication date as PubMed wrote it, or built from year, month and day ("2019 Aug 5")."""
    raw = _text(row.get("pub_date_raw"))
    if raw:
        return raw
    year, month, day = (_int_or_none(row.get(name)) for name in ("pub_year", "pub_month", "pub_day"))
    if year is None:
        return ""
    parts = [str(year)]
    if month is not None and 1 <= month <= 12:
        parts.append(_MONTHS[month - 1])
        if day is not None:
            parts.append(str(day))
    return " ".join(parts)


def matched_terms_text(matched_terms: object) -> str:
    """Return "serotonin: 5-HT, SSRI | sleep: insomnia" from {hypothesis id: [{"term", "field"}, ...]}."""
    if not isinstance(matched_terms, dict):
        return ""
    parts = []
    for hypothesis_id in sorted(matched_terms):
        # The same term found in the title and the abstract is listed once.
        terms = list(dict.fromkeys(match["term"] for match in matched_terms[hypothesis_id] or ()))
        if terms:
            parts.append(f"{hypothesis_id}: {', '.join(terms)}")
    return " | ".join(parts)


# --- RIS ------------------------------------------------------------------------------------------------------

# Publication types with a RIS type of their own; everything else in a journal is JOUR.
_RIS_TYPES_BY_PUBLICATION_TYPE = (
    ("Dataset", "DATA"),
    ("Congress", "CONF"),
    ("Technical Report", "RPRT"),
    ("Newspaper Article", "NEWS"),
)


def ris_type(row: dict[str, Any]) -> str:
    """Return the RIS type: CHAP or BOOK for book records, else by publication type, JOUR by default."""
    title = _text(row.get("title"))
    container = _text(row.get("journal"))
    if row.get("kind") == "book":
        return "CHAP" if container and container != title else "BOOK"
    publication_types = set(_items(row.get("publication_types")))
    for publication_type, type_code in _RIS_TYPES_BY_PUBLICATION_TYPE:
        if publication_type in publication_types:
            return type_code
    return "JOUR" if container else "GEN"


def ris_records(frame: pd.DataFrame, *, stances: pd.DataFrame | None = None,
                cause_ids: Sequence[str] = ()) -> Iterator[list[tuple[str, str]]]:
    """Yield each article as a list of (tag, value) pairs, TY first and ER last; with `cause_ids`, an N1 note
    gives its stance per cause."""
    by_pair = stances_by_pair(stances)
    for row in _records(frame, _CITATION_DETAILS):
        type_code = ris_type(row)
        pairs: list[tuple[str, str]] = [("TY", type_code)]
        pairs += [("AU", _one_line(name)) for name in _person_names(row.get("authors"))]
        pairs.append(("TI", _one_line(row.get("title"))))
        if type_code != "BOOK":
            # Zotero reads T2 as the journal (or the book of a chapter), JabRef too when no JO/JF precedes it.
            pairs.append(("T2", _one_line(row.get("journal"))))
            if type_code != "CHAP":
                pairs.append(("JA", _one_line(row.get("journal_iso"))))
        year = _int_or_none(row.get("pub_year"))
        if year is not None:
            pairs.append(("PY", str(year)))
            pairs.append(("DA", _ris_date(row)))
        pairs.append(("VL", _one_line(row.get("volume"))))
        pairs.append(("IS", _one_line(row.get("issue"))))
        ranges = page_ranges(_text(row.get("pages")))
        if ranges:
            pairs.append(("SP", ranges[0][0]))
            pairs.append(("EP", ranges[-1][1] or ""))
        pairs.append(("DO", _one_line(row.get("doi"))))
        pairs.append(("AN", str(int(row["pmid"]))))
        pairs.append(("AB", _one_line(row.get("abstract"))))
        pairs += [("KW", keyword) for keyword in _keywords(row)]
        pairs.append(("UR", pubmed_url(row["pmid"])))
        note = _integrity_note(row)
        if note:
            pairs.append(("N1", note))
        # Funding and conflicts of interest as notes: RIS has no tags of its own for them.
        funding = grants_text(row.get("grants"))
        if funding:
            pairs.append(("N1", f"Funding: {funding}"))
        conflict = _one_line(row.get("coi_statement"))
        if conflict:
            pairs.append(("N1", f"Conflict of interest: {conflict}"))
        if cause_ids:
            pairs.append(("N1", _stance_note(row, cause_ids, by_pair)))
        pairs.append(("ER", ""))
        yield [(tag, value) for tag, value in pairs if value or tag == "ER"]


def write_ris(frame: pd.DataFrame | Iterable[Batch], stream: TextIO, *, stances: pd.DataFrame | None = None,
              cause_ids: Sequence[str] = ()) -> int:
    """Write the articles (one frame, or batches as `write_csv` takes them) as RIS records (CRLF line ends, as the
    format asks); return how many were written."""
    count = 0
    for articles, batch_stances in batches_of(frame, stances):
        for pairs in ris_records(articles, stances=batch_stances, cause_ids=cause_ids):
            stream.write("".join(f"{tag}  - {value}\r\n" for tag, value in pairs))
            stream.write("\r\n")
            count += 1
    return count


# --- BibTeX ---------------------------------------------------------------------------------------------------

_LATEX_ESCAPES = str.maketrans({
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    # BibTeX counts braces even after a backslash, so \{ alone could unbalance a field; these stay balanced.
    "{": r"\textbraceleft{}",
    "}": r"\textbraceright{}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
})
# A capital after a word's first character marks an acronym or a name (SSRI, IGF-1, 5-HT, McGill) that a
# sentence-case BibTeX style would otherwise lower-case.
_INNER_CAPITAL = re.compile(r".[A-Z]")
_KEY_STOPWORDS = frozenset(
    {"a", "an", "the", "of", "on", "in", "and", "for", "to", "with", "is", "are", "by", "from", "at", "as", "do",
     "does", "its", "their", "vs", "versus"}
)


def latex_escape(text: str) -> str:
    """Escape the characters LaTeX treats as commands: & % $ # _ { } ~ ^ and backslash; drop control characters,
    which LaTeX refuses, and make line-breaking ones (form feed, NEL, line and paragraph separators) spaces."""
    return _LINE_BREAKING.sub(" ", _NON_PRINTING.sub("", text)).translate(_LATEX_ESCAPES)


def protect_capitals(title: str) -> str:
    """Brace each word with a capital after its first letter ("{SSRI}", "{IGF-1}") so styles keep its case."""
    return " ".join("{" + word + "}" if _INNER_CAPITAL.search(word) else word for word in title.split(" "))


def bibtex_type(row: dict[str, Any]) -> str:
    """Return the entry type: incollection or book for book records, article in a journal, misc otherwise."""
    type_code = ris_type(row)
    if type_code == "CHAP":
        return "incollection"
    if type_code == "BOOK":
        return "book"
    if type_code == "CONF":
        return "inproceedings"
    return "article" if _text(row.get("journal")) else "misc"


class BibtexKeys:
    """The citation keys of an export, unique across all its articles however many batches they are read in.

    Built in one pass over (pmid, title, pub_year, first author) tuples (`store.iter_citation_key_fields`), before
    the entries are written: a key base that several articles share gets "a", "b", ... in ascending PMID order.
    While built it holds 16 bytes an article (each base's hash and its PMID), after it only the PMIDs of articles
    with a twin; bases are compared by their 64-bit hash, and two different bases with one hash (a chance in ten
    million at a million articles) would only both get a suffix: the keys stay unique.
    """

    def __init__(self, batches: Iterable[Iterable[tuple[int, object, object, dict | None]]]) -> None:
        hashes, pmids = [], []
        for batch in batches:
            fields = list(batch)
            hashes.append(np.fromiter((hash(_key_base(first, year, title)) for _, title, year, first in fields),
                                      dtype="int64", count=len(fields)))
            pmids.append(np.fromiter((pmid for pmid, *_ in fields), dtype="int64", count=len(fields)))
        all_hashes = np.concatenate(hashes) if hashes else np.zeros(0, dtype="int64")
        all_pmids = np.concatenate(pmids) if pmids else np.zeros(0, dtype="int64")
        del hashes, pmids
        order = np.lexsort((all_pmids, all_hashes))
        all_hashes, all_pmids = all_hashes[order], all_pmids[order]
        del order
        group_start = np.r_[True, all_hashes[1:] != all_hashes[:-1]] if len(all_hashes) else np.zeros(0, bool)
        group_end = np.r_[group_start[1:], True] if len(all_hashes) else group_start
        twin = ~(group_start & group_end)
        starts = np.flatnonzero(group_start)
        positions = np.arange(len(all_hashes)) - starts[np.cumsum(group_start) - 1]
        by_pmid = np.argsort(all_pmids[twin], kind="stable")
        self._twin_pmids = all_pmids[twin][by_pmid]
        self._twin_positions = positions[twin][by_pmid]

    @classmethod
    def of_frame(cls, frame: pd.DataFrame) -> BibtexKeys:
        """The keys of one frame's articles (its authors column decoded)."""
        return cls([_key_fields(frame)])

    def key(self, row: dict[str, Any]) -> str:
        """The key of one of the articles the keys were built from."""
        base = _key_base(_first_author(row), row.get("pub_year"), row.get("title"))
        where = int(np.searchsorted(self._twin_pmids, int(row["pmid"])))
        if where < len(self._twin_pmids) and self._twin_pmids[where] == int(row["pmid"]):
            return base + _letters(int(self._twin_positions[where]))
        return base


def bibtex_keys(frame: pd.DataFrame) -> dict[int, str]:
    """Return each PMID's citation key, unique within the frame and independent of its row order."""
    keys = BibtexKeys.of_frame(frame)
    return {int(row["pmid"]): keys.key(row) for row in _records(frame, ("authors",))}


def bibtex_records(frame: pd.DataFrame, *, stances: pd.DataFrame | None = None, cause_ids: Sequence[str] = (),
                   keys: BibtexKeys | None = None) -> Iterator[tuple[str, str, list[tuple[str, str]]]]:
    """Yield (entry type, key, [(field, escaped value), ...]) per article; with `cause_ids`, the note gives its
    stance per cause. `keys` are the whole export's when the frame is one batch of it, else the frame's own."""
    by_pair = stances_by_pair(stances)
    keys = keys or BibtexKeys.of_frame(frame)
    for row in _records(frame, _CITATION_DETAILS):
        entry_type = bibtex_type(row)
        fields: list[tuple[str, str]] = [
            ("author", " and ".join(_bibtex_names(row.get("authors")))),
            ("title", protect_capitals(latex_escape(_one_line(row.get("title"))))),
        ]
        container = latex_escape(_one_line(row.get("journal")))
        if entry_type == "article":
            fields.append(("journal", container))
        elif entry_type in ("incollection", "inproceedings"):
            fields.append(("booktitle", container))
        year = _int_or_none(row.get("pub_year"))
        fields += [
            ("year", "" if year is None else str(year)),
            ("volume", latex_escape(_one_line(row.get("volume")))),
            ("number", latex_escape(_one_line(row.get("issue")))),
            ("pages", latex_escape(", ".join(
                f"{start}--{end}" if end else start for start, end in page_ranges(_text(row.get("pages")))))),
            ("doi", latex_escape(_one_line(row.get("doi")))),
            ("pmid", str(int(row["pmid"]))),
            ("pmcid", latex_escape(_one_line(row.get("pmcid")))),
            ("url", pubmed_url(row["pmid"])),
            ("abstract", latex_escape(_one_line(row.get("abstract")))),
            ("keywords", latex_escape("; ".join(_keywords(row)))),
            ("note", latex_escape(". ".join(note for note in (
                _integrity_note(row), _stance_note(row, cause_ids, by_pair) if cause_ids else "") if note))),
        ]
        yield entry_type, keys.key(row), [(name, value) for name, value in fields if value]


def write_bibtex(frame: pd.DataFrame | Iterable[Batch], stream: TextIO, *, stances: pd.DataFrame | None = None,
                 cause_ids: Sequence[str] = (), keys: BibtexKeys | None = None) -> int:
    """Write the articles (one frame, or batches as `write_csv` takes them) as BibTeX entries (UTF-8, LaTeX
    specials escaped); return how many were written.

    Batches need the whole export's `keys`, made before the first batch is read (a key depends on every other
    article); without them the batches are gathered into one frame first.
    """
    batches = batches_of(frame, stances)
    if keys is None:
        batches = list(batches)
        keys = BibtexKeys(_key_fields(articles) for articles, _ in batches)
    count = 0
    for articles, batch_stances in batches:
        for entry_type, key, fields in bibtex_records(articles, stances=batch_stances, cause_ids=cause_ids,
                                                      keys=keys):
            body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
            stream.write(f"@{entry_type}{{{key},\n{body}\n}}\n\n")
            count += 1
    return count


def _key_fields(frame: pd.DataFrame) -> list[tuple[int, object, object, dict | None]]:
    """What a citation key is made of, per article of the frame: (pmid, title, pub_year, first author)."""
    return [(int(row["pmid"]), row.get("title"), row.get("pub_year"), _first_author(row))
            for row in _records(frame, ("authors",))]


def _first_author(row: dict[str, Any]) -> dict | None:
    authors = row.get("authors")
    return authors[0] if authors is not None and len(authors) else None


def _key_base(first_author: dict | None, pub_year: object, title: object) -> str:
    name = ""
    if first_author:
        name = first_author.get("last_name") or (first_author.get("collective_name") or "").split(" ")[0]
    name = _ascii_word(name) or "anon"
    year = _int_or_none(pub_year)
    words = [w for w in re.findall(r"[a-z0-9]+", _ascii(_text(title)).lower()) if w not in _KEY_STOPWORDS]
    return f"{name}{'nd' if year is None else year}{words[0] if words else ''}"


def _letters(position: int) -> str:
    """0 -> "a", 25 -> "z", 26 -> "aa": a suffix for any number of twins."""
    letters = ""
    position += 1
    while position:
        position, remainder = divmod(position - 1, 26)
        letters = chr(ord("a") + remainder) + letters
    return letters


def _bibtex_names(authors: object) -> list[str]:
    names = []
    for author in authors if authors is not None else ():
        if author.get("collective_name"):
            # Braces keep a group's name whole: BibTeX would split "Society for X and Y" at "and".
            names.append("{" + latex_escape(author["collective_name"]) + "}")
        elif author.get("last_name"):
            given = author.get("fore_name") or author.get("initials")
            last = latex_escape(author["last_name"])
            names.append(f"{last}, {latex_escape(given)}" if given else last)
    return names


# --- shared helpers -------------------------------------------------------------------------------------------

_RECORD_COLUMNS = (
    "pmid", "kind", "title", "abstract", "author_names", "authors", "journal", "journal_iso", "volume", "issue",
    "pages", "pub_year", "pub_month", "pub_day", "pub_date_raw", "doi", "pmcid", "publication_types", "mesh_terms",
    "keywords", "first_seen", "hypotheses", "matched_terms", "design", "species", *FLAG_COLUMNS,
    "grants", "coi_statement", "chemicals", "publication_status", "comments",
)


def _records(frame: pd.DataFrame, details: tuple[str, ...]) -> Iterator[dict[str, Any]]:
    """Yield each row as a dict of the columns the writers read, None for missing values.

    Of the detail columns only `details` are given, and they must be decoded: the others may still be JSON bytes,
    which a writer would iterate as numbers. Column by column, not DataFrame.to_dict("records"): that boxes every
    cell of every column one at a time and is several times slower on pandas' Arrow-backed strings.
    """
    _check_decoded(frame, details)
    present = [column for column in _RECORD_COLUMNS
               if column in frame.columns and (column in details or column not in _ALL_DETAILS)]
    values = [frame[column].astype(object).where(frame[column].notna(), None).tolist() for column in present]
    return (dict(zip(present, row)) for row in zip(*values))


_ALL_DETAILS = frozenset(_CSV_DETAILS + _CITATION_DETAILS)


def _check_decoded(frame: pd.DataFrame, details: tuple[str, ...]) -> None:
    """Refuse a frame whose detail columns are missing or still JSON bytes: a caller forgot to decode them."""
    for column in details:
        if column not in frame.columns:
            raise ValueError(f"the frame has no {column!r} column; decode it first: "
                             f"store.decode_details(frame, export.detail_columns(format))")
        values = frame[column].dropna()
        if len(values) and isinstance(values.iloc[0], (bytes, str)):
            raise ValueError(f"the frame's {column!r} column is not decoded; decode it first: "
                             f"store.decode_details(frame, export.detail_columns(format))")


def page_ranges(pages: str) -> list[tuple[str, str | None]]:
    """Split MEDLINE pages into (first, last) ranges, expanding "123-9" to ("123", "129")."""
    ranges: list[tuple[str, str | None]] = []
    for part in pages.split(","):
        part = part.strip()
        if not part:
            continue
        start, _, end = (piece.strip() for piece in part.partition("-"))
        if end and start.isdigit() and end.isdigit() and len(end) < len(start):
            # MEDLINE drops the leading digits the last page shares with the first.
            end = start[: len(start) - len(end)] + end
        ranges.append((start, end or None))
    return ranges


def _person_names(authors: object) -> list[str]:
    """"Last, Fore" per person (Zotero and JabRef split at the comma), the group's name for a collective."""
    names = []
    for author in authors if authors is not None else ():
        if author.get("collective_name"):
            names.append(_one_line(author["collective_name"]))
        elif author.get("last_name"):
            given = author.get("fore_name") or author.get("initials")
            names.append(_one_line(f"{author['last_name']}, {given}" if given else author["last_name"]))
    return names


def _keywords(row: dict[str, Any]) -> list[str]:
    keywords = [*_items(row.get("mesh_terms")), *_items(row.get("keywords"))]
    return list(dict.fromkeys(_one_line(k) for k in keywords if _one_line(k)))


def _integrity_note(row: dict[str, Any]) -> str:
    notes = {
        "retracted": "Retracted publication",
        "retraction_notice": "Retraction notice",
        "has_erratum": "Has an erratum",
        "expression_of_concern": "Expression of concern",
    }
    return "; ".join(text for name, text in notes.items() if _flag(row.get(name)))


def _ris_date(row: dict[str, Any]) -> str:
    parts = [_int_or_none(row.get(name)) for name in ("pub_year", "pub_month", "pub_day")]
    known = []
    for part in parts:
        if part is None:
            break
        known.append(part)
    return "/".join(f"{part:02d}" if position else str(part) for position, part in enumerate(known))


def _items(values: object) -> list[str]:
    if values is None or isinstance(values, float):
        return []
    return [str(value) for value in values]


# Control characters that are not whitespace (escape, DEL, C1 codes): no citation format or tool wants them.
_NON_PRINTING = re.compile("[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f]")
# What breaks a line, or reads as whitespace to Python but not to LaTeX.
_LINE_BREAKING = re.compile("[\t\n\v\f\r\x1c-\x1f\x85\u2028\u2029]")


def _one_line(value: object) -> str:
    """RIS and BibTeX fields sit on one line: a newline inside would start a new tag or a paragraph, and a
    control character has no place in either (split() takes form feed, NEL and the separators as spaces)."""
    return " ".join(_NON_PRINTING.sub("", _text(value)).split())


def _text(value: object) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def _int_or_none(value: object) -> int | None:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return int(value)


def _year_text(value: object) -> str:
    year = _int_or_none(value)
    return "" if year is None else str(year)


def _flag(value: object) -> bool:
    return False if _int_or_none(value) is None else bool(value)


# Letters NFKD does not split into an ASCII base and an accent, so that "Ørsted" keys as "orsted", not "rsted".
_ASCII_LETTERS = str.maketrans({"ß": "ss", "æ": "ae", "Æ": "AE", "ø": "o", "Ø": "O", "œ": "oe", "Œ": "OE",
                                "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "þ": "th", "Þ": "Th",
                                "ı": "i"})


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text.translate(_ASCII_LETTERS)).encode("ascii", "ignore").decode("ascii")


def _ascii_word(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", _ascii(text).lower())


# --- evidence: one row per (article, cause) with its stance -----------------------------------------------------

EVIDENCE_COLUMNS: tuple[str, ...] = (
    "pmid", "hypothesis", "year", "design", "species", "stance", "reviewed", "reviewer", "reviewed_at",
    "machine_stance", "confidence", "confidence_reason", "evidence_kind", "hedged", "section", "sentence", "cue",
    "n_patients", "n_controls", "retracted", "review_disputed",
)


def evidence_frame(articles: pd.DataFrame, stances: pd.DataFrame, cause_ids: Sequence[str], *,
                   hypotheses: Sequence[str] = (), stance_values: Sequence[str] = (),
                   evidence_kinds: Sequence[str] = (), hedged: bool | None = None,
                   confidence: str | None = None) -> pd.DataFrame:
    """One row per (article, cause) the articles carry, in the articles' order and then the causes' order.

    `stances` are `store.load_stance_frame` rows with every stance column (and the review columns: a reviewed
    pair's stance is the reviewed one, machine_stance the machine's beside it); a pair without one shows
    `models.UNREAD_STANCE` and empty details (its confidence unknown). `hypotheses` keeps only those causes' rows,
    `stance_values` only the rows with one of those stances, `evidence_kinds` those of one of those kinds, `hedged`
    the hedged (True) or plainly stated (False) ones, `confidence` those read with it. Columns EVIDENCE_COLUMNS;
    year and the sample sizes as nullable integers, hedged as a nullable boolean (unknown for an unread pair),
    reviewed and review_disputed (reviewers' latest readings differ; the latest counts) as booleans, the texts None
    where empty.
    """
    wanted = [cause for cause in cause_ids if not hypotheses or cause in hypotheses]
    order = {cause: position for position, cause in enumerate(wanted)}
    base = pd.DataFrame({
        "position": range(len(articles)),
        "pmid": articles["pmid"].to_numpy(dtype="int64"),
        "year": articles["pub_year"].astype("Int64").to_numpy(),
        "design": articles["design"].astype(object).to_numpy(),
        "species": articles["species"].astype(object).to_numpy(),
        "retracted": articles["retracted"].astype(bool).to_numpy(),
        "hypothesis": articles["hypotheses"].to_numpy(dtype=object),
    }).explode("hypothesis")
    pairs = base[base["hypothesis"].isin(wanted)].copy()
    pairs["cause_position"] = pairs["hypothesis"].map(order)
    details = stances.rename(columns={"hypothesis_id": "hypothesis"})
    merged = pairs.merge(details, on=["pmid", "hypothesis"], how="left")
    merged["stance"] = merged["stance"].astype(object).where(merged["stance"].notna(), UNREAD_STANCE)
    machine = merged["machine_stance"].astype(object) if "machine_stance" in merged else merged["stance"]
    merged["machine_stance"] = machine.where(machine.notna(), merged["stance"])
    merged["reviewed"] = merged["reviewed"].astype("boolean").fillna(False) if "reviewed" in merged else False
    merged["review_disputed"] = (merged["review_disagreement"].astype("boolean").fillna(False)
                                 if "review_disagreement" in merged else False)
    if stance_values:
        merged = merged[merged["stance"].isin(list(stance_values))]
    if evidence_kinds:
        merged = merged[merged["evidence_kind"].isin(list(evidence_kinds))]
    if hedged is not None:
        merged = merged[merged["hedged"].notna() & (merged["hedged"].astype("boolean") == hedged)]
    if confidence is not None:
        merged = merged[merged["confidence"] == confidence]
    merged = merged.sort_values(["position", "cause_position"], kind="stable")
    frame = merged.reindex(columns=list(EVIDENCE_COLUMNS)).reset_index(drop=True)
    frame["year"] = frame["year"].astype("Int64")
    frame["hedged"] = frame["hedged"].astype("boolean")
    frame["reviewed"] = frame["reviewed"].astype(bool)
    frame["review_disputed"] = frame["review_disputed"].astype(bool)
    for name in ("n_patients", "n_controls"):
        frame[name] = frame[name].astype("Int64")
    for name in ("hypothesis", "design", "species", "stance", "reviewer", "reviewed_at", "machine_stance",
                 "confidence", "confidence_reason", "evidence_kind", "section", "sentence", "cue"):
        frame[name] = frame[name].astype(object).where(frame[name].notna(), None)
    frame["pmid"] = frame["pmid"].astype("int64")
    return frame


def evidence_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of `evidence_frame` as plain dicts of JSON values (None for missing)."""
    columns = [frame[name].astype(object).where(frame[name].notna(), None).tolist() for name in EVIDENCE_COLUMNS]
    records = []
    for values in zip(*columns):
        record = dict(zip(EVIDENCE_COLUMNS, values))
        for name in ("pmid", "year", "n_patients", "n_controls"):
            if record[name] is not None:
                record[name] = int(record[name])
        for name in ("hedged", "retracted", "reviewed", "review_disputed"):
            if record[name] is not None:
                record[name] = bool(record[name])
        records.append(record)
    return records


def write_evidence_csv(frames: pd.DataFrame | Iterable[pd.DataFrame], stream: TextIO) -> int:
    """Write `evidence_frame` rows (one frame, or several in turn) as CSV (as safe as the article export); return
    how many rows were written."""
    writer = csv.writer(stream, lineterminator="\r\n")
    writer.writerow(EVIDENCE_COLUMNS)
    count = 0
    for frame in [frames] if isinstance(frames, pd.DataFrame) else frames:
        for record in evidence_records(frame):
            writer.writerow([neutralise_cell(_evidence_cell(record[name])) for name in EVIDENCE_COLUMNS])
            count += 1
    return count


def write_evidence_json(frames: pd.DataFrame | Iterable[pd.DataFrame], stream: TextIO) -> int:
    """Write `evidence_frame` rows (one frame, or several in turn) as a JSON list of objects with EVIDENCE_COLUMNS
    keys, as json.dump(indent=2) writes it, one object at a time; return how many."""
    count = 0
    for frame in [frames] if isinstance(frames, pd.DataFrame) else frames:
        for record in evidence_records(frame):
            text = json.dumps(record, ensure_ascii=False, indent=2)
            stream.write(("[\n  " if count == 0 else ",\n  ") + text.replace("\n", "\n  "))
            count += 1
    stream.write("\n]\n" if count else "[]\n")
    return count


def _evidence_cell(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return _text(value)
