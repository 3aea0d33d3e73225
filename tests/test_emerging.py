"""tracker.analysis.emerging on the small corpora: candidates, normalisation, exclusions, statistics, as-of."""

from __future__ import annotations

import itertools
import json
import math
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pymannkendall
import pytest

from tracker.analysis import emerging, tagging
from tracker.analysis.emerging import ideas
from tracker.config import DEFAULT_HYPOTHESES_PATH, load_hypotheses
from tracker.errors import ConfigError

HYPOTHESES = load_hypotheses(DEFAULT_HYPOTHESES_PATH)
FILLER = ("Women with fibromyalgia were compared with healthy controls.",
          "Pain intensity was rated on a visual analogue scale.",
          "Tender points were counted by a blinded examiner.")


def catalogue_of(rows: list[dict]) -> pd.DataFrame:
    """A catalogue frame as `store.load_catalogue` gives it: JSON lists as bytes, texts as Arrow strings."""
    frame = pd.DataFrame({
        "pmid": np.array([row["pmid"] for row in rows], dtype="int64"),
        "title": pd.array([row.get("title", "A study") for row in rows], dtype="str"),
        "abstract": pd.array([row.get("abstract") for row in rows], dtype="str"),
        "pub_year": pd.array([row.get("year") for row in rows], dtype="Int64"),
        "entry_date": pd.Series([row.get("entry_date", f"{row['year']}-03-01" if row.get("year") else None)
                                 for row in rows], dtype=object),
        "keywords": pd.Series([json.dumps(row.get("keywords", [])).encode() for row in rows], dtype=object),
        "mesh": pd.Series([json.dumps([{"descriptor": name, "ui": "D000001", "major": False, "qualifiers": []}
                                       for name in row.get("mesh", ["Fibromyalgia", "Humans", "Female"])],
                                      separators=(",", ":")).encode() for row in rows], dtype=object),
        "hypotheses": pd.Series([row.get("hypotheses", ["fibromyalgia"]) for row in rows], dtype=object),
        "retracted": np.array([row.get("retracted", False) for row in rows], dtype=bool),
    })
    if any("chemicals" in row for row in rows):
        frame["chemicals"] = pd.Series([json.dumps(row.get("chemicals", [])).encode() for row in rows], dtype=object)
    return frame


def planted_corpus(first_year: int = 2008, last_year: int = 2025, per_year: int = 60,
                   onset: int = 2021) -> pd.DataFrame:
    """`per_year` baseline articles a year; "trelaxin receptor" in 30 % of them from `onset`, "aquatic therapy"
    in 20 % of every year's, "glutamate" in 20 % until 2014 and 2 % after; the rest filler."""
    rows = []
    pmid = 1_000_000
    for year in range(first_year, last_year + 1):
        for number in range(per_year):
            sentences = list(FILLER)
            if year >= onset and number % 10 < 3:
                sentences.append(("Trelaxin receptor density was higher.", "Trelaxin receptor binding was lower.",
                                  "The trelaxin receptor was expressed.")[number % 3])
            if number % 5 == 0:
                sentences.append("Aquatic therapy was offered to every patient.")
            glutamate = (year <= 2014 and number % 5 == 1) or (year > 2014 and number % 50 == 1)
            if glutamate:
                sentences.append("Glutamate was measured in the insula.")
            rows.append({"pmid": pmid, "year": year, "abstract": " ".join(sentences),
                         "title": f"Patients number {number} of the cohort",
                         "keywords": ["glutamate"] if glutamate else []})
            pmid += 1
    return catalogue_of(rows)


# --- normalisation -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("word", "attested", "expected"), [
    ("fibres", {"fibre", "fiber", "fibres"}, "fiber"),
    ("fibre", {"fiber"}, "fiber"),
    ("fibres", {"fiber"}, "fiber"),
    ("fibre", set(), "fibre"),                       # only rewritten where the corpus has the other spelling
    ("sensitisation", {"sensitization"}, "sensitization"),
    ("randomised", {"randomized"}, "randomized"),
    ("exercise", {"exercise"}, "exercise"),          # never "exercize": not attested
    ("diabetes", {"diabetes"}, "diabetes"),          # never "diabete"
    ("patients", {"patient"}, "patient"),
    ("autoantibodies", {"autoantibody"}, "autoantibody"),
    ("analyses", set(), "analysis"),                 # irregular plurals always
    ("mice", set(), "mouse"),
    ("haemoglobin", {"hemoglobin"}, "hemoglobin"),
    ("signalling", {"signaling"}, "signaling"),
    ("status", {"statu"}, "status"),                 # an invariant ending is never a plural
])
def test_canonical_word(word, attested, expected) -> None:
    assert emerging.canonical_word(word, frozenset(attested | {word})) == expected


def test_small_fibre_is_small_fiber_in_every_spelling() -> None:
    spellings = ["Small-fibre pathology", "small fiber pathologies", "SMALL FIBRE PATHOLOGY", "small fibres pathology"]
    rows = [{"pmid": number, "year": 2020, "abstract": f"{spelling} was seen in skin biopsies of the patients."}
            for number, spelling in enumerate(spellings, start=1)]
    mentions = emerging.extract_mentions(emerging.baseline_articles(catalogue_of(rows), HYPOTHESES, 2025),
                                         HYPOTHESES, emerging.Method(min_articles=2))
    candidates = mentions.candidates.set_index("key")
    assert candidates.at["small fiber pathology", "articles"] == 4
    assert set(candidates.at["small fiber pathology", "variants"]) >= {"small fiber pathology", "small fibre pathology"}
    assert "small fibre pathology" not in candidates.index
    # Inside the longer phrase only: left to it, not tested on its own.
    assert candidates.at["fiber pathology", "nested_in"] == "small fiber pathology"


def test_phrases_stop_at_stop_words_punctuation_and_modifiers() -> None:
    rows = [{"pmid": number, "year": 2020,
             "abstract": "Skin biopsy showed small fibre loss, and glial cells were activated (in the insula)."}
            for number in range(1, 4)]
    mentions = emerging.extract_mentions(emerging.baseline_articles(catalogue_of(rows), HYPOTHESES, 2025),
                                         HYPOTHESES, emerging.Method(min_articles=2))
    keys = set(mentions.candidates["key"])
    # One spelling only in this corpus, so none to merge with: "fibre" and "cells" stay as written.
    assert {"skin biopsy", "small fibre loss", "glial cells", "insula"} <= keys
    assert not {"small", "loss glial", "biopsy showed", "insula glial"} & keys  # a modifier alone; across breaks
    assert not any("showed" in key or " and " in key for key in keys)


# --- exclusions --------------------------------------------------------------------------------------------------

EXCLUSION_CASES = {
    "serotonin levels": "configured term: serotonin (serotonin)",           # contains a cause's term
    "fibromyalgia patients": "configured term: fibromyalgia (fibromyalgia)",  # the baseline's own term
    "accidental falls": "configured query: accident (injury)",              # the query's truncation stem
    "tilt": "configured query: tilt (autonomic)",                            # a bare query word
    "humans": "check tag or demographic: Humans (MeSH)",
    "middle aged": "check tag or demographic: Middle Aged (MeSH)",
    "controlled trial": "study design: Controlled Trial (design words)",  # "randomized" ends a phrase
    "present study": "generic academic phrase: present study (generic phrases)",
    "clinical trial as topic": "study design: Clinical Trials as Topic (design words)",
    "pain measurement": "study design: Pain Measurement (design words)",
}


def test_exclusions_name_the_rule_that_removed_each_candidate() -> None:
    abstract = ("Serotonin levels, accidental falls and tilt were studied in fibromyalgia patients; "
                "the present study is a randomized controlled trial. Glial activation was seen.")
    rows = [{"pmid": number, "year": 2020, "abstract": abstract,
             "mesh": ["Fibromyalgia", "Humans", "Middle Aged", "Clinical Trials as Topic", "Pain Measurement"]}
            for number in range(1, 4)]
    mentions = emerging.extract_mentions(emerging.baseline_articles(catalogue_of(rows), HYPOTHESES, 2025),
                                         HYPOTHESES, emerging.Method(min_articles=2))
    excluded = mentions.candidates.set_index("key")["excluded_by"]
    assert {key: excluded[key] for key in EXCLUSION_CASES} == EXCLUSION_CASES
    assert pd.isna(excluded["glial activation"])


def test_exclusion_table_is_data_with_every_configured_term() -> None:
    table = emerging.exclusion_table(HYPOTHESES)
    assert list(table.columns) == ["phrase", "match", "category", "source"]
    configured = table[table["category"] == "configured term"]
    assert len(configured) == sum(len(h.terms) for h in HYPOTHESES)
    assert set(table["match"]) == {"exact", "contains", "prefix", "suffix", "regex"}
    assert ("mitochondri", "prefix", "configured query", "muscle") in set(table.itertuples(index=False, name=None))


def test_mesh_keywords_and_chemicals_are_candidates_of_their_kind() -> None:
    rows = [{"pmid": number, "year": 2020, "abstract": "The gut microbiome differed from that of the controls.",
             "keywords": ["Gut microbiome"], "mesh": ["Fibromyalgia", "Gastrointestinal Microbiome"],
             "chemicals": [{"name": "Pregabalin", "registry_number": "55JG375S6M"}]}
            for number in range(1, 4)]
    mentions = emerging.extract_mentions(emerging.baseline_articles(catalogue_of(rows), HYPOTHESES, 2025),
                                         HYPOTHESES, emerging.Method(min_articles=2))
    candidates = mentions.candidates.set_index("key")
    assert candidates.loc["gut microbiome", ["kind", "articles"]].tolist() == ["keyword+phrase", 3]
    assert candidates.loc["gastrointestinal microbiome", ["term", "kind"]].tolist() == [
        "Gastrointestinal Microbiome", "mesh"]
    assert candidates.loc["pregabalin", ["term", "kind"]].tolist() == ["Pregabalin", "chemical"]


def test_without_a_chemicals_column_mesh_and_keywords_still_count() -> None:
    rows = [{"pmid": number, "year": 2020, "abstract": None, "keywords": ["Glial activation"]}
            for number in range(1, 4)]
    catalogue = catalogue_of(rows)
    assert "chemicals" not in catalogue
    mentions = emerging.extract_mentions(emerging.baseline_articles(catalogue, HYPOTHESES, 2025), HYPOTHESES,
                                         emerging.Method(min_articles=2))
    assert mentions.candidates.set_index("key").at["glial activation", "kind"] == "keyword"


def test_only_baseline_articles_that_are_not_retracted_count() -> None:
    rows = [{"pmid": 1, "year": 2020, "abstract": "Glial activation."},
            {"pmid": 2, "year": 2020, "abstract": "Glial activation.", "retracted": True},
            {"pmid": 3, "year": 2020, "abstract": "Glial activation.", "hypotheses": ["serotonin"]},
            {"pmid": 4, "year": None, "abstract": "Glial activation.", "entry_date": "2020-01-01"}]
    articles = emerging.baseline_articles(catalogue_of(rows), HYPOTHESES, 2025)
    assert articles["pmid"].tolist() == [1]


# --- statistics against hand-computed values ---------------------------------------------------------------------

def test_growth_test_rate_ratio_and_exact_p_value() -> None:
    # 12 of 300 recent articles against 4 of 500 before: (12/300) / (4/500) = 0.04 / 0.008 = 5.
    rate_ratio, p_value = emerging.growth_test(np.array([12, 0, 0]), np.array([4, 3, 0]), 300, 500)
    # Under no change each of the 16 mentions falls in the recent window with probability 300/800 = 0.375.
    by_hand = sum(math.comb(16, k) * 0.375 ** k * 0.625 ** (16 - k) for k in range(12, 17))
    assert rate_ratio[0] == pytest.approx(5.0)
    assert p_value[0] == pytest.approx(by_hand, rel=1e-12)
    assert by_hand == pytest.approx(0.0025994, abs=1e-7)
    assert rate_ratio[1] == 0.0 and p_value[1] == pytest.approx(1.0)
    assert math.isnan(rate_ratio[2]) and p_value[2] == 1.0


def test_q_values_are_benjamini_hochberg() -> None:
    # Sorted 0.01, 0.03, 0.04, 0.5 times 4/rank: 0.04, 0.06, 0.0533, 0.5; then the running minimum from the top.
    assert emerging.q_values(np.array([0.01, 0.04, 0.03, 0.5])) == pytest.approx([0.04, 0.16 / 3, 0.16 / 3, 0.5])
    assert emerging.q_values(np.array([])).size == 0


def test_kleinberg_burst_of_a_hand_computed_case() -> None:
    # 10 articles a year; 0, 4, 0 mentions. p0 = 4/30, p1 = 8/30. Costs (the binomial term is the same in both
    # states): year 2 costs -(4 ln(4/30) + 6 ln(26/30)) = 8.918 in state 0, -(4 ln(8/30) + 6 ln(22/30)) = 7.148 in
    # state 1, 1.770 less; the zero years cost 10 ln(30/26) = 1.431 and 10 ln(30/22) = 3.102, 1.671 more in state 1.
    # Entering state 1 costs gamma ln 3: with gamma 1 (1.099) the burst pays (1.770 > 1.099), with gamma 2 (2.197)
    # it does not; staying in state 1 for a zero year never pays (1.671 > 0).
    mentions, totals = np.array([[0, 4, 0]]), np.array([10, 10, 10])
    assert emerging.kleinberg_bursts(mentions, totals, 2.0, 1.0).tolist() == [[False, True, False]]
    assert emerging.kleinberg_bursts(mentions, totals, 2.0, 2.0).tolist() == [[False, False, False]]


def _brute_force_bursts(mentions: np.ndarray, totals: np.ndarray, scale: float, gamma: float) -> list[bool]:
    base = mentions.sum() / totals.sum()
    rates = (base, min(scale * base, 1.0))
    best = None
    for states in itertools.product((0, 1), repeat=len(mentions)):
        cost, previous = 0.0, 0
        for state, r, d in zip(states, mentions, totals):
            p = rates[state]
            if p in (0.0, 1.0) and 0 < r < d or (p == 0 and r) or (p == 1 and d - r):
                cost = math.inf
                break
            cost -= math.log(math.comb(int(d), int(r))) + (r * math.log(p) if r else 0) + \
                ((d - r) * math.log1p(-p) if d - r else 0)
            cost += gamma * math.log(len(mentions)) if state > previous else 0
            previous = state
        if best is None or cost < best[0] - 1e-9:
            best = (cost, states)
    return [bool(state) for state in best[1]]


def test_kleinberg_bursts_match_an_exhaustive_search() -> None:
    rng = np.random.default_rng(3)
    totals = rng.integers(20, 80, size=7)
    for _ in range(40):
        mentions = np.minimum(rng.poisson(rng.uniform(0.5, 6), size=7) * rng.integers(0, 3, size=7), totals)
        if mentions.sum() == 0:
            continue
        assert emerging.kleinberg_bursts(mentions[None, :], totals)[0].tolist() == \
            _brute_force_bursts(mentions, totals, 2.0, 1.0)


def test_mann_kendall_by_hand_and_against_pymannkendall() -> None:
    # 1..5: every pair rises, S = 10, var = 5*4*15/18, z = (10 - 1) / sqrt(var) = 2.205, p = 0.0275.
    s_statistic, z, p_value = emerging.mann_kendall(np.array([[1, 2, 3, 4, 5]]))
    assert (s_statistic[0], z[0], p_value[0]) == pytest.approx((10, 9 / math.sqrt(100 / 6), 0.027486), abs=1e-6)
    rng = np.random.default_rng(5)
    series = rng.integers(0, 4, size=(30, 8)) / 7.0  # many ties, as shares of rare terms have
    s_statistic, z, p_value = emerging.mann_kendall(series)
    for row, s_value, z_value, p_one in zip(series, s_statistic, z, p_value):
        reference = pymannkendall.original_test(row)
        assert (s_value, z_value, p_one) == pytest.approx((reference.s, reference.z, reference.p), abs=1e-9)


# --- the method end to end ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("batch_size", [1, 97, 400])
def test_batches_of_the_catalogue_rank_as_the_whole_frame(batch_size: int) -> None:
    catalogue = planted_corpus()
    method = emerging.Method(min_articles=5)
    whole = emerging.find_emerging(catalogue, HYPOTHESES, as_of=2025, current_year=2026, method=method)
    # Shuffled, so that batches differ in their tokens; an empty batch among them counts nothing.
    shuffled = catalogue.sample(frac=1, random_state=1).reset_index(drop=True)
    batches = [shuffled.iloc[start:start + batch_size] for start in range(0, len(shuffled), batch_size)]
    batched = emerging.find_emerging(iter([*batches[:2], shuffled.iloc[:0], *batches[2:]]), HYPOTHESES, as_of=2025,
                                     current_year=2026, method=method)
    assert bool(whole.ranked["emerging"].any())
    for got, expected in zip(batched[:3], whole[:3]):
        pd.testing.assert_frame_equal(got, expected)


def test_no_batch_at_all_ranks_nothing() -> None:
    result = emerging.find_emerging(iter([]), HYPOTHESES, as_of=2025, current_year=2026)
    assert result.ranked.empty and result.yearly.empty


def test_a_rising_term_is_emerging_and_flat_or_falling_ones_are_not() -> None:
    result = emerging.find_emerging(planted_corpus(), HYPOTHESES, as_of=2025, current_year=2026,
                                    method=emerging.Method(min_articles=5))
    ranked = result.ranked.set_index("key")
    rising = ranked.loc["trelaxin receptor"]
    assert bool(rising["emerging"]) and rising["rank"] == 1
    # 30 % in 2023-2025 against 2 of the 5 years before (2021, 2022): 0.3 / 0.12.
    assert rising["rate_ratio"] == pytest.approx(2.5) and rising["q_value"] < 1e-3
    assert rising["burst_years"] == (2021, 2022, 2023, 2024, 2025) and rising["trend"] == "increasing"
    assert rising["example_pmids"] == tuple(sorted(rising["example_pmids"], reverse=True))
    assert not ranked.loc["aquatic therapy", "emerging"] and not ranked.loc["glutamate", "emerging"]
    assert ranked.loc["glutamate", "rate_ratio"] == pytest.approx(1.0)  # 2 % in both windows
    # The q-values are BH over the p-values of every candidate tested, the variants merged into an idea's row
    # ("trelaxin receptor density") included: never below BH over the rows alone.
    assert ranked.loc["trelaxin receptor", "idea_terms"] == ("trelaxin receptor binding", "trelaxin receptor density")
    assert (result.ranked["q_value"].to_numpy() >= emerging.q_values(result.ranked["p_value"].to_numpy()) - 1e-12).all()
    assert list(result.ranked.columns) == list(emerging.RANKED_COLUMNS)
    assert result.ranked["rank"].tolist() == list(range(1, len(result.ranked) + 1))


def test_variants_of_one_idea_share_their_articles_and_a_ubiquitous_phrase_joins_nothing() -> None:
    # articles 0-9: "igg autoantibody" in 0-7 and "autoantibody" in 0-9 (a shared word, 8 of the smaller's 8);
    # "gut microbiota" in 10-19 and "microbiome" in 11-19 (no shared word, 9 of 9); "pain" in every article.
    keys = ["igg autoantibody", "gut microbiota", "autoantibody", "microbiome", "pain", "glial activation"]
    pairs = [(0, a) for a in range(8)] + [(1, a) for a in range(10, 20)] + [(2, a) for a in range(10)] + \
        [(3, a) for a in range(11, 20)] + [(4, a) for a in range(40)] + [(5, a) for a in (0, 1, 10, 11, 30, 31)]
    candidates, articles = (np.array(column) for column in zip(*pairs))
    leaders = ideas.idea_leaders(keys, ideas.co_mentions(candidates, articles, len(keys)), 40)
    assert leaders.tolist() == [0, 1, 0, 1, 4, 5]


def test_generic_words_and_clauses_do_not_rank_while_a_rising_idea_still_does() -> None:
    # From 2019 on, every other article also says "risk", "update", "wind-up" and "pain scores fell" (rising
    # as writing habits do), and "risk" is a MeSH heading of some; "trelaxin receptor" rises from 2021.
    # "Ketamine" rises too: one word, but named as a chemical, so a domain term.
    catalogue = planted_corpus()
    late = (catalogue["pub_year"] >= 2019).to_numpy() & (catalogue["pmid"] % 2 == 0).to_numpy()
    catalogue.loc[late, "abstract"] = catalogue.loc[late, "abstract"] + (
        " The risk was low. An update on wind-up. Pain scores fell after treatment.")
    catalogue.loc[late, "mesh"] = [
        b'[{"descriptor":"Risk","ui":"D012306","major":false,"qualifiers":[]}]'] * int(late.sum())
    ketamine = (catalogue["pub_year"] >= 2021).to_numpy() & (catalogue["pmid"] % 4 == 1).to_numpy()
    catalogue.loc[ketamine, "abstract"] = catalogue.loc[ketamine, "abstract"] + " Ketamine was infused."
    catalogue["chemicals"] = [b'[{"name":"Ketamine"}]' if flag else b"[]" for flag in ketamine]
    result = emerging.find_emerging(catalogue, HYPOTHESES, as_of=2025, current_year=2026,
                                    method=emerging.Method(min_articles=5))
    flagged = set(result.ranked.loc[result.ranked["emerging"], "key"])
    assert {"trelaxin receptor", "ketamine"} <= flagged
    generic = {"risk", "update", "wind", "pain scores", "pain scores fell", "scores fell", "fell"}
    assert not generic & set(result.ranked["key"])
    reasons = result.excluded.set_index("key")["excluded_by"]
    assert reasons["risk"] == reasons["update"] == reasons["wind"] == (
        "plain word: one word that fewer than 5 articles name as a chemical or author keyword")
    assert reasons["pain scores"] == "generic academic phrase: pain scores (every word a generic one)"


def test_first_flagged_year_is_the_first_as_of_year_that_flags_it() -> None:
    catalogue = planted_corpus()
    method = emerging.Method(min_articles=5)
    result = emerging.find_emerging(catalogue, HYPOTHESES, as_of=2025, current_year=2026, method=method)
    first = result.ranked.set_index("key").at["trelaxin receptor", "first_flagged_year"]
    flags = {year: bool(emerging.find_emerging(catalogue, HYPOTHESES, as_of=year, current_year=2026, method=method)
                        .ranked.set_index("key")["emerging"].get("trelaxin receptor", False))
             for year in range(2020, 2026)}
    assert first == min(year for year, flagged in flags.items() if flagged)
    assert 2021 <= first <= 2023 and not flags[2020]


def test_as_of_ignores_articles_that_entered_pubmed_later() -> None:
    catalogue = planted_corpus(last_year=2019)
    late = planted_corpus(first_year=2020, last_year=2022, onset=2020)
    # Articles of 2019 and earlier that entered PubMed only in 2021, and ones with no entry date from 2021.
    backfilled = late.assign(pub_year=pd.array([2015] * len(late), dtype="Int64"),
                             entry_date=pd.Series(["2021-05-01"] * len(late), dtype=object),
                             pmid=late["pmid"] + 500_000)
    undated_late = late.assign(entry_date=pd.Series([None] * len(late), dtype=object), pmid=late["pmid"] + 900_000)
    method = emerging.Method(min_articles=5)
    alone = emerging.find_emerging(catalogue, HYPOTHESES, as_of=2019, current_year=2026, method=method)
    everything = pd.concat([catalogue, late, backfilled, undated_late], ignore_index=True)
    with_later = emerging.find_emerging(everything, HYPOTHESES, as_of=2019, current_year=2026, method=method)
    pd.testing.assert_frame_equal(alone.ranked, with_later.ranked)
    later = emerging.find_emerging(everything, HYPOTHESES, as_of=2022, current_year=2026, method=method)
    assert later.ranked.set_index("key").at["trelaxin receptor", "articles"] > 0
    assert "trelaxin receptor" not in set(alone.ranked["key"])


def test_yearly_shares_are_the_counts_over_the_baseline() -> None:
    result = emerging.find_emerging(planted_corpus(), HYPOTHESES, as_of=2025, current_year=2026,
                                    method=emerging.Method(min_articles=5))
    rows = result.yearly[result.yearly["key"] == "trelaxin receptor"].set_index("year")
    assert rows.loc[2024, ["articles", "baseline_articles"]].tolist() == [18, 60]
    assert rows.loc[2024, "share"] == pytest.approx(0.3)
    assert rows.loc[2019, "articles"] == 0 and rows.index.min() == 2006  # 20 years; before 2008 no articles
    assert rows.loc[2025, "bursting"] and not rows.loc[2019, "bursting"]


@pytest.mark.parametrize(("as_of", "message"), [
    (2026, "as-of year 2026 is not complete yet; give 2025 or earlier"),
    (1900, "as-of year 1900 is before PubMed's records; give a year from 1950 on"),
])
def test_as_of_must_be_a_complete_year(as_of, message) -> None:
    with pytest.raises(ConfigError) as raised:
        emerging.find_emerging(planted_corpus(), HYPOTHESES, as_of=as_of, current_year=2026)
    assert str(raised.value) == message


def test_an_empty_catalogue_ranks_nothing() -> None:
    result = emerging.find_emerging(catalogue_of([]), HYPOTHESES, as_of=2025, current_year=2026)
    assert result.ranked.empty and list(result.ranked.columns) == list(emerging.RANKED_COLUMNS)


# --- the "add as a cause" entry ----------------------------------------------------------------------------------

def test_toml_entry_loads_as_a_hypothesis_and_its_terms_tag_the_articles(tmp_path: Path) -> None:
    result = emerging.find_emerging(planted_corpus(), HYPOTHESES, as_of=2025, current_year=2026,
                                    method=emerging.Method(min_articles=5))
    row = emerging.find_candidate(result.ranked, result.excluded, "Trelaxin receptors")
    text = emerging.hypothesis_toml(row, HYPOTHESES, 2025)
    entry = tomllib.loads(text)["hypothesis"][0]
    assert entry["id"] == "trelaxin_receptor" and entry["label"] == "Trelaxin receptor"
    assert entry["query"].startswith(f"({HYPOTHESES[0].query}) AND (")
    assert '"trelaxin receptor"[Title/Abstract]' in entry["query"]
    assert "trelaxin receptor" in entry["terms"]
    hypotheses_file = tmp_path / "hypotheses.toml"
    hypotheses_file.write_text(DEFAULT_HYPOTHESES_PATH.read_text(encoding="utf-8") + "\n" + text, encoding="utf-8")
    loaded = load_hypotheses(hypotheses_file)
    assert loaded[-1].id == "trelaxin_receptor" and loaded[-1].terms == tuple(entry["terms"])
    rules = tagging.compile_rules(loaded)
    tagged = tagging.tag_articles(pd.DataFrame({
        "pmid": [1], "title": ["x"], "abstract": ["Trelaxin receptor density was high."], "keywords": [[]],
        "mesh_terms": [[]], "publication_types": [[]], "corrections": [[]]}), rules).tags
    assert "trelaxin_receptor" in set(tagged["hypothesis_id"])


def test_toml_of_an_excluded_term_names_the_rule() -> None:
    result = emerging.find_emerging(planted_corpus(), HYPOTHESES, as_of=2025, current_year=2026,
                                    method=emerging.Method(min_articles=5))
    with pytest.raises(ConfigError) as raised:
        emerging.find_candidate(result.ranked, result.excluded, "Fibromyalgia")
    assert "'Fibromyalgia' is not a candidate: configured" in str(raised.value)
    with pytest.raises(ConfigError, match="not among the candidates"):
        emerging.find_candidate(result.ranked, result.excluded, "no such idea")


def test_hypothesis_ids_are_valid_and_unused() -> None:
    assert emerging.hypothesis_id_for("IgG autoantibodies (passive transfer)") == "igg_autoantibodies_passive_transfer"
    assert emerging.hypothesis_id_for("5-HT2A", ["c_5_ht2a"]) == "c_5_ht2a_2"
    assert emerging.hypothesis_id_for("serotonin", ["serotonin"]) == "serotonin_2"


@pytest.mark.parametrize("term", ["glial activation", "Crohn's disease", 'the "third" way', "tab\there"])
def test_toml_entry_quotes_any_term(term) -> None:
    row = pd.Series({"key": term.lower(), "term": term, "variants": (term.lower(),), "mesh_names": (term,),
                     "rate_ratio": math.inf, "q_value": 0.001, "articles": 12, "trend": "increasing",
                     "burst_years": (2024, 2025)})
    entry = tomllib.loads(emerging.hypothesis_toml(row, HYPOTHESES, 2025))["hypothesis"][0]
    assert entry["label"] == term[0].upper() + term[1:]
    assert entry["terms"] == list(dict.fromkeys([term.lower(), term]))
    assert f'"{term}"[MeSH Terms]' in entry["query"] and "rate ratio new (none before)" in entry["description"]
