"""Ideas, not strings: the ranked candidates that name one idea ("igg autoantibody", "autoantibody", "igg";
"gut microbiota", "microbiome") become one row, the best-ranked of them, listing the others.

Two candidates name one idea when the articles that mention them mostly coincide: the articles both mention
are at least IDEA_OVERLAP of the smaller candidate's when they share a word, IDEA_OVERLAP_NO_WORD when they do
not, and at least IDEA_LIFT times what chance would give (so that a phrase of nearly every abstract, "pain
intensity", joins nothing). Linked candidates form one idea with every candidate linked to it (union-find). Only the
IDEA_POOL best-ranked candidates are compared: the rest are too far down the list for a reader to meet twice.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse

IDEA_OVERLAP = 0.5
IDEA_OVERLAP_NO_WORD = 0.8
IDEA_LIFT = 2.0
IDEA_POOL = 300


def co_mentions(candidate_index: np.ndarray, article_index: np.ndarray, count: int) -> np.ndarray:
    """How many articles each two candidates share (count x count; the diagonal: each one's articles), of the
    (candidate, article) pairs of mention, candidates numbered 0..count - 1."""
    if not len(candidate_index):
        return np.zeros((count, count), dtype="int64")
    articles, article_positions = np.unique(article_index, return_inverse=True)
    mentions = sparse.csr_matrix((np.ones(len(candidate_index), dtype="int64"), (candidate_index, article_positions)),
                                 shape=(count, len(articles)))
    mentions.data[:] = 1  # a pair counted twice is still one article
    return (mentions @ mentions.T).toarray()


def idea_leaders(keys: Sequence[str], shared: np.ndarray, article_count: int) -> np.ndarray:
    """For each candidate, best-ranked first, the position of the best-ranked candidate of its idea (itself
    when it leads one).

    `shared` is `co_mentions` of the candidates numbered as `keys` are (summed over batches of articles);
    `article_count` the number of articles.
    """
    count = len(keys)
    leaders = np.arange(count)
    if count < 2:
        return leaders
    support = np.diagonal(shared)
    words = [set(key.split()) for key in keys]
    for first, second in zip(*np.nonzero(np.triu(shared, 1))):
        both = shared[first, second]
        smaller = min(support[first], support[second])
        needed = IDEA_OVERLAP if words[first] & words[second] else IDEA_OVERLAP_NO_WORD
        by_chance = support[first] * support[second] / article_count
        if smaller and both / smaller >= needed and both >= IDEA_LIFT * by_chance:
            _join(leaders, first, second)
    return np.array([_root(leaders, position) for position in range(count)])


def _root(leaders: np.ndarray, position: int) -> int:
    while leaders[position] != position:
        leaders[position] = leaders[leaders[position]]
        position = leaders[position]
    return position


def _join(leaders: np.ndarray, first: int, second: int) -> None:
    """Join two ideas under the better-ranked (lower) leader."""
    roots = sorted((_root(leaders, first), _root(leaders, second)))
    leaders[roots[1]] = roots[0]
