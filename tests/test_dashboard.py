"""The dashboard through streamlit.testing.v1.AppTest on seeded stores: pages, filters, charts, empty and broken stores."""

from __future__ import annotations

import dataclasses
import sqlite3
import tomllib
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from click.testing import CliRunner
from seed import add_fetch_run, make_articles, read_catalogue, seed_store
from streamlit.testing.v1 import AppTest

from dashboard import views
from dashboard.screens import CHART_MODES, PAGES
from tracker import cli, store, tagging
from tracker.config import DEFAULT_HYPOTHESES_PATH, load_settings
from tracker.models import Correction
from tracker.selection import Selection, select_articles

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
    db_path = tmp_path_factory.mktemp("dashboard") / "seeded.sqlite"
    articles = make_articles(ARTICLE_COUNT, seed=7)
    seed_store(db_path, settings.hypotheses, articles)
    add_fetch_run(db_path, settings.hypotheses, make_articles(LATE_ARTICLE_COUNT, seed=8),
                  changed=[retracted_copy(article) for article in articles[:CHANGED_ARTICLE_COUNT]])
    return db_path


def retracted_copy(article):
    return dataclasses.replace(article, publication_types=(*article.publication_types, "Retracted Publication"),
                               corrections=(Correction("RetractionIn", article.pmid + 1, "Pain. 2026"),))


@pytest.fixture(scope="module")
def runs(seeded_db: Path) -> store.RunHistory:
    connection = store.connect(seeded_db, read_only=True)
    try:
        return store.load_run_history(connection)
    finally:
        connection.close()


@pytest.fixture(scope="module")
def catalogue(seeded_db: Path) -> pd.DataFrame:
    return read_catalogue(seeded_db)


def run_app(monkeypatch: pytest.MonkeyPatch, db_path: Path, page: str | None = None, **widgets: object) -> AppTest:
    """Run the page script against a store, on a page, with widgets (by key) set, and return the finished app."""
    monkeypatch.setenv("TRACKER_DB", str(db_path))
    app = AppTest.from_file(str(APP_PATH), default_timeout=TIMEOUT_S)
    app.run()
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
    """The data each Vega-Lite chart on the page was sent, decoded from its Arrow bytes."""
    frames = []
    for chart in app.get("vega_lite_chart"):
        datasets = chart.proto.datasets
        raw = datasets[0].data.data if datasets else chart.proto.data.data
        frames.append(pa.ipc.open_stream(raw).read_pandas())
    return frames


# --- every page -------------------------------------------------------------------------------------------------

PAGE_TITLES = {"Overview": "Fibromyalgia evidence over time", "Cause": "Substance P", "Citations": "Citations",
               "Fetch status": "Fetch status", "Emerging": "Emerging causes"}


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_without_exception(monkeypatch, seeded_db, page) -> None:
    app = run_app(monkeypatch, seeded_db, page)
    assert [title.value for title in app.main.title] == [PAGE_TITLES[page]]
    assert not app.error


@pytest.mark.parametrize("include_retracted", [False, True])
def test_overview_figures_come_from_the_evidence_table(monkeypatch, seeded_db, settings, catalogue,
                                                       include_retracted) -> None:
    app = run_app(monkeypatch, seeded_db, include_retracted=include_retracted)
    by_year = tagging.evidence_by_year(
        tagging.evidence_table(catalogue, settings.hypotheses, include_retracted=include_retracted), "count")
    expected = {"Articles tracked": f"{ARTICLE_COUNT + LATE_ARTICLE_COUNT:,}",
                "New in the latest fetch or import": f"{LATE_ARTICLE_COUNT:,}"}
    expected |= {cause.label: f"{int(by_year[cause.id].sum()):,}" for cause in settings.causes}
    figures = metric_values(app)
    assert {label: figures[label] for label in expected} == expected


def test_retracted_articles_change_the_counts_only_when_included(catalogue, settings) -> None:
    # Guards the test above: with no retracted article among the causes, it could not tell the two settings apart.
    counts = [tagging.evidence_table(catalogue, settings.hypotheses, include_retracted=flag)["count"].sum()
              for flag in (False, True)]
    assert counts[0] < counts[1]


@pytest.mark.parametrize("mode", list(CHART_MODES))
@pytest.mark.parametrize("include_retracted", [False, True])
def test_the_chart_plots_the_evidence_table(monkeypatch, seeded_db, settings, catalogue, mode,
                                            include_retracted) -> None:
    app = run_app(monkeypatch, seeded_db, chart_mode=mode, include_retracted=include_retracted)
    plotted = chart_frames(app)[0]
    by_year = tagging.evidence_by_year(
        tagging.evidence_table(catalogue, settings.hypotheses, include_retracted=include_retracted), mode)
    by_year = by_year.drop(index=tagging.UNKNOWN_YEAR_LABEL)
    expected = by_year.rename_axis(columns=None).reset_index().melt(
        id_vars="year_label", var_name="hypothesis_id", value_name="value")
    expected = pd.DataFrame({"year": expected["year_label"].astype("int64"),
                             "hypothesis_id": expected["hypothesis_id"],
                             "value": expected["value"].astype("float64")})
    got = plotted[["year", "hypothesis_id", "value"]].astype({"year": "int64", "value": "float64"})
    key = ["hypothesis_id", "year"]
    pd.testing.assert_frame_equal(got.sort_values(key, ignore_index=True),
                                  expected.sort_values(key, ignore_index=True), check_dtype=False)
    assert set(plotted["cause"]) == {c.label for c in settings.causes}


def test_the_design_chart_stacks_the_chosen_cause(monkeypatch, seeded_db, settings, catalogue) -> None:
    app = run_app(monkeypatch, seeded_db, design_cause="sleep")
    plotted = chart_frames(app)[1]
    table = tagging.evidence_table(catalogue, settings.hypotheses)
    rows = table[(table["hypothesis_id"] == "sleep") & table["year"].notna()]
    expected = rows.groupby("design")["count"].sum()
    got = plotted.groupby("design")["value"].sum()
    assert got.to_dict() == {tagging.DESIGN_LABELS[d]: float(n) for d, n in expected.items()}
    assert plotted["value"].sum() > 0


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
    options = app.selectbox(key="article").options
    assert [int(option.split(" — ")[0]) for option in options] == expected["pmid"].head(views.CITATION_PAGE_SIZE).tolist()
    assert app.get("download_button")[0].proto.label == f"Download these {len(expected):,} articles as CSV"


def test_the_table_links_each_row_to_pubmed_and_its_doi(monkeypatch, seeded_db, catalogue) -> None:
    app = run_app(monkeypatch, seeded_db, "Citations")
    shown = app.dataframe[0].value
    expected = select_articles(catalogue, Selection()).head(views.CITATION_PAGE_SIZE)
    assert shown["PubMed"].tolist() == [f"https://pubmed.ncbi.nlm.nih.gov/{p}/" for p in expected["pmid"]]
    assert [None if pd.isna(link) else link for link in shown["DOI"]] == [
        f"https://doi.org/{doi}" if isinstance(doi, str) else None for doi in expected["doi"]]


def test_a_chosen_article_shows_its_abstract_tags_and_integrity_flags(monkeypatch, seeded_db, catalogue) -> None:
    ordered = store.decode_details(
        select_articles(catalogue, Selection(include_retracted=True)).head(views.CITATION_PAGE_SIZE))
    retracted = ordered[ordered["retracted"] & ordered["matched_terms"].map(len).astype(bool)]
    article = retracted.iloc[0]
    app = run_app(monkeypatch, seeded_db, "Citations", include_retracted=True, article=int(article["pmid"]))
    markdown = "\n".join(m.value for m in app.markdown)
    for section in article["abstract_sections"]:
        if section["label"]:
            assert f"<strong>{section['label']}:</strong>" in markdown
    terms = [m["term"] for matched in article["matched_terms"].values() for m in matched]
    marked = [views.highlight_terms(section["text"], terms) for section in article["abstract_sections"]]
    assert any("<mark>" in section for section in marked)
    assert all(section in markdown for section in marked)
    assert [e.value for e in app.error] == [views.INTEGRITY_LABELS["retracted"]]
    assert any(views.NCBI_POLICY_URL in caption.value for caption in app.caption)
    for hypothesis_id in article["hypotheses"]:
        assert views.TAG_SOURCE_LABELS[article["tag_sources"][hypothesis_id]] in markdown


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
    assert views.highlight_terms(text, terms) == expected


# --- empty, broken and busy stores --------------------------------------------------------------------------------

def _empty_store(db_path: Path) -> None:
    store.connect(db_path).close()


def _failed_run_store(db_path: Path) -> None:
    connection = store.connect(db_path)
    run_id = store.start_run(connection, full_sync=True)
    store.finish_run(connection, run_id, "failed", "NCBI could not be reached")
    connection.close()


@pytest.mark.parametrize(("prepare", "warning"), [
    (lambda path: None, None),
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
        writer.execute("BEGIN IMMEDIATE")
        store.save_articles(writer, make_articles(5, seed=9), "pubmed")
        app = run_app(monkeypatch, db_path)
        assert metric_values(app)["Articles tracked"] == "50"
        writer.execute("COMMIT")
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
    result = CliRunner().invoke(cli.cli, ["dashboard", "--db", str(db_path), *arguments])
    assert result.exit_code == 0, result.output
    assert calls == [(cli.sys.executable, [
        cli.sys.executable, "-m", "streamlit", "run", str(APP_PATH),
        "--server.address", host, "--server.port", port, "--server.headless", "true",
        "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false",
        "--client.showErrorDetails", "false", "--client.toolbarMode", "minimal", "--client.disableDataExport", "true",
        "--", "--db", str(db_path), "--hypotheses", str(DEFAULT_HYPOTHESES_PATH),
    ])]


def test_the_config_file_sets_what_the_command_line_sets() -> None:
    config = tomllib.loads((PROJECT_DIR / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config == {
        "server": {"address": "127.0.0.1", "headless": True, "fileWatcherType": "none"},
        "browser": {"gatherUsageStats": False},
        "client": {"showErrorDetails": False, "toolbarMode": "minimal", "disableDataExport": True},
    }


# --- fetch status and coverage ------------------------------------------------------------------------------------

def test_the_status_page_lists_runs_per_cause_lines_and_the_schedule(monkeypatch, seeded_db, settings) -> None:
    app = run_app(monkeypatch, seeded_db, "Fetch status")
    runs, run_log, sync_states = (frame.value for frame in app.dataframe)
    connection = store.connect(seeded_db, read_only=True)
    try:
        stored_runs = store.load_runs_frame(connection)
        stored_log = store.load_run_hypotheses_frame(connection, int(stored_runs["id"].iloc[0]))
    finally:
        connection.close()
    assert runs[["Run", "Outcome", "Started (UTC)"]].values.tolist() == \
        stored_runs[["id", "status", "started_at"]].values.tolist()
    labels = {h.id: h.label for h in settings.hypotheses}
    assert run_log[["Cause", "In PubMed", "Stored"]].values.tolist() == [
        [labels[row.hypothesis_id], row.pubmed_count, row.stored_count] for row in stored_log.itertuples()]
    assert sync_states["Cause"].tolist() == [h.label for h in settings.hypotheses]
    assert "`30 2 * * *`" in app.markdown[-1].value and "America/New_York" in app.markdown[-1].value


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
    table = tagging.evidence_table(catalogue, settings.hypotheses, by_species=True)
    rows = table[table["hypothesis_id"] == cause_id]
    design_chart, species_chart = chart_frames(app)
    assert design_chart[["category", "articles"]].values.tolist() == [
        [tagging.DESIGN_LABELS[d], int(rows.loc[rows["design"] == d, "count"].sum())] for d in tagging.DESIGNS]
    assert species_chart[["category", "articles"]].values.tolist() == [
        [views.SPECIES_LABELS[s], int(rows.loc[rows["species"] == s, "count"].sum())] for s in tagging.SPECIES]
    assert metric_values(app)["Articles tagged with this cause"] == f"{int(rows['count'].sum()):,}"

    carried = catalogue[catalogue["hypotheses"].map(lambda ids: cause_id in ids) & ~catalogue["retracted"]]
    counts = store.decode_details(carried, ["mesh_terms"])["mesh_terms"].explode().value_counts()
    expected_mesh = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:15]
    top_mesh, newest = app.dataframe[0].value, app.dataframe[1].value
    assert list(zip(top_mesh["MeSH term"], top_mesh["Articles"])) == expected_mesh
    expected_newest = select_articles(catalogue, Selection(hypotheses=(cause_id,))).head(10)
    assert newest["PMID"].tolist() == expected_newest["pmid"].tolist()
    assert next(c.value for c in app.code) == settings.hypothesis(cause_id).query


@pytest.mark.parametrize(("doi", "expected"), [
    ("10.1000/fm.1", "https://doi.org/10.1000/fm.1"),
    ("10.1016/S0140-6736(20)30183-5", "https://doi.org/10.1016/S0140-6736%2820%2930183-5"),
    (" 10.1002/(SICI)1097 x ", "https://doi.org/10.1002/%28SICI%291097%20x"),
])
def test_doi_links_survive_brackets_and_spaces(doi, expected) -> None:
    assert views.doi_url(doi) == expected


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
    expected_info = [message]
    assert [info.value for info in app.info] == (expected_info if page in ("Overview", "Cause") else [])


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
    assert metric_values(app)["Last successful fetch (UTC)"] == f"{finished[:10]} {finished[11:16]}"
    assert "failed: no network" in app.warning[0].value


# --- new and changed in a run -------------------------------------------------------------------------------------

def test_the_headline_counts_what_the_latest_run_stored_first_and_names_it(monkeypatch, seeded_db, runs) -> None:
    app = run_app(monkeypatch, seeded_db)
    # Both runs stored on the same day: counting by day would give all 406.
    assert metric_values(app)["New in the latest fetch or import"] == f"{LATE_ARTICLE_COUNT:,}"
    latest = runs.runs.iloc[-1]
    finished = latest["finished_at"]
    assert f"In run {latest['id']} (fetch, {finished[:10]} {finished[11:16]} UTC)" in [c.value for c in app.caption]


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
    from tracker.importer import import_files

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
    assert metric_values(app)["New in the latest fetch or import"] == f"{imported.new:,}"
    assert any(c.value.startswith(f"In run {imported.run_id} (import of medline_fibromyalgia.txt, ")
               for c in app.caption)
    status = run_app(monkeypatch, db_path, "Fetch status")
    assert [s.value for s in status.subheader][1] == f"Run {failed}, per cause"
