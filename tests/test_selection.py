"""The shared filter: which rows each choice keeps, their order, and the refusals of bad choices."""

from __future__ import annotations

import pandas as pd
import pytest

from support.catalogue import HYPOTHESIS_IDS, article_row, catalogue_frame, run_history, standard_catalogue
from tracker.errors import ConfigError
from tracker.models import CONFIDENCES
from tracker.outputs.selection import Selection, from_query, select_articles, to_query
from tracker.vocabulary import DESIGNS


# Run 2 failed after storing 1002: the next successful fetch, 3, counts it as new too. Run 4 is an import.
RUNS = run_history(
    [(1, "fetch", "succeeded"), (2, "fetch", "failed"), (3, "fetch", "succeeded"), (4, "import", "succeeded"),
     (5, "fetch", "running")],
    [(1, 1001, "new"), (1, 1003, "new"), (1, 1005, "new"), (1, 1007, "new"), (1, 1008, "new"), (2, 1002, "new"),
     (3, 1004, "new"), (3, 1001, "changed"), (4, 1006, "new"), (4, 1005, "changed")])


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
        (Selection(new_in_run="latest"), [1006]),
        (Selection(new_in_run=3), [1002, 1004]),
        (Selection(new_in_run="3"), [1002, 1004]),
        (Selection(new_in_run=1), [1001, 1008, 1005, 1007]),
        (Selection(new_in_run=1, include_retracted=True), [1001, 1003, 1008, 1005, 1007]),
        (Selection(new_in_run=1, hypotheses=("serotonin",)), [1001]),
        (Selection(changed_in_run="latest"), [1005]),
        (Selection(changed_in_run=3), [1001]),
        (Selection(new_in_run=3, changed_in_run=3), []),
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
    selected = select_articles(catalogue, selection, hypothesis_ids=HYPOTHESIS_IDS, runs=RUNS)
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
        (lambda: select_articles(standard_catalogue(), Selection(new_in_run=2), runs=RUNS),
         "new-in-run 2: run 2 failed; choose latest or 1, 3-4 (see `tracker status`)"),
        (lambda: select_articles(standard_catalogue(), Selection(new_in_run=5), runs=RUNS),
         "new-in-run 5: run 5 is still running; choose latest or 1, 3-4 (see `tracker status`)"),
        (lambda: select_articles(standard_catalogue(), Selection(changed_in_run=9), runs=RUNS),
         "changed-in-run 9: there is no run 9; choose latest or 1, 3-4 (see `tracker status`)"),
        (lambda: select_articles(standard_catalogue(), Selection(new_in_run="latest"), runs=run_history([], [])),
         "new-in-run latest: no fetch or import has succeeded yet; run `tracker fetch` or `tracker import FILE` "
         "first"),
        (lambda: select_articles(standard_catalogue(), Selection(new_in_run=1), runs=run_history([], [])),
         "new-in-run 1: there is no run 1; choose none yet (no fetch or import has succeeded) "
         "(see `tracker status`)"),
        (lambda: Selection(new_in_run="soon"),
         "new-in-run 'soon' is not a run; give latest or a run id that `tracker status` lists"),
        (lambda: Selection(changed_in_run=0),
         "changed-in-run 0 is not a run; give latest or a run id that `tracker status` lists"),
        (lambda: Selection(new_in_run=True),  # type: ignore[arg-type]
         "new-in-run True is not a run; give latest or a run id that `tracker status` lists"),
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


def test_new_in_run_on_an_empty_catalogue_gives_an_empty_frame() -> None:
    empty = standard_catalogue().iloc[:0]
    assert select_articles(empty, Selection(new_in_run="latest", new_since="2026-01-01"), runs=RUNS).empty


_STANCE_ROWS = pd.DataFrame([
    (1001, "serotonin", "supports", "high"), (1002, "sleep", "contradicts", "high"),
    (1002, "substance_p", "supports", "low"), (1005, "sleep", "no_finding", "high"),
    (1003, "serotonin", "supports", "low"),
], columns=["pmid", "hypothesis_id", "stance", "confidence"])


@pytest.mark.parametrize(("selection", "expected_pmids"), [
    (Selection(stances=("supports",)), [1001, 1002]),
    (Selection(stances=("supports",), include_retracted=True), [1001, 1003, 1002]),
    (Selection(stances=("supports",), hypotheses=("sleep",)), []),
    (Selection(stances=("contradicts", "no_finding"), hypotheses=("sleep",)), [1002, 1005]),
    (Selection(stances=("mixed",)), []),
    # The confidence keeps only the stance rows read with it.
    (Selection(stances=("supports",), confidence="high"), [1001]),
    (Selection(stances=("supports",), confidence="low", include_retracted=True), [1003, 1002]),
])
def test_stance_filter_keeps_articles_with_a_chosen_stance_for_a_chosen_cause(selection, expected_pmids) -> None:
    chosen = select_articles(standard_catalogue(), selection, hypothesis_ids=HYPOTHESIS_IDS, stances=_STANCE_ROWS)
    assert chosen["pmid"].tolist() == expected_pmids


_KIND_ROWS = pd.DataFrame([
    (1001, "serotonin", "supports", "comparison", False), (1002, "sleep", "contradicts", "intervention", False),
    (1002, "substance_p", "supports", "association", True), (1005, "sleep", "supports", "comparison", True),
], columns=["pmid", "hypothesis_id", "stance", "evidence_kind", "hedged"])


@pytest.mark.parametrize(("selection", "expected_pmids"), [
    (Selection(evidence_kinds=("comparison", "association")), [1001, 1002, 1005]),
    (Selection(evidence_kinds=("comparison", "association"), hedged=False), [1001]),
    (Selection(stances=("supports",), hedged=True), [1002, 1005]),
    (Selection(stances=("supports",), hedged=True, hypotheses=("sleep",)), [1005]),
    (Selection(evidence_kinds=("intervention",), stances=("supports",)), []),
])
def test_kind_and_hedging_filters_need_one_stance_row_to_match_them_all(selection, expected_pmids) -> None:
    chosen = select_articles(standard_catalogue(), selection, hypothesis_ids=HYPOTHESIS_IDS, stances=_KIND_ROWS)
    assert chosen["pmid"].tolist() == expected_pmids


def test_an_unknown_evidence_kind_is_refused() -> None:
    with pytest.raises(ConfigError, match="unknown evidence kind 'direct': choose from comparison, association"):
        Selection(evidence_kinds=("direct",))


def test_stance_filter_refuses_an_unknown_stance_and_needs_the_rows() -> None:
    with pytest.raises(ConfigError, match="unknown stance 'support': choose from supports, contradicts"):
        Selection(stances=("support",))
    with pytest.raises(ConfigError, match="unknown confidence 'sure': choose one of high, low"):
        Selection(stances=("supports",), confidence="sure")
    with pytest.raises(ValueError, match="needs the stance rows"):
        select_articles(standard_catalogue(), Selection(stances=("supports",)), hypothesis_ids=HYPOTHESIS_IDS)


def test_a_selection_naming_a_run_needs_the_run_history() -> None:
    with pytest.raises(ValueError, match="pass the store's RunHistory as runs"):
        select_articles(standard_catalogue(), Selection(new_in_run="latest"))


def test_a_year_of_nightly_runs_is_listed_as_ranges() -> None:
    runs = run_history([(i, "fetch", "failed" if i % 100 == 0 else "succeeded") for i in range(1, 366)], [])
    with pytest.raises(ConfigError) as caught:
        select_articles(standard_catalogue(), Selection(new_in_run=400), runs=runs)
    assert str(caught.value) == ("new-in-run 400: there is no run 400; choose latest or 1-99, 101-199, 201-299, "
                                 "301-365 (see `tracker status`)")


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


@pytest.mark.parametrize("selection", [
    Selection(),
    Selection(hypotheses=("sleep", "serotonin"), stances=("supports",), designs=("rct", "meta_analysis")),
    Selection(hypotheses=("sleep",), stances=("supports", "mixed"), confidence="low"),
    Selection(hypotheses=("sleep",), from_year=2001, to_year=2010, include_retracted=True),
    Selection(only_retracted=True, include_retracted=True),
    Selection(hypotheses=("sleep",), stances=("supports",), evidence_kinds=("comparison", "association"),
              hedged=False),
    Selection(hedged=True),
])
def test_a_selection_survives_the_trip_through_an_address(selection: Selection) -> None:
    fields, notes = from_query(to_query(selection), ["sleep", "serotonin"])
    assert (Selection(**fields), notes) == (selection, [])


def test_an_address_names_the_selection_in_its_own_words_and_drops_what_is_not_allowed() -> None:
    query = to_query(Selection(hypotheses=("sleep",), designs=("rct",), only_retracted=True, from_year=2001))
    assert query == {"causes": "sleep", "designs": "rct", "from": "2001", "retracted": "only"}
    fields, notes = from_query({"causes": "sleep,nope", "stances": "maybe", "to": "x", "retracted": "all",
                                "confidence": "certain"}, ["sleep"])
    assert fields == {"hypotheses": ("sleep",), "stances": ()}
    assert notes == ["causes: 'nope' is not one of the causes; left out",
                     "stances: 'maybe' is not a stance (supports, contradicts, mixed, no_finding); left out",
                     f"confidence: 'certain' is not a confidence ({', '.join(CONFIDENCES)}); the page is shown "
                     "without it",
                     "to: 'x' is not a year (four digits, such as 2015); the page is shown without it",
                     "retracted: 'all' is not include or only; the page is shown without it"]


@pytest.mark.parametrize(("params", "note"), [
    ({"from": "²"}, "from: '²' is not a year (four digits, such as 2015); the page is shown without it"),
    ({"to": "¹²"}, "to: '¹²' is not a year (four digits, such as 2015); the page is shown without it"),
    ({"from": "٢٠١٥"}, "from: '٢٠١٥' is not a year (four digits, such as 2015); the page is shown without it"),
    ({"to": "9" * 5000}, "to: '99999999999999999999…' is not a year (four digits, such as 2015); the page is shown "
                         "without it"),
    ({"from": "2020", "to": "2010"}, "from 2020 is after to 2010; the page is shown without the years"),
])
def test_a_year_in_an_address_that_is_not_one_is_left_out_with_a_note(params, note) -> None:
    fields, notes = from_query(params, ["sleep"])
    assert (fields, notes) == ({}, [note])
    Selection(**fields)
