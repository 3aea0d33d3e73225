"""The statistics a reviewer audits: the growth test, Benjamini-Hochberg q-values, Mann-Kendall, Kleinberg
bursts; vectorised over all candidates."""

from __future__ import annotations

import math

import numpy as np
from scipy import special, stats


def growth_test(recent: np.ndarray, before: np.ndarray, recent_total: float,
                before_total: float) -> tuple[np.ndarray, np.ndarray]:
    """Rate ratios and one-sided exact p-values for a rise from `before` to `recent` articles.

    The rate ratio is (recent / recent_total) / (before / before_total): inf where before is 0 and recent is
    not, NaN where both are 0. Given recent + before, recent is Binomial(recent + before, recent_total / (recent_total
    + before_total)) when the rate did not change (the conditional test for two Poisson rates); p = P(X >= recent).
    """
    recent = np.asarray(recent, dtype="float64")
    before = np.asarray(before, dtype="float64")
    if recent_total <= 0 or before_total <= 0:
        return np.full(recent.shape, np.nan), np.ones(recent.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate_ratio = (recent / recent_total) / (before / before_total)
    share = recent_total / (recent_total + before_total)
    p_values = stats.binom.sf(recent - 1, recent + before, share)
    return rate_ratio, np.where(recent + before > 0, p_values, 1.0)


def q_values(p_values: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (scipy's false_discovery_control); empty in, empty out."""
    p_values = np.asarray(p_values, dtype="float64")
    if p_values.size == 0:
        return p_values
    return stats.false_discovery_control(p_values, method="bh")


def mann_kendall(series: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mann-Kendall's S, z and two-sided p-value for each row of `series` (rows: candidates, columns: years).

    The same statistic as pymannkendall.original_test, with its tie correction, for all rows at once.
    """
    values = np.atleast_2d(np.asarray(series, dtype="float64"))
    count = values.shape[1]
    s_statistic = np.zeros(values.shape[0])
    for first in range(count - 1):
        s_statistic += np.sign(values[:, first + 1:] - values[:, [first]]).sum(axis=1)
    # Each value in a group of t equal values adds (t - 1)(2t + 5): the group then adds t(t - 1)(2t + 5).
    tie_sizes = (values[:, :, None] == values[:, None, :]).sum(axis=2)
    ties = ((tie_sizes - 1) * (2 * tie_sizes + 5)).sum(axis=1)
    variance = (count * (count - 1) * (2 * count + 5) - ties) / 18.0
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(variance > 0, (s_statistic - np.sign(s_statistic)) / np.sqrt(variance), 0.0)
    return s_statistic, z, 2 * stats.norm.sf(np.abs(z))


def kleinberg_bursts(mentions: np.ndarray, totals: np.ndarray, scale: float = 2.0,
                     gamma: float = 1.0) -> np.ndarray:
    """Kleinberg's two-state burst states (True = bursting) for each row of yearly `mentions` out of `totals`.

    Batched form (Kleinberg 2002, section 4): state 0 emits at p0 = all mentions / all totals, state 1 at
    min(scale * p0, 1); a year costs -ln(C(d, r) p^r (1 - p)^(d - r)) in its state, entering state 1 costs
    gamma * ln(years) and leaving it nothing. The cheapest state sequence, found exactly by Viterbi, starts in
    state 0; on a tie the lower state wins.
    """
    counts = np.atleast_2d(np.asarray(mentions, dtype="float64"))
    totals = np.asarray(totals, dtype="float64")
    rows, years = counts.shape
    if years == 0:
        return np.zeros((rows, 0), dtype=bool)
    grand_total = totals.sum()
    base = counts.sum(axis=1) / grand_total if grand_total > 0 else np.zeros(rows)
    rates = (base, np.minimum(scale * base, 1.0))
    # The binomial coefficient C(d, r) is the same in both states, so it cannot change the cheapest sequence.
    costs = [-(special.xlogy(counts, rate[:, None]) + special.xlog1py(totals - counts, -rate[:, None]))
             for rate in rates]
    # A rate of 1 in a year with non-mentions is impossible: xlog1py gives -inf there, a cost of +inf.
    entering = gamma * math.log(years)
    cost_low, cost_high = costs[0][:, 0].copy(), entering + costs[1][:, 0]
    came_from_high = np.zeros((2, rows, years), dtype=bool)
    for year in range(1, years):
        came_from_high[0, :, year] = cost_high < cost_low
        came_from_high[1, :, year] = cost_high < cost_low + entering
        low = np.minimum(cost_low, cost_high) + costs[0][:, year]
        high = np.minimum(cost_low + entering, cost_high) + costs[1][:, year]
        cost_low, cost_high = low, high
    states = np.zeros((rows, years), dtype=bool)
    state = cost_high < cost_low
    for year in range(years - 1, -1, -1):
        states[:, year] = state
        state = np.where(state, came_from_high[1, :, year], came_from_high[0, :, year])
    return states
