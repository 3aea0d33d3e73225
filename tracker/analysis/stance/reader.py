"""Stance: does an article support or contradict the cause it is tagged with, which sentence says so, and how sure
the reading is.

Pure like `tagging`: text and frames in, frames out; no I/O, no clock, no network. The values it produces are
`models.STANCES`, `models.EVIDENCE_KINDS` and `models.CONFIDENCES`.

Only the sentences where the cause stands are read: its terms (tagging's compiled terms), the abbreviations the
abstract defines for a term or a measure ("electrochemical skin conductance (ESC)", found as Schwartz and Hearst
do), and the measures of its construct the terms do not name (`cues.CONSTRUCT_MEASURES`: pupil size, COMPASS-31,
pain thresholds, ...). Each such sentence goes through four steps, each a function of its own:
1. Role (`sentence_role`): a result or conclusion, or background, aim, method, outlook. A section label says it;
   in an unstructured abstract the sentence's cues do ("we found", "p < 0.05", "is characterised by"), and where
   none speaks its place. Only results, conclusions and (where no abstract sentence decides) the title are read.
2. Population (`sentence_population`): fibromyalgia, pooled ("both patient groups", "FM and/or CFS"), or another
   population. In an article about another condition (its title and sample say so) a result counts only where
   it is stated for people with fibromyalgia; another population named at the term ("... in ME") leaves it out.
3. Construct: the term must name the cause, not a symptom in a list of symptoms or outcomes
   (`listed_with_symptoms`), nor the object of a null association ("X was not associated with autonomic
   symptoms" tests X), nor a consequence ("... are implicated in nociplastic pain"). A trigger (expect
   "associated") must be linked to fibromyalgia by an occurrence or an association, not counted beside it.
4. Direction against `expect` (`finding_stance`): `direction.read_finding` reads the clause that holds the term
   (cues are the rows of `CUES`, data in the manner of medspaCy's ConText rules, with negation scopes); the
   predicted direction, or for "abnormal" and "associated" any difference or association, supports; the
   opposite direction, or no difference against health or a placebo, contradicts. A null between two active
   treatments, about a mediation or about other outcomes, a difference between patient subgroups, a speculation,
   an abnormality named without evidence, and a treatment easing a symptom it is not aimed at say nothing.
Supporting and contradicting sentences in one article make it `mixed`; none make it `no_finding`.

Each row keeps the deciding sentence exactly as in the abstract (for `mixed`: the supporting and the contradicting
sentence, one a line), its section label ("TITLE" for the title, empty for an unstructured abstract), the cue
text, `hedged`, the sample sizes the abstract states, and `confidence`: "high", or "low" with the reasons in
`confidence_reason` (hedged; a construct inferred from an abbreviation or a measure; an unstructured abstract's
sentence read as a result by its place only; read from the title only; an abnormality named without a
comparison; for no finding, a finding set aside because its population was pooled).
"""

from __future__ import annotations

import bisect
import dataclasses
import functools
import hashlib
import itertools
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

try:
    # CPython's own regex parser (private, stable since 3.11), to read what a pattern can match.
    from re import _constants as _re_constants, _parser as _re_parser
except ImportError:  # pragma: no cover
    _re_constants = _re_parser = None

from tracker.config import EXPECTS, Hypothesis
from tracker.memory import collection_paused
from tracker.analysis.stance.cues import (
    CONSTRUCT_MEASURES, SYMPTOM_OUTCOMES, clauses, cue_matches, cue_pattern, term_as_population)
from tracker.analysis.stance.direction import (
    FINDING_CATEGORIES, Finding, clause_findings, clause_verdict, has_finding, read_finding)
from tracker.analysis.screen import first_screened, screened, stand_in_texts, union_screen
from tracker.analysis.stance.sentences import defined_abbreviations, sections_from_text, split_sentences
from tracker.analysis.stance.sizes import sample_sizes_of
from tracker.analysis.tagging import Rules, normalised_text


# Bump when a cue, the splitter or the reading rules in this module change: every stored stance then counts as
# made by other rules, and the next fetch or `tracker retag` reads it again.
STANCE_RULES_VERSION = "2026-12-06.3"

STANCE_COLUMNS: tuple[str, ...] = ("pmid", "hypothesis_id", "stance", "evidence_kind", "hedged", "section",
                                   "sentence", "cue", "n_patients", "n_controls", "confidence", "confidence_reason")

# --- the per-(article, cause) reader ---------------------------------------------------------------------------

@dataclass(frozen=True)
class StanceRules:
    """The causes' term patterns and predictions, compiled once; `version` is what stored stances carry."""

    expects: dict[str, str]
    # Per cause, each term's text → its pattern (as tagging compiled it, over normalised text).
    term_patterns: dict[str, dict[str, str]]
    version: str


def compile_stance_rules(hypotheses: Sequence[Hypothesis], rules: Rules) -> StanceRules:
    """Compile each cause's terms (as tagging compiled them) into one pattern; the version covers the tagging
    rules, the causes' `expect` and this module's rules."""
    causes = [h for h in hypotheses if not h.baseline]
    unknown = [h.id for h in causes if h.expect not in EXPECTS]
    if unknown:
        raise ValueError(f"hypotheses with an unknown expect: {', '.join(unknown)}")
    patterns: dict[str, dict[str, str]] = {hypothesis.id: {} for hypothesis in causes}
    for term in rules.terms:
        # A "re:" term's own pattern never runs here (Python's re backtracks): tagging labels its matches with the
        # text it matched, which `_term_pattern` looks for as a word.
        if term.hypothesis_id in patterns and term.pattern is not None:
            patterns[term.hypothesis_id][term.text] = term.expression
    fingerprint = json.dumps([STANCE_RULES_VERSION, rules.version, [[h.id, h.expect] for h in causes]])
    return StanceRules(expects={h.id: h.expect for h in causes}, term_patterns=patterns,
                       version=hashlib.sha256(fingerprint.encode()).hexdigest()[:12])


_ABBREVIATION_LABEL = re.compile(r"^(\S{2,10}) \(.+\)$")


_PROSE_FIELDS = frozenset({"title", "abstract"})


def _term_labels(matched_terms: object) -> tuple[str, ...]:
    """The labels of the terms tagging found in the title or abstract (keywords and MeSH hold no sentence)."""
    entries = matched_terms if isinstance(matched_terms, (list, tuple)) else ()
    return tuple(sorted({str(entry.get("term")) for entry in entries
                         if isinstance(entry, dict) and entry.get("field") in _PROSE_FIELDS and entry.get("term")}))


@functools.lru_cache(maxsize=4096)
def _term_pattern(term_patterns: tuple[tuple[str, str], ...], labels: tuple[str, ...]) -> re.Pattern[str] | None:
    """One pattern for the terms tagging found in this article's text: a term's own pattern, an abbreviation the
    text defines ("SP (substance P)": "sp" as a word), or the text a "re:" term matched, as a word."""
    by_text = dict(term_patterns)
    parts = []
    for label in labels:
        if label in by_text:
            parts.append(by_text[label])
            continue
        abbreviation = _ABBREVIATION_LABEL.match(label)
        word = abbreviation.group(1) if abbreviation else label
        parts.append(rf"\b{re.escape(normalised_text(word))}\b")
    # Without its leading \b a pattern starts with letters, and the scan skips to them (some twenty times
    # faster); `_word_matches` checks the boundary instead.
    parts = [part[2:] if part.startswith(r"\b") else part for part in parts]
    return re.compile("|".join(f"(?:{part})" for part in parts), re.ASCII) if parts else None


_DESIGN_KINDS = {"meta_analysis": "review", "systematic_review": "review", "narrative_review": "review",
                 "rct": "intervention", "clinical_trial": "intervention", "case_control": "comparison",
                 "cohort": "association", "observational": "association"}
_PROTOCOL_TYPES = frozenset({"Clinical Trial Protocol"})
# A protocol reports no results, only what a study will do.
_PROTOCOL_TITLE = re.compile(r"\bprotocol\b\s*(?:for|of)?\s*(?:a|an)?\s*(?:\w+\s+){0,3}(?:study|trial|review)|"
                             r"(?:study|trial|review)\s*:?\s*(?:a\s+)?protocol\b|\bprotocol\s*$", re.IGNORECASE)
# A trial, read on the normalised (lower-case) text: no case folding and no leading \b let the scan skip ahead.
_TRIAL = re.compile(r"(?:randomi[sz]ed|placebo|sham|trials?|interventions?|treated\s+with|(?:after|following)\s+"
                    r"(?:\d+|two|four|six|eight|ten|twelve)\s+(?:weeks?|months?|sessions?))\b")
# "FM" must be capitals ("fm" is a unit); the long name in any case.
_FIBROMYALGIA_NAME = re.compile(r"\b(?:(?i:fibromyalgi\w*|fibrositis)|FMS?|JFM)\b")
# An article is about fibromyalgia when its title names it (alone), its sample is counted in patients with it, or
# this share of its sentences names it.
_FIBROMYALGIA_SHARE = 0.3


# --- step 1: the sentence's role -------------------------------------------------------------------------------

class Sentence(NamedTuple):
    """One sentence of an abstract (or the title): its text, the section label shown with it, the role its
    section gives it (None when unlabelled) and its place ("early", "middle", "late"; "title")."""

    text: str
    section: str | None
    given: str | None
    place: str

    @property
    def role(self) -> str:
        return sentence_role(self.text, self.given, self.place)


ROLES: tuple[str, ...] = ("result", "conclusion", "background", "aim", "method", "outlook", "title")
# A section's label or NLM category → the role of its sentences; the first pattern that matches decides.
SECTION_ROLES: tuple[tuple[str, str], ...] = (
    (r"\b(?:conclusions?|interpretations?|implications?|significance|summary|discussion|relevance)\b", "conclusion"),
    (r"\b(?:results?|findings?|case\s+(?:report|presentation|description)s?)\b", "result"),
    (r"\b(?:methods?|measures?|design|setting|participants|patients|subjects|materials|procedures?|"
     r"interventions?|outcomes?|data\s+sources|study\s+selection|eligibility|registration)\b", "method"),
    (r"\b(?:aims?|objectives?|purposes?|goals?|questions?)\b", "aim"),
    (r"\b(?:background|introduction|context|importance|rationale)\b", "background"),
)
_SECTION_ROLES = [(re.compile(pattern, re.IGNORECASE), role) for pattern, role in SECTION_ROLES]


def section_role(label: str | None, nlm_category: str | None) -> str | None:
    """The role a section's label gives its sentences, or None when it has no label that says."""
    category = (nlm_category or "").upper()
    if category in ("RESULTS", "CONCLUSIONS"):
        return "result" if category == "RESULTS" else "conclusion"
    if category in ("BACKGROUND", "OBJECTIVE", "METHODS"):
        return {"BACKGROUND": "background", "OBJECTIVE": "aim", "METHODS": "method"}[category]
    for pattern, role in _SECTION_ROLES:
        if label and pattern.search(label):
            return role
    return None


@functools.lru_cache(maxsize=65536)
def sentence_role(text: str, given: str | None, place: str) -> str:
    """Step 1: what a sentence does. A section label gives the role; within results and conclusions an aim,
    method or outlook is still one ("further studies are needed"). An unlabelled sentence is read by its cues,
    and where none speaks, by its place: background early, results late."""
    if given == "title" or place == "title":
        return "title"
    if cue_matches(text, "not_a_result"):
        return "outlook" if given in ("result", "conclusion") else given or "background"
    if given is not None:
        return given
    if cue_matches(text, "role_background") and not cue_matches(text, "role_result"):
        return "background"
    if cue_matches(text, "role_conclusion"):
        return "conclusion"
    if cue_matches(text, "role_result"):
        return "result" if place != "early" else "background"
    return "result" if place == "late" else "background"


# --- per article: what every cause's reading shares --------------------------------------------------------------

@dataclass
class _Article:
    title: str
    # (text, label shown, role its label gives) per section, the title last as a section of its own.
    sections: list[tuple[str, str | None, str | None]]
    # Each section lower-cased and folded as tagging's term patterns expect, joined by NUL (no pattern crosses
    # it); where each section starts in it, and whether folding kept each section's length (offsets then agree).
    normalised: str
    normalised_starts: list[int]
    same_length: list[bool]
    # Where each section starts in the sections' own texts joined the same way.
    text_starts: list[int]
    protocol: bool
    structured: bool
    design: str
    whole: str
    sizes: tuple[int | None, int | None]
    # Per section cut so far, its sentences' (start, end) and their starts: a section where no cause's term
    # stands is never cut.
    spans: dict[int, tuple[list[tuple[int, int]], list[int]]] = dataclasses.field(default_factory=dict)
    # The kind of study the abstract reports (`abstract_kinds`), given to a pair without a finding.
    kind: str | None = None
    # Once numbered (`number_sentences`; None before): the number of each section's first sentence, where the
    # part of `normalised` that `_anchors` tells to be each sentence's starts, and the sentences read so far by
    # number; once screened (`_causes_that_may_report`), the numbers of those the finding screen kept.
    section_firsts: list[int] | None = None
    part_starts: list[int] | None = None
    # Where each sentence truly starts in `normalised` (its part's start where folding kept the length).
    true_starts: list[int] | None = None
    numbered: list[Sentence | None] | None = None
    kept: set[int] | None = None
    # Per cause, the numbers of the kept sentences where its screen found it, in order.
    hits: dict[str, list[int]] = dataclasses.field(default_factory=dict)
    # Where a trial's words may first stand in `normalised` (-1: nowhere) and whether the title may name another
    # population, as the batch's screens tell (None: not screened).
    trial_from: int | None = None
    title_may_name_other: bool | None = None

    # What only reading a sentence needs, read on first need: an article where no cause stands is never cut into
    # sentences, searched for abbreviations or judged for its population.
    @functools.cached_property
    def abbreviations(self) -> tuple[tuple[str, str], ...]:
        return tuple(sorted(defined_abbreviations(self.whole).items()))

    @functools.cached_property
    def about_fibromyalgia(self) -> bool:
        # Patients with fibromyalgia counted as the sample ("74 women with fibromyalgia") say whom the study is
        # about; else its title (naming it alone), its participants described as people with fibromyalgia, or the
        # share of its sentences that name it (the abstract is cut into sentences only then).
        title_alone = _names_fibromyalgia(self.title) and not (
            self.title_may_name_other is not False and cue_matches(self.title, "other_population"))
        return title_alone or self.sizes[0] is not None or _names_fibromyalgia(self.whole) and \
            _studies_fibromyalgia([(self._spans(number)[0], text, given)
                                   for number, (text, _, given) in enumerate(self.sections) if given != "title"])

    @functools.cached_property
    def trial(self) -> bool:
        if _DESIGN_KINDS.get(self.design) == "intervention":
            return True
        if self.trial_from is not None and self.trial_from < 0:
            return False
        # No match of the pattern starts before its screen's first match: the scan starts there.
        return any(not match.start() or not self.normalised[match.start() - 1].isalnum()
                   for match in _TRIAL.finditer(self.normalised, self.trial_from or 0))

    @functools.cached_property
    def facts(self) -> _Facts:
        return _Facts(self.about_fibromyalgia, self.trial, self.structured, self.design)

    def _spans(self, section: int) -> tuple[list[tuple[int, int]], list[int]]:
        spans = self.spans.get(section)
        if spans is None:
            text, _, given = self.sections[section]
            cut = [(0, len(text))] if given == "title" else split_sentences(text)
            spans = self.spans[section] = (cut, [start for start, _ in cut])
        return spans

    def number_sentences(self) -> list[int]:
        """Number the sentences (`section_firsts`, `part_starts`); return their starts and ends in the sections'
        texts joined by one separator, one after the other."""
        bounds: list[int] = []
        self.section_firsts, self.part_starts, self.true_starts = [], [], []
        for section, (text, _, _) in enumerate(self.sections):
            spans, starts = self._spans(section)
            base, normalised_base = self.text_starts[section], self.normalised_starts[section]
            self.section_firsts.append(len(self.part_starts))
            if self.same_length[section]:
                self.part_starts += [normalised_base + start for start in starts]
                self.true_starts += [normalised_base + start for start in starts]
            else:
                # Folding changed the section's length: `_anchors` scales an offset in `normalised` onto the
                # text, and a sentence's part starts at the first offset that scales onto its start. Folding
                # maps each character alone, so the folded lengths of the pieces between starts add up.
                length, normalised_length = len(text), max(self.normalised_length(section), 1)
                self.part_starts += [normalised_base - (-start * normalised_length // length) for start in starts]
                position, normalised_position = 0, normalised_base
                for start in starts:
                    normalised_position += len(normalised_text(text[position:start]))
                    position = start
                    self.true_starts.append(normalised_position)
            bounds += [base + offset for span in spans for offset in span]
        self.numbered = [None] * len(self.part_starts)
        return bounds

    def where(self, number: int) -> tuple[int, int]:
        """A numbered sentence's section and its start there."""
        section = bisect.bisect_right(self.section_firsts, number) - 1
        return section, self.spans[section][1][number - self.section_firsts[section]]

    def normalised_length(self, section: int) -> int:
        """The length of a section in `normalised`."""
        starts = self.normalised_starts
        return (starts[section + 1] - 1 if section + 1 < len(starts) else len(self.normalised)) - starts[section]

    def numbered_sentence(self, number: int) -> Sentence:
        """A screened article's sentence by its number."""
        sentence = self.numbered[number]
        if sentence is None:
            section = bisect.bisect_right(self.section_firsts, number) - 1
            spans = self.spans[section][0]
            within = number - self.section_firsts[section]
            start, end = spans[within]
            text, label, given = self.sections[section]
            # An unstructured abstract's sentences stand by their number; the unlabelled part of a structured
            # one by its share of the text.
            place = "title" if given == "title" else _place(
                within / max(len(spans) - 1, 1) if not self.structured
                else (self.text_starts[section] - section + start) / max(len(self.whole) - 1, 1))
            sentence = self.numbered[number] = Sentence(text[start:end], label, given, place)
        return sentence


def _read_article(title: str, sections: Sequence[dict], publication_types: object, design: str,
                  sizes: tuple[int | None, int | None], title_may_be_protocol: bool = True) -> _Article:
    """An article as the reader reads it; `title` stripped. Where the batch's screen says the title names no
    protocol (`title_may_be_protocol`), its pattern is not searched."""
    structured = any(section.get("label") or section.get("nlm_category") for section in sections)
    parts = [((section.get("text") or "").strip(), section.get("label") or section.get("nlm_category"),
              section_role(section.get("label"), section.get("nlm_category"))) for section in sections]
    parts = [part for part in parts if part[0]]
    whole = " ".join(text for text, _, _ in parts)
    if title and not title.endswith("?"):
        parts.append((title, "TITLE", "title"))
    normalised_parts = [normalised_text(text) for text, _, _ in parts]
    types = publication_types if isinstance(publication_types, (list, tuple)) else ()
    protocol = bool(_PROTOCOL_TYPES.intersection(types)) or title_may_be_protocol and bool(
        _PROTOCOL_TITLE.search(title))
    return _Article(title=title, sections=parts, normalised="\0".join(normalised_parts),
                    normalised_starts=_starts(normalised_parts),
                    same_length=[len(normalised) == len(text) for normalised, (text, _, _) in zip(normalised_parts, parts)],
                    text_starts=_starts([text for text, _, _ in parts]), protocol=protocol, structured=structured,
                    design=design, whole=whole, sizes=sizes)


def _starts(parts: Sequence[str]) -> list[int]:
    """Where each part starts in the parts joined by one separator character."""
    return list(itertools.accumulate((len(part) + 1 for part in parts[:-1]), initial=0)) if parts else []


def _studies_fibromyalgia(sections: Sequence[tuple[list[tuple[int, int]], str, str | None]]) -> bool:
    """Whether an abstract whose title names no other population studies people with fibromyalgia: a sentence
    other than a result describes its participants so ("Adults with fibromyalgia took part"), or this share of
    its sentences names fibromyalgia. `sections` are the abstract's, each as (its sentences' spans, text, role)."""
    texts = [(text[start:end], given) for spans, text, given in sections for start, end in spans]
    last = max(len(texts) - 1, 1)
    for number, (text, given) in enumerate(texts):
        if cue_matches(text, "fibromyalgia_population") and sentence_role(
                text, given, _place(number / last)) not in ("result", "conclusion"):
            return True
    return sum(1 for text, _ in texts if _names_fibromyalgia(text)) >= _FIBROMYALGIA_SHARE * len(texts)


def _place(position: float) -> str:
    """Where a sentence stands in its abstract, as `sentence_role` reads it."""
    return "early" if position <= 0.2 else "middle" if position < 0.5 else "late"


def _names_fibromyalgia(text: str) -> bool:
    return _FIBROMYALGIA_NAME.search(text) is not None


# --- step 2: the population ------------------------------------------------------------------------------------

def sentence_population(text: str, about_fibromyalgia: bool) -> str:
    """Step 2: whom a sentence's result is for: "fibromyalgia", "pooled" (fibromyalgia together with another
    condition, without a result of its own), or "other" (another population, or fibromyalgia only named in an
    article about something else)."""
    names = _names_fibromyalgia(text)
    if cue_matches(text, "pooled"):
        return "pooled"
    if cue_matches(text, "other_population") and not names:
        return "other"
    if about_fibromyalgia:
        return "fibromyalgia"
    # In an article about another condition a result counts only where it is stated for people with fibromyalgia.
    return "fibromyalgia" if cue_matches(text, "fibromyalgia_population") else "other"


# --- step 3: the construct -------------------------------------------------------------------------------------

class Anchor(NamedTuple):
    """Where the cause stands in a sentence, its text there, and how it was found: "term" (the cause's own
    term), "abbreviation" (one the abstract defines for a term or a measure), "measure" (CONSTRUCT_MEASURES)."""

    start: int
    text: str
    source: str


_LIST_SPLIT = re.compile(r",|;|\band\b|\bor\b|\bas\s+well\s+as\b", re.IGNORECASE)
_LIST_ITEM_WORDS = 4
# What makes a term's own phrase a symptom ("autonomic dysfunction", "sleep problems") beside the symptom cues.
_SYMPTOM_WORDS = re.compile(r"\b(?:dysfunction|disturbances?|problems|complaints|symptoms?|disorders?)\b",
                            re.IGNORECASE)
_LIST_REACH = 3
# A term is one item of a symptom list when at least this many of its neighbouring items name symptoms.
_LIST_NEIGHBOURS = 2


def listed_with_symptoms(text: str, anchor: Anchor) -> bool:
    """Step 3: whether the cause's term names a symptom that stands as one item of a list of symptoms or outcomes
    ("improved pain, sleep quality and fatigue"), not the cause's construct. A marker in a list of outcomes
    ("... on pain, muscle oxygenation and function") is still the marker."""
    spans, start = [], 0
    for found in _LIST_SPLIT.finditer(text):
        spans.append((start, found.start()))
        start = found.end()
    spans.append((start, len(text)))
    items = [(a, b) for a, b in spans if text[a:b].strip()]
    index = next((number for number, (a, b) in enumerate(items) if a <= anchor.start < b), None)
    if index is None:
        return False
    item_start, item_end = items[index]
    before = len(text[item_start:anchor.start].split())
    after = text[anchor.start + len(anchor.text):item_end].split()
    if before > 3 and len(after) > 3:
        return False
    if not cue_matches(" ".join([anchor.text, *after[:2]]), "symptom") and not _SYMPTOM_WORDS.search(
            " ".join(after[:2])):
        return False
    neighbours = 0
    for step in (-1, 1):
        number = index + step
        while 0 <= number < len(items) and abs(number - index) <= _LIST_REACH:
            words = text[items[number][0]:items[number][1]].split()
            if len(words) > _LIST_ITEM_WORDS:
                # A long item ends the list; its words next to the list may still name a symptom ("... improved
                # pain, sleep and fatigue").
                edge = words[-2:] if step < 0 else words[:2]
                neighbours += bool(cue_matches(" ".join(edge), "symptom"))
                break
            neighbours += bool(cue_matches(" ".join(words), "symptom"))
            number += step
    return neighbours >= _LIST_NEIGHBOURS


# Per cause, its construct measures with the word each starts with (lower-case), which must stand in a text.
_MEASURES = {cause: tuple((re.match(r"[A-Za-z0-9]+", measure).group().lower(), measure) for measure in measures)
             for cause, measures in CONSTRUCT_MEASURES.items()}
_SYMPTOM_OUTCOMES = {cause: re.compile(pattern, re.IGNORECASE) for cause, pattern in SYMPTOM_OUTCOMES.items()}


class _AnchorPatterns(NamedTuple):
    """One pattern for all the places a cause stands, and the term pattern that tells a term from the rest."""

    anywhere: re.Pattern[str]
    term: re.Pattern[str] | None
    abbreviation: re.Pattern[str] | None
    # Where every match comes from when the pattern holds terms alone ("term"), else None: each match is told.
    source: str | None


@functools.lru_cache(maxsize=4096)
def _anchor_pattern(term_pattern: re.Pattern[str] | None, measures: tuple[str, ...],
                    abbreviations: tuple[tuple[str, str], ...]) -> _AnchorPatterns | None:
    """The cause's terms, the abbreviations the abstract defines for a term or a measure, and the cause's
    construct measures, over normalised (lower-case) text. One group around all: named groups or an inline
    flag at the top would stop the scan from skipping to the alternatives' first letters (tenfold slower)."""
    measure = re.compile("|".join(measures), re.IGNORECASE) if measures else None
    shorts = [re.escape(normalised_text(short)) for short, long_form in abbreviations
              if term_pattern is not None and term_pattern.search(normalised_text(long_form))
              or measure is not None and measure.search(long_form)]
    parts = [term_pattern.pattern] if term_pattern is not None else []
    abbreviation = re.compile(f"(?:{'|'.join(shorts)})(?!\\w)", re.ASCII) if shorts else None
    if abbreviation is not None:
        parts.append(abbreviation.pattern)
    if measures:
        parts.append(f"(?:{'|'.join(measures).lower()})(?!\\w)")
    if not parts:
        return None
    # A match of the terms alone is a term's, unless a term looks behind its start, which `term.match` (its own
    # search from there) cannot see: then each match is told as any other.
    alone = abbreviation is None and not measures and not re.search(r"\\B|\(\?<", parts[0])
    return _AnchorPatterns(re.compile(f"(?:{'|'.join(parts)})", re.ASCII), term_pattern, abbreviation,
                           "term" if alone else None)


def _anchors(article: _Article, patterns: _AnchorPatterns | None, every_sentence: bool = True,
             hits: Sequence[int] | None = None) -> dict[Sentence, list[Anchor]]:
    """The sentences where the cause stands, each with where it stands in them: only these are read. Unless
    `every_sentence`, a sentence the finding screen dropped is left out (it can report nothing); `hits`, where
    given, are the sentences the cause's screen found it in (the pattern holding none of what the screen lacks)."""
    if patterns is None:
        return {}
    if article.part_starts is None:
        article.number_sentences()
    if not every_sentence and hits is not None and article.kept is not None and patterns.abbreviation is None \
            and _within_sentences(patterns.anywhere):
        return _hit_anchors(article, patterns, hits)
    return _screened_anchors(article, patterns, every_sentence)


def _screened_anchors(article: _Article, patterns: _AnchorPatterns,
                      every_sentence: bool) -> dict[Sentence, list[Anchor]]:
    """`_anchors` from one scan of the whole of `normalised`: each match is told its sentence by number (where
    the finding screen dropped the sentence, left out unless `every_sentence`)."""
    return _scanned_anchors(article, patterns, 0, len(article.normalised), None if every_sentence else article.kept)


def _hit_anchors(article: _Article, patterns: _AnchorPatterns, numbers: Sequence[int]) -> dict[Sentence, list[Anchor]]:
    """`_screened_anchors` of the kept sentences where the cause's screen found it (`numbers`, in order): the scan
    runs from the first to the end of the last, as the screen found it in no other kept sentence. Exact for a
    pattern that matches no sentence's end and starts no match at a space (`_within_sentences`): no match then
    runs from one sentence into the next, and a scan that starts where a sentence truly starts finds what the
    scan of the whole text finds there."""
    if not numbers:
        return {}
    starts, true_starts = article.part_starts, article.true_starts
    last = numbers[-1]
    end = starts[last + 1] if last + 1 < len(starts) else len(article.normalised)
    # Where folding changed the length, the part may start inside a sentence: the scan starts at the last true
    # start of a sentence before it.
    start = true_starts[bisect.bisect_right(true_starts, starts[numbers[0]]) - 1]
    return _scanned_anchors(article, patterns, start, end, set(numbers))


def _scanned_anchors(article: _Article, patterns: _AnchorPatterns, start: int, end: int,
                     numbers: set[int] | None) -> dict[Sentence, list[Anchor]]:
    """The anchors of the matches that start in `normalised[start:end]` (the scan starting at `start`), in the
    sentences `numbers` holds (None: any)."""
    found: dict[Sentence, list[Anchor]] = {}
    normalised, starts = article.normalised, article.part_starts
    # A sentence's matches follow one another: they are added together.
    number_read, matches = None, []
    for match in patterns.anywhere.finditer(normalised, start):
        if match.start() >= end:
            break
        number = _anchor_number(normalised, starts, match)
        if number is not None and (numbers is None or number in numbers):
            if number != number_read and matches:
                _add_anchors(found, article, patterns, number_read, matches)
                matches = []
            number_read = number
            matches.append(match)
    if matches:
        _add_anchors(found, article, patterns, number_read, matches)
    return found


def _anchor_number(normalised: str, starts: list[int], match: re.Match[str]) -> int | None:
    """The number of the sentence a match starts, None where it starts no word (the pattern has no leading \b:
    see `_term_pattern`)."""
    at = match.start()
    if at:
        before = normalised[at - 1]
        if before.isascii() and (before.isalnum() or before == "_"):
            return None
    return bisect.bisect_right(starts, at) - 1


def _add_anchors(found: dict[Sentence, list[Anchor]], article: _Article, patterns: _AnchorPatterns, number: int,
                 matches: Sequence[re.Match[str]]) -> None:
    """Add the anchors of the matches that start sentence `number` to its sentence's (sentences equal in text and
    place share one entry)."""
    normalised = article.normalised
    term, abbreviation = patterns.term, patterns.abbreviation
    sentence = article.numbered_sentence(number)
    section = bisect.bisect_right(article.section_firsts, number) - 1
    section_start = article.normalised_starts[section]
    text = article.sections[section][0]
    anchors = found.setdefault(sentence, [])
    for match in matches:
        at = match.start()
        source = patterns.source or (
            "term" if term is not None and term.match(normalised, at)
            else "abbreviation" if abbreviation is not None and abbreviation.match(normalised, at) else "measure")
        if article.same_length[section]:
            # A match runs on to the end of its section at most.
            anchors.append(Anchor(at - article.part_starts[number],
                                  text[at - section_start:match.end() - section_start], source))
        else:
            # Folding "α" to "alpha" lengthens the text: the offset is scaled back onto the section (and its
            # sentence told by `part_starts` alike), the text is as it matched.
            offset = int((at - section_start) * len(text) / max(article.normalised_length(section), 1))
            anchors.append(Anchor(offset - article.where(number)[1], match.group(), source))


# What ends a sentence (stops, closing brackets and quotes) and the sections' separator, and what may stand between
# sentences: a pattern that matches none of the first and starts no match with the second never runs from one
# sentence into the next.
_SENTENCE_ENDS = frozenset(map(ord, ".!?\"'\u201d\u2019)]\0"))
_SPACES = frozenset(code for code in range(0x3001) if chr(code).isspace())


@functools.lru_cache(maxsize=4096)
def _within_sentences(pattern: re.Pattern[str]) -> bool:
    """Whether no match of the pattern can hold a character of `_SENTENCE_ENDS` or start with a space: read from
    its parsed form, and False for any construct this does not know."""
    if _re_parser is None:
        return False
    try:
        items = _re_parser.parse(pattern.pattern, pattern.flags)
        return _holds_none_of(items, _SENTENCE_ENDS) and not _may_start_with(items, _SPACES)[0]
    except (AttributeError, TypeError, ValueError, re.error):
        return False


def _class_may_hold(items: object, characters: frozenset[int]) -> bool:
    """Whether a character class (its parsed items) may match one of `characters`."""
    c = _re_constants
    for op, value in items:
        if op is c.LITERAL:
            if value in characters:
                return True
        elif op is c.RANGE:
            if any(value[0] <= character <= value[1] for character in characters):
                return True
        elif op is c.CATEGORY:
            # Words and digits hold neither what ends a sentence nor a space; a space class holds only spaces.
            if value not in (c.CATEGORY_DIGIT, c.CATEGORY_WORD) and not (
                    value is c.CATEGORY_SPACE and not characters & _SPACES):
                return True
        else:
            return True
    return False


def _holds_none_of(items: object, characters: frozenset[int]) -> bool:
    """Whether no match of the parsed pattern can hold one of `characters`."""
    c = _re_constants
    for op, value in items:
        if op in (c.LITERAL, c.IN):
            if _class_may_hold(value if op is c.IN else [(op, value)], characters):
                return False
        elif op not in (c.AT, c.ASSERT, c.ASSERT_NOT):
            # Assertions match no character; a group or repeat holds what its parts hold; anything else may
            # match anything.
            parts = _parts(op, value)
            if parts is None or not all(_holds_none_of(part, characters) for part in parts):
                return False
    return True


def _may_start_with(items: object, characters: frozenset[int]) -> tuple[bool, bool]:
    """Whether a match of the parsed pattern may start with one of `characters`, and whether it may be empty."""
    c = _re_constants
    for op, value in items:
        if op in (c.LITERAL, c.IN):
            return _class_may_hold(value if op is c.IN else [(op, value)], characters), False
        if op in (c.AT, c.ASSERT, c.ASSERT_NOT):
            continue
        parts = _parts(op, value)
        if parts is None:
            return True, False
        firsts = [_may_start_with(part, characters) for part in parts]
        if any(may for may, _ in firsts):
            return True, False
        optional = any(empty for _, empty in firsts) or op in (c.MAX_REPEAT, c.MIN_REPEAT) and value[0] == 0
        if not optional:
            return False, False
    return False, True


def _parts(op: object, value: object) -> list | None:
    """The parsed parts of a group, an alternation or a repeat; None for any other construct."""
    c = _re_constants
    if op is c.SUBPATTERN:
        return [value[-1]]
    if op is c.BRANCH:
        return value[1]
    if op in (c.MAX_REPEAT, c.MIN_REPEAT):
        return [value[2]]
    return None


# --- step 4: the direction against expect ---------------------------------------------------------------------

_CONTROLS_FIRST = re.compile(
    r"(?:controls?|healthy\s+(?:\w+\s+)?(?:subjects|volunteers|individuals|participants|women|men))\b[^.;]{0,80}?"
    r"\b(?:higher|lower|greater|less|more|fewer|increased|decreased|reduced|elevated)\b[^.;]{0,80}?\bthan\b"
    r"[^.;]{0,40}?\b(?:patients|fibromyalgi\w*|FMS?)\b", re.IGNORECASE)
_OPPOSITE = {"higher": "lower", "lower": "higher"}


def finding_stance(text: str, finding: Finding, expect: str, kind: str, *, title: bool = False,
                   trial: bool = False, aimed_at_cause: bool = True, symptom_outcome: bool = False,
                   other_population: bool = False) -> str | None:
    """Step 4: the stance one finding takes on the cause's prediction, or None where it says nothing about it.

    A no-difference finding contradicts only against health (or a placebo, sham or waiting list in a trial): a
    null against another patient group, between two active treatments, or about whether a link is mediated tests
    no prediction. A treatment's benefit supports when the treatment is aimed at the cause or moves its marker,
    not when it eases a symptom the cause is named after ("sleep quality improved")."""
    # A title names its topic in such words ("Autonomic dysfunction in fibromyalgia: a review"): only a stated
    # direction, null or association there is a finding.
    if title and finding.category in ("state", "benefit"):
        return None
    # "Autonomic dysfunction is common", "drugs that target mitochondrial dysfunction": an abnormality named
    # without a comparison is a finding only where the sentence says it was shown.
    if finding.category == "state" and not cue_matches(text, "comparator") and not cue_matches(text, "evidential"):
        return None
    # Patient subgroups set against each other (clusters, subtypes, responders) say nothing of health; for a
    # trigger, people with and without it are the comparison itself.
    if expect != "associated" and cue_matches(text, "patient_subgroups") \
            and not cue_matches(text, "healthy_comparator"):
        return None
    if (trial or kind == "intervention") and symptom_outcome and not aimed_at_cause:
        return None
    # "Alterations in pain thresholds may result in widespread pain", "early-life stress may increase
    # vulnerability": a named abnormality in a speculation, or what the speculation itself predicts.
    speculations = cue_matches(text, "speculation")
    if speculations and (finding.category == "state" or any(s.start <= finding.start for s in speculations)):
        return None
    direction = finding.direction
    if direction in _OPPOSITE and _CONTROLS_FIRST.search(text):
        direction = _OPPOSITE[direction]
    if direction == "no_difference":
        if cue_matches(text, "null_elsewhere") or cue_matches(text, "patient_comparator") or cue_matches(
                text[max(0, finding.start - 80):finding.end + 40],
                                                                  "mediation"):
            return None
        if other_population and not cue_matches(text, "healthy_comparator"):
            return None
        if (trial or kind == "intervention") and not cue_matches(text, "inactive_comparator"):
            return None
        # A null association tests the cause only against fibromyalgia or its symptoms ("HRV was not associated
        # with pain"), not against another marker ("... not associated with circulating endocannabinoids").
        if _ASSOCIATION_NULL.search(finding.cue) and not cue_matches(text, "healthy_comparator") and not (
                cue_matches(text[finding.start:], "symptom") or _names_fibromyalgia(text[finding.start:])):
            return None
        return "contradicts"
    if kind == "intervention" or trial and cue_matches(text, "treatment"):
        return "supports"
    if expect in ("higher", "lower"):
        if direction == "different":
            return None
        return "supports" if direction == expect else "contradicts"
    return "supports"


class _Verdict(NamedTuple):
    stance: str
    sentence: Sentence
    cue: str
    kind: str
    hedged: bool
    strength: int
    reasons: tuple[str, ...]


_DESIGN_KINDS_REVIEW = frozenset({"meta_analysis", "systematic_review", "narrative_review"})


def _evidence_kind(sentence: str, design: str) -> str:
    """What kind of evidence a deciding sentence gives: its design first for reviews and trials, then its cues."""
    if design in _DESIGN_KINDS_REVIEW or cue_matches(sentence, "review"):
        return "review"
    if design in ("rct", "clinical_trial") or cue_matches(sentence, "treatment"):
        return "intervention"
    if cue_matches(sentence, "comparator"):
        return "comparison"
    if cue_matches(sentence, "association"):
        return "association"
    return _DESIGN_KINDS.get(design, "other")


_PLACEBO_OR_RANDOMISED = re.compile(r"\bplacebo\b|\brandomi[sz]ed\b", re.IGNORECASE)
# What an abstract without a deciding sentence reports where its design does not say, the first that stands
# decides (a treatment only where a placebo or randomisation says it is a trial).
_KIND_CUES = (("review", cue_pattern("review")), ("intervention", _PLACEBO_OR_RANDOMISED),
              ("comparison", cue_pattern("comparator")), ("association", cue_pattern("association")))
_KIND_SCREENS = tuple(union_screen([pattern]) for _, pattern in _KIND_CUES)


def abstract_kinds(articles: Sequence[_Article]) -> list[str]:
    """The kind of study each abstract without a deciding sentence reports: protocols are "other"; the design,
    then the abstract's cues (`_KIND_CUES`). Each cue is screened over all abstracts in one RE2 pass and looked for
    in Python only in those the screen keeps."""
    kinds: list[str | None] = ["other" if article.protocol else _DESIGN_KINDS.get(article.design)
                               for article in articles]
    undecided = [index for index, kind in enumerate(kinds) if kind is None]
    wholes = stand_in_texts(pa.array([articles[index].whole for index in undecided], pa.large_string()))
    for (kind, pattern), screen in zip(_KIND_CUES, _KIND_SCREENS):
        if not undecided:
            break
        found_at = first_screened(wholes, screen)
        left = []
        for position, index in enumerate(undecided):
            if found_at[position] >= 0 and pattern.search(articles[index].whole, found_at[position]):
                kinds[index] = kind
            else:
                left.append(position)
        undecided = [undecided[position] for position in left]
        wholes = wholes.take(pa.array(left, pa.int64()))
    return [kind or "other" for kind in kinds]


def _term_findings(text: str, anchors: Sequence[Anchor]) -> list[tuple[Finding, Anchor]]:
    """The findings about the cause in a sentence: one per clause that holds an anchor and a cue ("tryptophan
    was reduced, whereas serotonin did not differ": two), else the finding the whole sentence gives the first."""
    if cue_matches(text, "anaphoric_null"):
        finding = read_finding(text, anchors[0].start)
        return [(finding, anchors[0])] if finding is not None else []
    spans = clauses(text)
    findings: list[tuple[Finding, Anchor]] = []
    seen: set[tuple[int, int]] = set()
    for anchor in anchors:
        span = next((span for span in spans if span[0] <= anchor.start < span[1]), None)
        if span is None or span in seen:
            continue
        seen.add(span)
        verdict = clause_verdict(clause_findings(text, *span), anchor.start)
        if verdict is not None:
            findings.append((verdict, anchor))
    if findings:
        return findings
    finding = read_finding(text, anchors[0].start)
    return [(finding, anchors[0])] if finding is not None else []


class _Cause(NamedTuple):
    id: str
    expect: str
    # The cause's term named in a treatment ("vagus nerve stimulation"): a trial is aimed at it.
    aimed_at: bool


class _Facts(NamedTuple):
    """What one sentence's reading needs to know of its article."""

    about_fibromyalgia: bool
    trial: bool
    structured: bool
    design: str


# The roles whose sentences are read (step 1).
_READ_ROLES = frozenset({"result", "conclusion", "title"})


@functools.lru_cache(maxsize=65536)
def _may_report(sentence: Sentence) -> bool:
    """Whether a sentence can say anything about any cause: a result, conclusion or title that reports a finding
    (every verdict, and every finding set aside, needs one). A sentence that fails either check is not read for
    its population and construct, nor its article for whom it studies."""
    return sentence.role in _READ_ROLES and has_finding(sentence.text)


@functools.lru_cache(maxsize=65536)
def _read_sentence(sentence: Sentence, anchors: tuple[Anchor, ...], cause: _Cause,
                   facts: _Facts) -> tuple[tuple[_Verdict, ...], tuple[str, ...]]:
    """What one sentence says about the cause, through the four steps, and the reasons worth telling for a
    finding set aside (a pooled population). Cached: articles share sentences, and causes an article's."""
    text = sentence.text
    role = sentence.role
    if role not in _READ_ROLES:
        return (), ()
    population = sentence_population(text, facts.about_fibromyalgia)
    # A trigger that is itself a condition (lupus, IBS) is found as "another population": at the term it is the
    # exposure, not whom the sentence is about.
    others = [m for m in cue_matches(text, "other_population")
              if not any(m.start <= anchor.start < m.end for anchor in anchors)]
    if cause.expect == "associated":
        if not _links_trigger(text, anchors):
            return (), ()
    elif population != "fibromyalgia":
        if population == "pooled" and read_finding(text, anchors[0].start) is not None:
            return (), ("a finding for a pooled population set aside",)
        return (), ()
    construct = [anchor for anchor in anchors
                 if not listed_with_symptoms(text, anchor) and not _other_population_after(text, anchor)]
    if not construct:
        return (), ()
    # "... was associated with more efficient pain modulation in both groups": the same in patients and controls.
    if cue_matches(text, "within_groups") and cue_matches(text, "association"):
        return (), ()
    findings = _term_findings(text, construct)
    kind = _evidence_kind(text, facts.design)
    hedged = bool(cue_matches(text, "hedge"))
    strength = 2 * bool(cue_matches(text, "comparator")) + _names_fibromyalgia(text)
    verdicts = []
    for finding, anchor in findings:
        if _named_as_consequence(text, finding, anchor) or _null_about_another(text, finding, anchor):
            continue
        symptom_outcome = _SYMPTOM_OUTCOMES.get(cause.id)
        symptom = bool(symptom_outcome and symptom_outcome.match(text, anchor.start))
        stance = finding_stance(text, finding, cause.expect, kind, title=role == "title", trial=facts.trial,
                                aimed_at_cause=cause.aimed_at, symptom_outcome=symptom,
                                other_population=bool(others))
        if stance is None:
            continue
        reasons = _reasons(sentence, role, anchor, finding, hedged, facts.structured)
        verdicts.append(_Verdict(stance, sentence, finding.cue, kind, hedged, strength, reasons))
    return tuple(verdicts), ()


_POPULATION_AFTER = re.compile(r"[^,;]{0,40}?\b(?:in|among|of)\s+(?:patients\s+with\s+|people\s+with\s+)?")


def _other_population_after(text: str, anchor: Anchor) -> bool:
    """Step 2 at the term: "... and autonomic symptoms in ME, and ... in FM": the term's own phrase names
    another population."""
    end = anchor.start + len(anchor.text)
    lead = _POPULATION_AFTER.match(text, end)
    if lead is None:
        return False
    others = cue_matches(text[lead.end():lead.end() + 50], "other_population")
    return bool(others) and others[0].start == 0 and not _names_fibromyalgia(text[end:lead.end() + others[0].end])


# Between fibromyalgia and a trigger named in one list ("fibromyalgia (17%), irritable bowel syndrome (34%)"),
# none of these words stands: the two are counted side by side, not linked.
_LINKING_WORDS = re.compile(r"\b(?:with|in|among|after|before|than|was|were|is|are|had|has|have|of|by|following|"
                            r"preceded|developed|associated|linked|risk|odds)\b", re.IGNORECASE)


def _links_trigger(text: str, anchors: Sequence[Anchor]) -> bool:
    """Step 2 and 3 for a trigger ("associated"): the sentence links the cause's term to fibromyalgia by an
    occurrence or an association, the term not being the population studied nor listed beside fibromyalgia."""
    fibromyalgia = [match.start() for match in _FIBROMYALGIA_NAME.finditer(text)]
    if not fibromyalgia or not cue_matches(text, "trigger_link"):
        return False
    if term_as_population(text, anchors[0].text) and not cue_matches(text, "occurrence"):
        return False
    for anchor in anchors:
        for position in fibromyalgia:
            low, high = sorted((position, anchor.start))
            between = text[low:high]
            if _LINKING_WORDS.search(between.split(" ", 1)[1] if " " in between else ""):
                return True
    return False


_ASSOCIATION_NULL = re.compile(r"associat|correlat|relat|link|predict", re.IGNORECASE)
_OBJECT_LEAD = re.compile(r"\s*(?:\w+\s+){0,2}?(?:with|to)\b", re.IGNORECASE)


def _null_about_another(text: str, finding: Finding, anchor: Anchor) -> bool:
    """Step 3: "choroidal vascularity was not associated with autonomic symptom burden" tests the choroid: a null
    association counts for the cause only where the cause is its subject, not its object."""
    return (finding.direction == "no_difference" and bool(_ASSOCIATION_NULL.search(finding.cue))
            and anchor.start >= finding.end and _OBJECT_LEAD.match(text, finding.end) is not None)


def _named_as_consequence(text: str, finding: Finding, anchor: Anchor) -> bool:
    """Step 3: "bile acid alterations are implicated in nociplastic pain": the finding's cue qualifies what
    comes before the linking verb, the cause stands after it as a consequence."""
    return any(finding.end <= link.start and link.end <= anchor.start for link in cue_matches(text, "consequence"))


def _reasons(sentence: Sentence, role: str, anchor: Anchor, finding: Finding, hedged: bool,
             structured: bool) -> tuple[str, ...]:
    """Why a reading is low-confidence; none makes it high."""
    reasons = []
    if hedged:
        reasons.append("hedged")
    if anchor.source == "abbreviation":
        reasons.append(f"construct inferred from the abbreviation {anchor.text}")
    elif anchor.source == "measure":
        reasons.append(f"construct inferred from a measure ({anchor.text})")
    if role == "title":
        reasons.append("read from the title only")
    elif not structured and not (cue_matches(sentence.text, "role_result")
                                 or cue_matches(sentence.text, "role_conclusion")):
        reasons.append("unstructured abstract, a result by its place only")
    if finding.category == "state" and not cue_matches(sentence.text, "comparator"):
        reasons.append("an abnormality named without a comparison")
    return tuple(reasons)


# A treatment noun this close after a cause's term names a treatment of it ("vagus nerve stimulation").
_TREATMENT_AFTER_TERM = 15


def _aimed_at(anchors: dict[Sentence, list[Anchor]]) -> bool:
    """Whether the study's treatment is named after the cause ("vagus nerve stimulation", "HRV biofeedback")."""
    for sentence, found in anchors.items():
        for anchor in found:
            end = anchor.start + len(anchor.text)
            nouns = cue_matches(sentence.text[end:end + _TREATMENT_AFTER_TERM + 20], "treatment_noun")
            if nouns and nouns[0].start <= _TREATMENT_AFTER_TERM:
                return True
    return False


def _read_pair(article: _Article, term_pattern: re.Pattern[str] | None, cause_id: str, expect: str,
               own_terms: bool = False) -> dict:
    """One pair's row; `own_terms`: the terms found are all the cause's own (no "re:" term or abbreviation that
    tagging found), which its screen holds."""
    set_aside: list[str] = []
    verdicts: list[_Verdict] = []
    # A protocol reports no result: its sentences are not looked for.
    cause_measures = _MEASURES.get(cause_id)
    measures = tuple(measure for word, measure in cause_measures if word in article.normalised) \
        if cause_measures and not article.protocol else ()
    patterns = None if article.protocol or term_pattern is None and not measures else _anchor_pattern(
        term_pattern, measures, article.abbreviations)
    anchors = _anchors(article, patterns, every_sentence=False,
                       hits=article.hits.get(cause_id, ()) if own_terms else None)
    # The article's facts and where the cause is aimed at are looked at only where a sentence can report.
    reporting = {sentence: found for sentence, found in anchors.items() if _may_report(sentence)}
    if reporting:
        # Where the study's treatment is aimed (told from the cause's anchors in every sentence) matters only where
        # the cause stands as a symptom outcome in a sentence read (`finding_stance`).
        symptom_outcome = _SYMPTOM_OUTCOMES.get(cause_id)
        aimed_at = symptom_outcome is not None and any(
            symptom_outcome.match(sentence.text, anchor.start) for sentence, found in reporting.items()
            for anchor in found) and _aimed_at(_anchors(article, patterns))
        cause = _Cause(cause_id, expect, aimed_at)
        facts = article.facts
        for sentence, found in reporting.items():
            read, reasons = _read_sentence(sentence, tuple(found), cause, facts)
            verdicts += read
            set_aside += reasons
    # The title restates the abstract: it decides only where no abstract sentence does.
    from_abstract = [v for v in verdicts if v.sentence.role != "title"]
    verdicts = from_abstract or verdicts[:1]
    # The clearest statement decides: high confidence first, then one that names fibromyalgia against controls.
    verdicts = sorted(verdicts, key=lambda v: (bool(v.reasons), -v.strength))
    supporting = [v for v in verdicts if v.stance == "supports"]
    contradicting = [v for v in verdicts if v.stance == "contradicts"]
    if supporting and contradicting:
        deciding, stance = [supporting[0], contradicting[0]], "mixed"
    elif verdicts:
        deciding, stance = [verdicts[0]], verdicts[0].stance
    else:
        reason = "; ".join(dict.fromkeys(set_aside))
        return {"stance": "no_finding", "evidence_kind": article.kind, "hedged": False, "section": None,
                "sentence": None, "cue": None, "confidence": "low" if reason else "high",
                "confidence_reason": reason or None}
    # One sentence can hold both findings ("... reduced, whereas ... did not differ"): it is given once.
    sentences_shown = list(dict.fromkeys(v.sentence for v in deciding))
    reasons = list(dict.fromkeys(reason for v in deciding for reason in v.reasons))
    return {
        "stance": stance,
        "evidence_kind": deciding[0].kind,
        "hedged": any(v.hedged for v in deciding),
        # An unstructured abstract has no labels to give: None, not a blank line per sentence.
        "section": "\n".join(shown.section or "" for shown in sentences_shown)
                   if any(shown.section for shown in sentences_shown) else None,
        "sentence": "\n".join(shown.text for shown in sentences_shown),
        "cue": "\n".join(v.cue for v in deciding),
        "confidence": "low" if reasons else "high",
        "confidence_reason": "; ".join(reasons) or None,
    }


def read_stances(articles: pd.DataFrame, tags: pd.DataFrame, facets: pd.DataFrame,
                 stance_rules: StanceRules) -> pd.DataFrame:
    """Read the stance of every (article, cause) tag: one row per pair with STANCE_COLUMNS.

    `articles` is `store.load_articles_frame`'s (pmid, title, abstract_sections, publication_types), `tags`
    `tagging.tag_articles`' tags (pmid, hypothesis_id, matched_terms), `facets` its facets (pmid, design).
    Tags of the baseline or of unknown hypotheses get no row.
    """
    # A batch makes some million small objects that reference counting frees.
    with collection_paused():
        return _read_stances(articles, tags, facets, stance_rules)


def _read_stances(articles: pd.DataFrame, tags: pd.DataFrame, facets: pd.DataFrame,
                  stance_rules: StanceRules) -> pd.DataFrame:
    pairs = tags[tags["hypothesis_id"].isin(list(stance_rules.expects))]
    if pairs.empty:
        return pd.DataFrame({name: pd.Series(dtype=object) for name in STANCE_COLUMNS}).astype(
            {"pmid": "int64", "hedged": bool, "n_patients": "Int64", "n_controls": "Int64"})
    # Plain lists by PMID: a pandas row lookup per article would cost more than reading it.
    columns = {name: (articles[name].tolist() if name in articles else [None] * len(articles))
               for name in ("title", "abstract", "abstract_sections", "publication_types")}
    position_of = {int(pmid): position for position, pmid in enumerate(articles["pmid"].tolist())}
    designs = dict(zip(facets["pmid"].astype("int64").tolist(), facets["design"].tolist())) \
        if "design" in facets else {}
    term_patterns = {cause: tuple(sorted(terms.items())) for cause, terms in stance_rules.term_patterns.items()}
    # Each article's sections, then the sample sizes of all of them in one vectorised pass.
    wanted = list(dict.fromkeys(int(pmid) for pmid in pairs["pmid"].tolist()))
    sections_of = {pmid: _sections_of(columns["abstract_sections"][position_of[pmid]],
                                      columns["abstract"][position_of[pmid]]) for pmid in wanted}
    sizes_of = dict(zip(wanted, sample_sizes_of(
        [" ".join(section.get("text") or "" for section in sections_of[pmid]) for pmid in wanted])))
    titles = [(columns["title"][position_of[pmid]] or "").strip() for pmid in wanted]
    title_texts = stand_in_texts(pa.array(titles, pa.large_string()))
    articles_read = [_read_article(title, sections_of[pmid], columns["publication_types"][position_of[pmid]],
                                   str(designs.get(pmid, "other")), sizes_of[pmid], may_be_protocol)
                     for pmid, title, may_be_protocol in zip(
                         wanted, titles, screened(title_texts, _PROTOCOL_SCREEN).to_pylist())]
    for article, may_name_other in zip(articles_read, screened(title_texts, _OTHER_POPULATION_SCREEN).to_pylist()):
        article.title_may_name_other = may_name_other
    article_of = dict(zip(wanted, articles_read))
    for article, kind in zip(articles_read, abstract_kinds(articles_read)):
        article.kind = kind
    causes_of: dict[int, set[str]] = {}
    for pmid, hypothesis_id in zip(pairs["pmid"].tolist(), pairs["hypothesis_id"].tolist()):
        causes_of.setdefault(int(pmid), set()).add(hypothesis_id)
    may_find = dict(zip(wanted, _causes_that_may_report(articles_read, [causes_of[pmid] for pmid in wanted],
                                                        _cause_screens(stance_rules))))
    rows = []
    # Per (cause, labels): whether the labels are all the cause's own terms (a "re:" term or an abbreviation tagging
    # found is not in the screens), and once a pair reads them, their pattern. Many articles share them.
    own_terms_of: dict[tuple[str, tuple[str, ...]], bool] = {}
    pattern_cache: dict[tuple[str, tuple[str, ...]], re.Pattern[str] | None] = {}
    for pmid, hypothesis_id, matched_terms in pairs[["pmid", "hypothesis_id", "matched_terms"]].itertuples(
            index=False, name=None):
        pmid = int(pmid)
        article = article_of[pmid]
        n_patients, n_controls = article.sizes
        key = (hypothesis_id, _term_labels(matched_terms))
        own_terms = own_terms_of.get(key)
        if own_terms is None:
            own_terms = own_terms_of[key] = all(label in stance_rules.term_patterns[hypothesis_id] for label in key[1])
        if hypothesis_id not in may_find[pmid] and own_terms:
            rows.append((pmid, hypothesis_id, "no_finding", article.kind, False, None, None, None, n_patients,
                         n_controls, "high", None))
            continue
        pattern = pattern_cache.get(key, False)
        if pattern is False:
            pattern = pattern_cache[key] = _term_pattern(term_patterns[hypothesis_id], key[1])
        row = _read_pair(article, pattern, hypothesis_id, stance_rules.expects[hypothesis_id], own_terms)
        rows.append((pmid, hypothesis_id, row["stance"], row["evidence_kind"], row["hedged"], row["section"],
                     row["sentence"], row["cue"], n_patients, n_controls, row["confidence"],
                     row["confidence_reason"]))
    frame = pd.DataFrame.from_records(rows, columns=list(STANCE_COLUMNS))
    return frame.astype({"pmid": "int64", "hedged": bool, "n_patients": "Int64", "n_controls": "Int64"})


# --- the screens: which pairs can report anything -----------------------------------------------------------------

# A term or measure that starts in a sentence may run on past its end: each sentence's window reaches this far on.
_TERM_REACH = 80
# Any cue of which `has_finding` needs one.
_FINDING_SCREEN = union_screen([cue_pattern(category) for category in FINDING_CATEGORIES])
_TRIAL_SCREEN = union_screen([_TRIAL])
# Titles are screened for these in one RE2 pass each over the batch.
_OTHER_POPULATION_SCREEN = union_screen([cue_pattern("other_population")])
_PROTOCOL_SCREEN = union_screen([_PROTOCOL_TITLE])


class _CauseScreen(NamedTuple):
    """A cause's screen for all its terms and construct measures (RE2, over normalised text), and the same in
    Python's re for the long forms of the abbreviations an abstract defines (as `_anchor_pattern` tries them)."""

    screen: str
    terms: re.Pattern[str] | None
    measures: re.Pattern[str] | None

    def names(self, long_forms: Sequence[tuple[str, str]]) -> bool:
        """Whether one of the long forms (each with its normalised text) names the cause."""
        return any(self.terms is not None and self.terms.search(normalised) is not None
                   or self.measures is not None and self.measures.search(long_form) is not None
                   for long_form, normalised in long_forms)


def _cause_screens(stance_rules: StanceRules) -> dict[str, _CauseScreen]:
    """Per cause with terms or measures, its screens."""
    return _cause_screens_of(tuple((cause, tuple(terms.values())) for cause, terms in stance_rules.term_patterns.items()))


@functools.lru_cache(maxsize=16)
def _cause_screens_of(terms: tuple[tuple[str, tuple[str, ...]], ...]) -> dict[str, _CauseScreen]:
    screens = {}
    for cause, expressions in terms:
        measures = "|".join(measure for _, measure in _MEASURES.get(cause, ()))
        # As `_anchor_pattern` joins them: lower-cased, over normalised text.
        in_text = [*expressions, f"(?:{measures.lower()})"] if measures else list(expressions)
        if in_text:
            screens[cause] = _CauseScreen(
                union_screen(in_text, ascii_classes=True), re.compile("|".join(expressions), re.ASCII) if expressions else None,
                re.compile(measures, re.IGNORECASE) if measures else None)
    return screens


def _causes_that_may_report(articles: Sequence[_Article], causes: Sequence[set[str]],
                            screens: dict[str, _CauseScreen]) -> list[set[str]]:
    """Per article, the causes (of those it is tagged with) that may stand in a sentence that may report a
    finding: a sentence that passes the finding screen, with a window that passes the cause's screen, and then
    `_may_report`. Every other pair has no sentence to read and is `no_finding`; the screens only over-select, so
    the readings stay exact. Each article screened keeps its sentences numbered, which of them the finding screen
    kept, and per cause the kept ones its screen found it in.

    All the sentences of the batch are screened together, in one RE2 pass per cause over the windows left; the
    sentences and windows are cut from the articles' texts as arrays, not one Python string each."""
    may_report: list[set[str]] = [set() for _ in articles]
    chosen = []
    for index, article in enumerate(articles):
        if article.protocol:
            continue
        # The causes for which the abstract defines an abbreviation (which the screens do not hold) are read.
        long_forms = [(long_form, normalised_text(long_form)) for _, long_form in article.abbreviations]
        may_report[index] = {cause for cause in causes[index]
                             if cause not in screens or long_forms and screens[cause].names(long_forms)}
        chosen.append(index)
    if not chosen:
        return may_report
    # Each sentence's start and end in its article's sections joined by NUL, and where the part of `normalised`
    # that `_anchors` tells to be the sentence's starts.
    bounds: list[int] = []
    counts = []
    for index in chosen:
        numbered = articles[index].number_sentences()
        bounds += numbered
        counts.append(len(numbered) // 2)
    owners = np.repeat(np.asarray(chosen, dtype=np.int64), counts)
    local = np.asarray(bounds, dtype=np.int64)
    # The stand-ins are ASCII, one character for one: offsets into the texts are offsets into their bytes.
    texts, text_bases = _text_bytes(stand_in_texts(pa.array(
        ["\0".join(text for text, _, _ in articles[index].sections) for index in chosen], pa.large_string())))
    normalised_texts = stand_in_texts(pa.array([articles[index].normalised for index in chosen], pa.large_string()))
    normalised, normalised_bases = _text_bytes(normalised_texts)
    for index, trial_from in zip(chosen, first_screened(normalised_texts, _TRIAL_SCREEN)):
        articles[index].trial_from = trial_from
    article_numbers = np.repeat(np.arange(len(chosen)), counts)
    # Sentences and the gaps between them alternate: every other string is a sentence.
    sentences = pa.LargeStringArray.from_buffers(
        len(local) - 1, pa.py_buffer(local + np.repeat(text_bases[article_numbers], 2)), pa.py_buffer(texts))
    finding = screened(sentences.take(pa.array(np.arange(0, len(local), 2))), _FINDING_SCREEN).to_numpy(
        zero_copy_only=False)
    # Where each sentence's part of `normalised` starts and where the next one's does (its article's end last).
    part_starts = np.fromiter(itertools.chain.from_iterable(articles[index].part_starts for index in chosen),
                              dtype=np.int64, count=len(owners)) + normalised_bases[article_numbers]
    part_ends = np.append(part_starts[1:], 0)
    lasts = np.cumsum(counts) - 1
    part_ends[lasts[np.asarray(counts) > 0]] = normalised_bases[1:][np.asarray(counts) > 0]
    first = 0
    for index, count in zip(chosen, counts):
        articles[index].kept = set(np.flatnonzero(finding[first:first + count]).tolist())
        first += count
    kept = np.flatnonzero(finding)
    starts, ends = part_starts[kept], part_ends[kept]
    # A window runs from the part's start to `_TERM_REACH` past its end, within its article.
    windows = _cut(normalised, starts, np.minimum(ends + _TERM_REACH, normalised_bases[article_numbers[kept] + 1]))
    lengths = ends - starts
    owners_kept = owners[kept]
    # Each kept sentence's number within its article.
    numbers_kept = (np.arange(len(owners)) - np.repeat(np.cumsum([0, *counts[:-1]]), counts))[kept]
    tagged = np.zeros(len(articles), dtype=bool)
    for cause, cause_screen in screens.items():
        tagged[:] = False
        tagged[[index for index in chosen if cause in causes[index]]] = True
        positions = np.flatnonzero(tagged[owners_kept])
        if not len(positions):
            continue
        # The leftmost match of the screen comes no later than any match of the pattern: a term that starts in
        # the sentence's part makes it start there too (a term in the window's reach beyond does not).
        found_at = pc.find_substring_regex(windows.take(pa.array(positions)), cause_screen.screen).to_numpy(
            zero_copy_only=False)
        hits = (found_at >= 0) & (found_at < lengths[positions])
        for owner, number in zip(owners_kept[positions[hits]].tolist(), numbers_kept[positions[hits]].tolist()):
            article = articles[owner]
            article.hits.setdefault(cause, []).append(number)
            if cause not in may_report[owner] and _may_report(article.numbered_sentence(number)):
                may_report[owner].add(cause)
    return may_report


def _text_bytes(texts: pa.Array) -> tuple[bytes, np.ndarray]:
    """An ASCII string array's characters, all texts one after another, and where each text starts (and the
    last ends) in them."""
    _, offsets, data = texts.buffers()
    bases = np.frombuffer(offsets, dtype=np.int64)[texts.offset:texts.offset + len(texts) + 1]
    return data.to_pybytes() if data is not None else b"", bases


def _cut(characters: bytes, starts: np.ndarray, ends: np.ndarray) -> pa.Array:
    """The strings characters[start:end] (ASCII), as one string array."""
    pieces = [characters[start:end] for start, end in zip(starts.tolist(), ends.tolist())]
    offsets = np.concatenate(([0], np.cumsum([len(piece) for piece in pieces], dtype=np.int64)))
    return pa.LargeStringArray.from_buffers(len(pieces), pa.py_buffer(offsets), pa.py_buffer(b"".join(pieces)))


def _sections_of(sections: object, abstract: str | None) -> list[dict]:
    """The stored sections, or for an abstract stored as text only its inline labels' sections."""
    if isinstance(sections, (list, tuple)) and len(sections):
        return [dict(section) for section in sections]
    return sections_from_text(abstract or "")
