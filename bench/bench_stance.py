"""Measure the stance reader on the shared labelled data (read from ../shared/stance/, never copied here).

1. `finding_direction` on Evidence Inference sentences (difference vs no difference): macro-F1 over the
   sentences it covers, coverage, and macro-F1 counting an uncovered sentence as wrong.
2. The per-(article, cause) stance on the hand-labelled fibromyalgia pairs: accuracy and per-class precision
   and recall; texts from the rows that carry them, else from ../shared/fixtures/fibromyalgia/.
3. Reading speed: articles read per second, against tagging the same synthetic articles (bench_tagging's) in the
   same run.

Run: python bench/bench_stance.py [--errors] [--speed N]
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from collections import Counter
from pathlib import Path

import pandas as pd

from tracker import tagging
from tracker.analysis import stance
from tracker.config import DEFAULT_HYPOTHESES_PATH, load_hypotheses

PROJECT_DIR = Path(__file__).resolve().parent.parent
SHARED_DIR = PROJECT_DIR.parent / "shared"
SENTENCES_PATH = SHARED_DIR / "stance" / "evidence_inference_dev.jsonl"
PAIRS_PATH = SHARED_DIR / "stance" / "fm_dev.jsonl"
FIXTURES_DIR = SHARED_DIR / "fixtures" / "fibromyalgia"
# Publication types that make an article a review, for the design the stance reader is given.
_DESIGN_BY_TYPE = (("Meta-Analysis", "meta_analysis"), ("Systematic Review", "systematic_review"),
                   ("Scoping Review", "systematic_review"), ("Randomized Controlled Trial", "rct"),
                   ("Clinical Trial", "clinical_trial"), ("Review", "narrative_review"))


def _read_jsonl(path: Path) -> list[dict]:
    if not path.exists():
        sys.exit(f"bench_stance: {path} not found; the shared labelled data must sit in ../shared/stance/ "
                 f"next to the project ({PROJECT_DIR})")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _macro_f1(pairs: list[tuple[str, str]], labels: tuple[str, ...]) -> float:
    scores = []
    for label in labels:
        true_positive = sum(1 for gold, guess in pairs if gold == label and guess == label)
        predicted = sum(1 for _, guess in pairs if guess == label)
        actual = sum(1 for gold, _ in pairs if gold == label)
        precision = true_positive / predicted if predicted else 0.0
        recall = true_positive / actual if actual else 0.0
        scores.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    return sum(scores) / len(scores)


def bench_directions(show_errors: bool) -> None:
    rows = _read_jsonl(SENTENCES_PATH)
    judged = []
    for row in rows:
        direction = stance.finding_direction(row["text"])
        guess = None if direction is None else "no_difference" if direction == "no_difference" else "difference"
        judged.append((row["label"], guess, row["text"]))
    covered = [(gold, guess) for gold, guess, _ in judged if guess is not None]
    labels = ("difference", "no_difference")
    print(f"finding_direction on {SENTENCES_PATH.name}: {len(rows)} sentences "
          f"({Counter(r['label'] for r in rows)['difference']} difference, "
          f"{Counter(r['label'] for r in rows)['no_difference']} no_difference)")
    print(f"  coverage                               {len(covered) / len(rows):.3f}  (target >= 0.85)")
    print(f"  macro-F1 over covered sentences        {_macro_f1(covered, labels):.3f}  (target >= 0.90)")
    print(f"  macro-F1 counting uncovered as wrong   "
          f"{_macro_f1([(gold, guess or 'uncovered') for gold, guess, _ in judged], labels):.3f}")
    print(f"  accuracy over covered sentences        {sum(g == p for g, p in covered) / len(covered):.3f}")
    if show_errors:
        for gold, guess, text in judged:
            if guess != gold:
                print(f"    [{gold} -> {guess}] {text}")


def _fixture_articles() -> dict[str, dict]:
    articles = {}
    records = json.loads((FIXTURES_DIR / "affective-pain-fibromyalgia-filtered-extract.json").read_text())["records"]
    for record in records:
        articles[str(record["pmid"])] = {"title": record.get("title") or "",
                                         "abstract": record.get("abstract_plain") or "",
                                         "publication_types": record.get("publication_types") or []}
    with (FIXTURES_DIR / "fibromyalgia-microbiome-pubmed-search-results.csv").open(encoding="utf-8") as stream:
        for record in csv.DictReader(stream):
            pmid = str(record.get("pmid") or record.get("PMID") or "")
            if pmid:
                articles.setdefault(pmid, {"title": record.get("title") or record.get("Title") or "",
                                           "abstract": record.get("abstract") or record.get("Abstract") or "",
                                           "publication_types": []})
    return articles


def _design(publication_types: list[str]) -> str:
    for publication_type, design in _DESIGN_BY_TYPE:
        if publication_type in publication_types:
            return design
    return "other"


def bench_stances(show_errors: bool) -> None:
    pairs = _read_jsonl(PAIRS_PATH)
    if not FIXTURES_DIR.exists():
        sys.exit(f"bench_stance: {FIXTURES_DIR} not found; it holds the texts of the labelled pairs")
    fixtures = _fixture_articles()
    hypotheses = load_hypotheses(DEFAULT_HYPOTHESES_PATH)
    rules = tagging.compile_rules(hypotheses)
    stance_rules = stance.compile_stance_rules(hypotheses, rules)
    articles, tags, facets = [], [], []
    for pair in pairs:
        text = fixtures.get(str(pair["pmid"]), {})
        title = pair.get("title") or text.get("title", "")
        abstract = pair.get("abstract") or text.get("abstract", "")
        types = text.get("publication_types", [])
        articles.append({"pmid": int(pair["pmid"]), "title": title, "abstract": abstract,
                         "abstract_sections": stance.sections_from_text(abstract), "publication_types": types})
        facets.append({"pmid": int(pair["pmid"]), "design": _design(types)})
    articles_frame = pd.DataFrame(articles).drop_duplicates("pmid")
    # The abbreviations an abstract defines come from tagging, as in the store.
    tagged = tagging.tag_articles(articles_frame.assign(keywords=[[]] * len(articles_frame),
                                                        mesh_terms=[[]] * len(articles_frame)), rules).tags
    for pair in pairs:
        matched = tagged[(tagged["pmid"] == int(pair["pmid"])) & (tagged["hypothesis_id"] == pair["hypothesis"])]
        tags.append({"pmid": int(pair["pmid"]), "hypothesis_id": pair["hypothesis"],
                     "matched_terms": matched["matched_terms"].iloc[0] if len(matched) else []})
    read = stance.read_stances(articles_frame, pd.DataFrame(tags), pd.DataFrame(facets).drop_duplicates("pmid"),
                               stance_rules).set_index(["pmid", "hypothesis_id"])
    judged = []
    for pair in pairs:
        row = read.loc[(int(pair["pmid"]), pair["hypothesis"])]
        judged.append((pair, row))
    correct = sum(pair["stance"] == row["stance"] for pair, row in judged)
    print(f"stance on {PAIRS_PATH.name}: {len(pairs)} (article, cause) pairs, gold "
          f"{dict(Counter(p['stance'] for p in pairs))}")
    print(f"  accuracy                               {correct / len(judged):.3f}")
    for label in stance.STANCES:
        predicted = [pair for pair, row in judged if row["stance"] == label]
        actual = [pair for pair, _ in judged if pair["stance"] == label]
        hits = [pair for pair in predicted if pair["stance"] == label]
        precision = f"{len(hits) / len(predicted):.3f}" if predicted else "  n/a"
        recall = f"{len(hits) / len(actual):.3f}" if actual else "  n/a"
        target = "  (target >= 0.80)" if label in ("supports", "contradicts") else ""
        print(f"  {label:<12} precision {precision} ({len(hits)}/{len(predicted)})  recall {recall} "
              f"({len(hits)}/{len(actual)}){target}")
    kinds = sum(pair["evidence_kind"] == row["evidence_kind"] for pair, row in judged)
    hedges = [(pair, row) for pair, row in judged if pair["stance"] != "no_finding" and row["stance"] == pair["stance"]]
    print(f"  evidence_kind accuracy                 {kinds / len(judged):.3f}")
    if hedges:
        print(f"  hedged agreement on correct findings   "
              f"{sum(bool(p['hedged']) == bool(r['hedged']) for p, r in hedges) / len(hedges):.3f}")
    if show_errors:
        for pair, row in judged:
            if pair["stance"] != row["stance"] or pair["evidence_kind"] != row["evidence_kind"]:
                print(f"    {pair['pmid']} {pair['hypothesis']}: gold {pair['stance']}/{pair['evidence_kind']}, "
                      f"read {row['stance']}/{row['evidence_kind']} [{row['cue']}] {row['sentence']}")


def bench_speed(count: int) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_tagging import make_frame

    hypotheses = load_hypotheses(DEFAULT_HYPOTHESES_PATH)
    rules = tagging.compile_rules(hypotheses)
    stance_rules = stance.compile_stance_rules(hypotheses, rules)
    frame = make_frame(count)
    frame["abstract_sections"] = [[] for _ in range(count)]
    started = time.perf_counter()
    tagged = tagging.tag_articles(frame, rules)
    tagging_s = time.perf_counter() - started
    started = time.perf_counter()
    read = stance.read_stances(frame, tagged.tags, tagged.facets, stance_rules)
    reading_s = time.perf_counter() - started
    print(f"speed on {count:,} synthetic articles ({len(read):,} article-cause pairs):")
    print(f"  tagging {count / tagging_s:,.0f} articles/s, stance {count / reading_s:,.0f} articles/s: "
          f"reading stance costs {reading_s / tagging_s:.1f}x tagging")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors", action="store_true", help="List the sentences and pairs read wrongly.")
    parser.add_argument("--speed", type=int, default=5_000, metavar="N",
                        help="Synthetic articles for the speed figure (0 skips it).")
    arguments = parser.parse_args()
    bench_directions(arguments.errors)
    print()
    bench_stances(arguments.errors)
    if arguments.speed:
        print()
        bench_speed(arguments.speed)


if __name__ == "__main__":
    main()
