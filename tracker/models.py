"""The records that flow from the parsers to the store: one `Article` per PubMed citation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Author:
    """A person (last name, fore name, initials) or a collective (group) author, with affiliations."""

    last_name: str | None = None
    fore_name: str | None = None
    initials: str | None = None
    collective_name: str | None = None
    affiliations: tuple[str, ...] = ()
    # The bare "0000-0002-1825-0097" form (checksum verified), whatever form PubMed gave it in.
    orcid: str | None = None

    @property
    def display_name(self) -> str:
        """"Smith JA" for a person, the group's name for a collective."""
        if self.collective_name:
            return self.collective_name
        return " ".join(part for part in (self.last_name, self.initials or self.fore_name) if part)


@dataclass(frozen=True)
class AbstractSection:
    """One AbstractText: a structured abstract has several, each with a label such as "METHODS"."""

    text: str
    label: str | None = None
    nlm_category: str | None = None


@dataclass(frozen=True)
class MeshQualifier:
    name: str
    major: bool = False


@dataclass(frozen=True)
class MeshHeading:
    """A MeSH descriptor with its qualifiers; `major` is the descriptor's own major-topic flag."""

    descriptor: str
    ui: str | None = None
    major: bool = False
    qualifiers: tuple[MeshQualifier, ...] = ()


@dataclass(frozen=True)
class Correction:
    """A CommentsCorrections link such as RetractionIn or ErratumIn, to the PMID of the other notice."""

    ref_type: str
    pmid: int | None = None
    ref_source: str | None = None


@dataclass(frozen=True)
class Grant:
    """A funding line: the grant number (absent for many non-NIH funders), the funder and its country."""

    grant_id: str | None = None
    agency: str | None = None
    country: str | None = None


@dataclass(frozen=True)
class Chemical:
    """A substance NLM indexed the article for, with its registry number ("0" where it has none)."""

    name: str
    registry_number: str | None = None


# The CommentsCorrections types kept as comments: another article discussing this one, or the one this discusses.
COMMENT_TYPES = frozenset({"CommentIn", "CommentOn"})

# The CommentsCorrections types kept as corrections; comments are kept apart, the rest (Cites, ...) dropped.
KEPT_CORRECTION_TYPES = frozenset(
    {"RetractionIn", "RetractionOf", "ErratumIn", "ErratumFor", "ExpressionOfConcernIn", "ExpressionOfConcernFor",
     "UpdateIn", "UpdateOf", "RepublishedIn", "RepublishedFrom"}
)


@dataclass(frozen=True)
class Article:
    """One PubMed citation (journal article or book record) as the tracker stores it.

    Dates are ISO strings ("2019-11-04"); a partial publication date keeps what is known in
    pub_year / pub_month / pub_day and the text PubMed gave in pub_date_raw.
    """

    pmid: int
    title: str
    kind: str = "journal"  # "journal" or "book"
    abstract: tuple[AbstractSection, ...] = ()
    copyright: str | None = None
    journal: str | None = None
    journal_iso: str | None = None
    volume: str | None = None
    issue: str | None = None
    pages: str | None = None
    pub_year: int | None = None
    pub_month: int | None = None
    pub_day: int | None = None
    pub_date_raw: str | None = None
    electronic_date: str | None = None
    entry_date: str | None = None
    revised_date: str | None = None
    authors: tuple[Author, ...] = ()
    doi: str | None = None
    pmcid: str | None = None
    languages: tuple[str, ...] = ()
    publication_types: tuple[str, ...] = ()
    mesh: tuple[MeshHeading, ...] = ()
    keywords: tuple[str, ...] = ()
    corrections: tuple[Correction, ...] = ()
    # CommentIn / CommentOn links, as Correction records with those ref types.
    comments: tuple[Correction, ...] = ()
    grants: tuple[Grant, ...] = ()
    coi_statement: str | None = None
    chemicals: tuple[Chemical, ...] = ()
    # PubMed's "ppublish" (in print), "epublish" (online only) or "aheadofprint".
    publication_status: str | None = None

    @property
    def abstract_text(self) -> str:
        """The abstract as plain text, each structured section on its own paragraph as "LABEL: text"."""
        return "\n\n".join(f"{s.label}: {s.text}" if s.label else s.text for s in self.abstract)


@dataclass(frozen=True)
class Deletion:
    """A DeleteCitation entry: PubMed withdrew this PMID, so the store drops it."""

    pmid: int


# What an (article, cause) stance can be, in the order charts stack them (the `stances` table checks the same).
STANCES: tuple[str, ...] = ("supports", "contradicts", "mixed", "no_finding")
# The kind of study the deciding sentence reports.
EVIDENCE_KINDS: tuple[str, ...] = ("comparison", "association", "intervention", "review", "other")
# How a tagged pair the stance reader has not read yet counts (a store tagged before stance existed, until
# `tracker retag` or the next fetch reads it).
UNREAD_STANCE = "no_finding"
# How sure a stance reading is (the `stances` table checks the same): "low" readings carry their reason and are
# counted apart from the "high" ones.
CONFIDENCES: tuple[str, ...] = ("high", "low")


@dataclass(frozen=True)
class SizeLimits:
    """The largest field and record the parsers accept: bytes of XML, characters of MEDLINE text.

    PubMed's longest abstracts are tens of thousands of characters and its largest records (thousands of authors
    with affiliations) a few megabytes, so a field of 1 MB or a record of 64 MB is damage or an attack, refused
    while the text streams in, before a string of that size is built.
    """

    field: int = 1_000_000
    record: int = 64_000_000


@dataclass(frozen=True)
class RunHistory:
    """Every run with what it stored first and what it changed: what the "new in run" filters read.

    `runs`: id, kind, status, started_at, finished_at, files (a list, empty for a fetch), error, new_count and
    changed_count (this run's own rows), oldest first. `changes`: run_id, pmid, change ("new" or "changed").
    Read them, never mutate them: a dashboard cache shares them between reruns.
    """

    runs: pd.DataFrame
    changes: pd.DataFrame


@dataclass(frozen=True)
class ArticleFilter:
    """A `Selection` resolved to what the store's query tests (`store.select_pmids`): run choices as run ids,
    species as the values kept, dates as the store's timestamps.

    Empty tuples and None mean "no condition". `retracted` is "exclude", "include" or "only"; `run_changes`
    pairs the ids of runs with the change ("new" or "changed") an article must have in one of them, each pair a
    condition of its own; `stances`, `stance_confidence`, `evidence_kinds` and `hedged` are tested on one stance
    row together (reviews applied), of one of `stance_hypotheses` when given.
    """

    hypotheses: tuple[str, ...] = ()
    from_year: int | None = None
    to_year: int | None = None
    designs: tuple[str, ...] = ()
    species: tuple[str, ...] = ()
    retracted: str = "exclude"
    first_seen_from: str | None = None
    run_changes: tuple[tuple[tuple[int, ...], str], ...] = ()
    text: str | None = None
    stances: tuple[str, ...] = ()
    stance_hypotheses: tuple[str, ...] = ()
    stance_confidence: str | None = None
    evidence_kinds: tuple[str, ...] = ()
    hedged: bool | None = None
