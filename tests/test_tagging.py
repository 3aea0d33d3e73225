"""Tagging: term matching on real-looking sentences, sources, rule errors, design, species and integrity flags."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest

from tracker.analysis import tagging
from tracker.config import DEFAULT_HYPOTHESES_PATH, Hypothesis, load_hypotheses
from tracker.errors import ConfigError

SHIPPED = load_hypotheses(DEFAULT_HYPOTHESES_PATH)


def _frame(*articles: dict) -> pd.DataFrame:
    defaults = {"title": "", "abstract": "", "keywords": [], "mesh_terms": [], "publication_types": [],
                "corrections": [], "query_hypotheses": []}
    return pd.DataFrame([{"pmid": 100 + number, **defaults, **article} for number, article in enumerate(articles)])


def _matched(hypotheses=SHIPPED, **article) -> dict[str, list[tuple[str, str]]]:
    """{hypothesis: [(term, field), ...]} for one article."""
    tags = tagging.tag_articles(_frame(article), hypotheses).tags
    return {row.hypothesis_id: [(entry["term"], entry["field"]) for entry in row.matched_terms]
            for row in tags.itertuples()}


def _without_baseline(found: dict) -> dict:
    return {key: value for key, value in found.items() if key != "fibromyalgia"}


@pytest.mark.parametrize(("abstract", "expected"), [
    # true positives, spelled as abstracts spell them
    ("Cerebrospinal fluid substance P was threefold higher in patients.",
     {"substance_p": [("substance P", "abstract")]}),
    ("Substance P (SP) was raised, and SP correlated with tender points.",
     {"substance_p": [("substance P", "abstract"), ("SP (substance P)", "abstract")]}),
    ("Serum serotonin (5-HT) and 5-HIAA were low.",
     {"serotonin": [("serotonin", "abstract"), ("5-HT", "abstract"), ("5-HIAA", "abstract")]}),
    ("The 5-HT2A receptor T102C polymorphism was genotyped.",
     {"serotonin": [("5-ht2a", "abstract")]}),  # a re: term shows the text it matched
    ("The 5-HTTLPR short allele and the 5-HTT gene were studied.",
     {"serotonin": [("5-HTT", "abstract"), ("5-HTTLPR", "abstract")]}),
    ("Heart-rate variability showed sympathetic predominance.",
     {"autonomic": [("sympathetic", "abstract"), ("heart rate variability", "abstract")]}),
    ("Heartrate variability was reduced.", {"autonomic": [("heart rate variability", "abstract")]}),
    ("Heart\u2010rate\u00a0variability was reduced.", {"autonomic": [("heart rate variability", "abstract")]}),
    ("Patients had less slow wave sleep.",
     {"sleep": [("sleep", "abstract"), ("slow-wave sleep", "abstract"), ("slow-wave", "abstract")]}),
    ("Serum IGF1 was low.", {"sleep": [("IGF-1", "abstract")]}),
    ("Serum IGF-I was low.", {"sleep": [("IGF-I", "abstract")]}),
    ("Polysomnography showed α-delta sleep.",
     {"sleep": [("sleep", "abstract"), ("polysomnography", "abstract"), ("alpha-delta sleep", "abstract"),
                ("alpha-delta", "abstract"), ("delta sleep", "abstract")]}),
    ("Wind-up and conditioned pain modulation were tested.",
     {"central_sensitisation": [("wind-up", "abstract"), ("conditioned pain modulation", "abstract")]}),
    ("Temporal summation (windup) was enhanced.",
     {"central_sensitisation": [("temporal summation", "abstract"), ("wind-up", "abstract")]}),
    ("Childhood trauma was common.",
     {"injury": [("trauma", "abstract")], "stress_hormones": [("childhood trauma", "abstract")]}),
    ("Muscle ATP was low.", {"muscle": [("ATP", "abstract")]}),
    # look-alikes that must not tag
    ("SP, the study protocol, was registered.", {}),
    ("SP levels were measured in 20 women.", {}),
    ("Clinicians expressed sympathy for the patients.", {}),
    ("Na+/K+-ATPase activity was unchanged.", {}),
    ("Daytime sleepiness was rated.", {}),
    ("Posttraumatic growth was measured.", {}),
    ("HIVES and hepatitis-like symptoms.", {}),
    ("Substance abuse was an exclusion criterion.", {}),
    ("Oxidative stress markers were raised.", {}),
    ("Perceived stress and the cortisol awakening response were measured.",
     {"stress_hormones": [("perceived stress", "abstract"), ("cortisol", "abstract")]}),
])
def test_abstract_matching(abstract: str, expected: dict) -> None:
    assert _without_baseline(_matched(abstract=abstract)) == expected


@pytest.mark.parametrize(("article", "expected"), [
    ({"mesh_terms": ["Substance P", "Humans"]}, {"substance_p": [("substance P", "mesh")]}),
    ({"mesh_terms": ["Receptors, Serotonin, 5-HT1"]},
     {"serotonin": [("serotonin", "mesh"), ("5-ht1", "mesh")]}),
    ({"keywords": ["Central sensitization", "pain"]},
     {"central_sensitisation": [("central sensitization", "keywords")]}),
    # the abstract defines SP, so the title's "SP" is a recorded use of it
    ({"title": "SP in the CSF of fibromyalgia patients", "abstract": "Substance P (SP) was measured."},
     {"substance_p": [("SP (substance P)", "title"), ("substance P", "abstract")]}),
    # terms in list fields never run across two entries
    ({"keywords": ["heart", "rate variability"]}, {}),
])
def test_matching_in_other_fields(article: dict, expected: dict) -> None:
    assert _without_baseline(_matched(**article)) == expected


@pytest.mark.parametrize(("terms", "text", "expected"), [
    (("TNF-α",), "TNF-alpha was raised.", [("TNF-α", "abstract")]),
    (("TNF-alpha",), "TNF-α was raised.", [("TNF-alpha", "abstract")]),
    (("kappa opioid receptor",), "The κ-opioid receptor was blocked.", [("kappa opioid receptor", "abstract")]),
    (("IL-1β",), "IL-1 beta and IL1β were measured.", [("IL-1β", "abstract")]),
    (("5-HT",), "5-HTT binding", []),
    (("re:Sjögren",), "primary sjögren syndrome", [("sjögren", "abstract")]),
    (("Østergaard score",), "The ØSTERGAARD score rose; the Østergaard-score fell.", [("Østergaard score", "abstract")]),
    (("Østergaard score",), "The Kjøstergaard score", []),
])
def test_greek_letters_and_custom_terms(terms: tuple[str, ...], text: str, expected: list) -> None:
    hypotheses = (Hypothesis(id="custom", label="C", description="d", query="q", terms=terms),)
    assert _matched(hypotheses, abstract=text).get("custom", []) == expected


def test_tag_sources_combine_query_links_and_text() -> None:
    frame = _frame(
        {"abstract": "Serotonin was low.", "query_hypotheses": ["serotonin", "fibromyalgia"]},
        {"abstract": "Serotonin was low."},
        {"abstract": "Nothing relevant.", "query_hypotheses": ["sleep", "unknown_hypothesis"]},
    )
    tags = tagging.tag_articles(frame, SHIPPED).tags
    assert tags.to_dict("records") == [
        {"pmid": 100, "hypothesis_id": "fibromyalgia", "source": "query", "matched_terms": []},
        {"pmid": 100, "hypothesis_id": "serotonin", "source": "query+text",
         "matched_terms": [{"term": "serotonin", "field": "abstract"}]},
        {"pmid": 101, "hypothesis_id": "serotonin", "source": "text",
         "matched_terms": [{"term": "serotonin", "field": "abstract"}]},
        {"pmid": 102, "hypothesis_id": "sleep", "source": "query", "matched_terms": []},
    ]


@pytest.mark.parametrize(("term", "message"), [
    ("re:(unclosed", '[custom] term "re:(unclosed" is not a valid pattern'),
    ("re:(?<=a)b", '[custom] term "re:(?<=a)b" is not a valid pattern for the matcher'),
    ("re:x*", '[custom] term "re:x*" matches empty text'),
    ("re:(ab)c", '[custom] term "re:(ab)c" has a capturing group'),
    ("--", '[custom] term "--" has no letters or digits'),
])
def test_invalid_terms_are_refused_naming_hypothesis_and_term(term: str, message: str) -> None:
    hypotheses = (Hypothesis(id="custom", label="C", description="d", query="q", terms=("fine", term)),)
    with pytest.raises(ConfigError) as raised:
        tagging.compile_rules(hypotheses)
    assert message in str(raised.value)


def test_rules_version_follows_the_terms() -> None:
    base = Hypothesis(id="custom", label="C", description="d", query="q", terms=("serotonin",))
    edited = Hypothesis(id="custom", label="C", description="d", query="q", terms=("serotonin", "5-HT"))
    relabelled = Hypothesis(id="custom", label="Other label", description="d", query="q", terms=("serotonin",))
    assert tagging.compile_rules((base,)).version == tagging.compile_rules((base,)).version
    assert tagging.compile_rules((base,)).version != tagging.compile_rules((edited,)).version
    assert tagging.compile_rules((base,)).version == tagging.compile_rules((relabelled,)).version
    assert len(tagging.compile_rules((base,)).version) == 12


@pytest.mark.parametrize(("publication_types", "mesh", "design"), [
    (["Journal Article", "Systematic Review", "Meta-Analysis"], [], "meta_analysis"),
    (["Journal Article", "Systematic Review"], [], "systematic_review"),
    (["Scoping Review"], [], "systematic_review"),
    (["Journal Article", "Randomized Controlled Trial", "Multicenter Study"], [], "rct"),
    (["Clinical Trial, Phase II"], [], "clinical_trial"),
    (["Journal Article", "Controlled Clinical Trial"], ["Cohort Studies"], "clinical_trial"),
    (["Journal Article"], ["Humans", "Prospective Studies"], "cohort"),
    (["Journal Article", "Comparative Study"], ["Case-Control Studies"], "case_control"),
    (["Journal Article"], ["Cross-Sectional Studies"], "observational"),
    (["Journal Article", "Observational Study"], [], "observational"),
    (["Case Reports"], [], "case_report"),
    (["Case Reports", "Review"], [], "case_report"),
    (["Journal Article", "Review"], [], "narrative_review"),
    # a review indexed with a study-design term is still a review
    (["Review"], ["Cohort Studies"], "narrative_review"),
    (["Letter", "Comment"], [], "editorial"),
    (["Editorial"], ["Case-Control Studies"], "editorial"),
    (["Journal Article"], ["Humans"], "other"),
    ([], [], "other"),
])
def test_design(publication_types: list[str], mesh: list[str], design: str) -> None:
    facets = tagging.tag_articles(_frame({"publication_types": publication_types, "mesh_terms": mesh}), SHIPPED).facets
    assert facets.loc[0, "design"] == design
    assert design in tagging.DESIGNS


@pytest.mark.parametrize(("mesh", "abstract", "species", "in_vitro"), [
    (["Humans", "Female"], "", "human", False),
    (["Middle Aged", "Fibromyalgia"], "", "human", False),
    (["Animals", "Rats", "Rats, Sprague-Dawley"], "", "animal", False),
    (["Mice, Inbred C57BL", "Disease Models, Animal"], "", "animal", False),
    (["Humans", "Animals", "Mice"], "", "both", False),
    (["Fibromyalgia"], "", "unknown", False),
    (["Animals", "In Vitro Techniques"], "", "animal", True),
    (["Humans"], "Fibroblasts were studied in vitro.", "human", True),
    ([], "An in-vitro assay", "unknown", True),
    ([], "Invitrogen reagents were used.", "unknown", False),
])
def test_species_and_in_vitro(mesh: list[str], abstract: str, species: str, in_vitro: bool) -> None:
    facets = tagging.tag_articles(_frame({"mesh_terms": mesh, "abstract": abstract}), SHIPPED).facets
    assert (facets.loc[0, "species"], bool(facets.loc[0, "in_vitro"])) == (species, in_vitro)


@pytest.mark.parametrize(("publication_types", "reference_types", "flags"), [
    (["Journal Article"], [], (False, False, False, False)),
    (["Journal Article", "Retracted Publication"], [], (True, False, False, False)),
    (["Journal Article"], ["RetractionIn"], (True, False, False, False)),
    (["Retraction of Publication"], [], (False, True, False, False)),
    (["Journal Article"], ["RetractionOf"], (False, True, False, False)),
    (["Journal Article"], ["ErratumIn", "CommentIn"], (False, False, True, False)),
    (["Journal Article"], ["ExpressionOfConcernIn"], (False, False, False, True)),
    (["Retracted Publication"], ["RetractionIn", "ErratumIn", "ExpressionOfConcernIn"], (True, False, True, True)),
])
def test_integrity_flags(publication_types: list[str], reference_types: list[str], flags: tuple) -> None:
    corrections = [{"ref_type": ref_type, "pmid": 1, "ref_source": "J. 2020"} for ref_type in reference_types]
    facets = tagging.tag_articles(_frame({"publication_types": publication_types, "corrections": corrections}),
                                  SHIPPED).facets
    row = facets.iloc[0]
    assert (row.retracted, row.retraction_notice, row.has_erratum, row.expression_of_concern) == flags


def test_facets_frame_has_one_row_per_article_in_order() -> None:
    frame = _frame({"publication_types": ["Review"], "mesh_terms": ["Humans"]},
                   {"publication_types": ["Letter"], "mesh_terms": ["Rats"], "abstract": "in vitro"})
    facets = tagging.tag_articles(frame, SHIPPED).facets
    assert facets.to_dict("records") == [
        {"pmid": 100, "design": "narrative_review", "species": "human", "in_vitro": False, "retracted": False,
         "retraction_notice": False, "has_erratum": False, "expression_of_concern": False},
        {"pmid": 101, "design": "editorial", "species": "animal", "in_vitro": True, "retracted": False,
         "retraction_notice": False, "has_erratum": False, "expression_of_concern": False},
    ]


def test_empty_frame_gives_empty_results() -> None:
    result = tagging.tag_articles(_frame({}).iloc[0:0], SHIPPED)
    assert (len(result.tags), len(result.facets)) == (0, 0)
    assert list(result.tags.columns) == list(tagging.TAG_COLUMNS)


def test_arrow_backed_chunked_text_columns() -> None:
    frame = _frame({"title": "x"}, {"title": "y"}, {"title": "z"})
    frame["title"] = pd.Series(pd.arrays.ArrowExtensionArray(
        pa.chunked_array([["Serotonin", None], ["TNF-α and 5-HT"]])))
    frame["abstract"] = pd.Series(["", "", ""], dtype="str")
    tags = tagging.tag_articles(frame, SHIPPED).tags
    assert tags[["pmid", "hypothesis_id"]].to_dict("records") == [
        {"pmid": 100, "hypothesis_id": "serotonin"}, {"pmid": 102, "hypothesis_id": "serotonin"}]


# --- "re:" terms run as they were validated, on RE2 alone ----------------------------------------------------------

def test_an_inline_flag_pattern_is_valid_as_it_runs_and_matches() -> None:
    hypotheses = (Hypothesis(id="custom", label="C", description="d", query="q", terms=("re:(?i)FIBRO",)),)
    assert _matched(hypotheses, abstract="Fibro fog was reported.").get("custom") == [("fibro", "abstract")]


def test_patterns_that_backtrack_in_pythons_re_tag_at_once() -> None:
    import subprocess
    import sys
    from pathlib import Path

    # Each pattern is run against the other's matches; on a backtracking engine "(?:[a-z]+ ?)+sleep" takes 2^n
    # steps on a word of n letters without "sleep" after it: days here. The child process is a guard against a
    # hang, not a timing: RE2 does it in milliseconds.
    script = """
import pandas as pd
from tracker.analysis import tagging
from tracker.config import Hypothesis
terms = ("re:(?:[a-z]+ ?)+sleep", "re:chronic(?: [a-z]+){1,8}")
hypotheses = (Hypothesis(id="custom", label="C", description="d", query="q", terms=terms),)
frame = pd.DataFrame([{"pmid": 1, "title": "", "abstract": "chronic " + "abcdefghijklmnopqrstuvwxyzabcdefghijkl!",
                       "keywords": [], "mesh_terms": [], "publication_types": [], "corrections": []}])
tags = tagging.tag_articles(frame, hypotheses).tags
print([entry["term"] for entry in tags["matched_terms"][0]])
"""
    result = subprocess.run([sys.executable, "-c", script], cwd=Path(__file__).resolve().parent.parent,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "['chronic abcdefghijklmnopqrstuvwxyzabcdefghijkl']\n"


@pytest.mark.parametrize(("term", "message"), [
    ("re:(?P<name>x)y", '[custom] term "re:(?P<name>x)y" has a capturing group; write its groups as (?:...)'),
    ("re:a{2000}", '[custom] term "re:a{2000}" is not a valid pattern for the matcher'),
])
def test_patterns_are_validated_by_the_engine_that_runs_them(term: str, message: str) -> None:
    hypotheses = (Hypothesis(id="custom", label="C", description="d", query="q", terms=(term,)),)
    with pytest.raises(ConfigError) as raised:
        tagging.compile_rules(hypotheses)
    assert message in str(raised.value)
