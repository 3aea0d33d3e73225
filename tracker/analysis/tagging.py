"""Tag articles with hypotheses, study design, species and integrity flags: pure pandas, no I/O.

The input is an articles DataFrame as `store.load_articles_frame` returns it: pmid, title, abstract, keywords,
mesh_terms, publication_types, corrections and, optionally, query_hypotheses (the hypotheses whose PubMed query
returned the article). `tag_articles` turns it into a tags frame (one row per article × hypothesis, with the terms
that matched and where) and a facets frame (one row per article: design, species, in vitro, integrity flags).

Matching. All hypotheses' terms compile once (`compile_rules`) into one pattern, factored on shared prefixes,
that runs over whole columns at once: Arrow's RE2 engine marks every match in a field of all articles in one
pass (`pyarrow.compute.replace_substring_regex`), a split picks the marked pieces out, and the few distinct
matched strings are then resolved to terms (with Python's `re` for the literal terms, whose patterns the tracker
writes; a "re:" pattern a user wrote runs on RE2 alone, which never backtracks). Text and terms are both lower-cased, Greek letters
spelled out ("α" → "alpha") and Unicode hyphens folded to "-", so "TNF-α" matches "TNF-alpha" and the other way
round. Inside a term, a space or hyphen, and the step between letters and digits, match a space, a hyphen or
nothing: "heart rate variability" finds "heart-rate variability", "IGF-1" finds "IGF1" and "IGF 1". A term
matches only as a whole word (ASCII word boundaries): "ATP" does not fire in "ATPase", "sympathetic" not in
"sympathy", "5-HT" not in "5-HTT" (the serotonin transporter is a term of its own). Plurals are not implied: list
them. A term written "re:PATTERN" is a regular expression in RE2's syntax (case-insensitive, at word boundaries:
no look-arounds, no back-references, groups written (?:...)), checked when the rules compile exactly as it runs.

Abbreviations never stand for a term by themselves: "SP" tags Substance P only where the same text defines it,
as in "substance P (SP)", which already carries the full term; the text's other uses of "SP" are then recorded as
matches of "SP (substance P)" so that a reader sees them highlighted too. Where a longer term is matched, the
shorter terms inside it are reported too ("childhood trauma" also carries "trauma"); a term that starts inside a
matched term and ends after it is not found there.

Design: the first that applies of meta-analysis, systematic review, RCT, other clinical trial (publication
types), then case report, narrative review, editorial / letter / comment (publication types: a review indexed
with "Cohort Studies" is a review of cohorts), then cohort, case-control, other observational (MeSH design terms
and publication types such as "Observational Study"), else "other". Species from the MeSH check tags Humans and
Animals, the human-only age groups and organism headings such as Rats or Mice. Integrity flags from the
publication types "Retracted Publication" / "Retraction of Publication" and the RetractionIn, RetractionOf,
ErratumIn and ExpressionOfConcernIn links.

The counting of tagged articles is `evidence`'s.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tracker.config import Hypothesis
from tracker.errors import ConfigError
# The design and species ids and the facet columns tagging assigns are the shared vocabulary's; tagging.DESIGNS and
# the like name the same objects.
from tracker.vocabulary import DESIGN_LABELS, DESIGNS, FACET_COLUMNS, GREEK_NAMES, SPECIES  # noqa: F401

FIELDS: tuple[str, ...] = ("title", "abstract", "keywords", "mesh")
TAG_COLUMNS: tuple[str, ...] = ("pmid", "hypothesis_id", "source", "matched_terms")

# Bump when the matcher or the design / species / integrity rules in this module change, so that every stored
# tag counts as made by other rules and the next fetch or `tracker retag` redoes it.
CODE_RULES_VERSION = "2026-11-25.3"

# The marker the scan wraps matches in; a text that carries it has it turned into a space first.
_MARK = "\x01"
# Hyphen look-alikes and the no-break spaces that PubMed abstracts carry, folded so that one pattern finds them all.
_FOLDINGS = {
    **GREEK_NAMES, "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2212": "-",
    "\u00a0": " ", "\u202f": " ", "\u2009": " ", _MARK: " ",
}
_FOLDED_CHARACTERS = re.compile("[" + re.escape("".join(_FOLDINGS)) + "]")
# Non-ASCII text, or text carrying the marker (or a NUL): only such rows need folding.
_UNUSUAL = r"[^\x02-\x7f]"
_JOINER = r"[\s\-]?"
_TERM_SPLIT = re.compile(r"[\s\-]+|(?<=[a-z])(?=[0-9])|(?<=[0-9])(?=[a-z])")
_IN_VITRO = r"\bin[\s\-]?vitro\b"
# "substance p (sp)": a bracketed run of 2-10 letters, digits or hyphens right after a term may define it.
_ABBREVIATION_TAIL = r"\s*[(\[]\s*[a-z][a-z0-9\-]{1,9}\s*[)\]]"
_DEFINITION = re.compile(r"(.*?)\s*[(\[]\s*([a-z][a-z0-9\-]{1,9})\s*[)\]]", re.DOTALL)

_DESIGN_PUBLICATION_TYPES: dict[str, frozenset[str]] = {
    "meta_analysis": frozenset({"Meta-Analysis", "Network Meta-Analysis"}),
    # A scoping review searches systematically even when it does not pool results.
    "systematic_review": frozenset({"Systematic Review", "Scoping Review"}),
    "rct": frozenset({"Randomized Controlled Trial", "Randomized Controlled Trial, Veterinary"}),
    "clinical_trial": frozenset({
        "Clinical Trial", "Clinical Trial, Phase I", "Clinical Trial, Phase II", "Clinical Trial, Phase III",
        "Clinical Trial, Phase IV", "Controlled Clinical Trial", "Pragmatic Clinical Trial", "Equivalence Trial",
        "Adaptive Clinical Trial", "Clinical Trial, Veterinary",
    }),
    "case_report": frozenset({"Case Reports"}),
    "narrative_review": frozenset({
        "Review", "Practice Guideline", "Guideline", "Consensus Development Conference",
        "Consensus Development Conference, NIH",
    }),
    "editorial": frozenset({"Editorial", "Letter", "Comment", "News", "Newspaper Article", "Interview", "Lecture",
                            "Address"}),
    "observational": frozenset({"Observational Study", "Observational Study, Veterinary", "Comparative Study",
                                "Multicenter Study", "Twin Study", "Validation Study", "Evaluation Study",
                                "Clinical Study"}),
}
_DESIGN_MESH: dict[str, frozenset[str]] = {
    # Retrospective studies are indexed mostly for retrospective cohorts; case-control studies have their own term.
    "cohort": frozenset({"Cohort Studies", "Prospective Studies", "Longitudinal Studies", "Follow-Up Studies",
                         "Retrospective Studies"}),
    "case_control": frozenset({"Case-Control Studies", "Matched-Pair Analysis"}),
    # "... as Topic" headings describe what an article is about, so none of them is used here.
    "observational": frozenset({"Cross-Sectional Studies", "Prevalence", "Health Surveys"}),
}
# Order of precedence. Synthesis and trial publication types come first; then the article forms (case report,
# review, editorial), because a review indexed with "Cohort Studies" describes its subject, not its own design;
# then the observational designs from MeSH and publication types.
_DESIGN_PRECEDENCE = ("meta_analysis", "systematic_review", "rct", "clinical_trial", "case_report",
                      "narrative_review", "editorial", "cohort", "case_control", "observational")

# The age groups are MeSH check tags used for people only, so they say "human" as clearly as Humans does.
_HUMAN_MESH = frozenset({"humans", "adult", "aged", "aged, 80 and over", "middle aged", "young adult", "adolescent",
                         "child", "child, preschool", "infant", "infant, newborn"})
_ANIMAL_MESH = re.compile(
    r"^(?:animals|rats?|mice|mice, [^;]*|rats, [^;]*|disease models, animal|dogs|cats|swine|horses|cattle|sheep|"
    r"rabbits|guinea pigs|primates|macaca(?: [a-z]+)?|zebrafish|drosophila(?: [a-z]+)?|cricetinae|mesocricetus)$"
)
_IN_VITRO_MESH = frozenset({"in vitro techniques", "cells, cultured"})


@dataclass(frozen=True)
class Term:
    """One tagging term of one hypothesis, compiled on word boundaries over normalised text."""

    hypothesis_id: str
    text: str
    # Python's compiled pattern of a literal term; None for a "re:" term, which must never run on a backtracking
    # engine: it runs on RE2 (Arrow's) alone.
    pattern: re.Pattern[str] | None
    # The term's letters and digits run together ("igf1"), or "" for a "re:" term: a quick pre-check.
    compact: str
    # The first letter of a phrase, which an abbreviation the text defines for it must share; "" otherwise.
    initial: str
    # The pattern as it runs (RE2 syntax, over normalised text), word boundaries included.
    expression: str = ""


@dataclass(frozen=True)
class Rules:
    """The compiled tagging rules of a hypotheses file; `version` is what stored tags are stamped with."""

    hypothesis_ids: tuple[str, ...]
    terms: tuple[Term, ...]
    scan_pattern: str | None
    version: str
    # The hypotheses compiled, so that a job given only the rules can read stances (their `expect`) too.
    hypotheses: tuple[Hypothesis, ...] = ()


class TagResult(NamedTuple):
    """What `tag_articles` returns: tags (pmid, hypothesis_id, source, matched_terms) and per-article facets."""

    tags: pd.DataFrame
    facets: pd.DataFrame
    rules_version: str


def _fold(match: re.Match[str]) -> str:
    return _FOLDINGS[match.group()]


def _normalised(values: pd.Series) -> pa.Array:
    """Lower-case a column of text and fold Greek letters and hyphen look-alikes as the matcher expects."""
    text = pa.array(values, from_pandas=True)
    if isinstance(text, pa.ChunkedArray):  # pandas' Arrow-backed strings, as read from SQLite, come in chunks
        text = text.combine_chunks() if text.num_chunks else pa.array([], pa.large_string())
    text = pc.fill_null(text.cast(pa.large_string()) if len(text) else pa.array([], pa.large_string()), "")
    lowered = pc.utf8_lower(text)
    # Most abstracts are ASCII without the marker: the folding regex runs on the few others only.
    unusual = pc.match_substring_regex(lowered, pattern=_UNUSUAL)
    if not pc.any(unusual).as_py():
        return lowered
    positions = np.flatnonzero(unusual.to_numpy(zero_copy_only=False))
    folded = [_FOLDED_CHARACTERS.sub(_fold, text) for text in pc.take(lowered, positions).to_pylist()]
    # Put the folded texts in place with one take: Arrow's replace_with_mask is several times slower on long text.
    order = np.arange(len(lowered))
    order[positions] = len(lowered) + np.arange(len(positions))
    return pc.take(pa.concat_arrays([lowered, pa.array(folded, type=pa.large_string())]), order)


def normalised_text(text: str) -> str:
    """One text lower-cased and folded as the matcher sees it, for `Term.pattern` (used by `stance`)."""
    lowered = text.lower()
    # Most abstracts are ASCII without the marker: nothing in them folds.
    if lowered.isascii() and _MARK not in lowered:
        return lowered
    return _FOLDED_CHARACTERS.sub(_fold, lowered)


def _is_word_character(character: str) -> bool:
    # RE2's \b knows ASCII letters and digits only; the Python side is compiled with re.ASCII to agree.
    return character.isascii() and (character.isalnum() or character == "_")


def _escape(character: str) -> str:
    """A literal character in the syntax both RE2 and Python's re accept."""
    return character if character.isalnum() or not character.isascii() else "\\" + character


def _check_re2(hypothesis_id: str, term: str, pattern: str) -> None:
    try:
        pc.match_substring_regex(pa.array([""]), pattern=pattern)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
        raise ConfigError(
            f'[{hypothesis_id}] term "{term}" is not a valid pattern for the matcher ({error}); write it in RE2 '
            f'syntax (no look-arounds or back-references), or drop the "re:" prefix to match the words literally'
        ) from None


def _checked_regex(hypothesis_id: str, term: str) -> str:
    """The pattern a "re:" term runs as, checked by the engine that runs it (RE2); ConfigError when unusable."""
    body = term[3:]
    # Text is lower-cased before matching: the inline flag keeps an upper-case pattern working.
    pattern = rf"\b(?i:{body})\b"
    # The body alone first: one that is only valid once wrapped ("a)|(?:b") would change the wrapping's meaning.
    _check_re2(hypothesis_id, term, body)
    _check_re2(hypothesis_id, term, pattern)
    if pc.match_substring_regex(pa.array([""]), pattern=f"^(?:{body})")[0].as_py():
        raise ConfigError(f'[{hypothesis_id}] term "{term}" matches empty text; '
                          f'make the pattern require at least one character')
    try:
        named_groups = pc.extract_regex(pa.array([""]), pattern=f"(?P<whole>{body})").type.num_fields - 1
    except pa.ArrowInvalid:  # "contains unnamed groups"
        named_groups = 1
    if named_groups:
        raise ConfigError(f'[{hypothesis_id}] term "{term}" has a capturing group; '
                          f'write its groups as (?:...)')
    return pattern


def _term_tokens(hypothesis_id: str, term: str) -> tuple[str, ...]:
    """A literal term as its lower-case, Greek-folded pieces: "IGF-1" → ("igf", "1")."""
    tokens = tuple(token for token in _TERM_SPLIT.split(_FOLDED_CHARACTERS.sub(_fold, term.lower())) if token)
    if not tokens:
        raise ConfigError(f'[{hypothesis_id}] term "{term}" has no letters or digits; remove it')
    return tokens


def _boundary(character: str) -> str:
    r"""The word boundary on the side of a term's first or last character.

    \B next to a punctuation mark means "no letter or digit on the other side", as \b does next to a letter.
    """
    return r"\b" if _is_word_character(character) else r"\B"


def _literal_pattern(tokens: tuple[str, ...]) -> str:
    body = _JOINER.join("".join(_escape(character) for character in token) for token in tokens)
    return _boundary(tokens[0][0]) + body + _boundary(tokens[-1][-1])


def _trie_pattern(token_sequences: set[tuple[str, ...]]) -> str:
    """One regular expression for many literal terms, factored on shared prefixes, with word boundaries.

    A plain alternation tries its terms one after another at every word; "s(?:leep|low…|ympathetic)" decides
    on the first letter. Each node tries its longer continuations before ending, so where two terms start at one
    place the longer one is found ("slow-wave sleep", not "slow").
    """
    root: dict = {}
    for tokens in token_sequences:
        node = root
        for position, token in enumerate(tokens):
            if position:
                node = node.setdefault(_JOINER, {})
            for character in token:
                node = node.setdefault(character, {})
        node[""] = {}

    def emit(node: dict, last_character: str) -> str:
        branches = [(key if key == _JOINER else _escape(key)) + emit(child, key)
                    for key, child in sorted(node.items()) if key]
        if "" in node:
            branches.append(_boundary(last_character))
        return branches[0] if len(branches) == 1 else f"(?:{'|'.join(branches)})"

    return "|".join(_boundary(key) + _escape(key) + emit(child, key) for key, child in sorted(root.items()))


def compile_rules(hypotheses: Sequence[Hypothesis], source: str = "hypotheses file") -> Rules:
    """Compile every hypothesis' terms once; a term that is not valid raises ConfigError naming `source`, the
    hypothesis and the term (pass the hypotheses file's path as `source`)."""
    try:
        return _compile_rules(hypotheses)
    except ConfigError as error:
        raise ConfigError(f"{source}: {error}") from None


def _compile_rules(hypotheses: Sequence[Hypothesis]) -> Rules:
    terms: list[Term] = []
    literals: set[tuple[str, ...]] = set()
    expressions: list[str] = []
    for hypothesis in hypotheses:
        seen_patterns: set[str] = set()
        for term in hypothesis.terms:
            if term.startswith("re:"):
                pattern = _checked_regex(hypothesis.id, term)
                expressions.append(pattern)
                compact = initial = ""
                compiled = None
            else:
                tokens = _term_tokens(hypothesis.id, term)
                pattern = _literal_pattern(tokens)
                literals.add(tokens)
                compact = "".join(tokens)
                # Only phrases get abbreviations worth following: "substance P (SP)", not "ATP (adenosine ...)".
                initial = tokens[0][0] if len(tokens) > 1 else ""
                compiled = re.compile(pattern, re.ASCII)
            # "neurokinin-1" and "neurokinin 1" are one rule here: report the first spelling only.
            if pattern in seen_patterns:
                continue
            seen_patterns.add(pattern)
            terms.append(Term(hypothesis.id, term, compiled, compact, initial, pattern))
    alternatives = list(dict.fromkeys(expressions))
    if literals:
        alternatives.append(_trie_pattern(literals))
    # A bracketed abbreviation right after a term joins its match, to be read as a possible definition.
    scan_pattern = f"(?:{'|'.join(alternatives)})(?:{_ABBREVIATION_TAIL})?" if alternatives else None
    if scan_pattern is not None:
        try:
            pc.match_substring_regex(pa.array([""]), pattern=scan_pattern)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
            raise ConfigError(f"the terms together do not compile for the matcher ({error}); "
                              f"remove some terms or replace lists of terms by a re: pattern") from None
    fingerprint = json.dumps(
        [CODE_RULES_VERSION, [[h.id, h.baseline, list(h.terms)] for h in hypotheses]], ensure_ascii=False)
    return Rules(
        hypothesis_ids=tuple(h.id for h in hypotheses),
        terms=tuple(terms),
        scan_pattern=scan_pattern,
        version=hashlib.sha256(fingerprint.encode()).hexdigest()[:12],
        hypotheses=tuple(hypotheses),
    )


def _joined(frame: pd.DataFrame, column: str) -> pd.Series:
    """A list column as one "; "-separated string per row, so a term never spans two entries."""
    if column not in frame:
        return pd.Series("", index=frame.index, dtype=object)
    return frame[column].map(lambda values: "; ".join(values) if isinstance(values, (list, tuple)) else "")


def _field_texts(frame: pd.DataFrame) -> dict[str, pa.Array]:
    empty = pd.Series("", index=frame.index, dtype=object)
    return {
        "title": _normalised(frame["title"]),
        "abstract": _normalised(frame.get("abstract", empty)),
        "keywords": _normalised(_joined(frame, "keywords")),
        "mesh": _normalised(_joined(frame, "mesh_terms")),
    }


def _scan(texts: dict[str, pa.Array], pattern: str) -> tuple[np.ndarray, np.ndarray, pa.Array]:
    """Every match in every field, as (rows, field numbers, matched strings), one RE2 pass per field."""
    rows, fields, matched = [], [], []
    for field_number, field in enumerate(FIELDS):
        # Wrapping each match in markers and splitting on them puts the matches at the odd places of each list.
        marked = pc.replace_substring_regex(texts[field], pattern=pattern, replacement=f"{_MARK}\\0{_MARK}")
        pieces = pc.split_pattern(marked, _MARK)
        parents = pc.list_parent_indices(pieces).to_numpy()
        flat = pc.list_flatten(pieces)
        offsets = pieces.offsets.to_numpy()
        odd = (np.arange(len(flat)) - offsets[parents]) % 2 == 1
        rows.append(parents[odd].astype("int64"))
        fields.append(np.full(int(odd.sum()), field_number, dtype="int64"))
        matched.append(flat.filter(pa.array(odd)).cast(pa.large_string()))
    return np.concatenate(rows), np.concatenate(fields), pa.concat_arrays(matched)


def _is_abbreviation_of(abbreviation: str, term: Term) -> bool:
    """Whether "sp" can abbreviate "substance p": same first letter, the rest in order among the term's."""
    if not term.initial or abbreviation[0] != term.initial:
        return False
    remaining = iter(term.compact)
    return all(character in remaining for character in abbreviation.replace("-", ""))


def _resolve(matched_text: str, rules: Rules, regex_found: list[int]) -> tuple[list[int], str, list[int]]:
    """One distinct matched string → the terms inside it, a bracketed abbreviation after it, the terms it defines.

    A longer term can hold another hypothesis' shorter one ("childhood trauma" holds "trauma"), and the brackets
    can hold a term ("somatomedin c (igf-1)"), so every term is looked for in the whole string. `regex_found`
    holds the "re:" terms RE2 found in it (`_regex_matches`).
    """
    compact = re.sub(r"[\s\-]", "", matched_text)
    found = sorted([index for index, term in enumerate(rules.terms)
                    if term.pattern is not None and term.compact in compact and term.pattern.search(matched_text)]
                   + regex_found)
    definition = _DEFINITION.fullmatch(matched_text)
    if definition is None:
        return found, "", []
    abbreviation = definition.group(2)
    # Only a phrase (a literal term with an initial) is followed into abbreviations: never a "re:" term.
    defined = [index for index in found
               if _is_abbreviation_of(abbreviation, rules.terms[index])
               and rules.terms[index].pattern.search(definition.group(1))]  # type: ignore[union-attr]
    return found, abbreviation, defined


def _regex_matches(dictionary: pa.Array, rules: Rules) -> tuple[list[list[int]], dict[int, list[str | None]]]:
    """Run each "re:" term on RE2 over the distinct matched strings: per string the terms found in it, and per
    term the text it matched in each string (None where it did not)."""
    found: list[list[int]] = [[] for _ in range(len(dictionary))]
    texts: dict[int, list[str | None]] = {}
    for index, term in enumerate(rules.terms):
        if term.pattern is not None:
            continue
        matched = pc.struct_field(pc.extract_regex(dictionary, pattern=f"(?P<whole>{term.expression})"), [0])
        texts[index] = matched.to_pylist()
        for position in np.flatnonzero(matched.is_valid().to_numpy(zero_copy_only=False)).tolist():
            found[position].append(index)
    return found, texts


def _ragged_take(lists: list[list[int]], codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each position i, the items of lists[codes[i]]: (position of each item, item), without a Python loop."""
    lengths = np.array([len(items) for items in lists], dtype="int64")
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype("int64")
    items = np.array([item for entry in lists for item in entry], dtype="int64")
    per_position = lengths[codes]
    positions = np.repeat(np.arange(len(codes)), per_position)
    within = np.arange(int(per_position.sum())) - np.repeat(np.cumsum(per_position) - per_position, per_position)
    return positions, items[np.repeat(starts[codes], per_position) + within] if len(items) else items


def _regex_labels(term_numbers: np.ndarray, codes: np.ndarray, regex_texts: dict[int, list[str | None]],
                  rules: Rules, labels: list[str]) -> np.ndarray:
    """Label each match with its term, except that a "re:" term shows the text it matched ("5-ht2a"), not itself.

    A reader auditing a tag, and the dashboard highlighting it, need words that stand in the article.
    """
    shown = term_numbers.copy()
    regex_terms = np.array([term.pattern is None for term in rules.terms] or [False])
    for index in np.flatnonzero(regex_terms[term_numbers]):
        term_number = int(term_numbers[index])
        text = regex_texts[term_number][int(codes[index])] or rules.terms[term_number].text
        if text not in labels:
            labels.append(text)
        shown[index] = labels.index(text)
    return shown


def _text_matches(texts: dict[str, pa.Array], rules: Rules) -> tuple[dict[str, np.ndarray], list[str]]:
    """Arrays row, field, term, label for every term, or defined abbreviation of one, found in a field.

    `label` indexes the returned list of labels: a term's own text, or "SP (substance P)" for an abbreviation.
    """
    labels = [term.text for term in rules.terms]
    if rules.scan_pattern is None:
        return {name: np.zeros(0, dtype="int64") for name in ("row", "field", "term", "label")}, labels
    rows, fields, matched = _scan(texts, rules.scan_pattern)
    encoded = pc.dictionary_encode(matched)
    codes = encoded.indices.to_numpy(zero_copy_only=False).astype("int64")
    dictionary = encoded.dictionary.to_pylist()
    regex_found, regex_texts = _regex_matches(encoded.dictionary, rules)
    resolved = [_resolve(text, rules, found) for text, found in zip(dictionary, regex_found)]
    positions, term_numbers = _ragged_take([found for found, _, _ in resolved], codes)
    pieces = [(rows[positions], fields[positions], term_numbers,
               _regex_labels(term_numbers, codes[positions], regex_texts, rules, labels))]

    # Where a title or abstract defines an abbreviation for a term, its other uses in that text count too.
    prose = np.flatnonzero(fields <= FIELDS.index("abstract"))
    positions, defined_terms = _ragged_take([defined for _, _, defined in resolved], codes[prose])
    abbreviations = np.array([abbreviation for _, abbreviation, _ in resolved], dtype=object)
    definitions = pd.DataFrame({"row": rows[prose][positions], "term": defined_terms,
                                "abbreviation": abbreviations[codes[prose][positions]]}).drop_duplicates()
    for abbreviation, group in definitions.groupby("abbreviation"):
        # RE2 has no look-behind: the characters around the abbreviation are matched instead.
        use = rf"(?:^|[^\w(\[]){re.escape(abbreviation)}(?:[^\w)\]]|$)"
        defining_rows = np.unique(group["row"].to_numpy())
        for field in ("title", "abstract"):
            used = pc.match_substring_regex(pc.take(texts[field], defining_rows), pattern=use)
            used_rows = defining_rows[used.to_numpy(zero_copy_only=False)]
            for term_number, term_rows in group[group["row"].isin(used_rows)].groupby("term")["row"]:
                label = f"{abbreviation.upper()} ({rules.terms[term_number].text})"
                if label not in labels[len(rules.terms):]:
                    labels.append(label)
                count = len(term_rows)
                pieces.append((term_rows.to_numpy(dtype="int64"), np.full(count, FIELDS.index(field)),
                               np.full(count, term_number), np.full(count, labels.index(label, len(rules.terms)))))
    return {name: np.concatenate([piece[number] for piece in pieces]).astype("int64")
            for number, name in enumerate(("row", "field", "term", "label"))}, labels


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    """np.unique by sorting: NumPy 2's hash-based unique is several times slower on millions of distinct keys."""
    ordered = np.sort(values, kind="stable")
    return ordered[np.concatenate(([True], ordered[1:] != ordered[:-1]))] if len(ordered) else ordered


def _tags_frame(frame: pd.DataFrame, rules: Rules, texts: dict[str, pa.Array]) -> pd.DataFrame:
    matches, labels = _text_matches(texts, rules)
    hypothesis_count, field_count, label_count = len(rules.hypothesis_ids), len(FIELDS), len(labels)
    hypothesis_numbers = {hypothesis_id: number for number, hypothesis_id in enumerate(rules.hypothesis_ids)}
    term_hypotheses = np.array([hypothesis_numbers[term.hypothesis_id] for term in rules.terms] or [0])
    # One int64 key per match, ordered as the entries should be listed: article, hypothesis, field, then the
    # term's place in the file (defined abbreviations after all terms); np.unique sorts and de-duplicates at once.
    text_keys = matches["row"] * hypothesis_count + term_hypotheses[matches["term"]]
    entry_keys = _sorted_unique((text_keys * field_count + matches["field"]) * label_count + matches["label"])
    pair_codes = entry_keys % (field_count * label_count)
    text_keys = entry_keys // (field_count * label_count)

    # Each (field, label) pair becomes one {"term", "field"} entry, built once and shared by the tags that have it.
    entries = np.empty(field_count * label_count, dtype=object)
    for pair in np.flatnonzero(np.bincount(pair_codes, minlength=field_count * label_count)).tolist():
        entries[pair] = {"term": labels[pair % label_count], "field": FIELDS[pair // label_count]}
    ordered_entries = entries[pair_codes].tolist()
    starts = np.flatnonzero(np.diff(text_keys, prepend=-1))
    ends = np.append(starts[1:], len(text_keys))
    text_keys = text_keys[starts]

    query_keys = np.zeros(0, dtype="int64")
    if "query_hypotheses" in frame:
        linked = frame["query_hypotheses"].explode().dropna()
        linked = linked[linked.isin(rules.hypothesis_ids)]
        query_keys = _sorted_unique(linked.index.to_numpy(dtype="int64") * hypothesis_count
                               + linked.map(hypothesis_numbers).to_numpy(dtype="int64"))
    keys = _sorted_unique(np.concatenate([text_keys, query_keys]).astype("int64"))
    text_positions = np.searchsorted(keys, text_keys)
    in_text = np.zeros(len(keys), dtype=bool)
    in_text[text_positions] = True
    in_query = np.zeros(len(keys), dtype=bool)
    in_query[np.searchsorted(keys, query_keys)] = True
    matched_terms: list[list[dict[str, str]]] = [None] * len(keys)  # type: ignore[list-item]
    for position, start, end in zip(text_positions.tolist(), starts.tolist(), ends.tolist()):
        matched_terms[position] = ordered_entries[start:end]
    for position in np.flatnonzero(~in_text).tolist():
        matched_terms[position] = []
    return pd.DataFrame({
        "pmid": frame["pmid"].to_numpy(dtype="int64")[keys // hypothesis_count],
        "hypothesis_id": pd.Series(np.array(rules.hypothesis_ids, dtype=object)[keys % hypothesis_count]
                                   if len(keys) else [], dtype=object),
        "source": pd.Series(np.select([in_text & in_query, in_text], ["query+text", "text"], default="query"),
                            dtype=object),
        "matched_terms": pd.Series(matched_terms, dtype=object),
    })


def _any_per_row(values: pd.Series, row_count: int) -> np.ndarray:
    """For an exploded boolean Series indexed by row, whether any entry of each row is True."""
    result = np.zeros(row_count, dtype=bool)
    true_rows = values.index[values.to_numpy(dtype=bool)]
    result[np.asarray(true_rows, dtype=np.int64)] = True
    return result


def _facets_frame(frame: pd.DataFrame, texts: dict[str, pa.Array]) -> pd.DataFrame:
    rows = len(frame)
    publication_types = frame["publication_types"].reset_index(drop=True).explode().dropna()
    mesh = frame["mesh_terms"].reset_index(drop=True).explode().dropna()
    mesh_lower = mesh.astype(str).str.lower()

    def has_type(names: frozenset[str]) -> np.ndarray:
        return _any_per_row(publication_types.isin(names), rows)

    def has_mesh(names: frozenset[str]) -> np.ndarray:
        return _any_per_row(mesh.isin(names), rows)

    designs = {design: has_type(_DESIGN_PUBLICATION_TYPES.get(design, frozenset()))
               | has_mesh(_DESIGN_MESH.get(design, frozenset())) for design in _DESIGN_PRECEDENCE}
    design = np.select([designs[name] for name in _DESIGN_PRECEDENCE], list(_DESIGN_PRECEDENCE), default="other")

    human = _any_per_row(mesh_lower.isin(_HUMAN_MESH), rows)
    animal = _any_per_row(mesh_lower.str.match(_ANIMAL_MESH), rows)
    species = np.select([human & animal, human, animal], ["both", "human", "animal"], default="unknown")
    in_vitro = (_any_per_row(mesh_lower.isin(_IN_VITRO_MESH), rows)
                | pc.match_substring_regex(texts["title"], pattern=_IN_VITRO).to_numpy(zero_copy_only=False)
                | pc.match_substring_regex(texts["abstract"], pattern=_IN_VITRO).to_numpy(zero_copy_only=False))

    corrections = frame["corrections"].reset_index(drop=True).explode().dropna() \
        if "corrections" in frame else pd.Series(dtype=object)
    reference_types = corrections.map(lambda correction: correction.get("ref_type"))

    def has_reference(ref_type: str) -> np.ndarray:
        return _any_per_row(reference_types == ref_type, rows)

    return pd.DataFrame({
        "pmid": frame["pmid"].to_numpy(dtype="int64"),
        "design": pd.Series(design, dtype=object),
        "species": pd.Series(species, dtype=object),
        "in_vitro": in_vitro,
        "retracted": has_type(frozenset({"Retracted Publication"})) | has_reference("RetractionIn"),
        "retraction_notice": has_type(frozenset({"Retraction of Publication"})) | has_reference("RetractionOf"),
        "has_erratum": has_reference("ErratumIn"),
        "expression_of_concern": has_reference("ExpressionOfConcernIn"),
    })


def tag_articles(articles: pd.DataFrame, hypotheses: Sequence[Hypothesis] | Rules) -> TagResult:
    """Tag an articles frame with hypotheses (terms and query links), design, species and integrity flags."""
    rules = hypotheses if isinstance(hypotheses, Rules) else compile_rules(hypotheses)
    frame = articles.reset_index(drop=True)
    texts = _field_texts(frame)
    return TagResult(_tags_frame(frame, rules, texts), _facets_frame(frame, texts), rules.version)
