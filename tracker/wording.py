"""Counts in words for the lines a user reads: "1 record", "2 records", "1 batch", "3 batches"."""

from __future__ import annotations


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
