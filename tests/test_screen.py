"""The RE2 screens may only over-select: whatever Python's pattern finds, the screen keeps."""

import re
from concurrent.futures import ThreadPoolExecutor

import hyperscan
import pyarrow as pa
import pytest

from tracker.analysis import screen
from tracker.analysis.screen import ScreenSet, screen_pattern, screened, stand_in_texts, union_screen
from tracker.analysis.stance.cues import cue_pattern, cue_screens
from tracker.analysis.stance.direction import FINDING_CATEGORIES
from tracker.analysis.stance.reader import _cause_screens, compile_stance_rules
from tracker.analysis import tagging
from tracker.analysis.tagging import normalised_text
from tracker.config import DEFAULT_HYPOTHESES_PATH, load_hypotheses

# Spaces Python's \s knows and RE2's does not, and characters whose case folds onto ASCII letters.
_SPACES = ("\u00a0", "\u2009", "\u202f", "\x0b", "\x1c", "\x85", "\u3000")
_SENTENCES = (
    "Serotonin levels were significantly lower in patients than in healthy controls.",
    "HRV did not differ between groups (p = 0.40).",
    "Pain thresholds were reduced\u2009in FM; cortisol was not associated with pain.",
    "No significant difference was found. Neither did these markers.",
    "Patients showed impaired conditioned pain modulation and increased sensitivity.",
    "SLEEP QUALITY IMPROVED AFTER TREATMENT IN THE INTERVENTION GROUP.",
    "Substance P was elevated \u2013 twofold \u2013 compared with controls.",
    "Autonomic dysfunction is present; sympathetic tone was higher.",
)


def _variants(text: str) -> list[str]:
    """The text as written, upper and lower case, with each Unicode space for its spaces, and with ſ and K."""
    variants = [text, text.upper(), text.lower()]
    variants += [text.replace(" ", space) for space in _SPACES]
    variants += [text.replace("s", "\u017f").replace("k", "\u212a")]
    return variants


def _assert_over_selects(pattern: re.Pattern[str], screen: str, texts: list[str]) -> None:
    found = screened(stand_in_texts(pa.array(texts, pa.large_string())), screen).to_pylist()
    for text, kept in zip(texts, found):
        if pattern.search(text):
            assert kept, f"screen dropped {text!r}"


@pytest.mark.parametrize("category", FINDING_CATEGORIES)
def test_finding_screen_keeps_every_cue_python_finds(category):
    pattern = cue_pattern(category)
    texts = [variant for sentence in _SENTENCES for variant in _variants(sentence)]
    assert any(pattern.search(text) for text in texts) or category in ("anaphoric_null", "state", "benefit")
    _assert_over_selects(pattern, union_screen([pattern]), texts)


def test_finding_screen_drops_a_sentence_without_cues():
    screen = union_screen([cue_pattern(category) for category in FINDING_CATEGORIES])
    # "ns" (not significant) stands inside "sensitization": a word boundary the screen keeps.
    texts = ["Women with fibromyalgia took part.", "Study 12 of fibromyalgia and central sensitization"]
    assert screened(stand_in_texts(pa.array(texts)), screen).to_pylist() == [False, False]


def test_word_boundaries_stay_in_a_unicode_pattern_and_leave_an_ascii_one():
    pattern = re.compile(r"\bns\b")
    texts = ["p ns", "p\u00a0ns\u2009", "\u00e9ns", "sensitization"]
    _assert_over_selects(pattern, union_screen([pattern]), texts)
    assert screened(stand_in_texts(pa.array(texts)), union_screen([pattern])).to_pylist() == [True, True, False, False]
    ascii_pattern = re.compile(r"\bns\b", re.ASCII)
    _assert_over_selects(ascii_pattern, union_screen([ascii_pattern]), texts)


def test_each_causes_screen_keeps_every_term_and_measure_python_finds():
    hypotheses = load_hypotheses(DEFAULT_HYPOTHESES_PATH)
    rules = tagging.compile_rules(hypotheses)
    stance_rules = compile_stance_rules(hypotheses, rules)
    screens = _cause_screens(stance_rules)
    for cause, terms in stance_rules.term_patterns.items():
        # Each term's own words, written out, in sentences with Unicode spaces and other cases.
        samples = [re.sub(r"\\b|\[\\s\\-\]\?", lambda m: "" if m.group() == r"\b" else " ", expression)
                   for expression in terms.values()]
        texts = [normalised_text(variant) for sample in samples if re.fullmatch(r"[a-z0-9 \-]+", sample)
                 for variant in _variants(f"the {sample} was lower")]
        assert texts, cause
        for expression in terms.values():
            _assert_over_selects(re.compile(expression, re.ASCII), screens[cause].screen, texts)


def test_screen_pattern_drops_assertions_and_names():
    assert screen_pattern(r"(?<![\w-])(?P<c1>higher)(?!\w)\b") == r"(?:higher)\b"
    assert screen_pattern(r"\bhigher\b", ascii_classes=True) == "higher"
    assert screen_pattern("a\u2013b") == r"a\#b"
    assert screen_pattern(r"a\u2013b") == r"a\#b"
    # An assertion holding a class whose first "]" is a literal goes whole, up to its own closing bracket.
    assert screen_pattern(r"a(?![]])b") == "ab"
    assert screen_pattern(r"a(?![^]x])b") == "ab"


def test_screen_pattern_refuses_what_it_cannot_widen():
    with pytest.raises(ValueError):
        screen_pattern("[^\u2013]")
    with pytest.raises(ValueError):
        screen_pattern(r"(a)(?P=x)")


# --- the cue categories' screens, compiled together (Hyperscan) -------------------------------------------------

def test_the_cue_screens_keep_every_category_python_finds():
    screens = cue_screens()
    texts = [variant for sentence in _SENTENCES for variant in _variants(sentence)]
    found = set()
    for text in texts:
        may_match = screens.matching(text)
        for category in screens.names:
            if cue_pattern(category).search(text):
                found.add(category)
                assert category in may_match, f"the {category} screen dropped {text!r}"
    # The sentences hold cues of many categories, in every variant.
    assert len(found) >= 10


def test_the_cue_screens_leave_out_the_categories_a_text_cannot_hold():
    may_match = cue_screens().matching("Women with fibromyalgia took part.")
    assert {"null", "direction", "difference", "hedge"}.isdisjoint(may_match)
    assert "fibromyalgia_population" in may_match


def test_each_thread_scans_with_a_scratch_space_of_its_own():
    screens = ScreenSet({"lower": r"(?i)lower", "null": r"(?i)did\s+not\s+differ"})
    texts = ["HRV was lower.", "HRV did not differ.", "HRV was LOWER and did not differ."] * 300
    expected = [screens.matching(text) for text in texts]
    with ThreadPoolExecutor(max_workers=4) as pool:
        # A scratch space shared between threads fails a scan that finds it in use.
        results = list(pool.map(lambda chunk: [screens.matching(text) for text in chunk],
                                [texts[start::4] for start in range(4)]))
    assert [result for start in range(4) for result in results[start]] == \
        [found for start in range(4) for found in expected[start::4]]
    assert expected[:3] == [{"lower"}, {"null"}, {"lower", "null"}]


def test_without_hyperscan_every_screen_may_match(monkeypatch):
    monkeypatch.setattr(screen, "hyperscan", None)
    assert ScreenSet({"lower": "lower", "null": "not"}).matching("nothing here") == {"lower", "null"}


def test_on_a_processor_hyperscan_cannot_run_on_every_screen_may_match(monkeypatch):
    class OldProcessor(hyperscan.Database):
        def compile(self, *arguments, **keywords):
            raise hyperscan.ArchitectureError("no SSSE3")

    monkeypatch.setattr(hyperscan, "Database", OldProcessor)
    assert ScreenSet({"lower": "lower", "null": "not"}).matching("nothing here") == {"lower", "null"}


def test_a_screen_hyperscan_cannot_compile_is_an_error():
    with pytest.raises(hyperscan.error, match="parenthesis"):
        ScreenSet({"broken": "(unbalanced"})
