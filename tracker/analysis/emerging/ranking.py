"""Scoring and ranking: the statistics per candidate as of a year, the first year each was flagged, the ranked
and yearly frames; `find_emerging` runs the whole method."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd

from tracker.analysis.emerging.candidates import (Batches, Mentions, baseline_articles, batch_reader, extract_mentions,
                                                  summed)
from tracker.analysis.emerging.ideas import IDEA_POOL, co_mentions, idea_leaders
from tracker.analysis.emerging.method import RANKED_COLUMNS, YEARLY_COLUMNS, EmergingResult, Method
from tracker.analysis.emerging.statistics import growth_test, kleinberg_bursts, mann_kendall, q_values
from tracker.config import Hypothesis
from tracker.errors import ConfigError


class _YearStatistics(NamedTuple):
    support: np.ndarray
    recent: np.ndarray
    before: np.ndarray
    share_recent: np.ndarray
    share_before: np.ndarray
    rate_ratio: np.ndarray
    p_value: np.ndarray
    q_value: np.ndarray
    trend_z: np.ndarray
    trend_p: np.ndarray
    bursts: np.ndarray   # candidates x burst years
    emerging: np.ndarray


def _statistics(counts: np.ndarray, totals: np.ndarray, support: np.ndarray, testable: np.ndarray,
                method: Method) -> _YearStatistics:
    """Every statistic as of one year, from per-candidate counts and baseline totals of the burst window's
    years (the last column is `as_of`)."""
    window = method.window_years
    recent = counts[:, -method.recent_years:].sum(axis=1)
    before = counts[:, -window:-method.recent_years].sum(axis=1)
    recent_total = float(totals[-method.recent_years:].sum())
    before_total = float(totals[-window:-method.recent_years].sum())
    rate_ratio, p_value = growth_test(recent, before, recent_total, before_total)
    tested = testable & (support >= method.min_articles)
    q_value = np.full(len(support), np.nan)
    q_value[tested] = q_values(p_value[tested])
    with np.errstate(divide="ignore", invalid="ignore"):
        share_recent = recent / recent_total if recent_total else np.full(len(recent), np.nan)
        share_before = before / before_total if before_total else np.full(len(before), np.nan)
        shares = counts[:, -window:] / totals[-window:]
    # Years without any baseline article say nothing about a trend: they are left out of it.
    known = totals[-window:] > 0
    trend_z = np.zeros(len(support))
    trend_p = np.ones(len(support))
    if known.sum() >= 3 and len(support):
        _, trend_z, trend_p = mann_kendall(shares[:, known])
    bursts = kleinberg_bursts(counts, totals, method.burst_scale, method.burst_gamma)
    trending_up = (trend_z > 0) & (trend_p < method.trend_alpha)
    bursting_now = bursts[:, -1] if bursts.shape[1] else np.zeros(len(support), dtype=bool)
    emerging = (tested & (q_value < method.max_q) & (np.nan_to_num(rate_ratio, nan=0.0) >= method.min_rate_ratio)
                & (bursting_now | trending_up))
    return _YearStatistics(support, recent, before, share_recent, share_before, rate_ratio, p_value, q_value,
                           trend_z, trend_p, bursts, emerging)


def score_mentions(mentions: Mentions, as_of: int, method: Method = Method(),
                   yearly_top: int = 100) -> EmergingResult:
    """Rank the candidates as of the end of `as_of`, replaying the method for the years before it to find when
    each was first flagged. Only articles available by then count (see `baseline_articles`)."""
    candidates = mentions.candidates
    candidate_count = len(candidates)
    testable = (candidates["excluded_by"].isna() & candidates["nested_in"].isna()).to_numpy(dtype=bool)
    first_replay = as_of - method.replay_years + 1
    first_year = first_replay - method.burst_years + 1
    span = as_of - first_year + 1
    available = mentions.available_years
    in_time = available <= as_of
    tallies = mentions.tallies
    # Tallies and articles in the order they became available, so each replayed year adds one slice.
    # Years fit 16 bits, for which numpy's stable sort is a radix sort.
    order = np.argsort(tallies.available_years.astype("int16"), kind="stable")
    tally_available, tally_years = tallies.available_years[order], tallies.pub_years[order] - first_year
    tally_candidates, tally_articles = tallies.candidates[order], tallies.articles[order]
    article_order = np.argsort(available.astype("int16"), kind="stable")
    article_available = available[article_order]
    article_years = mentions.pub_years[article_order] - first_year

    counts = np.zeros((candidate_count, span), dtype="int64")
    totals = np.zeros(span, dtype="int64")
    support = np.zeros(candidate_count, dtype="int64")
    first_flagged = np.full(candidate_count, -1, dtype="int64")
    done_tallies = done_articles = 0
    statistics = None
    for year in range(first_replay, as_of + 1):
        tally_end = int(np.searchsorted(tally_available, year, side="right"))
        article_end = int(np.searchsorted(article_available, year, side="right"))
        new_years, new_candidates = tally_years[done_tallies:tally_end], tally_candidates[done_tallies:tally_end]
        new_articles = tally_articles[done_tallies:tally_end]
        support += summed(new_candidates, new_articles, candidate_count)
        inside = new_years >= 0
        counts += summed(new_candidates[inside] * span + new_years[inside], new_articles[inside],
                          candidate_count * span).reshape(candidate_count, span)
        new_article_years = article_years[done_articles:article_end]
        totals += np.bincount(new_article_years[new_article_years >= 0], minlength=span)[:span]
        done_tallies, done_articles = tally_end, article_end
        column_end = year - first_year + 1
        window_start = column_end - method.burst_years
        statistics = _statistics(counts[:, window_start:column_end], totals[window_start:column_end], support,
                                 testable, method)
        first_flagged[(first_flagged < 0) & statistics.emerging] = year
    assert statistics is not None
    burst_first_year = as_of - method.burst_years + 1
    ranked = _ranked_frame(mentions, statistics, first_flagged, testable, burst_first_year, in_time, method)
    yearly = _yearly_frame(ranked.head(yearly_top), counts[:, -method.burst_years:], totals[-method.burst_years:],
                           statistics.bursts, burst_first_year)
    ranked = ranked[list(RANKED_COLUMNS)]
    excluded = candidates.loc[~testable & (statistics.support >= method.min_articles),
                              ["key", "term", "kind", "excluded_by", "nested_in"]].assign(
        articles=statistics.support[~testable & (statistics.support >= method.min_articles)]).reset_index(drop=True)
    return EmergingResult(ranked, yearly, excluded, as_of)


def _ranked_frame(mentions: Mentions, statistics: _YearStatistics, first_flagged: np.ndarray, testable: np.ndarray,
                  burst_first_year: int, in_time: np.ndarray, method: Method) -> pd.DataFrame:
    """The tested candidates, best first, with the internal column _candidate (their position in mentions)."""
    tested = testable & (statistics.support >= method.min_articles)
    positions = np.flatnonzero(tested)
    candidates = mentions.candidates.iloc[positions]
    burst_years = [tuple(int(burst_first_year + year) for year in np.flatnonzero(row))
                   for row in statistics.bursts[positions]]
    trend = np.where(statistics.trend_p[positions] < method.trend_alpha,
                     np.where(statistics.trend_z[positions] > 0, "increasing", "decreasing"), "no trend")
    frame = pd.DataFrame({
        "term": candidates["term"].to_numpy(dtype=object),
        "kind": candidates["kind"].to_numpy(dtype=object),
        "articles": statistics.support[positions],
        "recent_articles": statistics.recent[positions],
        "before_articles": statistics.before[positions],
        "share_recent": statistics.share_recent[positions],
        "share_before": statistics.share_before[positions],
        "rate_ratio": statistics.rate_ratio[positions],
        "p_value": statistics.p_value[positions],
        "q_value": statistics.q_value[positions],
        "trend": trend.astype(object),
        "trend_p": statistics.trend_p[positions],
        "burst_years": pd.Series(burst_years, dtype=object),
        "bursting": statistics.bursts[positions, -1] if statistics.bursts.shape[1] else False,
        "first_flagged_year": pd.array(np.where(first_flagged[positions] > 0, first_flagged[positions], None),
                                       dtype="Int64"),
        "emerging": statistics.emerging[positions],
        "key": candidates["key"].to_numpy(dtype=object),
        "variants": candidates["variants"].to_numpy(dtype=object),
        "mesh_names": candidates["mesh_names"].to_numpy(dtype=object),
        "_candidate": positions,
    })
    # Best first: emerging, then the strongest evidence of growth, then the steepest, then the most articles.
    frame = frame.sort_values(["emerging", "q_value", "rate_ratio", "articles", "key"],
                              ascending=[False, True, False, False, True], na_position="last", ignore_index=True)
    positions = frame["_candidate"].to_numpy(dtype="int64")
    shared, examples = _read_pairs(mentions, positions[:IDEA_POOL], positions, in_time, method.example_count)
    frame = _one_row_per_idea(frame, shared, len(mentions.pmids))
    frame.insert(0, "rank", np.arange(1, len(frame) + 1))
    frame["example_pmids"] = [examples.get(position, ()) for position in frame["_candidate"].tolist()]
    return frame


def _one_row_per_idea(frame: pd.DataFrame, shared: np.ndarray, article_count: int) -> pd.DataFrame:
    """The ranked frame with each idea's best-ranked candidate only, the others' terms in its idea_terms."""
    pool = frame.head(IDEA_POOL)
    leaders = idea_leaders(pool["key"].tolist(), shared, article_count)
    followers = np.flatnonzero(leaders != np.arange(len(pool)))
    idea_terms: list[list[str]] = [[] for _ in range(len(frame))]
    for follower in followers:
        idea_terms[leaders[follower]].append(pool["term"].iat[follower])
    frame["idea_terms"] = pd.Series([tuple(terms) for terms in idea_terms], dtype=object)
    return frame.drop(index=followers).reset_index(drop=True)


def _read_pairs(mentions: Mentions, pool: np.ndarray, wanted: np.ndarray, in_time: np.ndarray,
                count: int) -> tuple[np.ndarray, dict[int, tuple[int, ...]]]:
    """One more reading of the articles available in time: `co_mentions` of the `pool` candidates, and per
    `wanted` candidate the PMIDs of its newest `count` articles (year, then PMID), newest first."""
    candidate_count = len(mentions.candidates)
    pool_place = np.full(candidate_count, -1, dtype="int64")
    pool_place[pool] = np.arange(len(pool))
    is_wanted = np.zeros(candidate_count, dtype=bool)
    is_wanted[wanted] = True
    shared = np.zeros((len(pool), len(pool)), dtype="int64")
    empty = np.zeros(0, dtype="int64")
    newest = (empty, empty, empty)  # candidate, year, PMID of each candidate's newest articles so far
    for articles, candidates in mentions.pair_batches():
        now = in_time[articles]
        articles, candidates = articles[now], candidates[now]
        places = pool_place[candidates]
        shared += co_mentions(places[places >= 0], articles[places >= 0], len(pool))
        chosen = is_wanted[candidates]
        newest = _newest(*(np.concatenate(parts) for parts in zip(newest, (
            candidates[chosen], mentions.pub_years[articles[chosen]], mentions.pmids[articles[chosen]]))), count)
    examples: dict[int, list[int]] = {}
    for candidate, pmid in zip(newest[0].tolist(), newest[2].tolist()):
        examples.setdefault(candidate, []).append(pmid)
    return shared, {candidate: tuple(pmids) for candidate, pmids in examples.items()}


def _newest(candidates: np.ndarray, years: np.ndarray, pmids: np.ndarray,
            count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per candidate its newest `count` articles (year, then PMID), newest first, candidate by candidate."""
    order = np.lexsort((-pmids, -years, candidates))
    candidates, years, pmids = candidates[order], years[order], pmids[order]
    starts = np.flatnonzero(np.r_[True, candidates[1:] != candidates[:-1]]) if len(candidates) else np.zeros(0, int)
    run_starts = np.repeat(starts, np.diff(np.r_[starts, len(candidates)]))
    first = (np.arange(len(candidates)) - run_starts) < count
    return candidates[first], years[first], pmids[first]


def _yearly_frame(ranked: pd.DataFrame, counts: np.ndarray, totals: np.ndarray, bursts: np.ndarray,
                  first_year: int) -> pd.DataFrame:
    """Per ranked candidate and year of the burst window: its articles, the baseline's, the share, bursting."""
    positions = ranked["_candidate"].to_numpy(dtype="int64")
    year_count = counts.shape[1]
    with np.errstate(divide="ignore", invalid="ignore"):
        shares = counts[positions] / totals
    return pd.DataFrame({
        "key": np.repeat(ranked["key"].to_numpy(dtype=object), year_count),
        "term": np.repeat(ranked["term"].to_numpy(dtype=object), year_count),
        "year": np.tile(np.arange(first_year, first_year + year_count), len(positions)),
        "articles": counts[positions].ravel(),
        "baseline_articles": np.tile(totals, len(positions)),
        "share": shares.ravel(),
        "bursting": bursts[positions].ravel() if len(positions) else np.zeros(0, dtype=bool),
    }, columns=list(YEARLY_COLUMNS))


def find_emerging(catalogue: pd.DataFrame | Iterable[pd.DataFrame] | Batches, hypotheses: Sequence[Hypothesis], *,
                  as_of: int, current_year: int, method: Method = Method()) -> EmergingResult:
    """Rank the candidate causes of the catalogue's baseline articles as of the end of `as_of`.

    `catalogue` may be batches of catalogue rows, or a function that reads them afresh (as
    `store.iter_emerging_batches` does, called again for each pass): each batch is reduced to what is counted
    before the next is read; the ranking is the one of them all in one frame.
    `as_of` must be a complete year: before `current_year`. Raises ConfigError otherwise.
    """
    check_as_of(as_of, current_year)
    read = batch_reader(catalogue)

    def articles(names: bool = True) -> Iterator[pd.DataFrame]:
        return (baseline_articles(batch, hypotheses, as_of) for batch in read(names=names))

    return score_mentions(extract_mentions(articles, hypotheses, method), as_of, method)


# The first year an as-of may name: PubMed's records begin around then.
EARLIEST_AS_OF = 1950


def check_as_of(as_of: int, current_year: int) -> None:
    """Refuse an as-of year that is not complete yet, or before PubMed existed."""
    if as_of >= current_year:
        raise ConfigError(f"as-of year {as_of} is not complete yet; give {current_year - 1} or earlier")
    if as_of < EARLIEST_AS_OF:
        raise ConfigError(f"as-of year {as_of} is before PubMed's records; give a year from {EARLIEST_AS_OF} on")
