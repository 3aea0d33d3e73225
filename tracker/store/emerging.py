"""What the emerging analysis counts, read a batch at a time: the baseline's articles, their text and headings."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pandas as pd

from tracker.store.connection import read_snapshot

# Articles per batch: some 8 MB of text and headings. The analysis reads the batches once per pass and reduces each
# to counts before the next, so its peak memory is a batch's words: 5,000 keep it near a small store's.
BATCH_SIZE = 5_000
_COLUMNS = ["pmid", "pub_year", "entry_date", "title", "abstract", "mesh", "keywords", "chemicals"]


def iter_emerging_batches(connection: sqlite3.Connection, baseline_id: str | None, *, batch_size: int = BATCH_SIZE,
                          names: bool = True) -> Iterator[pd.DataFrame]:
    """What the emerging analysis counts, and only that, a batch at a time in PMID order, from one snapshot: the
    baseline's articles (every article without a baseline) not retracted and of known year, with pmid, pub_year,
    entry_date, title, abstract, and (unless `names` is False: a pass over the words alone) mesh, keywords and
    chemicals as their stored JSON's UTF-8 bytes; hypotheses holds [baseline_id] and retracted False, as
    `emerging.baseline_articles` reads them. At least one batch, empty when no article counts."""
    carried = ("" if baseline_id is None else
               "AND EXISTS (SELECT 1 FROM evidence_pairs p WHERE p.pmid = a.pmid AND p.hypothesis_id = ?)")
    carried_ids = [] if baseline_id is None else [baseline_id]
    with read_snapshot(connection):
        cursor = connection.cursor()
        cursor.row_factory = None
        cursor.execute(
            "SELECT a.pmid, a.pub_year, a.entry_date, a.title, a.abstract"
            f"{', CAST(a.mesh AS BLOB), CAST(a.keywords AS BLOB), CAST(a.chemicals AS BLOB)' if names else ''} "
            "FROM articles a "
            "LEFT JOIN article_facets f ON f.pmid = a.pmid "
            f"WHERE a.pub_year IS NOT NULL AND coalesce(f.retracted, 0) = 0 {carried} ORDER BY a.pmid",
            carried_ids)
        first = True
        while (rows := cursor.fetchmany(batch_size)) or first:
            first = False
            yield _frame(rows, _COLUMNS if names else _COLUMNS[:5], carried_ids)


def _frame(rows: list[tuple], columns: list[str], carried_ids: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=columns)
    frame["pmid"] = frame["pmid"].astype("int64")
    frame["pub_year"] = frame["pub_year"].astype("Int64")
    frame["hypotheses"] = pd.Series([carried_ids] * len(frame), index=frame.index, dtype=object)
    frame["retracted"] = False
    return frame
