"""Candidates and their mentions: which baseline articles mention each MeSH descriptor, chemical, keyword and
noun phrase, per year, with the exclusions and nesting applied."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tracker.analysis.emerging.exclusions import GENERIC_CATEGORY, exclusion_table
from tracker.analysis.emerging.method import CHEMICAL_COLUMNS, KINDS, Method
from tracker.analysis.emerging.words import MODIFIER_SUFFIXES, MODIFIER_WORDS, NUMBER, STOP_SUFFIXES, STOP_WORDS, SUFFIX_EXCEPTIONS, canonical_word, fold, normalise_phrase, split_raw_token
from tracker.config import Hypothesis, baseline_id_of


# Reads the batches of `baseline_articles` rows afresh, in the same order, each time it is called; called with
# names=False, the batches may leave out the columns of names (MeSH, keywords, chemicals): a pass over the words.
Batches = Callable[..., Iterable[pd.DataFrame]]


class Tallies(NamedTuple):
    """How many articles mention a candidate, per (candidate, year available, year published) that has any."""

    candidates: np.ndarray
    available_years: np.ndarray
    pub_years: np.ndarray
    articles: np.ndarray


class Mentions(NamedTuple):
    """Which baseline articles mention which candidate: the extraction, done once, scored as of any year."""

    pmids: np.ndarray            # per article
    pub_years: np.ndarray        # per article
    available_years: np.ndarray  # per article: the year it counts from
    candidates: pd.DataFrame     # key, term, kind, articles, variants, mesh_names, excluded_by, nested_in
    tallies: Tallies
    # Reads the articles again: per batch, its unique (article position, candidate) pairs, as two arrays.
    pair_batches: Callable[[], Iterator[tuple[np.ndarray, np.ndarray]]]


def _year_of(dates: pd.Series) -> np.ndarray:
    """The year of ISO date texts ("2019-11-04"); -1 where unknown."""
    text = pd.Series(dates, dtype="str").str.slice(0, 4)
    return pd.to_numeric(text.where(text.str.fullmatch(r"[0-9]{4}")), errors="coerce").fillna(-1).astype(
        "int64").to_numpy()


def baseline_articles(catalogue: pd.DataFrame, hypotheses: Sequence[Hypothesis], as_of: int) -> pd.DataFrame:
    """The catalogue rows the method counts as of the end of `as_of`: baseline, not retracted, of known year.

    Adds `available_year`: the later of the entry year (else the publication year) and the publication year.
    Without a baseline hypothesis every article is a baseline article.
    """
    baseline_id = baseline_id_of(hypotheses)
    keep = pd.Series(True, index=catalogue.index)
    if baseline_id is not None:
        keep &= catalogue["hypotheses"].map(lambda ids: baseline_id in ids).astype(bool)
    if "retracted" in catalogue:
        keep &= ~catalogue["retracted"].astype(bool)
    pub_years = pd.array(catalogue["pub_year"], dtype="Int64").fillna(-1).to_numpy(dtype="int64")
    entry_years = _year_of(catalogue["entry_date"]) if "entry_date" in catalogue else np.full(len(catalogue), -1)
    available = np.maximum(np.where(entry_years > 0, entry_years, pub_years), pub_years)
    keep &= (pub_years > 0) & (available <= as_of)
    positions = np.flatnonzero(keep.to_numpy(dtype=bool))
    rows = catalogue.iloc[positions].reset_index(drop=True)
    rows["pub_year"] = pub_years[positions]
    rows["available_year"] = available[positions]
    return rows


def _lists(column: pd.Series) -> list[list]:
    """A column of JSON lists (bytes or text, as the catalogue holds them) or of lists, as lists."""
    values = column.tolist()
    if values and all(isinstance(value, (bytes, bytearray)) for value in values):
        return json.loads(b"[" + b",".join(values) + b"]")
    if values and all(isinstance(value, str) for value in values):
        return json.loads("[" + ",".join(values) + "]")
    return [json.loads(value) if isinstance(value, (bytes, bytearray, str)) else list(value or ())
            for value in values]


def _name_of(item: object) -> str | None:
    if isinstance(item, str):
        return item
    if isinstance(item, dict):
        for key in ("descriptor", "name", "substance"):
            if isinstance(item.get(key), str):
                return item[key]
    return None


_JSON_STRING = rb'"((?:[^"\\]|\\.)*)"'
# What a MeSH heading's name looks like in the stored JSON, and any JSON string (a keyword in its list).
_DESCRIPTOR_PATTERN = rb'"descriptor":\s*' + _JSON_STRING
_STRING_PATTERN = _JSON_STRING


def _json_strings(values: list, pattern: bytes) -> tuple[np.ndarray, np.ndarray, list[str]] | None:
    """Per row the count of `pattern`'s matches in its JSON bytes, per match its string's place among the distinct
    ones, and those decoded; None unless every value is JSON bytes. One regular-expression pass over all rows
    instead of decoding every row."""
    if not values or not all(isinstance(value, (bytes, bytearray)) for value in values):
        return None
    counts = pc.count_substring_regex(pa.array(values, type=pa.large_binary()),
                                      pattern=pattern.decode()).to_numpy(zero_copy_only=False)
    found = re.findall(pattern, b"\x00".join(values))
    codes, distinct = pd.factorize(pd.Series(found, dtype=object))
    decoded = [json.loads(b'"' + text + b'"') if b"\\" in text else text.decode() for text in distinct]
    return counts.astype("int64"), codes.astype("int64"), decoded


def _named_mentions(articles: pd.DataFrame) -> list[tuple[str, np.ndarray, np.ndarray, list[str]]]:
    """Per source of names (MeSH headings, chemicals, keywords): (kind, article positions, name codes, names),
    a mention's article and its name's place in `names`, which holds each name once (and maybe a blank one that
    no mention keeps)."""
    sources = []
    mesh_column = "mesh" if "mesh" in articles else "mesh_terms" if "mesh_terms" in articles else None
    columns = [("mesh", mesh_column), *(("chemical", name) for name in CHEMICAL_COLUMNS if name in articles),
               ("keyword", "keywords" if "keywords" in articles else None)]
    for kind, column in columns:
        if column is None or articles.empty:
            continue
        values = articles[column].tolist()
        pattern = _DESCRIPTOR_PATTERN if column == "mesh" else _STRING_PATTERN if kind == "keyword" else None
        quick = _json_strings(values, pattern) if pattern else None
        if quick is not None:
            lengths, codes, names = quick
        else:
            lists = _lists(articles[column])
            lengths = np.fromiter((len(items) for items in lists), dtype="int64", count=len(lists))
            codes, distinct = pd.factorize(pd.Series([_name_of(item) for items in lists for item in items],
                                                     dtype=object))
            codes, names = codes.astype("int64"), list(distinct)
        positions = np.repeat(np.arange(len(values)), lengths)
        named = np.array([bool(name and name.strip()) for name in names], dtype=bool)
        present = (codes >= 0) & named[np.maximum(codes, 0)] if len(names) else np.zeros(len(codes), dtype=bool)
        sources.append((kind, positions[present], codes[present], names))
    return sources


def _tokens(articles: pd.DataFrame) -> tuple[pa.Array, np.ndarray]:
    """The whitespace tokens of every title and abstract, dictionary-encoded, and each token's segment
    (2 * article position + 0 for the title, 1 for the abstract)."""
    flats, segments = [], []
    for field_number, column in enumerate(("title", "abstract")):
        if column not in articles:
            continue
        text = pa.array(articles[column], type=pa.large_string(), from_pandas=True)
        if isinstance(text, pa.ChunkedArray):
            text = text.combine_chunks()
        tokens = pc.ascii_split_whitespace(pc.fill_null(text, ""))
        flats.append(pc.list_flatten(tokens))
        segments.append(pc.list_parent_indices(tokens).to_numpy().astype("int64") * 2 + field_number)
    if not flats:
        return pa.array([], pa.large_string()).dictionary_encode(), np.zeros(0, dtype="int64")
    return pc.dictionary_encode(pa.concat_arrays(flats)), np.concatenate(segments)


class _Vocabulary(NamedTuple):
    words: np.ndarray          # canonical word per word id
    modifier: np.ndarray       # per word id
    part_offsets: np.ndarray   # per raw token: where its parts start in the part arrays (CSR)
    part_words: np.ndarray     # per part: word id, -1 for a stop word, a number or no word
    part_breaks_after: np.ndarray
    part_breaks_before: np.ndarray
    forms: dict[str, set[str]]  # canonical word -> the spellings seen


def _vocabulary(raw_tokens: list[str], extra_words: Iterable[str]) -> _Vocabulary:
    """Classify every distinct raw token once: its parts, their canonical words and the phrase breaks."""
    split = [split_raw_token(token) for token in raw_tokens]
    parts = {part for token_parts, *_ in split for part in token_parts if part}
    attested = frozenset(parts | set(extra_words))
    canonical = {part: canonical_word(part, attested) for part in parts}
    words = sorted({word for part, word in canonical.items() if _is_content(part, word)})
    word_ids = {word: position for position, word in enumerate(words)}
    forms: dict[str, set[str]] = {}
    for part, word in canonical.items():
        forms.setdefault(word, set()).add(part)
    part_words: list[int] = []
    breaks_after: list[bool] = []
    breaks_before: list[bool] = []
    counts = np.zeros(len(split), dtype="int64")
    for position, (token_parts, before, after, inner) in enumerate(split):
        counts[position] = len(token_parts)
        last = len(token_parts) - 1
        for number, part in enumerate(token_parts):
            part_words.append(word_ids.get(canonical[part], -1) if part and _is_content(part, canonical[part]) else -1)
            breaks_before.append(before and number == 0)
            breaks_after.append(inner[number] or (after and number == last))
    return _Vocabulary(
        words=np.array(words, dtype=object), modifier=np.array([_is_modifier(word) for word in words], dtype=bool),
        part_offsets=np.concatenate([[0], np.cumsum(counts)]), part_words=np.array(part_words, dtype="int64"),
        part_breaks_after=np.array(breaks_after, dtype=bool), part_breaks_before=np.array(breaks_before, dtype=bool),
        forms=forms)


def _is_content(part: str, word: str) -> bool:
    """Whether a word may stand in a noun phrase: no stop word, number or single character."""
    return (part not in STOP_WORDS and word not in STOP_WORDS and len(word) > 1 and not NUMBER.match(word)
            and not word.isdigit() and not _has_suffix(word, STOP_SUFFIXES))


def _is_modifier(word: str) -> bool:
    """Whether a word may stand inside a noun phrase but not at its end."""
    return word in MODIFIER_WORDS or _has_suffix(word, MODIFIER_SUFFIXES)


def _has_suffix(word: str, suffixes: tuple[str, ...]) -> bool:
    return len(word) >= 5 and word.endswith(suffixes) and word not in SUFFIX_EXCEPTIONS


class _WordStream(NamedTuple):
    word_ids: np.ndarray   # per word of every title and abstract, -1 where a phrase cannot pass
    joined: np.ndarray     # per word but the last: True where a phrase may run on into the next word
    articles: np.ndarray   # per word: the article position


def _word_stream(codes: np.ndarray, segments: np.ndarray, vocabulary: _Vocabulary) -> _WordStream:
    """Expand the token stream into words (a hyphenated token is several), with where phrases may continue."""
    counts = np.diff(vocabulary.part_offsets)[codes]
    token_of_word = np.repeat(np.arange(len(codes)), counts)
    firsts = np.cumsum(counts) - counts
    parts = vocabulary.part_offsets[codes][token_of_word] + (np.arange(len(token_of_word)) - firsts[token_of_word])
    word_ids = vocabulary.part_words[parts]
    word_segments = segments[token_of_word]
    joined = ((word_ids[:-1] >= 0) & (word_ids[1:] >= 0) & (word_segments[:-1] == word_segments[1:])
              & ~vocabulary.part_breaks_after[parts[:-1]] & ~vocabulary.part_breaks_before[parts[1:]])
    return _WordStream(word_ids, joined, word_segments // 2)


# Sorting, not hashing: on tens of millions of mostly distinct integers a hash table (pandas' unique, numpy's
# default unique) is more than ten times slower than a sort.
def _distinct(keys: np.ndarray) -> np.ndarray:
    """The distinct values of an integer array, sorted."""
    ordered = np.sort(keys)
    return ordered[np.r_[True, ordered[1:] != ordered[:-1]]] if len(ordered) else ordered


def _factorized(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sorted distinct values, each key's position among them) of an integer array."""
    if not len(keys):
        return keys, np.zeros(0, dtype="int64")
    order = np.argsort(keys)
    ordered = keys[order]
    starts = np.r_[True, ordered[1:] != ordered[:-1]]
    codes = np.empty(len(keys), dtype="int64")
    codes[order] = np.cumsum(starts) - 1
    return ordered[starts], codes


class _Encoded(NamedTuple):
    """A batch as the passes after the first read it: its tokens as places in the corpus' dictionary, its names."""

    rows: int
    codes: np.ndarray     # per whitespace token of its titles and abstracts: its place in the dictionary (int32)
    segments: np.ndarray  # per token: 2 * article position + 0 for the title, 1 for the abstract (int32)
    named: list[tuple[str, np.ndarray, np.ndarray, list[str]]] | None  # `_named_mentions`; None if read without
    # Once the vocabulary is known, a kept batch's words in 32 bits instead of its tokens (which it then drops).
    words: _WordStream | None = None

    def size_bytes(self) -> int:
        """Roughly the memory it holds: its arrays, and each name at a Python string's size."""
        named = sum(positions.nbytes + codes.nbytes + sum(len(name) + 60 for name in names)
                    for _, positions, codes, names in self.named or ())
        words = sum(array.nbytes for array in self.words) if self.words else 0
        return self.codes.nbytes + self.segments.nbytes + named + words


def _encoded(batch: pd.DataFrame, dictionary: pa.Array, *, names: bool) -> _Encoded:
    """A batch's tokens as places in `dictionary` (which holds every one of them) and, if `names`, its names."""
    tokens, segments = _tokens(batch)
    codes = _global_codes(tokens.dictionary, dictionary)[tokens.indices.to_numpy(zero_copy_only=False)]
    return _Encoded(len(batch), codes.astype("int32"), segments.astype("int32"),
                    _named_mentions(batch) if names else None)


class _Survey(NamedTuple):
    """The first pass over the batches: the articles, every distinct token with its count, every name."""

    pmids: np.ndarray            # per article
    pub_years: np.ndarray
    available_years: np.ndarray
    dictionary: pa.Array         # the distinct whitespace tokens of titles and abstracts
    token_counts: np.ndarray     # per token of the dictionary: how often it occurs
    sources: list[tuple[str, list[str]]]  # per named source (`_named_mentions`): its kind, its distinct names sorted
    batch_count: int
    kept: list[_Encoded]         # the first batches, encoded, as many as fit in the budget


# The memory the first pass may keep of the batches' tokens and names (8 bytes a token, then 9 a word, and some 80
# bytes a name) so that the later passes need not read and split them again: a fibromyalgia store of 15,000
# articles (some 45 MB) is read once; a store of a million once, and again per pass from the first batch past it.
KEPT_BYTES = 200 << 20


def _survey(read: Batches, kept_bytes: int) -> _Survey:
    """Read every batch once: its articles' years, its tokens (added to one dictionary) and its names; keep the
    first batches encoded while they fit in `kept_bytes`."""
    pmids, pub_years, available_years = [], [], []
    dictionary, token_counts = pa.array([], pa.large_string()), np.zeros(0, dtype="int64")
    sources: list[tuple[str, set[str]]] = []
    kept: list[_Encoded] = []
    keeping, kept_total_bytes, batch_count = True, 0, 0
    for batch in read():
        batch_count += 1
        pmids.append(batch["pmid"].to_numpy(dtype="int64"))
        pub_years.append(batch["pub_year"].to_numpy(dtype="int64"))
        available_years.append(batch["available_year"].to_numpy(dtype="int64"))
        tokens, segments = _tokens(batch)
        token_indices = tokens.indices.to_numpy(zero_copy_only=False)
        codes = _global_codes(tokens.dictionary, dictionary)
        new = codes < 0
        codes[new] = len(dictionary) + np.arange(int(new.sum()))
        dictionary = pa.concat_arrays([dictionary, tokens.dictionary.filter(pa.array(new))])
        token_counts = np.concatenate([token_counts, np.zeros(int(new.sum()), dtype="int64")])
        token_counts[codes] += np.bincount(token_indices, minlength=len(tokens.dictionary))
        named = _named_mentions(batch)
        # Every batch reads the same columns, so its named sources line up with the first batch's.
        for position, (kind, _, name_codes, names) in enumerate(named):
            if position == len(sources):
                sources.append((kind, set()))
            sources[position][1].update(names[code] for code in np.unique(name_codes).tolist())
        # Only the first batches: the later passes read the rest again, from the first one not kept.
        if keeping:
            encoded = _Encoded(len(batch), codes[token_indices].astype("int32"), segments.astype("int32"), named)
            kept_total_bytes += encoded.size_bytes()
            keeping = kept_total_bytes <= kept_bytes
            if keeping:
                kept.append(encoded)
    empty = np.zeros(0, dtype="int64")
    return _Survey(np.concatenate(pmids) if pmids else empty, np.concatenate(pub_years) if pub_years else empty,
                   np.concatenate(available_years) if available_years else empty, dictionary, token_counts,
                   [(kind, sorted(names)) for kind, names in sources], batch_count, kept)


def _keep_words(survey: _Survey, vocabulary: _Vocabulary, kept_bytes: int) -> None:
    """Turn the kept batches' tokens into their words, once for all the later passes; a word takes a little more
    than a token, so the last batches past `kept_bytes` are dropped (read again by the later passes)."""
    no_tokens = np.zeros(0, dtype="int32")
    total_bytes = 0
    for number, batch in enumerate(survey.kept):
        stream = _word_stream(batch.codes, batch.segments, vocabulary)
        batch = batch._replace(codes=no_tokens, segments=no_tokens, words=_WordStream(
            stream.word_ids.astype("int32"), stream.joined, stream.articles.astype("int32")))
        total_bytes += batch.size_bytes()
        if total_bytes > kept_bytes:
            del survey.kept[number:]
            return
        survey.kept[number] = batch


def _encoded_batches(read: Batches, survey: _Survey, *, names: bool) -> Iterator[_Encoded]:
    """Every batch encoded: those the survey kept, then the others read again."""
    yield from survey.kept
    if len(survey.kept) == survey.batch_count:
        return
    for number, batch in enumerate(read(names=names)):
        if number >= len(survey.kept):
            yield _encoded(batch, survey.dictionary, names=names)


def _global_codes(tokens: pa.Array, dictionary: pa.Array) -> np.ndarray:
    """Each token's place in `dictionary`, -1 where it is not there."""
    return pc.fill_null(pc.index_in(tokens, value_set=dictionary), -1).to_numpy(zero_copy_only=False).astype("int64")


class _KeyCounts:
    """Counts per integer key (one column per kind of count), summed over the batches added: the sorted distinct
    keys and their counts."""

    def __init__(self, columns: int) -> None:
        self.keys, self.counts = np.zeros(0, dtype="int64"), np.zeros((0, columns), dtype="int64")
        self._pending: list[tuple[np.ndarray, np.ndarray]] = []
        self._pending_size = 0

    def add(self, keys: np.ndarray, counts: np.ndarray) -> None:
        """Add a batch's counts, one row per key (keys may repeat)."""
        self._pending.append((keys, counts))
        self._pending_size += len(keys)
        # Merged when the pending keys outnumber the merged ones: each key is sorted a few times, not once a batch.
        if self._pending_size > max(len(self.keys), 1 << 20):
            self._merge()

    def result(self) -> tuple[np.ndarray, np.ndarray]:
        self._merge()
        return self.keys, self.counts

    def _merge(self) -> None:
        if not self._pending:
            return
        keys = np.concatenate([self.keys, *(keys for keys, _ in self._pending)])
        counts = np.concatenate([self.counts, *(counts for _, counts in self._pending)])
        self.keys, codes = _factorized(keys)
        self.counts = np.stack([summed(codes, column, len(self.keys)) for column in counts.T], axis=1)
        self._pending, self._pending_size = [], 0


def summed(codes: np.ndarray, weights: np.ndarray, length: int) -> np.ndarray:
    """Integer weights summed per code (exact: far below 2**53)."""
    return np.bincount(codes, weights=weights, minlength=length).astype("int64")


class _Phrases(NamedTuple):
    """What the passes over the words learn of phrases, level by level (level 0: one word)."""

    word_count: int
    frequent_words: np.ndarray  # per word id: seen at least min_articles times
    # Per level, the phrases seen at least min_articles times, sorted: for one word its word id; for longer ones
    # (the shorter phrase's place in its level) * word_count + the last word's id, so sorted is word by word.
    levels: list[np.ndarray]


def _batch_words(batch: _Encoded, vocabulary: _Vocabulary) -> _WordStream:
    # Article positions in 64 bits: one times a candidate count would overflow 32.
    if batch.words is not None:
        return batch.words._replace(articles=batch.words.articles.astype("int64"))
    return _word_stream(batch.codes, batch.segments.astype("int64"), vocabulary)


def _phrase_places(stream: _WordStream, phrases: _Phrases, *,
                   longer: bool = False) -> tuple[list[np.ndarray], tuple[np.ndarray, np.ndarray] | None]:
    """Per level known, per word the place (in its level) of the phrase that starts there, -1 where none; and when
    `longer`, the keys of the next level's phrases (those whose shorter phrase is known) and their articles."""
    word_ids = stream.word_ids
    frequent = np.zeros(len(word_ids), dtype=bool)
    frequent[word_ids >= 0] = phrases.frequent_words[word_ids[word_ids >= 0]]
    # A phrase runs on only between two frequent words: a rarer word is in no phrase seen often enough.
    joined = stream.joined & frequent[:-1] & frequent[1:]
    places = [np.where(frequent, np.searchsorted(phrases.levels[0], word_ids), -1)]
    for length in range(2, len(phrases.levels) + 1 + longer):
        shorter = places[-1]
        valid = (shorter[:-1] >= 0) & joined[length - 2:]
        keys = shorter[:-1][valid] * phrases.word_count + word_ids[length - 1:][valid]
        if length > len(phrases.levels):
            return places, (keys, stream.articles[:len(valid)][valid])
        level = phrases.levels[length - 1]
        found = np.searchsorted(level, keys)
        found[found == len(level)] = 0
        here = np.full(len(valid), -1, dtype="int64")
        here[valid] = np.where(level[found] == keys if len(level) else False, found, -1)
        places.append(here)
    return places, None


# Noun phrases have 1 to this many words.
_MAX_WORDS = 4


def _count_phrases(read: Batches, survey: _Survey, vocabulary: _Vocabulary,
                   min_articles: int) -> tuple[_Phrases, list[np.ndarray]]:
    """Noun phrases of 1.._MAX_WORDS words: the levels' frequent phrases and, per level, each one's articles.

    Phrases grow one word at a time (a-priori): a phrase seen fewer than `min_articles` times cannot be part of
    a longer one that is seen often enough, so only the longer phrases of frequent ones are counted, one pass over
    the batches per length from two words on (the first also counts the articles of each word). A batch ends with
    an article, so no phrase runs on into the next.
    """
    word_count = max(len(vocabulary.words), 1)
    tokens_of_parts = np.repeat(np.arange(len(survey.token_counts)), np.diff(vocabulary.part_offsets))
    is_word = vocabulary.part_words >= 0
    occurrences = summed(vocabulary.part_words[is_word], survey.token_counts[tokens_of_parts[is_word]], word_count)
    frequent_words = (occurrences >= min_articles) & (len(vocabulary.words) > 0)
    phrases = _Phrases(word_count, frequent_words, [np.flatnonzero(frequent_words)])
    word_support = np.zeros(len(phrases.levels[0]), dtype="int64")
    supports = [word_support]
    while len(phrases.levels) < _MAX_WORDS and len(phrases.levels[-1]):
        longer = _KeyCounts(columns=2)
        for batch in _encoded_batches(read, survey, names=False):
            stream = _batch_words(batch, vocabulary)
            places, (keys, articles) = _phrase_places(stream, phrases, longer=True)
            if len(phrases.levels) == 1:
                word_support += _support(stream.articles, places[0], len(word_support))
            distinct, codes = _factorized(keys)
            occurrences = np.bincount(codes, minlength=len(distinct))
            longer.add(distinct, np.stack([occurrences, _support(articles, codes, len(distinct))], axis=1))
        keys, counts = longer.result()
        frequent = counts[:, 0] >= min_articles
        phrases.levels.append(keys[frequent])
        supports.append(counts[frequent, 1])
    return phrases, supports


def _support(articles: np.ndarray, places: np.ndarray, count: int) -> np.ndarray:
    """Per place 0..count - 1, the articles (of one batch) it is found in; places -1 are none."""
    found = np.flatnonzero(places >= 0)
    pairs = _distinct(articles[found] * count + places[found])
    return np.bincount(pairs % count, minlength=count)


def _phrase_texts(phrases: _Phrases, length: int, places: np.ndarray, words: np.ndarray) -> list[str]:
    """The words of phrases of a level, joined by spaces, walked back through the shorter levels."""
    columns = []
    current = places
    for level in reversed(phrases.levels[:length]):
        keys = level[current]
        columns.append(words[keys % phrases.word_count])
        current = keys // phrases.word_count
    return [" ".join(reversed(parts)) for parts in zip(*columns)] if len(places) else []


class _Finder(NamedTuple):
    """How a batch's words and names become candidates, once every candidate is known."""

    vocabulary: _Vocabulary
    phrases: _Phrases
    phrase_candidates: list[np.ndarray]  # per level, per frequent phrase: its candidate, -1 when not one
    source_candidates: list[dict[str, int]]  # per named source: name -> candidate
    domain_sources: list[bool]  # per named source: whether authors or substances name it (keywords, chemicals)
    no_words: np.ndarray  # per candidate: its key is empty
    candidate_count: int


def _candidate_pairs(batch: _Encoded, finder: _Finder) -> tuple[np.ndarray, np.ndarray]:
    """A batch's distinct (article, candidate) pairs as article * candidate_count + candidate (its own article
    positions), and those its chemicals and keywords name."""
    stream = _batch_words(batch, finder.vocabulary)
    places, _ = _phrase_places(stream, finder.phrases)
    keys, domain_keys = [], []
    for place, candidate_of in zip(places, finder.phrase_candidates):
        found = np.flatnonzero(place >= 0)
        candidates = candidate_of[place[found]]
        keys.append(stream.articles[found[candidates >= 0]] * finder.candidate_count + candidates[candidates >= 0])
    for (_, positions, codes, names), candidate_of, domain in zip(batch.named, finder.source_candidates,
                                                                 finder.domain_sources):
        candidates = np.array([candidate_of.get(name, -1) for name in names], dtype="int64")[codes]
        named = positions * finder.candidate_count + candidates
        keys.append(named[~finder.no_words[candidates]])
        if domain:
            domain_keys.append(named)
    return (_distinct(np.concatenate(keys)) if keys else np.zeros(0, dtype="int64"),
            _distinct(np.concatenate(domain_keys)) if domain_keys else np.zeros(0, dtype="int64"))


def _batch_pairs(read: Batches, survey: _Survey,
                 finder: _Finder) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per batch, its distinct (article, candidate) pairs, article positions among all batches' and candidates,
    and the candidates of its pairs that chemicals and keywords name."""
    offset = 0
    for batch in _encoded_batches(read, survey, names=True):
        pairs, domain = _candidate_pairs(batch, finder)
        yield pairs // finder.candidate_count + offset, pairs % finder.candidate_count, domain % finder.candidate_count
        offset += batch.rows


# Rows counted at a time: a larger frame or batch is counted in slices of this many, so that a pass holds one
# slice's words (a frame of 200,000 articles at once took three times as long).
BATCH_ROWS = 5_000


def batch_reader(articles: pd.DataFrame | Iterable[pd.DataFrame] | Batches) -> Batches:
    """The batches as a function that reads them afresh, in slices of at most BATCH_ROWS rows: a frame is one
    batch; batches given once are kept."""
    if isinstance(articles, pd.DataFrame):
        articles = [articles]
    if callable(articles):
        read = articles
    else:
        batches = list(articles)

        def read(names: bool = True) -> list[pd.DataFrame]:
            return batches

    def sliced(names: bool = True) -> Iterator[pd.DataFrame]:
        for batch in read(names=names):
            for start in range(0, max(len(batch), 1), BATCH_ROWS):
                yield batch.iloc[start:start + BATCH_ROWS]

    return sliced


def extract_mentions(articles: pd.DataFrame | Iterable[pd.DataFrame] | Batches, hypotheses: Sequence[Hypothesis],
                     method: Method = Method(), *, kept_bytes: int = KEPT_BYTES) -> Mentions:
    """Find every candidate in `baseline_articles` rows, with the exclusion or longer phrase that removes it.

    `articles` may be batches of such rows (each with positions of its own), or a `Batches` function that reads
    them afresh (as the store does). The batches are counted once per pass: their tokens and names; the phrases
    of two, three and four words (the words only); the candidates' articles per year; and `Mentions.pair_batches`
    counts them again for the ranking's examples and ideas. The first pass keeps the first batches' words and
    names, up to `kept_bytes`; the other passes read again only the batches past those. So the text of every
    article is never held, nor any array as long as the corpus' words beyond `kept_bytes`, only one batch's and
    the counts; the result is the one frame of them all would give.
    """
    read = batch_reader(articles)
    min_articles = method.min_articles
    survey = _survey(read, kept_bytes)
    extra_words = {part for _, names in survey.sources for name in names for token in name.lower().split()
                   for part in split_raw_token(token)[0] if part}
    vocabulary = _vocabulary(survey.dictionary.to_pylist(), extra_words)
    attested = frozenset(set(vocabulary.forms) | {form for forms in vocabulary.forms.values() for form in forms}
                         | extra_words)
    # Spellings seen only in MeSH names or keywords are variants too ("receptors" in a keyword list).
    for word in extra_words:
        vocabulary.forms.setdefault(canonical_word(word, attested), set()).add(word)
    _keep_words(survey, vocabulary, kept_bytes)
    phrases, supports = _count_phrases(read, survey, vocabulary, min_articles)

    # Every source's names become candidate keys; one key is one candidate whatever found it.
    kept = [np.flatnonzero((support >= min_articles) & ~vocabulary.modifier[phrases.levels[level] % phrases.word_count])
            for level, support in enumerate(supports)]
    phrase_keys = [key for level, places in enumerate(kept)
                   for key in _phrase_texts(phrases, level + 1, places, vocabulary.words)]
    key_parts = [pd.Series(phrase_keys, dtype=object)]
    kinds = [np.full(len(phrase_keys), KINDS.index("phrase"))]
    official_names: dict[str, list[str]] = {}
    for kind, names in survey.sources:
        keys = [normalise_phrase(name, attested) for name in names]
        if kind in ("mesh", "chemical"):
            for name, key in zip(names, keys):
                official_names.setdefault(key, []).append(name)
        key_parts.append(pd.Series(keys, dtype=object))
        kinds.append(np.full(len(keys), KINDS.index(kind)))
    all_keys = pd.concat(key_parts, ignore_index=True)
    candidate_of_key, candidate_keys = pd.factorize(all_keys)
    candidate_keys = np.asarray(candidate_keys, dtype=object)
    candidate_count = max(len(candidate_keys), 1)
    kind_bits = np.zeros(len(candidate_keys), dtype="int64")
    np.bitwise_or.at(kind_bits, candidate_of_key, 1 << np.concatenate(kinds))

    phrase_candidates, start = [], 0
    for level, places in zip(phrases.levels, kept):
        candidate_of = np.full(len(level), -1, dtype="int64")
        candidate_of[places] = candidate_of_key[start:start + len(places)]
        phrase_candidates.append(candidate_of)
        start += len(places)
    source_candidates = []
    for _, names in survey.sources:
        source_candidates.append(dict(zip(names, candidate_of_key[start:start + len(names)].tolist())))
        start += len(names)
    finder = _Finder(vocabulary, phrases, phrase_candidates, source_candidates,
                     [kind in ("chemical", "keyword") for kind, _ in survey.sources],
                     np.array([not key for key in candidate_keys], dtype=bool), candidate_count)
    support, domain_support, tallies = _count_candidates(read, finder, survey)

    candidates = pd.DataFrame({
        "key": candidate_keys,
        "term": [official_names.get(key, [key])[0] if key in official_names else key for key in candidate_keys],
        "kind": ["+".join(kind for position, kind in enumerate(KINDS) if bits >> position & 1) for bits in kind_bits],
        "articles": support,
    })
    candidates["variants"] = [_variants(key, vocabulary.forms) for key in candidate_keys]
    candidates["mesh_names"] = [tuple(sorted(set(official_names.get(key, ())))) for key in candidate_keys]
    exclusions = exclusion_table(hypotheses)
    candidates["excluded_by"] = _excluded_by(candidate_keys, exclusions, attested)
    candidates["nested_in"] = _nested_in(candidate_keys, support, candidates["kind"].to_numpy(dtype=object),
                                         method.nested_share)
    candidates.loc[finder.no_words, "excluded_by"] = "no words"
    plain = plain_words(candidate_keys, domain_support, min_articles) & candidates["excluded_by"].isna().to_numpy()
    candidates.loc[plain, "excluded_by"] = (
        f"plain word: one word that fewer than {min_articles} articles name as a chemical or author keyword")
    return Mentions(pmids=survey.pmids, pub_years=survey.pub_years, available_years=survey.available_years,
                    candidates=candidates, tallies=tallies,
                    pair_batches=lambda: ((articles, candidates)
                                          for articles, candidates, _ in _batch_pairs(read, survey, finder)))


# A year fits 16 bits: a tally's key is candidate << 32 | available year << 16 | publication year.
_YEAR_BITS = 16


def _count_candidates(read: Batches, finder: _Finder, survey: _Survey) -> tuple[np.ndarray, np.ndarray, Tallies]:
    """The last pass: per candidate its articles, those that name it as a chemical or an author keyword, and
    its articles per year available and year published."""
    candidate_count = len(finder.no_words)
    domain_support = np.zeros(candidate_count, dtype="int64")
    tallies = _KeyCounts(columns=1)
    year_mask = (1 << _YEAR_BITS) - 1
    for articles, candidates, domain in _batch_pairs(read, survey, finder):
        domain_support += np.bincount(domain, minlength=candidate_count)
        tallies.add((candidates << 2 * _YEAR_BITS) | (survey.available_years[articles] << _YEAR_BITS)
                    | survey.pub_years[articles], np.ones((len(candidates), 1), dtype="int64"))
    keys, counts = tallies.result()
    candidates = keys >> 2 * _YEAR_BITS
    # An article has one year available and one published: its candidates' tallies count it once each.
    support = summed(candidates, counts[:, 0], candidate_count)
    return support, domain_support, Tallies(candidates, (keys >> _YEAR_BITS) & year_mask, keys & year_mask,
                                            counts[:, 0])


def plain_words(keys: np.ndarray, domain_support: np.ndarray, min_articles: int) -> np.ndarray:
    """Per candidate, whether it is a plain word: one word that too few articles name as a chemical or an
    author keyword.

    A one-word candidate of the text alone ("risk", "update", "wind" of "wind-up") is common English: its
    share drifts with how abstracts are written, not with what is studied. MeSH headings do not vouch for
    one: single-word descriptors are often as general ("Risk", "Time"). A substance or a word authors chose
    as a keyword is a domain term; phrases of two words or more stay candidates.
    """
    one_word = np.fromiter((len(key.split()) == 1 for key in keys), dtype=bool, count=len(keys))
    return one_word & (domain_support < min_articles)


def _variants(key: str, forms: dict[str, set[str]], limit: int = 8) -> tuple[str, ...]:
    """The spellings of a candidate seen in the corpus ("small fiber", "small fibre", "small fibres", ...)."""
    words = key.split()
    if not words:
        return ()
    choices = [sorted(forms.get(word, set()) | {word}, key=lambda form: (form != word, form)) for word in words]
    variants = [key]
    # Vary one word at a time: a phrase of four words with three spellings each would give 81.
    for position, options in enumerate(choices):
        for option in options[1:]:
            variants.append(" ".join(words[:position] + [option] + words[position + 1:]))
    if len(words) > 1 and len(choices[-1]) > 1 and len(choices[0]) > 1:
        variants.append(" ".join([choices[0][1], *words[1:-1], choices[-1][1]]))
    return tuple(dict.fromkeys(variants))[:limit]


def _excluded_by(keys: np.ndarray, exclusions: pd.DataFrame, attested: frozenset[str]) -> list[str | None]:
    """Per candidate key, the first exclusion rule that removes it ("category: phrase (source)"), else None."""
    exact: dict[str, str] = {}
    contained: dict[str, str] = {}
    prefixes: list[tuple[str, str]] = []
    suffixes: list[tuple[str, str]] = []
    patterns: list[tuple[re.Pattern[str], str]] = []
    for phrase, match, category, source in exclusions.itertuples(index=False, name=None):
        label = f"{category}: {phrase} ({source})"
        if match == "regex":
            try:
                patterns.append((re.compile(phrase, re.IGNORECASE), label))
            except re.error:
                continue
            continue
        if match in ("prefix", "suffix"):
            stem = " ".join(fold(phrase).replace("-", " ").split())
            (prefixes if match == "prefix" else suffixes).append((stem, label))
            continue
        key = normalise_phrase(phrase, attested)
        if key:
            (exact if match == "exact" else contained).setdefault(key, label)
    prefix_tuple = tuple(stem for stem, _ in prefixes)
    # A phrase made only of generic words ("pain score", "treatment effect") is as generic as they are.
    # Their plurals too: the corpus may attest "scores" without "score", so its keys keep the plural.
    generic_words = frozenset(key for key, label in exact.items()
                              if " " not in key and label.startswith(GENERIC_CATEGORY))
    excluded: list[str | None] = []
    for key in keys:
        words = key.split()
        found = exact.get(key) or contained.get(key)
        if found is None and len(words) > 1 and all(canonical_word(word, generic_words) in generic_words
                                                    for word in words):
            found = f"{GENERIC_CATEGORY}: {key} (every word a generic one)"
        if found is None and contained:
            found = next((contained[sub] for sub in _sub_phrases(words) if sub in contained), None)
        if found is None and prefix_tuple and key.startswith(prefix_tuple):
            found = next(label for stem, label in prefixes if key.startswith(stem))
        if found is None and suffixes:
            found = next((label for stem, label in suffixes if key.endswith(stem)), None)
        if found is None and patterns:
            spellings = (key, key.replace(" ", "-"), key.replace(" ", ""))
            found = next((label for pattern, label in patterns
                          if any(pattern.fullmatch(spelling) for spelling in spellings)), None)
        excluded.append(found)
    return excluded


def _sub_phrases(words: list[str]) -> Iterable[str]:
    for length in range(1, len(words) + 1):
        for start in range(len(words) - length + 1):
            yield " ".join(words[start:start + length])


def _nested_in(keys: np.ndarray, support: np.ndarray, kinds: np.ndarray, share: float) -> list[str | None]:
    """Per phrase-only candidate, the one-word-longer phrase that holds at least `share` of its articles."""
    support_of = dict(zip(keys.tolist(), support.tolist()))
    best: dict[str, tuple[int, str]] = {}
    for key, articles in support_of.items():
        words = key.split()
        if len(words) < 2:
            continue
        for sub in (" ".join(words[:-1]), " ".join(words[1:])):
            if sub in support_of and articles > best.get(sub, (0, ""))[0]:
                best[sub] = (articles, key)
    nested = []
    for key, articles, kind in zip(keys.tolist(), support.tolist(), kinds.tolist()):
        holder = best.get(key)
        nested.append(holder[1] if kind == "phrase" and holder and holder[0] >= share * articles else None)
    return nested
