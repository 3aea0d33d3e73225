"""What the dashboard calls things and how it colours them: labels, badges, icons, chart colours, NCBI's notice."""

from __future__ import annotations

from tracker.analysis.evidence import EVIDENCE_LEVEL_LABELS, EVIDENCE_LEVELS
from tracker.models import STANCES
from tracker.vocabulary import HIGH_LEVEL_DESIGNS, READING_LABELS, READINGS, STANCE_BADGES, STANCE_LABELS


NCBI_POLICY_URL = "https://www.ncbi.nlm.nih.gov/home/about/policies/"
# NCBI asks tools that show abstracts to show its disclaimer and copyright notice with them.
NCBI_NOTICE = (
    "Citations and abstracts are from PubMed, a service of the U.S. National Library of Medicine (NLM); NLM does "
    "not endorse this tool. Abstracts may be protected by the publishers' copyright: see NCBI's "
    f"[disclaimer and copyright notice]({NCBI_POLICY_URL})."
)
# What a table shows for a value it does not have (an article of unknown year, a cause never synced): Streamlit
# would write "None", which reads as a value.
MISSING_CELL = "—"
SPECIES_LABELS = {"human": "Humans", "animal": "Animals", "both": "Humans and animals", "unknown": "Not stated"}
# Material icons ship with Streamlit's own font; emoji depend on the reader's fonts (a box without them).
OK_ICON = ":green[:material/check_circle:]"
WARNING_ICON = ":orange[:material/warning:]"
TAG_SOURCE_LABELS = {
    "query": "PubMed's query for this cause returns it",
    "text": "its text mentions the cause's terms",
    "query+text": "PubMed's query returns it and its text mentions the cause's terms",
}
INTEGRITY_LABELS = {
    "retracted": "Retracted: PubMed links a retraction notice to this article",
    "retraction_notice": "This record is itself a retraction notice",
    "has_erratum": "An erratum (correction) was published for this article",
    "expression_of_concern": "The journal published an expression of concern about this article",
}
# Short badges beside a title: what a reader scans for first.
DESIGN_BADGES = {"meta_analysis": "Meta-analysis", "systematic_review": "Systematic review", "rct": "RCT",
                 "clinical_trial": "Trial", "cohort": "Cohort", "case_control": "Case-control",
                 "observational": "Observational", "case_report": "Case report", "narrative_review": "Review",
                 "editorial": "Opinion", "other": "Other design"}
INTEGRITY_BADGES = {"retracted": "RETRACTED", "has_erratum": "Erratum", "expression_of_concern": "Concern"}
# A stance badge names its cause ("Substance P: contradicts") and takes its stance's colour.
STANCE_BADGE_COLOURS = {STANCE_BADGES[stance].lower(): colour
                        for stance, colour in zip(STANCES, ("green", "orange", "violet", "gray"))}
BADGE_COLOURS = {**{badge: "blue" if design in HIGH_LEVEL_DESIGNS else "gray" for design, badge in DESIGN_BADGES.items()},
                 "RETRACTED": "red", "Erratum": "yellow", "Concern": "yellow"}
EVIDENCE_KIND_LABELS = {"comparison": "Patients against controls (direct)", "association": "Association (direct)",
                        "intervention": "Treatment result (indirect)", "review": "Review", "other": "Other result"}
# The stances that are findings, as the verdict's charts name them.
STANCE_LABELS_SHOWN = {stance: STANCE_LABELS[stance] for stance in ("contradicts", "mixed", "supports")}
# Colours that stay apart for colour-blind readers (ColorBrewer Dark2 and Blues), one per stacked group; a finding
# read with low confidence takes a pale tint of its stance's colour, stacked above the confident ones.
STANCE_COLOURS = {READING_LABELS[reading]: colour for reading, colour in zip(
    READINGS, ("#1b9e77", "#d95f02", "#7570b3", "#a9dcc9", "#f6c39c", "#cbc8e4", "#c7c7c7"))}
LEVEL_COLOURS = {EVIDENCE_LEVEL_LABELS[level]: colour
                 for level, colour in zip(EVIDENCE_LEVELS, ("#08519c", "#6baed6", "#fdae6b", "#d9d9d9"))}
