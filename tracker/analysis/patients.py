"""How many people with fibromyalgia an abstract says it studied, where the sample is stated as patients set
against controls or in words the stance reader's own patterns miss.

"105 patients fulfilling the ACR criteria and 144 healthy controls" names no fibromyalgia beside the number: the
patients are the group set against the controls. Also read: counts in words with a hyphen ("Forty-six
participants with fibromyalgia"), "girls with JFM", "31 of them diagnosed with fibromyalgia", "(26 FM, 25
matched controls)", "n = 18 fibromyalgia". Pure: text in, a number out.
"""

from __future__ import annotations

import re

import pyarrow as pa
import pyarrow.compute as pc

from tracker.analysis.screen import stand_in_texts, union_screen

_UNITS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9}
_TEENS = {"ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
          "seventeen": 17, "eighteen": 18, "nineteen": 19}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
         "ninety": 90}
# A count in digits ("1,455", "n = 25") or in words ("forty-six", "twelve"); never part of a decimal or a range.
_COUNT = (r"(?<![\w.,\-±])(?:n\s*=\s*)?(\d{1,3}(?:,\d{3})+|\d+|(?:" + "|".join(_TENS) + r")(?:[-\s](?:"
          + "|".join(_UNITS) + r"))?|" + "|".join([*_TEENS, *_UNITS]) + r")(?![\w.,]\d)")
_PEOPLE = (r"(?:(?:adult|female|male|consecutive|juvenile|adolescent|young|elderly|middle-aged|premenopausal|"
           r"postmenopausal|unrelated|outpatient|eligible)\s+){0,2}(?:women|men|patients|subjects|participants|"
           r"individuals|people|persons|adults|adolescents|children|girls|boys|females|males|volunteers|cases)")
_FM = r"(?:primary\s+|juvenile\s+)?(?:fibromyalgia(?:\s+syndrome)?|FMS?|JFMS?)\b"
_DIAGNOSED = (r"(?:with|having|suffering\s+from|(?:clinically\s+)?diagnosed\s+with|with\s+a\s+(?:\w+\s+)?"
              r"diagnosis\s+of|(?:meeting|fulfilling|fulfilled|met)\s+(?:the\s+)?(?:\w+\s+){0,4}criteria\s+for)")
# Healthy people as the comparison group.
_CONTROLS = r"(?:healthy|pain-free|matched|controls?\b|HCs?\b)"
# Words of a patient group that is not, or not only, fibromyalgia: such a pair is no sample of it.
_OTHER_GROUP = re.compile(r"arthritis|lupus|migraine|depress|sclerosis|cancer|back\s+pain|fatigue|osteoarthritis|"
                          r"healthy|control|\d", re.IGNORECASE)

_PATTERNS = (
    # "46 participants with fibromyalgia", "31 of them diagnosed with fibromyalgia"
    re.compile(_COUNT + r"\s+(?:(?:of\s+them|" + _PEOPLE + r")\s+)(?:[\w-]+\s+){0,3}?" + _DIAGNOSED
               + r"\s+(?:\w+\s+)?" + _FM, re.IGNORECASE),
    # "22 female fibromyalgia patients"
    re.compile(_COUNT + r"\s+(?:[\w-]+\s+){0,2}?" + _FM + r"\s+(?:\w+\s+)?" + _PEOPLE, re.IGNORECASE),
    # "(26 FM, 25 matched controls)", "n = 18 fibromyalgia;"
    re.compile(_COUNT + r"\s+" + _FM + r"(?=\s*[,;)])", re.IGNORECASE),
)
# "105 patients fulfilling the ACR criteria and 144 healthy controls": the patients are the group before the
# controls, whatever words (up to a bracket) describe them.
_PAIR = re.compile(_COUNT + r"\s+(?P<group>" + _PEOPLE + r"\b(?:[\s,]+[\w'/-]+|\s*\([^()]{0,80}\)){0,10}?)"
                   r"\s*,?\s+(?:and|vs\.?|versus|compared\s+(?:with|to)|relative\s+to|as\s+well\s+as)\s+"
                   + _COUNT + r"\s+(?:[\w-]+\s+){0,5}?" + _CONTROLS, re.IGNORECASE)


def count_value(text: str) -> int | None:
    """The number a count states: "1,455" → 1455, "forty-six" → 46; None for a count no study has."""
    words = re.split(r"[-\s]+", text.lower().replace(",", ""))
    if words[0].isdigit():
        value = int(words[0])
    else:
        value = sum(_TENS.get(word, 0) + _TEENS.get(word, 0) + _UNITS.get(word, 0) for word in words)
    # A year or a dose is no sample: no study of fibromyalgia has a million patients.
    return value if 0 < value < 1_000_000 else None


# Where a count can begin: the patterns are tried only there (trying them at every character was most of the
# cost of reading an abstract).
_COUNT_START = re.compile(r"(?<![\w.,\-±])(?=n\s*=|\d|(?:" + "|".join([*_TENS, *_TEENS, *_UNITS]) + r")\b)",
                          re.IGNORECASE)


# The patterns above as one RE2 screen (`screen.union_screen`: their look-arounds dropped, which only ever narrow
# what they match), run on a stand-in of each text in which RE2's ASCII classes (\w, \d, \s, \b, case folding)
# see what Python's Unicode ones see in the text itself.
_STATEMENT_SCREEN = union_screen([*_PATTERNS, _PAIR])


def may_state_patients(texts: pa.Array) -> list[bool]:
    """Per text (an Arrow string array), False where `stated_patients` is certainly None, found in one RE2 pass
    over all texts (Python's scan of a text costs about a hundred times more)."""
    return pc.match_substring_regex(stand_in_texts(texts), _STATEMENT_SCREEN).to_pylist()


def stated_patients(text: str) -> int | None:
    """The patients with fibromyalgia an abstract states it studied, from its first such statement; None when
    it states none in these forms."""
    for start in (match.start() for match in _COUNT_START.finditer(text)):
        found = [match for pattern in _PATTERNS for match in [pattern.match(text, start)] if match]
        pair = _PAIR.match(text, start)
        if pair and not _OTHER_GROUP.search(pair.group("group")):
            found.append(pair)
        for match in found:
            value = count_value(match.group(1))
            if value is not None:
                return value
    return None
