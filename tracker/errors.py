"""The tracker's exceptions; only the CLI and the dashboard turn them into messages.

    TrackerError
    ├── ConfigError        a hypotheses file, an environment variable or a CLI argument is wrong
    ├── EutilsError        NCBI E-utilities could not be reached or refused the request
    │   └── EutilsQueryError   NCBI answered with an <ERROR>/"ERROR" for this query: retrying will not help
    ├── ParseError         PubMed XML or a MEDLINE file is malformed
    ├── StoreError         the SQLite store cannot be opened, is too new, or is locked
    └── LockHeld           another fetch holds the job lock
"""

import re
from collections.abc import Sequence

# What a terminal acts on instead of showing: C0 and C1 controls (ESC starts a terminal command, NEL ends a line),
# DEL, the line and paragraph separators, and the bidirectional controls that reorder what follows (U+202E shows
# "txt.exe" as "exe.txt"). Text from a server, a file or a path may hold any of them.
_UNSHOWABLE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """The text with each character a terminal would act on written as its escape ("\\u202e", "\\x85")."""
    return _UNSHOWABLE.sub(lambda found: found.group().encode("unicode_escape").decode("ascii"), text)


class TrackerError(Exception):
    """Base of every error the tracker reports to its user; its text is always `printable`, wherever it goes (the
    terminal, a log, the store, the dashboard), since part of it may come from a server or a file."""

    def __str__(self) -> str:
        return printable(super().__str__())


class ConfigError(TrackerError):
    """A configuration input is wrong; the message names the input and the fix."""


class EutilsError(TrackerError):
    """An E-utilities request failed after its retries."""


class EutilsQueryError(EutilsError):
    """NCBI rejected the query itself (an <ERROR> or JSON "ERROR"); retrying will not help."""


class ParseError(TrackerError):
    """PubMed XML or a MEDLINE record is malformed."""


class StoreError(TrackerError):
    """The SQLite store cannot be used as asked."""


class LockHeld(TrackerError):
    """Another fetch job holds the lock."""


def rows_refused(problems: Sequence[tuple[str, str]]) -> ConfigError:
    """One line for every wrong row of a file: the first row's message in full, then where the others are ("row 5,
    line 9"), so that one round of fixes can reach them all. Each problem is (where, message): where names the file
    and the row ("reviews.csv row 5") and the message starts with it."""
    first = problems[0][1]
    if len(problems) == 1:
        return ConfigError(first)
    # The file's name is in the first message already: the others are named by their row (or line) alone.
    others = [" ".join(where.rsplit(" ", 2)[-2:]) for where, _ in problems[1:]]
    shown = ", ".join(others[:_ROWS_NAMED]) + (f" and {len(others) - _ROWS_NAMED} more" if len(others) > _ROWS_NAMED
                                               else "")
    return ConfigError(f"{first} (and {len(others)} more rows with problems: {shown})")


# Enough to fix a file in one round; a file with more wrong rows is likely the wrong file.
_ROWS_NAMED = 10
