"""The catalogue: tags and facets written by tagging, and the Arrow-backed frame that tagging, the dashboard and
the exports read, with the decoding of its stored JSON."""

from __future__ import annotations

import concurrent.futures
import json
import sqlite3
from collections.abc import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tracker.memory import collection_paused
from tracker.store.articles import PMIDS_PER_QUERY, json_text, pmid_array
from tracker.store.connection import read_snapshot
from tracker.vocabulary import FACET_COLUMNS


_FLAG_COLUMNS = FACET_COLUMNS[2:]
# What an article that was never tagged shows until `tracker retag` (or the next fetch) tags it.
_UNTAGGED_FACETS = {"design": "other", "species": "unknown", **{flag: False for flag in _FLAG_COLUMNS}}
_JSON_LIST_COLUMNS = ("abstract_sections", "authors", "languages", "publication_types", "mesh", "keywords",
                      "corrections", "comments", "grants", "chemicals")
_CATALOGUE_COLUMNS = (
    "pmid", "kind", "title", "abstract", "abstract_sections", "author_names", "authors", "journal", "journal_iso",
    "volume", "issue", "pages", "pub_year", "pub_month", "pub_day", "pub_date_raw", "electronic_date", "entry_date",
    "doi", "pmcid", "languages", "publication_types", "mesh_terms", "mesh", "keywords", "corrections", "first_seen",
    "last_changed", "sources", "hypotheses", "tag_sources", "matched_terms", *FACET_COLUMNS,
    "comments", "grants", "coi_statement", "chemicals", "publication_status",
)
# What only an export or the one article on screen reads: `load_catalogue` keeps these as the stored JSON's UTF-8
# bytes (decoding them for every row was most of a dashboard's first render); `decode_details` decodes the rows
# that need them.
DETAIL_COLUMNS = ("abstract_sections", "authors", "languages", "publication_types", "mesh_terms", "mesh", "keywords",
                  "corrections", "sources", "matched_terms", "comments", "grants", "chemicals")
_CATALOGUE_TEXT_COLUMNS = ("kind", "title", "abstract", "author_names", "journal", "journal_iso", "volume", "issue",
                           "pages", "pub_date_raw", "electronic_date", "entry_date", "doi", "pmcid", "first_seen",
                           "last_changed", "coi_statement", "publication_status")
_DATE_PART_COLUMNS = ("pub_year", "pub_month", "pub_day")
_SEARCHED_COLUMNS = ("title", "abstract", "author_names", "journal")


def save_tags(connection: sqlite3.Connection, tags: pd.DataFrame, facets: pd.DataFrame, rules_version: str) -> None:
    """Replace the tags and facets of every PMID in `facets`; call inside `transaction()`.

    `tags` has pmid, hypothesis_id, source, matched_terms (list of {"term", "field"}); `facets` one row per
    tagged PMID with the columns of FACET_COLUMNS. A PMID in `facets` without tag rows ends up with no tags.
    """
    pmids = [(int(pmid),) for pmid in facets["pmid"]]
    connection.executemany("DELETE FROM tags WHERE pmid = ?", pmids)
    connection.executemany(
        f"INSERT OR REPLACE INTO article_facets (pmid, {', '.join(FACET_COLUMNS)}, rules_version) "
        f"VALUES ({', '.join('?' * (len(FACET_COLUMNS) + 2))})",
        [(int(row[0]), row[1], row[2], *(int(bool(flag)) for flag in row[3:]), rules_version)
         for row in facets[["pmid", *FACET_COLUMNS]].itertuples(index=False, name=None)],
    )
    connection.executemany(
        "INSERT INTO tags (pmid, hypothesis_id, source, matched_terms, rules_version) VALUES (?, ?, ?, ?, ?)",
        [(int(pmid), hypothesis_id, source, json_text(list(matched)), rules_version)
         for pmid, hypothesis_id, source, matched in
         tags[["pmid", "hypothesis_id", "source", "matched_terms"]].itertuples(index=False, name=None)],
    )


# What each (article, cause) stance row holds besides its key, in the `stances` table's order (migrations 3
# and 7).
STANCE_COLUMNS = ("stance", "evidence_kind", "hedged", "section", "sentence", "cue", "n_patients", "n_controls",
                  "confidence", "confidence_reason")


def save_stances(connection: sqlite3.Connection, stances: pd.DataFrame, pmids: Iterable[int],
                 rules_version: str) -> None:
    """Replace the stance rows of every PMID in `pmids` with those of `stances`; call inside `transaction()`.

    `stances` has pmid, hypothesis_id and the STANCE_COLUMNS (section, sentence, cue, n_patients, n_controls and
    confidence_reason may be None). Call it in the transaction that saves the same articles' tags, so the two
    never disagree.
    """
    connection.executemany("DELETE FROM stances WHERE pmid = ?", [(int(pmid),) for pmid in pmids])
    rows = stances[["pmid", "hypothesis_id", *STANCE_COLUMNS]].astype(object).where(stances.notna(), None)
    connection.executemany(
        f"INSERT INTO stances (pmid, hypothesis_id, {', '.join(STANCE_COLUMNS)}, rules_version) "
        f"VALUES ({', '.join('?' * (len(STANCE_COLUMNS) + 3))})",
        [(int(pmid), hypothesis_id, stance, kind, int(bool(hedged)), section, sentence, cue,
          None if n_patients is None else int(n_patients), None if n_controls is None else int(n_controls),
          confidence, reason, rules_version)
         for pmid, hypothesis_id, stance, kind, hedged, section, sentence, cue, n_patients, n_controls, confidence,
         reason in rows.itertuples(index=False, name=None)],
    )


def has_stances(connection: sqlite3.Connection) -> bool:
    """Whether the store holds any stance row (none until the stance reader has run)."""
    return connection.execute("SELECT 1 FROM stances LIMIT 1").fetchone() is not None


def load_stance_frame(connection: sqlite3.Connection, pmids: Iterable[int] | None = None,
                      columns: Iterable[str] = STANCE_COLUMNS,
                      hypothesis_ids: Iterable[str] | None = None) -> pd.DataFrame:
    """The stored stance rows (all, or those of `pmids`): pmid, hypothesis_id and the named STANCE_COLUMNS.

    Ordered by PMID then hypothesis; hedged as bool, the sample sizes as nullable integers. Pass only the
    columns you need: the sentences are the bulk of the table. With `hypothesis_ids` (the configured causes),
    the rows of other ids, parked by a rename in the hypotheses file, are left out.
    """
    wanted = list(columns)
    unknown = set(wanted) - set(STANCE_COLUMNS)
    if unknown:
        raise ValueError(f"not a stance column: {', '.join(sorted(unknown))}; choose from {', '.join(STANCE_COLUMNS)}")
    configured = _ids_parameter(hypothesis_ids)
    if pmids is None and set(wanted) <= set(_CHECKED_STANCE_COLUMNS):
        frame = _read_stance_keys(connection, wanted, configured)
        if frame is not None:
            return frame
    pmid_list = None if pmids is None else sorted({int(pmid) for pmid in pmids})
    frame = _read_chunked(
        connection, f"SELECT pmid, hypothesis_id{''.join(', ' + name for name in wanted)} FROM stances "
        f"WHERE {_CONFIGURED} AND {{where}}", pmid_list, "pmid", prefix=(configured, configured),
    ).sort_values(["pmid", "hypothesis_id"], ignore_index=True)
    frame["pmid"] = frame["pmid"].astype("int64")
    if "hedged" in frame:
        frame["hedged"] = frame["hedged"].astype(bool)
    for name in ("n_patients", "n_controls"):
        if name in frame:
            frame[name] = frame[name].astype("Int64")
    return frame


# Columns whose values the schema's CHECK constraints keep to a few plain words, as hypothesis ids are by the
# hypotheses file's rules: joined by a separator they cannot hold, they come back in one row.
_CHECKED_STANCE_COLUMNS = ("stance", "evidence_kind", "confidence")
_SEPARATOR = "\x1f"
# Keeps the rows of the configured causes (a JSON array of ids, bound twice), or every row when it is NULL.
_CONFIGURED = "(? IS NULL OR hypothesis_id IN (SELECT value FROM json_each(?)))"


def _ids_parameter(hypothesis_ids: Iterable[str] | None) -> str | None:
    return None if hypothesis_ids is None else json.dumps(sorted(set(hypothesis_ids)))


def _read_stance_keys(connection: sqlite3.Connection, wanted: list[str],
                      configured: str | None) -> pd.DataFrame | None:
    """Every stance row's key and the named checked columns, from one row of joined texts split in C++ (a row
    per stance made a Python object per cell: 2 s for 500,000 rows, now a quarter of that); None if a value
    held the separator after all, or there is no row, so that the caller reads row by row."""
    names = ["hypothesis_id", *wanted]
    joined = connection.execute(
        "SELECT count(*), group_concat(pmid), "
        + ", ".join(f"group_concat({name}, char(31))" for name in names)
        + f" FROM (SELECT pmid, {', '.join(names)} FROM stances WHERE {_CONFIGURED} ORDER BY pmid, hypothesis_id)",
        (configured, configured)).fetchone()
    count, pmids_text, *texts = joined
    if not count:
        return None
    columns: dict[str, object] = {"pmid": np.fromstring(pmids_text or "", dtype="int64", sep=",")}
    for name, text in zip(names, texts):
        values = pc.split_pattern(pa.array([text or ""], type=pa.large_string()), _SEPARATOR).flatten()
        if len(values) != count:
            return None
        columns[name] = pd.array(values, dtype="str")
    if len(columns["pmid"]) != count:
        return None
    return pd.DataFrame(columns)


def load_parked(connection: sqlite3.Connection, hypothesis_ids: Iterable[str]) -> pd.DataFrame:
    """The ids the store holds rows of but `hypothesis_ids` (the configured causes) lacks: hypothesis_id, linked
    (articles its query returned) and stances. Their rows stay, parked: a cause given its old id back shows them."""
    return pd.read_sql_query(
        "SELECT id AS hypothesis_id, "
        "(SELECT COUNT(*) FROM hypothesis_articles WHERE hypothesis_id = id) AS linked, "
        "(SELECT COUNT(*) FROM stances WHERE hypothesis_id = id) AS stances "
        "FROM (SELECT DISTINCT hypothesis_id AS id FROM hypothesis_articles UNION SELECT hypothesis_id FROM tags "
        "UNION SELECT hypothesis_id FROM stances UNION SELECT hypothesis_id FROM sync_state) "
        "WHERE id NOT IN (SELECT value FROM json_each(?)) ORDER BY id",
        connection, params=(_ids_parameter(hypothesis_ids),))


def stale_tag_pmids(connection: sqlite3.Connection, rules_version: str) -> np.ndarray:
    """The stored PMIDs never tagged, or tagged by rules other than `rules_version`, in PMID order (int64: a
    store's first tagging lists every article)."""
    return pmid_array(connection, "SELECT a.pmid FROM articles a LEFT JOIN article_facets f ON f.pmid = a.pmid "
                                   "WHERE f.pmid IS NULL OR f.rules_version != ? ORDER BY a.pmid", (rules_version,))


def stale_stance_pmids(connection: sqlite3.Connection, rules_version: str,
                       hypothesis_ids: Iterable[str]) -> np.ndarray:
    """The stored PMIDs with a tag for one of `hypothesis_ids` (the causes) but no stance for it read by
    `rules_version`, or with stance rows read by other rules, in PMID order: what a store from before the stance
    reader, or from before an edit of its rules, still has to read."""
    causes = sorted(set(hypothesis_ids))
    missing = (
        "SELECT t.pmid FROM tags t LEFT JOIN stances s ON s.pmid = t.pmid AND s.hypothesis_id = t.hypothesis_id "
        f"AND s.rules_version = ? WHERE t.hypothesis_id IN ({', '.join('?' * len(causes))}) AND s.pmid IS NULL"
    ) if causes else "SELECT NULL AS pmid WHERE ? IS NULL AND 0"
    return pmid_array(
        connection, f"SELECT pmid FROM ({missing} UNION SELECT pmid FROM stances WHERE rules_version != ?) ORDER BY pmid",
        (rules_version, *causes, rules_version))


def _read_chunked(connection: sqlite3.Connection, sql: str, pmids: list[int] | None,
                  where_column: str, prefix: tuple = ()) -> pd.DataFrame:
    """Run `sql` (which ends in a WHERE clause hook "{where}") for all rows or for the PMIDs in chunks.

    `prefix` holds the values of any placeholders before the hook.
    """
    if pmids is None:
        return pd.read_sql_query(sql.format(where="1 = 1"), connection, params=prefix)
    frames = [
        pd.read_sql_query(sql.format(where=f"{where_column} IN ({', '.join('?' * len(chunk))})"), connection,
                          params=(*prefix, *chunk))
        for chunk in (pmids[start:start + PMIDS_PER_QUERY] for start in range(0, len(pmids), PMIDS_PER_QUERY))
    ]
    frames = [frame for frame in frames if not frame.empty]
    if not frames:
        return pd.read_sql_query(sql.format(where="0 = 1"), connection, params=prefix)
    return pd.concat(frames, ignore_index=True)


def _grouped_lists(frame: pd.DataFrame, key: str, value: str) -> dict[int, list[str]]:
    """{pmid: sorted values} from a two-column frame."""
    grouped: dict[int, list[str]] = {}
    for pmid, item in zip(frame[key].tolist(), frame[value].tolist()):
        grouped.setdefault(int(pmid), []).append(item)
    return {pmid: sorted(items) for pmid, items in grouped.items()}


def _decoded_json_bytes(column: pd.Series) -> list:
    """Decode a column of UTF-8 JSON bytes with one parse, as `_decoded_json` does for texts."""
    return json.loads(b"[" + b",".join(column.tolist()) + b"]")


def _decoded_json(column: pd.Series) -> list:
    """Decode a column of JSON texts with one parse: a json.loads call per cell costs several times more."""
    return json.loads("[" + ",".join(column.tolist()) + "]")


def load_articles_frame(connection: sqlite3.Connection, pmids: Iterable[int] | None = None) -> pd.DataFrame:
    """The stored articles (all, or those of `pmids`) as a DataFrame ordered by PMID, JSON columns decoded.

    Besides the article's own columns it has mesh_terms (descriptor names), sources (where the record came
    from) and query_hypotheses (the hypotheses whose PubMed query returned it), each a sorted list.
    """
    wanted = None if pmids is None else sorted({int(pmid) for pmid in pmids})
    frame = _read_chunked(
        connection, "SELECT * FROM articles WHERE {where}", wanted, "pmid"
    ).drop(columns=["content_hash"]).sort_values("pmid", ignore_index=True)
    frame["pmid"] = frame["pmid"].astype("int64")
    for column in ("pub_year", "pub_month", "pub_day"):
        frame[column] = frame[column].astype("Int64")
    for column in _JSON_LIST_COLUMNS:
        frame[column] = pd.Series(_decoded_json(frame[column]), index=frame.index, dtype=object)
    frame["mesh_terms"] = frame["mesh"].map(lambda headings: [h["descriptor"] for h in headings]).astype(object)
    sources = _grouped_lists(
        _read_chunked(connection, "SELECT pmid, source FROM article_sources WHERE {where}", wanted, "pmid"),
        "pmid", "source")
    links = _grouped_lists(
        _read_chunked(connection, "SELECT pmid, hypothesis_id FROM hypothesis_articles WHERE {where}", wanted, "pmid"),
        "pmid", "hypothesis_id")
    frame["sources"] = pd.Series([sources.get(pmid, []) for pmid in frame["pmid"]], index=frame.index, dtype=object)
    frame["query_hypotheses"] = pd.Series([links.get(pmid, []) for pmid in frame["pmid"]], index=frame.index,
                                          dtype=object)
    return frame


def load_catalogue(connection: sqlite3.Connection, hypothesis_ids: Iterable[str] | None = None, *,
                   pmids: Iterable[int] | None = None) -> pd.DataFrame:
    """One row per stored article (all, or those of `pmids`: a page of rows) with its hypotheses, design, species
    and flags, ordered by PMID.

    With `hypothesis_ids` (the configured causes), the links and tags of other ids are left out: a cause renamed
    in the hypotheses file leaves its old id's rows parked in the store, neither shown nor exported.

    The columns are those of `decode_details`' result but mesh_terms, and the DETAIL_COLUMNS among them hold
    undecoded UTF-8 JSON: the stored columns as they are, sources the list of this article's sources and
    matched_terms {hypothesis id: terms} of its text tags only. Pass the rows you write or show through
    `decode_details`. hypotheses (the sorted ids the article carries) and tag_sources ({hypothesis id: "query",
    "text" or "query+text"}) are objects shared by the rows with the same tags: read them, never mutate them.

    The "query" half of a tag comes from the live hypothesis links, the "text" half from the stored tags, so
    a link the fetch added or dropped shows at once; facets of never-tagged articles show as "other"/"unknown".
    `connection` must be one of `connect()`'s, which any thread may use: a helper thread reads the tags on it.
    """
    as_read = ("pmid", *_DATE_PART_COLUMNS, *FACET_COLUMNS,
               *(name for name in _CATALOGUE_TEXT_COLUMNS if name not in _SEARCHED_COLUMNS))
    as_bytes = (*_SEARCHED_COLUMNS, *_JSON_LIST_COLUMNS)
    names = (*as_read, *as_bytes)
    wanted = None if pmids is None else sorted({int(pmid) for pmid in pmids})
    # PMIDs are integers: written into the statement, they need no binding and keep the grouped queries constant.
    where = "" if wanted is None else f" WHERE {{column}} IN ({', '.join(map(str, wanted))})"
    with (read_snapshot(connection), collection_paused(),
          concurrent.futures.ThreadPoolExecutor(max_workers=1) as helper):
        # Long texts as BLOBs, their UTF-8 bytes: never decoded into Python strings, they go to Arrow strings
        # in C++ (the searched ones) or stay bytes for `decode_details` (the JSON).
        # Plain tuples, not the connection's sqlite3.Row objects: a fifth less to build, and quicker to stack.
        cursor = connection.cursor()
        cursor.row_factory = None
        rows = cursor.execute(
            f"SELECT {', '.join(('f.' if name in FACET_COLUMNS else 'a.') + name for name in as_read)}, "
            f"{', '.join(f'CAST(a.{name} AS BLOB)' for name in as_bytes)} "
            "FROM articles a LEFT JOIN article_facets f ON f.pmid = a.pmid" + where.format(column="a.pmid")
            + " ORDER BY a.pmid").fetchall()
        # SQLite groups the tags while this thread builds the columns (it lets Python run meanwhile); the
        # connection, used by one thread at a time, reads them in the same snapshot.
        grouped = helper.submit(_read_grouped_tags, connection, _ids_parameter(hypothesis_ids),
                                where.format(column="pmid"))
        # One 2-D array of the rows, then a column is a slice: much quicker than transposing tuple by tuple.
        table = np.array(rows, dtype=object) if rows else np.empty((0, len(names)), dtype=object)
        del rows
        values = {name: table[:, position] for position, name in enumerate(names)}
        pmids = values["pmid"].astype("int64")
        columns: dict[str, object] = {"pmid": pmids}
        for name in _DATE_PART_COLUMNS:
            columns[name] = pd.array(values[name], dtype="Int64")
        for name in (*_CATALOGUE_TEXT_COLUMNS, *_JSON_LIST_COLUMNS):
            # Arrow strings where a text filter searches (selection.TEXT_COLUMNS), so that it searches in C++;
            # elsewhere a conversion would cost more than it saves.
            columns[name] = (_utf8_strings(values[name]) if name in _SEARCHED_COLUMNS
                             else pd.Series(values[name], dtype=object))
        for name, default in _UNTAGGED_FACETS.items():
            filled = np.where(pd.isna(values[name]), default, values[name])
            # design and species as Arrow strings too: the filters' isin() on them is quicker so.
            columns[name] = filled.astype(bool) if name in _FLAG_COLUMNS else pd.array(filled, dtype="str")
        del table, values

        sources, text_tags, query_links = grouped.result()
        [columns["sources"]] = _per_pmid_texts(pmids, sources, [b"[]"])
        text_ids, columns["matched_terms"] = _per_pmid_texts(pmids, text_tags, [b"[]", b"{}"])
        columns["hypotheses"], columns["tag_sources"] = _carried_tags(pmids, query_links, text_ids)
        return pd.DataFrame({name: columns[name] for name in _CATALOGUE_COLUMNS if name != "mesh_terms"})


def _utf8_strings(values: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """UTF-8 bytes (None for NULL) as pandas' Arrow-backed strings, checked and converted in C++."""
    return pd.array(pa.array(values, type=pa.large_binary()).cast(pa.large_string()), dtype="str")


# Each query returns one row: the PMIDs, then per PMID a JSON text, joined by the unit separator, which JSON
# cannot hold unescaped (the group_concat calls of one query take the rows in the same order). One row is one
# call into SQLite, which lets other Python threads run for all of it. SQLite caps a text at 1 GB: about ten
# million tags.
_GROUPED_SOURCES = """
    SELECT group_concat(pmid), CAST(group_concat(sources, char(31)) AS BLOB)
    FROM (SELECT pmid, json_group_array(source) AS sources FROM article_sources{where} GROUP BY pmid)
"""
_GROUPED_TEXT_TAGS = """
    SELECT group_concat(pmid), CAST(group_concat(ids, char(31)) AS BLOB), CAST(group_concat(terms, char(31)) AS BLOB)
    FROM (SELECT pmid, json_group_array(hypothesis_id) AS ids,
                 '{' || group_concat(json_quote(hypothesis_id) || ':' || matched_terms, ',') || '}' AS terms
          FROM (SELECT * FROM tags{where}) WHERE source IN ('text', 'query+text') AND {configured} GROUP BY pmid)
"""


def _read_grouped_tags(connection: sqlite3.Connection, configured: str | None,
                       where: str = "") -> tuple[list, list, dict[str, np.ndarray]]:
    """Per PMID its sources and its text tags' ids and terms (JSON bytes); per hypothesis its linked PMIDs;
    `where` (a WHERE clause on pmid, or "") keeps some PMIDs only."""
    grouped = []
    for sql, parameters in ((_GROUPED_SOURCES, ()), (_GROUPED_TEXT_TAGS, (configured, configured))):
        pmids_text, *joined = connection.execute(
            sql.replace("{where}", where).replace("{configured}", _CONFIGURED), parameters).fetchone()
        grouped.append([np.fromstring(pmids_text or "", dtype="int64", sep=","),
                        *((texts or b"").split(b"\x1f") if pmids_text else [] for texts in joined)])
    query_links = {hypothesis_id: np.fromstring(pmids_text, dtype="int64", sep=",") for hypothesis_id, pmids_text in
                   connection.execute(f"SELECT hypothesis_id, group_concat(pmid) FROM hypothesis_articles{where} "
                                      f"{'AND' if where else 'WHERE'} {_CONFIGURED} GROUP BY hypothesis_id",
                                      (configured, configured))}
    return grouped[0], grouped[1], query_links


def _per_pmid_texts(pmids: np.ndarray, grouped: list, defaults: list[bytes]) -> list[pd.Series]:
    """Spread `grouped` ([PMIDs, texts, more texts, ...]) over the ordered `pmids`: one Series per list of texts,
    in which a PMID without a group gets that list's default."""
    keys, *texts_by_default = grouped
    positions = np.searchsorted(pmids, keys).clip(max=max(len(pmids) - 1, 0))
    # Foreign keys tie these rows to stored articles; a store written without them may hold strays.
    stored = pmids[positions] == keys if len(pmids) else np.zeros(len(keys), dtype=bool)
    aligned = []
    for default, found in zip(defaults, texts_by_default):
        texts = np.full(len(pmids), default, dtype=object)
        texts[positions[stored]] = np.array(found, dtype=object)[stored]
        aligned.append(pd.Series(texts, dtype=object))
    return aligned


def _carried_tags(pmids: np.ndarray, query_links: dict[str, np.ndarray],
                  text_ids: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Each article's hypotheses (sorted ids) and tag sources, from its query links and its text tags' ids.

    A bit per hypothesis makes an article's tags two integers (Python's, so any number of hypotheses fits);
    the lists and dicts of the few distinct pairs are built once.
    """
    text_sets = {text: frozenset(json.loads(text)) for text in set(text_ids)}
    bits = {hypothesis_id: 1 << position for position, hypothesis_id in
            enumerate(sorted(set(query_links).union(*text_sets.values())))}
    queried = np.zeros(len(pmids), dtype=object)
    for hypothesis_id, linked in query_links.items():
        positions = np.searchsorted(pmids, linked).clip(max=max(len(pmids) - 1, 0))
        queried[positions[pmids[positions] == linked] if len(pmids) else positions[:0]] |= bits[hypothesis_id]
    text_masks = {text: sum(bits[i] for i in ids) for text, ids in text_sets.items()}
    pairs = list(zip(queried.tolist(), [text_masks[text] for text in text_ids]))
    carried: dict[tuple[int, int], tuple[list[str], dict[str, str]]] = {}
    for pair in set(pairs):
        query_mask, text_mask = pair
        ids = [i for i, bit in bits.items() if (query_mask | text_mask) & bit]
        carried[pair] = (ids, {
            i: "query+text" if query_mask & bits[i] and text_mask & bits[i] else
            "text" if text_mask & bits[i] else "query" for i in ids})
    hypotheses, tag_sources = zip(*(carried[pair] for pair in pairs)) if pairs else ((), ())
    return pd.Series(hypotheses, dtype=object), pd.Series(tag_sources, dtype=object)


def decode_details(catalogue_rows: pd.DataFrame, columns: Iterable[str] = DETAIL_COLUMNS) -> pd.DataFrame:
    """Return a copy of `load_catalogue` rows with the named DETAIL_COLUMNS (all by default) decoded.

    mesh_terms (the descriptor names) is derived from mesh and placed before it, sources becomes a sorted list,
    and matched_terms {hypothesis id: [{"term", "field"}, ...]} names every hypothesis the row carries ([] for
    query-only tags). Decode only the rows you need: the columns hold many small objects each.
    """
    wanted = set(columns)
    unknown = wanted - set(DETAIL_COLUMNS)
    if unknown:
        raise ValueError(
            f"not a detail column: {', '.join(sorted(unknown))}; choose from {', '.join(DETAIL_COLUMNS)}")
    with collection_paused():
        frame = catalogue_rows.copy(deep=False)
        index = frame.index
        for column in _JSON_LIST_COLUMNS:
            if column in wanted:
                frame[column] = pd.Series(_decoded_json_bytes(frame[column]), index=index, dtype=object)
        if "mesh_terms" in wanted:
            headings = frame["mesh"] if "mesh" in wanted else _decoded_json_bytes(frame["mesh"])
            frame.insert(frame.columns.get_loc("mesh"), "mesh_terms",
                         pd.Series([[h["descriptor"] for h in row] for row in headings], index=index, dtype=object))
        if "sources" in wanted:
            frame["sources"] = pd.Series([sorted(sources) for sources in _decoded_json_bytes(frame["sources"])],
                                         index=index, dtype=object)
        if "matched_terms" in wanted:
            text_terms = _decoded_json_bytes(frame["matched_terms"])
            frame["matched_terms"] = pd.Series(
                [{i: matched.get(i, []) for i in carried} for carried, matched in zip(frame["hypotheses"], text_terms)],
                index=index, dtype=object)
        return frame
