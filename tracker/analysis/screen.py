"""Screens: Python patterns rewritten for Arrow's RE2 so that they can only match more, run over many texts at once.

The reader looks for a finding and for a cause's terms in every sentence of a batch; Python's `re` costs a call per
sentence and pair. A screen runs in C++ over all sentences in one pass and drops those that certainly hold no match,
and Python's pattern still decides on the few that pass: what the reader reads stays exactly as it was.

A screen widens where RE2 and Python differ, never narrows: look-arounds and anchors (^, $ ...) are dropped (an
assertion dropped matches more). RE2's classes (\\w, \\s, \\d, case folding) are ASCII, Python's Unicode: the
screen runs on a stand-in of each text in which every non-ASCII character is the ASCII one that plays its part ("ſ"
is "s", a thin space " "), and a non-ASCII character the pattern names is its stand-in there too. (RE2's own Unicode
classes would do, but make the large cue patterns a hundred times slower.) The stand-ins keep each character a word
character or not as Python's Unicode \\w has it, so \\b and \\B stay in a Unicode pattern's screen; an ASCII
pattern's (re.ASCII: "é" is no word character there, its stand-in is) drops them.

Where one text is asked many questions, one at a time (which of the cue categories may stand in this sentence?), a
`ScreenSet` compiles the screens together with Intel's Hyperscan and answers them all in one pass over the text.
"""

from __future__ import annotations

import functools
import re
import string
import threading
from collections.abc import Mapping

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

try:
    import hyperscan
except ImportError:  # pragma: no cover - a platform without its wheel: every screen may match, Python decides
    hyperscan = None

# Zero-width assertions: dropped, each matches where it stood and anywhere else.
_ASSERTIONS = frozenset("AZ")
_WORD_BOUNDARIES = frozenset("bB")
_LOOK_AROUNDS = ("(?=", "(?!", "(?<=", "(?<!")


def screen_pattern(pattern: str, ignore_case: bool = False, ascii_classes: bool = False) -> str:
    """A Python pattern as an RE2 pattern that matches every text the Python one matches (and maybe more), run on
    `stand_in_texts`. `ascii_classes`: the pattern is compiled with re.ASCII."""
    out: list[str] = []
    position = 0
    # Inside a character class: None outside, else whether the class is negated.
    negated: bool | None = None
    while position < len(pattern):
        character = pattern[position]
        if character == "\\":
            escape = pattern[position + 1]
            position += 2
            if negated is None and (escape in _ASSERTIONS or ascii_classes and escape in _WORD_BOUNDARIES):
                continue
            if escape == "u":
                out.append(_literal(chr(int(pattern[position:position + 4], 16)), negated))
                position += 4
                continue
            out.append("\\" + escape)
            continue
        if not character.isascii():
            out.append(_literal(character, negated))
            position += 1
            continue
        if negated is not None:
            if character == "]" and out[-1] not in ("[", "[^"):
                negated = None
            out.append(character)
            position += 1
            continue
        if character == "[":
            negated = pattern.startswith("[^", position)
            out.append("[^" if negated else "[")
            position += 2 if negated else 1
            continue
        if character in "^$":
            position += 1
            continue
        if character == "(" and pattern.startswith(_LOOK_AROUNDS, position):
            position = _group_end(pattern, position)
            continue
        if pattern.startswith("(?P<", position):
            # Names are dropped: RE2 refuses a name twice, and screens join many patterns.
            position = pattern.index(">", position) + 1
            out.append("(?:")
            continue
        if pattern.startswith("(?P=", position) or pattern.startswith("(?(", position):
            raise ValueError(f"{pattern!r}: back-references have no RE2 form")
        out.append(character)
        position += 1
    return ("(?i)" if ignore_case else "") + "".join(out)


def _literal(character: str, negated: bool | None) -> str:
    """A non-ASCII character the pattern names, as its stand-in in the texts the screen runs on."""
    if negated:
        # Other characters share its stand-in: leaving them out of the class would narrow it.
        raise ValueError(f"{character!r} in a negated class has no screen")
    return re.escape(_stand_in(character))


def _group_end(pattern: str, start: int) -> int:
    """Where the group opened at `start` ends (after its closing bracket), skipping escapes and classes."""
    depth, position, in_class = 0, start, False
    while position < len(pattern):
        character = pattern[position]
        if character == "\\":
            position += 2
            continue
        if in_class:
            in_class = character != "]"
        elif character == "[":
            in_class = True
            # A "]" first in a class is a literal: step onto it, and the step below passes it.
            if pattern.startswith("[]", position) or pattern.startswith("[^]", position):
                position += 1 if pattern[position + 1] == "]" else 2
        elif character == "(":
            depth += 1
        elif character == ")":
            depth -= 1
            if depth == 0:
                return position + 1
        position += 1
    raise ValueError(f"{pattern!r}: unbalanced group at {start}")


def union_screen(patterns: list[re.Pattern[str] | str], ignore_case: bool = False, ascii_classes: bool = False) -> str:
    """One screen for any of several patterns (each compiled one's IGNORECASE and ASCII flags kept)."""
    parts = []
    for pattern in patterns:
        text = pattern if isinstance(pattern, str) else pattern.pattern
        compiled = not isinstance(pattern, str)
        case = ignore_case or compiled and bool(pattern.flags & re.IGNORECASE)
        plain = ascii_classes or compiled and bool(pattern.flags & re.ASCII)
        parts.append("(?:" + screen_pattern(text, case, plain) + ")")
    return "|".join(parts)


# Python's \s holds these ASCII characters too; the patterns name no such character literally.
_PYTHON_ONLY_SPACES = r"[\x0b\x1c-\x1f]"
_PYTHON_ONLY_SPACE = re.compile(_PYTHON_ONLY_SPACES)
_NON_ASCII = re.compile(r"[^\x00-\x7f]")


@functools.lru_cache(maxsize=4096)
def _stand_in(character: str) -> str:
    """The ASCII character that plays a non-ASCII one's part in the patterns: a letter it matches when case is
    ignored ("ſ" is "s", the Kelvin sign "k"), a space, a digit, another word character, or punctuation."""
    for letter in string.ascii_lowercase:
        if re.fullmatch(letter, character, re.IGNORECASE):
            return letter
    for pattern, stand_in in ((r"\s", " "), (r"\d", "0"), (r"\w", "x")):
        if re.fullmatch(pattern, character):
            return stand_in
    return "#"


def stand_in_texts(texts: pa.Array) -> pa.Array:
    """The texts as RE2's ASCII classes should see them: each non-ASCII character (and each space only Python's
    \\s knows) replaced by its ASCII stand-in."""
    other = pc.invert(pc.string_is_ascii(texts))
    if pc.any(other).as_py():
        # Only the texts with a non-ASCII character pass through Python: in abstracts they are a few.
        other = pc.fill_null(other, False)
        replacements = [_ascii_stand_ins(text) for text in texts.filter(other).to_pylist()]
        texts = pc.replace_with_mask(texts, other, pa.array(replacements, texts.type))
    return pc.replace_substring_regex(texts, _PYTHON_ONLY_SPACES, " ") if _may_hold_python_only_spaces(texts) \
        else texts


def stand_in_text(text: str) -> str:
    """One text as `stand_in_texts` gives it."""
    if not text.isascii():
        text = _ascii_stand_ins(text)
    return _PYTHON_ONLY_SPACE.sub(" ", text)


def _ascii_stand_ins(text: str) -> str:
    return _NON_ASCII.sub(lambda match: _stand_in(match.group()), text)


# Bytes looked at in one step: the comparisons' arrays stay small enough for the processor's cache (over all of a
# batch's texts at once they cost up to thirty times more, in fresh memory).
_SCAN_STEP = 1 << 16


def _may_hold_python_only_spaces(texts: pa.Array) -> bool:
    """Whether a text may hold a space only Python's \\s knows: a look at the bytes of all texts (UTF-8 writes
    these ASCII characters as themselves, and no other character with their bytes), a tenth of RE2's pass."""
    data = texts.buffers()[2]
    if data is None:
        return False
    codes = np.frombuffer(data, dtype=np.uint8)
    for start in range(0, len(codes), _SCAN_STEP):
        part = codes[start:start + _SCAN_STEP]
        if ((part == 0x0b) | (part >= 0x1c) & (part <= 0x1f)).any():
            return True
    return False


def screened(texts: pa.Array, screen: str) -> pa.Array:
    """Per text (as `stand_in_texts` gives them), whether the screen matches it (an Arrow boolean array): where
    False, the pattern cannot."""
    return pc.match_substring_regex(texts, screen)


def first_screened(texts: pa.Array, screen: str) -> list[int]:
    """Per text (as `stand_in_texts` gives them), where the screen first matches, -1 where nowhere: no match of the
    pattern starts before, so a search for it may start there."""
    return pc.find_substring_regex(texts, screen).to_pylist()


class ScreenSet:
    """Named screens compiled together into one Hyperscan database: one pass over a text tells which of them may
    match it (`matching`), where asking each pattern in Python's `re` would scan it once a pattern. Without
    Hyperscan (no wheel for the platform) every screen may match, and Python's patterns decide alone."""

    def __init__(self, screens: Mapping[str, str]) -> None:
        self.names = tuple(screens)
        self._every = frozenset(self.names)
        self._database = None
        # A scratch space serves one scan at a time: one per thread.
        self._local = threading.local()
        if hyperscan is not None and self.names:
            database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
            try:
                # Whether a screen matches at all is all that is asked: one report each, and prefiltering lets
                # Hyperscan widen a construct it cannot compile as written (still never narrowing).
                database.compile(expressions=[screens[name].encode("ascii") for name in self.names],
                                 ids=list(range(len(self.names))), elements=len(self.names),
                                 flags=hyperscan.HS_FLAG_SINGLEMATCH | hyperscan.HS_FLAG_ALLOWEMPTY
                                 | hyperscan.HS_FLAG_PREFILTER)
            except hyperscan.ArchitectureError:
                # A processor without the instructions Hyperscan needs (SSSE3): as without its wheel. Any other
                # error is a screen it cannot compile, and is raised.
                return
            self._database = database

    def matching(self, text: str) -> frozenset[str]:
        """The names of the screens that match the text (its stand-in): where a name is missing, its pattern
        cannot match."""
        if self._database is None:
            return self._every
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = self._local.scratch = hyperscan.Scratch(self._database)
        found: list[int] = []
        self._database.scan(stand_in_text(text).encode("ascii"),
                            match_event_handler=lambda number, *_: found.append(number), scratch=scratch)
        names = self.names
        return frozenset(names[number] for number in found)
