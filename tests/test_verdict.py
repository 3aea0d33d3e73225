"""The verdict per cause: supports / contradicts / mixed, support's share with its Wilson interval, the high-level
share, the last ten years' direction, patients, direct against indirect and hedged evidence, share per period."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from support.seed import make_articles, read_catalogue, seed_stances, seed_store
from tracker import store
from tracker.analysis import evidence
from tracker.config import DEFAULT_HYPOTHESES_PATH, Hypothesis, load_settings
from tracker.analysis.reviews import Review
from tracker.outputs import export

HYPOTHESES = (
    Hypothesis(id="fm", label="All", description="d", query="q", baseline=True),
    Hypothesis(id="a", label="A", description="d", query="q"),
    Hypothesis(id="b", label="B", description="d", query="q"),
    Hypothesis(id="c", label="C", description="d", query="q"),
)
NOW_YEAR = 2026


def _wilson(successes: int, trials: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """The Wilson score interval by its textbook formula."""
    p = successes / trials
    centre = (p + z * z / (2 * trials)) / (1 + z * z / trials)
    half = z / (1 + z * z / trials) * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials))
    return centre - half, centre + half


def _store_frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Ten articles of cause a (and one of b), with stance rows of every kind; pmid 9 is retracted, pmid 10 has
    a stance row for b, which it does not carry."""
    # pmid, year, design, retracted, hypotheses
    articles = [
        (1, 2020, "case_control", False, ["a", "fm"]),
        (2, 2020, "case_control", False, ["a", "fm"]),
        (3, 2021, "observational", False, ["a", "fm"]),
        (4, 2021, "rct", False, ["a", "fm"]),
        (5, 2022, "meta_analysis", False, ["a", "fm"]),
        (6, 2022, "cohort", False, ["a", "b", "fm"]),
        (7, None, "case_control", False, ["a", "fm"]),
        (8, 2023, "case_control", False, ["a", "fm"]),
        (9, 2023, "case_control", True, ["a", "fm"]),
        (10, 2023, "other", False, ["a", "fm"]),
        (11, 2023, "case_control", False, ["a", "fm"]),
    ]
    catalogue = pd.DataFrame(articles, columns=["pmid", "pub_year", "design", "retracted", "hypotheses"])
    catalogue["pub_year"] = catalogue["pub_year"].astype("Int64")
    # pmid, cause, stance, kind, hedged, patients
    rows = [
        (1, "a", "supports", "comparison", False, 40),
        (2, "a", "contradicts", "comparison", False, 25),
        (3, "a", "supports", "association", True, 100),
        (4, "a", "supports", "intervention", False, 60),
        (5, "a", "contradicts", "review", False, None),
        (6, "a", "mixed", "association", False, 300),
        (6, "b", "supports", "comparison", False, 300),
        (7, "a", "supports", "comparison", False, None),
        (8, "a", "no_finding", "comparison", False, 12),
        (9, "a", "supports", "comparison", False, 80),
        (10, "b", "supports", "comparison", False, 5),
        (11, "a", "supports", "comparison", False, 70),
    ]
    stances = pd.DataFrame(rows, columns=["pmid", "hypothesis_id", "stance", "evidence_kind", "hedged",
                                          "n_patients"])
    # pmid 11 is read with low confidence: counted apart, never in the verdict
    stances["confidence"] = ["low" if pmid == 11 else "high" for pmid in stances["pmid"]]
    # a person reviewed pmid 2's reading
    stances["reviewed"] = stances["pmid"] == 2
    stances["n_patients"] = stances["n_patients"].astype("Int64")
    return catalogue, stances


def test_finding_counts_keep_carried_pairs_of_kept_articles() -> None:
    catalogue, stances = _store_frames()
    counts = evidence.finding_counts(catalogue, stances)
    assert list(counts.columns) == [*evidence.FINDING_KEYS, "articles", "patients", "with_size"]
    # 12 rows less the retracted pmid 9 and pmid 10's row for b, which it does not carry
    assert int(counts["articles"].sum()) == 10
    assert counts.loc[counts["confidence"] == "low", "articles"].tolist() == [1]
    assert int(counts.loc[counts["hypothesis_id"] == "b", "articles"].sum()) == 1
    unknown = counts[counts["year"].isna()]
    assert unknown[["hypothesis_id", "stance", "articles", "patients", "with_size"]].to_dict("records") == [
        {"hypothesis_id": "a", "stance": "supports", "articles": 1, "patients": 0, "with_size": 0}]
    with_retracted = evidence.finding_counts(catalogue, stances, include_retracted=True)
    assert int(with_retracted["articles"].sum()) == 11


def test_verdict_direct_scope_by_hand() -> None:
    catalogue, stances = _store_frames()
    table = evidence.verdict_table(evidence.finding_counts(catalogue, stances), HYPOTHESES, now_year=NOW_YEAR)
    assert list(table.columns) == list(evidence.VERDICT_COLUMNS)
    assert table["hypothesis_id"].tolist() == ["a", "b", "c"]
    a = table.iloc[0]
    # direct, unhedged: 1 supports, 2 contradicts, 6 mixed, 7 supports (unknown year); 3 is hedged, 4 a
    # treatment, 5 a review, 8 no finding, 9 retracted
    assert (a["supports"], a["contradicts"], a["mixed"], a["findings"]) == (2, 1, 1, 4)
    assert a["share"] == 0.5
    assert (a["share_low"], a["share_high"]) == pytest.approx(_wilson(2, 4))
    # high level: 4 (RCT, supports) and 5 (meta-analysis, contradicts), whatever the scope
    assert (a["high_supports"], a["high_findings"], a["high_share"]) == (1, 2, 0.5)
    assert (a["high_low"], a["high_high"]) == pytest.approx(_wilson(1, 2))
    # patients stated in the direct findings: 40 + 25 + 300 (pmid 7 states none)
    assert (a["patients"], a["with_size"]) == (365, 3)
    # left out of the direct scope: the treatment (4), the review (5) and the hedged association (3)
    assert (a["treatment_results"], a["reviews"], a["other_results"], a["hedged_direct"]) == (1, 1, 0, 1)
    assert (a["low_confidence"], a["reviewed"]) == (1, 1)
    assert a["trend"] == "too few" and math.isnan(a["trend_p"])
    b, c = table.iloc[1], table.iloc[2]
    assert (b["supports"], b["findings"], b["share"]) == (1, 1, 1.0)
    assert (b["share_low"], b["share_high"]) == pytest.approx(_wilson(1, 1))
    # an empty cause: zeros and no share, never 0 %
    assert (c["findings"], c["patients"]) == (0, 0) and math.isnan(c["share"]) and math.isnan(c["share_low"])


def test_verdict_all_scope_counts_treatments_reviews_and_hedged_findings() -> None:
    catalogue, stances = _store_frames()
    table = evidence.verdict_table(evidence.finding_counts(catalogue, stances), HYPOTHESES, scope="all",
                                   now_year=NOW_YEAR)
    a = table.iloc[0]
    assert (a["supports"], a["contradicts"], a["mixed"], a["findings"]) == (4, 2, 1, 7)
    assert (a["share_low"], a["share_high"]) == pytest.approx(_wilson(4, 7))
    assert (a["patients"], a["with_size"]) == (525, 5)
    with pytest.raises(ValueError, match="unknown evidence scope 'some'"):
        evidence.verdict_table(evidence.finding_counts(catalogue, stances), HYPOTHESES, scope="some",
                               now_year=NOW_YEAR)


def test_what_the_direct_scope_leaves_out_is_counted_once_per_finding() -> None:
    # kind, hedged, articles: a hedged treatment or review counts with its kind, never again as hedged
    rows = [("comparison", False, 5), ("association", True, 2), ("comparison", True, 1), ("intervention", False, 3),
            ("intervention", True, 4), ("review", True, 6), ("review", False, 1), ("other", False, 7)]
    findings = pd.DataFrame([("a", 2020, False, "supports", "high", kind, hedged, False, count, 0, 0)
                             for kind, hedged, count in rows],
                            columns=[*evidence.FINDING_KEYS, "articles", "patients", "with_size"])
    findings["year"] = findings["year"].astype("Int64")
    direct, every = (evidence.verdict_table(findings, HYPOTHESES, scope=scope, now_year=NOW_YEAR).iloc[0]
                     for scope in ("direct", "all"))
    left_out = ("treatment_results", "reviews", "other_results", "hedged_direct")
    assert tuple(direct[column] for column in left_out) == (7, 7, 7, 3)
    assert sum(direct[column] for column in left_out) == every["findings"] - direct["findings"] == 24
    # whatever the scope: the same counts on the "all" table
    assert tuple(every[column] for column in left_out) == (7, 7, 7, 3)


def _yearly_findings(per_year: dict[int, tuple[int, int]]) -> pd.DataFrame:
    """A finding_counts frame of cause a: {year: (supports, contradicts)}, direct and unhedged."""
    rows = [("a", year, False, stance, "high", "comparison", False, False, count, 0, 0)
            for year, (supports, contradicts) in per_year.items()
            for stance, count in (("supports", supports), ("contradicts", contradicts)) if count]
    frame = pd.DataFrame(rows, columns=[*evidence.FINDING_KEYS, "articles", "patients", "with_size"])
    frame["year"] = frame["year"].astype("Int64")
    return frame


def _cochran_armitage_p(supports: list[int], totals: list[int]) -> float:
    """The two-sided p of the Cochran–Armitage test, scores 0, 1, 2, …, by its textbook formula."""
    from scipy.stats import norm

    x, n, t = np.array(supports), np.array(totals), np.arange(len(totals))
    p = x.sum() / n.sum()
    statistic = (t * (x - n * p)).sum()
    variance = p * (1 - p) * ((n * t * t).sum() - (n * t).sum() ** 2 / n.sum())
    return float(2 * norm.sf(abs(statistic / math.sqrt(variance))))


@pytest.mark.parametrize(("per_year", "expected"), [
    ({2018: (0, 5), 2019: (1, 4), 2020: (2, 3), 2022: (5, 1), 2024: (6, 0)}, "rising"),
    ({2018: (6, 0), 2019: (5, 1), 2020: (2, 3), 2022: (1, 4), 2024: (0, 5)}, "falling"),
    ({2018: (3, 3), 2019: (3, 3), 2020: (3, 3), 2022: (3, 3), 2024: (3, 3)}, "stable"),
    ({2018: (4, 0), 2020: (3, 0), 2024: (5, 0)}, "stable"),
    ({2020: (3, 2), 2024: (2, 1)}, "too few"),
])
def test_trend_of_the_last_ten_years(per_year: dict[int, tuple[int, int]], expected: str) -> None:
    # 2010 lies outside the ten years to 2026: a flood of contradiction there changes nothing
    findings = _yearly_findings({2010: (0, 40), **per_year})
    table = evidence.verdict_table(findings, HYPOTHESES, now_year=NOW_YEAR)
    a = table.iloc[0]
    assert a["trend"] == expected
    if expected in ("rising", "falling"):
        years = sorted(per_year)
        hand_p = _cochran_armitage_p([per_year[y][0] for y in years], [sum(per_year[y]) for y in years])
        # Kendall's tau-b and Cochran–Armitage agree within a factor of two on such tables
        assert hand_p / 2 < a["trend_p"] < hand_p * 2 and a["trend_p"] < 0.01


def test_wilson_intervals_equal_scipys_to_the_last_bit() -> None:
    from scipy.special import ndtri
    from scipy.stats import binomtest

    assert evidence.WILSON_Z == ndtri(0.975)
    pairs = [(k, n) for n in (1, 2, 3, 7, 10, 41, 250, 9_999) for k in sorted({0, 1, n // 3, n // 2, n - 1, n})]
    low, high = evidence.wilson_intervals([k for k, _ in pairs], [n for _, n in pairs])
    for (k, n), bounds in zip(pairs, zip(low, high)):
        interval = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
        assert bounds == (interval.low, interval.high), (k, n)
    empty_low, empty_high = evidence.wilson_intervals([0, 3], [0, 5])
    assert np.isnan(empty_low[0]) and np.isnan(empty_high[0]) and not np.isnan(empty_low[1])


def test_trend_statistic_equals_scipys_kendalltau_of_the_findings() -> None:
    from scipy.stats import kendalltau

    rng = np.random.default_rng(7)
    for _ in range(40):
        years = np.sort(rng.choice(np.arange(2015, 2027), size=rng.integers(2, 10), replace=False))
        supports = rng.integers(0, 30, size=len(years))
        others = rng.integers(0, 30, size=len(years))
        by_year = pd.DataFrame({"year": years, "supports": supports, "findings": supports + others})
        direction, tau, p_value = evidence.support_trend(by_year.sample(frac=1, random_state=1))
        if direction in ("too few",) or not supports.any() or not others.any():
            continue
        reference = kendalltau(np.concatenate([np.repeat(years, supports), np.repeat(years, others)]),
                               np.concatenate([np.ones(supports.sum()), np.zeros(others.sum())]))
        assert tau == float(reference.statistic)
        assert p_value == pytest.approx(float(reference.pvalue), rel=1e-12, abs=1e-300)


def test_share_by_period_with_intervals() -> None:
    findings = _yearly_findings({2013: (1, 1), 2014: (1, 0), 2016: (2, 2), 2019: (0, 1)})
    periods = evidence.share_by_period(findings, HYPOTHESES, period_years=5)
    assert list(periods.columns) == list(evidence.SHARE_COLUMNS)
    assert periods[["period", "supports", "contradicts", "findings"]].to_dict("records") == [
        {"period": "2010–2014", "supports": 2, "contradicts": 1, "findings": 3},
        {"period": "2015–2019", "supports": 2, "contradicts": 3, "findings": 5},
    ]
    assert periods["share"].tolist() == pytest.approx([2 / 3, 0.4])
    assert periods[["share_low", "share_high"]].to_numpy().ravel().tolist() == pytest.approx(
        [*_wilson(2, 3), *_wilson(2, 5)])


def test_verdict_on_a_seeded_store_agrees_with_the_evidence_export(tmp_path: Path) -> None:
    """The table's counts are the rows `tracker evidence` writes, counted by hand: those read with high
    confidence, the others apart."""
    settings = load_settings(hypotheses_path=DEFAULT_HYPOTHESES_PATH, environ={})
    db_path = tmp_path / "store.sqlite"
    seed_store(db_path, settings.hypotheses, make_articles(200, seed=11))
    catalogue = read_catalogue(db_path)
    seed_stances(db_path, catalogue)
    # A person reviews two low-confidence "supports" readings as "contradicts": they count, as high confidence.
    with store.reading(db_path) as connection:
        machine = store.load_stance_frame(connection)
    kept = catalogue.loc[~catalogue["retracted"].astype(bool), "pmid"]
    unsure = machine[(machine["confidence"] == "low") & (machine["stance"] == "supports") & machine["pmid"].isin(kept)]
    assert len(unsure) >= 2
    for pmid, cause in unsure[["pmid", "hypothesis_id"]].head(2).itertuples(index=False):
        store.write_review(db_path, Review(int(pmid), cause, "contradicts", "ana", "2026-12-06T10:00:00+00:00"),
                           [h.id for h in settings.causes])
    with store.reading(db_path) as connection:
        stances = store.load_stance_frame(connection, columns=(*store.STANCE_COLUMNS, "reviewed"))
    assert int(stances["reviewed"].sum()) == 2
    findings = evidence.finding_counts(catalogue, stances)
    table = evidence.verdict_table(findings, settings.hypotheses, scope="all", now_year=NOW_YEAR).set_index(
        "hypothesis_id")
    kept = catalogue[~catalogue["retracted"].astype(bool)]
    rows = export.evidence_frame(kept, stances, [h.id for h in settings.causes])
    assert table["findings"].sum() > 20 and table["reviewed"].sum() == 2
    assert "confidence" in rows
    for cause in table.index:
        unsure = rows[(rows["hypothesis"] == cause) & (rows["confidence"] == "low")
                      & rows["stance"].isin(evidence.FINDING_STANCES)]
        assert table.loc[cause, "low_confidence"] == len(unsure)
        mine = rows[(rows["hypothesis"] == cause) & (rows["confidence"] == "high")]
        for stance in evidence.FINDING_STANCES:
            assert table.loc[cause, stance] == (mine["stance"] == stance).sum(), (cause, stance)
        found = mine[mine["stance"].isin(evidence.FINDING_STANCES)]
        assert table.loc[cause, "patients"] == found["n_patients"].sum()
        direct_kind = found["evidence_kind"].isin(evidence.DIRECT_KINDS)
        assert table.loc[cause, "hedged_direct"] == (direct_kind & found["hedged"].astype(bool)).sum()
        for column, kind in (("treatment_results", "intervention"), ("reviews", "review"), ("other_results", "other")):
            assert table.loc[cause, column] == (found["evidence_kind"] == kind).sum(), (cause, column)
        assert table.loc[cause, "reviewed"] == found["reviewed"].astype(bool).sum()
        if len(found):
            supports = int((found["stance"] == "supports").sum())
            assert (table.loc[cause, "share_low"], table.loc[cause, "share_high"]) == pytest.approx(
                _wilson(supports, len(found)))
