"""Stored tags: the catalogue, refresh_tags after new articles and rule edits, `tracker retag`, the seed helpers."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from click.testing import CliRunner
from support.seed import make_articles, read_catalogue, seed_store

from tracker import store
from tracker.analysis import tagging
from tracker.jobs import retag
from tracker.cli import cli
from tracker.config import DEFAULT_HYPOTHESES_PATH, load_hypotheses
from tracker.models import AbstractSection, Article, Author, Correction, MeshHeading
from tracker.outputs.selection import TEXT_COLUMNS

SHIPPED = load_hypotheses(DEFAULT_HYPOTHESES_PATH)

_ARTICLE = Article(
    pmid=31_000_001,
    title="SP in the cerebrospinal fluid of fibromyalgia patients",
    abstract=(AbstractSection("Substance P (SP) was measured in 30 women.", "METHODS", "METHODS"),
              AbstractSection("SP was threefold higher than in controls.", "RESULTS", "RESULTS")),
    journal="Pain", pub_year=1994, pub_month=3,
    authors=(Author(last_name="Russell", fore_name="I Jon", initials="IJ"),),
    publication_types=("Journal Article", "Comparative Study"),
    mesh=(MeshHeading("Fibromyalgia", major=True), MeshHeading("Humans"), MeshHeading("Case-Control Studies")),
    corrections=(Correction("ErratumIn", 31_000_999, "Pain. 1995;1:1"),),
)


def _write_hypotheses(tmp_path: Path, replace: dict[str, str]) -> Path:
    text = DEFAULT_HYPOTHESES_PATH.read_text(encoding="utf-8")
    for old, new in replace.items():
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / "hypotheses.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_catalogue_row_of_a_tagged_article(db_path: Path) -> None:
    seed_store(db_path, SHIPPED, [_ARTICLE], links={"substance_p": set()})
    row = store.decode_details(read_catalogue(db_path)).iloc[0].to_dict()
    assert {key: row[key] for key in ("pmid", "pub_year", "author_names", "mesh_terms", "sources", "hypotheses",
                                      "tag_sources", "matched_terms", *tagging.FACET_COLUMNS)} == {
        "pmid": 31_000_001, "pub_year": 1994, "author_names": "Russell IJ",
        "mesh_terms": ["Fibromyalgia", "Humans", "Case-Control Studies"], "sources": ["pubmed"],
        "hypotheses": ["fibromyalgia", "substance_p"],
        "tag_sources": {"fibromyalgia": "query+text", "substance_p": "text"},
        "matched_terms": {
            "fibromyalgia": [{"term": "fibromyalgia", "field": "title"}, {"term": "fibromyalgia", "field": "mesh"}],
            "substance_p": [{"term": "SP (substance P)", "field": "title"},
                            {"term": "substance P", "field": "abstract"},
                            {"term": "SP (substance P)", "field": "abstract"}],
        },
        "design": "case_control", "species": "human", "in_vitro": False, "retracted": False,
        "retraction_notice": False, "has_erratum": True, "expression_of_concern": False,
    }
    assert row["abstract"] == "METHODS: Substance P (SP) was measured in 30 women.\n\nRESULTS: SP was threefold higher than in controls."


def test_catalogue_columns_follow_the_contract(db_path: Path) -> None:
    seed_store(db_path, SHIPPED, make_articles(30))
    catalogue = read_catalogue(db_path)
    decoded = store.decode_details(catalogue)
    assert list(decoded.columns) == [
        "pmid", "kind", "title", "abstract", "abstract_sections", "author_names", "authors", "journal",
        "journal_iso", "volume", "issue", "pages", "pub_year", "pub_month", "pub_day", "pub_date_raw",
        "electronic_date", "entry_date", "doi", "pmcid", "languages", "publication_types", "mesh_terms", "mesh",
        "keywords", "corrections", "first_seen", "last_changed", "sources", "hypotheses", "tag_sources",
        "matched_terms", "design", "species", "in_vitro", "retracted", "retraction_notice", "has_erratum",
        "expression_of_concern", "comments", "grants", "coi_statement", "chemicals", "publication_status",
    ]
    # Until decoded, the detail columns hold the stored JSON as UTF-8 bytes, and mesh_terms is not there yet.
    assert list(catalogue.columns) == [column for column in decoded.columns if column != "mesh_terms"]
    assert all(isinstance(json_bytes, bytes) for column in store.DETAIL_COLUMNS if column != "mesh_terms"
               for json_bytes in catalogue[column])
    # Decoding only what a caller needs leaves the other detail columns as they were.
    only_terms = store.decode_details(catalogue, ["mesh_terms"])
    assert list(only_terms.columns) == list(decoded.columns)
    assert only_terms["mesh_terms"].tolist() == decoded["mesh_terms"].tolist()
    assert only_terms["mesh"].tolist() == catalogue["mesh"].tolist()
    with pytest.raises(ValueError, match="not a detail column: title"):
        store.decode_details(catalogue, ["title"])
    assert (str(catalogue["pmid"].dtype), str(catalogue["pub_year"].dtype)) == ("int64", "Int64")
    # Arrow strings where the text filter searches, so that it searches in C++.
    assert [str(catalogue[column].dtype) for column in TEXT_COLUMNS] == ["str"] * len(TEXT_COLUMNS)
    assert catalogue["pmid"].is_monotonic_increasing
    assert all(set(sources) <= {"query", "text", "query+text"} for sources in
               catalogue["tag_sources"].map(lambda by_id: set(by_id.values())))


def test_untagged_articles_show_query_links_and_neutral_facets(db_path: Path) -> None:
    connection = store.connect(db_path)
    with store.transaction(connection):
        store.save_articles(connection, [_ARTICLE], "import:russell.nbib", now="2026-01-01T00:00:00+00:00")
        store.link_hypothesis(connection, "substance_p", [_ARTICLE.pmid], "2026-01-01T00:00:00+00:00")
    connection.close()
    row = store.decode_details(read_catalogue(db_path)).iloc[0]
    assert (row["hypotheses"], row["tag_sources"], row["matched_terms"], row["design"], row["species"],
            row["retracted"]) == (["substance_p"], {"substance_p": "query"}, {"substance_p": []}, "other",
                                  "unknown", False)


def test_refresh_tags_tags_only_stale_and_given_articles(db_path: Path) -> None:
    seed_store(db_path, SHIPPED, make_articles(40))
    connection = store.connect(db_path)
    try:
        assert retag.refresh_tags(connection, SHIPPED) == 0
        assert retag.refresh_tags(connection, SHIPPED, [20_000_003, 20_000_005, 99]) == 2
        with store.transaction(connection):
            store.save_articles(connection, make_articles(3, seed=7), "pubmed")
        # joins the caller's open transaction instead of failing on a nested BEGIN
        with store.transaction(connection):
            assert retag.refresh_tags(connection, SHIPPED) == 3
        assert retag.refresh_tags(connection, SHIPPED, all_articles=True) == 43
        versions = {row[0] for row in connection.execute("SELECT DISTINCT rules_version FROM article_facets")}
    finally:
        connection.close()
    assert versions == {tagging.compile_rules(SHIPPED).version}


def test_rule_edit_makes_tags_stale_and_retag_changes_them(db_path: Path, tmp_path: Path) -> None:
    article = dataclasses.replace(_ARTICLE, abstract=(AbstractSection("Fatigue was rated on a visual analogue scale."),))
    seed_store(db_path, SHIPPED, [article], links={"substance_p": set()})
    assert read_catalogue(db_path).loc[0, "hypotheses"] == ["fibromyalgia"]

    edited_path = _write_hypotheses(tmp_path, {'terms = ["whiplash",': 'terms = ["visual analogue scale", "whiplash",'})
    edited = load_hypotheses(edited_path)
    assert tagging.compile_rules(edited).version != tagging.compile_rules(SHIPPED).version
    connection = store.connect(db_path)
    try:
        assert store.stale_tag_pmids(connection, tagging.compile_rules(edited).version).tolist() == [article.pmid]
        assert retag.refresh_tags(connection, edited) == 1
        assert store.stale_tag_pmids(connection, tagging.compile_rules(edited).version).tolist() == []
    finally:
        connection.close()
    row = store.decode_details(read_catalogue(db_path)).iloc[0]
    assert (row["hypotheses"], row["tag_sources"]["injury"], row["matched_terms"]["injury"]) == (
        ["fibromyalgia", "injury"], "text", [{"term": "visual analogue scale", "field": "abstract"}])


def test_deleted_articles_lose_their_tags(db_path: Path) -> None:
    seed_store(db_path, SHIPPED, make_articles(5))
    connection = store.connect(db_path)
    try:
        with store.transaction(connection):
            store.delete_articles(connection, [20_000_000])
        counts = [connection.execute(f"SELECT COUNT(*) FROM {table} WHERE pmid = 20000000").fetchone()[0]
                  for table in ("tags", "article_facets")]
    finally:
        connection.close()
    assert counts == [0, 0]


def test_retag_command_reports_count_and_rules_version(db_path: Path, tmp_path: Path) -> None:
    seed_store(db_path, SHIPPED, make_articles(12))
    edited_path = _write_hypotheses(tmp_path, {'"whiplash", "trauma",': '"whiplash",'})
    result = CliRunner().invoke(cli, ["retag", "--db", str(db_path), "--hypotheses", str(edited_path)])
    assert (result.exit_code, result.stdout) == (
        0, f"tagged 12 articles with rules {tagging.compile_rules(load_hypotheses(edited_path)).version} from {edited_path}\n")
    assert result.stderr == "tagging and reading the stances of 12 articles\ntagged 12/12\n"


@pytest.mark.parametrize(("replace", "message"), [
    ({'"whiplash", "trauma",': '"whiplash", "re:trauma(", '},
     '[injury] term "re:trauma(" is not a valid pattern'),
    ({'"whiplash", "trauma",': '"whiplash", "re:(?<!post)trauma",'},
     '[injury] term "re:(?<!post)trauma" is not a valid pattern for the matcher'),
])
def test_retag_command_refuses_bad_rules_in_one_line(db_path: Path, tmp_path: Path, replace: dict,
                                                     message: str) -> None:
    seed_store(db_path, SHIPPED, make_articles(3))
    path = _write_hypotheses(tmp_path, replace)
    result = CliRunner().invoke(cli, ["retag", "--db", str(db_path), "--hypotheses", str(path)])
    assert result.exit_code == 1
    assert result.output.startswith(f"tracker: {path}: {message}") and result.output.count("\n") == 1


def test_make_articles_is_varied_and_deterministic() -> None:
    articles = make_articles(400, seed=3)
    assert articles == make_articles(400, seed=3)
    assert len({article.pmid for article in articles}) == 400
    years = [article.pub_year for article in articles]
    assert None in years and min(y for y in years if y) >= 1985 and max(y for y in years if y) <= 2026
    assert any("Retracted Publication" in article.publication_types and
               any(c.ref_type == "RetractionIn" for c in article.corrections) for article in articles)
    assert any(not article.title.isascii() or not article.abstract_text.isascii() for article in articles)
    assert {"Humans", "Animals"} <= {heading.descriptor for article in articles for heading in article.mesh}


def test_seed_store_links_baseline_and_mentioned_hypotheses(db_path: Path) -> None:
    articles = make_articles(60)
    seed_store(db_path, SHIPPED, articles, links={"sleep": {articles[0].pmid}})
    with store.reading(db_path) as connection:
        linked = {h.id: store.linked_pmids(connection, h.id) for h in SHIPPED}
        runs = store.load_runs_frame(connection)
        status = store.load_status_frame(connection)
    catalogue = store.decode_details(read_catalogue(db_path), ["matched_terms"])
    mentions_serotonin = set(catalogue.loc[catalogue["matched_terms"].map(lambda m: bool(m.get("serotonin"))), "pmid"])
    assert linked["fibromyalgia"] == {article.pmid for article in articles}
    assert linked["sleep"] == {articles[0].pmid}
    assert linked["serotonin"] == mentions_serotonin and mentions_serotonin
    assert runs[["status", "full_sync"]].to_dict("records") == [{"status": "succeeded", "full_sync": 1}]
    assert sorted(status["hypothesis_id"]) == sorted(h.id for h in SHIPPED)


def test_store_and_tagging_agree_on_facet_columns() -> None:
    assert store.FACET_COLUMNS == tagging.FACET_COLUMNS


def test_retag_command_without_a_store_creates_nothing(db_path: Path) -> None:
    result = CliRunner().invoke(cli, ["retag", "--db", str(db_path)])
    assert (result.exit_code, result.output) == (
        1, f"tracker: {db_path}: no store yet; run `tracker fetch` (or `tracker import FILE`) first\n")
    assert list(db_path.parent.iterdir()) == []


def test_catalogue_reads_articles_and_tags_from_one_snapshot(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seed_store(db_path, SHIPPED, make_articles(20))
    expected = read_catalogue(db_path)
    read_grouped_tags = store.catalogue._read_grouped_tags

    def commit_between_the_reads(connection, configured, where=""):
        # A fetch or retag that commits after the articles were read must not show in the tags read next.
        writer = store.connect(db_path)
        with store.transaction(writer):
            for table in ("tags", "hypothesis_articles", "article_sources"):
                writer.execute(f"DELETE FROM {table}")
        writer.close()
        return read_grouped_tags(connection, configured, where)

    monkeypatch.setattr(store.catalogue, "_read_grouped_tags", commit_between_the_reads)
    during_a_write = read_catalogue(db_path)
    assert during_a_write[["hypotheses", "tag_sources", "sources", "matched_terms"]].equals(
        expected[["hypotheses", "tag_sources", "sources", "matched_terms"]])
    monkeypatch.undo()
    assert read_catalogue(db_path)["hypotheses"].map(len).sum() == 0


# --- stances, read with the tags --------------------------------------------------------------------------------

_SEROTONIN_HIGHER = Article(
    pmid=31_000_101, title="Serotonin in fibromyalgia", pub_year=2011,
    abstract=(AbstractSection("We studied 50 patients with fibromyalgia and 25 healthy controls.", "METHODS",
                              "METHODS"),
              AbstractSection("Serum serotonin was higher in patients with fibromyalgia than in healthy controls.",
                              "RESULTS", "RESULTS")),
    mesh=(MeshHeading("Fibromyalgia"), MeshHeading("Humans")),
)


def _stance_rows(db_path: Path) -> list[dict]:
    connection = store.connect(db_path)
    try:
        return [dict(row) for row in connection.execute(
            "SELECT pmid, hypothesis_id, stance, cue, n_patients, n_controls, confidence, confidence_reason, "
            "rules_version FROM stances ORDER BY 1, 2")]
    finally:
        connection.close()


def test_retag_reads_stance_again_after_an_edit_of_expect(db_path: Path, tmp_path: Path) -> None:
    seed_store(db_path, SHIPPED, [_SEROTONIN_HIGHER])
    [before] = _stance_rows(db_path)
    assert {key: before[key] for key in ("hypothesis_id", "stance", "cue", "n_patients", "n_controls")} == {
        "hypothesis_id": "serotonin", "stance": "contradicts", "cue": "higher", "n_patients": 50, "n_controls": 25}
    edited = _write_hypotheses(tmp_path, {'id = "serotonin"\nlabel = "Serotonin"\nexpect = "lower"':
                                          'id = "serotonin"\nlabel = "Serotonin"\nexpect = "higher"'})
    result = CliRunner().invoke(cli, ["retag", "--db", str(db_path), "--hypotheses", str(edited)])
    assert result.exit_code == 0, result.stderr
    [after] = _stance_rows(db_path)
    assert (after["stance"], after["cue"]) == ("supports", "higher")
    assert after["rules_version"] != before["rules_version"]


def test_refresh_tags_reads_stale_stances_without_being_asked(db_path: Path) -> None:
    seed_store(db_path, SHIPPED, [_SEROTONIN_HIGHER])
    edited = tuple(dataclasses.replace(h, expect="higher") if h.id == "serotonin" else h for h in SHIPPED)
    connection = store.connect(db_path)
    try:
        # The tag rules did not change; the stance rules did: the article is read again.
        assert retag.refresh_tags(connection, edited) == 1
        assert retag.refresh_tags(connection, edited) == 0
    finally:
        connection.close()
    assert [row["stance"] for row in _stance_rows(db_path)] == ["supports"]


def test_a_store_from_before_stances_migrates_and_gets_them(db_path: Path) -> None:
    # Build the store as the tracker wrote it before stances: schema 2, tagged by the current tag rules.
    import sqlite3

    from tracker.store.connection import _split_statements

    rules = tagging.compile_rules(SHIPPED)
    old = sqlite3.connect(db_path)
    for script in store.MIGRATIONS[:2]:
        for statement in _split_statements(script):
            old.execute(statement)
    old.execute("PRAGMA user_version = 2")
    old.execute("INSERT INTO articles (pmid, kind, title, abstract, abstract_sections, content_hash, first_seen, "
                "last_changed) VALUES (?, 'journal', ?, ?, ?, 'x', '2020-01-01T00:00:00+00:00', "
                "'2020-01-01T00:00:00+00:00')",
                (31_000_101, _SEROTONIN_HIGHER.title, _SEROTONIN_HIGHER.abstract_text,
                 '[{"text": "Serum serotonin was lower in patients with fibromyalgia than in healthy controls.", '
                 '"label": "RESULTS", "nlm_category": "RESULTS"}]'))
    old.execute("INSERT INTO tags VALUES (31000101, 'serotonin', 'text', '[]', ?)", (rules.version,))
    old.execute("INSERT INTO article_facets VALUES (31000101, 'other', 'unknown', 0, 0, 0, 0, 0, ?)",
                (rules.version,))
    old.commit()
    old.close()

    connection = store.connect(db_path)
    try:
        assert connection.execute("PRAGMA user_version").fetchone()[0] == store.SCHEMA_VERSION
        assert connection.execute("SELECT count(*) FROM stances").fetchone()[0] == 0
        # Tags are current, stances missing: the next fetch's or retag's refresh reads them.
        assert retag.refresh_tags(connection, rules) == 1
    finally:
        connection.close()
    assert [(row["hypothesis_id"], row["stance"]) for row in _stance_rows(db_path)] == [("serotonin", "supports")]


def test_retag_reads_again_every_stance_read_by_older_rules_and_gives_its_confidence(db_path: Path) -> None:
    seed_store(db_path, SHIPPED, [_SEROTONIN_HIGHER])
    [current] = _stance_rows(db_path)
    connection = store.connect(db_path)
    with store.transaction(connection):
        # As migration 7 leaves a store read by the rules before confidence was kept.
        connection.execute("UPDATE stances SET rules_version = 'older-rules', confidence = 'low', "
                           "confidence_reason = 'read before readings kept their confidence, run tracker retag'")
    connection.close()
    result = CliRunner().invoke(cli, ["retag", "--db", str(db_path)])
    assert result.exit_code == 0, result.stderr
    [after] = _stance_rows(db_path)
    assert (after["rules_version"], after["confidence"], after["confidence_reason"]) == (
        current["rules_version"], "high", None)
