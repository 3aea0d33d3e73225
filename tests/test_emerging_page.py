"""The dashboard's Emerging page through streamlit.testing.v1.AppTest on a store seeded with a rising term."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest
from support.planted import LAST_YEAR, ONSET, PER_YEAR

APP_PATH = Path(__file__).resolve().parent.parent / "dashboard" / "app.py"
TIMEOUT_S = 60
RISING_ARTICLES = sum(1 for year in range(ONSET, LAST_YEAR + 1) for number in range(PER_YEAR) if number % 3 == 0)


def emerging_app(monkeypatch: pytest.MonkeyPatch, db_path: Path, **widgets: object) -> AppTest:
    monkeypatch.setenv("TRACKER_DB", str(db_path))
    app = AppTest.from_file(str(APP_PATH), default_timeout=TIMEOUT_S)
    app.run()
    app.sidebar.radio(key="page").set_value("Emerging")
    app.run()
    for key, value in widgets.items():
        app.get_by_key(key).set_value(value)
        app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def test_the_page_ranks_the_rising_term_with_its_figures(monkeypatch, planted_db) -> None:
    app = emerging_app(monkeypatch, planted_db)
    assert [title.value for title in app.main.title] == ["Emerging causes"]
    assert {metric.label: metric.value for metric in app.metric} == {"Candidates tested": "2", "Emerging": "1"}
    table = app.dataframe[0].value
    assert table[["Rank", "Term", "Articles", "Rate ratio", "Burst years", "Emerging"]].iloc[0].tolist() == [
        1, "trelaxin receptor", RISING_ARTICLES, "new", f"{ONSET}-{LAST_YEAR}", True]
    assert len(table) == 1  # only the emerging ones by default


def test_the_chart_shows_the_yearly_share_and_shades_the_burst_years(monkeypatch, planted_db) -> None:
    app = emerging_app(monkeypatch, planted_db)
    [chart] = app.get("vega_lite_chart")
    frames = [pa.ipc.open_stream(dataset.data.data).read_pandas() for dataset in chart.proto.datasets]
    bars = max(frames, key=len)
    by_year = bars.set_index("year")
    assert by_year.loc[LAST_YEAR, "articles"] == sum(1 for number in range(PER_YEAR) if number % 3 == 0)
    assert by_year.loc[LAST_YEAR, "baseline_articles"] == PER_YEAR
    assert by_year.loc[ONSET - 1, "percent"] == 0
    shaded = min(frames, key=len)
    assert sorted(shaded["year"]) == list(range(ONSET, LAST_YEAR + 1))


def test_the_add_as_a_cause_entry_is_valid_toml(monkeypatch, planted_db) -> None:
    app = emerging_app(monkeypatch, planted_db)
    [code] = [block for block in app.code if "[[hypothesis]]" in block.value]
    entry = tomllib.loads(code.value)["hypothesis"][0]
    assert entry["id"] == "trelaxin_receptor" and "trelaxin receptor" in entry["terms"]


def test_the_articles_link_opens_citations_searching_for_the_term(monkeypatch, planted_db) -> None:
    app = emerging_app(monkeypatch, planted_db)
    app.button(key="emerging_show_trelaxin receptor").click()
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    assert [title.value for title in app.main.title] == ["Citations"]
    assert app.sidebar.text_input(key="filter_text").value == "trelaxin receptor"
    metrics = {metric.label: metric.value for metric in app.metric}
    assert metrics["Matching articles"] == f"{RISING_ARTICLES:,}"


def test_the_pages_choices_stay_while_the_reader_looks_at_a_terms_articles(monkeypatch, planted_db) -> None:
    app = emerging_app(monkeypatch, planted_db, emerging_only=False, emerging_min_articles=20)
    ranked = app.dataframe[0].value["Term"].tolist()
    app.button(key="emerging_show_trelaxin receptor").click()
    app.run()
    app.sidebar.radio(key="page").set_value("Emerging").run()
    assert (app.get_by_key("emerging_only").value, app.get_by_key("emerging_min_articles").value) == (False, 20)
    assert app.dataframe[0].value["Term"].tolist() == ranked


def test_all_candidates_and_a_too_strict_minimum(monkeypatch, planted_db) -> None:
    app = emerging_app(monkeypatch, planted_db, emerging_only=False)
    assert app.dataframe[0].value["Term"].tolist() == ["trelaxin receptor", "aquatic therapy"]
    app = emerging_app(monkeypatch, planted_db, emerging_min_articles=5000)
    assert "No candidate is mentioned in enough fibromyalgia articles; lower the minimum articles." in [
        block.value for block in app.markdown]


def test_the_page_takes_its_year_from_the_injected_clock(monkeypatch, planted_db) -> None:
    # The page script reads the clock once and hands it down; the page never reads it itself.
    from datetime import UTC, datetime

    from dashboard import loaders

    monkeypatch.setattr(loaders, "utc_now", lambda: datetime(2040, 3, 1, tzinfo=UTC))
    app = emerging_app(monkeypatch, planted_db)
    as_of = app.selectbox(key="emerging_as_of")
    assert as_of.options[0] == "2039"
    assert as_of.value == 2039
