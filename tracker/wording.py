"""Words for the lines a user reads: counts ("1 record", "3 batches"), runs of numbers as "2019-2021, 2024", what
kind of file a path is, the choice a mistyped word probably meant, and `tracker` commands written as this
installation runs them."""

from __future__ import annotations

import difflib
import os
import shutil
import stat
import sys
from collections.abc import Iterable
from pathlib import Path


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """The noun in the number `count` calls for; `plural_form` for a noun that does not just take -s or -es."""
    if count == 1:
        return singular
    if plural_form is not None:
        return plural_form
    return singular + ("es" if singular.endswith(("s", "x", "z", "ch", "sh")) else "s")


def counted(count: int, singular: str, plural_form: str | None = None) -> str:
    """The count and its noun: counted(1, "batch") is "1 batch", counted(3, "batch") "3 batches"."""
    return f"{count} {plural(count, singular, plural_form)}"


def number_ranges(numbers: Iterable[int]) -> str:
    """Consecutive numbers as one range: 1, 2, 3, 5, 8, 9 as "1-3, 5, 8-9" (a year of nightly runs stays one line)."""
    spans: list[list[int]] = []
    for number in sorted(numbers):
        if spans and number == spans[-1][1] + 1:
            spans[-1][1] = number
        else:
            spans.append([number, number])
    return ", ".join(str(first) if first == last else f"{first}-{last}" for first, last in spans)


def file_kind(mode: int) -> str:
    """What a file of this `st_mode` is, for a message: "a FIFO or pipe", "a directory", ..."""
    kinds = ((stat.S_ISREG, "a regular file"), (stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO or pipe"),
             (stat.S_ISCHR, "a character device (a terminal, /dev/null)"), (stat.S_ISBLK, "a block device"),
             (stat.S_ISSOCK, "a socket"))
    return next((kind for is_kind, kind in kinds if is_kind(mode)), "a file of an unknown kind")


def near_match(value: str, choices: Iterable[str]) -> str | None:
    """The choice `value` most likely meant: the same word in another case, else the closest spelling; None when no
    choice is close ("rtc" → "rct", "Serotonin" → "serotonin", "nope" → None)."""
    by_folded = {choice.casefold(): choice for choice in choices}
    folded = value.casefold()
    if folded in by_folded:
        return by_folded[folded]
    close = difflib.get_close_matches(folded, list(by_folded), n=1)
    return by_folded[close[0]] if close else None


def tracker_command() -> str:
    """How to type this installation's `tracker` in a hint: `tracker` where the shell finds it (an activated
    environment), else its path, relative to the current folder when inside it (`.venv/bin/tracker`)."""
    script = Path(sys.executable).parent / "tracker"
    found = shutil.which("tracker")
    if found is not None and Path(found).resolve() == script.resolve():
        return "tracker"
    try:
        return str(script.relative_to(Path.cwd()))
    except ValueError:
        return os.fspath(script)


def runnable(text: str) -> str:
    """The text with each `tracker …` command in it written so that it runs as typed (`.venv/bin/tracker fetch`)."""
    command = tracker_command()
    return text if command == "tracker" else text.replace("`tracker ", f"`{command} ")
