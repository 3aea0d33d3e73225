"""The hypotheses file and the environment: the shipped file is valid, bad input is refused with a clear message."""

from __future__ import annotations

from pathlib import Path

import pytest

from tracker.config import (DEFAULT_EUTILS_URL, EXPECTS, MAX_HYPOTHESES, MAX_QUERY_CHARS, MAX_TERMS, load_hypotheses,
                            load_settings)
from tracker.errors import ConfigError

GOOD_ENTRY = '''
[[hypothesis]]
id = "serotonin"
label = "Serotonin"
description = "Low serotonin."
query = 'fibromyalgia AND serotonin'
terms = ["serotonin"]
'''

REQUIRED_CAUSES = ["substance_p", "serotonin", "sleep", "autonomic", "injury", "infection", "muscle",
                   "stress_hormones", "central_sensitisation", "pregnancy", "comorbid_conditions"]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "hypotheses.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_file_has_every_cause_and_one_baseline() -> None:
    settings = load_settings(environ={})
    assert [h.id for h in settings.causes] == REQUIRED_CAUSES
    assert settings.baseline is not None and settings.baseline.id == "fibromyalgia"
    for hypothesis in settings.causes:
        assert "fibromyalgia" in hypothesis.query.lower(), hypothesis.id
        assert "[MeSH Terms]" in hypothesis.query, hypothesis.id
        assert hypothesis.terms, hypothesis.id
        assert hypothesis.expect in EXPECTS, hypothesis.id
    # The directional predictions the literature makes, which a reversed finding contradicts.
    assert {h.id: h.expect for h in settings.causes if h.expect in ("higher", "lower")} == {
        "substance_p": "higher", "serotonin": "lower"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("this is = = not toml", "is not valid TOML"),
        ("version = 1", "has no [[hypothesis]] entries"),
        (GOOD_ENTRY.replace('query = \'fibromyalgia AND serotonin\'\n', ""), '[serotonin] has no "query"'),
        (GOOD_ENTRY.replace("fibromyalgia AND serotonin", "  "), '[serotonin] has an empty or non-text "query"'),
        (GOOD_ENTRY.replace('label = "Serotonin"\n', ""), '[serotonin] has no "label"'),
        (GOOD_ENTRY + GOOD_ENTRY, 'id "serotonin" is used twice'),
        (GOOD_ENTRY.replace('id = "serotonin"', 'id = "Sero tonin"'), "is not valid"),
        (GOOD_ENTRY.replace('terms = ["serotonin"]', 'terms = "serotonin"'), '"terms" must be a list'),
        (GOOD_ENTRY.replace('terms = ["serotonin"]', 'colour = "red"'), "unknown field(s) colour"),
        (GOOD_ENTRY.replace("fibromyalgia AND serotonin", "(fibromyalgia AND serotonin"), "unbalanced parentheses"),
        (GOOD_ENTRY.replace("fibromyalgia AND serotonin", '"fibromyalgia AND serotonin'), "unmatched double quote"),
        (GOOD_ENTRY.replace("fibromyalgia AND serotonin", "fibromyalgia[tiab AND serotonin"), "field tag bracket"),
        (GOOD_ENTRY.replace('terms', 'baseline = "yes"\nterms'), '"baseline" must be true or false'),
        (GOOD_ENTRY.replace('terms', 'expect = "raised"\nterms'),
         "[serotonin]: \"expect\" is 'raised'; use one of higher, lower, abnormal, associated"),
        (GOOD_ENTRY.replace('terms', 'expect = 1\nterms'), '"expect" is 1; use one of'),
    ],
)
def test_bad_hypotheses_file_is_refused_naming_file_entry_and_fix(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_hypotheses(path)
    assert str(path) in str(caught.value)
    assert message in str(caught.value)


def test_missing_file_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found; pass an existing file with --hypotheses"):
        load_hypotheses(tmp_path / "nope.toml")


def test_settings_read_the_environment_and_keep_secrets_out_of_repr(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD_ENTRY)
    settings = load_settings(environ={
        "TRACKER_HYPOTHESES": str(path), "TRACKER_DB": str(tmp_path / "x.sqlite"),
        "NCBI_EUTILS_URL": "http://127.0.0.1:9/eutils", "NCBI_EMAIL": "someone@example.org",
        "NCBI_API_KEY": "abc123def456", "TRACKER_BATCH_SIZE": "50"})
    assert settings.hypotheses_path == path
    assert settings.db_path == tmp_path / "x.sqlite"
    assert settings.eutils_url == "http://127.0.0.1:9/eutils/"
    assert settings.requests_per_second == 10
    assert settings.batch_size == 50
    assert "abc123def456" not in repr(settings) and "someone@example.org" not in repr(settings)


def test_defaults_without_environment() -> None:
    settings = load_settings(environ={})
    assert settings.eutils_url == DEFAULT_EUTILS_URL
    assert settings.requests_per_second == 3
    assert settings.email is None and settings.api_key is None


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"NCBI_EUTILS_URL": "ftp://example.org"}, "NCBI_EUTILS_URL='ftp://example.org' is not an http(s) URL"),
        ({"NCBI_EMAIL": "not an address"}, "NCBI_EMAIL is not an e-mail address"),
        ({"NCBI_API_KEY": "key with spaces"}, "NCBI_API_KEY has characters"),
        ({"TRACKER_BATCH_SIZE": "many"}, "TRACKER_BATCH_SIZE='many' is not a whole number"),
        ({"TRACKER_BATCH_SIZE": "0"}, "TRACKER_BATCH_SIZE=0 is out of range"),
    ],
)
def test_bad_environment_is_refused(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(environ=environ)
    assert message in str(caught.value)
    assert "key with spaces" not in str(caught.value)


def test_expect_defaults_to_abnormal_and_is_read(tmp_path: Path) -> None:
    [default] = load_hypotheses(write(tmp_path, GOOD_ENTRY))
    [lower] = load_hypotheses(write(tmp_path, GOOD_ENTRY.replace("terms", 'expect = "lower"\nterms')))
    assert (default.expect, lower.expect) == ("abnormal", "lower")


# --- limits: what one hypotheses file may ask for, checked as it loads ----------------------------------------------

def _entries(count: int, terms: int = 1, query: str = "fibromyalgia AND serotonin") -> str:
    term_list = ", ".join(f'"term {n}"' for n in range(terms))
    return "".join(f'[[hypothesis]]\nid = "cause{n}"\nlabel = "Cause {n}"\ndescription = "d"\nquery = "{query}"\n'
                   f"terms = [{term_list}]\n" for n in range(count))


def _query_of(length: int) -> str:
    return ("fibromyalgia AND (" + " OR ".join(["serotonin"] * length))[:length - 1] + ")"


@pytest.mark.parametrize(("text", "message"), [
    (_entries(MAX_HYPOTHESES + 1), f"has {MAX_HYPOTHESES + 1} [[hypothesis]] entries; the tracker follows at most "
                                   f"{MAX_HYPOTHESES}: keep the causes you follow, or split them over several files "
                                   "(--hypotheses)"),
    (_entries(1, terms=MAX_TERMS + 1), f'[cause0] has {MAX_TERMS + 1} "terms"; at most {MAX_TERMS} are allowed: keep '
                                       "the distinctive ones (the query finds the articles; terms only tag them)"),
    (_entries(1, query=_query_of(MAX_QUERY_CHARS + 1)),
     f'[cause0]: "query" is {MAX_QUERY_CHARS + 1:,} characters long; at most {MAX_QUERY_CHARS:,} are allowed: '
     "shorten it (a [MeSH Terms] heading covers its synonyms)"),
])
def test_a_file_beyond_a_limit_is_refused_as_it_loads(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_hypotheses(path)
    assert str(caught.value) == f"{path}: {message}"


def test_a_file_at_every_limit_loads(tmp_path: Path) -> None:
    assert len(load_hypotheses(write(tmp_path, _entries(MAX_HYPOTHESES)))) == MAX_HYPOTHESES
    assert len(load_hypotheses(write(tmp_path, _entries(1, terms=MAX_TERMS)))[0].terms) == MAX_TERMS
    query = _query_of(MAX_QUERY_CHARS)
    assert load_hypotheses(write(tmp_path, _entries(1, query=query)))[0].query == query


def test_the_readme_states_the_limits() -> None:
    readme = " ".join((Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8").split())
    assert (f"at most {MAX_HYPOTHESES} `[[hypothesis]]` entries, {MAX_TERMS} terms per entry and "
            f"{MAX_QUERY_CHARS:,} characters per query") in readme
