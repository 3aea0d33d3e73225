"""Counts in words for the lines a user reads: "1 record", "3 batches", and runs of numbers as "2019-2021, 2024"."""

from __future__ import annotations

from collections.abc import Iterable


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
