"""The batch's screens and shortcuts read every pair exactly as the reader reads it without them."""

from __future__ import annotations

import bisect
import functools
import gc
import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from tracker.analysis import stance, tagging
from tracker.analysis.screen import first_screened, stand_in_texts, union_screen
from tracker.analysis.stance import cues, direction, reader
from tracker.analysis.stance.cues import cue_pattern
from tracker.analysis.tagging import normalised_text
from tracker.config import DEFAULT_HYPOTHESES_PATH, load_hypotheses

SHIPPED = load_hypotheses(DEFAULT_HYPOTHESES_PATH)
RULES = tagging.compile_rules(SHIPPED)
STANCE_RULES = stance.compile_stance_rules(SHIPPED, RULES)

# Our own sentences in the shapes the screens and shortcuts treat apart: Greek letters that folding lengthens
# before and after a cause's term (offsets scaled), look-alike hyphens and spaces (lengths kept), a term in a
# sentence without a finding, a defined abbreviation, a symptom outcome in a trial, titles that name another
# population or a protocol, several findings in one article.
_ABSTRACTS = (
    "TNF-\u03b1 and IL-1\u03b2 were measured. Serum serotonin was significantly lower in patients with "
    "fibromyalgia than in healthy controls (p < 0.01). \u03b1-Amylase did not differ.",
    "Serotonin was measured in serum. Cortisol\u2013awakening responses were blunted in fibromyalgia compared "
    "with controls. Sleep\u00a0quality was poor.",
    "Electrochemical skin conductance (ESC) was recorded. Mean ESC was lower in the fibromyalgia group than in "
    "controls (p = 0.01). Heart rate variability did not differ from that of healthy controls.",
    "In this randomised, placebo-controlled trial, sleep quality improved with the drug compared with placebo. "
    "Polysomnography showed more slow-wave sleep after treatment (p = 0.03).",
    "Substance P was higher in the cerebrospinal fluid of patients than of controls, whereas "
    "\u03b2-endorphin was lower. Substance P (SP) was measured again in \u03ba-opioid users.",
    "Pain thresholds were reduced in fibromyalgia; temporal summation of pain was enhanced and conditioned pain "
    "modulation impaired compared with healthy controls.",
    "We studied whiplash injury. Fibromyalgia was more common after whiplash injury than in controls (OR 2.1).",
    "Muscle oxygen saturation did not differ between patients and healthy controls. Mitochondrial changes were "
    "seen in \u03b1-actinin stains.",
    "Levels of IL-1\u03b2 and TNF-\u03b1 were measured by ELISA. Compared with healthy controls, the patients with "
    "fibromyalgia had significantly lower levels of serum tryptophan.",
)
# Greek letters after a sentence shift where its part of the folded text starts into it, by more as they are more:
# through its first word ("Conditioned pain modulation" holds the measure "pain modulation").
_ABSTRACTS += tuple(
    "Patients with fibromyalgia and healthy controls were tested in the laboratory of the university hospital on "
    "two mornings, after a night of rest, by the same examiner who did not know the group of each participant. "
    "Conditioned pain modulation was impaired in fibromyalgia compared with healthy controls. "
    + "TNF-\u03b1 " * shift + "was measured." for shift in range(1, 15))
_TITLES = ("A study", "Serotonin in fibromyalgia and migraine", "Study protocol for a randomised trial",
           "\u03b1-waves in sleep of fibromyalgia")


def _frame() -> pd.DataFrame:
    rows = []
    for number, (abstract, title) in enumerate(
            ((abstract, title) for abstract in _ABSTRACTS for title in _TITLES), start=1):
        # Every other article as a structured abstract, its sentences split between two sections.
        sentences = abstract.split(". ")
        sections = ([{"text": abstract, "label": None, "nlm_category": None}] if number % 2 else
                    [{"text": ". ".join(sentences[:1]) + ".", "label": "METHODS", "nlm_category": "METHODS"},
                     {"text": ". ".join(sentences[1:]), "label": "RESULTS", "nlm_category": "RESULTS"}])
        rows.append({"pmid": number, "title": title, "abstract": abstract, "abstract_sections": sections,
                     "keywords": [], "mesh_terms": [], "publication_types": ["Journal Article"], "corrections": [],
                     "query_hypotheses": ["fibromyalgia"]})
    return pd.DataFrame(rows)


def _every_cause(frame: pd.DataFrame) -> pd.DataFrame:
    """Each article with every cause, the terms tagging found kept where it found them."""
    tags = tagging.tag_articles(frame, RULES).tags
    found = {(pmid, cause): terms for pmid, cause, terms in
             tags[["pmid", "hypothesis_id", "matched_terms"]].itertuples(index=False, name=None)}
    return pd.DataFrame([{"pmid": pmid, "hypothesis_id": cause, "matched_terms": found.get((pmid, cause), [])}
                         for pmid in frame["pmid"] for cause in STANCE_RULES.expects])


def _batch() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The articles, each with every cause, and their designs (trials where the abstract says so)."""
    frame = _frame()
    facets = pd.DataFrame({"pmid": frame["pmid"], "design": ["rct" if "trial" in a else "case_control"
                                                            for a in frame["abstract"]]})
    return frame, _every_cause(frame), facets


def test_the_screened_batch_reads_every_pair_as_the_reader_without_screens(monkeypatch) -> None:
    frame, tags, facets = _batch()
    read_alone = []
    real_hit_anchors = reader._hit_anchors
    monkeypatch.setattr(reader, "_hit_anchors", lambda *arguments: read_alone.append(1) or real_hit_anchors(
        *arguments))
    screened = stance.read_stances(frame, tags, facets, STANCE_RULES)
    # Without the screens: every pair read in full, every sentence of every article looked at.
    monkeypatch.setattr(reader, "_causes_that_may_report", lambda articles, causes, screens: [
        set(tagged) for tagged in causes])
    unscreened = stance.read_stances(frame, tags, facets, STANCE_RULES)
    pd.testing.assert_frame_equal(screened, unscreened)
    # The cases the test is for did happen: findings, sentences scanned alone, lengthened sections.
    assert {"supports", "mixed", "no_finding"} <= set(screened["stance"])
    assert read_alone
    assert any(len(normalised_text(text)) != len(text) for text in frame["abstract"])


def _anchors_by_one_scan(article: reader._Article, patterns: reader._AnchorPatterns) -> dict:
    """The anchors as the reader told them before sentences were numbered: each match's section found in
    `normalised`, its offset scaled back onto the section where folding changed its length."""
    found: dict = {}
    if article.part_starts is None:
        article.number_sentences()
    normalised, starts = article.normalised, article.normalised_starts
    for match in patterns.anywhere.finditer(normalised):
        at = match.start()
        if at and normalised[at - 1].isascii() and (normalised[at - 1].isalnum() or normalised[at - 1] == "_"):
            continue
        source = patterns.source or ("term" if patterns.term is not None and patterns.term.match(normalised, at)
                                     else "abbreviation" if patterns.abbreviation is not None
                                     and patterns.abbreviation.match(normalised, at) else "measure")
        section = next(number for number in reversed(range(len(starts))) if starts[number] <= at)
        text = article.sections[section][0]
        offset = at - starts[section]
        if article.same_length[section]:
            found_text = text[offset:offset + match.end() - at]
        else:
            offset, found_text = int(offset * len(text) / max(article.normalised_length(section), 1)), match.group()
        # The sentence whose span starts last at or before the offset.
        starts_in_section = article.spans[section][1]
        within = max(bisect.bisect_right(starts_in_section, offset) - 1, 0)
        sentence = article.numbered_sentence(article.section_firsts[section] + within)
        found.setdefault(sentence, []).append(reader.Anchor(offset - starts_in_section[within], found_text, source))
    return found


def test_each_anchor_is_told_its_sentence_as_the_scaled_offset_tells_it() -> None:
    frame = _frame()
    lengthened = 0
    for row in frame.itertuples():
        sections = reader._sections_of(row.abstract_sections, row.abstract)
        article = reader._read_article(row.title, sections, row.publication_types, "case_control", (None, None))
        lengthened += not all(article.same_length)
        for cause, terms in STANCE_RULES.term_patterns.items():
            measures = tuple(measure for _, measure in reader._MEASURES.get(cause, ()))
            term_pattern = reader._term_pattern(tuple(sorted(terms.items())), tuple(sorted(terms)))
            patterns = reader._anchor_pattern(term_pattern, measures, article.abbreviations)
            if patterns is not None:
                assert reader._anchors(article, patterns) == _anchors_by_one_scan(article, patterns)
    assert lengthened


@pytest.mark.parametrize(("pattern", "within"), [
    (r"(?:(?:5[\s\-]?ht\b)|(?:ssris\b)|(?:serotonin\b))", True),
    (r"(?:substance[\s\-]?p\b)|(?:sp)(?!\w)", True),
    (r"(?:pain\s+(?:thresholds?|sensitivity)|central\s+sensiti[sz]ation\s+inventory)(?!\w)", True),
    (r"x(?<=a.)y", True),                # an assertion matches no character
    (r"\w+\s+\d", True),
    (r"e\.\s*coli", False),              # a stop
    (r"a.b", False),                     # any character
    (r"[^a]bc", False),                  # a negated class
    (r"\Wfoo|\Sfoo", False),             # classes that hold stops
    (r"trial\)", False),                 # a closing bracket
    (r"\s?abc", False),                  # may start with a space
    (r"(?:x)?\sabc", False),
    (r"a*\sb", False),
    (r"a+\sb", True),
    (r"(a)\1", False),                   # a construct it does not read
])
def test_within_sentences_reads_what_a_pattern_can_match(pattern: str, within: bool) -> None:
    assert reader._within_sentences(re.compile(pattern, re.ASCII)) is within


def test_stand_ins_of_a_mixed_batch_are_each_texts_own() -> None:
    texts = ["plain ASCII text", "T\u03b1 and \u017fleep\u00a0here", "", "\x1c", "K\u212a \u00e9"]
    batch = stand_in_texts(pa.array(texts, pa.large_string())).to_pylist()
    assert batch == [stand_in_texts(pa.array([text], pa.large_string()))[0].as_py() for text in texts]
    assert all(len(stand_in) == len(text) and stand_in.isascii() for stand_in, text in zip(batch, texts))


def test_a_search_may_start_where_the_screen_first_matched() -> None:
    pattern = cue_pattern("comparator")
    texts = ["No cue here at all.", "Patients were compared with healthy controls.", "compared with controls",
             "As\u00a0compared\u00a0with controls, levels fell.", "Incomparable; then versus healthy subjects."]
    for text, found_at in zip(texts, first_screened(stand_in_texts(pa.array(texts)), union_screen([pattern]))):
        match = pattern.search(text)
        if match is None:
            assert found_at == -1 or pattern.search(text, found_at) is None
        else:
            assert 0 <= found_at <= match.start() and pattern.search(text, found_at).span() == match.span()


def test_cut_strings_are_the_texts_slices() -> None:
    texts = ["Serotonin fell. Pain rose.", "", "One more text"]
    characters, bases = reader._text_bytes(pa.array(["skipped", *texts], pa.large_string()).slice(1))
    joined = "".join(texts)
    assert characters[bases[0]:bases[-1]].decode() == joined and (bases - bases[0]).tolist() == [0, 26, 26, 39]
    starts, ends = [0, 16, 26, 30], [15, 26, 26, 39]
    cut = reader._cut(characters, np.asarray(starts) + bases[0], np.asarray(ends) + bases[0]).to_pylist()
    assert cut == [joined[start:end] for start, end in zip(starts, ends)]


@pytest.mark.parametrize("text", ["Plain ASCII, Upper Case", "marker\x01inside", "Kelvin \u212a sign",
                                  "TNF-\u03b1 \u2013 IL-1\u03b2\u00a0here", "\u0130stanbul \u03a3"])
def test_normalised_text_skips_the_folding_scan_only_where_nothing_folds(text: str) -> None:
    assert normalised_text(text) == tagging._FOLDED_CHARACTERS.sub(tagging._fold, text.lower())


@pytest.mark.parametrize("enabled", [True, False])
def test_reading_leaves_the_garbage_collector_as_it_found_it(enabled: bool) -> None:
    frame = _frame().head(3)
    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        stance.read_stances(frame, _every_cause(frame), frame[["pmid"]].assign(design="other"), STANCE_RULES)
        assert gc.isenabled() is enabled
    finally:
        gc.enable() if was else gc.disable()


def _forget_sentences_read() -> None:
    """Empty the caches that hold what sentences were read, so that the next batch reads every one again."""
    for cached in (cues.cue_matches, reader.sentence_role, reader._may_report, reader._read_sentence):
        cached.cache_clear()


def test_the_cue_screens_leave_every_reading_as_pythons_patterns_alone_read_it(monkeypatch) -> None:
    frame, tags, facets = _batch()
    left_out = []
    real_screen = cues.categories_that_may_match.__wrapped__

    def screen_with(screen) -> None:
        for module in (cues, direction):
            monkeypatch.setattr(module, "categories_that_may_match", functools.lru_cache(maxsize=None)(screen))
        _forget_sentences_read()

    screen_with(lambda text: left_out.append(len(cues._PATTERNS) - len(real_screen(text))) or real_screen(text))
    screened = stance.read_stances(frame, tags, facets, STANCE_RULES)
    # Without the screens: every category's pattern runs on every text it is asked about.
    screen_with(lambda text: frozenset(cues._PATTERNS))
    try:
        unscreened = stance.read_stances(frame, tags, facets, STANCE_RULES)
    finally:
        _forget_sentences_read()
    pd.testing.assert_frame_equal(screened, unscreened)
    assert {"supports", "mixed", "no_finding"} <= set(screened["stance"])
    # The screens did leave categories out, in most texts.
    assert sum(count > 0 for count in left_out) > 0.9 * len(left_out)
