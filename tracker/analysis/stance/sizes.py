"""Sample sizes: how many patients with fibromyalgia and controls an abstract states."""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

import pyarrow as pa
import pyarrow.compute as pc

from tracker.analysis.patients import may_state_patients, stated_patients

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
    # The words between a count and "controls" hold no other count: in "56 FM patients and 34 healthy controls"
    # the controls are the 34.
    re.compile(_COUNT + r"\s+(?:[^\W\d]+[\s-]+){0,4}?(?:healthy|pain-free|control|controls|non-fibromyalgia)\b"
               r"(?:\s+(?:controls?|subjects|participants|individuals|women|men|volunteers|people|adults))?",
               re.IGNORECASE),
    re.compile(r"(?:healthy\s+)?controls?\s*(?:\w+\s*)?[(\[]\s*n\s*=\s*(\d+)", re.IGNORECASE),
)


_COMPOUND_NUMBER = r"(?i)\b(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)[-\s]"


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
    return sample_sizes_of([text])[0]


def sample_sizes_of(texts: Sequence[str]) -> list[tuple[int | None, int | None]]:
    """`sample_sizes` of many texts at once: each pattern runs over them all in Arrow's RE2 (in C++), which costs
    a tenth of a Python scan per text."""
    array = pa.array(list(texts), type=pa.large_string())
    patients = _first_counts(array, _PATIENT_PATTERNS)
    # The forms the patterns above miss or misread ("105 patients ... and 144 healthy controls", "Forty-six"),
    # read in Python only where they can matter: no count read, or a count in hyphenated words. Each RE2 pass
    # runs over those texts alone.
    counted = [index for index, count in enumerate(patients) if count is not None]
    reread = [True] * len(patients)
    hyphenated_counts = pc.match_substring_regex(array.take(pa.array(counted, pa.int64())), _COMPOUND_NUMBER)
    for index, hyphenated in zip(counted, hyphenated_counts.to_pylist()):
        reread[index] = hyphenated
    rereading = [index for index, again in enumerate(reread) if again]
    # Python's scan is the costly step: a text in which none of its statements can stand is not scanned.
    for index, may_state in zip(rereading, may_state_patients(array.take(pa.array(rereading, pa.int64())))):
        if may_state:
            patients[index] = stated_patients(texts[index]) or patients[index]
    return list(zip(patients, _first_counts(array, _CONTROL_PATTERNS)))


def _first_counts(array: pa.Array, patterns: Sequence[re.Pattern[str]]) -> list[int | None]:
    """Per text, the count of the first pattern (in order) whose leftmost match gives a plausible count."""
    found: list[int | None] = [None] * len(array)
    # One pass tells the texts that none of the patterns matches: most abstracts, which each pass would scan.
    matched = pc.match_substring_regex(array, _re2_any(tuple(patterns))).to_pylist()
    for pattern in patterns:
        missing = [index for index, count in enumerate(found) if count is None and matched[index]]
        if not missing:
            break
        counts = pc.struct_field(pc.extract_regex(array.take(missing), _re2(pattern)), "count").to_pylist()
        for index, text in zip(missing, counts):
            if text is not None:
                found[index] = _count_value(text)
    return found


@functools.lru_cache(maxsize=None)
def _re2_any(patterns: tuple[re.Pattern[str], ...]) -> str:
    """One RE2 pattern that matches where any of the patterns does (their groups unnamed)."""
    return "(?i)" + "|".join("(?:" + _re2(pattern)[len("(?i)"):].replace("(?P<count>", "(") + ")"
                             for pattern in patterns)


@functools.lru_cache(maxsize=None)
def _re2(pattern: re.Pattern[str]) -> str:
    """The pattern in RE2's syntax for Arrow: case-insensitive, its one group named "count"."""
    body = pattern.pattern.replace(r"\b(", r"\b(?P<count>", 1) if pattern.pattern.startswith(_COUNT) \
        else pattern.pattern.replace(r"(\d+)", r"(?P<count>\d+)", 1)
    # RE2's \s is ASCII only; abstracts write "n = 10" with thin or non-breaking spaces too.
    body = body.replace(r"[\s-]", "\0").replace(r"\s", r"[\s\p{Z}]").replace("\0", r"[\s\p{Z}-]")
    return "(?i)" + body
