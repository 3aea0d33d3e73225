"""The shared filter: which rows each choice keeps, their order, and the refusals of bad choices."""

from __future__ import annotations

import pandas as pd
import pytest

from fixtures.export_catalogue import HYPOTHESIS_IDS, article_row, catalogue_frame, standard_catalogue
from tracker.errors import ConfigError
from tracker.selection import Selection, select_articles
from tracker.tagging import DESIGNS


@pytest.mark.parametrize(
    ("selection", "expected_pmids"),
    [
        (Selection(), [1001, 1002, 1008, 1005, 1007, 1006, 1004]),
        (Selection(include_retracted=True), [1001, 1003, 1002, 1008, 1005, 1007, 1006, 1004]),
        (Selection(hypotheses=("serotonin",)), [1001]),
        (Selection(hypotheses=("serotonin",), include_retracted=True), [1001, 1003]),
        (Selection(hypotheses=("sleep", "substance_p")), [1002, 1005, 1006, 1004]),
        (Selection(from_year=2019), [1001, 1002, 1008, 1005]),
        (Selection(to_year=2019), [1008, 1005, 1007, 1006]),
        (Selection(from_year=2019, to_year=2019), [1008, 1005]),
        (Selection(designs=("rct", "cohort")), [1002, 1005]),
        (Selection(species="human"), [1001, 1002, 1008, 1005, 1006]),
        (Selection(species="both"), [1002]),
        (Selection(species="animal"), [1002]),
        (Selection(species="animal", include_retracted=True), [1003, 1002]),
        (Selection(species="unknown"), [1007, 1004]),
        (Selection(new_since="2026-11-20"), [1001, 1002, 1004]),
        (Selection(new_since="2026-11-24T12:00:00"), [1004]),
        (Selection(new_since="2026-11-24T10:00:00+00:00"), [1002, 1004]),
        (Selection(new_since="2026-11-24T11:00:00+01:00"), [1002, 1004]),
        (Selection(new_since="2026-11-24T10:00:00Z"), [1002, 1004]),
        (Selection(only_new=True), [1002, 1004]),
        (Selection(text="(5-ht)"), [1001]),
        (Selection(text="MÜLLER"), [1002]),
        (Selection(text="pain research"), [1001, 1002, 1008, 1004]),
        (Selection(text="second line"), [1005]),
        (Selection(text=".*"), []),
        (Selection(text="   "), [1001, 1002, 1008, 1005, 1007, 1006, 1004]),
        (Selection(hypotheses=("fibromyalgia",), from_year=2018, designs=("other",), include_retracted=True),
         [1003, 1007]),
    ],
)
def test_select_articles_keeps_these_rows_in_this_order(selection: Selection, expected_pmids: list[int]) -> None:
    catalogue = standard_catalogue()
    selected = select_articles(catalogue, selection, hypothesis_ids=HYPOTHESIS_IDS)
    assert selected["pmid"].tolist() == expected_pmids
    # Whole rows come through untouched, every column of the catalogue included.
    expected = catalogue.set_index("pmid").loc[expected_pmids].reset_index()
    pd.testing.assert_frame_equal(selected.reset_index(drop=True), expected, check_like=False)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Selection(from_year=2020, to_year=2019),
         "from-year 2020 is after to-year 2019; swap them or drop one of the bounds"),
        (lambda: Selection(designs=("rtc",)),
         "unknown study design 'rtc': choose from " + ", ".join(DESIGNS)),
        (lambda: Selection(species="humans"),
         "unknown species 'humans': choose one of human, animal, both, unknown"),
        (lambda: Selection(new_since="yesterday"),
         "new-since 'yesterday' is not an ISO date or datetime; write it as 2026-01-31 or 2026-01-31T08:00:00Z"),
        (lambda: Selection(from_year="2019"),  # type: ignore[arg-type]
         "from-year '2019' is not a year; give a whole number such as 2015"),
        (lambda: select_articles(standard_catalogue(), Selection(hypotheses=("serotonine",)),
                                 hypothesis_ids=HYPOTHESIS_IDS),
         "unknown hypothesis 'serotonine': choose from fibromyalgia, serotonin, sleep, substance_p"),
        (lambda: select_articles(standard_catalogue(), Selection(hypotheses=("sleep", "autonomic"))),
         "unknown hypothesis 'autonomic': choose from fibromyalgia, serotonin, sleep, substance_p"),
        (lambda: select_articles(standard_catalogue().iloc[:0], Selection(hypotheses=("sleep",))),
         "unknown hypothesis 'sleep': choose from none yet (the store has no tagged articles)"),
    ],
)
def test_bad_choices_are_refused_with_the_value_and_the_allowed_ones(build, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        build()
    assert str(caught.value) == message


def test_a_configured_hypothesis_without_articles_gives_no_rows_rather_than_an_error() -> None:
    selected = select_articles(standard_catalogue(), Selection(hypotheses=("autonomic",)),
                               hypothesis_ids=(*HYPOTHESIS_IDS, "autonomic"))
    assert selected["pmid"].tolist() == []
    assert list(selected.columns) == list(standard_catalogue().columns)


def test_a_selection_built_from_lists_is_hashable_and_equal_to_the_tuple_form() -> None:
    from_lists = Selection(hypotheses=["sleep"], designs=["rct"], species="", text="")  # type: ignore[arg-type]
    assert from_lists == Selection(hypotheses=("sleep",), designs=("rct",))
    assert hash(from_lists) == hash(Selection(hypotheses=("sleep",), designs=("rct",)))


def test_numpy_years_are_accepted_as_plain_ints() -> None:
    years = standard_catalogue()["pub_year"].dropna()
    selection = Selection(from_year=years.min(), to_year=years.max())
    assert (selection.from_year, selection.to_year) == (2018, 2021)
    assert (type(selection.from_year), type(selection.to_year)) == (int, int)


def test_the_order_does_not_depend_on_the_catalogue_order() -> None:
    rows = [article_row(5, pub_year=2001), article_row(9, pub_year=None), article_row(7, pub_year=2001),
            article_row(3, pub_year=2024), article_row(8, pub_year=None)]
    shuffled = catalogue_frame(rows).sample(frac=1, random_state=4)
    assert select_articles(shuffled, Selection())["pmid"].tolist() == [3, 7, 5, 9, 8]


def test_only_new_on_an_empty_catalogue_gives_an_empty_frame() -> None:
    empty = standard_catalogue().iloc[:0]
    assert select_articles(empty, Selection(only_new=True, new_since="2026-01-01")).empty


_STANCE_ROWS = pd.DataFrame([
    (1001, "serotonin", "supports"), (1002, "sleep", "contradicts"), (1002, "substance_p", "supports"),
    (1005, "sleep", "no_finding"), (1003, "serotonin", "supports"),
], columns=["pmid", "hypothesis_id", "stance"])


@pytest.mark.parametrize(("selection", "expected_pmids"), [
    (Selection(stances=("supports",)), [1001, 1002]),
    (Selection(stances=("supports",), include_retracted=True), [1001, 1003, 1002]),
    (Selection(stances=("supports",), hypotheses=("sleep",)), []),
    (Selection(stances=("contradicts", "no_finding"), hypotheses=("sleep",)), [1002, 1005]),
    (Selection(stances=("mixed",)), []),
])
def test_stance_filter_keeps_articles_with_a_chosen_stance_for_a_chosen_cause(selection, expected_pmids) -> None:
    chosen = select_articles(standard_catalogue(), selection, hypothesis_ids=HYPOTHESIS_IDS, stances=_STANCE_ROWS)
    assert chosen["pmid"].tolist() == expected_pmids


def test_stance_filter_refuses_an_unknown_stance_and_needs_the_rows() -> None:
    with pytest.raises(ConfigError, match="unknown stance 'support': choose from supports, contradicts"):
        Selection(stances=("support",))
    with pytest.raises(ValueError, match="needs the stance rows"):
        select_articles(standard_catalogue(), Selection(stances=("supports",)), hypothesis_ids=HYPOTHESIS_IDS)


@pytest.mark.parametrize(("selection", "expected_pmids"), [
    (Selection(only_retracted=True), [1003]),
    (Selection(only_retracted=True, include_retracted=True), [1003]),
    (Selection(only_retracted=True, hypotheses=("serotonin",)), [1003]),
    (Selection(only_retracted=True, hypotheses=("sleep",)), []),
])
def test_only_retracted_keeps_the_retracted_articles_alone(selection, expected_pmids) -> None:
    catalogue = standard_catalogue()
    assert catalogue["retracted"].sum() < len(catalogue), "the catalogue must hold articles that are not retracted"
    assert select_articles(catalogue, selection, hypothesis_ids=HYPOTHESIS_IDS)["pmid"].tolist() == expected_pmids
