"""The evidence table: counts per hypothesis × year × design, running sums, per 1,000 baseline, unknown years."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from tracker.analysis import evidence, tagging
from tracker.config import Hypothesis

HYPOTHESES = (
    Hypothesis(id="fm", label="All", description="d", query="q", baseline=True),
    Hypothesis(id="a", label="A", description="d", query="q"),
    Hypothesis(id="b", label="B", description="d", query="q"),
)

# pmid, year, hypotheses, design, species, retracted
_ROWS = [
    (1, 2000, ["a", "fm"], "rct", "human", False),
    (2, 2000, ["a", "fm"], "rct", "animal", False),
    (3, 2000, ["fm"], "other", "human", False),
    (4, 2000, ["b", "fm"], "cohort", "human", True),
    (5, 2001, ["a"], "rct", "human", False),
    (6, None, ["a", "fm"], "rct", "unknown", False),
    (7, 2003, ["b", "fm"], "cohort", "human", False),
]


def _catalogue() -> pd.DataFrame:
    frame = pd.DataFrame(_ROWS, columns=["pmid", "pub_year", "hypotheses", "design", "species", "retracted"])
    frame["pub_year"] = frame["pub_year"].astype("Int64")
    return frame


def _rows(table: pd.DataFrame, hypothesis_id: str, design: str) -> list[tuple]:
    """(year_label, count, cumulative, per_1000) for one hypothesis × design, NaN/<NA> as None."""
    selected = table[(table["hypothesis_id"] == hypothesis_id) & (table["design"] == design)]
    return [
        (label, int(count), None if pd.isna(cumulative) else int(cumulative),
         None if math.isnan(per_1000) else round(per_1000, 3))
        for label, count, cumulative, per_1000 in
        selected[["year_label", "count", "cumulative", "per_1000"]].itertuples(index=False)
    ]


def test_counts_running_sums_and_normalisation_by_hand() -> None:
    table = evidence.evidence_table(_catalogue(), HYPOTHESES)
    # baseline (fm, not retracted): 2000 → 3 (pmids 1, 2, 3), 2001 → 0, 2002 → 0, 2003 → 1, unknown → 1
    assert _rows(table, "a", "rct") == [
        ("2000", 2, 2, 666.667), ("2001", 1, 3, None), ("2002", 0, 3, None), ("2003", 0, 3, 0.0),
        ("unknown", 1, None, 1000.0),
    ]
    # pmid 4 is retracted: left out by default
    assert _rows(table, "b", "cohort") == [
        ("2000", 0, 0, 0.0), ("2001", 0, 0, None), ("2002", 0, 0, None), ("2003", 1, 1, 1000.0),
        ("unknown", 0, None, 0.0),
    ]


def test_retracted_articles_counted_when_asked() -> None:
    table = evidence.evidence_table(_catalogue(), HYPOTHESES, include_retracted=True)
    # the retracted article joins both the count and the 2000 denominator (now 4)
    assert _rows(table, "b", "cohort")[0] == ("2000", 1, 1, 250.0)
    assert _rows(table, "a", "rct")[0] == ("2000", 2, 2, 500.0)


def test_shape_columns_and_baseline_not_a_row() -> None:
    table = evidence.evidence_table(_catalogue(), HYPOTHESES)
    assert list(table.columns) == ["hypothesis_id", "year", "year_label", "design", "count", "cumulative", "per_1000"]
    assert [str(dtype) for dtype in table.dtypes] == ["object", "Int64", "str", "object", "int64", "Int64", "float64"]
    # 2 causes × (2000..2003 + unknown) × 11 designs, every combination present, zeros included
    assert len(table) == 2 * 5 * len(tagging.DESIGNS)
    assert sorted(table["hypothesis_id"].unique()) == ["a", "b"]
    assert table["count"].sum() == 5  # a: 1, 2, 5, 6; b: 7 (4 is retracted)
    unknown = table[table["year_label"] == "unknown"]
    assert unknown["year"].isna().all() and unknown["cumulative"].isna().all()


def test_by_species_splits_counts_but_not_the_denominator() -> None:
    table = evidence.evidence_table(_catalogue(), HYPOTHESES, by_species=True)
    assert list(table.columns) == ["hypothesis_id", "year", "year_label", "design", "species", "count",
                                   "cumulative", "per_1000"]
    selected = table[(table["hypothesis_id"] == "a") & (table["design"] == "rct") & (table["year_label"] == "2000")]
    assert selected[["species", "count", "cumulative"]].to_dict("records") == [
        {"species": "human", "count": 1, "cumulative": 1}, {"species": "animal", "count": 1, "cumulative": 1},
        {"species": "both", "count": 0, "cumulative": 0}, {"species": "unknown", "count": 0, "cumulative": 0},
    ]
    assert selected["per_1000"].round(3).tolist() == [333.333, 333.333, 0.0, 0.0]


def test_no_baseline_gives_nan_per_1000_and_empty_catalogue_gives_unknown_rows_only() -> None:
    causes_only = HYPOTHESES[1:]
    assert evidence.evidence_table(_catalogue(), causes_only)["per_1000"].isna().all()
    empty = evidence.evidence_table(_catalogue().iloc[0:0], HYPOTHESES)
    assert empty["year_label"].unique().tolist() == ["unknown"]
    assert (len(empty), int(empty["count"].sum())) == (2 * len(tagging.DESIGNS), 0)


@pytest.mark.parametrize(("value", "expected"), [
    ("count", {"a": [2, 1, 0, 0, 1], "b": [0, 0, 0, 1, 0]}),
    ("cumulative", {"a": [2, 3, 3, 3, None], "b": [0, 0, 0, 1, None]}),
    ("per_1000", {"a": [666.667, None, None, 0.0, 1000.0], "b": [0.0, None, None, 1000.0, 0.0]}),
])
def test_evidence_by_year_sums_designs_with_unknown_last(value: str, expected: dict) -> None:
    pivot = evidence.evidence_by_year(evidence.evidence_table(_catalogue(), HYPOTHESES), value)
    assert pivot.index.tolist() == ["2000", "2001", "2002", "2003", "unknown"]
    assert {column: [None if pd.isna(v) else round(float(v), 3) for v in pivot[column]]
            for column in pivot.columns} == expected


def test_by_stance_counts_each_pair_by_its_stance_and_unread_pairs_as_no_finding() -> None:
    stances = pd.DataFrame([
        (1, "a", "supports"), (2, "a", "contradicts"), (2, "fm", "supports"), (7, "b", "mixed"),
    ], columns=["pmid", "hypothesis_id", "stance"])
    table = evidence.evidence_table(_catalogue(), HYPOTHESES, stances=stances)
    assert list(table.columns) == ["hypothesis_id", "year", "year_label", "design", "stance", "count",
                                   "cumulative", "per_1000"]
    a_2000 = table[(table["hypothesis_id"] == "a") & (table["design"] == "rct") & (table["year_label"] == "2000")]
    assert a_2000[["stance", "count"]].to_dict("records") == [
        {"stance": "supports", "count": 1}, {"stance": "contradicts", "count": 1},
        {"stance": "mixed", "count": 0}, {"stance": "no_finding", "count": 0},
    ]
    # pmid 5 (a, 2001) has no stance row: it counts as no finding, and the cumulative runs per stance
    a_2001 = table[(table["hypothesis_id"] == "a") & (table["design"] == "rct") & (table["year_label"] == "2001")]
    assert a_2001[["stance", "count", "cumulative"]].to_dict("records") == [
        {"stance": "supports", "count": 0, "cumulative": 1}, {"stance": "contradicts", "count": 0, "cumulative": 1},
        {"stance": "mixed", "count": 0, "cumulative": 0}, {"stance": "no_finding", "count": 1, "cumulative": 1},
    ]
    # the baseline's stance rows change nothing, and stance splits counts, never the denominator
    assert table["count"].sum() == evidence.evidence_table(_catalogue(), HYPOTHESES)["count"].sum()
    assert a_2000["per_1000"].round(3).tolist() == [333.333, 333.333, 0.0, 0.0]
