"""The cue table: the rules of the stance reader as data, in the manner of medspaCy's ConText rules."""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

# --- the cues --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Cue:
    """One rule: a regular expression (case-insensitive, at word boundaries), its category, the direction it
    gives a finding ("" when it gives none) and its scope ("clause", "sentence", or "forward" for a negation:
    the cues that follow it, up to `NEGATION_SCOPE_WORDS` words, within the clause)."""

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
NEGATION_SCOPE_WORDS = 6
# Clause boundaries: a negation's scope and a finding's reach end here.
_CLAUSE_BREAK = re.compile(
    r";|\s[\u2013\u2014-]\s|,?\s+(?:but|whereas|while|although|though|however|yet|except|unlike|in\s+contrast|"
    r"conversely|nevertheless|nonetheless|instead)\b,?|,\s+and\s+(?=\w+\s+(?:\w+\s+)?(?:was|were|is|are|had|"
    r"showed|did)\b)|\.\s", re.IGNORECASE)


class CueMatch(NamedTuple):
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


def term_as_population(sentence: str, term_text: str) -> bool:
    """Whether the sentence names the cause's term (as it stands in it) as the population studied."""
    term = re.escape(term_text)
    return any(re.search(pattern.replace("{term}", term), sentence, re.IGNORECASE) for pattern in _TERM_POPULATION)


@functools.lru_cache(maxsize=65536)
def cue_matches(text: str, category: str) -> tuple[CueMatch, ...]:
    """Every match of one category's cues in a text (cached: causes of one article share its sentences)."""
    pattern = _PATTERNS.get(category)
    if pattern is None:
        return ()
    found = []
    for match in pattern.finditer(text):
        cue = CUES[int(match.lastgroup[1:])]
        found.append(CueMatch(match.start(), match.end(), category, cue.direction, match.group()))
    return tuple(found)


def overlaps(match: CueMatch, others: Sequence[CueMatch]) -> bool:
    return any(other.start < match.end and match.start < other.end for other in others)


def clauses(sentence: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for found in _CLAUSE_BREAK.finditer(sentence):
        if found.start() > start:
            spans.append((start, found.start()))
        start = found.end()
    if start < len(sentence):
        spans.append((start, len(sentence)))
    return spans or [(0, len(sentence))]

