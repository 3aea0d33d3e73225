"""The ids and words every layer shares, each defined once: study designs, species, facets, stance labels,
PubMed's article address and PMIDs, MeSH check tags, Greek letter names.

The tagger, the selection, the exports, the feed and the dashboard read them from here, so they cannot disagree.
"""

from __future__ import annotations

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
# The high-level evidence a guideline panel would weigh first.
HIGH_LEVEL_DESIGNS: tuple[str, ...] = ("meta_analysis", "systematic_review", "rct")
SPECIES: tuple[str, ...] = ("human", "animal", "both", "unknown")
# The year of PubMed's oldest records: a year filter before it can only be a mistake ("--from-year 15").
FIRST_PUBMED_YEAR = 1781
# What the tagger decides per article besides its causes (the `article_facets` table's columns).
FACET_COLUMNS: tuple[str, ...] = (
    "design", "species", "in_vitro", "retracted", "retraction_notice", "has_erratum", "expression_of_concern",
)

# A stance in a chart's legend and in a badge beside a title: the badge is short, the legend says what is meant.
STANCE_LABELS = {"supports": "Supports", "contradicts": "Contradicts", "mixed": "Mixed",
                 "no_finding": "No finding on it"}
STANCE_BADGES = {**STANCE_LABELS, "no_finding": "No finding"}
# What charts and summaries count: each finding read with high confidence, then the same findings read with low
# confidence (hedged, a pooled population, a construct inferred from an abbreviation, ...) apart, then no finding.
LOW_CONFIDENCE_READINGS = {"supports": "supports_low", "contradicts": "contradicts_low", "mixed": "mixed_low"}
READINGS: tuple[str, ...] = ("supports", "contradicts", "mixed", *LOW_CONFIDENCE_READINGS.values(), "no_finding")
READING_LABELS = {**STANCE_LABELS, "supports_low": "Supports, low confidence",
                  "contradicts_low": "Contradicts, low confidence", "mixed_low": "Mixed, low confidence"}

PUBMED_URL = "https://pubmed.ncbi.nlm.nih.gov/{pmid}/"

# MeSH check tags: indexed on almost every article, they say nothing about a cause. NLM's check-tag list, plus
# the age groups and the laboratory animals indexed as check tags until 2013.
MESH_CHECK_TAGS: tuple[str, ...] = (
    "Humans", "Animals", "Female", "Male", "Pregnancy", "Infant, Newborn", "Infant", "Child, Preschool", "Child",
    "Adolescent", "Young Adult", "Adult", "Middle Aged", "Aged", "Aged, 80 and over", "Cats", "Cattle",
    "Chick Embryo", "Dogs", "Guinea Pigs", "Cricetinae", "Mice", "Rabbits", "Rats",
)

# Greek letters as words, so that "TNF-α" and "TNF-alpha" are one term to the tagger and to the emerging ideas.
GREEK_NAMES = {
    "α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "ζ": "zeta", "η": "eta", "θ": "theta",
    "ι": "iota", "κ": "kappa", "λ": "lambda", "μ": "mu", "µ": "mu", "ν": "nu", "ξ": "xi", "ο": "omicron",
    "π": "pi", "ρ": "rho", "σ": "sigma", "ς": "sigma", "τ": "tau", "υ": "upsilon", "φ": "phi", "ϕ": "phi",
    "χ": "chi", "ψ": "psi", "ω": "omega",
}


def pubmed_url(pmid: object) -> str:
    """The PubMed page of a PMID, which must be a positive whole number."""
    number = int(pmid)  # type: ignore[call-overload]
    if number <= 0:
        raise ValueError(f"not a PMID: {pmid!r}")
    return PUBMED_URL.format(pmid=number)


# SQLite stores integers in 64 bits: anything from 2^63 on would overflow on insert.
MAX_PMID = 2**63


def pmid_number(text: str) -> int | None:
    """The PMID a text holds ("31234567"), or None unless it is a positive ASCII whole number below 2^63.

    2^63 is SQLite's integer limit; real PMIDs have at most eight digits, so the bound only stops garbage.
    """
    # The length test comes first so that a million-digit "PMID" is never converted.
    if not (0 < len(text) <= 19 and text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if 0 < number < MAX_PMID else None
