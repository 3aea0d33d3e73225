"""Articles tagged per second by `tagging.tag_articles` at 20,000 and 200,000 synthetic articles.

The baseline, measured in the same run on a subset, is the naive way: a Python loop over the articles that
searches each term's pattern in each field. Prints the rates and their ratio; the target is 200,000 articles in
under 10 s. Run: .venv/bin/python bench/bench_tagging.py [--sizes 20000,200000] [--baseline-size 2000]
"""

from __future__ import annotations

import argparse
import re
import time

import numpy as np
import pandas as pd

from tracker.analysis import tagging
from tracker.config import DEFAULT_HYPOTHESES_PATH, load_hypotheses

_SENTENCES = np.array([
    "Women with fibromyalgia were compared with age-matched healthy controls recruited from the community.",
    "Pain intensity was rated on a visual analogue scale and tender points were counted by a blinded examiner.",
    "The Fibromyalgia Impact Questionnaire improved by 14 points in the intervention group after 12 weeks.",
    "Quality of life was assessed with the SF-36; depression and anxiety with the Hospital Anxiety and Depression Scale.",
    "Multivariable regression adjusted for age, body mass index, education and duration of symptoms.",
    "These findings support a multifactorial model of chronic widespread pain and call for larger studies.",
    "Cerebrospinal fluid substance P (SP) was threefold higher than in controls.",
    "Serum serotonin (5-HT) and its precursor tryptophan were lower, and SSRIs were associated with less pain.",
    "Polysomnography showed alpha-delta sleep, less slow-wave sleep and reduced somatomedin C (IGF-1).",
    "Heart-rate variability showed sympathetic predominance and tilt-table testing provoked orthostatic intolerance.",
    "Onset followed a whiplash injury in a motor vehicle accident in a third of the patients.",
    "Hepatitis C virus infection and post-COVID symptoms were more common than expected.",
    "Muscle biopsy showed mitochondrial changes and low ATP; phosphocreatine recovery was slower.",
    "Salivary cortisol and the HPA axis response to psychological stress were blunted.",
    "Temporal summation of pain (wind-up) was enhanced and conditioned pain modulation impaired.",
    "TNF-α and IL-1β were measured in plasma in São Paulo and Zürich.",
    "Clinicians expressed sympathy; Na+/K+-ATPase activity and the SP study protocol were not part of this work.",
], dtype=object)
_PUBLICATION_TYPES = [["Journal Article"], ["Journal Article", "Randomized Controlled Trial"], ["Review"],
                      ["Journal Article", "Systematic Review", "Meta-Analysis"], ["Case Reports"], ["Letter", "Comment"],
                      ["Journal Article", "Retracted Publication"]]
_MESH = [["Fibromyalgia", "Humans", "Female", "Middle Aged"], ["Fibromyalgia", "Animals", "Rats"],
         ["Fibromyalgia", "Humans", "Cohort Studies", "Sleep"], ["Substance P", "Humans", "Case-Control Studies"], []]


def make_frame(count: int, seed: int = 0) -> pd.DataFrame:
    """A synthetic articles frame: abstracts of about 1,250 characters, varied types, MeSH and keywords."""
    rng = np.random.default_rng(seed)
    # Like real fibromyalgia abstracts: mostly general sentences, one or two hypotheses, Greek letters in some.
    weights = np.array([0.7 / 6] * 6 + [0.25 / 9] * 9 + [0.02, 0.03])
    picks = rng.choice(len(_SENTENCES), size=(count, 12), p=weights / weights.sum())
    abstracts = [" ".join(row) for row in _SENTENCES[picks]]
    return pd.DataFrame({
        "pmid": np.arange(1, count + 1, dtype="int64"),
        "title": [f"Study {number} of fibromyalgia and central sensitization" for number in range(count)],
        "abstract": abstracts,
        "keywords": [["fibromyalgia", "chronic pain"]] * count,
        "mesh_terms": [_MESH[index] for index in rng.integers(0, len(_MESH), size=count)],
        "publication_types": [_PUBLICATION_TYPES[index] for index in rng.integers(0, len(_PUBLICATION_TYPES), size=count)],
        "corrections": [[]] * count,
        "query_hypotheses": [["fibromyalgia"]] * count,
    })


def naive_tag(frame: pd.DataFrame, rules: tagging.Rules) -> list[tuple[int, str, str, str]]:
    """The baseline: a Python loop per article, per field, per term."""
    found = []
    # The shipped "re:" terms, which tagging runs on RE2 only, compiled with Python's re for this baseline.
    patterns = [term.pattern or re.compile(term.expression, re.ASCII) for term in rules.terms]
    for row in frame.itertuples(index=False):
        fields = {"title": row.title.lower(), "abstract": row.abstract.lower(),
                  "keywords": "; ".join(row.keywords).lower(), "mesh": "; ".join(row.mesh_terms).lower()}
        for term, pattern in zip(rules.terms, patterns):
            for field, text in fields.items():
                if pattern.search(text):
                    found.append((row.pmid, term.hypothesis_id, term.text, field))
    return found


def main() -> None:
    """Time the vectorised tagger at each size and the naive loop on a subset; print rates and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="20000,200000")
    parser.add_argument("--baseline-size", type=int, default=2000)
    arguments = parser.parse_args()
    hypotheses = load_hypotheses(DEFAULT_HYPOTHESES_PATH)
    rules = tagging.compile_rules(hypotheses)

    subset = make_frame(arguments.baseline_size, seed=1)
    started = time.perf_counter()
    naive_tag(subset, rules)
    naive_s = time.perf_counter() - started
    naive_rate = len(subset) / naive_s
    print(f"naive loop     {len(subset):>8,} articles  {naive_s:7.2f} s  {naive_rate:>10,.0f} articles/s")

    for size in (int(text) for text in arguments.sizes.split(",")):
        frame = make_frame(size)
        characters = int(frame["abstract"].str.len().sum())
        started = time.perf_counter()
        result = tagging.tag_articles(frame, rules)
        elapsed_s = time.perf_counter() - started
        rate = size / elapsed_s
        print(f"tag_articles   {size:>8,} articles  {elapsed_s:7.2f} s  {rate:>10,.0f} articles/s  "
              f"x{rate / naive_rate:5.1f} vs naive  ({characters / size:,.0f} abstract chars/article, "
              f"{len(result.tags):,} tags)  target <10 s: {'met' if size < 200_000 or elapsed_s < 10 else 'MISSED'}")


if __name__ == "__main__":
    main()
