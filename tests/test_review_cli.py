"""`tracker review` and what follows a review: set, undo, list, export and import (all or nothing, idempotent),
`tracker status`, and the evidence and article exports."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from support.reviewed import PAIRED, SEROTONIN_SENTENCE, SHIPPED, SLEEP, read_reviews
from support.seed import seed_store

from tracker import cli_options
from tracker import store
from tracker.analysis.reviews import REVIEW_FIELDS
from tracker.cli import cli

HEADER = ",".join(REVIEW_FIELDS)


@pytest.fixture
def seeded(db_path: Path) -> Path:
    seed_store(db_path, SHIPPED, [PAIRED, SLEEP])
    return db_path


def _run(db_path: Path, *arguments: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(cli, [*arguments, "--db", str(db_path)], env=env)


def _stored(db_path: Path) -> list[dict]:
    return read_reviews(db_path)[list(store.REVIEW_TABLE_COLUMNS[:7])].to_dict("records")


def _file(tmp_path: Path, *rows: str, name: str = "reviews.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def test_set_takes_the_reviewer_from_the_environment_and_the_time_from_the_clock(
        seeded: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli_options, "current_time", lambda: datetime(2026, 12, 1, 9, 30, 5, 123, timezone.utc))
    result = _run(seeded, "review", "set", str(PAIRED.pmid), "serotonin", "supports", "--note", "dose matters",
                  env={"TRACKER_REVIEWER": "ana"})
    assert (result.exit_code, result.output) == (0, "reviewed PMID 32000001 for serotonin: supports (by ana at "
                                                    "2026-12-01T09:30:05+00:00)\n")
    assert _stored(seeded) == [{"pmid": PAIRED.pmid, "hypothesis_id": "serotonin", "stance": "supports",
                                "reviewer": "ana", "reviewed_at": "2026-12-01T09:30:05+00:00", "sentence": "",
                                "note": "dose matters"}]
    result = _run(seeded, "review", "set", str(PAIRED.pmid), "serotonin", "mixed")
    assert (result.exit_code, result.output) == (1, "tracker: --reviewer: no reviewer name; give one with --reviewer "
                                                    "NAME or TRACKER_REVIEWER\n")
    assert _run(seeded, "review", "undo", str(PAIRED.pmid), "serotonin", "--reviewer", "ana").exit_code == 0
    assert _stored(seeded) == []


@pytest.mark.parametrize(("row", "message"), [
    ("99,serotonin,supports,ana,2026-12-01T09:00:00Z,,",
     "reviews.csv row 3: PMID 99 is not in the store; fetch or import the article first, or drop the row"),
    (f"{PAIRED.pmid},vitamin_d,supports,ana,2026-12-01T09:00:00Z,,",
     "reviews.csv row 3: unknown cause 'vitamin_d'; use one of substance_p, serotonin,"),
    (f"{PAIRED.pmid},serotonin,agrees,ana,2026-12-01T09:00:00Z,,",
     "reviews.csv row 3: stance 'agrees' is not one of supports, contradicts, mixed, no_finding; write one of them"),
    (f"{PAIRED.pmid},serotonin,supports,ana,2026-12-01T09:00:00Z,Serotonin was high.,",
     "reviews.csv row 3: the sentence is not in PMID 32000001's title or abstract; copy it from the abstract as it "
     "stands, or leave it empty"),
])
def test_an_import_with_a_wrong_row_names_it_and_writes_nothing(seeded: Path, tmp_path: Path, row: str,
                                                                 message: str) -> None:
    good = f"{SLEEP.pmid},sleep,no_finding,bo,2026-12-01T09:00:00Z,,fine"
    result = _run(seeded, "review", "import", str(_file(tmp_path, good, row)))
    assert result.exit_code == 1
    assert result.output.startswith(f"tracker: {message}")
    assert result.output.count("\n") == 1
    assert _stored(seeded) == []


def test_an_import_with_several_wrong_rows_names_every_one_in_one_line(seeded: Path, tmp_path: Path) -> None:
    good = f"{SLEEP.pmid},sleep,no_finding,bo,2026-12-01T09:00:00Z,,fine"
    unknown = f"{PAIRED.pmid},vitamin_d,supports,ana,2026-12-01T09:00:00Z,,"
    missing = "99,serotonin,supports,ana,2026-12-01T09:00:00Z,,"
    result = _run(seeded, "review", "import", str(_file(tmp_path, unknown, good, missing, missing.replace("99", "98"))))
    assert result.exit_code == 1
    assert result.output.startswith("tracker: reviews.csv row 2: unknown cause 'vitamin_d'; use one of ")
    assert result.output.endswith(" (and 2 more rows with problems: row 4, row 5)\n")
    assert result.output.count("\n") == 1
    assert _stored(seeded) == []
    # A file whose every row is wrong names the first ten others, then how many more.
    every_row_wrong = [missing.replace("99", str(pmid)) for pmid in range(80, 95)]
    result = _run(seeded, "review", "import", str(_file(tmp_path, *every_row_wrong)))
    assert result.output.endswith(" (and 14 more rows with problems: row 3, row 4, row 5, row 6, row 7, row 8, row 9, "
                                  "row 10, row 11, row 12 and 4 more)\n")


def test_import_is_idempotent_and_keeps_another_reviewers_conflicting_review(seeded: Path, tmp_path: Path) -> None:
    ana = f"{PAIRED.pmid},serotonin,supports,ana,2026-12-01T09:00:00Z,{SEROTONIN_SENTENCE},"
    bo = f"{PAIRED.pmid},serotonin,mixed,bo,2026-12-02T09:00:00+00:00,,\"I'd say, mixed\""
    path = _file(tmp_path, ana, bo)
    first = _run(seeded, "review", "import", str(path))
    assert (first.exit_code, first.output) == (0, f"{path}: 2 reviews: 2 new, 0 already stored\n")
    again = _run(seeded, "review", "import", str(path))
    assert (again.exit_code, again.output) == (0, f"{path}: 2 reviews: 0 new, 2 already stored\n")
    assert [row["reviewer"] for row in _stored(seeded)] == ["ana", "bo"]
    listed = _run(seeded, "review", "list")
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert [line.split()[:6] for line in lines[1:3]] == [
        ["32000001", "serotonin", "supports", "contradicts", "ana", "2026-12-01T09:00:00+00:00"],
        ["32000001", "serotonin", "mixed", "contradicts", "bo", "2026-12-02T09:00:00+00:00"]]
    assert "not counted (later review by bo), reviewers disagree" in lines[1]
    assert "counted, reviewers disagree" in lines[2]
    assert lines[3:] == ["serotonin: 0 of 1 reviewed pair kept the machine's stance (0%); changed: contradicts → "
                         "mixed 1"]
    changed = _file(tmp_path, ana.replace("supports", "no_finding"), name="edited.csv")
    refused = _run(seeded, "review", "import", str(changed))
    assert refused.output.startswith("tracker: edited.csv row 2: ana already has a review of PMID 32000001 for "
                                     "serotonin at 2026-12-01T09:00:00+00:00, with stance supports; give this one a "
                                     "later reviewed_at, or drop the row")


@pytest.mark.parametrize("review_format", ["csv", "jsonl"])
def test_an_export_imports_into_another_store_as_it_was(seeded: Path, tmp_path: Path, review_format: str) -> None:
    tricky = f"{SLEEP.pmid},sleep,no_finding,=cy,2026-12-01T09:00:00Z,,\"+1 \"\"quoted\"\", with comma\nand line\""
    plain = f"{PAIRED.pmid},serotonin,supports,ana,2026-12-02T09:00:00Z,{SEROTONIN_SENTENCE},"
    assert _run(seeded, "review", "import", str(_file(tmp_path, tricky, plain))).exit_code == 0
    exported = tmp_path / f"out.{review_format}"
    result = _run(seeded, "review", "export", "--format", review_format, "-o", str(exported))
    assert (result.exit_code, result.output) == (0, f"wrote 2 reviews to {exported} ({review_format})\n")
    if review_format == "csv":
        rows = list(csv.reader(io.StringIO(exported.read_text(encoding="utf-8"), newline="")))
        assert (rows[0], rows[1][3], rows[1][6][:2]) == (list(REVIEW_FIELDS), "'=cy", "'+")
    else:
        first = json.loads(exported.read_text(encoding="utf-8").splitlines()[0])
        assert (list(first), first["reviewer"]) == (list(REVIEW_FIELDS), "=cy")
    other = tmp_path / "other.sqlite"
    seed_store(other, SHIPPED, [PAIRED, SLEEP])
    assert _run(other, "review", "import", str(exported)).exit_code == 0
    assert _stored(other) == _stored(seeded)


def test_status_counts_parked_and_stale_reviews(seeded: Path, tmp_path: Path) -> None:
    path = _file(tmp_path, f"{PAIRED.pmid},serotonin,supports,ana,2026-12-01T09:00:00Z,,",
                 f"{SLEEP.pmid},sleep,no_finding,ana,2026-12-01T09:00:00Z,,")
    assert _run(seeded, "review", "import", str(path)).exit_code == 0
    connection = store.connect(seeded)
    with store.transaction(connection):
        store.delete_articles(connection, [SLEEP.pmid])
    connection.close()
    status = _run(seeded, "status")
    assert status.output.splitlines()[-1] == ("reviews: 2 reviewed pairs, 1 parked (article or cause absent: not "
                                              "counted until it is back), 0 with an abstract changed since review")
    assert json.loads(_run(seeded, "status", "--json").output)["reviews"] == {"reviewed_pairs": 2, "parked": 1,
                                                                            "stale": 0}


def test_evidence_and_the_article_export_carry_the_reviewed_stance(seeded: Path) -> None:
    def evidence(*arguments: str) -> list[dict]:
        return json.loads(_run(seeded, "evidence", "--format", "json", "--hypothesis", "serotonin",
                               *arguments).stdout)

    assert [row["stance"] for row in evidence()] == ["contradicts"]
    assert _run(seeded, "review", "set", str(PAIRED.pmid), "serotonin", "supports", "--reviewer", "ana",
                "--sentence", SEROTONIN_SENTENCE).exit_code == 0
    [row] = evidence()
    assert {key: row[key] for key in ("stance", "reviewed", "reviewer", "machine_stance", "sentence", "cue")} == {
        "stance": "supports", "reviewed": True, "reviewer": "ana", "machine_stance": "contradicts",
        "sentence": SEROTONIN_SENTENCE, "cue": "did not differ"}
    assert evidence("--stance", "contradicts") == []
    rows = list(csv.DictReader(io.StringIO(_run(seeded, "export").stdout, newline="")))
    assert [row["stance_serotonin"] for row in rows if row["pmid"] == str(PAIRED.pmid)] == ["supports"]


def test_every_export_follows_the_latest_of_two_disagreeing_reviews_and_says_it_is_disputed(seeded: Path,
                                                                                            tmp_path: Path) -> None:
    def exported(*arguments: str) -> str:
        result = _run(seeded, "export", "--hypothesis", "serotonin", *arguments)
        assert (result.exit_code, result.stderr) == (0, ""), result.output
        return result.stdout

    def serotonin_cells(text: str) -> dict[str, str]:
        [row] = [row for row in csv.DictReader(io.StringIO(text, newline="")) if row["pmid"] == str(PAIRED.pmid)]
        return {name: row[f"{name}_serotonin"] for name in ("stance", "reviewed", "reviewer", "reviewed_at",
                                                            "machine_stance", "review_disputed")}

    assert serotonin_cells(exported()) == {"stance": "contradicts", "reviewed": "false", "reviewer": "",
                                           "reviewed_at": "", "machine_stance": "contradicts",
                                           "review_disputed": "false"}
    path = _file(tmp_path, f"{PAIRED.pmid},serotonin,supports,ana,2026-12-01T09:00:00Z,,",
                 f"{PAIRED.pmid},serotonin,mixed,bo_k,2026-12-02T09:00:00Z,,")
    assert _run(seeded, "review", "import", str(path)).exit_code == 0

    # The latest review counts, in the cells and in what a stance filter keeps.
    assert serotonin_cells(exported()) == {"stance": "mixed", "reviewed": "true", "reviewer": "bo_k",
                                           "reviewed_at": "2026-12-02T09:00:00+00:00",
                                           "machine_stance": "contradicts", "review_disputed": "true"}
    kept = {stance: [row["pmid"] for row in json.loads(_run(seeded, "evidence", "--format", "json", "--stance",
                                                          stance, "--hypothesis", "serotonin").stdout)]
            for stance in ("mixed", "contradicts")}
    assert kept == {"mixed": [PAIRED.pmid], "contradicts": []}
    note = ("serotonin mixed (reviewed by bo_k on 2026-12-02T09:00:00+00:00, disputed by another reviewer; "
            "machine: contradicts)")
    assert f"N1  - Stance: substance_p supports; {note}\n" in exported("--format", "ris")
    assert f"Stance: substance\\_p supports; {note.replace('_', chr(92) + '_')}}}" in exported("--format", "bibtex")
    [row] = json.loads(_run(seeded, "evidence", "--format", "json", "--hypothesis", "serotonin").stdout)
    assert {key: row[key] for key in ("stance", "reviewed", "reviewer", "machine_stance", "review_disputed")} == {
        "stance": "mixed", "reviewed": True, "reviewer": "bo_k", "machine_stance": "contradicts",
        "review_disputed": True}
