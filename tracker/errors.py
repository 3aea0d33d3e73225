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
