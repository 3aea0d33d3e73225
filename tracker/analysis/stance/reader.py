"""Stance: does an article support or contradict the cause it is tagged with, and which sentence says so.

Pure like `tagging`: text and frames in, frames out; no I/O, no clock, no network. The values it produces are
`models.STANCES` and `models.EVIDENCE_KINDS`.

How a pair (article, cause) is read:
1. The abstract is split into sentences (`split_sentences`: a rule-based splitter that keeps "vs.", "et al.",
   "e.g.", "Fig.", decimals and "p < 0.05" inside their sentence). The sentences read are those of the results
   and conclusions sections of a structured abstract, or the second half (at least the last three sentences) of
   an unstructured one; the title decides only where no abstract sentence does (never by a topic word such as
   "dysfunction", nor when it asks a question).
2. A sentence is a candidate when the cause's terms occur in it (tagging's compiled terms, with the
   abbreviations the abstract defines for them), it is not an aim, method or outlook ("we aimed to", "will
   be", "further studies are needed"), and it is about the fibromyalgia group: another population named
   without fibromyalgia ("in patients with rheumatoid arthritis") leaves it out.
3. `finding_direction` reads its finding: the sentence is cut into clauses at "but", "whereas", ";" ...; in
   the clause that holds the term, the cue nearest the term decides. Cues are the rows of `CUES`, data in the
   manner of medspaCy's ConText rules: a pattern, its category, the direction it gives and its scope. A
   negation ("not", "no", "failed to") turns a direction or difference cue that follows within its scope into
   "no difference"; a pseudo-negation ("not only") is no negation; "controls had higher X than patients" is
   read with the groups swapped.
4. The finding is compared with the cause's `expect`: the predicted direction, or for "abnormal" and
   "associated" any difference or association, supports; the opposite direction, or no difference,
   contradicts; a difference without a direction says nothing about a directional prediction. A treatment result (a trial, "placebo", "treated with") is `intervention` evidence: a benefit
   supports, no effect contradicts. A null finding against another patient group is not a null.
5. Supporting and contradicting sentences in one article make it `mixed`; none make it `no_finding`.

Each row keeps the deciding sentence exactly as in the abstract (for `mixed`: the supporting and the
contradicting sentence, one a line), its section label ("TITLE" for the title, empty for an unstructured
abstract), the cue text, `hedged` (the sentence carries may, might, suggest, ...), and the sample sizes the
abstract states ("74 women with fibromyalgia and 30 healthy controls").
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import pandas as pd

from tracker.config import EXPECTS, Hypothesis
from tracker.models import EVIDENCE_KINDS, STANCES, UNREAD_STANCE
from tracker.analysis.stance.cues import CUES, CueMatch, clauses, cue_matches, term_as_population
from tracker.analysis.stance.direction import DIRECTIONS, Finding, clause_findings, clause_verdict, read_finding
from tracker.analysis.stance.sentences import (
    _METHOD_LABEL, _RESULT_CATEGORIES, _RESULT_LABEL, _UNSTRUCTURED_MINIMUM, sections_from_text, split_sentences)
from tracker.analysis.stance.sizes import sample_sizes
from tracker.tagging import Rules, normalised_text

__all__ = [
    "CUES", "DIRECTIONS", "EVIDENCE_KINDS", "STANCES", "STANCE_COLUMNS", "UNREAD_STANCE", "StanceRules",
    "compile_stance_rules", "finding_direction", "read_finding", "read_stances", "sample_sizes",
    "sections_from_text", "split_sentences",
]

# Bump when a cue, the splitter or the reading rules in this module change: every stored stance then counts as
# made by other rules, and the next fetch or `tracker retag` reads it again.
STANCE_RULES_VERSION = "2026-12-01.9"

STANCE_COLUMNS: tuple[str, ...] = ("pmid", "hypothesis_id", "stance", "evidence_kind", "hedged", "section",
                                   "sentence", "cue", "n_patients", "n_controls")

class Sentence(NamedTuple):
    text: str
    section: str | None


def _is_result_section(section: dict) -> bool:
    category = (section.get("nlm_category") or "").upper()
    if category in _RESULT_CATEGORIES:
        return True
    if category and category != "UNASSIGNED":
        return False
    label = section.get("label") or ""
    return bool(_RESULT_LABEL.search(label)) and not _METHOD_LABEL.search(label)


def _result_sentences(title: str, sections: Sequence[dict]) -> list[Sentence]:
    """The sentences that report results, in the abstract's order, then the title (unless it asks a question)."""
    labelled = [section for section in sections if section.get("label") or section.get("nlm_category")]
    chosen = [section for section in labelled if _is_result_section(section)]
    sentences: list[Sentence] = []
    if chosen:
        for section in chosen:
            text = section.get("text") or ""
            sentences += [Sentence(text[start:end], section.get("label") or section.get("nlm_category"))
                          for start, end in split_sentences(text)]
    else:
        # Unstructured (or labels that name no results): the results and conclusions come last.
        every = [Sentence((section.get("text") or "")[start:end], section.get("label"))
                 for section in sections for start, end in split_sentences(section.get("text") or "")]
        first = max(0, min(len(every) - _UNSTRUCTURED_MINIMUM, len(every) // 2))
        sentences = every[first:]
    title = (title or "").strip()
    if title and not title.endswith("?"):
        sentences.append(Sentence(title, "TITLE"))
    return sentences


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
        if term.hypothesis_id in patterns:
            patterns[term.hypothesis_id][term.text] = term.pattern.pattern
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
    return re.compile("|".join(f"(?:{part})" for part in parts), re.ASCII) if parts else None


class _Verdict(NamedTuple):
    stance: str
    sentence: Sentence
    cue: str
    kind: str
    hedged: bool
    strength: int


_DESIGN_KINDS = {"meta_analysis": "review", "systematic_review": "review", "narrative_review": "review",
                 "rct": "intervention", "clinical_trial": "intervention", "case_control": "comparison",
                 "cohort": "association", "observational": "association"}


def _evidence_kind(sentence: str, design: str) -> str:
    """What kind of evidence a deciding sentence gives: its design first for reviews and trials, then its cues."""
    if _DESIGN_KINDS.get(design) == "review" or cue_matches(sentence, "review"):
        return "review"
    if design in ("rct", "clinical_trial") or cue_matches(sentence, "treatment"):
        return "intervention"
    if cue_matches(sentence, "comparator"):
        return "comparison"
    if cue_matches(sentence, "association"):
        return "association"
    return _DESIGN_KINDS.get(design, "other")


def _abstract_kind(text: str, design: str, protocol: bool) -> str:
    """The kind of study an abstract without a deciding sentence reports: protocols are "other"; the design,
    then the abstract's cues (a treatment only where a placebo or randomisation says it is a trial)."""
    if protocol:
        return "other"
    if design in _DESIGN_KINDS:
        return _DESIGN_KINDS[design]
    if cue_matches(text, "review"):
        return "review"
    if re.search(r"\bplacebo\b|\brandomi[sz]ed\b", text, re.IGNORECASE):
        return "intervention"
    if cue_matches(text, "comparator"):
        return "comparison"
    if cue_matches(text, "association"):
        return "association"
    return "other"


_normalised_sentence = functools.lru_cache(maxsize=65536)(normalised_text)


def _anchors(sentence: str, pattern: re.Pattern[str]) -> list[tuple[int, str]]:
    """Where the cause's terms stand in the sentence, and their text there."""
    normalised = _normalised_sentence(sentence)
    found = list(pattern.finditer(normalised))
    if len(normalised) == len(sentence):
        return [(match.start(), sentence[match.start():match.end()]) for match in found]
    # Folding "α" to "alpha" lengthens the text: scale the offsets back onto the sentence.
    scale = len(sentence) / max(len(normalised), 1)
    return [(int(match.start() * scale), match.group()) for match in found]


def _term_findings(text: str, anchors: list[tuple[int, str]]) -> list[Finding]:
    """The findings about the cause in a sentence: one per clause that holds a term and a cue ("tryptophan was
    reduced, whereas serotonin did not differ": two), else the finding the whole sentence gives the first term."""
    if cue_matches(text, "anaphoric_null"):
        finding = read_finding(text, anchors[0][0])
        return [finding] if finding is not None else []
    spans = clauses(text)
    findings: list[Finding] = []
    seen: set[tuple[int, int]] = set()
    for anchor, _ in anchors:
        span = next((span for span in spans if span[0] <= anchor < span[1]), None)
        if span is None or span in seen:
            continue
        seen.add(span)
        verdict = clause_verdict(clause_findings(text, *span), anchor)
        if verdict is not None:
            findings.append(verdict)
    if findings:
        return findings
    finding = read_finding(text, anchors[0][0])
    return [finding] if finding is not None else []


_CONTROLS_FIRST = re.compile(
    r"(?:controls?|healthy\s+(?:\w+\s+)?(?:subjects|volunteers|individuals|participants|women|men))\b[^.;]{0,80}?"
    r"\b(?:higher|lower|greater|less|more|fewer|increased|decreased|reduced|elevated)\b[^.;]{0,80}?\bthan\b"
    r"[^.;]{0,40}?\b(?:patients|fibromyalgi\w*|FMS?)\b", re.IGNORECASE)
_OPPOSITE = {"higher": "lower", "lower": "higher"}


def _sentence_verdicts(sentence: Sentence, pattern: re.Pattern[str], expect: str, design: str,
                       protocol: bool) -> list[_Verdict]:
    """What one sentence says about the cause: no verdict, or one per clause that reports a finding on it."""
    text = sentence.text
    anchors = _anchors(text, pattern)
    if not anchors or protocol or cue_matches(text, "not_a_result"):
        return []
    anchor, term_text = anchors[0]
    about_fibromyalgia = bool(cue_matches(text, "fibromyalgia"))
    # A trigger that is itself a condition (lupus, IBS) is found as "another population": at the term it is
    # the exposure, unless the sentence studies people who have it.
    other_population = [m for m in cue_matches(text, "other_population")
                        if not (expect == "associated" and any(m.start <= at < m.end for at, _ in anchors))]
    if other_population and not about_fibromyalgia:
        return []
    if expect == "associated" and term_as_population(text, term_text) and not cue_matches(text, "occurrence"):
        return []
    findings = _term_findings(text, anchors)
    if not findings:
        return []
    kind = _evidence_kind(text, design)
    hedged = bool(cue_matches(text, "hedge"))
    strength = 2 * bool(cue_matches(text, "comparator")) + about_fibromyalgia
    verdicts = []
    for finding in findings:
        stance = _finding_stance(sentence, text, finding, expect, kind, other_population)
        if stance is not None:
            verdicts.append(_Verdict(stance, sentence, finding.cue, kind, hedged, strength))
    return verdicts


def _finding_stance(sentence: Sentence, text: str, finding: Finding, expect: str, kind: str,
                    other_population: Sequence[CueMatch]) -> str | None:
    """The stance one finding takes on the cause's prediction, or None where it says nothing about it."""
    # A title names its topic in such words ("Autonomic dysfunction in fibromyalgia: a review"): only a stated
    # direction, null or association there is a finding.
    if sentence.section == "TITLE" and finding.category == "state":
        return None
    direction = finding.direction
    if direction in _OPPOSITE and _CONTROLS_FIRST.search(text):
        direction = _OPPOSITE[direction]
    if direction == "no_difference":
        # A null against another patient group says nothing about the prediction, which is against health.
        if other_population and not cue_matches(text, "healthy_comparator") or cue_matches(text, "patient_comparator"):
            return None
        return "contradicts"
    if kind == "intervention":
        return "supports"
    if expect in ("higher", "lower"):
        if direction == "different":
            return None
        return "supports" if direction == expect else "contradicts"
    return "supports"


def _read_pair(title: str, sections: Sequence[dict], pattern: re.Pattern[str] | None, expect: str, design: str,
               protocol: bool, sentences: list[Sentence] | None = None) -> dict[str, object]:
    sentences = _result_sentences(title, sections) if sentences is None else sentences
    verdicts = [] if pattern is None else [
        verdict for sentence in sentences for verdict in _sentence_verdicts(sentence, pattern, expect, design,
                                                                             protocol)]
    # The title restates the abstract: it decides only where no abstract sentence does.
    from_abstract = [v for v in verdicts if v.sentence.section != "TITLE"]
    verdicts = from_abstract or verdicts[:1]
    # The clearest statement decides: one that names fibromyalgia against controls before a passing one.
    verdicts = sorted(verdicts, key=lambda v: -v.strength)
    supporting = [v for v in verdicts if v.stance == "supports"]
    contradicting = [v for v in verdicts if v.stance == "contradicts"]
    if supporting and contradicting:
        deciding, stance = [supporting[0], contradicting[0]], "mixed"
    elif verdicts:
        deciding, stance = [verdicts[0]], verdicts[0].stance
    else:
        whole = " ".join(section.get("text") or "" for section in sections)
        return {"stance": "no_finding", "evidence_kind": _abstract_kind(whole, design, protocol),
                "hedged": False, "section": None, "sentence": None, "cue": None}
    # One sentence can hold both findings ("... reduced, whereas ... did not differ"): it is given once.
    sentences_shown = list(dict.fromkeys(v.sentence for v in deciding))
    return {
        "stance": stance,
        "evidence_kind": deciding[0].kind,
        "hedged": any(v.hedged for v in deciding),
        # An unstructured abstract has no labels to give: None, not a blank line per sentence.
        "section": "\n".join(shown.section or "" for shown in sentences_shown)
                   if any(shown.section for shown in sentences_shown) else None,
        "sentence": "\n".join(shown.text for shown in sentences_shown),
        "cue": "\n".join(v.cue for v in deciding),
    }


_PROTOCOL_TYPES = frozenset({"Clinical Trial Protocol"})
# A protocol reports no results, only what a study will do.
_PROTOCOL_TITLE = re.compile(r"\bprotocol\b\s*(?:for|of)?\s*(?:a|an)?\s*(?:\w+\s+){0,3}(?:study|trial|review)|"
                             r"(?:study|trial|review)\s*:?\s*(?:a\s+)?protocol\b|\bprotocol\s*$", re.IGNORECASE)


def read_stances(articles: pd.DataFrame, tags: pd.DataFrame, facets: pd.DataFrame,
                 stance_rules: StanceRules) -> pd.DataFrame:
    """Read the stance of every (article, cause) tag: one row per pair with STANCE_COLUMNS.

    `articles` is `store.load_articles_frame`'s (pmid, title, abstract_sections, publication_types), `tags`
    `tagging.tag_articles`' tags (pmid, hypothesis_id, matched_terms), `facets` its facets (pmid, design).
    Tags of the baseline or of unknown hypotheses get no row.
    """
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
    rows = []
    article_cache: dict[int, tuple] = {}
    for pmid, hypothesis_id, matched_terms in pairs[["pmid", "hypothesis_id", "matched_terms"]].itertuples(
            index=False, name=None):
        pmid = int(pmid)
        if pmid not in article_cache:
            position = position_of[pmid]
            title = columns["title"][position] or ""
            sections = _sections_of(columns["abstract_sections"][position], columns["abstract"][position])
            types = columns["publication_types"][position]
            protocol = (bool(_PROTOCOL_TYPES.intersection(types if isinstance(types, (list, tuple)) else ()))
                        or bool(_PROTOCOL_TITLE.search(title)))
            text = " ".join(section.get("text") or "" for section in sections)
            article_cache[pmid] = (title, sections, protocol, sample_sizes(text), _result_sentences(title, sections))
        title, sections, protocol, (n_patients, n_controls), sentences = article_cache[pmid]
        pattern = _term_pattern(term_patterns[hypothesis_id], _term_labels(matched_terms))
        row = _read_pair(title, sections, pattern, stance_rules.expects[hypothesis_id],
                         str(designs.get(pmid, "other")), protocol, sentences)
        rows.append({"pmid": pmid, "hypothesis_id": hypothesis_id, **row, "n_patients": n_patients,
                     "n_controls": n_controls})
    frame = pd.DataFrame(rows, columns=list(STANCE_COLUMNS))
    return frame.astype({"pmid": "int64", "hedged": bool, "n_patients": "Int64", "n_controls": "Int64"})


def _sections_of(sections: object, abstract: str | None) -> list[dict]:
    """The stored sections, or for an abstract stored as text only its inline labels' sections."""
    if isinstance(sections, (list, tuple)) and len(sections):
        return [dict(section) for section in sections]
    return sections_from_text(abstract or "")
