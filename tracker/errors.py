"""The tracker's exceptions; only the CLI and the dashboard turn them into messages.

    TrackerError
    ├── ConfigError        a hypotheses file, an environment variable or a CLI argument is wrong
    ├── EutilsError        NCBI E-utilities could not be reached or refused the request
    │   └── EutilsQueryError   NCBI answered with an <ERROR>/"ERROR" for this query: retrying will not help
    ├── ParseError         PubMed XML or a MEDLINE file is malformed
    ├── StoreError         the SQLite store cannot be opened, is too new, or is locked
    └── LockHeld           another fetch holds the job lock
"""


class TrackerError(Exception):
    """Base of every error the tracker reports to its user."""


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
