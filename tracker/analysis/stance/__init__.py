"""Stance: does an article support or contradict the cause it is tagged with, and which sentence says so.

`reader` holds the four steps and `read_stances`; `cues` the rules as data; `sentences` the splitter, sections and
abbreviations; `direction` what one sentence reports; `sizes` the sample sizes an abstract states.
"""

from tracker.analysis.stance.cues import CUES, Cue
from tracker.analysis.stance.direction import DIRECTIONS, Finding, finding_direction, read_finding
from tracker.analysis.stance.reader import (
    STANCE_COLUMNS, STANCE_RULES_VERSION, StanceRules, compile_stance_rules, read_stances)
from tracker.analysis.stance.sentences import sections_from_text, split_sentences
from tracker.analysis.stance.sizes import sample_sizes
from tracker.models import CONFIDENCES, EVIDENCE_KINDS, STANCES, UNREAD_STANCE

__all__ = [
    "CONFIDENCES", "CUES", "DIRECTIONS", "EVIDENCE_KINDS", "STANCES", "STANCE_COLUMNS", "STANCE_RULES_VERSION",
    "UNREAD_STANCE", "Cue", "Finding", "StanceRules", "compile_stance_rules", "finding_direction", "read_finding",
    "read_stances", "sample_sizes", "sections_from_text", "split_sentences",
]
