"""Measure the sample-size reader on real fibromyalgia abstracts (read from ../shared/fixtures/fibromyalgia/,
never copied here): of the patient-against-control studies whose abstract states how many patients were studied,
how many the reader reads, and how many it reads right.

The labels below were made by reading each abstract: the number of people with fibromyalgia it states it
studied ("105 patients fulfilling the ACR criteria and 144 healthy controls" → 105). Abstracts whose patient
group mixes other conditions, or that compare several patient groups, are left out.

Run: python bench/bench_sizes.py [--errors]
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

from tracker.analysis.stance import sample_sizes

PROJECT_DIR = Path(__file__).resolve().parent.parent
FIXTURES_DIR = PROJECT_DIR.parent / "shared" / "fixtures" / "fibromyalgia"

# PMID → patients with fibromyalgia the abstract states, by hand.
PATIENTS = {
    "42821602": 32, "42822728": 29, "36802404": 16, "36639565": 51, "36535959": 54, "36369217": 38,
    "31670448": 92, "31664132": 20, "31569142": 26, "31556391": 15, "31058192": 31, "31648023": 19,
    "42045133": 25, "41990407": 43, "41518021": 33, "41480821": 31, "41389940": 43, "41250871": 31,
    "41243840": 46, "41106634": 52, "40952899": 46, "40556612": 77, "40452122": 32, "40394071": 20,
    "40285306": 85, "40242913": 23, "40131512": 62, "40009353": 41, "39622846": 38, "39522892": 33,
    "39468927": 22, "29952139": 27, "29721768": 21, "29624596": 14, "29480257": 40, "29474665": 20,
    "29426783": 11, "29391478": 18, "29210612": 15, "26520483": 56, "26497890": 12, "26486985": 25,
    "26375423": 30, "39456224": 17, "37866648": 25, "36149895": 25, "35587528": 42, "33882648": 54,
    "31219947": 77, "41775230": 18, "40589353": 75, "40700474": 43,
}


def fixture_abstracts() -> dict[str, str]:
    """PMID → abstract text of every record in the fixtures."""
    if not FIXTURES_DIR.exists():
        sys.exit(f"bench_sizes: {FIXTURES_DIR} not found; the shared fixtures must sit in ../shared/fixtures/ "
                 f"next to the project ({PROJECT_DIR})")
    abstracts = {}
    records = json.loads((FIXTURES_DIR / "affective-pain-fibromyalgia-filtered-extract.json").read_text())
    for record in records["records"]:
        abstracts[str(record["pmid"])] = record.get("abstract_plain") or ""
    for line in (FIXTURES_DIR / "llm-symposium-fibromyalgia-filtered-extract-2.jsonl").read_text().splitlines():
        if line.strip():
            record = json.loads(line)
            abstracts[str(record["pmid"])] = record.get("abstract") or ""
    with (FIXTURES_DIR / "fibromyalgia-microbiome-pubmed-search-results.csv").open(encoding="utf-8") as stream:
        for record in csv.DictReader(stream):
            abstracts[str(record["pmid"])] = record.get("abstract") or ""
    return abstracts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors", action="store_true", help="List every abstract read wrong or not at all.")
    options = parser.parse_args()
    abstracts = fixture_abstracts()
    read = right = 0
    for pmid, expected in PATIENTS.items():
        patients, _controls = sample_sizes(abstracts[pmid])
        read += patients is not None
        right += patients == expected
        if options.errors and patients != expected:
            print(f"  {pmid}: read {patients}, stated {expected}")
    total = len(PATIENTS)
    print(f"patient counts stated: {total}; read: {read} ({read / total:.0%}); read right: {right} "
          f"({right / total:.0%}); read wrong: {read - right}")


if __name__ == "__main__":
    main()
