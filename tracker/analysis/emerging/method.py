"""The method's parameters and the shape of its result: what `find_emerging` returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import pandas as pd


KINDS = ("mesh", "chemical", "keyword", "phrase")
# Columns a catalogue may carry with supplementary concepts or chemicals: each a list of names, or of dicts
# with a "name" (or "substance") key, as JSON bytes or as lists.
CHEMICAL_COLUMNS = ("chemicals", "supplementary_concepts")
RANKED_COLUMNS = (
    "rank", "term", "kind", "articles", "recent_articles", "before_articles", "share_recent", "share_before",
    "rate_ratio", "p_value", "q_value", "trend", "trend_p", "burst_years", "bursting", "first_flagged_year",
    "example_pmids", "emerging", "key", "variants", "mesh_names", "idea_terms",
)
YEARLY_COLUMNS = ("key", "term", "year", "articles", "baseline_articles", "share", "bursting")


@dataclass(frozen=True)
class Method:
    """The method's parameters; the defaults are those the module docstring describes."""

    recent_years: int = 3
    before_years: int = 5
    min_articles: int = 10
    max_q: float = 0.05
    min_rate_ratio: float = 1.5
    trend_alpha: float = 0.05
    burst_scale: float = 2.0
    burst_gamma: float = 1.0
    burst_years: int = 20
    replay_years: int = 15
    # A phrase is left to a longer phrase that holds at least this share of its articles.
    nested_share: float = 0.8
    example_count: int = 3

    @property
    def window_years(self) -> int:
        return self.recent_years + self.before_years


class EmergingResult(NamedTuple):
    """`ranked`: one row per candidate (RANKED_COLUMNS), best first; `yearly`: each ranked candidate's share per
    year of the burst window (YEARLY_COLUMNS); `excluded`: the candidates an exclusion removed, with the rule."""

    ranked: pd.DataFrame
    yearly: pd.DataFrame
    excluded: pd.DataFrame
    as_of: int
