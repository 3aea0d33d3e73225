"""Counts in words: the noun agrees with the number."""

from __future__ import annotations

import pytest

from tracker.wording import counted, near_match, plural


@pytest.mark.parametrize(("count", "singular", "plural_form", "text"), [
    (0, "record", None, "0 records"),
    (1, "record", None, "1 record"),
    (2, "record", None, "2 records"),
    (1, "batch", None, "1 batch"),
    (10, "batch", None, "10 batches"),
    (3, "hypothesis", "hypotheses", "3 hypotheses"),
    (1, "hypothesis", "hypotheses", "1 hypothesis"),
    (1, "new or changed record", None, "1 new or changed record"),
])
def test_counted(count: int, singular: str, plural_form: str | None, text: str) -> None:
    assert counted(count, singular, plural_form) == text
    assert plural(count, singular, plural_form) == text.split(" ", 1)[1]


@pytest.mark.parametrize(("value", "match"), [
    ("rtc", "rct"), ("RCT", "rct"), ("Serotonin", "serotonin"), ("serotonine", "serotonin"), ("RIS", "ris"),
    ("nope", None), ("maybe", None), ("", None),
])
def test_near_match(value: str, match: str | None) -> None:
    choices = ("rct", "cohort", "serotonin", "sleep", "ris", "csv", "supports", "mixed")
    assert near_match(value, choices) == match
