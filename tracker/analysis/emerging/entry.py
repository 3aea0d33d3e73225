"""From a ranked candidate to a hypotheses-file entry: find it by name, give it an id, print its TOML."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Sequence

import pandas as pd

from tracker.analysis.emerging.words import american_forms, fold, phrase_words, singular_forms
from tracker.config import Hypothesis
from tracker.errors import ConfigError
from tracker.wording import number_ranges


_FIBROMYALGIA_QUERY = '"Fibromyalgia"[MeSH Terms] OR fibromyalgia[Title/Abstract]'


def find_candidate(ranked: pd.DataFrame, excluded: pd.DataFrame, term: str) -> pd.Series:
    """The ranked row of `term` (its display name, key or any spelling of it, in any case or number).

    Raises ConfigError naming the exclusion that removed it, or saying it is no candidate.
    """
    wanted = loose_key(term)
    for _, row in ranked.iterrows():
        names = (row["key"], row["term"], *row["variants"], *row.get("idea_terms", ()))
        if wanted in {loose_key(name) for name in names}:
            return row
    for _, row in excluded.iterrows():
        if wanted in {loose_key(row["key"]), loose_key(row["term"])}:
            reason = row["excluded_by"] if isinstance(row["excluded_by"], str) else \
                f"it occurs mostly inside {row['nested_in']!r}"
            raise ConfigError(f"{term!r} is not a candidate: {reason}; choose a term `tracker emerging` lists")
    raise ConfigError(f"{term!r} is not among the candidates (mentioned in too few fibromyalgia articles, or "
                      f"never); choose a term `tracker emerging` lists")


def loose_key(text: str) -> str:
    """A phrase with every word singular and American by rule alone: what a user's spelling is looked up by."""
    words = []
    for word in phrase_words(str(text)):
        singular = (singular_forms(word) or [word])[-1]
        words.append((american_forms(singular) or [singular])[0])
    return " ".join(words)


def hypothesis_id_for(term: str, taken: Iterable[str] = ()) -> str:
    """A hypotheses-file id for a term: lower-case letters, digits and "_", starting with a letter, unused."""
    slug = re.sub(r"[^a-z0-9]+", "_", fold(term)).strip("_") or "candidate"
    if not slug[0].isalpha():
        slug = f"c_{slug}"
    slug = slug[:36].rstrip("_")
    taken = set(taken)
    candidate, number = slug, 2
    while candidate in taken:
        candidate, number = f"{slug}_{number}", number + 1
    return candidate


def hypothesis_toml(row: pd.Series, hypotheses: Sequence[Hypothesis], as_of: int) -> str:
    """A [[hypothesis]] entry for a ranked candidate, to paste into the hypotheses file.

    Its query combines the baseline's query (or fibromyalgia's MeSH heading and word) with the candidate's MeSH
    names, every spelling seen and the idea's other names; its terms are those and the MeSH names. The description is a
    placeholder with the figures that flagged it, for the user to replace.
    """
    baseline = next((h for h in hypotheses if h.baseline), None)
    fibromyalgia = baseline.query if baseline else _FIBROMYALGIA_QUERY
    # The other names of the idea are searched and tagged too: one idea, one cause.
    spellings = list(dict.fromkeys([*row["variants"], row["key"], *row.get("idea_terms", ())]))
    parts = [f'"{name}"[MeSH Terms]' for name in row["mesh_names"]]
    parts += [f'"{spelling}"[Title/Abstract]' for spelling in spellings]
    query = f"({fibromyalgia}) AND ({' OR '.join(parts)})"
    terms = list(dict.fromkeys([*spellings, *row["mesh_names"]]))
    ratio = row["rate_ratio"]
    ratio_text = "new (none before)" if ratio == math.inf else f"{ratio:.1f}" if ratio == ratio else "-"
    q_text = f"{row['q_value']:.2g}" if row["q_value"] == row["q_value"] else "-"
    description = (f"TODO: one paragraph on what this hypothesis proposes. Flagged by `tracker emerging` as of "
                   f"{as_of}: {row['articles']} fibromyalgia articles, rate ratio {ratio_text} in the last 3 years "
                   f"against the 5 before (q = {q_text}), trend {row['trend']}, burst years "
                   f"{year_ranges(row['burst_years']) or 'none'}.")
    label = str(row["term"])
    label = label[:1].upper() + label[1:]
    lines = [
        "[[hypothesis]]",
        f"id = {_toml_string(hypothesis_id_for(label, (h.id for h in hypotheses)))}",
        f"label = {_toml_string(label)}",
        f"description = {_toml_string(description)}",
        f"query = {_toml_string(query)}",
        f"terms = [{', '.join(_toml_string(term) for term in terms)}]",
    ]
    return "\n".join(lines) + "\n"


def _toml_string(text: str) -> str:
    """A TOML string: literal ('...', as the shipped file writes queries) unless the text needs escapes."""
    if "'" not in text and text.isprintable():
        return f"'{text}'"
    # A JSON string is a valid TOML basic string: the same escapes.
    return json.dumps(text, ensure_ascii=False)


def year_ranges(years: Sequence[int]) -> str:
    """Burst years as the table shows them: (2019, 2020, 2021, 2024) as "2019-2021, 2024"."""
    return number_ranges(int(year) for year in years)
