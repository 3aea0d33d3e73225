"""Article records and their links: upserts by PMID with a content hash, sources, hypothesis links."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence

import numpy as np

from tracker.models import AbstractSection, Article, Author, Chemical, Correction, Grant, MeshHeading, MeshQualifier
from tracker.store.connection import utc_now


def json_text(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


# Hand-written, not dataclasses.asdict(): asdict deep-copies every field and was a third of a fetch's CPU time.
def _section_dict(section: AbstractSection) -> dict[str, object]:
    return {"text": section.text, "label": section.label, "nlm_category": section.nlm_category}


def _author_dict(author: Author) -> dict[str, object]:
    fields: dict[str, object] = {
        "last_name": author.last_name, "fore_name": author.fore_name, "initials": author.initials,
        "collective_name": author.collective_name, "affiliations": list(author.affiliations)}
    # Only when known: an author without one is stored (and hashed) as before ORCID iDs were kept.
    if author.orcid:
        fields["orcid"] = author.orcid
    return fields


def _mesh_dict(heading: MeshHeading) -> dict[str, object]:
    return {"descriptor": heading.descriptor, "ui": heading.ui, "major": heading.major,
            "qualifiers": [{"name": q.name, "major": q.major} for q in heading.qualifiers]}


def _correction_dict(correction: Correction) -> dict[str, object]:
    return {"ref_type": correction.ref_type, "pmid": correction.pmid, "ref_source": correction.ref_source}


def _grant_dict(grant: Grant) -> dict[str, object]:
    return {"grant_id": grant.grant_id, "agency": grant.agency, "country": grant.country}


def _chemical_dict(chemical: Chemical) -> dict[str, object]:
    return {"name": chemical.name, "registry_number": chemical.registry_number}


# Columns added after the first release, with the value that means "none": the content hash leaves them out when
# they hold it, so an article that has none of them keeps the hash it had before they existed (a re-fetch marks
# only the articles that gained something as updated).
_LATER_COLUMNS = {"comments": "[]", "grants": "[]", "coi_statement": None, "chemicals": "[]",
                  "publication_status": None}


def _article_row(article: Article) -> dict[str, object]:
    row: dict[str, object] = {
        "pmid": article.pmid,
        "kind": article.kind,
        "title": article.title,
        "abstract": article.abstract_text,
        "abstract_sections": json_text([_section_dict(s) for s in article.abstract]),
        "copyright": article.copyright,
        "journal": article.journal,
        "journal_iso": article.journal_iso,
        "volume": article.volume,
        "issue": article.issue,
        "pages": article.pages,
        "pub_year": article.pub_year,
        "pub_month": article.pub_month,
        "pub_day": article.pub_day,
        "pub_date_raw": article.pub_date_raw,
        "electronic_date": article.electronic_date,
        "entry_date": article.entry_date,
        "revised_date": article.revised_date,
        "authors": json_text([_author_dict(a) for a in article.authors]),
        "author_names": "; ".join(a.display_name for a in article.authors),
        "doi": article.doi,
        "pmcid": article.pmcid,
        "languages": json_text(list(article.languages)),
        "publication_types": json_text(list(article.publication_types)),
        "mesh": json_text([_mesh_dict(m) for m in article.mesh]),
        "keywords": json_text(list(article.keywords)),
        "corrections": json_text([_correction_dict(c) for c in article.corrections]),
        "comments": json_text([_correction_dict(c) for c in article.comments]),
        "grants": json_text([_grant_dict(g) for g in article.grants]),
        "coi_statement": article.coi_statement,
        "chemicals": json_text([_chemical_dict(c) for c in article.chemicals]),
        "publication_status": article.publication_status,
    }
    hashed = {key: value for key, value in row.items()
              if key not in _LATER_COLUMNS or value != _LATER_COLUMNS[key]}
    row["content_hash"] = hashlib.sha256(json_text(hashed).encode()).hexdigest()[:32]
    return row


_ARTICLE_COLUMNS = list(_article_row(Article(pmid=0, title="")).keys())


def save_articles(
    connection: sqlite3.Connection, articles: Iterable[Article], source: str, now: str | None = None
) -> dict[int, str]:
    """Upsert articles by PMID and record where they came from; return each PMID's outcome.

    The outcome is "new", "updated" (its content changed) or "unchanged". Call inside `transaction()`.
    """
    now = now or utc_now()
    outcomes: dict[int, str] = {}
    for article in articles:
        row = _article_row(article)
        existing = connection.execute("SELECT content_hash FROM articles WHERE pmid = ?", (article.pmid,)).fetchone()
        if existing is None:
            columns = _ARTICLE_COLUMNS + ["first_seen", "last_changed"]
            connection.execute(
                f"INSERT INTO articles ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                [row[c] for c in _ARTICLE_COLUMNS] + [now, now],
            )
            outcomes[article.pmid] = "new"
        elif existing["content_hash"] != row["content_hash"]:
            assignments = ", ".join(f"{c} = ?" for c in _ARTICLE_COLUMNS if c != "pmid")
            connection.execute(
                f"UPDATE articles SET {assignments}, last_changed = ? WHERE pmid = ?",
                [row[c] for c in _ARTICLE_COLUMNS if c != "pmid"] + [now, article.pmid],
            )
            outcomes[article.pmid] = "updated"
        else:
            outcomes[article.pmid] = "unchanged"
        connection.execute(
            "INSERT OR IGNORE INTO article_sources (pmid, source, first_seen) VALUES (?, ?, ?)",
            (article.pmid, source, now),
        )
    return outcomes


def delete_articles(connection: sqlite3.Connection, pmids: Iterable[int]) -> int:
    """Remove withdrawn PMIDs with their links; return how many were stored."""
    removed = 0
    for pmid in pmids:
        removed += connection.execute("DELETE FROM articles WHERE pmid = ?", (pmid,)).rowcount
    return removed


# PMIDs bound per "IN (...)" query: SQLite before 3.32 refuses a statement with more than 999 variables.
PMIDS_PER_QUERY = 500


def stored_pmids(connection: sqlite3.Connection, pmids: Iterable[int] | None = None) -> set[int]:
    """The PMIDs in the store, all of them or those of `pmids` that are stored."""
    if pmids is None:
        return {row[0] for row in connection.execute("SELECT pmid FROM articles")}
    return _pmids_where(connection, "SELECT pmid FROM articles WHERE pmid IN ({marks})", (), pmids)


def load_stored_pmids(connection: sqlite3.Connection) -> np.ndarray:
    """Every stored PMID, ascending, as an int64 array: 8 bytes an article, where a set of ints takes about 60."""
    return pmid_array(connection, "SELECT pmid FROM articles ORDER BY pmid", ())


def pmid_array(connection: sqlite3.Connection, sql: str, parameters: tuple) -> np.ndarray:
    """The first column of a query's rows (PMIDs) as an int64 array."""
    cursor = connection.cursor()
    cursor.row_factory = None
    return np.fromiter((row[0] for row in cursor.execute(sql, parameters)), dtype="int64")


def pmids_from_source(connection: sqlite3.Connection, pmids: Iterable[int], source: str) -> set[int]:
    """Those of `pmids` that came from `source` ("pubmed" for the fetch job, "import:<file name>")."""
    return _pmids_where(connection, "SELECT pmid FROM article_sources WHERE source = ? AND pmid IN ({marks})",
                        (source,), pmids)


def _pmids_where(connection: sqlite3.Connection, sql: str, parameters: tuple, pmids: Iterable[int]) -> set[int]:
    wanted = list(pmids)
    found: set[int] = set()
    for start in range(0, len(wanted), PMIDS_PER_QUERY):
        chunk = wanted[start:start + PMIDS_PER_QUERY]
        found.update(row[0] for row in connection.execute(sql.format(marks=", ".join("?" * len(chunk))),
                                                          (*parameters, *chunk)))
    return found


def orphan_pmids(connection: sqlite3.Connection) -> set[int]:
    """Fetched articles that no hypothesis links to any more; an imported one is never an orphan (a user chose it)."""
    return {row[0] for row in connection.execute(
        "SELECT a.pmid FROM articles a WHERE NOT EXISTS (SELECT 1 FROM hypothesis_articles h WHERE h.pmid = a.pmid)"
        " AND NOT EXISTS (SELECT 1 FROM article_sources s WHERE s.pmid = a.pmid AND s.source != 'pubmed')")}


# Articles read per batch for citation keys: a few columns each, so ten times a catalogue batch.
KEY_FIELDS_BATCH_SIZE = 20_000


def iter_citation_key_fields(connection: sqlite3.Connection,
                             pmids: Sequence[int]) -> Iterator[list[tuple[int, str, int | None, dict | None]]]:
    """(pmid, title, pub_year, first author as a dict or None) of `pmids`, a batch at a time in no set order: what
    a BibTeX key is made of, read without the rest of the row."""
    cursor = connection.cursor()
    cursor.row_factory = None
    for start in range(0, len(pmids), KEY_FIELDS_BATCH_SIZE):
        batch = [int(pmid) for pmid in pmids[start:start + KEY_FIELDS_BATCH_SIZE]]
        # A JSON table of the PMIDs, not one "?" each: SQLite caps a statement's parameters.
        rows = cursor.execute(
            "SELECT a.pmid, a.title, a.pub_year, json_extract(a.authors, '$[0]') FROM json_each(?) w "
            "JOIN articles a ON a.pmid = w.value", (json.dumps(batch),)).fetchall()
        yield [(pmid, title, pub_year, None if first is None else json.loads(first))
               for pmid, title, pub_year, first in rows]


def load_revised_date(connection: sqlite3.Connection, pmid: int) -> str | None:
    """When PubMed last revised the stored article's record (its DateRevised), or None."""
    row = connection.execute("SELECT revised_date FROM articles WHERE pmid = ?", (int(pmid),)).fetchone()
    return row[0] if row else None


def article_from_row(row: sqlite3.Row | dict) -> Article:
    """Rebuild an Article from its stored row."""
    mesh = tuple(
        MeshHeading(descriptor=m["descriptor"], ui=m["ui"], major=m["major"],
                    qualifiers=tuple(MeshQualifier(**q) for q in m["qualifiers"]))
        for m in json.loads(row["mesh"])
    )
    authors = tuple(
        Author(**{**a, "affiliations": tuple(a["affiliations"])}) for a in json.loads(row["authors"])
    )
    return Article(
        pmid=row["pmid"], title=row["title"], kind=row["kind"],
        abstract=tuple(AbstractSection(**s) for s in json.loads(row["abstract_sections"])),
        copyright=row["copyright"], journal=row["journal"], journal_iso=row["journal_iso"],
        volume=row["volume"], issue=row["issue"], pages=row["pages"],
        pub_year=row["pub_year"], pub_month=row["pub_month"], pub_day=row["pub_day"],
        pub_date_raw=row["pub_date_raw"], electronic_date=row["electronic_date"],
        entry_date=row["entry_date"], revised_date=row["revised_date"], authors=authors,
        doi=row["doi"], pmcid=row["pmcid"], languages=tuple(json.loads(row["languages"])),
        publication_types=tuple(json.loads(row["publication_types"])), mesh=mesh,
        keywords=tuple(json.loads(row["keywords"])),
        corrections=tuple(Correction(**c) for c in json.loads(row["corrections"])),
        comments=tuple(Correction(**c) for c in json.loads(row["comments"])),
        grants=tuple(Grant(**g) for g in json.loads(row["grants"])),
        coi_statement=row["coi_statement"],
        chemicals=tuple(Chemical(**c) for c in json.loads(row["chemicals"])),
        publication_status=row["publication_status"],
    )


def load_article(connection: sqlite3.Connection, pmid: int) -> Article | None:
    """One stored article, or None."""
    row = connection.execute("SELECT * FROM articles WHERE pmid = ?", (pmid,)).fetchone()
    return None if row is None else article_from_row(row)


# --- hypothesis links ------------------------------------------------------------------------------------------

def linked_pmids(connection: sqlite3.Connection, hypothesis_id: str) -> set[int]:
    """The PMIDs PubMed returned for this hypothesis at its last sync (and those added since)."""
    return {row[0] for row in connection.execute(
        "SELECT pmid FROM hypothesis_articles WHERE hypothesis_id = ?", (hypothesis_id,))}


def hypotheses_of(connection: sqlite3.Connection, pmids: Iterable[int]) -> dict[int, set[str]]:
    """The hypotheses each of these PMIDs is linked to; a PMID without a link is left out."""
    wanted = list(pmids)
    links: dict[int, set[str]] = {}
    for start in range(0, len(wanted), PMIDS_PER_QUERY):
        chunk = wanted[start:start + PMIDS_PER_QUERY]
        for pmid, hypothesis_id in connection.execute(
                f"SELECT pmid, hypothesis_id FROM hypothesis_articles WHERE pmid IN ({', '.join('?' * len(chunk))})",
                chunk):
            links.setdefault(pmid, set()).add(hypothesis_id)
    return links


def link_hypothesis(connection: sqlite3.Connection, hypothesis_id: str, pmids: Iterable[int], now: str) -> None:
    """Record that PubMed returns these PMIDs for the hypothesis (first seen kept, last seen moved on)."""
    connection.executemany(
        "INSERT INTO hypothesis_articles (hypothesis_id, pmid, first_seen, last_seen) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (hypothesis_id, pmid) DO UPDATE SET last_seen = excluded.last_seen",
        [(hypothesis_id, pmid, now, now) for pmid in pmids],
    )


def unlink_hypothesis(connection: sqlite3.Connection, hypothesis_id: str, pmids: Iterable[int]) -> None:
    """Drop the hypothesis link of PMIDs that its query no longer returns."""
    connection.executemany(
        "DELETE FROM hypothesis_articles WHERE hypothesis_id = ? AND pmid = ?",
        [(hypothesis_id, pmid) for pmid in pmids],
    )
