"""Keep the stored tags and stances in step with the articles and the rules: the one place that joins store,
tagging and stance."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence

import numpy as np

from tracker import store
from tracker.analysis import stance, tagging
from tracker.config import Hypothesis

# Articles tagged per round trip: bounds the memory of a full re-tag (about 18 KiB an article while it is tagged)
# without slowing the vectorised matcher, whose per-article cost is the same at 1,000 as at 200,000; small enough
# that a progress bar moves every few seconds (the stance reader takes a few thousand articles a second).
BATCH_SIZE = 1_000


@contextlib.contextmanager
def _transaction_unless_open(connection: sqlite3.Connection) -> Iterator[None]:
    """Join the caller's transaction when there is one (the fetch job's batch), else open our own."""
    if connection.in_transaction:
        yield
        return
    with store.transaction(connection):
        yield


def refresh_tags(connection: sqlite3.Connection, hypotheses: Sequence[Hypothesis] | tagging.Rules,
                 pmids: Iterable[int] | None = None, *, all_articles: bool = False,
                 progress: Callable[[int, int], None] | None = None) -> int:
    """Tag `pmids` plus every stored article whose tags or stances are missing or made by other rules, and read
    their stances; return how many articles were tagged.

    `hypotheses` may be rules already compiled (and so checked) by the caller. `pmids=None` tags only the stale
    ones; `all_articles=True` re-tags every stored article. PMIDs that are not stored are ignored. Tags and
    stances of each batch are saved together, everything in one transaction. `progress(done, total)` is called
    before the first batch and after each.
    """
    rules = hypotheses if isinstance(hypotheses, tagging.Rules) else tagging.compile_rules(hypotheses)
    stance_rules = stance.compile_stance_rules(rules.hypotheses, rules)
    with _transaction_unless_open(connection):
        # PMIDs as int64 arrays, sorted: a re-tag of a million articles holds 8 MB of them, not a set of 60.
        if all_articles:
            wanted = store.load_stored_pmids(connection)
        else:
            wanted = store.stale_tag_pmids(connection, rules.version)
            # A store from before the stance reader, or from before an edit of a cause's expect, has tags to
            # keep but stances to read: the whole article is tagged again, which costs little next to reading.
            wanted = np.union1d(wanted, store.stale_stance_pmids(connection, stance_rules.version,
                                                                 stance_rules.expects))
            if pmids is not None:
                wanted = np.union1d(wanted, np.intersect1d(np.fromiter(pmids, dtype="int64"),
                                                           store.load_stored_pmids(connection)))
        if progress is not None:
            progress(0, len(wanted))
        for start in range(0, len(wanted), BATCH_SIZE):
            batch = wanted[start:start + BATCH_SIZE].tolist()
            articles = store.load_articles_frame(connection, batch)
            result = tagging.tag_articles(articles, rules)
            store.save_tags(connection, result.tags, result.facets, rules.version)
            stances = stance.read_stances(articles, result.tags, result.facets, stance_rules)
            store.save_stances(connection, stances, batch, stance_rules.version)
            if progress is not None:
                progress(start + len(batch), len(wanted))
    return len(wanted)
