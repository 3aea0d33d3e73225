"""Reviews in the dashboard (AppTest): the Review page's queue and buttons, the article view's form and undo, the
Overview's agreement, counts that follow a review, escaped notes, a busy store."""

from __future__ import annotations

import ast
import csv
import io
import re
import sqlite3
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from support.pages import evidence_table, run_as_browser
from support.reviewed import CAUSES, PAIRED, SHIPPED, SLEEP, read_reviews
from support.seed import make_articles, seed_store

from dashboard import markup
from tracker import store
from tracker.analysis.reviews import Review

PROJECT_DIR = Path(__file__).resolve().parent.parent
APP_PATH = PROJECT_DIR / "dashboard" / "app.py"
TIMEOUT_S = 60
PAIR = f"{PAIRED.pmid}_serotonin"
HOSTILE_NOTE = "<img src=x onerror=alert(1)> :red[loud] **bold** [link](http://evil.example/)"


@pytest.fixture
def seeded(db_path: Path) -> Path:
    seed_store(db_path, SHIPPED, [PAIRED, SLEEP, *make_articles(40, seed=5)])
    return db_path


def _app(monkeypatch: pytest.MonkeyPatch, db_path: Path, page: str | None = None, *, reviewer: str | None = None,
         query: dict[str, str] | None = None) -> AppTest:
    monkeypatch.setenv("TRACKER_DB", str(db_path))
    if reviewer:
        monkeypatch.setenv("TRACKER_REVIEWER", reviewer)
    app = AppTest.from_file(str(APP_PATH), default_timeout=TIMEOUT_S)
    app.query_params.update(query or {})
    run_as_browser(app)
    if page is not None:
        app.sidebar.radio(key="page").set_value(page).run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def _reviews(db_path: Path) -> list[tuple]:
    frame = read_reviews(db_path)
    return list(zip(frame["pmid"], frame["hypothesis_id"], frame["stance"], frame["reviewer"], frame["note"]))


def _button(app: AppTest, label: str, form: str | None = None):
    return next(button for button in app.button
                if button.label == label and (form is None or button.proto.form_id == form))


def _supporting_count(app: AppTest) -> int:
    """The Cause page's count of articles whose finding supports the cause, as its summary sentence links it."""
    summary = next(m.value for m in app.markdown if "a finding that supports it" in m.value)
    return int(re.search(r"\[([\d,]+)\]\([^)]*stances=supports[^)]*\) reports? a finding that supports it",
                         summary).group(1).replace(",", ""))


def test_the_review_page_asks_a_name_once_then_a_click_reviews_and_the_counts_follow(monkeypatch, seeded) -> None:
    app = _app(monkeypatch, seeded, "Cause")
    app.sidebar.selectbox(key="cause").set_value("serotonin").run()
    before = _supporting_count(app)

    app.sidebar.radio(key="page").set_value("Review").run()
    assert [t.value for t in app.text_input] == [""]  # the name, asked before anything else
    app.text_input(key="reviewer_input_page").input("ana")
    _button(app, "Start reviewing").click().run()
    app.sidebar.selectbox(key="review_cause").set_value("serotonin").run()
    progress = app.get("progress")[0].proto.text
    reviewed, total = map(int, re.match(r"(\d+) of (\d+) pairs with a finding reviewed for Serotonin",
                                        progress).groups())
    assert reviewed == 0 and total >= 1
    # The queue's first pair is on screen with one button per decision, above the abstract.
    first = app.markdown[[m.value.startswith("<h4>") for m in app.markdown].index(True)].value
    pmid = int(re.search(r"PubMed (\d+)", first).group(1))
    # "Supports", or "Accept: supports" where the machine read it so already: a review of supports either way.
    supports = f"queue_supports_{pmid}_serotonin"
    key = supports if any(button.key == supports for button in app.button) else f"queue_accept_{pmid}_serotonin"
    app.button(key=key).click().run()
    assert not app.exception and not app.error
    assert _reviews(seeded) == [(pmid, "serotonin", "supports", "ana", "")]
    assert app.get("progress")[0].proto.text.startswith(f"1 of {total} pairs with a finding reviewed")

    app.sidebar.radio(key="page").set_value("Cause").run()
    app.sidebar.selectbox(key="cause").set_value("serotonin").run()
    assert _supporting_count(app) == before + (1 if key == supports else 0)


def test_the_review_queues_filters_stay_while_the_reader_visits_other_pages(monkeypatch, seeded) -> None:
    app = _app(monkeypatch, seeded, "Review", reviewer="ana")
    app.sidebar.selectbox(key="review_cause").set_value("serotonin").run()
    app.sidebar.multiselect(key="review_stances").set_value(["contradicts"]).run()
    progress = app.get("progress")[0].proto.text
    for page in ("Cause", "Review"):
        app.sidebar.radio(key="page").set_value(page).run()
    assert app.sidebar.selectbox(key="review_cause").value == "serotonin"
    assert app.sidebar.multiselect(key="review_stances").value == ["contradicts"]
    assert app.get("progress")[0].proto.text == progress


def test_the_article_view_reviews_a_pair_shows_who_and_the_machines_reading_and_undoes_it(monkeypatch,
                                                                                          seeded) -> None:
    link = {"page": "Citations", "pmid": str(PAIRED.pmid)}
    app = _app(monkeypatch, seeded, reviewer="bo", query=link)
    app.radio(key=f"review_stance_{PAIR}").set_value("mixed")
    app.text_input(key=f"review_note_{PAIR}").input(HOSTILE_NOTE)
    _button(app, "Save review", form=f"review_form_{PAIR}").click().run()
    assert not app.exception and not app.error
    assert _reviews(seeded) == [(PAIRED.pmid, "serotonin", "mixed", "bo", HOSTILE_NOTE)]

    line = next(m.value for m in app.markdown if m.value.startswith("<div><strong>Serotonin</strong>"))
    assert "<strong>Serotonin</strong>: mixed" in line
    assert re.search(r"reviewed by bo on \d{4}&#45;\d\d&#45;\d\d</span> · machine: contradicts", line)
    # The note reaches the page as the text typed: no tag, no Streamlit or Markdown syntax at work.
    assert "<img" not in line and ":red[" not in line and "**" not in line and "](http" not in line
    assert "&#60;img src&#61;x onerror&#61;alert&#40;1&#41;&#62; &#58;red&#91;loud&#93;" in line

    app.button(key=f"review_undo_{PAIR}").click().run()
    assert _reviews(seeded) == []
    line = next(m.value for m in app.markdown if m.value.startswith("<div><strong>Serotonin</strong>"))
    assert "<strong>Serotonin</strong>: contradicts" in line and "reviewed by" not in line


def test_the_overview_shows_agreement_per_cause_once_pairs_are_reviewed(monkeypatch, seeded) -> None:
    app = _app(monkeypatch, seeded)
    assert any(c.value.startswith("No pair has been reviewed yet") for c in app.caption)
    for stance, reviewer, at in (("contradicts", "ana", "2026-12-01T09:00:00+00:00"),
                                 ("supports", "bo", "2026-12-02T09:00:00+00:00")):
        store.write_review(seeded, Review(PAIRED.pmid, "serotonin", stance, reviewer, at), CAUSES)
    app = _app(monkeypatch, seeded)
    [table] = [frame.value for frame in app.dataframe if "Reviewed pairs" in frame.value.columns]
    assert table.to_dict("records") == [{"Cause": "Serotonin", "Reviewed pairs": 1, "Kept the machine's stance": 0.0,
                                         "Changed": 1, "Changed, from → to": "contradicts → supports 1"}]


def test_a_click_on_a_busy_store_says_try_again_and_saves_nothing(monkeypatch, seeded) -> None:
    app = _app(monkeypatch, seeded, reviewer="cy", query={"page": "Citations", "pmid": str(PAIRED.pmid)})
    app.radio(key=f"review_stance_{PAIR}").set_value("supports")
    blocker = sqlite3.connect(seeded, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # a fetch's batch, holding the write lock longer than a second
    try:
        _button(app, "Save review", form=f"review_form_{PAIR}").click().run()
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert [e.value for e in app.error] == [markup.escape_text(
        f"{seeded}: the store is busy (a fetch, import or retag is writing a batch); nothing was saved: try again in "
        "a moment")]
    assert _reviews(seeded) == []


def test_a_reviewer_name_from_the_environment_is_checked(monkeypatch, seeded) -> None:
    app = _app(monkeypatch, seeded, reviewer="ana\x1b[31m")
    assert [e.value for e in app.error][0].startswith("TRACKER_REVIEWER: the reviewer name")


# An SQL statement that changes the store, in a string of a store function.
_SQL_WRITE = re.compile(r"\b(?:INSERT|REPLACE\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE|DROP|ALTER)\b")


def _store_functions() -> dict[str, tuple[bool, set[str]]]:
    """Each function of tracker/store/: whether a string in it is an SQL write, and the names it calls."""
    functions: dict[str, tuple[bool, set[str]]] = {}
    for path in (PROJECT_DIR / "tracker" / "store").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.FunctionDef):
                continue
            texts = ["".join(part.value for part in inner.values if isinstance(part, ast.Constant))
                     if isinstance(inner, ast.JoinedStr) else inner.value
                     for inner in ast.walk(node) if isinstance(inner, ast.JoinedStr)
                     or (isinstance(inner, ast.Constant) and isinstance(inner.value, str))]
            calls = {inner.func.id if isinstance(inner.func, ast.Name) else inner.func.attr
                     for inner in ast.walk(node) if isinstance(inner, ast.Call)
                     and isinstance(inner.func, (ast.Name, ast.Attribute))}
            writes, called = functions.get(node.name, (False, set()))
            functions[node.name] = (writes or any(_SQL_WRITE.search(text) for text in texts), called | calls)
    return functions


def _writes(name: str, functions: dict[str, tuple[bool, set[str]]], seen: frozenset[str] = frozenset()) -> bool:
    """Whether the store function writes, itself or through a store function it calls."""
    if name not in functions or name in seen:
        return False
    writes, called = functions[name]
    return writes or any(_writes(other, functions, seen | {name}) for other in called)


def _store_names_the_dashboard_uses() -> set[str]:
    names: set[str] = set()
    for path in (PROJECT_DIR / "dashboard").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "store":
                names.add(node.attr)
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tracker.store"):
                names.update(alias.name for alias in node.names)
    return names


def test_the_dashboard_writes_through_one_store_function(seeded) -> None:
    functions = _store_functions()
    used = _store_names_the_dashboard_uses()
    assert {"write_review", "reading", "load_stance_frame"} <= used
    assert _writes("save_reviews", functions) and not _writes("load_stance_frame", functions)
    # `reading` reaches `connect`, which may migrate a store, but opens it read-only: SQLite refuses any write.
    with store.reading(seeded) as connection, pytest.raises(sqlite3.OperationalError, match="readonly"):
        connection.execute("DELETE FROM reviews")
    assert {name for name in used if _writes(name, functions)} - {"reading"} == {"write_review"}


def test_the_citations_download_carries_the_reviewed_stance_as_tracker_export_does(seeded) -> None:
    from click.testing import CliRunner

    from dashboard import loaders
    from tracker.cli import cli
    from tracker.outputs import export
    from tracker.outputs.selection import Selection

    for stance, reviewer, at in (("supports", "ana", "2026-12-01T09:00:00+00:00"),
                                 ("mixed", "=bo", "2026-12-02T09:00:00+00:00")):
        store.write_review(seeded, Review(PAIRED.pmid, "serotonin", stance, reviewer, at), CAUSES)
    hypothesis_ids = tuple(h.id for h in SHIPPED)
    state = loaders.read_store_state(seeded, hypothesis_ids)
    chosen = loaders.article_filter(state, Selection(), hypothesis_ids)
    # What the download button builds on click.
    downloaded = export.csv_bytes(loaders.selected_batches(state, chosen, export.detail_columns("csv")),
                                  cause_ids=CAUSES)
    exported = CliRunner().invoke(cli, ["export", "--db", str(seeded)])
    assert exported.exit_code == 0 and downloaded == exported.stdout_bytes
    rows = list(csv.DictReader(io.StringIO(downloaded.decode("utf-8"), newline="")))
    [row] = [row for row in rows if row["pmid"] == str(PAIRED.pmid)]
    assert [row[f"{name}_serotonin"] for name in ("stance", "reviewed", "reviewer", "machine_stance",
                                                  "review_disputed")] == ["mixed", "true", "'=bo", "contradicts",
                                                                          "true"]


def test_a_reload_keeps_the_reviewers_name_through_the_pages_address(monkeypatch, seeded) -> None:
    name = "ana <b>x</b> :red[y]"
    app = _app(monkeypatch, seeded, "Review")
    app.text_input(key="reviewer_input_page").input(name)
    _button(app, "Start reviewing").click().run()
    assert app.query_params.get("reviewer") == name
    # Another page of the same session keeps it in the address.
    app.sidebar.radio(key="page").set_value("Overview").run()
    assert app.query_params.get("reviewer") == name

    # A reload: a new session on the same address. No name asked; the name shown escaped, and reviews carry it.
    reloaded = _app(monkeypatch, seeded, query={"page": "Review", "reviewer": app.query_params["reviewer"]})
    assert not any(widget.key == "reviewer_input_page" for widget in reloaded.text_input)
    shown = next(c.value for c in reloaded.caption if c.value.startswith("Reviewing as"))
    assert shown == f"Reviewing as {markup.escape_text(name)}."
    pmid = int(re.search(r"PubMed (\d+)", next(m.value for m in reloaded.markdown
                                                 if m.value.startswith("<h4>"))).group(1))
    reloaded.button(key=next(button.key for button in reloaded.button
                             if button.key and button.key.startswith("queue_accept_"))).click().run()
    assert [(row[0], row[3]) for row in _reviews(seeded)] == [(pmid, name)]

    # "Change name" forgets it, in the session and the address.
    reloaded.button(key="reviewer_change_page").click().run()
    assert "reviewer" not in reloaded.query_params
    assert any(widget.key == "reviewer_input_page" for widget in reloaded.text_input)


def test_a_name_in_the_address_is_checked_and_the_environments_name_wins(monkeypatch, seeded) -> None:
    app = _app(monkeypatch, seeded, query={"page": "Review", "reviewer": "x" * 81})
    assert [w.value for w in app.warning] == ["This page's address: " + markup.escape_markdown(
        "reviewer: the reviewer name is 81 characters long; shorten it to at most 80")]
    assert "reviewer" not in app.query_params
    assert any(widget.key == "reviewer_input_page" for widget in app.text_input)

    app = _app(monkeypatch, seeded, reviewer="bo", query={"page": "Review", "reviewer": "ana"})
    assert not any(widget.key == "reviewer_input_page" for widget in app.text_input)
    app.button(key=next(button.key for button in app.button
                        if button.key and button.key.startswith("queue_accept_"))).click().run()
    assert [row[3] for row in _reviews(seeded)] == ["bo"]


def _overview_findings(app: AppTest, cause_id: str) -> dict[str, object]:
    """The Overview's evidence table for one cause: its count per stance (each with its link) and how many of its
    findings a person reviewed."""
    table = evidence_table(app)
    row = re.search(rf"<tr>(?:(?!</tr>).)*cause={cause_id}\".*?</tr>", table).group(0)
    counts = {stance: (int(count), link.replace("&amp;", "&")) for link, stance, count in re.findall(
        r'<a href="(\?page=Citations[^"]*stances=(\w+)[^"]*)">(\d+)</a>', row)}
    return {"counts": counts, "reviewed": re.search(r"(\d+ of \d+) reviewed by a person", row).group(1)}


def test_a_review_moves_the_count_on_every_page(monkeypatch, seeded) -> None:
    def citations_count(link: str) -> int:
        query = dict(pair.split("=", 1) for pair in link[1:].split("&"))
        app = _app(monkeypatch, seeded, query={name: value.replace("%2C", ",") for name, value in query.items()})
        return int(next(metric.value for metric in app.metric if metric.label == "Matching articles").replace(",", ""))

    overview = _overview_findings(_app(monkeypatch, seeded), "serotonin")
    cause = _app(monkeypatch, seeded, "Cause")
    cause.sidebar.selectbox(key="cause").set_value("serotonin").run()
    before = {"overview": {stance: count for stance, (count, _) in overview["counts"].items()},
              "cause": _supporting_count(cause), "reviewed": overview["reviewed"]}
    assert before["overview"]["contradicts"] >= 1  # PAIRED, read as contradicting serotonin

    store.write_review(seeded, Review(PAIRED.pmid, "serotonin", "supports", "ana", "2026-12-01T09:00:00+00:00"),
                       CAUSES)
    overview = _overview_findings(_app(monkeypatch, seeded), "serotonin")
    assert {stance: count for stance, (count, _) in overview["counts"].items()} == {
        **before["overview"], "contradicts": before["overview"]["contradicts"] - 1,
        "supports": before["overview"]["supports"] + 1}
    reviewed, total = map(int, overview["reviewed"].split(" of "))
    assert (reviewed, f"0 of {total}") == (1, before["reviewed"])
    cause = _app(monkeypatch, seeded, "Cause")
    cause.sidebar.selectbox(key="cause").set_value("serotonin").run()
    assert _supporting_count(cause) == before["cause"] + 1
    # Each count opens exactly its articles on Citations, the reviewed one among them.
    for stance, (count, link) in overview["counts"].items():
        assert citations_count(link) == count, stance
    review = _app(monkeypatch, seeded, "Review", reviewer="bo")
    review.sidebar.selectbox(key="review_cause").set_value("serotonin").run()
    assert review.get("progress")[0].proto.text.startswith("1 of ")


def test_the_pages_links_keep_the_reviewers_name(monkeypatch, seeded) -> None:
    """Following a count's link opens a new session: the name must come with it, or it would be asked again."""
    name = "cy <b>&amp;</b>"
    app = _app(monkeypatch, seeded, query={"reviewer": name})
    table = evidence_table(app)
    links = re.findall(r'href="(\?page=[^"]*)"', table)
    assert links and all(link.replace("&amp;", "&").endswith("&reviewer=cy+%3Cb%3E%26amp%3B%3C%2Fb%3E")
                         for link in links), links[:3]
    # Without a name in the address, the links are as they were.
    app = _app(monkeypatch, seeded)
    table = evidence_table(app)
    assert "reviewer=" not in table
