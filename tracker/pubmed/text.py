"""The small texts PubMed records carry, read alike by the XML and the MEDLINE parsers: publication dates,
ORCID iDs, PMIDs."""

from __future__ import annotations

import datetime
import re

# Defined with the ids every layer shares (the dashboard reads PMIDs from addresses); the parsers import it here.
from tracker.vocabulary import pmid_number  # noqa: F401

MONTH_ABBREVIATIONS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MONTH_NUMBERS = {
    **{name.lower(): number for number, name in enumerate(MONTH_ABBREVIATIONS, start=1)},
    **{
        name: number
        for number, name in enumerate(
            ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
             "november", "december"),
            start=1,
        )
    },
    "sept": 9,
}

# The first year in the text, then (after whitespace only) a month, then (after whitespace only) a day:
# "2019 Nov-Dec" → 2019 Nov, "2019 Aug 5-11" → 2019 Aug 5, but "2019 08-09" never reads 09 as a day.
DATE_TEXT_PATTERN = re.compile(
    r"(?<!\d)(?P<year>\d{4})(?!\d)(?:\s+(?P<month>[A-Za-z]+|\d{1,2}(?!\d))(?:\s+(?P<day>\d{1,2})(?!\d))?)?"
)

# "0000-0002-1825-0097", "https://orcid.org/0000-0002-1825-0097" or the 16 characters run together.
ORCID_PATTERN = re.compile(r"(?<![0-9A-Za-z])(\d{4})-?(\d{4})-?(\d{4})-?(\d{3}[\dXx])/?$")


def parse_pubmed_date_text(text: str) -> tuple[int | None, int | None, int | None]:
    """Read (year, month, day) from a PubMed date such as "2019 Aug 5", "1998 Dec-1999 Jan" or "Spring 2020".

    A range keeps its start; whatever is not known (a season, a missing day, an impossible date) is None.
    """
    match = DATE_TEXT_PATTERN.search(text or "")
    if match is None:
        return None, None, None
    year = int(match["year"])
    month = month_number(match["month"])
    day = int(match["day"]) if month is not None and match["day"] else None
    if day is not None:
        try:
            datetime.date(year, month, day)
        except ValueError:
            day = None
    return year, month, day


def normalise_orcid(text: str | None) -> str | None:
    """The bare "0000-0002-1825-0097" form of an ORCID iD given in any of PubMed's forms; None if it is not one.

    The last character is an ISO 7064 11-2 checksum, which ORCID defines: an iD that fails it was mistyped and
    would point to someone else, so it is dropped.
    """
    match = ORCID_PATTERN.search((text or "").strip())
    if match is None:
        return None
    characters = "".join(match.groups()).upper()
    total = 0
    for digit in characters[:-1]:
        total = (total + int(digit)) * 2
    check = (12 - total % 11) % 11
    if characters[-1] != ("X" if check == 10 else str(check)):
        return None
    return "-".join(characters[start:start + 4] for start in range(0, 16, 4))


def month_number(text: str | None) -> int | None:
    """A month's number from its name, abbreviation or digits ("Aug", "august", "08"); None for anything else."""
    if not text:
        return None
    if text.isdigit():
        number = int(text)
        return number if 1 <= number <= 12 else None
    return MONTH_NUMBERS.get(text.lower())
