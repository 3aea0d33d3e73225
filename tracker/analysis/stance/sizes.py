"""Sample sizes: how many patients with fibromyalgia and controls an abstract states."""

from __future__ import annotations

import re
from collections.abc import Sequence

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
    # "FM patients (n = 25)" or "fibromyalgia (n = 25)", not "fibromyalgia symptoms (n = 138)".
    re.compile(_FM + r"\s*(?:(?:\w+\s+)?" + _PEOPLE + r"\s*)?[(\[]\s*n\s*=\s*(\d+)", re.IGNORECASE),
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


