"""Tag articles with hypotheses, study design, species and integrity flags: pure pandas, no I/O.

The input is an articles DataFrame as `store.load_articles_frame` returns it: pmid, title, abstract, keywords,
mesh_terms, publication_types, corrections and, optionally, query_hypotheses (the hypotheses whose PubMed query
returned the article). `tag_articles` turns it into a tags frame (one row per article × hypothesis, with the terms
that matched and where) and a facets frame (one row per article: design, species, in vitro, integrity flags).

Matching. Each hypothesis' terms compile once (`compile_rules`) into one alternation that runs over whole columns
with `Series.str.findall`, one pass per field for all hypotheses together. Text and terms are both lower-cased,
Greek letters are spelled out ("α" → "alpha") and Unicode hyphens become "-", so "TNF-α" matches "TNF-alpha" and
the other way round. Inside a term, a space or hyphen, and the step between letters and digits, match a space, a
hyphen or nothing: "heart rate variability" finds "heart-rate variability", "IGF-1" finds "IGF1" and "IGF 1".
A term matches only as a whole word: "ATP" does not fire in "ATPase", "sympathetic" not in "sympathy", "5-HT" not
in "5-HTT" (the serotonin transporter is its own term). Plurals are not implied: list them. A term written
"re:PATTERN" is a regular expression (case-insensitive, on word boundaries) over the normalised text.
An abbreviation never stands for a term by itself: "SP" tags Substance P only where the same text defines it,
as in "substance P (SP)" — and such a text already carries the full term; the title's later "SP" is then
recorded as a match of the defined abbreviation.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd

from tracker.config import Hypothesis
from tracker.errors import ConfigError

DESIGNS: tuple[str, ...] = (
    "meta_analysis", "systematic_review", "rct", "clinical_trial", "cohort", "case_control", "observational",
    "case_report", "narrative_review", "editorial", "other",
)
DESIGN_LABELS: dict[str, str] = {
    "meta_analysis": "Meta-analysis",
    "systematic_review": "Systematic review",
    "rct": "Randomised controlled trial",
    "clinical_trial": "Other clinical trial",
    "cohort": "Cohort study",
    "case_control": "Case-control study",
    "observational": "Cross-sectional / other observational",
    "case_report": "Case report",
    "narrative_review": "Narrative review",
    "editorial": "Editorial / letter / comment",
    "other": "Other",
}
SPECIES: tuple[str, ...] = ("human", "animal", "both", "unknown")
FIELDS: tuple[str, ...] = ("title", "abstract", "keywords", "mesh")
FACET_COLUMNS: tuple[str, ...] = (
    "design", "species", "in_vitro", "retracted", "retraction_notice", "has_erratum", "expression_of_concern",
)
TAG_SOURCES: tuple[str, ...] = ("query", "text", "query+text")

# Bump when the matcher or the design / species / integrity rules in this module change, so that every stored
# tag counts as made by other rules and the next fetch or `tracker retag` redoes it.
CODE_RULES_VERSION = "2026-11-25.1"

_GREEK_NAMES = {
    "α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "ζ": "zeta", "η": "eta", "θ": "theta",
    "ι": "iota", "κ": "kappa", "λ": "lambda", "μ": "mu", "µ": "mu", "ν": "nu", "ξ": "xi", "ο": "omicron",
    "π": "pi", "ρ": "rho", "σ": "sigma", "ς": "sigma", "τ": "tau", "υ": "upsilon", "φ": "phi", "ϕ": "phi",
    "χ": "chi", "ψ": "psi", "ω": "omega",
}
# Hyphen look-alikes and the no-break space that PubMed abstracts carry, folded so that one pattern finds them all.
_TEXT_FOLDING = str.maketrans({
    **_GREEK_NAMES, "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2212": "-",
    "\u00a0": " ", "\u202f": " ", "\u2009": " ",
})
_JOINER = r"[\s\-]?"
_TERM_SPLIT = re.compile(r"[\s\-]+|(?<=[a-z])(?=[0-9])|(?<=[0-9])(?=[a-z])")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_IN_VITRO = re.compile(r"(?<!\w)in[\s\-]?vitro(?!\w)")
# "substance p (sp)": a term followed by its abbreviation in brackets, 2-10 letters, digits or hyphens.
_DEFINITION_TAIL = r"\s*[(\[]\s*([a-z][a-z0-9\-]{1,9})\s*[)\]]"

_DESIGN_PUBLICATION_TYPES: dict[str, frozenset[str]] = {
    "meta_analysis": frozenset({"Meta-Analysis", "Network Meta-Analysis"}),
    # A scoping review searches systematically even when it does not pool results.
    "systematic_review": frozenset({"Systematic Review", "Scoping Review"}),
    "rct": frozenset({"Randomized Controlled Trial", "Randomized Controlled Trial, Veterinary"}),
    "clinical_trial": frozenset({
        "Clinical Trial", "Clinical Trial, Phase I", "Clinical Trial, Phase II", "Clinical Trial, Phase III",
        "Clinical Trial, Phase IV", "Controlled Clinical Trial", "Pragmatic Clinical Trial", "Equivalence Trial",
        "Adaptive Clinical Trial", "Clinical Trial, Veterinary",
    }),
    "case_report": frozenset({"Case Reports"}),
    "narrative_review": frozenset({
        "Review", "Practice Guideline", "Guideline", "Consensus Development Conference",
        "Consensus Development Conference, NIH",
    }),
    "editorial": frozenset({"Editorial", "Letter", "Comment", "News", "Newspaper Article", "Interview", "Lecture",
                            "Address"}),
    "observational": frozenset({"Observational Study", "Observational Study, Veterinary", "Comparative Study",
                                "Multicenter Study", "Twin Study", "Validation Study", "Evaluation Study",
                                "Clinical Study"}),
}
_DESIGN_MESH: dict[str, frozenset[str]] = {
    # Retrospective studies are indexed mostly for retrospective cohorts; case-control studies have their own term.
    "cohort": frozenset({"Cohort Studies", "Prospective Studies", "Longitudinal Studies", "Follow-Up Studies",
                         "Retrospective Studies"}),
    "case_control": frozenset({"Case-Control Studies", "Matched-Pair Analysis"}),
    "observational": frozenset({"Cross-Sectional Studies", "Prevalence", "Health Surveys", "Observational Studies as Topic"}),
}
# Order of precedence. Synthesis and trial publication types come first; then the article forms (case report,
# review, editorial), because a review indexed with "Cohort Studies" describes its subject, not its own design;
# then the observational designs from MeSH and publication types.
_DESIGN_PRECEDENCE = ("meta_analysis", "systematic_review", "rct", "clinical_trial", "case_report",
                      "narrative_review", "editorial", "cohort", "case_control", "observational")

# The age groups are MeSH check tags used for people only, so they say "human" as clearly as Humans does.
_HUMAN_MESH = frozenset({"humans", "adult", "aged", "aged, 80 and over", "middle aged", "young adult", "adolescent",
                         "child", "child, preschool", "infant", "infant, newborn"})
_ANIMAL_MESH = re.compile(
    r"^(?:animals|rats?|mice|mice, [^;]*|rats, [^;]*|disease models, animal|dogs|cats|swine|horses|cattle|sheep|"
    r"rabbits|guinea pigs|primates|macaca(?: [a-z]+)?|zebrafish|drosophila(?: [a-z]+)?|cricetinae|mesocricetus)$"
)
_IN_VITRO_MESH = frozenset({"in vitro techniques", "cells, cultured"})


@dataclass(frozen=True)
class Term:
    """One tagging term of one hypothesis, compiled on word boundaries over normalised text."""

    hypothesis_id: str
    text: str
    pattern: re.Pattern[str]


@dataclass(frozen=True)
class Rules:
    """The compiled tagging rules of a hypotheses file; `version` is what stored tags are stamped with."""

    hypothesis_ids: tuple[str, ...]
    terms: tuple[Term, ...]
    combined: re.Pattern[str] | None
    definitions: tuple[tuple[int, re.Pattern[str]], ...]
    version: str


class TagResult(NamedTuple):
    """What `tag_articles` returns: tags (pmid, hypothesis_id, source, matched_terms) and per-article facets."""

    tags: pd.DataFrame
    facets: pd.DataFrame
    rules_version: str


def normalise_text(texts: pd.Series) -> pd.Series:
    """Lower-case a column of text and fold Greek letters and hyphen look-alikes as the matcher expects."""
    lowered = texts.astype(object).where(texts.notna(), "").astype(str).str.lower().astype(object)
    has_non_ascii = lowered.str.contains(_NON_ASCII)
    if has_non_ascii.any():
        lowered.loc[has_non_ascii] = lowered.loc[has_non_ascii].str.translate(_TEXT_FOLDING)
    return lowered


def _term_body(hypothesis_id: str, term: str) -> str:
    """The regular expression of one term, without its word boundaries."""
    if term.startswith("re:"):
        body = term[3:]
        try:
            compiled = re.compile(body)
        except re.error as error:
            raise ConfigError(
                f'hypotheses: [{hypothesis_id}] term "{term}" is not a valid pattern ({error}); '
                f'fix the regular expression or drop the "re:" prefix to match the words literally') from None
        if compiled.match(""):
            raise ConfigError(f'hypotheses: [{hypothesis_id}] term "{term}" matches empty text; '
                              f'make the pattern require at least one character')
        # Text is lower-cased before matching: the inline flag keeps an upper-case pattern working.
        return f"(?i:{body})"
    tokens = [token for token in _TERM_SPLIT.split(term.lower().translate(_TEXT_FOLDING)) if token]
    if not tokens:
        raise ConfigError(f'hypotheses: [{hypothesis_id}] term "{term}" has no letters or digits; remove it')
    return _JOINER.join(re.escape(token) for token in tokens)


def _bounded(body: str) -> str:
    return rf"(?<!\w)(?:{body})(?!\w)"


def compile_rules(hypotheses: Sequence[Hypothesis]) -> Rules:
    """Compile every hypothesis' terms once; raise ConfigError naming a hypothesis and a term that is not valid."""
    terms: list[Term] = []
    bodies: list[str] = []
    definitions: list[tuple[int, re.Pattern[str]]] = []
    for hypothesis in hypotheses:
        seen_bodies: set[str] = set()
        for term in hypothesis.terms:
            body = _term_body(hypothesis.id, term)
            # "neurokinin-1" and "neurokinin 1" are one rule here: report the first spelling only.
            if body in seen_bodies:
                continue
            seen_bodies.add(body)
            terms.append(Term(hypothesis.id, term, re.compile(_bounded(body))))
            bodies.append(body)
            # Only phrases get abbreviations worth following: "substance P (SP)", not "ATP (adenosine ...)".
            if not term.startswith("re:") and _JOINER in body:
                definitions.append((len(terms) - 1, re.compile(rf"(?<!\w)(?:{body}){_DEFINITION_TAIL}")))
    # Longest first, so that where two terms start at one place the longer one is the match reported.
    ordered = sorted(set(bodies), key=lambda body: (-len(body), body))
    combined = re.compile(_bounded("|".join(ordered))) if ordered else None
    fingerprint = json.dumps(
        [CODE_RULES_VERSION, [[h.id, h.baseline, list(h.terms)] for h in hypotheses]], ensure_ascii=False)
    return Rules(
        hypothesis_ids=tuple(h.id for h in hypotheses),
        terms=tuple(terms),
        combined=combined,
        definitions=tuple(definitions),
        version=hashlib.sha256(fingerprint.encode()).hexdigest()[:12],
    )


def rules_version(hypotheses: Sequence[Hypothesis]) -> str:
    """A short hash of the hypotheses' terms and of this module's design and species rules."""
    return compile_rules(hypotheses).version


def _joined(frame: pd.DataFrame, column: str) -> pd.Series:
    """A list column as one "; "-separated string per row, so a term never spans two entries."""
    if column not in frame:
        return pd.Series("", index=frame.index, dtype=object)
    return frame[column].map(lambda values: "; ".join(values) if isinstance(values, (list, tuple)) else "")


def _field_texts(frame: pd.DataFrame) -> dict[str, pd.Series]:
    return {
        "title": normalise_text(frame["title"]),
        "abstract": normalise_text(frame["abstract"]) if "abstract" in frame else pd.Series("", index=frame.index),
        "keywords": normalise_text(_joined(frame, "keywords")),
        "mesh": normalise_text(_joined(frame, "mesh_terms")),
    }


def _text_matches(texts: dict[str, pd.Series], rules: Rules) -> pd.DataFrame:
    """Rows (row, field, term) for every term found in a field, one scan of each field for all hypotheses."""
    pieces: list[pd.DataFrame] = []
    if rules.combined is not None:
        for field, column in texts.items():
            found = column.str.findall(rules.combined)
            found = found[found.str.len() > 0].explode()
            if not found.empty:
                pieces.append(pd.DataFrame({"row": found.index, "field": field, "match": found.to_numpy()}))
    if not pieces:
        return pd.DataFrame({"row": pd.Series(dtype="int64"), "field": pd.Series(dtype=object),
                             "term": pd.Series(dtype="int64")})
    matches = pd.concat(pieces, ignore_index=True)
    # The distinct matched strings are few; resolving each once to every term inside it (a longer term can hold
    # another hypothesis' shorter one: "childhood trauma" holds "trauma") costs nothing per article.
    resolved = {
        text: [index for index, term in enumerate(rules.terms) if term.pattern.search(text)]
        for text in matches["match"].unique()
    }
    matches["term"] = matches["match"].map(resolved)
    matches = matches.explode("term").dropna(subset=["term"])
    matches["term"] = matches["term"].astype("int64")
    return matches[["row", "field", "term"]]


def _defined_abbreviations(texts: dict[str, pd.Series], rules: Rules, matches: pd.DataFrame) -> pd.DataFrame:
    """Rows (row, field, abbreviation, term) where a field uses an abbreviation the title or abstract defines."""
    empty = pd.DataFrame({"row": pd.Series(dtype="int64"), "field": pd.Series(dtype=object),
                          "abbreviation": pd.Series(dtype=object), "term": pd.Series(dtype="int64")})
    in_prose = matches[matches["field"].isin(("title", "abstract"))]
    pieces = []
    for term_index, pattern in rules.definitions:
        # Only the rows where the phrase itself was found can define its abbreviation.
        rows = in_prose.loc[in_prose["term"] == term_index, "row"].unique()
        if len(rows) == 0:
            continue
        definition_text = texts["title"].loc[rows] + " \n " + texts["abstract"].loc[rows]
        defined = definition_text.str.extract(pattern, expand=False).dropna()
        if not defined.empty:
            pieces.append(pd.DataFrame({"row": defined.index, "abbreviation": defined.to_numpy(), "term": term_index}))
    if not pieces:
        return empty
    definitions = pd.concat(pieces, ignore_index=True)
    found = []
    for field in ("title", "abstract"):
        texts_of_rows = texts[field].loc[definitions["row"]].to_numpy()
        # Few rows define an abbreviation: checking each of them is not a loop over the articles.
        uses = [
            re.search(rf"(?<![\w(\[]){re.escape(abbreviation)}(?![\w)\]])", text) is not None
            for abbreviation, text in zip(definitions["abbreviation"], texts_of_rows)
        ]
        found.append(definitions[uses].assign(field=field))
    result = pd.concat(found, ignore_index=True)
    return result[["row", "field", "abbreviation", "term"]] if not result.empty else empty


def _tags_frame(frame: pd.DataFrame, rules: Rules, texts: dict[str, pd.Series]) -> pd.DataFrame:
    matches = _text_matches(texts, rules)
    abbreviations = _defined_abbreviations(texts, rules, matches)
    term_hypotheses = np.array([term.hypothesis_id for term in rules.terms] or [""], dtype=object)
    term_texts = [term.text for term in rules.terms]
    matches = matches.assign(label=[term_texts[index] for index in matches["term"]])
    if not abbreviations.empty:
        abbreviations = abbreviations.assign(
            label=[f"{abbreviation.upper()} ({term_texts[index]})"
                   for abbreviation, index in zip(abbreviations["abbreviation"], abbreviations["term"])])
        matches = pd.concat([matches, abbreviations[["row", "field", "term", "label"]]], ignore_index=True)
    matches["hypothesis_id"] = term_hypotheses[matches["term"].to_numpy()] if len(matches) else []
    matches["field_order"] = matches["field"].map({field: order for order, field in enumerate(FIELDS)})
    matches = matches.drop_duplicates(["row", "hypothesis_id", "field", "label"]).sort_values(
        ["row", "hypothesis_id", "field_order", "term", "label"], kind="stable")

    text_tags = {
        key: [{"term": label, "field": field} for label, field in zip(group["label"], group["field"])]
        for key, group in matches.groupby(["row", "hypothesis_id"], sort=False)
    }
    query_tags: set[tuple[int, str]] = set()
    if "query_hypotheses" in frame:
        linked = frame["query_hypotheses"].reset_index(drop=True).explode().dropna()
        known = linked[linked.isin(rules.hypothesis_ids)]
        query_tags = set(zip(known.index.astype(int), known))
    order = {hypothesis_id: position for position, hypothesis_id in enumerate(rules.hypothesis_ids)}
    keys = sorted(set(text_tags) | query_tags, key=lambda key: (key[0], order[key[1]]))
    pmids = frame["pmid"].to_numpy()
    return pd.DataFrame({
        "pmid": pd.Series([int(pmids[row]) for row, _ in keys], dtype="int64"),
        "hypothesis_id": pd.Series([hypothesis_id for _, hypothesis_id in keys], dtype=object),
        "source": pd.Series([
            "query+text" if key in text_tags and key in query_tags else "text" if key in text_tags else "query"
            for key in keys], dtype=object),
        "matched_terms": pd.Series([text_tags.get(key, []) for key in keys], dtype=object),
    })


def _any_per_row(values: pd.Series, row_count: int) -> np.ndarray:
    """For an exploded boolean Series indexed by row, whether any entry of each row is True."""
    result = np.zeros(row_count, dtype=bool)
    true_rows = values.index[values.to_numpy(dtype=bool)]
    result[np.asarray(true_rows, dtype=np.int64)] = True
    return result


def _facets_frame(frame: pd.DataFrame, texts: dict[str, pd.Series]) -> pd.DataFrame:
    rows = len(frame)
    publication_types = frame["publication_types"].reset_index(drop=True).explode().dropna()
    mesh = frame["mesh_terms"].reset_index(drop=True).explode().dropna()
    mesh_lower = mesh.astype(str).str.lower()

    def has_type(names: frozenset[str]) -> np.ndarray:
        return _any_per_row(publication_types.isin(names), rows)

    def has_mesh(names: frozenset[str]) -> np.ndarray:
        return _any_per_row(mesh.isin(names), rows)

    designs = {design: has_type(_DESIGN_PUBLICATION_TYPES.get(design, frozenset()))
               | has_mesh(_DESIGN_MESH.get(design, frozenset())) for design in _DESIGN_PRECEDENCE}
    design = np.select([designs[name] for name in _DESIGN_PRECEDENCE], list(_DESIGN_PRECEDENCE), default="other")

    human = _any_per_row(mesh_lower.isin(_HUMAN_MESH), rows)
    animal = _any_per_row(mesh_lower.str.match(_ANIMAL_MESH), rows)
    species = np.select([human & animal, human, animal], ["both", "human", "animal"], default="unknown")
    in_vitro = (_any_per_row(mesh_lower.isin(_IN_VITRO_MESH), rows)
                | texts["title"].str.contains(_IN_VITRO).to_numpy(dtype=bool)
                | texts["abstract"].str.contains(_IN_VITRO).to_numpy(dtype=bool))

    corrections = frame["corrections"].reset_index(drop=True).explode().dropna() \
        if "corrections" in frame else pd.Series(dtype=object)
    reference_types = corrections.map(lambda correction: correction.get("ref_type") if isinstance(correction, dict)
                                      else getattr(correction, "ref_type", None))

    def has_reference(ref_type: str) -> np.ndarray:
        return _any_per_row(reference_types == ref_type, rows)

    return pd.DataFrame({
        "pmid": frame["pmid"].to_numpy(dtype="int64"),
        "design": pd.Series(design, dtype=object),
        "species": pd.Series(species, dtype=object),
        "in_vitro": in_vitro,
        "retracted": has_type(frozenset({"Retracted Publication"})) | has_reference("RetractionIn"),
        "retraction_notice": has_type(frozenset({"Retraction of Publication"})) | has_reference("RetractionOf"),
        "has_erratum": has_reference("ErratumIn"),
        "expression_of_concern": has_reference("ExpressionOfConcernIn"),
    })


def tag_articles(articles: pd.DataFrame, hypotheses: Sequence[Hypothesis] | Rules) -> TagResult:
    """Tag an articles frame with hypotheses (terms and query links), design, species and integrity flags."""
    rules = hypotheses if isinstance(hypotheses, Rules) else compile_rules(hypotheses)
    frame = articles.reset_index(drop=True)
    texts = _field_texts(frame)
    return TagResult(_tags_frame(frame, rules, texts), _facets_frame(frame, texts), rules.version)


# --- the evidence table ----------------------------------------------------------------------------------------

EVIDENCE_COLUMNS: tuple[str, ...] = ("hypothesis_id", "year", "year_label", "design", "count", "cumulative",
                                     "per_1000")
UNKNOWN_YEAR_LABEL = "unknown"
# pub_year is never negative, so -1 can stand for "unknown" while grouping and is turned back into <NA> after.
_UNKNOWN_YEAR = -1


def evidence_table(catalogue: pd.DataFrame, hypotheses: Sequence[Hypothesis], *, include_retracted: bool = False,
                   by_species: bool = False) -> pd.DataFrame:
    """Count articles per cause hypothesis × publication year × design (× species), with running and normalised sums.

    The catalogue needs pmid, pub_year, hypotheses, design, retracted (and species with `by_species`). One row
    for every cause × year from the first to the last known year × design (× species), zeros included, then one
    "unknown" year row per cause × design (× species) so articles without a year are never dropped. cumulative
    runs over the known years (and is <NA> on the unknown row); per_1000 divides by the articles of the same year
    that carry the baseline hypothesis (the unknown row by the baseline's unknown-year articles) and is NaN where
    that is zero or the file has no baseline. The baseline is the denominator only: it has no rows of its own.
    Retracted articles leave both counts and denominators unless `include_retracted`.
    """
    keys = ["hypothesis_id", "year", "design"] + (["species"] if by_species else [])
    columns = [*EVIDENCE_COLUMNS[:4], *(["species"] if by_species else []), *EVIDENCE_COLUMNS[4:]]
    causes = [h.id for h in hypotheses if not h.baseline]
    baseline_id = next((h.id for h in hypotheses if h.baseline), None)
    kept = catalogue if include_retracted else catalogue[~catalogue["retracted"].astype(bool)]
    years = kept["pub_year"].astype("Int64").fillna(_UNKNOWN_YEAR).astype("int64")
    known_years = years[years != _UNKNOWN_YEAR]
    year_range = list(range(int(known_years.min()), int(known_years.max()) + 1)) if len(known_years) else []

    carried = pd.DataFrame({
        "year": years.to_numpy(),
        "design": kept["design"].to_numpy(dtype=object),
        "species": kept["species"].to_numpy(dtype=object) if by_species else None,
        "hypothesis_id": kept["hypotheses"].to_numpy(dtype=object),
    }).explode("hypothesis_id")
    counts = carried[carried["hypothesis_id"].isin(causes)].groupby(keys).size()
    levels = [causes, [*year_range, _UNKNOWN_YEAR], list(DESIGNS)] + ([list(SPECIES)] if by_species else [])
    grid = pd.MultiIndex.from_product(levels, names=keys)
    table = counts.reindex(grid, fill_value=0).rename("count").reset_index()
    table["count"] = table["count"].astype("int64")

    known = table["year"] != _UNKNOWN_YEAR
    running = table[known].groupby([key for key in keys if key != "year"], sort=False)["count"].cumsum()
    table["cumulative"] = pd.array([pd.NA] * len(table), dtype="Int64")
    table.loc[known, "cumulative"] = running.astype("Int64")

    if baseline_id is None:
        denominators = pd.Series(dtype="int64")
    else:
        denominators = carried.loc[carried["hypothesis_id"] == baseline_id, "year"].value_counts()
    denominator = table["year"].map(denominators).astype("float64")
    table["per_1000"] = (table["count"] * 1000.0 / denominator.where(denominator > 0)).astype("float64")

    table["year_label"] = table["year"].map(lambda year: UNKNOWN_YEAR_LABEL if year == _UNKNOWN_YEAR else str(year))
    table["year"] = table["year"].astype("Int64").mask(~known)
    table["hypothesis_id"] = table["hypothesis_id"].astype(object)
    table["design"] = table["design"].astype(object)
    return table[columns].reset_index(drop=True)


def evidence_by_year(table: pd.DataFrame, value: str = "count") -> pd.DataFrame:
    """Pivot an evidence table to year_label × hypothesis_id, summing designs (and species); unknown year last.

    `value` is "count" or "cumulative"; per_1000 is summed too, which is right because designs share a denominator.
    """
    pivot = table.pivot_table(index="year_label", columns="hypothesis_id", values=value, aggfunc="sum", sort=False,
                              observed=True)
    labels = sorted(pivot.index, key=lambda label: (label == UNKNOWN_YEAR_LABEL, label))
    return pivot.reindex(labels)
