"""The E-utilities stand-in the fetch tests talk to; it lives in the package (`tracker/demo/standin.py`), where
`tracker demo` serves it too."""

from tracker.demo.standin import (ESEARCH_CAP, RETSTART_ERROR, EutilsStandin, Fault, LoggedRequest,  # noqa: F401
                                  record_dates)
