"""Words and phrases made comparable: the chunker's word lists, and the normalisation of case, hyphens, plurals,
British spelling and Greek letters (each rewrite only where the corpus attests it)."""

from __future__ import annotations

import re
import unicodedata

from tracker.vocabulary import GREEK_NAMES


# Where a noun phrase ends: function words, common verbs and adverbs of abstracts, and numbers (matched apart).
# Irregular past tenses are listed because the "-ed" rule below cannot see them: without them "pain scores fell"
# would be read as a noun phrase.
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
fell fallen rose risen grew grown became become began begun kept held took taken gave given made went came brought
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
NUMBER = re.compile(r"^[0-9]+(?:[.,][0-9]+)*$")
_WORD = re.compile(r"^[^\W_]+$")
_SPLIT_TOKEN = re.compile(r"[-‐‑‒–—/]")
_PUNCTUATION = "\"'`‘’“”()[]{}<>.,;:!?=+*#%&|~^$@\\…·•"
_POSSESSIVE = re.compile(r"['’]s$")


def singular_forms(word: str) -> list[str]:
    if word in IRREGULAR_PLURALS:
        return [IRREGULAR_PLURALS[word]]
    if len(word) <= 3 or word.endswith(_INVARIANT_ENDINGS):
        return []
    return [word[: -len(suffix)] + ending for suffix, ending in PLURAL_SUFFIXES
            if word.endswith(suffix) and len(word) - len(suffix) + len(ending) >= 3]


def american_forms(word: str) -> list[str]:
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
        return next((form for form in american_forms(word) if form in attested), word)
    # "fibres": "fiber" if attested, else "fibre", else "fibers", else as it is.
    for singular in singular_forms(word):
        american = next((form for form in american_forms(singular) if form in attested), None)
        if american:
            return american
        if singular in attested:
            return singular
    return next((form for form in american_forms(word) if form in attested), word)


_GREEK_TABLE = str.maketrans(GREEK_NAMES)


def fold(text: str) -> str:
    folded = text.lower().translate(_GREEK_TABLE)
    return folded if folded.isascii() else unicodedata.normalize("NFC", folded)


def split_raw_token(token: str) -> tuple[list[str | None], bool, bool, list[bool]]:
    """A whitespace-separated token as its word parts (None for a part that is no word), whether punctuation
    breaks a phrase before and after it, and after which parts a "/" breaks it."""
    simple = _SIMPLE_TOKEN.match(token)
    if simple:
        word, trail = simple.groups()
        return [word.lower()], False, bool(trail), [False]
    folded = fold(token)
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
        parts, *_ = split_raw_token(token)
        words += [canonical_word(part, attested) for part in parts if part]
    return words


def normalise_phrase(text: str, attested: frozenset[str] | set[str] = frozenset()) -> str:
    """The candidate key of a phrase: its canonical words joined by single spaces."""
    return " ".join(phrase_words(text, attested))
