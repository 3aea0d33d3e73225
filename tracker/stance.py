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
from tracker.analysis.tagging import Rules, normalised_text

__all__ = [
    "CUES", "DIRECTIONS", "EVIDENCE_KINDS", "STANCES", "STANCE_COLUMNS", "UNREAD_STANCE", "StanceRules",
    "compile_stance_rules", "finding_direction", "read_finding", "read_stances", "sample_sizes",
    "sections_from_text", "split_sentences",
]

# Bump when a cue, the splitter or the reading rules in this module change: every stored stance then counts as
# made by other rules, and the next fetch or `tracker retag` reads it again.
STANCE_RULES_VERSION = "2026-12-01.9"

DIRECTIONS: tuple[str, ...] = ("higher", "lower", "different", "no_difference")
STANCE_COLUMNS: tuple[str, ...] = ("pmid", "hypothesis_id", "stance", "evidence_kind", "hedged", "section",
                                   "sentence", "cue", "n_patients", "n_controls")

# --- the sentence splitter -------------------------------------------------------------------------------------

# Words whose full stop does not end a sentence, compared lower-case without the stop.
_ABBREVIATIONS = frozenset({
    "vs", "v", "al", "e.g", "i.e", "eg", "ie", "cf", "fig", "figs", "tab", "ref", "refs", "no", "nos", "vol",
    "approx", "ca", "resp", "dr", "prof", "mr", "mrs", "ms", "st", "sp", "spp", "incl", "min", "max", "sec",
    "hr", "hrs", "wk", "wks", "mo", "yr", "yrs", "mg", "ml", "kg", "sd", "se", "n.s", "ns", "viz", "etc.,",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "u.s", "u.k", "inc",
    "ltd", "co", "corp", "dept", "univ", "assoc", "eds", "ed", "pp", "p", "ph.d", "m.d", "b.sc", "m.sc",
})
# A candidate end: . ! or ? (and any closing quotes or brackets), then space, then what can start a sentence.
_CANDIDATE_END = re.compile(r"[.!?][\"'\u201d\u2019)\]]*(?=\s+[\"'\u201c(\[]?[A-Z0-9\u0391-\u03a9])")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Split text into sentences; return (start, end) offsets so each sentence is `text[start:end]` exactly.

    A sentence ends at ".", "!" or "?" followed by a space and a capital letter, digit or opening bracket,
    except after an abbreviation ("vs.", "et al.", "e.g.", "Fig.", single capitals such as initials) and inside
    brackets. Decimals ("0.05") and "p < 0.05." at the end of a sentence need no rule: a stop that ends a
    sentence is followed by a space.
    """
    spans: list[tuple[int, int]] = []
    start = _skip_space(text, 0)
    depth = 0
    position = start
    for match in _CANDIDATE_END.finditer(text):
        stop = match.start()
        # Bracket depth up to this stop (str.count runs in C): never split inside "( ... ).".
        depth = max(depth + text.count("(", position, stop) + text.count("[", position, stop)
                    - text.count(")", position, stop) - text.count("]", position, stop), 0)
        position = stop
        if depth > 0:
            continue
        if text[stop] == "." and _is_abbreviation(text, start, stop):
            continue
        spans.append((start, match.end()))
        start = _skip_space(text, match.end())
    tail_end = len(text.rstrip())
    if start < tail_end:
        spans.append((start, tail_end))
    return spans


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position].isspace():
        position += 1
    return position


def _is_abbreviation(text: str, start: int, stop: int) -> bool:
    """Whether the word before the full stop at `stop` (within the sentence begun at `start`) abbreviates."""
    word_start = max(text.rfind(" ", start, stop), text.rfind("\n", start, stop)) + 1
    word = text[max(word_start, start):stop].lstrip("([\"'").lower()
    if not word:
        return False
    # A single capital letter is an initial ("Smith J. found"), a single lower-case one a list item or unit.
    return word in _ABBREVIATIONS or len(word) == 1 and word.isalpha()


# --- sections --------------------------------------------------------------------------------------------------

_RESULT_CATEGORIES = frozenset({"RESULTS", "CONCLUSIONS"})
_RESULT_LABEL = re.compile(
    r"\b(?:results?|findings?|conclusions?|interpretations?|discussion|summary|significance|implications?|"
    r"main results|outcomes? and results|key findings)\b", re.IGNORECASE)
_METHOD_LABEL = re.compile(r"\bmeasures?\b|\bmethods?\b|\bdesign\b|\bsetting\b|\bparticipants\b", re.IGNORECASE)
# "BACKGROUND:" or "MATERIALS AND METHODS:" inline, as some exports flatten structured abstracts.
_INLINE_LABEL = re.compile(r"(?:^|(?<=\s))([A-Z][A-Z/&,\- ]{2,60}[A-Z]):\s+")
# The unstructured abstract's share read as results: its second half, but never fewer than three sentences.
_UNSTRUCTURED_MINIMUM = 3


def sections_from_text(text: str) -> list[dict[str, str | None]]:
    """Split an abstract that carries its labels inline ("BACKGROUND: ... RESULTS: ...") into sections.

    Returns a list of {"text", "label", "nlm_category"} as the store keeps them; one unlabelled section when
    the text has no inline labels.
    """
    matches = list(_INLINE_LABEL.finditer(text))
    if not matches:
        return [{"text": text, "label": None, "nlm_category": None}] if text.strip() else []
    sections = []
    if text[:matches[0].start()].strip():
        sections.append({"text": text[:matches[0].start()].strip(), "label": None, "nlm_category": None})
    for number, match in enumerate(matches):
        end = matches[number + 1].start() if number + 1 < len(matches) else len(text)
        sections.append({"text": text[match.end():end].strip(), "label": match.group(1).strip(),
                         "nlm_category": None})
    return sections


class _Sentence(NamedTuple):
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


def _result_sentences(title: str, sections: Sequence[dict]) -> list[_Sentence]:
    """The sentences that report results, in the abstract's order, then the title (unless it asks a question)."""
    labelled = [section for section in sections if section.get("label") or section.get("nlm_category")]
    chosen = [section for section in labelled if _is_result_section(section)]
    sentences: list[_Sentence] = []
    if chosen:
        for section in chosen:
            text = section.get("text") or ""
            sentences += [_Sentence(text[start:end], section.get("label") or section.get("nlm_category"))
                          for start, end in split_sentences(text)]
    else:
        # Unstructured (or labels that name no results): the results and conclusions come last.
        every = [_Sentence((section.get("text") or "")[start:end], section.get("label"))
                 for section in sections for start, end in split_sentences(section.get("text") or "")]
        first = max(0, min(len(every) - _UNSTRUCTURED_MINIMUM, len(every) // 2))
        sentences = every[first:]
    title = (title or "").strip()
    if title and not title.endswith("?"):
        sentences.append(_Sentence(title, "TITLE"))
    return sentences


# --- the cues --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Cue:
    """One rule: a regular expression (case-insensitive, at word boundaries), its category, the direction it
    gives a finding ("" when it gives none) and its scope ("clause", "sentence", or "forward" for a negation:
    the cues that follow it, up to `_NEGATION_SCOPE_WORDS` words, within the clause)."""

    pattern: str
    category: str
    direction: str = ""
    scope: str = "clause"


_N = r"(?:statistically\s+|clinically\s+)?"  # "no statistically significant ..."
_SIG = r"(?:statistically\s+)?(?:significant(?:ly)?|marked(?:ly)?|substantial(?:ly)?)"
_BE = r"(?:was|were|is|are|been|be|remained|appeared|seemed)"
_GROUP_NOUNS = r"(?:groups?|arms?|conditions|treatments|sessions|time\s*points|visits)"

# Categories: "null" (no difference: a finding by itself), "direction" (higher / lower), "difference"
# (a significant difference or association without a direction), "state" (an abnormal state named: a finding
# in a results sentence, a topic in a title), "negation" (turns what follows in its scope
# into no difference), "pseudo_negation" (looks like a negation, is none), "hedge", "not_a_result" (an aim,
# method, outlook or background), "anaphoric_null" (a null about the difference just stated: it decides the
# sentence), "within_groups" (a change in each group, no difference between them), "fibromyalgia" and "other_population" (who the sentence is about),
# "comparator", "association", "treatment" and "review" (what kind of evidence it is).
CUES: tuple[Cue, ...] = (
    # --- no difference
    Cue(r"no\s+(?:\w+\s+){0,2}(?:differences?|changes?|effects?|associations?|correlations?|relationships?|"
        r"improvements?|increases?|decreases?|reductions?|alterations?|abnormalit(?:y|ies)|impact)"
        r"(?:\s+(?:was|were)\s+(?:found|observed|seen|detected|noted|shown))?", "null", "no_difference"),
    Cue(r"no\s+" + _N + r"significant", "null", "no_difference"),
    Cue(r"(?:did|does|do)\s+not\s+(?:\w+\s+)?(?:differ|change|vary|correlate|predict|affect|alter|influence|"
        r"improve|increase|decrease|reduce|show|reach|demonstrate|reveal|find|detect|yield|lead|result|"
        r"modify|impact|associate|relate|contribute|moderate|mediate|explain|account|support|confirm)\w*",
        "null", "no_difference"),
    Cue(r"(?:was|were|is|are|has|have|had)\s+not\s+(?:been\s+)?(?:\w+\s+)?(?:different|altered|changed|"
        r"affected|associated|correlated|related|linked|influenced|improved|increased|decreased|reduced|"
        r"elevated|significant|predictive|observed|found|detected)\w*", "null", "no_difference"),
    Cue(r"not\s+" + _N + r"significant(?:ly)?(?:\s+(?:different|differ\w*|changed|affected|associated|"
        r"correlated|related|higher|lower|greater|increased|decreased|reduced|improved|elevated))?",
        "null", "no_difference"),
    Cue(r"non-?\s?significant(?:ly)?|insignificant(?:ly)?|\bn\.?s\.?(?=\W)", "null", "no_difference"),
    Cue(r"failed\s+to\s+(?:\w+\s+)?(?:show|reach|demonstrate|detect|find|differ|improve|reduce|increase|"
        r"decrease|change|affect|achieve|produce|predict|correlate)\w*", "null", "no_difference"),
    Cue(r"(?:lack|absence)\s+of\s+(?:a\s+|any\s+)?(?:\w+\s+)?(?:differences?|effects?|associations?|"
        r"correlations?|relationships?|changes?|improvements?|benefits?|efficacy)", "null", "no_difference"),
    Cue(r"" + _BE + r"\s+(?:\w+\s+){0,2}(?:similar|comparable|equivalent|identical|unchanged|unaltered|"
        r"unaffected|stable|indistinguishable|equal)\b", "null", "no_difference"),
    Cue(r"(?:similar|comparable|equivalent|indistinguishable)\s+(?:\w+\s+){0,3}(?:between|among|across|"
        r"in\s+(?:both|all|the\s+two|the\s+three)|to\s+(?:that|those)\s+(?:of|in)|for\s+(?:both|all))",
        "null", "no_difference"),
    Cue(r"(?:similar|comparable)\s+(?:\w+\s+){0,3}(?:in|for|with)\s+(?:\w+\s+){0,4}" + _GROUP_NOUNS,
        "null", "no_difference"),
    Cue(r"(?:remained|was|were)\s+(?:\w+\s+)?(?:unchanged|stable|constant|unaffected)", "null", "no_difference"),
    Cue(r"(?:remained|was|were|is|are)\s+(?:\w+\s+)?(?:normal|within\s+(?:the\s+)?normal\s+(?:range|limits))",
        "null", "no_difference"),
    Cue(r"did\s+not\s+(?:significantly\s+)?(?:differ|change)|neither\s+\w+\s+nor", "null", "no_difference"),
    Cue(r"without\s+(?:a\s+|any\s+)?(?:significant\s+)?(?:differences?|changes?|effects?|improvement)",
        "null", "no_difference"),
    Cue(r"no\s+evidence\s+(?:of|for|that)", "null", "no_difference"),
    Cue(r"did\s+not\s+(?:reach|attain|achieve)\s+(?:statistical\s+)?significance", "null", "no_difference"),
    # A trend is a result that missed significance.
    Cue(r"tend(?:ed|s)?\s+to(?:wards?)?|trend(?:ed|s)?\s+(?:to|toward|towards|for)|(?:a|showed\s+a|positive)\s+trend|"
        r"marginal(?:ly)?(?:\s+significant)?|borderline(?:\s+significant)?", "null", "no_difference"),
    # A null that points back at the difference the clause before stated ("... lower, but the difference was not
    # significant"): it decides that clause too.
    Cue(r"(?:the|this|these|such|that|those)\s+(?:\w+\s+)?differences?\s+(?:\w+\s+){0,5}?(?:was|were|did|does|is|"
        r"are)\s+(?:not|no\s+longer)|(?:the|this|these)\s+(?:\w+\s+)?differences?\s+(?:was|were)\s+"
        r"(?:insignificant|non-?significant)|(?:but|although|though|yet)\s+(?:this\s+was\s+|it\s+was\s+|were\s+|"
        r"was\s+)?not\s+(?:statistically\s+)?significant(?:ly)?|this\s+(?:was|did)\s+not\s+(?:statistically\s+)?"
        r"(?:significant|reach)", "anaphoric_null", "no_difference", scope="sentence"),
    # A change within each group is no difference between them ("pain decreased in both groups").
    Cue(r"(?:in|for|of|within)\s+both\s+(?:\w+\s+){0,2}(?:groups|arms|treatments|conditions|cohorts)|"
        r"both\s+(?:\w+\s+){0,2}(?:groups|arms|treatments|modalities|doses)\s+(?:\w+\s+)?(?:showed|had|"
        r"experienced|led|provided|improved|decreased|increased|reduced)|in\s+(?:either|each)\s+(?:\w+\s+)?group|"
        r"in\s+all\s+(?:\w+\s+)?groups", "within_groups", "no_difference"),
    # --- directions
    Cue(r"(?:higher|increased?|increases|increasing|elevated|elevation|raised|greater|enhanced|augmented|"
        r"exaggerated|amplified|heightened|rise|rose|risen|grew|larger|longer|prolonged|more\s+(?:frequent(?:ly)?|"
        r"common(?:ly)?|likely|often|prevalent|severe|pronounced|intense)|excess(?:ive)?|overexpress\w*|"
        r"upregulat\w*|up-regulat\w*|hyper\w*activ\w*|exceed\w*|doubled|tripled|threefold|twofold|"
        r"(?:two|three|four|\d(?:\.\d+)?)-fold(?:\s+higher)?|gain(?:ed)?)", "direction", "higher"),
    Cue(r"(?:lower|decreased?|decreases|decreasing|reduced|reductions?|reduces?|reducing|diminished|"
        r"attenuated|blunted|depressed|impaired|impairment|weaker|smaller|shorter|fewer|less\s+(?:frequent(?:ly)?|"
        r"common(?:ly)?|likely|often|prevalent|severe|pronounced|efficient|intense)|declined?|declines|"
        r"drop(?:ped)?|fell|fallen|loss|lost|deficien(?:t|cy|cies)|deficits?|depleted|depletion|"
        r"downregulat\w*|down-regulat\w*|suppressed|lowered|low(?=\s+(?:levels?|concentrations?|serum|plasma|"
        r"csf|activity|values?)))", "direction", "lower"),
    Cue(r"improve[sd]?|improvements?|improving|alleviat\w*|relie(?:f|ved)|benefi(?:t|ts|cial)|"
        r"effective(?:ly|ness)?|efficacy|efficacious|worsen\w*", "difference", "different"),
    # --- differences and associations without a direction
    Cue(_SIG + r"\s+(?:\w+\s+)?(?:differ\w*|changes?|changed|effects?|associat\w*|correlat\w*|"
        r"predict\w*|relat\w*|alter\w*|interactions?|contribut\w*)", "difference", "different"),
    Cue(r"differ(?:ed|s)?\s+(?:\w+\s+)?significantly|significantly\s+differ\w*", "difference", "different"),
    Cue(r"(?:positively|negatively|inversely|independently|strongly|moderately|weakly|directly)?\s*"
        r"(?:associated|correlated|linked|related)\s+(?:\w+\s+)?(?:with|to)|correlat(?:ion|ions|ed)|"
        r"associations?\s+(?:between|of|with)|predict(?:ed|s|or|ors|ive)|risk\s+factors?|"
        r"(?:odds|hazard|risk)\s+ratios?|\bOR\b\s*[=:]|\bHR\b\s*[=:]|\bRR\b\s*[=:]", "difference", "different"),
    Cue(r"(?:abnormal(?:ities|ity|ly)?|altered|alterations?|aberrant|dysregulat\w*|dysfunction\w*|disturb\w*|"
        r"disrupt\w*|deranged)", "state", "different"),
    Cue(r"differences?\s+(?:\w+\s+){0,3}(?:between|in)\s+(?:\w+\s+){0,6}(?:groups?|patients|controls)|"
        r"differed\s+(?:from|between)|(?:different|distinct)\s+from", "difference", "different"),
    Cue(r"" + _SIG, "difference", "different"),
    Cue(r"p\s*(?:value\s*)?(?:<|&lt;|\u2264|=)\s*0?\.0[0-4]\d*|p\s*(?:<|&lt;|\u2264)\s*0?\.05\b|"
        r"p\s*(?:<|&lt;)\s*0?\.00\d*|p\s*=\s*0?\.0[0-4]\d*", "difference", "different"),
    Cue(r"p\s*(?:value\s*)?(?:>|&gt;|\u2265)\s*0?\.\d+|p\s*=\s*0?\.(?:0[5-9]|[1-9])\d*|p\s*=\s*1(?:\.0+)?\b",
        "null", "no_difference"),
    # --- negation and what is not one
    Cue(r"not|no|none|never|neither|nor|cannot|can't|didn't|did\s+not|failed\s+to|unable\s+to|absence\s+of|"
        r"lack(?:ed|ing)?\s+(?:of\s+)?", "negation", scope="forward"),
    Cue(r"not\s+only|no\s+longer|whether\s+or\s+not|not\s+(?:yet|necessarily|always|fully|entirely)|"
        r"no\s+(?:doubt|matter)|not\s+(?:previously|been\s+(?:previously|well))|"
        r"(?:could|can)\s+not\s+be\s+(?:excluded|ruled)", "pseudo_negation"),
    # --- hedges
    Cue(r"may|might|could|suggest(?:s|ed|ing|ive)?|possibl[ey]|potential(?:ly)?|appear(?:s|ed)?|seem(?:s|ed)?|"
        r"(?<!more\s)(?<!less\s)likely|preliminary|presumabl[ey]|perhaps|putative(?:ly)?|hypothes[iz]\w*|speculat\w*|indicat(?:e|es|ing)\s+"
        r"a\s+(?:possible|potential)", "hedge", scope="sentence"),
    # --- not a result: aims, methods, outlook, background
    Cue(r"(?:we|this\s+study|the\s+present\s+study|the\s+study|this\s+review|this\s+protocol)\s+"
        r"(?:\w+\s+)?(?:aim(?:s|ed)?|sought|seeks?|set\s+out|intend\w*|plan\w*|propose[sd]?|will)|"
        r"(?:aims?|aimed|objectives?|purpose|goal)\s+(?:of|was|is|were|to)|(?:was|were)\s+(?:measured|assessed|"
        r"evaluated|recorded|collected|determined|analy[sz]ed|quantified|examined)\s+(?:using|by|with|in|at|before)|"
        r"will\s+be|would\s+be\s+(?:needed|required|useful)|(?:is|are)\s+(?:needed|required|warranted)|"
        r"(?:further|future|more|larger)\s+(?:\w+\s+)?(?:studies|research|trials|investigations?|work)|"
        r"remains?\s+(?:unclear|unknown|to\s+be|controversial|elusive)|(?:is|are)\s+(?:unclear|unknown)|"
        r"(?:has|have)\s+been\s+(?:\w+\s+)?(?:proposed|suggested|hypothesi[sz]ed|implicated|reported)|"
        r"previous(?:ly)?\s+(?:\w+\s+)?(?:studies|research|reports|work)\s+(?:have|has)\s+(?:\w+\s+)?(?:shown|"
        r"reported|found|suggested|demonstrated)|it\s+is\s+(?:known|thought|believed)|"
        r"to\s+(?:investigate|examine|evaluate|assess|determine|explore|compare|clarify|test)\s+(?:whether|if|the)",
        "not_a_result", scope="sentence"),
    # --- who the sentence is about
    Cue(r"fibromyalgi\w*|fibrositis|FMS?|JFM|JFMS|FMSs|FM-like|(?:animal|rat|mouse|murine|rodent)\s+models?|"
        r"models?\s+of\s+(?:fibromyalgia|FM|widespread\s+pain|chronic\s+(?:widespread\s+)?pain)|"
        r"reserpine\w*", "fibromyalgia", scope="sentence"),
    Cue(r"rheumatoid\s+arthritis|\bRA\b|osteoarthritis|\bOA\b|(?:systemic\s+)?lupus(?:\s+erythematosus)?|"
        r"\bSLE\b|chronic\s+fatigue(?:\s+syndrome)?|\bCFS\b|\bME/CFS\b|major\s+depress\w*|\bMDD\b|migraine\w*|"
        r"irritable\s+bowel(?:\s+syndrome)?|\bIBS\b|(?:chronic\s+)?low\s+back\s+pain|\bCLBP\b|multiple\s+sclerosis|"
        r"diabet\w*|cancer|ankylosing\s+spondylitis|spondyloarthritis|sj[oö]gren\w*|hypothyroid\w*|"
        r"healthy\s+(?:volunteers|subjects|individuals|participants|people|adults|women|men)\s+(?:who|underwent|"
        r"were\s+(?:deprived|exposed|subjected))|general\s+population|non-?fibromyalgia|"
        r"(?:in|of)\s+(?:\w+\s+)?(?:rats|mice|animals|rodents)|(?:in|among)\s+(?:\w+\s+){0,2}healthy\s+(?:\w+\s+)?"
        r"(?:adults|subjects|individuals|people|volunteers|participants|women|men|populations?)|"
        r"(?:diseases|disorders|conditions|syndromes)\s+(?:such\s+as|affecting|including|like)",
        "other_population", scope="sentence"),
    # Fibromyalgia set against another patient group, not against health: a null there tests no prediction.
    Cue(r"between\s+(?:patients\s+with\s+)?(?:FMS?|fibromyalgia)(?:\s+\w+)?\s+and\s+(?!(?:the\s+|\w+\s+){0,2}"
        r"(?:controls?|healthy|non-?fibromyalgia|non-?FMS?|pain-free|normal))|between\s+(?!(?:the\s+|\w+\s+){0,2}"
        r"(?:controls?|healthy|groups?|non-?fibromyalgia|pain-free|normal))[\w/\-]+(?:\s+[\w/\-]+){0,3}\s+and\s+"
        r"(?:patients\s+with\s+)?(?:FMS?|fibromyalgia)\b|\bwith\s+(?:and|or|versus|vs\.?)\s+without\b",
        "patient_comparator", scope="sentence"),
    # Health as the comparison: what a null must be set against to contradict.
    Cue(r"(?:healthy|pain-free|normal|matched)\s+(?:\w+\s+)?(?:controls?|subjects|volunteers|individuals|"
        r"participants|women|men|people|adults)|\bcontrols?\b|\bHCs?\b|non-?fibromyalgia|general\s+population|"
        r"placebo|norms?\b|reference\s+values", "healthy_comparator", scope="sentence"),
    # --- what kind of evidence
    Cue(r"(?:healthy|matched|pain-free|normal)\s+(?:\w+\s+)?(?:controls?|subjects|volunteers|individuals|"
        r"participants|women|men|people)|control\s+(?:group|subjects|participants|individuals|women)|"
        r"\bcontrols\b|\bHCs?\b|\bHS\b|compared\s+(?:with|to)|than\s+(?:in\s+)?(?:the\s+)?(?:\w+\s+)?"
        r"(?:controls?|healthy)|versus|\bvs\b|between\s+(?:the\s+)?(?:two\s+)?groups", "comparator", scope="sentence"),
    Cue(r"associat\w*|correlat\w*|predict\w*|risk|odds|hazard|prevalen\w*|incidence|cohort|regression|"
        r"linked|relationship|related\s+to", "association", scope="sentence"),
    # The cause named as the population studied ("RA patients", "patients with lupus"), not as an exposure.
    Cue(r"(?:patients|women|men|subjects|individuals|people|those|children|adults|cohort)\s+(?:\w+\s+)?"
        r"(?:with|having|diagnosed\s+with)\s+(?:\w+\s+){0,2}(?:{term})|(?:{term})\s+(?:\w+\s+)?(?:patients|"
        r"women|subjects|population|cohort|group)|(?:in|among|within)\s+(?:\w+\s+)?(?:{term})\b(?!\s+(?:and|or)\b)",
        "term_population", scope="sentence"),
    # Counts of a cause among the people with fibromyalgia: how a trigger's association is stated.
    Cue(r"prevalen\w*|risk|odds|incidence|more\s+(?:common|frequent)|frequen\w*|onset|precede\w*|"
        r"preceding|triggered|develop\w*", "occurrence", scope="sentence"),
    Cue(r"placebo|treat(?:ed|ment|ments)|therap(?:y|ies|eutic)|administ\w+|supplement\w*|intervention\w*|"
        r"randomi[sz]ed|trial|dose|doses|dosing|mg\b|drug|medication|efficacy|efficacious|"
        r"(?:after|following)\s+(?:\d+\s+)?(?:weeks?|months?|sessions?)\s+of|\w+(?:oxetine|ipramine|"
        r"triptyline|gabalin|apentin|nacipran|azodone|traline|talopram|oxamine|amine\s+oxidase)",
        "treatment", scope="sentence"),
    Cue(r"(?:this|our|the\s+present)\s+(?:systematic\s+|narrative\s+|scoping\s+)?(?:review|meta-?analysis)|"
        r"meta-?analys[ie]s|pooled|(?:studies|trials)\s+(?:included|reviewed|showed|found|reported)|"
        r"systematic\s+review|reviewed\s+(?:studies|literature)", "review", scope="sentence"),
)

# A negation reaches the cues that follow it within this many words ("did not show any significant increase").
_NEGATION_SCOPE_WORDS = 6
# Clause boundaries: a negation's scope and a finding's reach end here.
_CLAUSE_BREAK = re.compile(
    r";|\s[\u2013\u2014-]\s|,?\s+(?:but|whereas|while|although|though|however|yet|except|unlike|in\s+contrast|"
    r"conversely|nevertheless|nonetheless|instead)\b,?|,\s+and\s+(?=\w+\s+(?:\w+\s+)?(?:was|were|is|are|had|"
    r"showed|did)\b)|\.\s", re.IGNORECASE)


class _CueMatch(NamedTuple):
    start: int
    end: int
    category: str
    direction: str
    text: str


def _compiled_categories(cues: Sequence[Cue]) -> dict[str, re.Pattern[str]]:
    """One pattern per category, each cue a named group, so a sentence is scanned once a category.

    The "term_population" cues hold a {term} slot for the cause's term; they are compiled per cause."""
    grouped: dict[str, list[str]] = {}
    for number, cue in enumerate(cues):
        if "{term}" in cue.pattern:
            continue
        grouped.setdefault(cue.category, []).append(rf"(?P<c{number}>(?<![\w-])(?:{cue.pattern})(?![\w]))")
    return {category: re.compile("|".join(parts), re.IGNORECASE) for category, parts in grouped.items()}


_PATTERNS = _compiled_categories(CUES)
_TERM_POPULATION = [cue.pattern for cue in CUES if cue.category == "term_population"]


def _term_as_population(sentence: str, term_text: str) -> bool:
    """Whether the sentence names the cause's term (as it stands in it) as the population studied."""
    term = re.escape(term_text)
    return any(re.search(pattern.replace("{term}", term), sentence, re.IGNORECASE) for pattern in _TERM_POPULATION)


@functools.lru_cache(maxsize=65536)
def _matches(text: str, category: str) -> tuple[_CueMatch, ...]:
    """Every match of one category's cues in a text (cached: causes of one article share its sentences)."""
    pattern = _PATTERNS.get(category)
    if pattern is None:
        return ()
    found = []
    for match in pattern.finditer(text):
        cue = CUES[int(match.lastgroup[1:])]
        found.append(_CueMatch(match.start(), match.end(), category, cue.direction, match.group()))
    return tuple(found)


def _overlaps(match: _CueMatch, others: Sequence[_CueMatch]) -> bool:
    return any(other.start < match.end and match.start < other.end for other in others)


def _clauses(sentence: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for found in _CLAUSE_BREAK.finditer(sentence):
        if found.start() > start:
            spans.append((start, found.start()))
        start = found.end()
    if start < len(sentence):
        spans.append((start, len(sentence)))
    return spans or [(0, len(sentence))]


class Finding(NamedTuple):
    """One finding read from a clause: its direction, the cue text and where the cue stands in the sentence."""

    direction: str
    cue: str
    start: int
    end: int
    # The cue's category in CUES ("null", "direction", "difference", "state", ...).
    category: str = ""


def _clause_findings(sentence: str, start: int, end: int) -> list[Finding]:
    """The findings of one clause, a negation applied to the cues in its scope."""
    clause = sentence[start:end]
    pseudo = _matches(clause, "pseudo_negation")
    nulls = _matches(clause, "null")
    negations = [m for m in _matches(clause, "negation") if not _overlaps(m, pseudo) and not _overlaps(m, nulls)]
    findings = [Finding(m.direction, m.text, start + m.start, start + m.end, "null") for m in nulls]
    for category in ("direction", "difference", "state"):
        for match in _matches(clause, category):
            if _overlaps(match, nulls):
                continue
            negation = next((n for n in reversed(negations) if n.end <= match.start
                             and len(clause[n.end:match.start].split()) <= _NEGATION_SCOPE_WORDS), None)
            if negation is not None:
                findings.append(Finding("no_difference", clause[negation.start:match.end], start + negation.start,
                                        start + match.end, "null"))
            else:
                findings.append(Finding(match.direction, match.text, start + match.start, start + match.end,
                                        category))
    within = _matches(clause, "within_groups")
    if within and findings:
        findings = [Finding("no_difference", within[0].text, start + within[0].start, start + within[0].end,
                            "within_groups")]
    # A direction outranks a bare difference cue at the same place ("significantly lower": lower).
    findings.sort(key=lambda f: (f.start, DIRECTIONS.index(f.direction) if f.direction != "different" else 9))
    return _merged(findings)


def _merged(findings: list[Finding]) -> list[Finding]:
    """Drop a finding whose cue lies inside another's, keeping the more specific (null, then direction)."""
    rank = {"no_difference": 0, "higher": 1, "lower": 1, "different": 2}
    kept: list[Finding] = []
    for finding in sorted(findings, key=lambda f: (rank[f.direction], f.start)):
        if not any(k.start < finding.end and finding.start < k.end for k in kept):
            kept.append(finding)
    return sorted(kept, key=lambda f: f.start)


def _clause_verdict(findings: list[Finding], anchor: int | None) -> Finding | None:
    """The finding that decides a clause: no difference outranks a direction it stands with ("X was not
    significantly lower ..."); otherwise a direction outranks a bare difference, and the nearest to the
    anchor (the cause's term) wins."""
    if not findings:
        return None
    for preferred in (("no_difference",), ("higher", "lower"), ("different",)):
        chosen = [f for f in findings if f.direction in preferred]
        if chosen:
            if anchor is None:
                return chosen[0]
            return min(chosen, key=lambda f: min(abs(f.start - anchor), abs(f.end - anchor)))
    return None


def read_finding(sentence: str, anchor: int | None = None) -> Finding | None:
    """The finding a sentence reports and the cue that says it, or None; `anchor` (a character offset, e.g.
    where a cause's term stands) picks the clause that holds it and the cue nearest it."""
    clauses = _clauses(sentence)
    anaphoric = _matches(sentence, "anaphoric_null")
    if anaphoric:
        return Finding("no_difference", anaphoric[0].text, anaphoric[0].start, anaphoric[0].end, "anaphoric_null")
    if anchor is not None:
        holding = [span for span in clauses if span[0] <= anchor < span[1]]
        for span in holding:
            verdict = _clause_verdict(_clause_findings(sentence, *span), anchor)
            if verdict is not None:
                return verdict
        # The term's own clause has no cue ("serotonin levels in FM patients, compared with controls, were
        # lower"): the whole sentence decides.
        return _clause_verdict([f for span in clauses for f in _clause_findings(sentence, *span)], anchor)
    for span in clauses:
        verdict = _clause_verdict(_clause_findings(sentence, *span), None)
        if verdict is not None:
            return verdict
    return None


def finding_direction(sentence: str) -> str | None:
    """Read the finding a sentence reports: "higher", "lower", "different" (a significant difference or an
    association without a direction), "no_difference", or None (no finding).

    The first clause with a finding cue decides (clauses end at "but", "whereas", ";" ...); a negation within a
    few words before a direction or difference cue turns it into "no_difference" ("did not show a significant
    increase"), and an explicit null cue ("did not differ", "were similar", "no significant difference",
    "p = 0.40") outranks a direction in its clause. The direction is the one the sentence states for its
    subject: "A was lower than B" is "lower" whatever A and B are.
    """
    finding = read_finding(sentence)
    return None if finding is None else finding.direction


# --- sample sizes ----------------------------------------------------------------------------------------------

_NUMBER_WORDS = {
    "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17,
    "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
}
_COUNT = r"\b(\d{1,3}(?:,\d{3})+|\d+|" + "|".join(_NUMBER_WORDS) + r")"
_PEOPLE = (r"(?:(?:adult|female|male|consecutive|juvenile|adolescent|young|elderly|middle-aged|premenopausal|"
           r"postmenopausal)\s+){0,2}(?:women|men|patients|subjects|participants|individuals|people|persons|"
           r"adults|adolescents|children|females|males|volunteers|cases)")
_FM = r"(?:primary\s+)?(?:fibromyalgia(?:\s+syndrome)?|FMS?|JFM)"
_PATIENT_PATTERNS = (
    re.compile(_COUNT + r"\s+" + _PEOPLE + r"\s+(?:\w+\s+){0,2}(?:with|having|suffering\s+from|diagnosed\s+with"
               r"|meeting\s+(?:the\s+)?\w+\s+criteria\s+for)\s+(?:\w+\s+)?" + _FM + r"\b", re.IGNORECASE),
    re.compile(_COUNT + r"\s+(?:\w+\s+)?" + _FM + r"\s+(?:\w+\s+)?" + _PEOPLE, re.IGNORECASE),
    re.compile(_FM + r"\s+(?:\w+\s+)?" + _PEOPLE + r"?\s*[(\[]\s*n\s*=\s*(\d+)", re.IGNORECASE),
)
_CONTROL_PATTERNS = (
    re.compile(_COUNT + r"\s+(?:\w+[\s-]+){0,4}?(?:healthy|pain-free|control|controls|non-fibromyalgia)\b"
               r"(?:\s+(?:controls?|subjects|participants|individuals|women|men|volunteers|people|adults))?",
               re.IGNORECASE),
    re.compile(r"(?:healthy\s+)?controls?\s*(?:\w+\s*)?[(\[]\s*n\s*=\s*(\d+)", re.IGNORECASE),
)


def _count_value(text: str) -> int | None:
    text = text.lower().replace(",", "")
    value = _NUMBER_WORDS.get(text) if not text.isdigit() else int(text)
    # A year or a dose is no sample: no study of fibromyalgia has a million patients.
    return value if value is not None and 0 < value < 1_000_000 else None


def sample_sizes(text: str) -> tuple[int | None, int | None]:
    """The numbers of patients with fibromyalgia and of controls an abstract states, each None when it does not.

    "74 women with fibromyalgia and 30 healthy controls" → (74, 30); "FM patients (n = 25)" → (25, None).
    The first statement of each counts: abstracts give the sample before any subgroup.
    """
    # The patterns that start at a number are tried only where a number stands: scanning every word of every
    # abstract with them was most of the reader's time.
    starts = [match.start() for match in _NUMBER_START.finditer(text)]
    return _first_count(text, _PATIENT_PATTERNS, starts), _first_count(text, _CONTROL_PATTERNS, starts)


# The first-letter class lets the scan skip most words without trying every number word.
_NUMBER_START = re.compile(r"\b(?=[\dtfsenTFSEN])(?:\d|" + "|".join(_NUMBER_WORDS) + r")", re.IGNORECASE)


def _first_count(text: str, patterns: Sequence[re.Pattern[str]], number_starts: list[int]) -> int | None:
    for pattern in patterns:
        if pattern.pattern.startswith(_COUNT):
            found = next((m for m in (pattern.match(text, start) for start in number_starts) if m), None)
        elif "=" not in text:
            # The others read "(n = 25)": without an equals sign they cannot match.
            continue
        else:
            found = pattern.search(text)
        if found:
            count = _count_value(found.group(1))
            if count is not None:
                return count
    return None


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
    return re.compile("|".join(f"(?:{part})" for part in parts), re.ASCII) if parts else None


class _Verdict(NamedTuple):
    stance: str
    sentence: _Sentence
    cue: str
    kind: str
    hedged: bool
    strength: int


_DESIGN_KINDS = {"meta_analysis": "review", "systematic_review": "review", "narrative_review": "review",
                 "rct": "intervention", "clinical_trial": "intervention", "case_control": "comparison",
                 "cohort": "association", "observational": "association"}


def _evidence_kind(sentence: str, design: str) -> str:
    """What kind of evidence a deciding sentence gives: its design first for reviews and trials, then its cues."""
    if _DESIGN_KINDS.get(design) == "review" or _matches(sentence, "review"):
        return "review"
    if design in ("rct", "clinical_trial") or _matches(sentence, "treatment"):
        return "intervention"
    if _matches(sentence, "comparator"):
        return "comparison"
    if _matches(sentence, "association"):
        return "association"
    return _DESIGN_KINDS.get(design, "other")


def _abstract_kind(text: str, design: str, protocol: bool) -> str:
    """The kind of study an abstract without a deciding sentence reports: protocols are "other"; the design,
    then the abstract's cues (a treatment only where a placebo or randomisation says it is a trial)."""
    if protocol:
        return "other"
    if design in _DESIGN_KINDS:
        return _DESIGN_KINDS[design]
    if _matches(text, "review"):
        return "review"
    if re.search(r"\bplacebo\b|\brandomi[sz]ed\b", text, re.IGNORECASE):
        return "intervention"
    if _matches(text, "comparator"):
        return "comparison"
    if _matches(text, "association"):
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
    if _matches(text, "anaphoric_null"):
        finding = read_finding(text, anchors[0][0])
        return [finding] if finding is not None else []
    clauses = _clauses(text)
    findings: list[Finding] = []
    seen: set[tuple[int, int]] = set()
    for anchor, _ in anchors:
        span = next((span for span in clauses if span[0] <= anchor < span[1]), None)
        if span is None or span in seen:
            continue
        seen.add(span)
        verdict = _clause_verdict(_clause_findings(text, *span), anchor)
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


def _sentence_verdicts(sentence: _Sentence, pattern: re.Pattern[str], expect: str, design: str,
                       protocol: bool) -> list[_Verdict]:
    """What one sentence says about the cause: no verdict, or one per clause that reports a finding on it."""
    text = sentence.text
    anchors = _anchors(text, pattern)
    if not anchors or protocol or _matches(text, "not_a_result"):
        return []
    anchor, term_text = anchors[0]
    about_fibromyalgia = bool(_matches(text, "fibromyalgia"))
    # A trigger that is itself a condition (lupus, IBS) is found as "another population": at the term it is
    # the exposure, unless the sentence studies people who have it.
    other_population = [m for m in _matches(text, "other_population")
                        if not (expect == "associated" and any(m.start <= at < m.end for at, _ in anchors))]
    if other_population and not about_fibromyalgia:
        return []
    if expect == "associated" and _term_as_population(text, term_text) and not _matches(text, "occurrence"):
        return []
    findings = _term_findings(text, anchors)
    if not findings:
        return []
    kind = _evidence_kind(text, design)
    hedged = bool(_matches(text, "hedge"))
    strength = 2 * bool(_matches(text, "comparator")) + about_fibromyalgia
    verdicts = []
    for finding in findings:
        stance = _finding_stance(sentence, text, finding, expect, kind, other_population)
        if stance is not None:
            verdicts.append(_Verdict(stance, sentence, finding.cue, kind, hedged, strength))
    return verdicts


def _finding_stance(sentence: _Sentence, text: str, finding: Finding, expect: str, kind: str,
                    other_population: Sequence[_CueMatch]) -> str | None:
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
        if other_population and not _matches(text, "healthy_comparator") or _matches(text, "patient_comparator"):
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
               protocol: bool, sentences: list[_Sentence] | None = None) -> dict[str, object]:
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
