"""Back-test and cost of `tracker.emerging` on a generated corpus with planted rising, flat, falling and spike terms.

The corpus: fibromyalgia articles from 1995 to 2025, growing from about 1 % to 6 % of the total a year, whose
titles and abstracts are generated sentences over a vocabulary of 20,000 made-up words (Zipf-distributed, so
there are many rare phrases to discard) and in which planted terms appear at a share of each year's articles
that follows their profile:
- rising: absent until its onset year, then growing to its peak share in four years and staying there;
- flat: the same share every year; falling: from a high share in 1995 down to a tenth of it by 2025;
- spike: a high share in one year only; covered: rising, but a configured cause's term (must be excluded).
Some mentions use British spelling, hyphens or plurals, and a third also carry the term as an author keyword.

Two rising ideas also carry a second name in most of their articles ("intestinal dysbiosis" beside "gut
microbiome"): the back-test counts the top-10 slots such a second name takes as a row of its own.

Back-test: the whole method is run as of each year from 2003 (the first with a full 8-year window) to 2025, each
time on the articles available by then, and prints per year the top-10 precision among flagged candidates
(a hit is a planted rising term), and at the end the recall of rising terms flagged within 3 years of onset, the
lead time from onset to first flag, any flat, falling or covered term ever flagged, and spikes flagged two years
after their spike. Targets: precision@10 >= 0.8, every rising term within 3 years, no flat or falling term,
no spike two years later.

Cost: `find_emerging` on 15,000 and 200,000 articles (targets < 10 s and < 60 s), with the ratio to a baseline
measured in the same run: a plain Python loop counting the same 1-4-word phrases per article with a Counter on
a subset, scaled per article.

With `--stores`, also `tracker emerging --json` on those store files (bench/generate_store.py makes them), each in
a fresh process: seconds and peak memory, against the smallest store's. The analysis reads the store 5,000
articles at a time, counting once per pass (six passes: tokens and names, phrases of two, three and four words, the
candidates' articles per year, the examples and ideas); the first pass keeps the first batches' words and names
between passes, up to 200 MB, and the later passes read again only the batches past those. So its memory is
bounded at any size and its time grows with the store. On generated stores (bench/generate_store.py, schema 11, a
shared 2-core machine under a load of about 2; "before": the analysis that counted phrases over the word stream of
every title and abstract at once, 20,000 articles a batch; "after": before the words were kept):

    articles     before (one run)              after (three runs following it; the third with the tests running)
    15,000         2.1 s,   315 MiB                2.7-3.2 s,  285-291 MiB
    200,000       10.8 s, 1,034 MiB                 21-37 s,   323-329 MiB
    1,000,000       45 s, 4,414 MiB               110-135 s,   356-357 MiB

Every `--json` output (all candidates) and every frame of the result (ranked, yearly, excluded) was the same
before and after at each size, and on this bench's own corpus at 15,000 and 200,000 articles in one frame and in
batches of 3,000. The cost above, on this bench's corpus in one frame (counted in slices of 5,000 rows), one run
of each in the same hour: 2.6 s and 29 s before, 4.0 s and 38 s after, at 15,000 and 200,000 articles.

Keeping the batches' words between passes (schema 12, the same stores, the version that read every batch again in
every pass alternating with this one, two runs each at 15,000 and 200,000 and one at a million, at a load average
of 1 to 3):

    articles     read again every pass       words kept up to 200 MB
    15,000        2.4-2.7 s,  289-300 MiB       1.5-1.7 s,  303 MiB
    200,000       18.0-18.2 s, 327-332 MiB      7.1-7.9 s,  449-456 MiB (the whole store kept: 50 words an article)
    1,000,000       89 s,     360 MiB             82 s,     615 MiB (the first batches kept, up to 200 MB)

the same `--json` (all candidates) each time, and the same ranked, yearly and excluded frames at 15,000 and
200,000, and on this bench's corpus (15,000 in one frame and in batches of 3,000, 200,000 in one frame: 2.8, 5.1
and 32 s before, 1.9, 1.5 and 20 s after, in one process each, its peak 1.7 GB both, the corpus' frame most of it).

    .venv/bin/python bench/bench_emerging.py                    # back-test at 15,000, cost at 15,000 and 200,000
    .venv/bin/python bench/bench_emerging.py --sizes 15000      # quicker
    .venv/bin/python bench/bench_emerging.py --skip-backtest --sizes --stores /tmp/tracker-bench/store-15000.sqlite
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from tracker.analysis import emerging  # noqa: E402
from tracker.config import DEFAULT_HYPOTHESES_PATH, load_hypotheses  # noqa: E402

FIRST_YEAR, LAST_YEAR, CURRENT_YEAR = 1995, 2025, 2026
FIRST_BACKTEST_YEAR = FIRST_YEAR + 8
COST_TARGETS_S = {15_000: 10.0, 200_000: 60.0}

# (surface forms: the first is the normalised key the method should report, profile, year, share)
RISING = [
    (("small fiber pathology", "small fibre pathology", "small-fibre pathologies"), 2008, 0.04),
    (("gut microbiome", "gut microbiomes", "Gut microbiome"), 2010, 0.03),
    (("glial activation", "glial activations"), 2012, 0.03),
    (("mast cell infiltration", "mast-cell infiltration"), 2014, 0.025),
    (("igg autoantibody", "IgG autoantibodies", "IgG-autoantibodies"), 2016, 0.03),
    (("kelvorin signaling", "kelvorin signalling"), 2018, 0.025),
    (("trelaxin receptor", "trelaxin receptors"), 2020, 0.03),
    (("dorsal root ganglion excitability", "dorsal-root ganglion excitability"), 2022, 0.035),
]
FLAT = [(("pressure algometry",), 0.02), (("aquatic exercise", "aquatic exercises"), 0.015),
        (("morvane level", "morvane levels"), 0.02), (("pain catastrophizing", "pain catastrophising"), 0.03)]
FALLING = [(("trigger point injection", "trigger point injections"), 0.04), (("tricyclic antidepressant",
            "tricyclic antidepressants"), 0.05), (("quelvin theory",), 0.03)]
SPIKES = [(("brovex outbreak",), 2010, 0.04), (("zantrel recall",), 2016, 0.04), (("pelmora trial",), 2021, 0.05)]
COVERED = [(("long covid", "long COVID"), 2020, 0.04)]
# Second names of a rising idea, written in most of its articles beside the first: "gut microbiome" articles
# also say "intestinal dysbiosis". One idea: the method should give it one row, not two top slots.
SECOND_NAMES = {"gut microbiome": ("intestinal dysbiosis", 0.8), "igg autoantibody": ("anti ganglioside", 0.8)}

_STOP = ("the", "of", "in", "and", "with", "was", "were", "for", "to", "a", "by", "on", "than", "from")
_TEMPLATES = (
    "The {0} {1} of {2} was {v} in {3} {4} with {5}.",
    "{0} {1} and {2} were {v} for {3} {4}.",
    "In {0} {1}, the {2} of {3} {4} was {v} by {5}.",
    "We {v} {0} {1} in {2} {3} from {4} {5}.",
    "{0} {1} {2} was {v} than {3} {4}.",
)
_VERBS = ("measured", "compared", "higher", "lower", "assessed", "reported", "reduced", "examined")


def _made_up_words(count: int, rng: np.random.Generator) -> np.ndarray:
    syllables = np.array(["ba", "ko", "ri", "tel", "mon", "sa", "vi", "dor", "qua", "len", "pri", "zo", "ca",
                          "fen", "lu", "mar", "no", "pel", "ste", "tro", "va", "xi", "gul", "hem"])
    lengths = rng.integers(2, 5, size=count)
    picks = rng.integers(0, len(syllables), size=(count, 4))
    words = {"".join(syllables[row[:length]]) for row, length in zip(picks, lengths)}
    return np.array(sorted(words))


def articles_per_year(total: int) -> dict[int, int]:
    """Fibromyalgia articles a year, growing as the real literature does, summing to about `total`."""
    years = np.arange(FIRST_YEAR, LAST_YEAR + 1)
    weights = np.exp((years - FIRST_YEAR) * 0.06)
    counts = np.maximum(1, np.round(weights / weights.sum() * total)).astype(int)
    return dict(zip(years.tolist(), counts.tolist()))


def planted_share(kind: str, parameters: tuple, year: int) -> float:
    """The share of `year`'s articles that mention a planted term of this kind."""
    if kind in ("rising", "covered"):
        onset, peak = parameters
        return 0.0 if year < onset else peak * min(1.0, (year - onset + 1) / 4)
    if kind == "flat":
        (share,) = parameters
        return share
    if kind == "falling":
        (share,) = parameters
        return share * (1 - 0.9 * (year - FIRST_YEAR) / (LAST_YEAR - FIRST_YEAR))
    spike_year, share = parameters
    return share if year == spike_year else 0.0


def planted_terms() -> list[tuple[str, tuple[str, ...], tuple]]:
    return ([("rising", forms, (onset, peak)) for forms, onset, peak in RISING]
            + [("flat", forms, (share,)) for forms, share in FLAT]
            + [("falling", forms, (share,)) for forms, share in FALLING]
            + [("spike", forms, (year, share)) for forms, year, share in SPIKES]
            + [("covered", forms, (onset, peak)) for forms, onset, peak in COVERED])


def make_catalogue(total: int, seed: int = 0) -> pd.DataFrame:
    """A catalogue frame shaped as `store.load_catalogue` returns it (JSON columns as bytes, Arrow strings)."""
    rng = np.random.default_rng(seed)
    vocabulary = _made_up_words(30_000, rng)[:20_000]
    zipf = 1.0 / np.arange(1, len(vocabulary) + 1)
    zipf /= zipf.sum()
    per_year = articles_per_year(total)
    years = np.repeat(list(per_year), list(per_year.values()))
    count = len(years)
    words = vocabulary[rng.choice(len(vocabulary), size=(count, 10 * 6), p=zipf)]
    templates = rng.integers(0, len(_TEMPLATES), size=(count, 10))
    verbs = rng.integers(0, len(_VERBS), size=(count, 10))
    abstracts = []
    for row in range(count):
        sentences = [_TEMPLATES[templates[row, k]].format(*words[row, 6 * k:6 * k + 6], v=_VERBS[verbs[row, k]])
                     for k in range(10)]
        abstracts.append(sentences)
    titles = [f"{words[row, 0].capitalize()} {words[row, 1]} in fibromyalgia: a study of {int(n)} patients"
              for row, n in zip(range(count), rng.integers(12, 400, size=count))]
    keywords: list[list[str]] = [["fibromyalgia"] for _ in range(count)]
    for kind, forms, parameters in planted_terms():
        for year in per_year:
            share = planted_share(kind, parameters, year)
            in_year = np.flatnonzero(years == year)
            chosen = in_year[rng.random(len(in_year)) < share]
            second = SECOND_NAMES.get(forms[0])
            for row in chosen:
                form = forms[rng.integers(0, len(forms))]
                sentence = rng.integers(0, 10)
                abstracts[row][sentence] = f"The {form} was {_VERBS[rng.integers(0, 8)]} in these patients."
                if second is not None and rng.random() < second[1]:
                    abstracts[row][(sentence + 1) % 10] = f"The {second[0]} was {_VERBS[rng.integers(0, 8)]} too."
                if rng.random() < 0.33:
                    keywords[row].append(form.capitalize())
    # Most articles enter PubMed in their publication year, some the year after, a few years later (old imports).
    lags = rng.choice([0, 0, 0, 0, 1, 1, 3], size=count)
    entry_years = np.minimum(years + lags, LAST_YEAR)
    mesh = [json.dumps([{"descriptor": name, "ui": "D000000", "major": False, "qualifiers": []}
                        for name in ("Fibromyalgia", "Humans", "Female", "Pain Measurement")]).encode()] * count
    return pd.DataFrame({
        "pmid": np.arange(10_000_000, 10_000_000 + count, dtype="int64"),
        "title": pd.array(titles, dtype="str"),
        "abstract": pd.array([" ".join(sentences) for sentences in abstracts], dtype="str"),
        "pub_year": pd.array(years, dtype="Int64"),
        "entry_date": [f"{year}-06-01" for year in entry_years],
        "keywords": pd.Series([json.dumps(items).encode() for items in keywords], dtype=object),
        "mesh": pd.Series(mesh, dtype=object),
        "hypotheses": pd.Series([["fibromyalgia"]] * count, dtype=object),
        "retracted": np.zeros(count, dtype=bool),
    })


def back_test(catalogue: pd.DataFrame, hypotheses) -> None:
    """Replay the method as of each year and print the figures the targets are about."""
    keys = {kind: {emerging.normalise_phrase(forms[0]): parameters for k, forms, parameters in planted_terms()
                   if k == kind} for kind in ("rising", "flat", "falling", "spike", "covered")}
    first_flags: dict[str, int] = {}
    flagged_by_year: dict[int, set[str]] = {}
    second_keys = {emerging.normalise_phrase(name) for name, _ in SECOND_NAMES.values()}
    second_slots = 0
    hits = slots = 0
    print(f"{'as of':>6} {'flagged':>8} {'top-10 hits':>12} {'precision@10':>13}  top of the list")
    for year in range(FIRST_BACKTEST_YEAR, LAST_YEAR + 1):
        result = emerging.find_emerging(catalogue, hypotheses, as_of=year, current_year=CURRENT_YEAR)
        flagged = result.ranked[result.ranked["emerging"]]
        # A row names its key and, where variants of one idea were merged into it, its other names too.
        names = [{key, *(emerging.normalise_phrase(term) for term in terms)}
                 for key, terms in zip(flagged["key"], flagged.get("idea_terms", [()] * len(flagged)))]
        flagged_by_year[year] = set().union(*names) if names else set()
        for row_names in names:
            for key in row_names:
                first_flags.setdefault(key, year)
        top = flagged.head(10)
        top_names = names[:10]
        year_hits = sum(any(key in keys["rising"] and keys["rising"][key][0] <= year for key in row_names)
                        for row_names in top_names)
        second = sum(any(key in second_keys for key in row_names) and not row_names & set(keys["rising"])
                     for row_names in top_names)
        second_slots += second
        hits += year_hits
        slots += len(top)
        precision = f"{year_hits / len(top):.2f}" if len(top) else "-"
        print(f"{year:>6} {len(flagged):>8} {year_hits:>12} {precision:>13}  {', '.join(top['key'].head(4))}")
    print(f"\ntop-10 slots taken by a second name of a rising idea (its own row, not merged): {second_slots}  "
          f"target 0: {'met' if not second_slots else 'MISSED'}")
    print(f"precision@10 over all years (hits / flagged slots in the top 10): {hits}/{slots} = "
          f"{hits / max(slots, 1):.2f}  target >= 0.8: {'met' if slots and hits / slots >= 0.8 else 'MISSED'}")
    leads = []
    for key, (onset, _) in keys["rising"].items():
        first = first_flags.get(key)
        lead = None if first is None else first - onset
        leads.append(lead)
        print(f"  rising {key!r:40} onset {onset}  first flagged {first or '-'}  lead {lead if lead is not None else '-'}")
    within = sum(lead is not None and lead <= 3 for lead in leads)
    print(f"recall of rising terms flagged within 3 years of onset: {within}/{len(leads)}  "
          f"target all: {'met' if within == len(leads) else 'MISSED'}; lead times {leads}, "
          f"median {np.median([lead for lead in leads if lead is not None]) if within else '-'}")
    for kind in ("flat", "falling", "covered"):
        ever = sorted(key for key in keys[kind] if key in first_flags)
        print(f"{kind} terms ever flagged: {len(ever)}/{len(keys[kind])} {ever}  target 0: "
              f"{'met' if not ever else 'MISSED'}")
    late = []
    for key, (spike_year, _) in keys["spike"].items():
        if spike_year + 2 <= LAST_YEAR:
            flagged_then = key in flagged_by_year.get(spike_year + 2, set())
            late.append(flagged_then)
            print(f"  spike {key!r:30} in {spike_year}: flagged as of {spike_year} "
                  f"{key in flagged_by_year.get(spike_year, set())}, as of {spike_year + 2} {flagged_then}")
    print(f"spikes still flagged two years later: {sum(late)}/{len(late)}  target 0: {'met' if not any(late) else 'MISSED'}")


_NAIVE_TOKEN = re.compile(r"[a-z0-9]+")


def naive_count(catalogue: pd.DataFrame) -> collections.Counter:
    """The baseline: a Python loop per article counting its distinct 1-4-word runs between stop words."""
    counter: collections.Counter = collections.Counter()
    for title, abstract in zip(catalogue["title"], catalogue["abstract"]):
        seen = set()
        for chunk in re.split(r"[.,;:()]", f"{title}. {abstract}".lower()):
            words = _NAIVE_TOKEN.findall(chunk)
            run: list[str] = []
            for word in [*words, ""]:
                if word and word not in emerging.STOP_WORDS:
                    run.append(word)
                    continue
                for length in range(1, 5):
                    for start in range(len(run) - length + 1):
                        seen.add(" ".join(run[start:start + length]))
                run = []
        counter.update(seen)
    return counter


def measure_cost(sizes: list[int], hypotheses) -> None:
    subset = make_catalogue(2_000, seed=1)
    started = time.perf_counter()
    naive_count(subset)
    naive_per_article_s = (time.perf_counter() - started) / len(subset)
    print(f"\nbaseline: naive per-article phrase counting {naive_per_article_s * 1e6:,.0f} µs/article "
          f"(on 2,000 articles; counting only, no statistics)")
    for size in sizes:
        catalogue = make_catalogue(size, seed=2)
        started = time.perf_counter()
        articles = emerging.baseline_articles(catalogue, hypotheses, LAST_YEAR)
        mentions = emerging.extract_mentions(articles, hypotheses)
        extracted_s = time.perf_counter() - started
        result = emerging.score_mentions(mentions, LAST_YEAR)
        elapsed_s = time.perf_counter() - started
        target_s = COST_TARGETS_S.get(size)
        naive_s = naive_per_article_s * size
        verdict = "-" if target_s is None else ("met" if elapsed_s < target_s else "MISSED")
        print(f"find_emerging {size:>8,} articles  {elapsed_s:7.2f} s (extraction {extracted_s:.2f} s, "
              f"scoring with {emerging.Method().replay_years} replayed years {elapsed_s - extracted_s:.2f} s)  "
              f"naive counting alone ~{naive_s:,.1f} s: x{naive_s / elapsed_s:.1f}  "
              f"{len(mentions.candidates):,} candidates, {len(result.ranked):,} tested  "
              f"target <{target_s} s: {verdict}")


SHARED_EFETCH_DIR = PROJECT_DIR.parent / "shared" / "fixtures" / "pubmed" / "efetch"


def measure_chunker(efetch_dir: Path) -> None:
    """On real PubMed records: the share of author keywords written in an article's own title or abstract that
    the chunker finds there as a noun phrase (normalised the same way), with every keyword counted once."""
    from tracker.errors import ParseError
    from tracker.models import Article
    from tracker.pubmed.parse import iter_pubmed_records

    records: dict[int, Article] = {}
    for path in sorted(efetch_dir.rglob("*.xml")):
        try:
            records.update({r.pmid: r for r in iter_pubmed_records(path.read_bytes()) if isinstance(r, Article)})
        except ParseError:
            continue
    articles = list(records.values())
    frame = pd.DataFrame({
        "pmid": [a.pmid for a in articles], "title": [a.title for a in articles],
        "abstract": [a.abstract_text for a in articles], "pub_year": [a.pub_year or 2000 for a in articles],
        "available_year": [a.pub_year or 2000 for a in articles],
        "keywords": pd.Series([list(a.keywords) for a in articles], dtype=object),
    })
    mentions = emerging.extract_mentions(frame, (), emerging.Method(min_articles=1))
    keys = mentions.candidates["key"].to_numpy(dtype=object)
    kinds = mentions.candidates["kind"].to_numpy(dtype=object)
    phrases_of: dict[int, set[str]] = collections.defaultdict(set)
    pairs = ((article, candidate) for articles, candidates in mentions.pair_batches()
             for article, candidate in zip(articles.tolist(), candidates.tolist()))
    for article, candidate in pairs:
        if "phrase" in kinds[candidate]:
            # Compared loosely (every word singular and American by rule): the corpus decides the spelling of
            # the phrases, and the keyword's own spelling is not attested the same way.
            phrases_of[article].add(emerging.loose_key(keys[candidate]))
    in_text = found = 0
    for position, article in enumerate(articles):
        text = " " + emerging.normalise_phrase(f"{article.title} {article.abstract_text}") + " "
        for keyword in article.keywords:
            key = emerging.normalise_phrase(keyword)
            if key and f" {key} " in text and len(key.split()) <= 4:
                in_text += 1
                found += emerging.loose_key(key) in phrases_of[position]
    print(f"\nchunker on {len(articles)} real PubMed records ({efetch_dir}): {found}/{in_text} = "
          f"{found / max(in_text, 1):.0%} of the author keywords (1-4 words) written in their own title or abstract "
          f"are found there as noun phrases (the rest hold a stop word, a number or a one-letter word, or end in "
          f"a modifier: \"head and neck cancer\", \"type 2 diabetes\", \"vitamin D\", \"clinical\")")


def measure_stores(paths: list[Path]) -> None:
    """`tracker emerging --json` on each store in a fresh process: seconds and peak memory (from /usr/bin/time)."""
    tracker = Path(sys.executable).with_name("tracker")
    print(f"\n`tracker emerging --json --as-of {LAST_YEAR}` on stores")
    print(f"  {'articles':>9} {'seconds':>8} {'peak MiB':>9} {'÷smallest':>9}")
    smallest = None
    for path in paths:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
            count = connection.execute("SELECT count(*) FROM articles").fetchone()[0]
        done = subprocess.run(["/usr/bin/time", "-f", "%e %M", str(tracker), "emerging", "--db", str(path), "--json",
                               "--as-of", str(LAST_YEAR)], capture_output=True, text=True, check=False)
        *lines, figures = done.stderr.strip().splitlines()
        if done.returncode != 0:
            sys.exit(f"bench_emerging: tracker emerging on {path} failed: {' '.join(lines)}")
        elapsed_s, peak_kib = float(figures.split()[0]), int(figures.split()[1])
        smallest = smallest or peak_kib
        print(f"  {count:>9} {elapsed_s:>8.1f} {peak_kib / 1024:>9.0f} {peak_kib / smallest:>9.2f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=sorted(COST_TARGETS_S))
    parser.add_argument("--stores", type=Path, nargs="*", default=[], help="store files to run `tracker emerging` on")
    parser.add_argument("--backtest-size", type=int, default=15_000)
    parser.add_argument("--skip-backtest", action="store_true")
    parser.add_argument("--efetch-dir", type=Path, default=SHARED_EFETCH_DIR,
                        help="PubMed XML files to measure the chunker on (skipped when missing)")
    arguments = parser.parse_args()
    if arguments.efetch_dir.is_dir():
        measure_chunker(arguments.efetch_dir)
    hypotheses = load_hypotheses(DEFAULT_HYPOTHESES_PATH)
    if not arguments.skip_backtest:
        print(f"back-test on {arguments.backtest_size:,} generated articles, {FIRST_YEAR}-{LAST_YEAR}")
        back_test(make_catalogue(arguments.backtest_size), hypotheses)
    measure_cost(arguments.sizes, hypotheses)
    if arguments.stores:
        measure_stores(arguments.stores)


if __name__ == "__main__":
    main()
