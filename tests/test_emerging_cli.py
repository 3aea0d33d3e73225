"""`tracker emerging` through click's runner on a seeded store: the table, the JSON contract, --toml, bad usage."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from support.planted import LAST_YEAR, ONSET, PER_YEAR
from support.seed import read_catalogue

from tracker import store
from tracker.analysis import emerging
from tracker.cli import cli
from tracker.config import DEFAULT_HYPOTHESES_PATH, load_hypotheses, load_settings

JSON_KEYS = ["rank", "term", "also_named", "kind", "articles", "rate_ratio", "q_value", "burst_years", "trend",
             "first_flagged_year", "example_pmids", "emerging"]


def run(*arguments: str) -> object:
    return CliRunner().invoke(cli, ["emerging", *arguments])


def test_json_is_the_ranked_list_with_the_documented_keys(planted_db: Path) -> None:
    result = run("--db", str(planted_db), "--json", "--min-articles", "5")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [list(row) for row in rows] == [JSON_KEYS] * len(rows)
    assert [row["rank"] for row in rows] == list(range(1, len(rows) + 1))
    first = rows[0]
    assert first["term"] == "trelaxin receptor" and first["emerging"] is True
    assert first["kind"] == "keyword+phrase"
    assert first["articles"] == sum(1 for year in range(ONSET, LAST_YEAR + 1) for number in range(PER_YEAR)
                                    if number % 3 == 0)
    assert first["burst_years"] == list(range(ONSET, LAST_YEAR + 1)) and first["trend"] == "increasing"
    assert first["rate_ratio"] is None  # none in the 5 years before the last 3: no finite ratio
    assert 0 < first["q_value"] < 0.05 and ONSET <= first["first_flagged_year"] <= LAST_YEAR
    assert len(first["example_pmids"]) == 3 and first["example_pmids"] == sorted(first["example_pmids"], reverse=True)
    flat = next(row for row in rows if row["term"] == "aquatic therapy")
    assert flat["emerging"] is False and flat["rate_ratio"] == pytest.approx(1.0)
    assert not any(row["term"] in ("Humans", "Fibromyalgia") for row in rows)


def test_json_agrees_with_the_library_on_the_same_catalogue(planted_db: Path) -> None:
    settings = load_settings(db_path=planted_db, environ={})
    expected = emerging.find_emerging(read_catalogue(planted_db), settings.hypotheses, as_of=LAST_YEAR,
                                      current_year=LAST_YEAR + 1, method=emerging.Method(min_articles=5)).ranked
    rows = json.loads(run("--db", str(planted_db), "--json", "--min-articles", "5", "--top", "1000").stdout)
    assert [row["term"] for row in rows] == expected["term"].tolist()
    assert [row["articles"] for row in rows] == expected["articles"].tolist()


def test_the_store_reads_the_analysis_rows_in_batches_of_the_size_asked(planted_db: Path) -> None:
    with store.reading(planted_db) as connection:
        (whole,) = store.iter_emerging_batches(connection, "fibromyalgia", batch_size=1_000_000)  # one batch
        batches = list(store.iter_emerging_batches(connection, "fibromyalgia", batch_size=70))
        words_only = list(store.iter_emerging_batches(connection, "fibromyalgia", batch_size=70, names=False))
        none = list(store.iter_emerging_batches(connection, "no_such_cause"))
    assert len(whole) > 140 and [len(batch) for batch in batches[:-1]] == [70] * (len(batches) - 1)
    pd.testing.assert_frame_equal(pd.concat(batches, ignore_index=True), whole)
    pd.testing.assert_frame_equal(pd.concat(words_only, ignore_index=True),
                                  whole.drop(columns=["mesh", "keywords", "chemicals"]))
    assert [len(batch) for batch in none] == [0] and list(none[0].columns) == list(whole.columns)


def test_top_and_min_articles_limit_the_list(planted_db: Path) -> None:
    rows = json.loads(run("--db", str(planted_db), "--json", "--top", "1", "--min-articles", "5").stdout)
    assert len(rows) == 1
    strict = json.loads(run("--db", str(planted_db), "--json", "--min-articles", "200").stdout)
    assert strict == []


def test_as_of_ignores_the_articles_that_came_later(planted_db: Path) -> None:
    result = run("--db", str(planted_db), "--json", "--min-articles", "5", "--as-of", str(ONSET - 1))
    assert result.exit_code == 0, result.output
    assert "trelaxin receptor" not in {row["term"] for row in json.loads(result.stdout)}


def test_table_names_its_window_and_columns(planted_db: Path) -> None:
    result = run("--db", str(planted_db), "--min-articles", "5", "--top", "1")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"as of {LAST_YEAR}: ") and "emerging (the last 3 years against the 5 before)" in lines[0]
    assert lines[1].split() == ["rank", "term", "kind", "articles", "share", "recent", "vs", "before", "rate_ratio",
                                "q_value", "burst_years", "trend", "first_flagged", "example_pmids", "emerging"]
    assert lines[2].split()[:4] == ["1", "trelaxin", "receptor", "keyword+phrase"]
    assert f"{ONSET}-{LAST_YEAR}" in lines[2] and " new " in lines[2] and lines[2].rstrip().endswith("yes")
    assert len(lines) == 3  # --top 1 of the 2 candidates


def test_toml_prints_an_entry_that_loads_as_a_hypothesis(planted_db: Path, tmp_path: Path) -> None:
    result = run("--db", str(planted_db), "--min-articles", "5", "--toml", "Trelaxin receptors")
    assert result.exit_code == 0, result.output
    entry = tomllib.loads(result.stdout)["hypothesis"][0]
    assert list(entry) == ["id", "label", "description", "query", "terms"]
    assert entry["id"] == "trelaxin_receptor"
    assert '"trelaxin receptors"[Title/Abstract]' in entry["query"] and "trelaxin receptor" in entry["terms"]
    hypotheses_file = tmp_path / "hypotheses.toml"
    hypotheses_file.write_text(DEFAULT_HYPOTHESES_PATH.read_text(encoding="utf-8") + "\n" + result.stdout,
                               encoding="utf-8")
    added = load_hypotheses(hypotheses_file)[-1]
    assert (added.id, added.label, added.baseline) == ("trelaxin_receptor", "Trelaxin receptor", False)


@pytest.mark.parametrize(("arguments", "message"), [
    (["--top", "many"], "tracker: --top 'many' is not a whole number; give one of at least 1\n"),
    (["--top", "0"], "tracker: --top 0 is too small; give a whole number of at least 1\n"),
    (["--min-articles", "-3"], "tracker: --min-articles -3 is too small; give a whole number of at least 1\n"),
    (["--as-of", str(LAST_YEAR + 1)],
     f"tracker: --as-of: as-of year {LAST_YEAR + 1} is not complete yet; give {LAST_YEAR} or earlier\n"),
    (["--as-of", "last"], "tracker: --as-of 'last' is not a whole number; give one of at least 1\n"),
    (["--json", "--toml", "x"], "tracker: --json and --toml do not go together; drop one of them\n"),
    (["--toml", " "], 'tracker: --toml needs a term, such as --toml "small fiber pathology"\n'),
])
def test_bad_arguments_are_one_line_and_exit_2(planted_db: Path, arguments, message) -> None:
    result = run("--db", str(planted_db), *arguments)
    assert (result.exit_code, result.stderr, result.stdout) == (2, message, "")


def test_toml_of_a_configured_term_says_which_cause_covers_it(planted_db: Path) -> None:
    result = run("--db", str(planted_db), "--toml", "Humans")
    assert result.exit_code == 2
    assert result.stderr == ("tracker: --toml: 'Humans' is not a candidate: check tag or demographic: Humans (MeSH); "
                             "choose a term `tracker emerging` lists\n")


def test_a_missing_store_is_one_line_and_exit_1(tmp_path: Path) -> None:
    result = run("--db", str(tmp_path / "none.sqlite"))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"tracker: {tmp_path / 'none.sqlite'}: no store yet;")
    assert not (tmp_path / "none.sqlite").exists()
