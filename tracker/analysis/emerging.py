"""Emerging causes: which ideas are rising in the fibromyalgia literature that no configured cause covers yet.

Pure: a catalogue frame (as `store.load_catalogue` gives it) and the configured hypotheses in, a ranked frame
out; no I/O, no clock (the caller passes the year it is `as_of` and the current year).

Candidates come from the baseline (fibromyalgia) articles that are not retracted: MeSH descriptors, supplementary
concepts / chemicals when the catalogue has such a column, author keywords, and noun phrases of 1-4 words from
titles and abstracts. A noun phrase is a run of words between stop words and punctuation (a rule-based chunker,
as RAKE does: no tagger model to download, and fast enough for 200,000 abstracts) that does not end in a
modifier such as "small" or "chronic". Every candidate is normalised the same way: case, hyphens ("small-fibre"
is "small fibre"), plurals ("fibres" is "fibre") and British spelling ("fibre" is "fiber", "sensitisation" is
"sensitization"), each rewrite applied only where the corpus attests the rewritten form, so "exercise" never
becomes "exercize" nor "diabetes" "diabete". One normalised form is one candidate, wherever it was found (its
`kind` says where: mesh, chemical, keyword, phrase). A phrase that occurs almost only inside one longer phrase
("fiber pathology" inside "small fiber pathology") is left to the longer one.

Left out, by the rules `exclusion_table` returns (auditable data: every excluded candidate keeps its rule):
the configured hypotheses' terms (a candidate containing one is covered by that cause) and their queries' words
and phrases (exactly, or by their truncation stem), MeSH check tags and demographic headings, study-design words
and generic academic phrases.

Statistics, per candidate, on the share of each publication year's baseline articles that mention it:
- growth: the recent window (the last 3 years up to `as_of`) against the 5 years before it. The rate ratio is
  (a / N1) / (b / N0); the exact conditional test for two Poisson rates (Przyborowski-Wilenski): given a + b,
  a is Binomial(a + b, N1 / (N1 + N0)) when the rate did not change, one-sided for a rise. Benjamini-Hochberg
  q-values over all candidates tested (`scipy.stats.false_discovery_control`).
- trend: Mann-Kendall over the shares of the 8 years of both windows, with the tie correction (vectorised here
  over all candidates; the tests check it against `pymannkendall.original_test`).
- burst: Kleinberg's two-state automaton over the shares of the last 20 years (batched form: state 0 emits at
  the overall share p0, state 1 at s * p0, s = 2; entering state 1 costs gamma * ln(years), gamma = 1), solved
  exactly by Viterbi.
A candidate is **emerging** when q < 0.05, the rate ratio is at least 1.5, and it is bursting in `as_of` or
trending up (Mann-Kendall p < 0.05, increasing).

As of a year: only articles that had entered PubMed by the end of that year count: the year of `entry_date`
(PubMed's Entrez date) where known, else the publication year; an article counts from the later of the two
years, so an issue dated next year waits for its year. Articles without a publication year have no place in a
yearly series and are left out. `first_flagged_year` replays the method as of each of the 15 years up to
`as_of` and gives the first in which the candidate was emerging.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from scipy import special, stats

from tracker.config import Hypothesis
from tracker.errors import ConfigError
from tracker.vocabulary import GREEK_NAMES, MESH_CHECK_TAGS
from tracker.wording import number_ranges

KINDS = ("mesh", "chemical", "keyword", "phrase")
# Columns a catalogue may carry with supplementary concepts or chemicals: each a list of names, or of dicts
# with a "name" (or "substance") key, as JSON bytes or as lists.
CHEMICAL_COLUMNS = ("chemicals", "supplementary_concepts")
RANKED_COLUMNS = (
    "rank", "term", "kind", "articles", "recent_articles", "before_articles", "share_recent", "share_before",
    "rate_ratio", "p_value", "q_value", "trend", "trend_p", "burst_years", "bursting", "first_flagged_year",
    "example_pmids", "emerging", "key", "variants", "mesh_names",
)
YEARLY_COLUMNS = ("key", "term", "year", "articles", "baseline_articles", "share", "bursting")


@dataclass(frozen=True)
class Method:
    """The method's parameters; the defaults are those the module docstring describes."""

    recent_years: int = 3
    before_years: int = 5
    min_articles: int = 10
    max_q: float = 0.05
    min_rate_ratio: float = 1.5
    trend_alpha: float = 0.05
    burst_scale: float = 2.0
    burst_gamma: float = 1.0
    burst_years: int = 20
    replay_years: int = 15
    # A phrase is left to a longer phrase that holds at least this share of its articles.
    nested_share: float = 0.8
    example_count: int = 3

    @property
    def window_years(self) -> int:
        return self.recent_years + self.before_years


class EmergingResult(NamedTuple):
    """`ranked`: one row per candidate (RANKED_COLUMNS), best first; `yearly`: each ranked candidate's share per
    year of the burst window (YEARLY_COLUMNS); `excluded`: the candidates an exclusion removed, with the rule."""

    ranked: pd.DataFrame
    yearly: pd.DataFrame
    excluded: pd.DataFrame
    as_of: int


# --- the exclusion tables ----------------------------------------------------------------------------------------
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
    rows += [(name, "exact", "generic academic phrase", "generic phrases") for name in GENERIC_ACADEMIC_PHRASES]
    # "... as Topic" headings say what an article is about as a kind of publication, never an idea.
    rows.append((" as topic", "suffix", "study design", "MeSH"))
    return pd.DataFrame(rows, columns=["phrase", "match", "category", "source"]).drop_duplicates(
        ignore_index=True)


# --- the chunker's word lists ------------------------------------------------------------------------------------

# Where a noun phrase ends: function words, common verbs and adverbs of abstracts, and numbers (matched apart).
STOP_WORDS = frozenset("""
a about above across after again against all almost along already also although always among an and another any
are around as at be because been before being below between both but by can could did do does done during each
either else enough especially et etc even ever every for from further had has have having here how however i if in
into is it its itself just least less many may might more most much must neither nor not of off often on once one
only or other others otherwise our out over own per perhaps rather same several shall she should since so some
such than that the their them themselves then there therefore these they this those though through thus to too
toward towards under unless until up upon us very via was we were what whatever when where whereas whether which
while who whom whose why will with within without would yet you your vs versus al
use used using uses compared compare comparing evaluated evaluate evaluating assessed assess assessing measured
measure measuring investigated investigate investigating examined examine examining studied found find finding
showed show shown shows demonstrated demonstrate demonstrating revealed reveal observed observe reported report
reporting suggest suggests suggested suggesting indicate indicates indicated indicating included include including
includes identified identify identifying performed perform obtained associated related correlated significantly
significant respectively mainly mostly particularly highly slightly strongly relatively approximately nearly
previously recently currently commonly frequently usually generally typically potentially possibly likely
compared versus received receive underwent undergo conducted recruited enrolled randomized randomised allocated
aimed aims determine determined explore explored explores provide provided provides based according due whereas
increased decreased reduced improved elevated lower higher greater smaller larger better worse lowest highest
increase decrease reduce improve affect affected affects remained remain remains appears appear appeared seems seem
described describe describes discussed discuss considered consider known new well total overall mean median
first second third two three four five six seven eight nine ten twenty thirty hundred
""".split())
# Allowed inside a noun phrase, never at its end: "small fiber" is a phrase, "small" is not.
MODIFIER_WORDS = frozenset("""
small large high low long short chronic acute primary secondary central peripheral clinical potential possible
novel major minor severe mild moderate early late common specific non general different similar various several
key main important relevant positive negative normal abnormal healthy human female male older younger adult
daily physical mental psychological social functional medical multiple single total overall global local regional
systemic structural objective subjective direct indirect current future recent previous self pre post anti multi
cross inter intra sub hyper hypo neuro
""".split())
# Past participles ("expressed", "reduced") modify a noun phrase but do not end one; adverbs ("-ly") end it.
MODIFIER_SUFFIXES = ("ed",)
STOP_SUFFIXES = ("ly",)
# Words with those endings that are nouns all the same.
SUFFIX_EXCEPTIONS = frozenset("""
bed need seed speed feed bleed breed greed creed steed reed weed
family anomaly assembly supply italy july ally rally belly jelly reply apply monopoly poly
""".split())

# Singular forms tried in order; the first the corpus attests wins (an irregular plural is always rewritten).
IRREGULAR_PLURALS = {
    "mice": "mouse", "women": "woman", "men": "man", "children": "child", "feet": "foot", "teeth": "tooth",
    "analyses": "analysis", "diagnoses": "diagnosis", "hypotheses": "hypothesis", "prognoses": "prognosis",
    "syntheses": "synthesis", "criteria": "criterion", "phenomena": "phenomenon", "indices": "index",
    "matrices": "matrix", "vertebrae": "vertebra", "stimuli": "stimulus", "nuclei": "nucleus", "foci": "focus",
}
_INVARIANT_ENDINGS = ("ss", "us", "is", "ics", "ous", "sis")
PLURAL_SUFFIXES = (("ies", "y"), ("sses", "ss"), ("xes", "x"), ("ches", "ch"), ("shes", "sh"), ("s", ""))
# British → American rewrites: whole words, then suffixes, then inner spellings; each used only where attested.
BRITISH_WORDS = {"grey": "gray", "programme": "program", "aluminium": "aluminum", "sulphate": "sulfate"}
BRITISH_SUFFIXES = (
    ("isation", "ization"), ("ising", "izing"), ("ised", "ized"), ("ise", "ize"), ("yse", "yze"), ("ysed", "yzed"),
    ("ysing", "yzing"), ("tre", "ter"), ("bre", "ber"), ("our", "or"), ("ogue", "og"), ("lling", "ling"),
    ("lled", "led"), ("llor", "lor"),
)
BRITISH_INFIXES = (
    ("haem", "hem"), ("aem", "em"), ("anaes", "anes"), ("paed", "ped"), ("aetiol", "etiol"), ("oedem", "edem"),
    ("oestr", "estr"), ("oesoph", "esoph"), ("foet", "fet"), ("coeli", "celi"), ("rrhoea", "rrhea"),
    ("pnoea", "pnea"), ("gynaec", "gynec"), ("faec", "fec"), ("caec", "cec"), ("sulph", "sulf"),
)
# Most tokens: ASCII letters and digits, perhaps followed by punctuation that ends the phrase.
_SIMPLE_TOKEN = re.compile(r"^([A-Za-z0-9]+)([.,;:!?)\]]*)$")
_NUMBER = re.compile(r"^[0-9]+(?:[.,][0-9]+)*$")
_WORD = re.compile(r"^[^\W_]+$")
_SPLIT_TOKEN = re.compile(r"[-‐‑‒–—/]")
_PUNCTUATION = "\"'`‘’“”()[]{}<>.,;:!?=+*#%&|~^$@\\…·•"
_POSSESSIVE = re.compile(r"['’]s$")


def _singular_forms(word: str) -> list[str]:
    if word in IRREGULAR_PLURALS:
        return [IRREGULAR_PLURALS[word]]
    if len(word) <= 3 or word.endswith(_INVARIANT_ENDINGS):
        return []
    return [word[: -len(suffix)] + ending for suffix, ending in PLURAL_SUFFIXES
            if word.endswith(suffix) and len(word) - len(suffix) + len(ending) >= 3]


def _american_forms(word: str) -> list[str]:
    forms = []
    if word in BRITISH_WORDS:
        forms.append(BRITISH_WORDS[word])
    for british, american in BRITISH_SUFFIXES:
        if word.endswith(british) and len(word) > len(british) + 1:
            forms.append(word[: -len(british)] + american)
    for british, american in BRITISH_INFIXES:
        if british in word:
            forms.append(word.replace(british, american))
    return forms


def canonical_word(word: str, attested: frozenset[str] | set[str]) -> str:
    """The one spelling of a lower-case word: singular, then American, each only where `attested` has it."""
    if word in IRREGULAR_PLURALS:
        word = IRREGULAR_PLURALS[word]
        return next((form for form in _american_forms(word) if form in attested), word)
    # "fibres": "fiber" if attested, else "fibre", else "fibers", else as it is.
    for singular in _singular_forms(word):
        american = next((form for form in _american_forms(singular) if form in attested), None)
        if american:
            return american
        if singular in attested:
            return singular
    return next((form for form in _american_forms(word) if form in attested), word)


_GREEK_TABLE = str.maketrans(GREEK_NAMES)


def _fold(text: str) -> str:
    folded = text.lower().translate(_GREEK_TABLE)
    return folded if folded.isascii() else unicodedata.normalize("NFC", folded)


def _split_raw_token(token: str) -> tuple[list[str | None], bool, bool, list[bool]]:
    """A whitespace-separated token as its word parts (None for a part that is no word), whether punctuation
    breaks a phrase before and after it, and after which parts a "/" breaks it."""
    simple = _SIMPLE_TOKEN.match(token)
    if simple:
        word, trail = simple.groups()
        return [word.lower()], False, bool(trail), [False]
    folded = _fold(token)
    core = folded.strip(_PUNCTUATION)
    if not core:
        # All punctuation: one part that is no word, breaking the phrase on both sides.
        return [None], True, True, [True]
    start = folded.index(core[0])
    lead, trail = folded[:start], folded[start + len(core):]
    break_before = bool(lead.strip("'’"))
    break_after = bool(trail.strip("'’"))
    core = _POSSESSIVE.sub("", core).replace("'", "").replace("’", "")
    parts: list[str | None] = []
    breaks_after: list[bool] = []
    for piece in re.split(r"(/)", core):
        if piece == "/":
            if breaks_after:
                breaks_after[-1] = True
            continue
        for part in _SPLIT_TOKEN.split(piece):
            if not part:
                continue
            parts.append(part if _WORD.match(part) else None)
            breaks_after.append(False)
    return parts, break_before, break_after, breaks_after


def phrase_words(text: str, attested: frozenset[str] | set[str] = frozenset()) -> list[str]:
    """A phrase (a MeSH name, a keyword, a term) as its canonical words; stop words are kept, punctuation is not."""
    words: list[str] = []
    for token in text.replace(",", " ").split():
        parts, *_ = _split_raw_token(token)
        words += [canonical_word(part, attested) for part in parts if part]
    return words


def normalise_phrase(text: str, attested: frozenset[str] | set[str] = frozenset()) -> str:
    """The candidate key of a phrase: its canonical words joined by single spaces."""
    return " ".join(phrase_words(text, attested))


# --- statistics --------------------------------------------------------------------------------------------------

def growth_test(recent: np.ndarray, before: np.ndarray, recent_total: float,
                before_total: float) -> tuple[np.ndarray, np.ndarray]:
    """Rate ratios and one-sided exact p-values for a rise from `before` to `recent` articles.

    The rate ratio is (recent / recent_total) / (before / before_total): inf where before is 0 and recent is
    not, NaN where both are 0. Given recent + before, recent is Binomial(recent + before, recent_total / (recent_total
    + before_total)) when the rate did not change (the conditional test for two Poisson rates); p = P(X >= recent).
    """
    recent = np.asarray(recent, dtype="float64")
    before = np.asarray(before, dtype="float64")
    if recent_total <= 0 or before_total <= 0:
        return np.full(recent.shape, np.nan), np.ones(recent.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate_ratio = (recent / recent_total) / (before / before_total)
    share = recent_total / (recent_total + before_total)
    p_values = stats.binom.sf(recent - 1, recent + before, share)
    return rate_ratio, np.where(recent + before > 0, p_values, 1.0)


def q_values(p_values: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (scipy's false_discovery_control); empty in, empty out."""
    p_values = np.asarray(p_values, dtype="float64")
    if p_values.size == 0:
        return p_values
    return stats.false_discovery_control(p_values, method="bh")


def mann_kendall(series: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mann-Kendall's S, z and two-sided p-value for each row of `series` (rows: candidates, columns: years).

    The same statistic as pymannkendall.original_test, with its tie correction, for all rows at once.
    """
    values = np.atleast_2d(np.asarray(series, dtype="float64"))
    count = values.shape[1]
    s_statistic = np.zeros(values.shape[0])
    for first in range(count - 1):
        s_statistic += np.sign(values[:, first + 1:] - values[:, [first]]).sum(axis=1)
    # Each value in a group of t equal values adds (t - 1)(2t + 5): the group then adds t(t - 1)(2t + 5).
    tie_sizes = (values[:, :, None] == values[:, None, :]).sum(axis=2)
    ties = ((tie_sizes - 1) * (2 * tie_sizes + 5)).sum(axis=1)
    variance = (count * (count - 1) * (2 * count + 5) - ties) / 18.0
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(variance > 0, (s_statistic - np.sign(s_statistic)) / np.sqrt(variance), 0.0)
    return s_statistic, z, 2 * stats.norm.sf(np.abs(z))


def kleinberg_bursts(mentions: np.ndarray, totals: np.ndarray, scale: float = 2.0,
                     gamma: float = 1.0) -> np.ndarray:
    """Kleinberg's two-state burst states (True = bursting) for each row of yearly `mentions` out of `totals`.

    Batched form (Kleinberg 2002, section 4): state 0 emits at p0 = all mentions / all totals, state 1 at
    min(scale * p0, 1); a year costs -ln(C(d, r) p^r (1 - p)^(d - r)) in its state, entering state 1 costs
    gamma * ln(years) and leaving it nothing. The cheapest state sequence, found exactly by Viterbi, starts in
    state 0; on a tie the lower state wins.
    """
    counts = np.atleast_2d(np.asarray(mentions, dtype="float64"))
    totals = np.asarray(totals, dtype="float64")
    rows, years = counts.shape
    if years == 0:
        return np.zeros((rows, 0), dtype=bool)
    grand_total = totals.sum()
    base = counts.sum(axis=1) / grand_total if grand_total > 0 else np.zeros(rows)
    rates = (base, np.minimum(scale * base, 1.0))
    # The binomial coefficient C(d, r) is the same in both states, so it cannot change the cheapest sequence.
    costs = [-(special.xlogy(counts, rate[:, None]) + special.xlog1py(totals - counts, -rate[:, None]))
             for rate in rates]
    # A rate of 1 in a year with non-mentions is impossible: xlog1py gives -inf there, a cost of +inf.
    entering = gamma * math.log(years)
    cost_low, cost_high = costs[0][:, 0].copy(), entering + costs[1][:, 0]
    came_from_high = np.zeros((2, rows, years), dtype=bool)
    for year in range(1, years):
        came_from_high[0, :, year] = cost_high < cost_low
        came_from_high[1, :, year] = cost_high < cost_low + entering
        low = np.minimum(cost_low, cost_high) + costs[0][:, year]
        high = np.minimum(cost_low + entering, cost_high) + costs[1][:, year]
        cost_low, cost_high = low, high
    states = np.zeros((rows, years), dtype=bool)
    state = cost_high < cost_low
    for year in range(years - 1, -1, -1):
        states[:, year] = state
        state = np.where(state, came_from_high[1, :, year], came_from_high[0, :, year])
    return states


# --- candidates --------------------------------------------------------------------------------------------------

class Mentions(NamedTuple):
    """Which baseline article mentions which candidate: the extraction, done once, scored as of any year."""

    pmids: np.ndarray            # per article
    pub_years: np.ndarray        # per article
    available_years: np.ndarray  # per article: the year it counts from
    candidates: pd.DataFrame     # key, term, kind, articles, variants, mesh_names, excluded_by, nested_in
    article_index: np.ndarray    # per (article, candidate) pair, unique pairs
    candidate_index: np.ndarray


def _year_of(dates: pd.Series) -> np.ndarray:
    """The year of ISO date texts ("2019-11-04"); -1 where unknown."""
    text = pd.Series(dates, dtype="str").str.slice(0, 4)
    return pd.to_numeric(text.where(text.str.fullmatch(r"[0-9]{4}")), errors="coerce").fillna(-1).astype(
        "int64").to_numpy()


def baseline_articles(catalogue: pd.DataFrame, hypotheses: Sequence[Hypothesis], as_of: int) -> pd.DataFrame:
    """The catalogue rows the method counts as of the end of `as_of`: baseline, not retracted, of known year.

    Adds `available_year`: the later of the entry year (else the publication year) and the publication year.
    Without a baseline hypothesis every article is a baseline article.
    """
    baseline_id = next((h.id for h in hypotheses if h.baseline), None)
    keep = pd.Series(True, index=catalogue.index)
    if baseline_id is not None:
        keep &= catalogue["hypotheses"].map(lambda ids: baseline_id in ids).astype(bool)
    if "retracted" in catalogue:
        keep &= ~catalogue["retracted"].astype(bool)
    pub_years = pd.array(catalogue["pub_year"], dtype="Int64").fillna(-1).to_numpy(dtype="int64")
    entry_years = _year_of(catalogue["entry_date"]) if "entry_date" in catalogue else np.full(len(catalogue), -1)
    available = np.maximum(np.where(entry_years > 0, entry_years, pub_years), pub_years)
    keep &= (pub_years > 0) & (available <= as_of)
    positions = np.flatnonzero(keep.to_numpy(dtype=bool))
    rows = catalogue.iloc[positions].reset_index(drop=True)
    rows["pub_year"] = pub_years[positions]
    rows["available_year"] = available[positions]
    return rows


def _lists(column: pd.Series) -> list[list]:
    """A column of JSON lists (bytes or text, as the catalogue holds them) or of lists, as lists."""
    values = column.tolist()
    if values and all(isinstance(value, (bytes, bytearray)) for value in values):
        return json.loads(b"[" + b",".join(values) + b"]")
    if values and all(isinstance(value, str) for value in values):
        return json.loads("[" + ",".join(values) + "]")
    return [json.loads(value) if isinstance(value, (bytes, bytearray, str)) else list(value or ())
            for value in values]


def _name_of(item: object) -> str | None:
    if isinstance(item, str):
        return item
    if isinstance(item, dict):
        for key in ("descriptor", "name", "substance"):
            if isinstance(item.get(key), str):
                return item[key]
    return None


_JSON_STRING = rb'"((?:[^"\\]|\\.)*)"'
# What a MeSH heading's name looks like in the stored JSON, and any JSON string (a keyword in its list).
_DESCRIPTOR_PATTERN = rb'"descriptor":\s*' + _JSON_STRING
_STRING_PATTERN = _JSON_STRING


def _json_strings(values: list, pattern: bytes) -> tuple[np.ndarray, list[str]] | None:
    """Per row the count of `pattern`'s matches in its JSON bytes and all the matched strings, decoded; None
    unless every value is JSON bytes. One regular-expression pass over all rows instead of decoding every row."""
    if not values or not all(isinstance(value, (bytes, bytearray)) for value in values):
        return None
    counts = pc.count_substring_regex(pa.array(values, type=pa.large_binary()),
                                      pattern=pattern.decode()).to_numpy(zero_copy_only=False)
    found = re.findall(pattern, b"\x00".join(values))
    codes, distinct = pd.factorize(pd.Series(found, dtype=object))
    decoded = np.array([json.loads(b'"' + text + b'"') if b"\\" in text else text.decode()
                        for text in distinct], dtype=object)
    return counts.astype("int64"), decoded[codes].tolist() if len(codes) else []


def _named_mentions(articles: pd.DataFrame) -> list[tuple[str, np.ndarray, list[str]]]:
    """Per source kind: (kind, article positions, names) of its MeSH headings, chemicals and keywords."""
    sources = []
    mesh_column = "mesh" if "mesh" in articles else "mesh_terms" if "mesh_terms" in articles else None
    columns = [("mesh", mesh_column), *(("chemical", name) for name in CHEMICAL_COLUMNS if name in articles),
               ("keyword", "keywords" if "keywords" in articles else None)]
    for kind, column in columns:
        if column is None or articles.empty:
            continue
        values = articles[column].tolist()
        pattern = _DESCRIPTOR_PATTERN if column == "mesh" else _STRING_PATTERN if kind == "keyword" else None
        quick = _json_strings(values, pattern) if pattern else None
        if quick is not None:
            lengths, names = quick
        else:
            lists = _lists(articles[column])
            lengths = np.fromiter((len(items) for items in lists), dtype="int64", count=len(lists))
            names = [_name_of(item) for items in lists for item in items]
        positions = np.repeat(np.arange(len(values)), lengths)
        present = np.fromiter((bool(name and name.strip()) for name in names), dtype=bool, count=len(names))
        sources.append((kind, positions[present], [name for name in names if name and name.strip()]))
    return sources


def _tokens(articles: pd.DataFrame) -> tuple[pa.Array, np.ndarray]:
    """The whitespace tokens of every title and abstract, dictionary-encoded, and each token's segment
    (2 * article position + 0 for the title, 1 for the abstract)."""
    flats, segments = [], []
    for field_number, column in enumerate(("title", "abstract")):
        if column not in articles:
            continue
        text = pa.array(articles[column], type=pa.large_string(), from_pandas=True)
        if isinstance(text, pa.ChunkedArray):
            text = text.combine_chunks()
        tokens = pc.ascii_split_whitespace(pc.fill_null(text, ""))
        flats.append(pc.list_flatten(tokens))
        segments.append(pc.list_parent_indices(tokens).to_numpy().astype("int64") * 2 + field_number)
    if not flats:
        return pa.array([], pa.large_string()).dictionary_encode(), np.zeros(0, dtype="int64")
    return pc.dictionary_encode(pa.concat_arrays(flats)), np.concatenate(segments)


class _Vocabulary(NamedTuple):
    words: np.ndarray          # canonical word per word id
    modifier: np.ndarray       # per word id
    part_offsets: np.ndarray   # per raw token: where its parts start in the part arrays (CSR)
    part_words: np.ndarray     # per part: word id, -1 for a stop word, a number or no word
    part_breaks_after: np.ndarray
    part_breaks_before: np.ndarray
    forms: dict[str, set[str]]  # canonical word -> the spellings seen


def _vocabulary(raw_tokens: list[str], extra_words: Iterable[str]) -> _Vocabulary:
    """Classify every distinct raw token once: its parts, their canonical words and the phrase breaks."""
    split = [_split_raw_token(token) for token in raw_tokens]
    parts = {part for token_parts, *_ in split for part in token_parts if part}
    attested = frozenset(parts | set(extra_words))
    canonical = {part: canonical_word(part, attested) for part in parts}
    words = sorted({word for part, word in canonical.items() if _is_content(part, word)})
    word_ids = {word: position for position, word in enumerate(words)}
    forms: dict[str, set[str]] = {}
    for part, word in canonical.items():
        forms.setdefault(word, set()).add(part)
    part_words: list[int] = []
    breaks_after: list[bool] = []
    breaks_before: list[bool] = []
    counts = np.zeros(len(split), dtype="int64")
    for position, (token_parts, before, after, inner) in enumerate(split):
        counts[position] = len(token_parts)
        last = len(token_parts) - 1
        for number, part in enumerate(token_parts):
            part_words.append(word_ids.get(canonical[part], -1) if part and _is_content(part, canonical[part]) else -1)
            breaks_before.append(before and number == 0)
            breaks_after.append(inner[number] or (after and number == last))
    return _Vocabulary(
        words=np.array(words, dtype=object), modifier=np.array([_is_modifier(word) for word in words], dtype=bool),
        part_offsets=np.concatenate([[0], np.cumsum(counts)]), part_words=np.array(part_words, dtype="int64"),
        part_breaks_after=np.array(breaks_after, dtype=bool), part_breaks_before=np.array(breaks_before, dtype=bool),
        forms=forms)


def _is_content(part: str, word: str) -> bool:
    """Whether a word may stand in a noun phrase: no stop word, number or single character."""
    return (part not in STOP_WORDS and word not in STOP_WORDS and len(word) > 1 and not _NUMBER.match(word)
            and not word.isdigit() and not _has_suffix(word, STOP_SUFFIXES))


def _is_modifier(word: str) -> bool:
    """Whether a word may stand inside a noun phrase but not at its end."""
    return word in MODIFIER_WORDS or _has_suffix(word, MODIFIER_SUFFIXES)


def _has_suffix(word: str, suffixes: tuple[str, ...]) -> bool:
    return len(word) >= 5 and word.endswith(suffixes) and word not in SUFFIX_EXCEPTIONS


class _WordStream(NamedTuple):
    word_ids: np.ndarray   # per word of every title and abstract, -1 where a phrase cannot pass
    joined: np.ndarray     # per word but the last: True where a phrase may run on into the next word
    articles: np.ndarray   # per word: the article position


def _word_stream(codes: np.ndarray, segments: np.ndarray, vocabulary: _Vocabulary) -> _WordStream:
    """Expand the token stream into words (a hyphenated token is several), with where phrases may continue."""
    counts = np.diff(vocabulary.part_offsets)[codes]
    token_of_word = np.repeat(np.arange(len(codes)), counts)
    firsts = np.cumsum(counts) - counts
    parts = vocabulary.part_offsets[codes][token_of_word] + (np.arange(len(token_of_word)) - firsts[token_of_word])
    word_ids = vocabulary.part_words[parts]
    word_segments = segments[token_of_word]
    joined = ((word_ids[:-1] >= 0) & (word_ids[1:] >= 0) & (word_segments[:-1] == word_segments[1:])
              & ~vocabulary.part_breaks_after[parts[:-1]] & ~vocabulary.part_breaks_before[parts[1:]])
    return _WordStream(word_ids, joined, word_segments // 2)


def _phrase_mentions(stream: _WordStream, vocabulary: _Vocabulary, min_articles: int,
                     max_words: int = 4) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Noun phrases of 1..max_words words found in at least `min_articles` articles: their keys and the unique
    (article, phrase) pairs.

    Phrases grow one word at a time (a-priori): a phrase seen fewer than `min_articles` times cannot be part of
    a longer one that is seen often enough, so it is dropped before the next length is counted.
    """
    word_count = max(len(vocabulary.words), 1)
    word_ids = stream.word_ids
    occurrences = np.bincount(word_ids[word_ids >= 0], minlength=word_count)
    frequent_word = np.zeros(len(word_ids), dtype=bool)
    frequent_word[word_ids >= 0] = occurrences[word_ids[word_ids >= 0]] >= min_articles
    level_ids = np.where(frequent_word, word_ids, -1)
    joined = stream.joined & frequent_word[:-1] & frequent_word[1:]
    if not len(vocabulary.words):
        return [], np.zeros(0, dtype="int64"), np.zeros(0, dtype="int64")
    levels: list[tuple[np.ndarray, np.ndarray]] = []  # per length: (prefix phrase id, last word id) per phrase id
    keys: list[str] = []
    pair_articles, pair_phrases = [], []
    for length in range(1, max_words + 1):
        if length == 1:
            ids = level_ids
            uniques = np.arange(word_count)
            prefixes, lasts = np.full(word_count, -1), uniques
        else:
            valid = (level_ids[:-1] >= 0) & joined[length - 2:]
            keys_here = level_ids[:-1][valid] * word_count + word_ids[length - 1:][valid]
            uniques, codes = _factorized(keys_here)
            seen = np.bincount(codes, minlength=len(uniques))
            codes = np.where(seen[codes] >= min_articles, codes, -1)
            ids = np.full(len(valid), -1, dtype="int64")
            ids[valid] = codes
            prefixes, lasts = uniques // word_count, uniques % word_count
        levels.append((prefixes, lasts))
        positions = np.flatnonzero(ids >= 0)
        if not len(positions):
            break
        phrase_count = len(prefixes)
        pairs = _distinct(stream.articles[positions] * phrase_count + ids[positions])
        articles, phrases = pairs // phrase_count, pairs % phrase_count
        support = np.bincount(phrases, minlength=phrase_count)
        kept = (support >= min_articles) & ~vocabulary.modifier[lasts]
        kept_ids = np.flatnonzero(kept)
        base = len(keys)
        keys += _phrase_keys(levels, kept_ids, vocabulary.words)
        new_index = np.full(phrase_count, -1, dtype="int64")
        new_index[kept_ids] = base + np.arange(len(kept_ids))
        chosen = kept[phrases]
        pair_articles.append(articles[chosen])
        pair_phrases.append(new_index[phrases[chosen]])
        level_ids = ids
    if not pair_articles:
        return [], np.zeros(0, dtype="int64"), np.zeros(0, dtype="int64")
    return keys, np.concatenate(pair_articles), np.concatenate(pair_phrases)


# Sorting, not hashing: on tens of millions of mostly distinct integers a hash table (pandas' unique, numpy's
# default unique) is more than ten times slower than a sort.
def _distinct(keys: np.ndarray) -> np.ndarray:
    """The distinct values of an integer array, sorted."""
    ordered = np.sort(keys)
    return ordered[np.r_[True, ordered[1:] != ordered[:-1]]] if len(ordered) else ordered


def _factorized(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sorted distinct values, each key's position among them) of an integer array."""
    if not len(keys):
        return keys, np.zeros(0, dtype="int64")
    order = np.argsort(keys)
    ordered = keys[order]
    starts = np.r_[True, ordered[1:] != ordered[:-1]]
    codes = np.empty(len(keys), dtype="int64")
    codes[order] = np.cumsum(starts) - 1
    return ordered[starts], codes


def _phrase_keys(levels: list[tuple[np.ndarray, np.ndarray]], ids: np.ndarray, words: np.ndarray) -> list[str]:
    """The words of phrases of the last level, joined by spaces, walked back through the shorter levels."""
    columns = []
    current = ids
    for prefixes, lasts in reversed(levels):
        columns.append(words[lasts[current]])
        current = prefixes[current]
    return [" ".join(reversed(parts)) for parts in zip(*columns)] if len(ids) else []


def extract_mentions(articles: pd.DataFrame, hypotheses: Sequence[Hypothesis],
                     method: Method = Method()) -> Mentions:
    """Find every candidate in `baseline_articles` rows, with the exclusion or longer phrase that removes it."""
    min_articles = method.min_articles
    encoded, segments = _tokens(articles)
    named = _named_mentions(articles)
    extra_words = {part for _, _, names in named for name in set(names) for token in name.lower().split()
                   for part in _split_raw_token(token)[0] if part}
    vocabulary = _vocabulary(encoded.dictionary.to_pylist(), extra_words)
    attested = frozenset(set(vocabulary.forms) | {form for forms in vocabulary.forms.values() for form in forms}
                         | extra_words)
    # Spellings seen only in MeSH names or keywords are variants too ("receptors" in a keyword list).
    for word in extra_words:
        vocabulary.forms.setdefault(canonical_word(word, attested), set()).add(word)
    stream = _word_stream(encoded.indices.to_numpy(zero_copy_only=False).astype("int64"), segments, vocabulary)
    phrase_keys, phrase_articles, phrase_ids = _phrase_mentions(stream, vocabulary, min_articles)

    # Every source's names become candidate keys; one key is one candidate whatever found it.
    key_parts = [pd.Series(phrase_keys, dtype=object)]
    kinds = [np.full(len(phrase_keys), KINDS.index("phrase"))]
    pair_articles, pair_keys = [phrase_articles], [phrase_ids]
    official_names: dict[str, list[str]] = {}
    offset = len(phrase_keys)
    for kind, positions, names in named:
        distinct, codes = np.unique(np.array(names, dtype=object), return_inverse=True)
        keys = [normalise_phrase(name, attested) for name in distinct]
        if kind in ("mesh", "chemical"):
            for name, key in zip(distinct, keys):
                official_names.setdefault(key, []).append(name)
        key_parts.append(pd.Series(keys, dtype=object))
        kinds.append(np.full(len(keys), KINDS.index(kind)))
        pair_articles.append(positions)
        pair_keys.append(codes + offset)
        offset += len(keys)
    all_keys = pd.concat(key_parts, ignore_index=True)
    candidate_of_key, candidate_keys = pd.factorize(all_keys)
    candidate_keys = np.asarray(candidate_keys, dtype=object)
    candidate_count = len(candidate_keys)
    kind_bits = np.zeros(candidate_count, dtype="int64")
    np.bitwise_or.at(kind_bits, candidate_of_key, 1 << np.concatenate(kinds))
    articles_of_pairs = np.concatenate(pair_articles).astype("int64")
    candidates_of_pairs = candidate_of_key[np.concatenate(pair_keys).astype("int64")]
    empty_key = np.array([not key for key in candidate_keys], dtype=bool)
    keep_pairs = ~empty_key[candidates_of_pairs]
    pairs = _distinct(articles_of_pairs[keep_pairs] * max(candidate_count, 1) + candidates_of_pairs[keep_pairs])
    article_index, candidate_index = pairs // max(candidate_count, 1), pairs % max(candidate_count, 1)
    support = np.bincount(candidate_index, minlength=candidate_count)

    candidates = pd.DataFrame({
        "key": candidate_keys,
        "term": [official_names.get(key, [key])[0] if key in official_names else key for key in candidate_keys],
        "kind": ["+".join(kind for position, kind in enumerate(KINDS) if bits >> position & 1) for bits in kind_bits],
        "articles": support,
    })
    candidates["variants"] = [_variants(key, vocabulary.forms) for key in candidate_keys]
    candidates["mesh_names"] = [tuple(sorted(set(official_names.get(key, ())))) for key in candidate_keys]
    exclusions = exclusion_table(hypotheses)
    candidates["excluded_by"] = _excluded_by(candidate_keys, exclusions, attested)
    candidates["nested_in"] = _nested_in(candidate_keys, support, candidates["kind"].to_numpy(dtype=object),
                                         method.nested_share)
    candidates.loc[empty_key, "excluded_by"] = "no words"
    return Mentions(
        pmids=articles["pmid"].to_numpy(dtype="int64"), pub_years=articles["pub_year"].to_numpy(dtype="int64"),
        available_years=articles["available_year"].to_numpy(dtype="int64"), candidates=candidates,
        article_index=article_index.astype("int64"), candidate_index=candidate_index.astype("int64"))


def _variants(key: str, forms: dict[str, set[str]], limit: int = 8) -> tuple[str, ...]:
    """The spellings of a candidate seen in the corpus ("small fiber", "small fibre", "small fibres", ...)."""
    words = key.split()
    if not words:
        return ()
    choices = [sorted(forms.get(word, set()) | {word}, key=lambda form: (form != word, form)) for word in words]
    variants = [key]
    # Vary one word at a time: a phrase of four words with three spellings each would give 81.
    for position, options in enumerate(choices):
        for option in options[1:]:
            variants.append(" ".join(words[:position] + [option] + words[position + 1:]))
    if len(words) > 1 and len(choices[-1]) > 1 and len(choices[0]) > 1:
        variants.append(" ".join([choices[0][1], *words[1:-1], choices[-1][1]]))
    return tuple(dict.fromkeys(variants))[:limit]


def _excluded_by(keys: np.ndarray, exclusions: pd.DataFrame, attested: frozenset[str]) -> list[str | None]:
    """Per candidate key, the first exclusion rule that removes it ("category: phrase (source)"), else None."""
    exact: dict[str, str] = {}
    contained: dict[str, str] = {}
    prefixes: list[tuple[str, str]] = []
    suffixes: list[tuple[str, str]] = []
    patterns: list[tuple[re.Pattern[str], str]] = []
    for phrase, match, category, source in exclusions.itertuples(index=False, name=None):
        label = f"{category}: {phrase} ({source})"
        if match == "regex":
            try:
                patterns.append((re.compile(phrase, re.IGNORECASE), label))
            except re.error:
                continue
            continue
        if match in ("prefix", "suffix"):
            stem = " ".join(_fold(phrase).replace("-", " ").split())
            (prefixes if match == "prefix" else suffixes).append((stem, label))
            continue
        key = normalise_phrase(phrase, attested)
        if key:
            (exact if match == "exact" else contained).setdefault(key, label)
    prefix_tuple = tuple(stem for stem, _ in prefixes)
    excluded: list[str | None] = []
    for key in keys:
        words = key.split()
        found = exact.get(key) or contained.get(key)
        if found is None and contained:
            found = next((contained[sub] for sub in _sub_phrases(words) if sub in contained), None)
        if found is None and prefix_tuple and key.startswith(prefix_tuple):
            found = next(label for stem, label in prefixes if key.startswith(stem))
        if found is None and suffixes:
            found = next((label for stem, label in suffixes if key.endswith(stem)), None)
        if found is None and patterns:
            spellings = (key, key.replace(" ", "-"), key.replace(" ", ""))
            found = next((label for pattern, label in patterns
                          if any(pattern.fullmatch(spelling) for spelling in spellings)), None)
        excluded.append(found)
    return excluded


def _sub_phrases(words: list[str]) -> Iterable[str]:
    for length in range(1, len(words) + 1):
        for start in range(len(words) - length + 1):
            yield " ".join(words[start:start + length])


def _nested_in(keys: np.ndarray, support: np.ndarray, kinds: np.ndarray, share: float) -> list[str | None]:
    """Per phrase-only candidate, the one-word-longer phrase that holds at least `share` of its articles."""
    support_of = dict(zip(keys.tolist(), support.tolist()))
    best: dict[str, tuple[int, str]] = {}
    for key, articles in support_of.items():
        words = key.split()
        if len(words) < 2:
            continue
        for sub in (" ".join(words[:-1]), " ".join(words[1:])):
            if sub in support_of and articles > best.get(sub, (0, ""))[0]:
                best[sub] = (articles, key)
    nested = []
    for key, articles, kind in zip(keys.tolist(), support.tolist(), kinds.tolist()):
        holder = best.get(key)
        nested.append(holder[1] if kind == "phrase" and holder and holder[0] >= share * articles else None)
    return nested


# --- scoring -----------------------------------------------------------------------------------------------------

class _YearStatistics(NamedTuple):
    support: np.ndarray
    recent: np.ndarray
    before: np.ndarray
    share_recent: np.ndarray
    share_before: np.ndarray
    rate_ratio: np.ndarray
    p_value: np.ndarray
    q_value: np.ndarray
    trend_z: np.ndarray
    trend_p: np.ndarray
    bursts: np.ndarray   # candidates x burst years
    emerging: np.ndarray


def _statistics(counts: np.ndarray, totals: np.ndarray, support: np.ndarray, testable: np.ndarray,
                method: Method) -> _YearStatistics:
    """Every statistic as of one year, from per-candidate counts and baseline totals of the burst window's
    years (the last column is `as_of`)."""
    window = method.window_years
    recent = counts[:, -method.recent_years:].sum(axis=1)
    before = counts[:, -window:-method.recent_years].sum(axis=1)
    recent_total = float(totals[-method.recent_years:].sum())
    before_total = float(totals[-window:-method.recent_years].sum())
    rate_ratio, p_value = growth_test(recent, before, recent_total, before_total)
    tested = testable & (support >= method.min_articles)
    q_value = np.full(len(support), np.nan)
    q_value[tested] = q_values(p_value[tested])
    with np.errstate(divide="ignore", invalid="ignore"):
        share_recent = recent / recent_total if recent_total else np.full(len(recent), np.nan)
        share_before = before / before_total if before_total else np.full(len(before), np.nan)
        shares = counts[:, -window:] / totals[-window:]
    # Years without any baseline article say nothing about a trend: they are left out of it.
    known = totals[-window:] > 0
    trend_z = np.zeros(len(support))
    trend_p = np.ones(len(support))
    if known.sum() >= 3 and len(support):
        _, trend_z, trend_p = mann_kendall(shares[:, known])
    bursts = kleinberg_bursts(counts, totals, method.burst_scale, method.burst_gamma)
    trending_up = (trend_z > 0) & (trend_p < method.trend_alpha)
    bursting_now = bursts[:, -1] if bursts.shape[1] else np.zeros(len(support), dtype=bool)
    emerging = (tested & (q_value < method.max_q) & (np.nan_to_num(rate_ratio, nan=0.0) >= method.min_rate_ratio)
                & (bursting_now | trending_up))
    return _YearStatistics(support, recent, before, share_recent, share_before, rate_ratio, p_value, q_value,
                           trend_z, trend_p, bursts, emerging)


def score_mentions(mentions: Mentions, as_of: int, method: Method = Method(),
                   yearly_top: int = 100) -> EmergingResult:
    """Rank the candidates as of the end of `as_of`, replaying the method for the years before it to find when
    each was first flagged. Only articles available by then count (see `baseline_articles`)."""
    candidates = mentions.candidates
    candidate_count = len(candidates)
    testable = (candidates["excluded_by"].isna() & candidates["nested_in"].isna()).to_numpy(dtype=bool)
    first_replay = as_of - method.replay_years + 1
    first_year = first_replay - method.burst_years + 1
    span = as_of - first_year + 1
    available = mentions.available_years
    in_time = available <= as_of
    pair_available = available[mentions.article_index]
    pair_years = mentions.pub_years[mentions.article_index] - first_year
    # Pairs and articles in the order they became available, so each replayed year adds one slice.
    # Years fit 16 bits, for which numpy's stable sort is a radix sort.
    order = np.argsort(pair_available.astype("int16"), kind="stable")
    pair_available, pair_years = pair_available[order], pair_years[order]
    pair_candidates = mentions.candidate_index[order]
    article_order = np.argsort(available.astype("int16"), kind="stable")
    article_available = available[article_order]
    article_years = mentions.pub_years[article_order] - first_year

    counts = np.zeros((candidate_count, span), dtype="int64")
    totals = np.zeros(span, dtype="int64")
    support = np.zeros(candidate_count, dtype="int64")
    first_flagged = np.full(candidate_count, -1, dtype="int64")
    done_pairs = done_articles = 0
    statistics = None
    for year in range(first_replay, as_of + 1):
        pair_end = int(np.searchsorted(pair_available, year, side="right"))
        article_end = int(np.searchsorted(article_available, year, side="right"))
        new_years, new_candidates = pair_years[done_pairs:pair_end], pair_candidates[done_pairs:pair_end]
        support += np.bincount(new_candidates, minlength=candidate_count)
        inside = new_years >= 0
        counts += np.bincount(new_candidates[inside] * span + new_years[inside],
                              minlength=candidate_count * span).reshape(candidate_count, span)
        new_article_years = article_years[done_articles:article_end]
        totals += np.bincount(new_article_years[new_article_years >= 0], minlength=span)[:span]
        done_pairs, done_articles = pair_end, article_end
        column_end = year - first_year + 1
        window_start = column_end - method.burst_years
        statistics = _statistics(counts[:, window_start:column_end], totals[window_start:column_end], support,
                                 testable, method)
        first_flagged[(first_flagged < 0) & statistics.emerging] = year
    assert statistics is not None
    burst_first_year = as_of - method.burst_years + 1
    ranked = _ranked_frame(mentions, statistics, first_flagged, testable, burst_first_year, in_time, method)
    yearly = _yearly_frame(ranked.head(yearly_top), counts[:, -method.burst_years:], totals[-method.burst_years:],
                           statistics.bursts, burst_first_year)
    ranked = ranked[list(RANKED_COLUMNS)]
    excluded = candidates.loc[~testable & (statistics.support >= method.min_articles),
                              ["key", "term", "kind", "excluded_by", "nested_in"]].assign(
        articles=statistics.support[~testable & (statistics.support >= method.min_articles)]).reset_index(drop=True)
    return EmergingResult(ranked, yearly, excluded, as_of)


def _ranked_frame(mentions: Mentions, statistics: _YearStatistics, first_flagged: np.ndarray, testable: np.ndarray,
                  burst_first_year: int, in_time: np.ndarray, method: Method) -> pd.DataFrame:
    """The tested candidates, best first, with the internal column _candidate (their position in mentions)."""
    tested = testable & (statistics.support >= method.min_articles)
    positions = np.flatnonzero(tested)
    candidates = mentions.candidates.iloc[positions]
    burst_years = [tuple(int(burst_first_year + year) for year in np.flatnonzero(row))
                   for row in statistics.bursts[positions]]
    trend = np.where(statistics.trend_p[positions] < method.trend_alpha,
                     np.where(statistics.trend_z[positions] > 0, "increasing", "decreasing"), "no trend")
    frame = pd.DataFrame({
        "term": candidates["term"].to_numpy(dtype=object),
        "kind": candidates["kind"].to_numpy(dtype=object),
        "articles": statistics.support[positions],
        "recent_articles": statistics.recent[positions],
        "before_articles": statistics.before[positions],
        "share_recent": statistics.share_recent[positions],
        "share_before": statistics.share_before[positions],
        "rate_ratio": statistics.rate_ratio[positions],
        "p_value": statistics.p_value[positions],
        "q_value": statistics.q_value[positions],
        "trend": trend.astype(object),
        "trend_p": statistics.trend_p[positions],
        "burst_years": pd.Series(burst_years, dtype=object),
        "bursting": statistics.bursts[positions, -1] if statistics.bursts.shape[1] else False,
        "first_flagged_year": pd.array(np.where(first_flagged[positions] > 0, first_flagged[positions], None),
                                       dtype="Int64"),
        "emerging": statistics.emerging[positions],
        "key": candidates["key"].to_numpy(dtype=object),
        "variants": candidates["variants"].to_numpy(dtype=object),
        "mesh_names": candidates["mesh_names"].to_numpy(dtype=object),
        "_candidate": positions,
    })
    # Best first: emerging, then the strongest evidence of growth, then the steepest, then the most articles.
    frame = frame.sort_values(["emerging", "q_value", "rate_ratio", "articles", "key"],
                              ascending=[False, True, False, False, True], na_position="last", ignore_index=True)
    frame.insert(0, "rank", np.arange(1, len(frame) + 1))
    frame["example_pmids"] = _examples(mentions, frame["_candidate"].to_numpy(), in_time, method.example_count)
    return frame


def _examples(mentions: Mentions, candidate_positions: np.ndarray, in_time: np.ndarray,
              count: int) -> list[tuple[int, ...]]:
    """Per candidate (in the order given), the PMIDs of its newest `count` articles, newest first."""
    wanted = np.zeros(len(mentions.candidates), dtype=bool)
    wanted[candidate_positions] = True
    chosen = wanted[mentions.candidate_index] & in_time[mentions.article_index]
    # Rank the articles newest first (year, then PMID) once; then one sort of candidate * articles + rank puts each
    # candidate's newest articles at the start of its run.
    article_count = len(mentions.pmids)
    newest_first = np.lexsort((-mentions.pmids, -mentions.pub_years))
    rank_of_article = np.empty(article_count, dtype="int64")
    rank_of_article[newest_first] = np.arange(article_count)
    keys = np.sort(mentions.candidate_index[chosen] * article_count + rank_of_article[mentions.article_index[chosen]])
    candidates, ranks = keys // max(article_count, 1), keys % max(article_count, 1)
    pmids = mentions.pmids[newest_first[ranks]] if len(ranks) else np.zeros(0, dtype="int64")
    starts = np.flatnonzero(np.r_[True, candidates[1:] != candidates[:-1]]) if len(candidates) else np.zeros(0, int)
    run_starts = np.repeat(starts, np.diff(np.r_[starts, len(candidates)]))
    first = (np.arange(len(candidates)) - run_starts) < count
    examples: dict[int, list[int]] = {}
    for candidate, pmid in zip(candidates[first].tolist(), pmids[first].tolist()):
        examples.setdefault(candidate, []).append(pmid)
    return [tuple(examples.get(position, ())) for position in candidate_positions.tolist()]


def _yearly_frame(ranked: pd.DataFrame, counts: np.ndarray, totals: np.ndarray, bursts: np.ndarray,
                  first_year: int) -> pd.DataFrame:
    """Per ranked candidate and year of the burst window: its articles, the baseline's, the share, bursting."""
    positions = ranked["_candidate"].to_numpy(dtype="int64")
    year_count = counts.shape[1]
    with np.errstate(divide="ignore", invalid="ignore"):
        shares = counts[positions] / totals
    return pd.DataFrame({
        "key": np.repeat(ranked["key"].to_numpy(dtype=object), year_count),
        "term": np.repeat(ranked["term"].to_numpy(dtype=object), year_count),
        "year": np.tile(np.arange(first_year, first_year + year_count), len(positions)),
        "articles": counts[positions].ravel(),
        "baseline_articles": np.tile(totals, len(positions)),
        "share": shares.ravel(),
        "bursting": bursts[positions].ravel() if len(positions) else np.zeros(0, dtype=bool),
    }, columns=list(YEARLY_COLUMNS))


def find_emerging(catalogue: pd.DataFrame, hypotheses: Sequence[Hypothesis], *, as_of: int, current_year: int,
                  method: Method = Method()) -> EmergingResult:
    """Rank the candidate causes of the catalogue's baseline articles as of the end of `as_of`.

    `as_of` must be a complete year: before `current_year`. Raises ConfigError otherwise.
    """
    check_as_of(as_of, current_year)
    articles = baseline_articles(catalogue, hypotheses, as_of)
    return score_mentions(extract_mentions(articles, hypotheses, method), as_of, method)


# The first year an as-of may name: PubMed's records begin around then.
EARLIEST_AS_OF = 1950


def check_as_of(as_of: int, current_year: int) -> None:
    """Refuse an as-of year that is not complete yet, or before PubMed existed."""
    if as_of >= current_year:
        raise ConfigError(f"as-of year {as_of} is not complete yet; give {current_year - 1} or earlier")
    if as_of < EARLIEST_AS_OF:
        raise ConfigError(f"as-of year {as_of} is before PubMed's records; give a year from {EARLIEST_AS_OF} on")


# --- "add as a cause" --------------------------------------------------------------------------------------------

_FIBROMYALGIA_QUERY = '"Fibromyalgia"[MeSH Terms] OR fibromyalgia[Title/Abstract]'


def find_candidate(ranked: pd.DataFrame, excluded: pd.DataFrame, term: str) -> pd.Series:
    """The ranked row of `term` (its display name, key or any spelling of it, in any case or number).

    Raises ConfigError naming the exclusion that removed it, or saying it is no candidate.
    """
    wanted = loose_key(term)
    for _, row in ranked.iterrows():
        if wanted in {loose_key(name) for name in (row["key"], row["term"], *row["variants"])}:
            return row
    for _, row in excluded.iterrows():
        if wanted in {loose_key(row["key"]), loose_key(row["term"])}:
            reason = row["excluded_by"] if isinstance(row["excluded_by"], str) else \
                f"it occurs mostly inside {row['nested_in']!r}"
            raise ConfigError(f"{term!r} is not a candidate: {reason}; choose a term `tracker emerging` lists")
    raise ConfigError(f"{term!r} is not among the candidates (mentioned in too few fibromyalgia articles, or "
                      f"never); choose a term `tracker emerging` lists")


def loose_key(text: str) -> str:
    """A phrase with every word singular and American by rule alone: what a user's spelling is looked up by."""
    words = []
    for word in phrase_words(str(text)):
        singular = (_singular_forms(word) or [word])[-1]
        words.append((_american_forms(singular) or [singular])[0])
    return " ".join(words)


def hypothesis_id_for(term: str, taken: Iterable[str] = ()) -> str:
    """A hypotheses-file id for a term: lower-case letters, digits and "_", starting with a letter, unused."""
    slug = re.sub(r"[^a-z0-9]+", "_", _fold(term)).strip("_") or "candidate"
    if not slug[0].isalpha():
        slug = f"c_{slug}"
    slug = slug[:36].rstrip("_")
    taken = set(taken)
    candidate, number = slug, 2
    while candidate in taken:
        candidate, number = f"{slug}_{number}", number + 1
    return candidate


def hypothesis_toml(row: pd.Series, hypotheses: Sequence[Hypothesis], as_of: int) -> str:
    """A [[hypothesis]] entry for a ranked candidate, to paste into the hypotheses file.

    Its query combines the baseline's query (or fibromyalgia's MeSH heading and word) with the candidate's MeSH
    names and every spelling seen; its terms are those spellings and MeSH names. The description is a
    placeholder with the figures that flagged it, for the user to replace.
    """
    baseline = next((h for h in hypotheses if h.baseline), None)
    fibromyalgia = baseline.query if baseline else _FIBROMYALGIA_QUERY
    spellings = list(dict.fromkeys([*row["variants"], row["key"]]))
    parts = [f'"{name}"[MeSH Terms]' for name in row["mesh_names"]]
    parts += [f'"{spelling}"[Title/Abstract]' for spelling in spellings]
    query = f"({fibromyalgia}) AND ({' OR '.join(parts)})"
    terms = list(dict.fromkeys([*spellings, *row["mesh_names"]]))
    ratio = row["rate_ratio"]
    ratio_text = "new (none before)" if ratio == math.inf else f"{ratio:.1f}" if ratio == ratio else "-"
    q_text = f"{row['q_value']:.2g}" if row["q_value"] == row["q_value"] else "-"
    description = (f"TODO: one paragraph on what this hypothesis proposes. Flagged by `tracker emerging` as of "
                   f"{as_of}: {row['articles']} fibromyalgia articles, rate ratio {ratio_text} in the last 3 years "
                   f"against the 5 before (q = {q_text}), trend {row['trend']}, burst years "
                   f"{year_ranges(row['burst_years']) or 'none'}.")
    label = str(row["term"])
    label = label[:1].upper() + label[1:]
    lines = [
        "[[hypothesis]]",
        f"id = {_toml_string(hypothesis_id_for(label, (h.id for h in hypotheses)))}",
        f"label = {_toml_string(label)}",
        f"description = {_toml_string(description)}",
        f"query = {_toml_string(query)}",
        f"terms = [{', '.join(_toml_string(term) for term in terms)}]",
    ]
    return "\n".join(lines) + "\n"


def _toml_string(text: str) -> str:
    """A TOML string: literal ('...', as the shipped file writes queries) unless the text needs escapes."""
    if "'" not in text and text.isprintable():
        return f"'{text}'"
    # A JSON string is a valid TOML basic string: the same escapes.
    return json.dumps(text, ensure_ascii=False)


def year_ranges(years: Sequence[int]) -> str:
    """Burst years as the table shows them: (2019, 2020, 2021, 2024) as "2019-2021, 2024"."""
    return number_ranges(int(year) for year in years)
