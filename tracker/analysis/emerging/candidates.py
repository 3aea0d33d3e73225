"""Candidates and their mentions: which baseline articles mention each MeSH descriptor, chemical, keyword and
noun phrase, per year, with the exclusions and nesting applied."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tracker.analysis.emerging.exclusions import GENERIC_CATEGORY, exclusion_table
from tracker.analysis.emerging.method import CHEMICAL_COLUMNS, KINDS, Method
from tracker.analysis.emerging.words import MODIFIER_SUFFIXES, MODIFIER_WORDS, NUMBER, STOP_SUFFIXES, STOP_WORDS, SUFFIX_EXCEPTIONS, canonical_word, fold, normalise_phrase, split_raw_token
from tracker.config import Hypothesis


class Mentions(NamedTuple):
    """Which baseline article mentions which candidate: the extraction, done once, scored as of any year."""

    pmids: np.ndarray            # per article
    pub_years: np.ndarray        # per article
    available_years: np.ndarray  # per article: the year it counts from
    candidates: pd.DataFrame     # key, term, kind, articles, variants, mesh_names, excluded_by, nested_in
    article_index: np.ndarray    # per (article, candidate) pair, unique pairs
    candidate_index: np.ndarray


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
    baseline_id = next((h.id for h in hypotheses if h.baseline), None)
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


def _json_strings(values: list, pattern: bytes) -> tuple[np.ndarray, list[str]] | None:
    """Per row the count of `pattern`'s matches in its JSON bytes and all the matched strings, decoded; None
    unless every value is JSON bytes. One regular-expression pass over all rows instead of decoding every row."""
    if not values or not all(isinstance(value, (bytes, bytearray)) for value in values):
        return None
    counts = pc.count_substring_regex(pa.array(values, type=pa.large_binary()),
                                      pattern=pattern.decode()).to_numpy(zero_copy_only=False)
    found = re.findall(pattern, b"\x00".join(values))
    codes, distinct = pd.factorize(pd.Series(found, dtype=object))
    decoded = np.array([json.loads(b'"' + text + b'"') if b"\\" in text else text.decode()
                        for text in distinct], dtype=object)
    return counts.astype("int64"), decoded[codes].tolist() if len(codes) else []


def _named_mentions(articles: pd.DataFrame) -> list[tuple[str, np.ndarray, list[str]]]:
    """Per source kind: (kind, article positions, names) of its MeSH headings, chemicals and keywords."""
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
            lengths, names = quick
        else:
            lists = _lists(articles[column])
            lengths = np.fromiter((len(items) for items in lists), dtype="int64", count=len(lists))
            names = [_name_of(item) for items in lists for item in items]
        positions = np.repeat(np.arange(len(values)), lengths)
        present = np.fromiter((bool(name and name.strip()) for name in names), dtype=bool, count=len(names))
        sources.append((kind, positions[present], [name for name in names if name and name.strip()]))
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


def _words_of(corpus: _Corpus, vocabulary: _Vocabulary) -> _WordStream:
    """The word stream of every batch's tokens, one batch at a time (each batch's codes are let go once its words
    are made: the peak is one batch's, not the corpus'). A batch ends with an article, so no phrase runs on into
    the next: the stream is the one of all tokens at once."""
    word_ids, joined, articles = [], [], []
    while corpus.codes:
        stream = _word_stream(corpus.codes.pop(0).astype("int64"), corpus.segments.pop(0), vocabulary)
        if not len(stream.word_ids):
            continue
        if word_ids:
            joined.append(np.zeros(1, dtype=bool))
        word_ids.append(stream.word_ids)
        joined.append(stream.joined)
        articles.append(stream.articles)
    if not word_ids:
        empty = np.zeros(0, dtype="int64")
        return _WordStream(empty, np.zeros(0, dtype=bool), empty)
    return _WordStream(np.concatenate(word_ids), np.concatenate(joined), np.concatenate(articles))


def _phrase_mentions(stream: _WordStream, vocabulary: _Vocabulary, min_articles: int,
                     max_words: int = 4) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Noun phrases of 1..max_words words found in at least `min_articles` articles: their keys and the unique
    (article, phrase) pairs.

    Phrases grow one word at a time (a-priori): a phrase seen fewer than `min_articles` times cannot be part of
    a longer one that is seen often enough, so it is dropped before the next length is counted.
    """
    word_count = max(len(vocabulary.words), 1)
    word_ids = stream.word_ids
    occurrences = np.bincount(word_ids[word_ids >= 0], minlength=word_count)
    frequent_word = np.zeros(len(word_ids), dtype=bool)
    frequent_word[word_ids >= 0] = occurrences[word_ids[word_ids >= 0]] >= min_articles
    level_ids = np.where(frequent_word, word_ids, -1)
    joined = stream.joined & frequent_word[:-1] & frequent_word[1:]
    if not len(vocabulary.words):
        return [], np.zeros(0, dtype="int64"), np.zeros(0, dtype="int64")
    levels: list[tuple[np.ndarray, np.ndarray]] = []  # per length: (prefix phrase id, last word id) per phrase id
    keys: list[str] = []
    pair_articles, pair_phrases = [], []
    for length in range(1, max_words + 1):
        if length == 1:
            ids = level_ids
            uniques = np.arange(word_count)
            prefixes, lasts = np.full(word_count, -1), uniques
        else:
            valid = (level_ids[:-1] >= 0) & joined[length - 2:]
            keys_here = level_ids[:-1][valid] * word_count + word_ids[length - 1:][valid]
            uniques, codes = _factorized(keys_here)
            seen = np.bincount(codes, minlength=len(uniques))
            codes = np.where(seen[codes] >= min_articles, codes, -1)
            ids = np.full(len(valid), -1, dtype="int64")
            ids[valid] = codes
            prefixes, lasts = uniques // word_count, uniques % word_count
        levels.append((prefixes, lasts))
        positions = np.flatnonzero(ids >= 0)
        if not len(positions):
            break
        phrase_count = len(prefixes)
        pairs = _distinct(stream.articles[positions] * phrase_count + ids[positions])
        articles, phrases = pairs // phrase_count, pairs % phrase_count
        support = np.bincount(phrases, minlength=phrase_count)
        kept = (support >= min_articles) & ~vocabulary.modifier[lasts]
        kept_ids = np.flatnonzero(kept)
        base = len(keys)
        keys += _phrase_keys(levels, kept_ids, vocabulary.words)
        new_index = np.full(phrase_count, -1, dtype="int64")
        new_index[kept_ids] = base + np.arange(len(kept_ids))
        chosen = kept[phrases]
        pair_articles.append(articles[chosen])
        pair_phrases.append(new_index[phrases[chosen]])
        level_ids = ids
    if not pair_articles:
        return [], np.zeros(0, dtype="int64"), np.zeros(0, dtype="int64")
    return keys, np.concatenate(pair_articles), np.concatenate(pair_phrases)


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


def _phrase_keys(levels: list[tuple[np.ndarray, np.ndarray]], ids: np.ndarray, words: np.ndarray) -> list[str]:
    """The words of phrases of the last level, joined by spaces, walked back through the shorter levels."""
    columns = []
    current = ids
    for prefixes, lasts in reversed(levels):
        columns.append(words[lasts[current]])
        current = prefixes[current]
    return [" ".join(reversed(parts)) for parts in zip(*columns)] if len(ids) else []


class _Corpus(NamedTuple):
    """What the extraction reads of the articles, their text reduced to token codes: a batch's or all of them."""

    pmids: np.ndarray            # per article
    pub_years: np.ndarray
    available_years: np.ndarray
    dictionary: pa.Array         # the distinct whitespace tokens of titles and abstracts
    # Per batch, per token: its place in the dictionary (int32), and its segment: 2 * article position + 0 for the
    # title, 1 for the abstract (int64). Kept by batch so that each becomes words on its own (`_words_of`).
    codes: list[np.ndarray]
    segments: list[np.ndarray]
    named: list[tuple[str, np.ndarray, list[str]]]  # `_named_mentions`


def _read_corpus(articles: pd.DataFrame) -> _Corpus:
    encoded, segments = _tokens(articles)
    return _Corpus(articles["pmid"].to_numpy(dtype="int64"), articles["pub_year"].to_numpy(dtype="int64"),
                   articles["available_year"].to_numpy(dtype="int64"), encoded.dictionary,
                   [encoded.indices.to_numpy(zero_copy_only=False)], [segments], _named_mentions(articles))


def _merged(corpora: list[_Corpus]) -> _Corpus:
    """One corpus of batches read in turn: article positions run on, token codes point into one dictionary."""
    if len(corpora) == 1:
        return corpora[0]
    if not corpora:
        empty = np.zeros(0, dtype="int64")
        return _Corpus(empty, empty, empty, pa.array([], pa.large_string()), [], [], [])
    corpora = [corpus for corpus in corpora if len(corpus.pmids)] or corpora[:1]
    dictionaries = [corpus.dictionary for corpus in corpora]
    # One dictionary for every batch: each batch's distinct tokens found in the union of them all.
    union = pc.dictionary_encode(pa.concat_arrays(dictionaries))
    global_ids = union.indices.to_numpy(zero_copy_only=False)
    article_offsets = np.cumsum([0] + [len(corpus.pmids) for corpus in corpora])
    dictionary_offsets = np.cumsum([0] + [len(dictionary) for dictionary in dictionaries])
    codes, segments = [], []
    for number, corpus in enumerate(corpora):
        local_to_global = global_ids[dictionary_offsets[number]:dictionary_offsets[number + 1]]
        codes.append(local_to_global[corpus.codes[0]] if len(corpus.codes[0]) else corpus.codes[0])
        segments.append(corpus.segments[0] + 2 * article_offsets[number])
    # Every batch read the same columns, so their named sources line up kind by kind.
    named = [(kind, np.concatenate([corpus.named[position][1] + article_offsets[number]
                                    for number, corpus in enumerate(corpora)]),
              [name for corpus in corpora for name in corpus.named[position][2]])
             for position, (kind, _, _) in enumerate(corpora[0].named)]
    return _Corpus(np.concatenate([corpus.pmids for corpus in corpora]),
                   np.concatenate([corpus.pub_years for corpus in corpora]),
                   np.concatenate([corpus.available_years for corpus in corpora]), union.dictionary, codes, segments,
                   named)


def extract_mentions(articles: pd.DataFrame | Iterable[pd.DataFrame], hypotheses: Sequence[Hypothesis],
                     method: Method = Method()) -> Mentions:
    """Find every candidate in `baseline_articles` rows, with the exclusion or longer phrase that removes it.

    `articles` may be batches of such rows (each with positions of its own): each batch's text is reduced to token
    codes before the next is read, so the text of every article is never held at once; the result is the one
    frame of them all would give.
    """
    batches = [articles] if isinstance(articles, pd.DataFrame) else articles
    corpus = _merged([_read_corpus(batch) for batch in batches])
    min_articles = method.min_articles
    named = corpus.named
    extra_words = {part for _, _, names in named for name in set(names) for token in name.lower().split()
                   for part in split_raw_token(token)[0] if part}
    vocabulary = _vocabulary(corpus.dictionary.to_pylist(), extra_words)
    attested = frozenset(set(vocabulary.forms) | {form for forms in vocabulary.forms.values() for form in forms}
                         | extra_words)
    # Spellings seen only in MeSH names or keywords are variants too ("receptors" in a keyword list).
    for word in extra_words:
        vocabulary.forms.setdefault(canonical_word(word, attested), set()).add(word)
    stream = _words_of(corpus, vocabulary)
    phrase_keys, phrase_articles, phrase_ids = _phrase_mentions(stream, vocabulary, min_articles)

    # Every source's names become candidate keys; one key is one candidate whatever found it.
    key_parts = [pd.Series(phrase_keys, dtype=object)]
    kinds = [np.full(len(phrase_keys), KINDS.index("phrase"))]
    pair_articles, pair_keys = [phrase_articles], [phrase_ids]
    named_by_author_or_substance: list[bool] = [False]
    official_names: dict[str, list[str]] = {}
    offset = len(phrase_keys)
    for kind, positions, names in named:
        distinct, codes = np.unique(np.array(names, dtype=object), return_inverse=True)
        keys = [normalise_phrase(name, attested) for name in distinct]
        if kind in ("mesh", "chemical"):
            for name, key in zip(distinct, keys):
                official_names.setdefault(key, []).append(name)
        key_parts.append(pd.Series(keys, dtype=object))
        kinds.append(np.full(len(keys), KINDS.index(kind)))
        pair_articles.append(positions)
        pair_keys.append(codes + offset)
        named_by_author_or_substance.append(kind in ("chemical", "keyword"))
        offset += len(keys)
    all_keys = pd.concat(key_parts, ignore_index=True)
    candidate_of_key, candidate_keys = pd.factorize(all_keys)
    candidate_keys = np.asarray(candidate_keys, dtype=object)
    candidate_count = len(candidate_keys)
    kind_bits = np.zeros(candidate_count, dtype="int64")
    np.bitwise_or.at(kind_bits, candidate_of_key, 1 << np.concatenate(kinds))
    articles_of_pairs = np.concatenate(pair_articles).astype("int64")
    candidates_of_pairs = candidate_of_key[np.concatenate(pair_keys).astype("int64")]
    empty_key = np.array([not key for key in candidate_keys], dtype=bool)
    keep_pairs = ~empty_key[candidates_of_pairs]
    pairs = _distinct(articles_of_pairs[keep_pairs] * max(candidate_count, 1) + candidates_of_pairs[keep_pairs])
    article_index, candidate_index = pairs // max(candidate_count, 1), pairs % max(candidate_count, 1)
    support = np.bincount(candidate_index, minlength=candidate_count)
    domain_support = _domain_support(
        [(positions, candidate_of_key[codes.astype("int64")]) for positions, codes, domain
         in zip(pair_articles, pair_keys, named_by_author_or_substance) if domain], candidate_count)

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
    candidates.loc[empty_key, "excluded_by"] = "no words"
    plain = plain_words(candidate_keys, domain_support, min_articles) & candidates["excluded_by"].isna().to_numpy()
    candidates.loc[plain, "excluded_by"] = (
        f"plain word: one word that fewer than {min_articles} articles name as a chemical or author keyword")
    return Mentions(
        pmids=corpus.pmids, pub_years=corpus.pub_years, available_years=corpus.available_years, candidates=candidates,
        article_index=article_index.astype("int64"), candidate_index=candidate_index.astype("int64"))


def _domain_support(pairs: list[tuple[np.ndarray, np.ndarray]], candidate_count: int) -> np.ndarray:
    """Per candidate, the articles that name it as a chemical or an author keyword."""
    if not pairs:
        return np.zeros(candidate_count, dtype="int64")
    articles = np.concatenate([articles for articles, _ in pairs]).astype("int64")
    candidates = np.concatenate([candidates for _, candidates in pairs]).astype("int64")
    distinct = _distinct(articles * max(candidate_count, 1) + candidates)
    return np.bincount(distinct % max(candidate_count, 1), minlength=candidate_count)


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
