"""The dashboard through streamlit.testing.v1.AppTest on seeded stores: pages, filters, charts, empty and broken stores."""

from __future__ import annotations

import html
import re
import sqlite3
import sys
import tomllib
import urllib.parse
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from click.testing import CliRunner
from support.pages import evidence_table, run_as_browser
from support.seed import (add_fetch_run, make_articles, read_catalogue, read_run_history, read_stances, seed_stances,
                          seed_store, seed_two_runs)
from streamlit.testing.v1 import AppTest

from dashboard import charts, deferred, labels, loaders, markup, views
from dashboard.pages.overview import CHART_MODES
from dashboard.screens import PAGES
from tracker import cli, store, vocabulary
from tracker.analysis import evidence, tagging
from tracker.config import DEFAULT_HYPOTHESES_PATH, MAX_HYPOTHESES, load_settings
from tracker.models import STANCES, Article, Correction, RunHistory
from tracker.outputs.selection import Selection, select_articles

PROJECT_DIR = Path(__file__).resolve().parent.parent
APP_PATH = PROJECT_DIR / "dashboard" / "app.py"
ARTICLE_COUNT = 400
LATE_ARTICLE_COUNT = 6
CHANGED_ARTICLE_COUNT = 3
# AppTest's own default (3 s) is too tight for a cold first render on a shared 2-core machine.
TIMEOUT_S = 60


@pytest.fixture(scope="module")
def settings():
    return load_settings(hypotheses_path=DEFAULT_HYPOTHESES_PATH, environ={})


@pytest.fixture(scope="module")
def seeded_db(tmp_path_factory: pytest.TempPathFactory, settings) -> Path:
    """Run 1 stores 400 articles; run 2, the same day, 6 more (what "new in the latest run" must find) and a
    retraction link on 3 stored ones (what "changed in run" must find)."""
    return seed_two_runs(tmp_path_factory.mktemp("dashboard") / "seeded.sqlite", settings.hypotheses,
                         make_articles(ARTICLE_COUNT, seed=7), make_articles(LATE_ARTICLE_COUNT, seed=8),
                         CHANGED_ARTICLE_COUNT)


@pytest.fixture(scope="module")
def runs(seeded_db: Path) -> RunHistory:
    return read_run_history(seeded_db)


@pytest.fixture(scope="module")
def stance_db(tmp_path_factory: pytest.TempPathFactory, settings) -> Path:
    """A store of 300 articles, most (article, cause) pairs with a stored stance."""
    db_path = tmp_path_factory.mktemp("stance") / "stance.sqlite"
    seed_store(db_path, settings.hypotheses, make_articles(300, seed=21))
    seed_stances(db_path, read_catalogue(db_path))
    return db_path


@pytest.fixture(scope="module")
def catalogue(seeded_db: Path) -> pd.DataFrame:
    return read_catalogue(seeded_db)


def run_app(monkeypatch: pytest.MonkeyPatch, db_path: Path, page: str | None = None,
            query: dict[str, str] | None = None, first_run_only: bool = False, **widgets: object) -> AppTest:
    """Run the page script against a store, on a page, with widgets (by key) set, and return the finished app.

    `query` is the page address's query string, as a count's link sets it. With `first_run_only`, the app as its
    first run left it, before the browser asks for the part below the first chart.
    """
    monkeypatch.setenv("TRACKER_DB", str(db_path))
    app = AppTest.from_file(str(APP_PATH), default_timeout=TIMEOUT_S)
    app.query_params.update(query or {})
    if first_run_only:
        app.run()
    else:
        run_as_browser(app)
    if page is not None:
        app.sidebar.radio(key="page").set_value(page)
        app.run()
    # One rerun per widget: a later widget's options may depend on an earlier one (the article list on a filter).
    for key, value in widgets.items():
        app.get_by_key(key).set_value(value)
        app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def metric_values(app: AppTest) -> dict[str, str]:
    return {metric.label: metric.value for metric in app.metric}


def chart_frames(app: AppTest) -> list[pd.DataFrame]:
    """The data each Vega-Lite chart on the page was sent (its first data set), decoded from its Arrow bytes."""
    return [datasets[0] for datasets in chart_datasets(app)]


def chart_datasets(app: AppTest) -> list[list[pd.DataFrame]]:
    """Every data set of each Vega-Lite chart on the page (a layered or concatenated chart has several)."""
    charts = []
    for chart in app.get("vega_lite_chart"):
        raws = [dataset.data.data for dataset in chart.proto.datasets] or [chart.proto.data.data]
        charts.append([pa.ipc.open_stream(raw).read_pandas() for raw in raws])
    return charts


def count_charts(app: AppTest) -> list[list[pd.DataFrame]]:
    """The data sets of the charts of articles (over time, by design, high-level): the share-over-time chart of
    the verdict, which counts findings per period, left out."""
    return [datasets for datasets in chart_datasets(app) if not any("period" in frame for frame in datasets)]


def markdown_text(app: AppTest) -> str:
    return "\n".join(m.value for m in app.markdown)


# --- every page -------------------------------------------------------------------------------------------------

PAGE_TITLES = {"Overview": "Fibromyalgia evidence: what it says, cause by cause", "Cause": "Substance P",
               "Citations": "Citations", "Fetch status": "Fetch status", "Emerging": "Emerging causes",
               "Review": "Review"}


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_without_exception(monkeypatch, seeded_db, page) -> None:
    app = run_app(monkeypatch, seeded_db, page)
    assert [title.value for title in app.main.title] == [PAGE_TITLES[page]]
    assert not app.error


@pytest.mark.parametrize("page", ["Cause", "Citations", "Fetch status"])
def test_a_table_shows_a_missing_value_as_a_dash_not_as_none(monkeypatch, seeded_db, page) -> None:
    # Streamlit's own default writes "None" (an article of unknown year, a cause never synced), which reads as a value.
    app = run_app(monkeypatch, seeded_db, page)
    assert app.dataframe and [table.proto.placeholder for table in app.dataframe] == ["—"] * len(app.dataframe)


@pytest.mark.parametrize("include_retracted", [False, True])
def test_overview_counts_come_from_the_evidence_table_and_link_to_their_articles(
        monkeypatch, seeded_db, settings, catalogue, include_retracted) -> None:
    app = run_app(monkeypatch, seeded_db, include_retracted=include_retracted)
    by_year = evidence.evidence_by_year(
        evidence.evidence_table(catalogue, settings.hypotheses, include_retracted=include_retracted), "count")
    figures = metric_values(app)
    assert figures["Articles tracked"] == f"{ARTICLE_COUNT + LATE_ARTICLE_COUNT:,}"
    assert figures["New in the latest run"] == f"{LATE_ARTICLE_COUNT:,}"
    table = next(m.value for m in app.markdown if m.value.startswith("| Cause | Articles |"))
    hypothesis_ids = [h.id for h in settings.hypotheses]
    for cause in settings.causes:
        selection = Selection(hypotheses=(cause.id,), include_retracted=include_retracted)
        expected = int(by_year[cause.id].sum())
        # The count equals what its link opens in Citations.
        assert expected == len(select_articles(catalogue, selection, hypothesis_ids=hypothesis_ids))
        link = markup.citations_link(causes=[cause.id], retracted="include" if include_retracted else None)
        line = next(line for line in table.splitlines() if line.startswith(f"| {markup.escape_text(cause.label)} |"))
        assert f"| [{expected:,}]({link}) |" in line
        retracted = len(select_articles(catalogue, Selection(hypotheses=(cause.id,), only_retracted=True),
                                        hypothesis_ids=hypothesis_ids))
        assert f"[{retracted:,}]({markup.citations_link(causes=[cause.id], retracted='only')})" in line


def test_the_split_by_source_adds_up_to_the_count(monkeypatch, seeded_db, settings, catalogue) -> None:
    app = run_app(monkeypatch, seeded_db, split_sources=True)
    table = next(m.value for m in app.markdown if m.value.startswith("| Cause | Articles |"))
    assert "By PubMed's query only | By their text only | By both" in table
    kept = catalogue[~catalogue["retracted"]]
    for cause in settings.causes:
        carried = kept[kept["hypotheses"].map(lambda ids, i=cause.id: i in ids)]
        sources = carried["tag_sources"].map(lambda s, i=cause.id: s.get(i, "query")).value_counts()
        line = next(line for line in table.splitlines() if line.startswith(f"| {markup.escape_text(cause.label)} |"))
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        assert cells[2:5] == [f"{int(sources.get(source, 0)):,}" for source in ("query", "text", "query+text")]


def test_retracted_articles_change_the_counts_only_when_included(catalogue, settings) -> None:
    # Guards the test above: with no retracted article among the causes, it could not tell the two settings apart.
    counts = [evidence.evidence_table(catalogue, settings.hypotheses, include_retracted=flag)["count"].sum()
              for flag in (False, True)]
    assert counts[0] < counts[1]


@pytest.mark.parametrize("mode", list(CHART_MODES))
@pytest.mark.parametrize("include_retracted", [False, True])
def test_the_small_multiples_plot_the_evidence_table(monkeypatch, seeded_db, settings, catalogue, mode,
                                                     include_retracted) -> None:
    app = run_app(monkeypatch, seeded_db, chart_mode=mode, include_retracted=include_retracted, stack_by="level")
    plotted = count_charts(app)[0][0]
    by_year = evidence.evidence_by_year(
        evidence.evidence_table(catalogue, settings.hypotheses, include_retracted=include_retracted), mode)
    by_year = by_year.drop(index=evidence.UNKNOWN_YEAR_LABEL)
    expected = by_year.rename_axis(columns=None).reset_index().melt(
        id_vars="year_label", var_name="hypothesis_id", value_name="value")
    expected = pd.DataFrame({"year": expected["year_label"].astype("int64"),
                             "hypothesis_id": expected["hypothesis_id"],
                             "value": expected["value"].astype("float64")})
    # A cause without articles gets a plain sentence, not a flat chart.
    totals = evidence.cause_totals(evidence.evidence_table(catalogue, settings.hypotheses,
                                                           include_retracted=include_retracted))
    empty = [c for c in settings.causes if totals[c.id] == 0]
    assert empty, "the seeded store should have a cause without articles"
    assert any(c.value.startswith("No article yet, so no chart: ")
               and all(markup.escape_text(e.label) in c.value for e in empty)
               for c in app.caption)
    expected = expected[~expected["hypothesis_id"].isin([c.id for c in empty])]
    # A segment of height 0 is not sent: a year whose value is 0 has no bar.
    assert (plotted["value"] != 0).all()
    expected = expected[expected["value"] != 0]
    # Stacked by evidence level: the levels of a cause's year add up to the evidence table's value.
    got = plotted.groupby(["hypothesis_id", "year"], as_index=False)["value"].sum(min_count=1)
    got = got.astype({"year": "int64", "value": "float64"})[["year", "hypothesis_id", "value"]]
    key = ["hypothesis_id", "year"]
    pd.testing.assert_frame_equal(got.sort_values(key, ignore_index=True),
                                  expected.sort_values(key, ignore_index=True), check_dtype=False)
    assert set(plotted["cause"]) == {c.label for c in settings.causes if c not in empty}
    assert set(plotted["group"]) == set(evidence.EVIDENCE_LEVEL_LABELS.values())


def test_the_current_year_is_drawn_as_partial_and_small_baselines_are_marked(monkeypatch, seeded_db, catalogue) -> None:
    # The clock is injected: the year the page calls "now" is the one drawn as partial, whatever today is.
    monkeypatch.setattr(loaders, "utc_now", lambda: datetime(2020, 6, 1, tzinfo=UTC))
    app = run_app(monkeypatch, seeded_db, chart_mode="per_1000")
    plotted = count_charts(app)[0][0]
    assert set(plotted.loc[plotted["year"] == 2020, "caveat"]) == {"partial year: counted so far"}
    kept = catalogue[~catalogue["retracted"]]
    baseline = kept["pub_year"].dropna().astype(int).value_counts()
    for year, rows in plotted[plotted["year"] != 2020].groupby("year"):
        assert set(rows["baseline"]) == {int(baseline.get(year, 0))}
        small = baseline.get(year, 0) < evidence.SMALL_BASELINE
        assert set(rows["caveat"]) == ({"fewer than 20 fibromyalgia articles that year"} if small else {""})
    assert "2020 is not over" in "\n".join(c.value for c in app.caption)


def test_the_heat_map_counts_each_design_of_each_cause(monkeypatch, seeded_db, settings, catalogue) -> None:
    app = run_app(monkeypatch, seeded_db)
    matrix, share = count_charts(app)[1]
    table = evidence.evidence_table(catalogue, settings.hypotheses)
    for cause in settings.causes:
        rows = table[table["hypothesis_id"] == cause.id].groupby("design")["count"].sum()
        got = matrix[matrix["hypothesis_id"] == cause.id].set_index("design")["articles"]
        assert got.to_dict() == {tagging.DESIGN_LABELS[d]: int(n) for d, n in rows.items()}
        high = int(rows[["meta_analysis", "systematic_review", "rct"]].sum())
        expected_share = high / rows.sum() if rows.sum() else 0.0
        assert share.set_index("cause").at[cause.label, "share"] == pytest.approx(expected_share)


def unread_store(db_path: Path, settings, article_count: int) -> Path:
    """A seeded store without stances: tagged before the stance reader existed."""
    seed_store(db_path, settings.hypotheses, make_articles(article_count, seed=5))
    connection = store.connect(db_path)
    try:
        with store.transaction(connection):
            connection.execute("DELETE FROM stances")
    finally:
        connection.close()
    return db_path


def test_without_stance_rows_the_overview_stacks_by_evidence_level(monkeypatch, tmp_path, settings) -> None:
    app = run_app(monkeypatch, unread_store(tmp_path / "unread.sqlite", settings, 60))
    assert "stack_by" not in [getattr(w, "key", None) for w in app.radio]
    assert any("Stacked by evidence level" in m.value for m in app.markdown)
    # Levels only (those with a bar: a level of no article in any year sends no row).
    groups = set(count_charts(app)[0][0]["group"])
    assert groups and groups <= set(evidence.EVIDENCE_LEVEL_LABELS.values())


def test_the_overview_sends_what_is_below_its_first_chart_once_the_browser_has_drawn_it(monkeypatch, stance_db,
                                                                                       tmp_path, settings) -> None:
    first = run_app(monkeypatch, stance_db, first_run_only=True)
    # The evidence table and its chart, and the watch that asks for the rest once the chart is painted.
    assert [s.value for s in first.subheader] == ["What the evidence says"]
    assert len(first.get("vega_lite_chart")) == 1 and len(first.get(deferred.WATCH_ELEMENT)) == 1
    # The browser's rerun (here a rerun of the whole script) draws the rest, and every later run at once.
    for _ in range(2):
        first.run()
        assert not first.get(deferred.WATCH_ELEMENT)
        assert "Each cause over time" in [s.value for s in first.subheader]
        assert len(first.get("vega_lite_chart")) == 4
    # With no chart above (nothing read by the stance reader yet) nothing waits.
    unread = run_app(monkeypatch, unread_store(tmp_path / "unread.sqlite", settings, 30), first_run_only=True)
    assert not unread.get(deferred.WATCH_ELEMENT) and unread.get("vega_lite_chart")


def test_with_stance_rows_the_overview_stacks_by_stance(monkeypatch, stance_db, settings) -> None:
    app = run_app(monkeypatch, stance_db)
    catalogue = read_catalogue(stance_db)
    stances = read_stances(stance_db)
    plotted = count_charts(app)[0][0]
    assert set(plotted["group"]) <= set(vocabulary.READING_LABELS.values())
    got = plotted.groupby(["hypothesis_id", "group"])["value"].sum()
    # Each finding counted once, under its stance when read with high confidence, apart when read with low.
    counted = catalogue[catalogue["pub_year"].notna() & ~catalogue["retracted"].astype(bool)]
    rows = stances[stances["pmid"].isin(counted["pmid"]) & (stances["stance"] != "no_finding")]
    carried = {(pmid, h) for pmid, ids in zip(counted["pmid"], counted["hypotheses"]) for h in ids}
    rows = rows[[(pmid, h) in carried for pmid, h in zip(rows["pmid"], rows["hypothesis_id"])]]
    keys = rows["stance"].where(rows["confidence"] == "high", rows["stance"] + "_low")
    expected = rows.assign(key=keys).groupby(["hypothesis_id", "key"]).size()
    assert {"supports_low", "contradicts_low", "mixed_low", "supports", "contradicts"} <= set(keys)
    for (hypothesis_id, key), count in expected.items():
        assert got.get((hypothesis_id, vocabulary.READING_LABELS[key]), 0) == count
    # With no finding (read, or not read yet), every tagged article of a known year is counted once (a cause
    # without articles has a sentence, not a chart).
    table = evidence.evidence_table(catalogue, settings.hypotheses)
    totals = table[table["year"].notna()].groupby("hypothesis_id")["count"].sum()
    assert got.groupby(level=0).sum().to_dict() == totals[totals > 0].to_dict()
    balance = count_charts(app)[2][0]
    high = evidence.evidence_table(catalogue, settings.hypotheses, stances=stances)
    high = high[high["design"].isin(["meta_analysis", "systematic_review", "rct"])]
    assert balance["articles"].sum() == high["count"].sum() > 0


# --- citations ----------------------------------------------------------------------------------------------------

FILTER_CASES = [
    ({"filter_causes": ["serotonin"]}, Selection(hypotheses=("serotonin",))),
    ({"filter_causes": ["sleep", "injury"]}, Selection(hypotheses=("sleep", "injury"))),
    ({"filter_years": (2000, 2010)}, Selection(from_year=2000, to_year=2010)),
    ({"filter_designs": ["rct", "meta_analysis"]}, Selection(designs=("rct", "meta_analysis"))),
    ({"filter_species": "animal"}, Selection(species="animal")),
    ({"filter_new": "run"}, Selection(new_in_run="latest")),
    ({"filter_new": "run", "filter_new_run": 1}, Selection(new_in_run=1)),
    ({"filter_changed": True, "include_retracted": True}, Selection(changed_in_run="latest", include_retracted=True)),
    ({"filter_new": "run", "filter_causes": ["serotonin"]}, Selection(new_in_run=2, hypotheses=("serotonin",))),
    ({"filter_text": "whiplash"}, Selection(text="whiplash")),
    ({"include_retracted": True}, Selection(include_retracted=True)),
    ({"filter_only_retracted": True}, Selection(only_retracted=True)),
    ({"filter_causes": ["sleep"], "filter_only_retracted": True}, Selection(hypotheses=("sleep",), only_retracted=True)),
    ({"filter_causes": ["autonomic"], "filter_species": "human", "filter_years": (1990, 2020)},
     Selection(hypotheses=("autonomic",), species="human", from_year=1990, to_year=2020)),
]


@pytest.mark.parametrize(("widgets", "selection"), FILTER_CASES)
def test_filters_give_the_rows_and_order_of_select_articles(monkeypatch, seeded_db, catalogue, runs, settings,
                                                           widgets, selection) -> None:
    app = run_app(monkeypatch, seeded_db, "Citations", **widgets)
    expected = select_articles(catalogue, selection, hypothesis_ids=[h.id for h in settings.hypotheses], runs=runs)
    unfiltered = select_articles(catalogue, Selection())
    assert len(expected) != len(unfiltered), "the case must change the rows, or it tests nothing"
    assert metric_values(app)["Matching articles"] == f"{len(expected):,}"
    shown = app.dataframe[0].value
    assert shown["PMID"].tolist() == expected["pmid"].head(views.CITATION_PAGE_SIZE).tolist()
    assert app.get("download_button")[0].proto.label == f"Download these {len(expected):,} articles as CSV"


@pytest.mark.parametrize(("widgets", "selection"), [
    ({"filter_stances": ["supports"]}, Selection(stances=("supports",))),
    ({"filter_causes": ["sleep"], "filter_stances": ["contradicts", "mixed"]},
     Selection(hypotheses=("sleep",), stances=("contradicts", "mixed"))),
    ({"filter_stances": ["supports"], "filter_confidence": "low"}, Selection(stances=("supports",),
                                                                           confidence="low")),
])
def test_the_stance_filter_and_column(monkeypatch, stance_db, settings, widgets, selection) -> None:
    app = run_app(monkeypatch, stance_db, "Citations", **widgets)
    catalogue, stances = read_catalogue(stance_db), read_stances(stance_db)
    expected = select_articles(catalogue, selection, hypothesis_ids=[h.id for h in settings.hypotheses],
                               stances=stances)
    assert 0 < len(expected) < len(select_articles(catalogue, Selection()))
    assert metric_values(app)["Matching articles"] == f"{len(expected):,}"
    shown = app.dataframe[0].value
    assert shown["PMID"].tolist() == expected["pmid"].head(views.CITATION_PAGE_SIZE).tolist()
    labels = {h.id: h.label for h in settings.hypotheses}
    for pmid, text in zip(shown["PMID"], shown["Stance"]):
        rows = stances[stances["pmid"] == pmid]
        # The causes filtered by lead the row's stances (a stable order otherwise).
        rows = rows.sort_values("hypothesis_id", key=lambda ids: ~ids.isin(selection.hypotheses), kind="stable")
        assert text == "; ".join(f"{labels[h]}: {vocabulary.STANCE_BADGES[s].lower()}"
                                 + (" (low confidence)" if c == "low" and s != "no_finding" else "")
                                 for h, s, c in zip(rows["hypothesis_id"], rows["stance"], rows["confidence"]))
        kept = rows[rows["stance"].isin(selection.stances)]
        if selection.confidence:
            kept = kept[kept["confidence"] == selection.confidence]
        if selection.hypotheses:
            kept = kept[kept["hypothesis_id"].isin(selection.hypotheses)]
        assert len(kept), f"{pmid} has no chosen stance for a chosen cause"


def test_badges_show_design_stance_with_its_cause_and_retraction_beside_the_title(monkeypatch, stance_db,
                                                                                   settings) -> None:
    app = run_app(monkeypatch, stance_db, "Citations", include_retracted=True)
    shown = app.dataframe[0].value
    catalogue = read_catalogue(stance_db).set_index("pmid")
    stances = read_stances(stance_db)
    names = {h.id: h.label for h in settings.hypotheses}
    assert list(shown.columns[:3]) == ["PubMed", "Title", "Badges"]
    for pmid, badges in zip(shown["PMID"], shown["Badges"]):
        article = catalogue.loc[pmid]
        assert badges[0] == labels.DESIGN_BADGES[article["design"]]
        assert ("RETRACTED" in badges) == bool(article["retracted"])
        rows = stances[(stances["pmid"] == pmid) & (stances["stance"] != "no_finding")]
        assert [b for b in badges if ": " in b] == [f"{names[h]}: {vocabulary.STANCE_BADGES[s].lower()}"
                                                    for h, s in zip(rows["hypothesis_id"], rows["stance"])]
    assert shown["Badges"].map(lambda b: "RETRACTED" in b).any()
    assert shown["Badges"].map(lambda b: any(": " in badge for badge in b)).any()


def test_the_causes_filtered_by_lead_each_rows_stance_badges(monkeypatch, stance_db, settings) -> None:
    stances = read_stances(stance_db)
    found = stances[stances["stance"] != "no_finding"]
    # A cause that is, in some article, not the first with a finding: filtering by it must bring it first.
    later = found[found.duplicated("pmid")]
    cause = later["hypothesis_id"].value_counts().index[0]
    app = run_app(monkeypatch, stance_db, "Citations", filter_causes=[cause])
    label = settings.hypothesis(cause).label
    shown = app.dataframe[0].value
    moved = 0
    for pmid, badges in zip(shown["PMID"], shown["Badges"]):
        stance_badges = [b for b in badges if ": " in b]
        mine = found[(found["pmid"] == pmid) & (found["hypothesis_id"] == cause)]
        if len(mine):
            assert stance_badges[0].startswith(f"{label}: "), (pmid, stance_badges)
            moved += found[found["pmid"] == pmid]["hypothesis_id"].iloc[0] != cause
    assert moved, "no row had another cause's finding first: the case tests nothing"


def test_the_cause_page_badges_show_only_that_cause(monkeypatch, stance_db, settings) -> None:
    app = run_app(monkeypatch, stance_db, "Cause", cause="sleep")
    label = settings.hypothesis("sleep").label
    stance_badges = [b for badges in app.dataframe[-1].value["Badges"] for b in badges if ": " in b]
    assert stance_badges and all(badge.startswith(f"{label}: ") for badge in stance_badges)


def test_a_count_link_opens_citations_with_its_filters(monkeypatch, stance_db, settings) -> None:
    query = {"page": "Citations", "causes": "sleep", "stances": "supports", "designs": "rct,meta_analysis,bogus",
             "retracted": "only"}
    app = run_app(monkeypatch, stance_db, query=query)
    assert [t.value for t in app.main.title] == ["Citations"]
    catalogue, stances = read_catalogue(stance_db), read_stances(stance_db)
    selection = Selection(hypotheses=("sleep",), stances=("supports",), designs=("rct", "meta_analysis"),
                          only_retracted=True, include_retracted=True)
    expected = select_articles(catalogue, selection, stances=stances, hypothesis_ids=[h.id for h in settings.hypotheses])
    assert metric_values(app)["Matching articles"] == f"{len(expected):,}"
    assert app.multiselect(key="filter_designs").value == ["rct", "meta_analysis"]


@pytest.mark.parametrize(("query", "note"), [
    ({"page": "Citations", "pmid": "²"}, "pmid: '²' is not a PMID"),
    ({"page": "Citations", "pmid": "9" * 5000}, "pmid: '99999999999999999999…' is not a PMID"),
    ({"page": "Citations", "pmid": "99999999999999999999"}, "pmid: '99999999999999999999' is not a PMID"),
    ({"page": "Citations", "from": "²"}, "from: '²' is not a year"),
    ({"page": "Citations", "to": "¹²"}, "to: '¹²' is not a year"),
    ({"page": "Citations", "from": "2020", "to": "1990"}, "from 2020 is after to 1990"),
    ({"page": "Nope"}, "page: 'Nope' is not a page"),
    ({"page": "Cause", "cause": "nope"}, "cause: 'nope' is not one of the causes"),
    ({"page": "Cause", "cause": "sleep", "scope": "most"}, "scope: 'most' is not a choice of findings"),
    ({"page": "Citations", "designs": "rtc"}, "designs: 'rtc' is not a study design"),
    ({"page": "Citations", "zoom": "2"}, "zoom: not a parameter the dashboard reads"),
])
def test_a_bad_address_parameter_is_a_note_and_the_page_without_it(monkeypatch, seeded_db, catalogue, query,
                                                                     note) -> None:
    # The first run: the notes are shown once per address, and a full rerun (AppTest's stand-in for the browser's
    # rerun of the part below the first chart) would clear them.
    app = run_app(monkeypatch, seeded_db, query=query, first_run_only=True)
    assert any(note in warning.value.replace("\\", "") for warning in app.warning), [w.value for w in app.warning]
    if query["page"] == "Citations":
        assert [t.value for t in app.main.title] == ["Citations"]
        assert metric_values(app)["Matching articles"] == f"{len(select_articles(catalogue, Selection())):,}"


def test_the_table_links_each_row_to_pubmed_and_its_doi(monkeypatch, seeded_db, catalogue) -> None:
    app = run_app(monkeypatch, seeded_db, "Citations")
    shown = app.dataframe[0].value
    expected = select_articles(catalogue, Selection()).head(views.CITATION_PAGE_SIZE)
    assert shown["PubMed"].tolist() == [f"https://pubmed.ncbi.nlm.nih.gov/{p}/" for p in expected["pmid"]]
    assert [None if pd.isna(link) else link for link in shown["DOI"]] == [
        f"https://doi.org/{doi}" if isinstance(doi, str) else None for doi in expected["doi"]]


def test_the_demo_links_its_articles_to_this_dashboard_not_to_sites_without_them(monkeypatch, tmp_path, settings,
                                                                                seeded_db, catalogue) -> None:
    # `tracker demo`'s PMIDs, DOIs and PMC ids are synthetic: PubMed, doi.org and PMC would answer "not found".
    from tracker.models import AbstractSection, Article
    monkeypatch.setattr(sys, "argv", ["app.py", "--demo"])
    ordered = store.decode_details(select_articles(catalogue, Selection()).head(views.CITATION_PAGE_SIZE))
    shown = run_app(monkeypatch, seeded_db, "Citations").dataframe[0].value
    assert shown["PubMed"].tolist() == [f"?page=Citations&pmid={pmid}" for pmid in ordered["pmid"]]
    assert [None if pd.isna(doi) else doi for doi in shown["DOI"]] == [
        doi if isinstance(doi, str) else None for doi in ordered["doi"]]

    linked = Article(pmid=90_000_001, title="[Synthetic] Sleep in fibromyalgia.", pub_year=2020,
                     abstract=(AbstractSection("Sleep was poor."),), doi="10.5555/fm.90000001", pmcid="PMC90000001",
                     publication_types=("Journal Article",))
    seed_store(tmp_path / "demo.sqlite", settings.hypotheses, [linked, *make_articles(5, seed=2)])
    every = store.decode_details(select_articles(catalogue, Selection(include_retracted=True)))
    retracted = every[every["corrections"].map(
        lambda corrections: any(c["ref_type"] == "RetractionIn" and c.get("pmid") for c in corrections))].iloc[0]
    page_text = ""
    for db_path, pmid in ((tmp_path / "demo.sqlite", linked.pmid), (seeded_db, retracted["pmid"])):
        app = run_app(monkeypatch, db_path, query={"page": "Citations", "pmid": str(pmid)})
        text = markdown_text(app) + " ".join(e.value for e in app.error)
        assert f'<a href="?page=Citations&pmid={pmid}" target="_blank" rel="noopener noreferrer">PMID {pmid}</a>' in text
        page_text += text
    assert "doi&#58;10&#46;5555/fm&#46;90000001" in page_text and "PMC90000001" in page_text
    notice = next(c for c in retracted["corrections"] if c["ref_type"] == "RetractionIn")
    assert f"[PMID {notice['pmid']}](?page=Citations&pmid={notice['pmid']})" in page_text
    for outside in ("pubmed.ncbi", "doi.org", "pmc.ncbi"):
        assert outside not in page_text, outside


def test_a_linked_article_shows_its_abstract_tags_and_retraction_notice(monkeypatch, seeded_db, catalogue) -> None:
    ordered = store.decode_details(
        select_articles(catalogue, Selection(include_retracted=True)).head(views.CITATION_PAGE_SIZE))
    retracted = ordered[ordered["retracted"] & ordered["matched_terms"].map(len).astype(bool)]
    article = retracted.iloc[0]
    app = run_app(monkeypatch, seeded_db, query={"page": "Citations", "pmid": str(article["pmid"])})
    markdown = markdown_text(app)
    for section in article["abstract_sections"]:
        if section["label"]:
            assert f"<strong>{section['label']}:</strong>" in markdown
    terms = [m["term"] for matched in article["matched_terms"].values() for m in matched]
    marked = [markup.highlight_terms(section["text"], terms) for section in article["abstract_sections"]]
    assert any("<mark>" in section for section in marked)
    assert all(section in markdown for section in marked)
    [banner] = [e.value for e in app.error]
    notice = next(c for c in article["corrections"] if c["ref_type"] == "RetractionIn")
    assert banner.startswith(labels.INTEGRITY_LABELS["retracted"])
    assert f"[PubMed {notice['pmid']}](https://pubmed.ncbi.nlm.nih.gov/{notice['pmid']}/)" in banner
    assert f"In this store since {markup.escape_text(article['first_seen'][:10])}" in banner
    assert any(labels.NCBI_POLICY_URL in caption.value for caption in app.caption)
    for hypothesis_id in article["hypotheses"]:
        assert labels.TAG_SOURCE_LABELS[article["tag_sources"][hypothesis_id]] in markdown


def test_the_article_shows_each_deciding_sentence_with_its_cue_and_section(monkeypatch, stance_db) -> None:
    stances = read_stances(stance_db)
    pmid = int(stances["pmid"].iloc[0])
    app = run_app(monkeypatch, stance_db, query={"page": "Citations", "pmid": str(pmid)})
    markdown = markdown_text(app)
    assert "<strong>RESULTS</strong>: Levels were <mark>significantly higher</mark> than in healthy controls&#46;" in markdown
    assert "cue: <mark>significantly higher</mark>" in markdown
    for stance in stances.loc[stances["pmid"] == pmid, "stance"]:
        assert f": {vocabulary.STANCE_BADGES[stance].lower()}" in markdown


HOSTILE_HOST = "evil.example"
HOSTILE = {
    "title": "Pain :red[owned] :material/home: $x^2$ ![x](http://evil.example/t.png) <img src=http://evil.example/>",
    "doi": "10.1000/x)![p](http://evil.example/d.png",
    "pmcid": "PMC1](http://evil.example/)![i](http://evil.example/i.png",
    "journal": "J :blue[Evil] ![j](http://evil.example/j.png)",
    "author": "Evil ![a](http://evil.example/a.png)",
    "abstract": "Sleep was [bad](http://evil.example/) and :material/warning: $$E$$ <script>x</script>.",
    "mesh": "Sleep ![m](http://evil.example/m.png)",
}


@pytest.fixture
def hostile_db(tmp_path, settings) -> tuple[Path, int]:
    """A store whose one article carries Markdown, Streamlit and HTML syntax in every stored string."""
    from tracker.models import AbstractSection, Article, Author, MeshHeading
    article = Article(pmid=31_000_001, title=HOSTILE["title"], abstract=(AbstractSection(HOSTILE["abstract"]),),
                      journal=HOSTILE["journal"], pub_year=2020, doi=HOSTILE["doi"], pmcid=HOSTILE["pmcid"],
                      authors=(Author(collective_name=HOSTILE["author"]),),
                      mesh=(MeshHeading(HOSTILE["mesh"]),), publication_types=("Journal Article",))
    db_path = tmp_path / "hostile.sqlite"
    seed_store(db_path, settings.hypotheses, [article, *make_articles(5, seed=2)])
    return db_path, article.pmid


def test_stored_strings_reach_the_page_inert(monkeypatch, hostile_db) -> None:
    db_path, pmid = hostile_db
    app = run_app(monkeypatch, db_path, query={"page": "Citations", "pmid": str(pmid)})
    markdown = markdown_text(app)
    assert HOSTILE_HOST in markdown, "the hostile article must be on the page, or this tests nothing"
    # No Markdown link or image, no Streamlit colour, icon or maths syntax, no HTML tag survives from stored text.
    for syntax in ("](http://evil", "![", ":red[", ":blue[", ":material/", "$x", "$$", "<img", "<script"):
        assert syntax not in markdown, syntax
    # Stored text reaches Markdown only inside HTML blocks, where Markdown does not turn a URL into a link.
    hostile = [m.value for m in app.markdown if HOSTILE_HOST in m.value]
    assert hostile and all(value.startswith("<") for value in hostile), hostile
    # Links come from validated ids only: the malformed PMC id gives none; the DOI's link is percent-encoded.
    assert "pmc.ncbi" not in markdown
    assert f'href="{markup.doi_url(HOSTILE["doi"])}"' in markdown and "%28http%3A//evil.example" in markdown
    assert "https://pubmed.ncbi.nlm.nih.gov/31000001/" in markdown
    shown = app.dataframe[0].value
    assert shown.loc[shown["PMID"] == pmid, "DOI"].tolist() == [markup.doi_url(HOSTILE["doi"])]


# --- highlighting -------------------------------------------------------------------------------------------------

HIGHLIGHT_CASES = [
    ("Serotonin and 5-HT were low.", ["serotonin", "5-HT"],
     "<mark>Serotonin</mark> and <mark>5&#45;HT</mark> were low&#46;"),
    ("A tilt-table test.", ["tilt table"], "A <mark>tilt&#45;table</mark> test&#46;"),
    ("<script>alert(1)</script> sleep", ["sleep"],
     "&#60;script&#62;alert&#40;1&#41;&#60;/script&#62; <mark>sleep</mark>"),
    ("*bold* _under_ [link](x) $x$", ["bold"],
     "&#42;<mark>bold</mark>&#42; &#95;under&#95; &#91;link&#93;&#40;x&#41; &#36;x&#36;"),
    ("Item 35 & 36", ["35"], "Item <mark>35</mark> &#38; 36"),
    ("sleeping poorly", ["sleep"], "sleeping poorly"),
    ("line one\n\nline two", [], "line one line two"),
]


@pytest.mark.parametrize(("text", "terms", "expected"), HIGHLIGHT_CASES)
def test_highlight_terms_escapes_first_and_marks_whole_terms(text, terms, expected) -> None:
    assert markup.highlight_terms(text, terms) == expected


# --- empty, broken and busy stores --------------------------------------------------------------------------------

def _empty_store(db_path: Path) -> None:
    store.connect(db_path).close()


def _failed_run_store(db_path: Path) -> None:
    connection = store.connect(db_path)
    run_id = store.start_run(connection, full_sync=True)
    store.finish_run(connection, run_id, "failed", "NCBI could not be reached")
    connection.close()


def test_a_store_path_that_does_not_exist_says_so(monkeypatch, tmp_path) -> None:
    db_path = tmp_path / "typo" / "tracker.sqlite"
    app = run_app(monkeypatch, db_path)
    assert [e.value for e in app.error] == [
        f"No store at {markup.escape_text(str(db_path))}: the file does not exist (nor does its folder). Check the "
        "path given with --db or TRACKER_DB; to start a new store there, run the fetch job:"]
    assert not app.info
    assert [code.value for code in app.code] == [f"tracker fetch --db {db_path}"]


@pytest.mark.parametrize(("prepare", "warning"), [
    (_empty_store, None),
    (_failed_run_store, "A fetch has run but stored nothing: see its outcome below."),
])
def test_an_empty_store_shows_the_first_screen(monkeypatch, db_path, prepare, warning) -> None:
    prepare(db_path)
    app = run_app(monkeypatch, db_path)
    assert [info.value for info in app.info] == ["The store has no articles yet."]
    assert [code.value for code in app.code] == [f"tracker fetch --db {db_path}"]
    assert [w.value for w in app.warning] == ([warning] if warning else [])
    if warning:
        assert app.dataframe[0].value["Error"].tolist() == ["NCBI could not be reached"]


def test_the_first_screen_quotes_a_store_path_with_spaces(monkeypatch, tmp_path) -> None:
    db_path = tmp_path / "my store" / "tracker.sqlite"
    app = run_app(monkeypatch, db_path)
    assert [code.value for code in app.code] == [f"tracker fetch --db '{db_path}'"]


def _newer_store(db_path: Path) -> None:
    connection = sqlite3.connect(db_path)
    connection.execute("PRAGMA user_version = 99")
    connection.close()


@pytest.mark.parametrize(("prepare", "message_part"), [
    (lambda path: path.write_bytes(b"this is not a database" * 100), "is not a tracker store"),
    (_newer_store, "was written by a newer tracker (schema 99"),
])
def test_an_unreadable_store_is_a_message_not_a_traceback(monkeypatch, db_path, prepare, message_part) -> None:
    prepare(db_path)
    app = run_app(monkeypatch, db_path)
    assert len(app.error) == 1 and message_part in app.error[0].value
    assert str(db_path.resolve()) in app.error[0].value


def test_a_bad_hypotheses_file_is_a_message(monkeypatch, seeded_db, tmp_path) -> None:
    bad = tmp_path / "hypotheses.toml"
    bad.write_text("[[hypothesis]]\nid = 'x'\n", encoding="utf-8")
    monkeypatch.setenv("TRACKER_HYPOTHESES", str(bad))
    app = run_app(monkeypatch, seeded_db)
    assert [e.value for e in app.error] == [f'{bad}: [x] has no "label"; add label = "..."']


def test_a_running_fetch_shows_the_last_committed_state_then_the_new_one(monkeypatch, tmp_path, settings) -> None:
    db_path = tmp_path / "busy.sqlite"
    seed_store(db_path, settings.hypotheses, make_articles(50, seed=3))
    writer = store.connect(db_path)
    try:
        # The store's own transaction, as a fetch's batch: its commit brings the summaries the headline reads along.
        with store.transaction(writer):
            store.save_articles(writer, make_articles(5, seed=9), "pubmed")
            app = run_app(monkeypatch, db_path)
            assert metric_values(app)["Articles tracked"] == "50"
        app.run()
        assert metric_values(app)["Articles tracked"] == "55"
    finally:
        writer.close()


def test_the_dashboard_never_writes(monkeypatch, seeded_db) -> None:
    before = seeded_db.stat().st_mtime_ns, seeded_db.stat().st_size
    for page in PAGES:
        run_app(monkeypatch, seeded_db, page)
    assert (seeded_db.stat().st_mtime_ns, seeded_db.stat().st_size) == before
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        connection = store.connect(seeded_db, read_only=True)
        try:
            connection.execute("DELETE FROM articles")
        finally:
            connection.close()


# --- the command --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("arguments", "host", "port"), [
    ([], "127.0.0.1", "8501"),
    (["--host", "0.0.0.0", "--port", "9000"], "0.0.0.0", "9000"),
])
def test_tracker_dashboard_runs_streamlit_with_safe_settings(monkeypatch, db_path, arguments, host, port) -> None:
    calls = []
    monkeypatch.setattr("os.execv", lambda path, command: calls.append((path, command)))
    # The port's check has its own tests; here 8501 may be serving another dashboard on this machine.
    monkeypatch.setattr(cli, "check_port_free", lambda host, port: None)
    result = CliRunner().invoke(cli.cli, ["dashboard", "--db", str(db_path), *arguments])
    assert result.exit_code == 0, result.output
    assert calls == [(cli.sys.executable, [
        cli.sys.executable, "-m", "streamlit", "run", str(APP_PATH),
        "--server.address", host, "--server.port", port, "--server.headless", "true",
        "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false",
        "--client.showErrorDetails", "false", "--client.toolbarMode", "minimal",
        "--client.showSidebarNavigation", "false", "--client.disableDataExport", "true",
        "--global.disableWidgetStateDuplicationWarning", "true",
        "--", "--db", str(db_path), "--hypotheses", str(DEFAULT_HYPOTHESES_PATH),
    ])]


def test_the_config_file_sets_what_the_command_line_sets() -> None:
    config = tomllib.loads((PROJECT_DIR / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config == {
        "global": {"disableWidgetStateDuplicationWarning": True},
        "server": {"address": "127.0.0.1", "headless": True, "fileWatcherType": "none"},
        "browser": {"gatherUsageStats": False},
        "client": {"showErrorDetails": False, "toolbarMode": "minimal", "showSidebarNavigation": False,
                   "disableDataExport": True},
    }


# --- fetch status and coverage ------------------------------------------------------------------------------------

def test_the_status_page_lists_runs_per_cause_lines_and_the_schedule(monkeypatch, seeded_db, settings) -> None:
    app = run_app(monkeypatch, seeded_db, "Fetch status")
    runs, run_log, sync_states = (frame.value for frame in app.dataframe)
    with store.reading(seeded_db) as connection:
        stored_runs = store.load_runs_frame(connection)
        stored_log = store.load_run_hypotheses_frame(connection, int(stored_runs["id"].iloc[0]))
    assert runs[["Run", "Outcome", "Started (UTC)"]].values.tolist() == [
        [run.id, run.status, f"{run.started_at[:10]} {run.started_at[11:19]}"] for run in stored_runs.itertuples()]
    labels = {h.id: h.label for h in settings.hypotheses}
    assert run_log[["Cause", "In PubMed", "Stored"]].values.tolist() == [
        [labels[row.hypothesis_id], row.pubmed_count, row.stored_count] for row in stored_log.itertuples()]
    assert sync_states["Cause"].tolist() == [h.label for h in settings.hypotheses]
    assert "`30 2 * * *`" in app.markdown[-1].value and "America/New_York" in app.markdown[-1].value


def test_the_status_page_shows_a_long_error_in_full_and_inert(monkeypatch, tmp_path, settings) -> None:
    db_path = tmp_path / "errors.sqlite"
    # The fix is at the end of the message, past any table column's width; markup in it must show as typed.
    error = ("PubMed answered 429 Too Many Requests for <b>every</b> retry of esearch window 2019-01-01..2019-12-31 "
             "[details](http://example.invalid) after 5 attempts; set NCBI_API_KEY or wait an hour, then run "
             "`tracker fetch` again")
    seed_store(db_path, settings.hypotheses, make_articles(20, seed=3))
    connection = store.connect(db_path)
    run_id = store.start_run(connection, full_sync=True)
    store.record_run_hypothesis(connection, run_id, "sleep", "failed", error=error)
    store.finish_run(connection, run_id, "failed", error)
    connection.close()
    app = run_app(monkeypatch, db_path, "Fetch status")
    listed = [block.value for block in app.markdown if "Run " + str(run_id) in block.value or "**" in block.value]
    shown = [markup.escape_text(error) in text for text in listed]
    assert shown.count(True) == 2, listed  # under the runs table and under the per-cause lines
    assert not any("<b>" in text or "](http" in text for text in listed)


@pytest.mark.parametrize(("status_rows", "expected"), [
    ([{"hypothesis_id": "sleep", "pubmed_count": 12, "stored_count": 12}], [("sleep", 12, 12, True)]),
    ([{"hypothesis_id": "sleep", "pubmed_count": 12, "stored_count": 10}], [("sleep", 12, 10, False)]),
    ([{"hypothesis_id": "sleep", "pubmed_count": None, "stored_count": 3}], [("sleep", None, 3, False)]),
    ([], [("sleep", None, 0, False)]),
])
def test_coverage_compares_stored_with_pubmed_counts(settings, status_rows, expected) -> None:
    status = pd.DataFrame(status_rows, columns=["hypothesis_id", "pubmed_count", "stored_count"])
    coverage = views.coverage_frame([settings.hypothesis("sleep")], status)
    assert [(r.hypothesis_id, r.pubmed_count, r.stored_count, r.complete) for r in coverage.itertuples()] == expected


@pytest.mark.parametrize("cause_id", ["serotonin", "injury"])
def test_the_cause_page_breaks_down_its_articles(monkeypatch, seeded_db, settings, catalogue, cause_id) -> None:
    app = run_app(monkeypatch, seeded_db, "Cause", cause=cause_id)
    table = evidence.evidence_table(catalogue, settings.hypotheses, by_species=True)
    rows = table[table["hypothesis_id"] == cause_id]
    over_time, _by_level, design_chart, species_chart = chart_frames(app)
    known = rows[rows["year"].notna()]
    # A year without articles has no bar.
    assert over_time.groupby("year")["value"].sum().to_dict() == {
        int(year): float(n) for year, n in known.groupby("year")["count"].sum().items() if n}
    assert set(over_time["hypothesis_id"]) == {cause_id}
    assert design_chart[["category", "articles"]].values.tolist() == [
        [tagging.DESIGN_LABELS[d], int(rows.loc[rows["design"] == d, "count"].sum())] for d in tagging.DESIGNS]
    assert species_chart[["category", "articles"]].values.tolist() == [
        [labels.SPECIES_LABELS[s], int(rows.loc[rows["species"] == s, "count"].sum())] for s in tagging.SPECIES]
    assert metric_values(app)["Articles tagged with this cause"] == f"{int(rows['count'].sum()):,}"
    retracted = select_articles(catalogue, Selection(hypotheses=(cause_id,), only_retracted=True))
    assert metric_values(app)["Retracted"] == f"{len(retracted):,}"

    carried = catalogue[catalogue["hypotheses"].map(lambda ids: cause_id in ids) & ~catalogue["retracted"]]
    counts = store.decode_details(carried, ["mesh_terms"])["mesh_terms"].explode().value_counts()
    assert {"Humans", "Female"} <= set(counts.index), "check tags must be there to be left out"
    counts = counts[~counts.index.isin(vocabulary.MESH_CHECK_TAGS)]
    expected_mesh = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:15]
    top_mesh, excluded, newest = (frame.value for frame in app.dataframe)
    assert list(zip(top_mesh["MeSH term"], top_mesh["Articles"])) == expected_mesh
    assert excluded["MeSH heading"].tolist() == list(vocabulary.MESH_CHECK_TAGS)
    expected_newest = select_articles(catalogue, Selection(hypotheses=(cause_id,))).head(10)
    assert newest["PMID"].tolist() == expected_newest["pmid"].tolist()
    assert list(newest.columns[:3]) == ["PubMed", "Title", "Badges"]
    assert next(c.value for c in app.code) == settings.hypothesis(cause_id).query


def test_the_cause_page_sums_up_the_stances_with_links(monkeypatch, stance_db, settings) -> None:
    app = run_app(monkeypatch, stance_db, "Cause", cause="sleep")
    catalogue, stances = read_catalogue(stance_db), read_stances(stance_db)
    summary = next(m.value for m in app.markdown if "report a finding that supports it" in m.value)
    ids = [h.id for h in settings.hypotheses]
    # Each finding counted by the confidence of its reading, each count linking to exactly its articles.
    for stance in ("supports", "contradicts", "mixed"):
        for confidence in ("high", "low"):
            expected = select_articles(catalogue, Selection(hypotheses=("sleep",), stances=(stance,),
                                                            confidence=confidence),
                                       stances=stances, hypothesis_ids=ids)
            link = markup.citations_link(causes=["sleep"], stances=(stance,), confidence=confidence)
            assert f"[{len(expected):,}]({link})" in summary
    no_finding = select_articles(catalogue, Selection(hypotheses=("sleep",), stances=("no_finding",)),
                                 stances=stances, hypothesis_ids=ids)
    assert f"[{len(no_finding):,}]({markup.citations_link(causes=['sleep'], stances=('no_finding',))})" in summary
    assert "Counted apart" in summary and "not sure of" in summary
    high = select_articles(catalogue, Selection(hypotheses=("sleep",), stances=("supports",), confidence="high",
                                                designs=("meta_analysis", "systematic_review", "rct")),
                           stances=stances, hypothesis_ids=ids)
    link = markup.citations_link(causes=["sleep"], stances=("supports",), confidence="high",
                                 designs=("meta_analysis", "systematic_review", "rct"))
    assert f"[{len(high):,}]({link})" in summary
    assert len(chart_frames(app)) == 4  # by stance and by evidence level over time, then design and species


def test_the_stance_summary_agrees_with_its_counts_and_keeps_its_links_working(settings) -> None:
    cause = settings.hypothesis("sleep")
    counts = pd.DataFrame({"articles": [1, 2, 0, 3, 0, 0, 0], "high_level": [1, 0, 0, 0, 0, 0, 0],
                           "with_size": [1, 0, 0, 0, 0, 0, 0], "patients": [1, 0, 0, 0, 0, 0, 0],
                           "first_year": [2001, 2003, None, 2004, None, None, None]},
                          index=pd.Index(list(vocabulary.READINGS), name="stance"))
    summary = views.stance_summary_markdown(cause, counts, tagged=6, retracted=None)
    supports = markup.citations_link(causes=["sleep"], stances=("supports",), confidence="high")
    assert f"the 6 articles tagged with {markup.escape_text(cause.label)}, [1]({supports}) reports a finding" in summary
    low = markup.citations_link(causes=["sleep"], stances=("supports",), confidence="low")
    assert "Counted apart, 3 more articles report a finding the reader is not sure of" in summary
    assert f"[3]({low}) supporting" in summary
    high_level = markup.citations_link(causes=["sleep"], stances=("supports",), confidence="high",
                                       designs=tuple(vocabulary.HIGH_LEVEL_DESIGNS))
    assert f"[1]({high_level}) supports it and" in summary
    # The sample-size sentence starts with a capital and keeps its link as built (page=Citations, not citations).
    assert f"The [1]({supports}) supporting article that states a sample size studied 1 patient in all." in summary


def test_the_article_says_why_a_reading_is_low_confidence() -> None:
    row = pd.DataFrame([{"hypothesis_id": "autonomic", "stance": "supports", "evidence_kind": "comparison",
                         "hedged": False, "section": "RESULTS", "sentence": "ESC was lower than in controls.",
                         "cue": "lower", "n_patients": None, "n_controls": None, "confidence": "low",
                         "confidence_reason": "construct inferred from the abbreviation <ESC>"}])
    shown = views.stance_markup(next(row.itertuples(index=False)), {"autonomic": "Autonomic nervous system"})
    reason = markup.escape_text("construct inferred from the abbreviation <ESC>")
    assert "<ESC>" not in reason and f"<em>Low confidence: {reason}.</em>" in shown
    sure = views.stance_markup(next(row.assign(confidence="high", confidence_reason=None).itertuples(index=False)),
                               {"autonomic": "Autonomic nervous system"})
    assert "Low confidence" not in sure


@pytest.mark.parametrize(("doi", "expected"), [
    ("10.1000/fm.1", "https://doi.org/10.1000/fm.1"),
    ("10.1016/S0140-6736(20)30183-5", "https://doi.org/10.1016/S0140-6736%2820%2930183-5"),
    (" 10.1002/(SICI)1097-4679 ", "https://doi.org/10.1002/%28SICI%291097-4679"),
    ("10.1002/a b", None),
    ("10.1000/x)![p](http://evil.example/d.png", "https://doi.org/10.1000/x%29%21%5Bp%5D%28http%3A//evil.example/d.png"),
    ("javascript:alert(1)", None),
    (None, None),
])
def test_doi_links_come_from_well_formed_dois_only(doi, expected) -> None:
    assert markup.doi_url(doi) == expected


@pytest.mark.parametrize("page", PAGES)
def test_a_hypotheses_file_without_causes_still_renders(monkeypatch, seeded_db, tmp_path, page) -> None:
    only_baseline = tmp_path / "hypotheses.toml"
    only_baseline.write_text('[[hypothesis]]\nid = "fibromyalgia"\nlabel = "All fibromyalgia research"\n'
                             'baseline = true\ndescription = "Every article."\nquery = "fibromyalgia"\n',
                             encoding="utf-8")
    monkeypatch.setenv("TRACKER_HYPOTHESES", str(only_baseline))
    app = run_app(monkeypatch, seeded_db, page)
    assert not app.error
    message = (f"{only_baseline} has no causes, only the fibromyalgia baseline: add a [[hypothesis]] entry "
               "with id, label, description, query and terms, then run `tracker fetch`.")
    expected_info = {"Overview": [message], "Cause": [message],
                     "Citations": ["Click a row of the table to read the article here."], "Review": [message]}
    assert [info.value for info in app.info] == expected_info.get(page, [])


def test_the_last_successful_fetch_shows_behind_many_failed_runs(monkeypatch, tmp_path, settings) -> None:
    db_path = tmp_path / "offline.sqlite"
    seed_store(db_path, settings.hypotheses, make_articles(20, seed=4))
    connection = store.connect(db_path)
    try:
        last_success = store.load_last_successful_run(connection)
        for _ in range(25):  # nightly runs while the network was down
            store.finish_run(connection, store.start_run(connection, full_sync=False), "failed", "no network")
    finally:
        connection.close()
    app = run_app(monkeypatch, db_path)
    finished = str(last_success["finished_at"])
    assert metric_values(app)["Last successful fetch"] == finished[:10]
    assert "failed: no network" in app.warning[0].value


def test_a_long_unbroken_error_text_wraps_inside_the_page(monkeypatch, tmp_path, settings) -> None:
    db_path = tmp_path / "failed.sqlite"
    seed_store(db_path, settings.hypotheses, make_articles(20, seed=5))
    long_url = "https://mirror.example.org/entrez/eutils/efetch.fcgi?id=" + "1234567," * 31
    connection = store.connect(db_path)
    try:
        store.finish_run(connection, store.start_run(connection, full_sync=False), "failed",
                         f"{long_url} [click](https://mirror.example.org/) <img src=x> :red[alarm]")
    finally:
        connection.close()
    app = run_app(monkeypatch, db_path)
    warning = app.warning[0].value
    assert len(long_url) > 300 and markup.escape_text(long_url) in warning
    # The stored error quotes a server: its Markdown, HTML and Streamlit syntax reach the page as plain text.
    assert "](" not in warning and "<img" not in warning and ":red[" not in warning
    # The rule that wraps it reaches the page, for alerts and everything inside them.
    [style] = [element.value for element in app.html if "overflow-wrap" in element.value]
    assert "[data-testid='stAlert'] *" in style and "overflow-wrap: anywhere" in style


# --- new and changed in a run -------------------------------------------------------------------------------------

def test_the_headline_counts_what_the_latest_run_stored_first_and_names_it(monkeypatch, seeded_db, runs) -> None:
    app = run_app(monkeypatch, seeded_db)
    # Both runs stored on the same day: counting by day would give all 406.
    assert metric_values(app)["New in the latest run"] == f"{LATE_ARTICLE_COUNT:,}"
    latest = runs.runs.iloc[-1]
    finished = latest["finished_at"]
    assert f"In run {latest['id']} (fetch, {finished[:10]} {finished[11:16]} UTC)" in [c.value for c in app.caption]


def test_after_a_run_that_stored_nothing_new_the_headline_shows_the_latest_run_that_did_and_says_so(
        monkeypatch, tmp_path, settings) -> None:
    db_path = tmp_path / "quiet.sqlite"
    seed_two_runs(db_path, settings.hypotheses, make_articles(40, seed=7), make_articles(LATE_ARTICLE_COUNT, seed=8), 0)
    quiet = add_fetch_run(db_path, settings.hypotheses, [])  # the same-day re-run: nothing new
    app = run_app(monkeypatch, db_path)
    assert metric_values(app)["New in the latest run"] == f"{LATE_ARTICLE_COUNT:,}"
    captions = [c.value for c in app.caption]
    assert any(c.startswith("In run 2 (fetch, ") and f"; the latest, run {quiet} (fetch, " in c
               and c.endswith(", stored nothing new") for c in captions), captions


def test_new_in_run_offers_the_latest_first_then_every_successful_run(monkeypatch, seeded_db, catalogue,
                                                                    runs) -> None:
    app = run_app(monkeypatch, seeded_db, "Citations", filter_new="run")
    picker = app.selectbox(key="filter_new_run")
    assert picker.value == "latest"
    assert [option.split(" (")[0] for option in picker.options] == ["the latest, run 2", "run 2", "run 1"]
    expected = select_articles(catalogue, Selection(new_in_run=2), runs=runs)
    assert set(expected["pmid"]) <= {a.pmid for a in make_articles(LATE_ARTICLE_COUNT, seed=8)}
    assert metric_values(app)["Matching articles"] == f"{len(expected):,}"


def test_changed_in_run_lists_the_records_whose_retraction_link_appeared(monkeypatch, seeded_db, catalogue) -> None:
    app = run_app(monkeypatch, seeded_db, "Citations", include_retracted=True, filter_changed=True)
    assert app.selectbox(key="filter_changed_run").value == "latest"
    assert metric_values(app)["Matching articles"] == f"{CHANGED_ARTICLE_COUNT:,}"
    changed = make_articles(ARTICLE_COUNT, seed=7)[:CHANGED_ARTICLE_COUNT]
    assert sorted(app.dataframe[0].value["PMID"]) == sorted(article.pmid for article in changed)
    # Without "include retracted", the newly retracted records are left out as everywhere.
    hidden = run_app(monkeypatch, seeded_db, "Citations", filter_changed=True)
    assert metric_values(hidden)["Matching articles"] == "0"


def test_new_since_a_date_starts_at_the_day_of_the_latest_run(monkeypatch, seeded_db, catalogue, runs) -> None:
    app = run_app(monkeypatch, seeded_db, "Citations", filter_new="since")
    day = runs.runs.iloc[-1]["started_at"][:10]
    assert str(app.date_input(key="filter_new_since").value) == day
    expected = select_articles(catalogue, Selection(new_since=day))
    assert metric_values(app)["Matching articles"] == f"{len(expected):,}"


def test_an_import_after_a_failed_fetch_keeps_the_warning_and_heads_the_new_count(monkeypatch, tmp_path,
                                                                                  settings) -> None:
    from tracker.jobs.importer import import_files

    db_path = tmp_path / "import-after-failure.sqlite"
    seed_store(db_path, settings.hypotheses, make_articles(20, seed=4))
    failed = add_fetch_run(db_path, settings.hypotheses, make_articles(2, seed=5), status="failed")
    connection = store.connect(db_path)
    try:
        imported = import_files(connection, [PROJECT_DIR / "tests" / "fixtures" / "medline_fibromyalgia.txt"],
                                settings.hypotheses)
    finally:
        connection.close()
    app = run_app(monkeypatch, db_path)
    assert [w.value.split(",")[0] for w in app.warning] == [f"The latest fetch (run {failed}"]
    assert metric_values(app)["New in the latest run"] == f"{imported.new:,}"
    assert any(c.value.startswith(f"In run {imported.run_id} (import of medline_fibromyalgia.txt, ")
               for c in app.caption)
    status = run_app(monkeypatch, db_path, "Fetch status")
    assert [s.value for s in status.subheader][1] == f"Run {failed}, per cause"


def test_the_dashboard_does_not_import_the_scheduler_job() -> None:
    import subprocess
    import sys
    code = "import sys; import dashboard.screens; print('tracker.jobs.schedule' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=PROJECT_DIR,
                            check=True)
    assert result.stdout.strip() == "False"


def test_the_page_icon_is_not_fetched_from_a_font_server() -> None:
    # A ":material/...:" favicon is loaded from fonts.gstatic.com by Streamlit's frontend; an emoji is inline.
    source = APP_PATH.read_text(encoding="utf-8")
    assert 'page_icon="📚"' in source and "page_icon=\":material" not in source


def test_a_retracted_article_links_its_notice_and_says_when_pubmed_revised_it(monkeypatch, tmp_path, settings) -> None:
    retracted = Article(pmid=9_000_001, title="Serotonin in fibromyalgia", pub_year=2019, revised_date="2024-03-05",
                        publication_types=("Journal Article", "Retracted Publication"),
                        corrections=(Correction("RetractionIn", 9_000_002, "Pain. 2024 Mar;165(3):1"),))
    db_path = tmp_path / "retracted.sqlite"
    seed_store(db_path, settings.hypotheses, [retracted, *make_articles(5, seed=3)])
    app = run_app(monkeypatch, db_path, query={"page": "Citations", "pmid": "9000001"})
    [banner] = [e.value for e in app.error]
    assert "Retraction notice: [PubMed 9000002](https://pubmed.ncbi.nlm.nih.gov/9000002/)." in banner
    assert f"last revised on {markup.escape_text('2024-03-05')}" in banner
    assert "Retraction notice: Pain&#46; 2024 Mar;165&#40;3&#41;&#58;1" in markdown_text(app)


LONG_CAUSE_LABEL = "Other conditions (lupus, IBS, hypothyroidism, rheumatoid arthritis)"


def test_a_long_cause_name_wraps_above_its_small_chart() -> None:
    # Unwrapped, one long name widens every column of small charts and pushes the third off the page.
    charts._stacked_bars_spec.cache_clear()
    try:
        spec = charts._stacked_bars_spec("stance", "Articles per year", True, True, 1990, 2026,
                                        ("Sleep", LONG_CAUSE_LABEL))
    finally:
        charts._stacked_bars_spec.cache_clear()
    expression = spec["facet"]["header"]["labelExpr"]
    lines = charts.wrap_label(LONG_CAUSE_LABEL)
    assert " ".join(lines) == LONG_CAUSE_LABEL and len(lines) > 1
    assert all(len(line) <= charts.FACET_LABEL_CHARACTERS for line in lines)
    # Compared on the raw value: Vega-Lite replaces datum.label by an unbracketed conditional.
    assert expression.startswith(f'datum.value === "{LONG_CAUSE_LABEL}" ? ["{lines[0]}"')
    assert "Sleep" not in expression


@pytest.mark.parametrize("by", ["stance", "level"])
@pytest.mark.parametrize(("facet", "shared_scale"), [(True, True), (True, False), (False, True)])
def test_every_chart_shape_is_valid_vega_lite(monkeypatch, by, facet, shared_scale) -> None:
    # The dashboard skips Altair's schema validation for speed; this is where each shape is validated.
    monkeypatch.setattr(charts, "SPEC_VALIDATION", True)
    charts._stacked_bars_spec.cache_clear()
    charts._design_heatmap_spec.cache_clear()
    charts._share_over_time_spec.cache_clear()
    try:
        charts._stacked_bars_spec(by, "Articles per year", facet, shared_scale, 1990, 2026,
                                 ("Sleep", "Serotonin", LONG_CAUSE_LABEL))
        charts._design_heatmap_spec(("Sleep", "Serotonin"))
        charts._share_over_time_spec(("2010–2014", "2015–2019"))
    finally:
        charts._stacked_bars_spec.cache_clear()
        charts._design_heatmap_spec.cache_clear()
        charts._share_over_time_spec.cache_clear()


def test_a_renamed_cause_leaves_no_ghost_in_the_dashboards_reads(stance_db, settings) -> None:
    configured = tuple(h.id for h in settings.hypotheses if h.id != "serotonin")
    state = loaders.read_store_state(stance_db, configured)
    pmids = tuple(int(pmid) for pmid in read_catalogue(stance_db)["pmid"])
    rows = loaders.load_rows_of(state, pmids)
    assert not any("serotonin" in carried for carried in rows["hypotheses"])
    assert "serotonin" not in set(loaders.load_stances_of(state, pmids)["hypothesis_id"])
    assert "serotonin" not in set(loaders.load_article_stances(state, pmids[0])["hypothesis_id"])
    # The same store under the full list still shows the cause: its rows were parked, not deleted.
    full = loaders.load_rows_of(loaders.read_store_state(stance_db, tuple(h.id for h in settings.hypotheses)), pmids)
    assert any("serotonin" in carried for carried in full["hypotheses"])


# --- the verdict: the evidence table first thing on the Overview ------------------------------------------------

def _verdict_rows(app: AppTest) -> dict[str, str]:
    """The evidence table's rows (HTML) by the cause each links to."""
    rows = evidence_table(app).split("<tr>")[2:]
    return {re.search(r"[?&;]cause=([^&\"]+)", row).group(1): row for row in rows}


def _finding_counts(db_path: Path, settings) -> pd.DataFrame:
    """The store's findings per cause, as the Overview's loaders count them (retracted articles left out)."""
    state = loaders.read_store_state(db_path, tuple(h.id for h in settings.hypotheses))
    return loaders.load_finding_counts(state, False, tuple(h.id for h in settings.causes))


@pytest.mark.parametrize("sort_by", list(views.VERDICT_SORTS))
def test_the_evidence_table_sorts_as_chosen_with_ties_in_file_order(monkeypatch, stance_db, settings,
                                                                     sort_by) -> None:
    app = run_app(monkeypatch, stance_db, verdict_sort=sort_by)
    verdict = evidence.verdict_table(_finding_counts(stance_db, settings), settings.hypotheses, scope="direct",
                                     now_year=2026).set_index("hypothesis_id")
    file_order = [h.id for h in settings.causes]

    def by_hand(cause_id: str) -> tuple:
        value = 0 if sort_by == "order" else verdict.at[cause_id, sort_by]
        if pd.isna(value):  # no findings, so no interval: last
            return (1, 0, file_order.index(cause_id))
        return (0, value if sort_by == "share_high" else -value, file_order.index(cause_id))

    assert list(_verdict_rows(app)) == sorted(file_order, key=by_hand)
    assert verdict[sort_by if sort_by != "order" else "findings"].nunique() > 1


@pytest.mark.parametrize("scope", ["direct", "all"])
def test_the_share_chart_offers_only_the_causes_with_a_finding_to_chart(monkeypatch, stance_db, settings,
                                                                        scope) -> None:
    app = run_app(monkeypatch, stance_db, evidence_scope=scope)
    periods = evidence.share_by_period(_finding_counts(stance_db, settings), settings.hypotheses, scope=scope)
    table_order = list(_verdict_rows(app))
    charted = [cause for cause in table_order if cause in set(periods["hypothesis_id"])]
    labels_by_id = {h.id: h.label for h in settings.hypotheses}
    assert 0 < len(charted) < len(table_order)
    assert app.get_by_key("share_cause").options == [labels_by_id[cause] for cause in charted]
    note = html.unescape(next(c.value for c in app.caption if c.value.startswith("Not offered")))
    assert note.endswith(": " + "; ".join(labels_by_id[c] for c in table_order if c not in charted))


@pytest.mark.parametrize("scope", ["direct", "all"])
def test_the_share_over_time_chart_draws_the_chosen_causes_periods(monkeypatch, stance_db, settings, scope) -> None:
    periods = evidence.share_by_period(_finding_counts(stance_db, settings), settings.hypotheses, scope=scope)
    default = run_app(monkeypatch, stance_db, evidence_scope=scope).get_by_key("share_cause").value
    # A cause other than the one shown first, with findings in more than one period.
    chosen = (periods[periods["hypothesis_id"] != default]["hypothesis_id"].value_counts()
              .loc[lambda counts: counts > 1].index[0])
    app = run_app(monkeypatch, stance_db, evidence_scope=scope, share_cause=chosen)
    expected = periods[periods["hypothesis_id"] == chosen].reset_index(drop=True)
    drawn = [datasets for datasets in chart_datasets(app) if any("period" in frame for frame in datasets)]
    assert len(drawn) == 1
    counts, shares = sorted(drawn[0], key=lambda frame: "share" in frame)
    pd.testing.assert_frame_equal(shares, expected[list(shares.columns)], check_dtype=False)
    # The bars stack each period's findings by stance: they add up to the findings its share rests on.
    assert counts.groupby("period", sort=False)["count"].sum().to_dict() == dict(
        zip(expected["period"], expected["findings"]))
    assert set(counts["group"]) == set(labels.STANCE_LABELS_SHOWN.values())


@pytest.mark.parametrize("scope", ["direct", "all"])
def test_the_evidence_table_counts_by_hand_and_each_count_opens_its_articles(monkeypatch, stance_db, settings,
                                                                              scope) -> None:
    app = run_app(monkeypatch, stance_db, evidence_scope=scope)
    assert f"**Shown: {evidence.EVIDENCE_SCOPES[scope]}.**" in markdown_text(app)
    catalogue = read_catalogue(stance_db)
    with store.reading(stance_db) as connection:
        stances = store.load_stance_frame(connection)
    kept = catalogue[~catalogue["retracted"].astype(bool)]
    pairs = stances.merge(kept[["pmid", "hypotheses"]], on="pmid")
    pairs = pairs[[cause in causes for cause, causes in zip(pairs["hypothesis_id"], pairs["hypotheses"])]]
    unsure = pairs[(pairs["confidence"] == "low") & pairs["stance"].isin(evidence.FINDING_STANCES)]
    pairs = pairs[pairs["confidence"] == "high"]
    every_finding = pairs[pairs["stance"].isin(evidence.FINDING_STANCES)]
    if scope == "direct":
        pairs = pairs[pairs["evidence_kind"].isin(["comparison", "association"]) & ~pairs["hedged"]]
        unsure = unsure[unsure["evidence_kind"].isin(["comparison", "association"]) & ~unsure["hedged"]]
    rows = _verdict_rows(app)
    assert list(rows) == [c.id for c in settings.causes]
    hypothesis_ids = [h.id for h in settings.hypotheses]
    scope_fields = {"confidence": "high", **({"evidence_kinds": ("comparison", "association"), "hedged": False}
                                             if scope == "direct" else {})}
    checked = 0
    for cause in settings.causes:
        mine = pairs[pairs["hypothesis_id"] == cause.id]
        counts = {stance: int((mine["stance"] == stance).sum()) for stance in evidence.FINDING_STANCES}
        for stance, expected in counts.items():
            link = markup.citations_link(causes=[cause.id], stances=[stance], **scope_fields)
            assert f'<a href="{link}">{expected:,}</a>' in rows[cause.id]
            # what the link opens in Citations is the count
            selection = Selection(hypotheses=(cause.id,), stances=(stance,), **scope_fields)
            assert len(select_articles(catalogue, selection, hypothesis_ids=hypothesis_ids, stances=stances)) == expected
        low = int((unsure["hypothesis_id"] == cause.id).sum())
        if low:
            link = markup.citations_link(causes=[cause.id], stances=list(evidence.FINDING_STANCES),
                                         **{**scope_fields, "confidence": "low"})
            assert f'<a href="{link}">{low:,}</a> read with low confidence' in rows[cause.id]
            selection = Selection(hypotheses=(cause.id,), stances=evidence.FINDING_STANCES,
                                  **{**scope_fields, "confidence": "low"})
            assert len(select_articles(catalogue, selection, hypothesis_ids=hypothesis_ids, stances=stances)) == low
        if scope == "direct":
            _assert_left_out_of_direct(rows[cause.id], cause.id, every_finding, catalogue, stances, hypothesis_ids)
        findings = sum(counts.values())
        if findings:
            checked += 1
            share = counts["supports"] / findings
            low, high = evidence.wilson_intervals([counts["supports"]], [findings])
            assert f"{share:.0%} <span style=\"color:#666\">({low[0]:.0%}–{high[0]:.0%})</span>" in rows[cause.id]
            patients = int(mine.loc[mine["stance"].isin(evidence.FINDING_STANCES), "n_patients"].sum())
            assert f"{patients:,} <span" in rows[cause.id]
        else:
            assert "no findings yet" in rows[cause.id]
    assert checked >= 5


def _assert_left_out_of_direct(row: str, cause: str, every_finding: pd.DataFrame, catalogue: pd.DataFrame,
                               stances: pd.DataFrame, hypothesis_ids: list[str]) -> None:
    """The direct scope's row names what it leaves out, kind by kind and the hedged direct ones, each count
    linking to exactly its findings; together they are every finding less the direct ones."""
    mine = every_finding[every_finding["hypothesis_id"] == cause]
    direct_kind = mine["evidence_kind"].isin(["comparison", "association"])
    left_out = [(["intervention"], None, "treatment result"), (["review"], None, "review"),
                (["other"], None, "other result"), (["comparison", "association"], True, "hedged")]
    counted = 0
    for kinds, hedged, words in left_out:
        chosen = mine[mine["evidence_kind"].isin(kinds) & (direct_kind & mine["hedged"] if hedged else True)]
        fields = {"evidence_kinds": kinds, **({"hedged": True} if hedged else {})}
        link = markup.citations_link(causes=[cause], stances=list(evidence.FINDING_STANCES), confidence="high",
                                     **fields)
        shown = f'<a href="{link}">{len(chosen):,}</a> {words}'
        assert (shown in row) == bool(len(chosen)), (cause, words)
        selection = Selection(hypotheses=(cause,), stances=evidence.FINDING_STANCES, confidence="high", **fields)
        assert len(select_articles(catalogue, selection, hypothesis_ids=hypothesis_ids, stances=stances)) == len(chosen)
        counted += len(chosen)
    assert counted == len(mine) - int((direct_kind & ~mine["hedged"]).sum())


def test_the_cause_page_counts_the_findings_the_reader_chose(monkeypatch, stance_db) -> None:
    tables = {}
    for scope in ("direct", "all"):
        app = run_app(monkeypatch, stance_db, "Cause", cause="sleep", evidence_scope=scope)
        assert f"**Shown: {evidence.EVIDENCE_SCOPES[scope]}.**" in markdown_text(app)
        tables[scope] = evidence_table(app)
    direct = markup.citations_link(causes=["sleep"], stances=["supports"], confidence="high",
                                   evidence_kinds=["comparison", "association"], hedged=False)
    every = markup.citations_link(causes=["sleep"], stances=["supports"], confidence="high")
    assert f'<a href="{direct}">' in tables["direct"] and f'<a href="{every}">' not in tables["direct"]
    # Only the direct scope keeps findings of other kinds apart.
    assert f'<a href="{every}">' in tables["all"] and " treatment result" not in tables["all"]
    # The summary below counts every kind of finding: the "all" table's count, not the direct one.
    summary = next(m.value for m in app.markdown if "report a finding that supports it" in m.value)
    supports = re.search(rf'<a href="{re.escape(every)}">([\d,]+)</a>', tables["all"]).group(1)
    assert f"[{supports}]({every})" in summary
    # The choice is the Overview's: switching from one page to the other in the sidebar keeps it.
    app.sidebar.radio(key="page").set_value("Overview").run()
    assert app.get_by_key("evidence_scope").value == "all"
    # A cause's name in the Overview's table opens its page (a new session) counting the same findings.
    for scope, parameters in (("all", {"scope": "all"}), ("direct", {})):
        app.get_by_key("evidence_scope").set_value(scope).run()
        address = markup.page_address({"page": "Cause", "cause": "sleep", **parameters})
        assert f'<a href="{html.escape(address)}"><strong>' in evidence_table(app)
        query = dict(urllib.parse.parse_qsl(address[1:]))
        opened = run_app(monkeypatch, stance_db, query=query)
        assert (opened.sidebar.radio(key="page").value, opened.get_by_key("evidence_scope").value) == ("Cause", scope)
        assert evidence_table(opened) == tables[scope]


def test_the_cause_and_the_findings_counted_stay_chosen_while_the_reader_visits_other_pages(monkeypatch,
                                                                                             stance_db) -> None:
    app = run_app(monkeypatch, stance_db, "Cause", cause="sleep", evidence_scope="all")
    shown = evidence_table(app)
    for page in ("Citations", "Fetch status", "Cause"):
        app.sidebar.radio(key="page").set_value(page).run()
    assert (app.sidebar.selectbox(key="cause").value, app.get_by_key("evidence_scope").value) == ("sleep", "all")
    assert evidence_table(app) == shown
    app.sidebar.radio(key="page").set_value("Overview").run()
    assert app.get_by_key("evidence_scope").value == "all"


def test_the_overviews_sort_and_chart_choices_stay_chosen_while_the_reader_visits_other_pages(monkeypatch,
                                                                                             stance_db,
                                                                                             settings) -> None:
    chosen = {"verdict_sort": "findings", "chart_mode": "cumulative", "stack_by": "level", "same_scale": False,
              "split_sources": True}
    app = run_app(monkeypatch, stance_db, **chosen)
    # The chart's cause last: its choices follow the table's order.
    offered = app.get_by_key("share_cause").options
    share_cause = [h.id for h in settings.causes if h.label in offered][-1]
    app.get_by_key("share_cause").set_value(share_cause).run()
    chosen["share_cause"] = app.get_by_key("share_cause").value
    assert all(chosen[key] != default for key, default in (("verdict_sort", "order"), ("chart_mode", "count")))
    shown = evidence_table(app)
    for page in ("Cause", "Citations", "Overview"):
        app.sidebar.radio(key="page").set_value(page).run()
    run_as_browser(app)
    assert {key: app.get_by_key(key).value for key in chosen} == chosen
    assert evidence_table(app) == shown


def test_a_cause_no_longer_configured_is_not_kept(monkeypatch, stance_db, tmp_path) -> None:
    app = run_app(monkeypatch, stance_db, "Cause", cause="sleep")
    # The hypotheses file edited while the dashboard runs: the sleep entry deleted.
    head, *entries = DEFAULT_HYPOTHESES_PATH.read_text(encoding="utf-8").split("[[hypothesis]]")
    kept = [entry for entry in entries if 'id = "sleep"' not in entry]
    assert len(kept) == len(entries) - 1
    edited = tmp_path / "hypotheses.toml"
    edited.write_text("[[hypothesis]]".join([head, *kept]), encoding="utf-8")
    monkeypatch.setenv("TRACKER_HYPOTHESES", str(edited))
    app.sidebar.radio(key="page").set_value("Citations").run()
    app.sidebar.radio(key="page").set_value("Cause").run()
    assert not app.exception, [e.value for e in app.exception]
    first = load_settings(hypotheses_path=edited, environ={}).causes[0].id
    assert app.sidebar.selectbox(key="cause").value == first != "sleep"


def test_a_verdict_link_presets_the_kind_and_hedging_filters(monkeypatch, stance_db, settings) -> None:
    link = markup.citations_link(causes=["sleep"], stances=["supports"], evidence_kinds=["comparison", "association"],
                                 hedged=False)
    query = dict(pair.split("=", 1) for pair in link.lstrip("?").split("&"))
    app = run_app(monkeypatch, stance_db, query={name: urllib.parse.unquote(value) for name, value in query.items()})
    assert [t.value for t in app.main.title] == ["Citations"]
    assert app.get_by_key("filter_kinds").value == ["comparison", "association"]
    assert app.get_by_key("filter_hedged").value == "no"
    catalogue = read_catalogue(stance_db)
    with store.reading(stance_db) as connection:
        stances = store.load_stance_frame(connection)
    expected = select_articles(catalogue, Selection(hypotheses=("sleep",), stances=("supports",),
                                                    evidence_kinds=("comparison", "association"), hedged=False),
                               hypothesis_ids=[h.id for h in settings.hypotheses], stances=stances)
    assert 0 < len(expected)
    assert metric_values(app)["Matching articles"] == f"{len(expected):,}"


def test_the_headline_says_what_the_retracted_articles_change(monkeypatch, seeded_db, catalogue) -> None:
    app = run_app(monkeypatch, seeded_db)
    stored, retracted = len(catalogue), int(catalogue["retracted"].sum())
    assert retracted
    assert any(c.value.startswith(f"{stored:,} stored articles, {retracted:,} of them retracted: the counts below, "
                                  f"Citations and the exports hold the other {stored - retracted:,}")
               for c in app.caption)


def test_many_causes_cost_one_page(monkeypatch, tmp_path) -> None:
    """A hypotheses file of as many causes as it may hold: the Overview shows one page of them, tables and charts
    alike, so what it sends does not grow with the causes beyond a page."""
    causes = MAX_HYPOTHESES - 1
    path = tmp_path / "many.toml"
    entries = ['[[hypothesis]]\nid = "fibromyalgia"\nlabel = "All"\ndescription = "d"\nquery = "fibromyalgia"\n'
               'baseline = true\n']
    entries += [f'[[hypothesis]]\nid = "cause_{number}"\nlabel = "Cause {number}"\ndescription = "d"\n'
                f'query = "q{number}"\nterms = ["term{number}"]\n' for number in range(causes)]
    path.write_text("\n".join(entries), encoding="utf-8")
    many = load_settings(hypotheses_path=path, environ={})
    db_path = tmp_path / "many.sqlite"
    seed_store(db_path, many.hypotheses, make_articles(30, seed=3), links={"cause_7": {a.pmid for a in
                                                                                       make_articles(30, seed=3)[:12]}})
    seed_stances(db_path, read_catalogue(db_path))
    monkeypatch.setenv("TRACKER_HYPOTHESES", str(path))
    app = run_app(monkeypatch, db_path)
    rows = _verdict_rows(app)
    assert len(rows) == views.VERDICT_PAGE_SIZE
    assert app.get_by_key("cause_page").max == -(-causes // views.VERDICT_PAGE_SIZE)
    plotted = {cause for frames in chart_datasets(app) for frame in frames if "cause" in frame
               for cause in frame["cause"]}
    assert len(plotted) <= views.VERDICT_PAGE_SIZE
    sent = sum(len(m.value) for m in app.markdown) + sum(len(c.value) for c in app.caption)
    assert sent < 200_000


def test_a_cause_without_articles_gets_a_plain_sentence_not_empty_charts(monkeypatch, seeded_db, settings,
                                                                         catalogue) -> None:
    empty = next(c for c in settings.causes if not catalogue["hypotheses"].map(lambda ids, i=c.id: i in ids).any())
    app = run_app(monkeypatch, seeded_db, "Cause", cause=empty.id)
    assert any(info.value.startswith(f"No article is tagged with {empty.label} yet") for info in app.info)
    assert not app.get("vega_lite_chart")
    assert "Of the 0" not in markdown_text(app)


# --- scale -------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("page", ["Overview", "Cause", "Citations"])
def test_no_page_reads_the_whole_catalogue(monkeypatch, stance_db, page) -> None:
    # Overview and Cause read the store's summaries, Citations a page of rows: at a million articles the
    # catalogue would take half a minute and gigabytes.
    read_by_pmid = store.load_catalogue

    def refuse_all(connection, hypothesis_ids=None, *, pmids=None):
        assert pmids is not None, "a page read every article of the store"
        return read_by_pmid(connection, hypothesis_ids, pmids=pmids)

    monkeypatch.setattr(store, "load_catalogue", refuse_all)
    app = run_app(monkeypatch, stance_db, query={"page": page})
    assert app.title[0].value
