"""`tracker import`: load PubMed's own export files (MEDLINE / .nbib text, PubMed XML) into the store.

All or nothing: every file is parsed to the end before anything is written, then all records are saved in one
transaction, so a malformed file anywhere leaves the store as it was. Each article records its source as
"import:<file name>"; saving is an upsert by PMID, so importing the same file again changes nothing.

Decisions:
- The format is read from the content, not the extension: a file whose first non-blank character is "<" is
  PubMed XML, one that starts with a "TAG - value" line is MEDLINE. A gzip file is refused with the command that
  unpacks it.
- An article the fetch job stored (source "pubmed") is not overwritten by an import: the fetched copy is the
  richer one (MeSH UIs, NLM abstract categories, which MEDLINE text lacks) and the fetch keeps it current. The
  import only records the file as one more source, and the article counts as unchanged.
- Nor does an import replace a stored article (from an earlier import) with a copy that carries less by any of
  `COMPLETENESS_MEASURES` (fewer authors, an abstract or MeSH lost, ...): the stored copy stays, the file is
  recorded as a source, and the article counts as "kept" in the report. A file cut off mid-record is refused by
  the parsers before it gets this far; this catches the fragments that look complete.
- Imported articles are not linked to hypotheses: a link means "PubMed returned it for the hypothesis' query",
  which an import does not show. The tagging's text rules (terms in title, abstract, keywords, MeSH) tag them.
- DeleteCitation entries in an XML file are ignored: only the fetch job, which asked PubMed, removes articles.
- Only regular files (or links to them) are read, checked before the store is opened or its lock taken: a FIFO
  would hold the lock waiting for a writer, and a pipe or terminal given as /dev/stdin would be read as whatever
  arrived. Standard input ("-") is not read either: saved to a file, the records can be imported again.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Iterable, Sequence
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tracker import store
from tracker.config import Hypothesis
from tracker.errors import ConfigError, ParseError
from tracker.pubmed.medline import iter_medline_articles
from tracker.models import Article, Deletion, SizeLimits
from tracker.pubmed.parse import iter_pubmed_records
from tracker.jobs.retag import refresh_tags
from tracker.analysis.tagging import Rules
from tracker.wording import file_kind

# Enough to see past a byte-order mark and blank lines to the first real line of either format.
_SNIFF_SIZE_BYTES = 4096
_GZIP_MAGIC = b"\x1f\x8b"

# What a stored article must not lose to an imported copy: a label for the report and a measure where less is worse.
COMPLETENESS_MEASURES: tuple[tuple[str, Callable[[Article], int]], ...] = (
    ("title", lambda article: int(bool(article.title))),
    ("authors", lambda article: len(article.authors)),
    ("abstract", lambda article: int(bool(article.abstract))),
    ("MeSH headings", lambda article: len(article.mesh)),
    ("publication types", lambda article: len(article.publication_types)),
    ("DOI", lambda article: int(bool(article.doi))),
    ("grants", lambda article: len(article.grants)),
    ("chemicals", lambda article: len(article.chemicals)),
    ("conflict-of-interest statement", lambda article: int(bool(article.coi_statement))),
    ("ORCID iDs", lambda article: sum(1 for author in article.authors if author.orcid)),
)


@dataclass(frozen=True)
class FileImport:
    """What one file held and what saving it did."""

    path: Path
    file_format: str  # "medline" or "xml"
    records_read: int
    # Distinct PMIDs: a record the file repeats counts once.
    new: int
    updated: int
    unchanged: int
    # Stored articles the file's copy would have degraded (see COMPLETENESS_MEASURES), left as they were.
    kept: int = 0
    kept_pmids: tuple[int, ...] = ()


@dataclass(frozen=True)
class ImportReport:
    """Per-file outcomes of one import, and how many articles were (re-)tagged afterwards."""

    files: tuple[FileImport, ...]
    tagged: int
    # The import's line in `tracker status`, which `--new-in-run` names; None when it stored nothing new or changed.
    run_id: int | None = None

    @property
    def new(self) -> int:
        """Articles the store did not hold before."""
        return sum(f.new for f in self.files)

    @property
    def updated(self) -> int:
        """Stored articles whose content changed."""
        return sum(f.updated for f in self.files)

    @property
    def kept(self) -> int:
        """Stored articles left as they were because the file's copy carried less."""
        return sum(f.kept for f in self.files)


def check_import_paths(paths: Sequence[Path]) -> None:
    """Refuse an empty list, and anything but a regular file, before anything is opened for reading or writing."""
    if not paths:
        raise ConfigError("no files to import; give one or more MEDLINE (.nbib, .txt) or PubMed XML files")
    fix = "save the records to a file and import that"
    for path in paths:
        if str(path) == "-":
            raise ConfigError(f"-: standard input is not read; {fix}")
        try:
            mode = os.stat(path).st_mode  # a link is followed: a link to a file is that file
        except OSError as error:
            raise _unreadable(path, error) from None
        if not stat.S_ISREG(mode):
            raise ConfigError(f"{path}: is {file_kind(mode)}, not a regular file; {fix}")


def _unreadable(path: Path, error: OSError) -> ConfigError:
    return ConfigError(f"{path}: cannot be read ({error.strerror}); give the path of a MEDLINE (.nbib, .txt) "
                       f"or PubMed XML file")


def detect_format(path: Path) -> str:
    """Tell MEDLINE text ("medline") from PubMed XML ("xml") by the file's first bytes."""
    try:
        with Path(path).open("rb") as handle:
            head = handle.read(_SNIFF_SIZE_BYTES)
    except OSError as error:
        raise _unreadable(path, error) from None
    if head.startswith(_GZIP_MAGIC):
        raise ParseError(f"{path}: is gzip-compressed; unpack it first (gunzip {path.name}) and import the result")
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n")
    if text.startswith(b"<"):
        return "xml"
    first_line = text.split(b"\n", 1)[0]
    if len(first_line) >= 5 and first_line[:1].isupper() and first_line[4:5] == b"-" and first_line[:4].strip().isalnum():
        return "medline"
    shown = first_line[:40].decode("utf-8", errors="replace")
    raise ParseError(f"{path}: is neither MEDLINE text (lines like \"PMID- 12345\") nor PubMed XML (starting with "
                     f"\"<\"); it begins {shown!r} — save the search from PubMed with Send to → Citation manager, "
                     f"or as PubMed XML")


def read_import_file(path: Path, limits: SizeLimits = SizeLimits()) -> tuple[str, list[Article]]:
    """Parse one whole file into Articles; return its format with them."""
    file_format = detect_format(path)
    if file_format == "medline":
        return file_format, list(iter_medline_articles(path, limits))
    with Path(path).open("rb") as handle:
        articles = [record for record in iter_pubmed_records(handle, limits) if not isinstance(record, Deletion)]
    if not articles:
        raise ParseError(f"{path}: holds no PubmedArticle, PubmedBookArticle or MedlineCitation records; save the "
                         f"search from PubMed again, or check that this is the file you meant")
    return file_format, articles


def degraded_fields(stored: Article, incoming: Article) -> list[str]:
    """The labels of COMPLETENESS_MEASURES by which `incoming` carries less than `stored`."""
    return [label for label, measure in COMPLETENESS_MEASURES if measure(incoming) < measure(stored)]


def import_files(connection: sqlite3.Connection, paths: Sequence[Path],
                 hypotheses: Iterable[Hypothesis] | Rules, limits: SizeLimits = SizeLimits()) -> ImportReport:
    """Import MEDLINE and PubMed XML files all or nothing, then tag the articles that are new or changed."""
    check_import_paths(paths)
    started_at = store.utc_now()
    parsed = [(Path(path), *read_import_file(Path(path), limits)) for path in paths]
    now = store.utc_now()
    reports: list[FileImport] = []
    changed: set[int] = set()
    run_changes: dict[int, str] = {}  # new wins over updated: a file may repeat what an earlier one added
    run_id: int | None = None
    with store.transaction(connection):
        for path, file_format, articles in parsed:
            # One save per PMID, its last copy in the file (what upserting every copy would leave): a repeated
            # record would otherwise report a new article as "unchanged", the outcome of its second save.
            by_pmid = {article.pmid: article for article in articles}
            fetched = store.pmids_from_source(connection, by_pmid, "pubmed")
            stored = store.stored_pmids(connection, by_pmid)
            to_save: list[Article] = []
            kept: list[int] = []
            for pmid, article in by_pmid.items():
                if pmid in stored:
                    stored_article = store.load_article(connection, pmid)
                    # A fetched article, or one the file would degrade, is re-saved as stored: unchanged, with this
                    # file added to its sources.
                    if pmid in fetched:
                        article = stored_article
                    elif degraded_fields(stored_article, article):
                        article = stored_article
                        kept.append(pmid)
                to_save.append(article)
            outcomes = store.save_articles(connection, to_save, source=f"import:{path.name}", now=now)
            counts = {outcome: 0 for outcome in ("new", "updated", "unchanged")}
            for outcome in outcomes.values():
                counts[outcome] += 1
            counts["unchanged"] -= len(kept)
            changed.update(pmid for pmid, outcome in outcomes.items() if outcome != "unchanged")
            run_changes.update((pmid, outcome) for pmid, outcome in outcomes.items()
                               if outcome != "unchanged" and run_changes.get(pmid) != "new")
            reports.append(FileImport(path=path, file_format=file_format, records_read=len(articles), **counts,
                                      kept=len(kept), kept_pmids=tuple(sorted(kept))))
        # An import that stored nothing new or changed leaves no run: importing a file again changes nothing.
        if run_changes:
            run_id = store.record_import_run(connection, [path.name for path, _, _ in parsed], started_at)
            store.record_run_articles(connection, run_id, run_changes)
        # Inside the same transaction: articles and their tags commit together.
        rules = hypotheses if isinstance(hypotheses, Rules) else tuple(hypotheses)
        tagged = refresh_tags(connection, rules, sorted(changed))
    return ImportReport(files=tuple(reports), tagged=tagged, run_id=run_id)


