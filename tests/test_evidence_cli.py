"""`tracker evidence`: one row per (article, cause) with its stance, over a store seeded with hand-written abstracts."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from support.seed import seed_store

from tracker import store
from tracker.cli import cli
from tracker.config import DEFAULT_HYPOTHESES_PATH, load_hypotheses
from tracker.outputs.export import EVIDENCE_COLUMNS
from tracker.models import AbstractSection, Article, MeshHeading

SHIPPED = load_hypotheses(DEFAULT_HYPOTHESES_PATH)
_HUMAN = (MeshHeading("Fibromyalgia"), MeshHeading("Humans"))

ARTICLES = [
    Article(
        pmid=30_000_001, title="Substance P and serotonin in fibromyalgia", pub_year=2020, mesh=_HUMAN,
        publication_types=("Journal Article", "Comparative Study"),
        abstract=(
            AbstractSection("We studied 74 women with fibromyalgia and 30 healthy controls.", "METHODS", "METHODS"),
            AbstractSection("CSF substance P was significantly higher in patients with fibromyalgia than in healthy "
                            "controls. Serum serotonin did not differ between the groups.", "RESULTS", "RESULTS"),
        ),
    ),
    Article(
        pmid=30_000_002, title="Sleep in fibromyalgia", pub_year=2018, mesh=_HUMAN,
        abstract=(AbstractSection(
            "Sleep complaints are common in fibromyalgia. We recorded polysomnography in 20 patients with "
            "fibromyalgia and 20 healthy controls. Slow-wave sleep may be reduced in fibromyalgia patients "
            "compared with controls."),),
    ),
    Article(
        pmid=30_000_003, title="=HYPERLINK(1) Elevated substance P in fibromyalgia", pub_year=2015, mesh=_HUMAN,
        abstract=(AbstractSection("Patients with fibromyalgia were examined. Blood was drawn."),),
    ),
]


@pytest.fixture
def seeded(db_path: Path) -> Path:
    seed_store(db_path, SHIPPED, ARTICLES)
    return db_path


def _run(db_path: Path, *arguments: str):
    return CliRunner().invoke(cli, ["evidence", "--db", str(db_path), *arguments])


def _csv(text: str) -> list[dict[str, str]]:
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == list(EVIDENCE_COLUMNS)
    return [dict(zip(rows[0], row)) for row in rows[1:]]


def _unreviewed(stance: str) -> dict[str, object]:
    """The evidence fields of a pair nobody reviewed: the machine's stance counts."""
    return {"stance": stance, "reviewed": False, "reviewer": None, "reviewed_at": None, "machine_stance": stance,
            "review_disputed": False}


def test_json_has_one_object_per_article_and_cause_in_the_export_order(seeded: Path) -> None:
    result = _run(seeded, "--format", "json")
    assert (result.exit_code, result.stderr) == (0, "")
    assert json.loads(result.stdout) == [
        {"pmid": 30_000_001, "hypothesis": "substance_p", "year": 2020, "design": "observational",
         "species": "human", **_unreviewed("supports"), "confidence": "high", "confidence_reason": None,
         "evidence_kind": "comparison", "hedged": False, "section": "RESULTS",
         "sentence": "CSF substance P was significantly higher in patients with fibromyalgia than in healthy controls.",
         "cue": "higher", "n_patients": 74, "n_controls": 30, "retracted": False},
        {"pmid": 30_000_001, "hypothesis": "serotonin", "year": 2020, "design": "observational",
         "species": "human", **_unreviewed("contradicts"), "confidence": "high", "confidence_reason": None,
         "evidence_kind": "comparison", "hedged": False,
         "section": "RESULTS", "sentence": "Serum serotonin did not differ between the groups.",
         "cue": "did not differ", "n_patients": 74, "n_controls": 30, "retracted": False},
        {"pmid": 30_000_002, "hypothesis": "sleep", "year": 2018, "design": "other", "species": "human",
         **_unreviewed("supports"), "confidence": "low",
         "confidence_reason": "hedged; unstructured abstract, a result by its place only",
         "evidence_kind": "comparison", "hedged": True, "section": None,
         "sentence": "Slow-wave sleep may be reduced in fibromyalgia patients compared with controls.",
         "cue": "reduced", "n_patients": 20, "n_controls": 20, "retracted": False},
        {"pmid": 30_000_003, "hypothesis": "substance_p", "year": 2015, "design": "other", "species": "human",
         **_unreviewed("supports"), "confidence": "low", "confidence_reason": "read from the title only",
         "evidence_kind": "other", "hedged": False, "section": "TITLE",
         "sentence": "=HYPERLINK(1) Elevated substance P in fibromyalgia", "cue": "Elevated",
         "n_patients": None, "n_controls": None, "retracted": False},
    ]


def test_csv_has_the_same_rows_with_formula_cells_neutralised(seeded: Path) -> None:
    rows = _csv(_run(seeded).stdout)
    assert [(row["pmid"], row["hypothesis"], row["stance"], row["hedged"]) for row in rows] == [
        ("30000001", "substance_p", "supports", "false"), ("30000001", "serotonin", "contradicts", "false"),
        ("30000002", "sleep", "supports", "true"), ("30000003", "substance_p", "supports", "false")]
    assert rows[3]["sentence"] == "'=HYPERLINK(1) Elevated substance P in fibromyalgia"
    assert (rows[2]["section"], rows[3]["n_patients"]) == ("", "")


@pytest.mark.parametrize(("arguments", "pairs"), [
    (["--stance", "contradicts"], [(30_000_001, "serotonin")]),
    (["--hypothesis", "substance_p"], [(30_000_001, "substance_p"), (30_000_003, "substance_p")]),
    (["--hypothesis", "substance_p", "--stance", "supports", "--from-year", "2016"], [(30_000_001, "substance_p")]),
    (["--stance", "supports", "--stance", "mixed", "--query", "sleep"], [(30_000_002, "sleep")]),
    (["--stance", "mixed"], []),
    # the kind of evidence and the hedging, per row as the stance
    (["--evidence-kind", "comparison", "--not-hedged"], [(30_000_001, "substance_p"), (30_000_001, "serotonin")]),
    (["--hedged"], [(30_000_002, "sleep")]),
    (["--evidence-kind", "intervention"], []),
])
def test_filters_keep_the_pairs_asked_for(seeded: Path, arguments: list[str], pairs: list[tuple[int, str]]) -> None:
    result = _run(seeded, "--format", "json", *arguments)
    assert result.exit_code == 0, result.stderr
    assert [(row["pmid"], row["hypothesis"]) for row in json.loads(result.stdout)] == pairs


def test_a_pair_not_read_yet_counts_as_no_finding(seeded: Path) -> None:
    connection = store.connect(seeded)
    with store.transaction(connection):
        connection.execute("DELETE FROM stances WHERE pmid = 30000002")
    connection.close()
    [row] = [row for row in json.loads(_run(seeded, "--format", "json").stdout) if row["pmid"] == 30_000_002]
    # Asking for no_finding rows finds it too, as every count counts it.
    assert json.loads(_run(seeded, "--format", "json", "--stance", "no_finding").stdout) == [row]
    assert row == {"pmid": 30_000_002, "hypothesis": "sleep", "year": 2018, "design": "other", "species": "human",
                   **_unreviewed("no_finding"), "confidence": None, "confidence_reason": None, "evidence_kind": None,
                   "hedged": None, "section": None, "sentence": None,
                   "cue": None, "n_patients": None, "n_controls": None, "retracted": False}


def test_output_file_is_written_whole_and_a_refused_run_leaves_it(seeded: Path, tmp_path: Path) -> None:
    output = tmp_path / "evidence.csv"
    result = _run(seeded, "-o", str(output))
    assert (result.exit_code, result.stderr) == (0, f"wrote 4 rows to {output} (csv)\n")
    written = output.read_bytes()
    assert written.startswith(b"pmid,hypothesis,year,")
    refused = _run(seeded, "-o", str(output), "--stance", "agrees")
    assert refused.exit_code == 2
    assert refused.stderr.splitlines()[-1] == ("Error: Invalid value for '--stance': 'agrees' is not a stance; "
                                               "choose from supports, contradicts, mixed, no_finding")
    assert output.read_bytes() == written
    assert list(tmp_path.glob(".evidence.csv.*")) == []


def test_the_baseline_is_not_a_cause(seeded: Path) -> None:
    result = _run(seeded, "--hypothesis", "fibromyalgia")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1].startswith(
        "Error: Invalid value for '--hypothesis': 'fibromyalgia' is not a cause; choose from substance_p, serotonin,")


def test_imported_abstracts_get_their_stance(db_path: Path) -> None:
    fixture = Path(__file__).parent / "fixtures" / "medline_stance.txt"
    imported = CliRunner().invoke(cli, ["import", "--db", str(db_path), str(fixture)])
    assert imported.exit_code == 0, imported.stderr
    rows = json.loads(_run(db_path, "--format", "json").stdout)
    assert [(r["pmid"], r["hypothesis"], r["stance"], r["evidence_kind"], r["section"], r["cue"], r["n_patients"],
             r["n_controls"]) for r in rows] == [
        (39_100_004, "infection", "supports", "association", "RESULTS", "higher", None, None),
        (39_100_003, "autonomic", "supports", "comparison", "RESULTS", "lower", 52, 48),
        (39_100_001, "substance_p", "mixed", "comparison", "RESULTS\nRESULTS", "higher\ndid not differ", 74, 30),
        (39_100_002, "serotonin", "contradicts", "comparison", None, "did not differ", 40, 40),
    ]
    # Structured or not, the sentence is the abstract's own text.
    assert rows[3]["sentence"] == "Platelet serotonin did not differ between patients and controls."


@pytest.mark.parametrize(("evidence_format", "written"), [
    ("csv", ",".join(EVIDENCE_COLUMNS) + "\r\n"), ("json", "[]\n")])
def test_no_matching_row_says_so_and_still_writes_the_file(seeded: Path, tmp_path: Path, evidence_format: str,
                                                           written: str) -> None:
    output = tmp_path / f"none.{evidence_format}"
    result = _run(seeded, "--from-year", "2100", "--format", evidence_format, "-o", str(output))
    kind = "only the CSV header row" if evidence_format == "csv" else "an empty JSON list"
    assert (result.exit_code, result.stderr) == (0, f"tracker: no row matched the filters; wrote {kind} to {output}\n")
    assert output.read_bytes().decode("utf-8") == written


@pytest.mark.parametrize(("arguments", "pmids"), [
    (["--hedged"], [30_000_002]),
    (["--evidence-kind", "comparison", "--not-hedged"], [30_000_001]),
    (["--evidence-kind", "review"], []),
])
def test_export_filters_by_kind_of_evidence_and_hedging(seeded: Path, arguments: list[str], pmids: list[int]) -> None:
    result = CliRunner().invoke(cli, ["export", "--db", str(seeded), *arguments])
    assert result.exit_code == 0, result.output
    assert [int(row["pmid"]) for row in csv.DictReader(io.StringIO(result.stdout))] == pmids


def test_the_confidence_option_keeps_the_rows_read_with_it(seeded: Path) -> None:
    every = json.loads(_run(seeded, "--format", "json").stdout)
    for confidence in ("high", "low"):
        result = _run(seeded, "--format", "json", "--confidence", confidence)
        assert result.exit_code == 0, result.stderr
        assert json.loads(result.stdout) == [row for row in every if row["confidence"] == confidence]
