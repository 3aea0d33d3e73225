"""Sentences and sections of an abstract: the splitter, inline section labels, and the abbreviations it defines."""

from __future__ import annotations

import re

# --- the sentence splitter -------------------------------------------------------------------------------------

# Words whose full stop does not end a sentence, compared lower-case without the stop.
_ABBREVIATIONS = frozenset({
    "vs", "v", "al", "e.g", "i.e", "eg", "ie", "cf", "fig", "figs", "tab", "ref", "refs", "no", "nos", "vol",
    "approx", "ca", "resp", "dr", "prof", "mr", "mrs", "ms", "st", "sp", "spp", "incl", "min", "max", "sec",
    "hr", "hrs", "wk", "wks", "mo", "yr", "yrs", "mg", "ml", "kg", "sd", "se", "n.s", "ns", "viz", "etc.,",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "u.s", "u.k", "inc",
    "ltd", "co", "corp", "dept", "univ", "assoc", "eds", "ed", "pp", "p", "ph.d", "m.d", "b.sc", "m.sc",
})
# A candidate end: . ! or ? (and any closing quotes or brackets), then space (its extent captured: the next
# sentence starts after it), then what can start a sentence; or a stop with no space between a lower-case word and
# a capitalised one ("questions.Both"), as exports lose it. The stop comes first, outside the alternation, so the
# scan skips to the stops (seven times faster than with the look-behind first).
_CANDIDATE_END = re.compile(r"[.!?](?:[\"'\u201d\u2019)\]]*(?=(\s+)[\"'\u201c(\[]?[A-Z0-9\u0391-\u03a9])|"
                            r"(?<=[a-z]{3}\.)(?=[A-Z][a-z]{2,}\b))")


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
    brackets = "(" in text or "[" in text
    # Square brackets are rare: where none stands, they are not counted.
    squares = "[" in text or "]" in text
    for match in _CANDIDATE_END.finditer(text):
        stop = match.start()
        if brackets:
            # Bracket depth up to this stop (str.count runs in C): never split inside "( ... ).".
            depth += text.count("(", position, stop) - text.count(")", position, stop)
            if squares:
                depth += text.count("[", position, stop) - text.count("]", position, stop)
            if depth < 0:
                depth = 0
            position = stop
            if depth > 0:
                continue
        # Seven letters before the stop make a word longer than any abbreviation: the common case, checked cheaply.
        if text[stop] == "." and not text[stop - 7:stop].isalpha() and _is_abbreviation(text, start, stop):
            continue
        spans.append((start, match.end()))
        # After the space the look-ahead matched; a stop with no space is followed by the next sentence at once.
        start = match.end(1) if match.start(1) >= 0 else match.end()
    tail_end = len(text.rstrip())
    if start < tail_end:
        spans.append((start, tail_end))
    return spans


def _skip_space(text: str, position: int) -> int:
    # A loop, not a regex search: a sentence is followed by one space or two, and the call is what costs.
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

_INLINE_LABEL = re.compile(r"(?:^|(?<=\s))([A-Z][A-Z/&,\- ]{2,60}[A-Z]):\s+")


def sections_from_text(text: str) -> list[dict[str, str | None]]:
    """Split an abstract that carries its labels inline ("BACKGROUND: ... RESULTS: ...") into sections.

    Returns a list of {"text", "label", "nlm_category"} as the store keeps them; one unlabelled section when
    the text has no inline labels.
    """
    # Without a colon no label stands: the scan below would try every capital for nothing.
    matches = list(_INLINE_LABEL.finditer(text)) if ":" in text else []
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




# --- abbreviations the abstract defines ------------------------------------------------------------------------

# "electrochemical skin conductance (ESC)", "Central Sensitization Inventory [CSI-9]": a bracketed short form of
# 2 to 10 characters, with a letter first, right after its long form.
_SHORT_FORM = re.compile(r"[(\[]\s*([A-Za-z][A-Za-z0-9\-/]{1,9})\s*(?:[;,][^)\]]*)?[)\]]")
_WORD = re.compile(r"[\w\-/']+")


def defined_abbreviations(text: str) -> dict[str, str]:
    """The abbreviations a text defines, short form → long form, found as Schwartz and Hearst (2003) do: each
    character of the short form, right to left, is found in the words before the bracket, its first character at
    the start of a word, within min(|short| + 5, 2 |short|) words."""
    found: dict[str, str] = {}
    for match in _SHORT_FORM.finditer(text):
        short = match.group(1)
        # Digits are left out: "CSI-9" abbreviates "Central Sensitization Inventory" with its item count.
        letters = [character for character in short.lower() if character.isalpha()]
        if len(letters) < 2 or short.lower() == short and len(short) > 4:
            continue
        words = _WORD.findall(text[max(0, match.start() - 200):match.start()])
        window = words[-min(len(letters) + 5, 2 * len(letters)):]
        long_form = _long_form(letters, window)
        if long_form and short not in found:
            found[short] = long_form
    return found


def _long_form(letters: list[str], words: list[str]) -> str | None:
    """The shortest run of the last `words` whose characters hold `letters` in order, the first at a word start."""
    text = " ".join(words).lower()
    position = len(text) - 1
    for index in range(len(letters) - 1, -1, -1):
        letter = letters[index]
        while position >= 0 and (text[position] != letter or index == 0 and position > 0
                                  and text[position - 1].isalnum()):
            position -= 1
        if position < 0:
            return None
        position -= 1
    start = position + 1
    return " ".join(words)[start:]
