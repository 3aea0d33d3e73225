"""What is never a candidate, as auditable rows: configured causes' terms and queries, MeSH check tags and
demographics, study-design words, generic academic phrases."""

from __future__ import annotations

import re
from collections.abc import Sequence

import pandas as pd

from tracker.config import Hypothesis
from tracker.vocabulary import MESH_CHECK_TAGS

# Each row: the phrase as written, how it matches a normalised candidate ("exact"; "contains": as whole words
# anywhere in it; "prefix": the candidate starts with it), and why it is left out.

# NLM's check tags, then the demographic, model-organism and place headings that say as little about a cause.
CHECK_TAGS_AND_DEMOGRAPHICS = (
    *MESH_CHECK_TAGS,
    "Rats, Sprague-Dawley", "Rats, Wistar", "Mice, Inbred C57BL", "Mice, Knockout", "Mice, Inbred BALB C",
    "Disease Models, Animal", "Cells, Cultured", "In Vitro Techniques", "Age Factors", "Sex Factors",
    "Sex Characteristics", "Age Distribution", "Sex Distribution", "Time Factors", "Women", "Men", "Patients",
    "Volunteers", "Healthy Volunteers", "Caregivers", "Age of Onset", "Socioeconomic Factors", "Educational Status",
    "Employment", "United States", "Europe", "Brazil", "Spain", "Turkey", "Germany", "Italy", "Sweden", "Norway",
    "Denmark", "Israel", "Japan", "Korea", "Republic of Korea", "China", "Canada", "United Kingdom", "France",
)
STUDY_DESIGN_WORDS = (
    "Randomized Controlled Trial", "Randomized Controlled Trials as Topic", "Controlled Trial", "Clinical Trial",
    "Clinical Trials as Topic", "Trial", "Pilot Study", "Pilot Projects", "Feasibility Study", "Systematic Review",
    "Meta-Analysis", "Meta-Analysis as Topic", "Review", "Review Literature as Topic", "Narrative Review",
    "Scoping Review", "Literature Review", "Cohort", "Cohort Study", "Cohort Studies", "Prospective Study",
    "Prospective Studies", "Retrospective Study", "Retrospective Studies", "Longitudinal Study",
    "Longitudinal Studies", "Follow-Up Studies", "Cross-Sectional Study", "Cross-Sectional Studies",
    "Case-Control Study", "Case-Control Studies", "Case Report", "Case Series", "Observational Study",
    "Double-Blind Method", "Single-Blind Method", "Placebo", "Placebos", "Double Blind", "Randomized", "Randomised",
    "Surveys and Questionnaires", "Questionnaire", "Survey", "Treatment Outcome", "Reproducibility of Results",
    "Severity of Illness Index", "Pain Measurement", "Psychometrics", "Prevalence", "Incidence", "Risk Factors",
    "Cross-Over Studies", "Multicenter Study", "Multicenter Studies as Topic", "Control Group", "Placebo Group",
    "Intervention Group", "Healthy Control", "Healthy Controls", "Healthy Subjects", "Control Subjects", "Controls",
    "Baseline", "Follow-Up", "Statistics as Topic", "Regression Analysis", "Logistic Models", "Linear Models",
    "Odds Ratio", "Confidence Interval", "Sensitivity and Specificity", "Data Collection", "Interviews as Topic",
    "Focus Groups", "Qualitative Research", "Cluster Analysis", "Factor Analysis, Statistical",
)
GENERIC_ACADEMIC_PHRASES = (
    "study", "present study", "this study", "current study", "studies", "patient", "patients", "result", "results",
    "conclusion", "conclusions", "background", "method", "methods", "objective", "objectives", "aim", "purpose",
    "introduction", "discussion", "analysis", "data", "group", "groups", "participant", "subject", "sample",
    "population", "year", "month", "week", "day", "hour", "minute", "time", "effect", "level", "score", "scale",
    "finding", "evidence", "treatment", "therapy", "intervention", "outcome", "symptom", "disease", "disorder",
    "condition", "syndrome", "pain", "chronic pain", "widespread pain", "chronic widespread pain", "woman", "man",
    "control", "difference", "association", "relationship", "factor", "role", "case", "number", "rate", "mean",
    "value", "measure", "measurement", "change", "increase", "decrease", "improvement", "severity", "quality",
    "quality of life", "health", "clinical practice", "literature", "review", "article", "paper", "author",
    "research", "field", "approach", "model", "framework", "concept", "mechanism", "process", "role", "impact",
    "aspect", "issue", "need", "context", "term", "type", "form", "part", "way", "use", "area", "point",
    "period", "duration", "age", "sex", "gender", "individual", "people", "person", "adult", "child", "clinician",
    "physician", "practice", "management", "care", "health care", "diagnosis", "assessment", "evaluation",
    "information", "knowledge", "understanding", "implication", "limitation", "strength", "future research",
    "further research", "further study", "future study", "significant difference", "statistical significance",
    "p value", "standard deviation", "correlation", "questionnaire", "visual analogue scale", "visual analog scale",
    "vas", "impact questionnaire", "fiq", "sf 36", "short form", "tender point", "tender point count",
    "humans", "female", "male", "adult", "middle aged", "aged", "rheumatology", "rheumatic disease",
    "rheumatic diseases", "musculoskeletal pain", "female patient", "healthy woman", "control group",
)
GENERIC_CATEGORY = "generic academic phrase"


def _query_rows(hypothesis: Hypothesis) -> list[tuple[str, str, str, str]]:
    """A query's quoted phrases (exact) and bare words (exact, or by their truncation stem "mitochondri*")."""
    without_tags = re.sub(r"\[[^\]]*\]", " ", hypothesis.query)
    rows = []
    for phrase in re.findall(r'"([^"]+)"', without_tags):
        rows.append((phrase.rstrip("*"), "prefix" if phrase.endswith("*") else "exact", "configured query",
                     hypothesis.id))
    for word in re.sub(r'"[^"]*"', " ", without_tags).replace("(", " ").replace(")", " ").split():
        if word.upper() in {"AND", "OR", "NOT"}:
            continue
        rows.append((word.rstrip("*"), "prefix" if word.endswith("*") else "exact", "configured query",
                     hypothesis.id))
    return rows


def exclusion_table(hypotheses: Sequence[Hypothesis]) -> pd.DataFrame:
    """Every exclusion rule: phrase, match ("exact", "contains", "prefix" or "regex"), category, source."""
    rows: list[tuple[str, str, str, str]] = []
    for hypothesis in hypotheses:
        for term in hypothesis.terms:
            if term.startswith("re:"):
                rows.append((term[3:], "regex", "configured term", hypothesis.id))
            else:
                rows.append((term, "contains", "configured term", hypothesis.id))
        rows += _query_rows(hypothesis)
    rows += [(name, "exact", "check tag or demographic", "MeSH") for name in CHECK_TAGS_AND_DEMOGRAPHICS]
    rows += [(name, "exact", "study design", "design words") for name in STUDY_DESIGN_WORDS]
    rows += [(name, "exact", GENERIC_CATEGORY, "generic phrases") for name in GENERIC_ACADEMIC_PHRASES]
    # "... as Topic" headings say what an article is about as a kind of publication, never an idea.
    rows.append((" as topic", "suffix", "study design", "MeSH"))
    return pd.DataFrame(rows, columns=["phrase", "match", "category", "source"]).drop_duplicates(
        ignore_index=True)
