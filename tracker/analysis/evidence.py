"""Every count of tagged evidence, for the dashboard, the summaries and the exports alike: pure pandas, no I/O.

`evidence_table` counts articles per cause × publication year × design (× species) (× stance); the rest shapes
that table, or the catalogue, into what one chart or summary shows. Per 1,000 divides by the baseline's articles
of the same year everywhere (`per_1000`), so a bar and the table behind it never disagree.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tracker.config import Hypothesis, baseline_id_of
from tracker.models import STANCES, UNREAD_STANCE
from tracker.vocabulary import (
    DESIGN_LABELS, DESIGNS, HIGH_LEVEL_DESIGNS, LOW_CONFIDENCE_READINGS, READING_LABELS, READINGS, SPECIES)

# How the overview groups the eleven study designs when it stacks by evidence level: the first level is the
# high-level evidence a guideline panel would weigh first.
EVIDENCE_LEVELS: dict[str, tuple[str, ...]] = {
    "high": HIGH_LEVEL_DESIGNS,
    "primary": ("clinical_trial", "cohort", "case_control", "observational"),
    "reports_opinion": ("case_report", "narrative_review", "editorial"),
    "other": ("other",),
}
EVIDENCE_LEVEL_LABELS = {
    "high": "Meta-analyses, systematic reviews, RCTs",
    "primary": "Other trials and observational studies",
    "reports_opinion": "Case reports, narrative reviews, opinion",
    "other": "Other or not stated",
}
_LEVEL_OF_DESIGN = {design: level for level, designs in EVIDENCE_LEVELS.items() for design in designs}
# A per-1,000 value from fewer fibromyalgia articles than this in its year swings on one article: it is marked.
SMALL_BASELINE = 20



EVIDENCE_COLUMNS: tuple[str, ...] = ("hypothesis_id", "year", "year_label", "design", "count", "cumulative",
                                     "per_1000")
UNKNOWN_YEAR_LABEL = "unknown"
# pub_year is never negative, so -1 can stand for "unknown" while grouping and is turned back into <NA> after.
_UNKNOWN_YEAR = -1


def evidence_table(catalogue: pd.DataFrame, hypotheses: Sequence[Hypothesis], *, include_retracted: bool = False,
                   by_species: bool = False, stances: pd.DataFrame | None = None) -> pd.DataFrame:
    """Count articles per cause hypothesis × publication year × design (× species) (× stance), with running and
    normalised sums.

    The catalogue needs pub_year, hypotheses, design, retracted (and species with `by_species`, pmid with
    `stances`). `stances` (pmid, hypothesis_id, stance: `store.load_stance_frame`) adds a stance key with every
    level of `models.STANCES`; a tagged pair with no stance row counts as `models.UNREAD_STANCE`. One row
    for every cause × year from the first to the last known year × design (× species), zeros included, then one
    "unknown" year row per cause × design (× species) so articles without a year are never dropped. cumulative
    runs over the known years (and is <NA> on the unknown row); per_1000 divides by the articles of the same year
    that carry the baseline hypothesis (the unknown row by the baseline's unknown-year articles) and is NaN where
    that is zero or the file has no baseline. The baseline is the denominator only: it has no rows of its own.
    Retracted articles leave both counts and denominators unless `include_retracted`.
    """
    by_stance = stances is not None
    extra_keys = (["species"] if by_species else []) + (["stance"] if by_stance else [])
    keys = ["hypothesis_id", "year", "design", *extra_keys]
    columns = [*EVIDENCE_COLUMNS[:4], *extra_keys, *EVIDENCE_COLUMNS[4:]]
    causes = [h.id for h in hypotheses if not h.baseline]
    baseline_id = baseline_id_of(hypotheses)
    # Only the columns counted: filtering the whole catalogue would copy every column of every row.
    counted = catalogue[[*(["pmid"] if by_stance else []), "pub_year", "design", "hypotheses",
                         *(["species"] if by_species else [])]]
    kept = counted if include_retracted else counted[~catalogue["retracted"].astype(bool)]
    years = kept["pub_year"].astype("Int64").fillna(_UNKNOWN_YEAR).astype("int64")
    known_years = years[years != _UNKNOWN_YEAR]
    year_range = list(range(int(known_years.min()), int(known_years.max()) + 1)) if len(known_years) else []

    levels = ([causes, [*year_range, _UNKNOWN_YEAR], list(DESIGNS)] + ([list(SPECIES)] if by_species else [])
              + ([list(STANCES)] if by_stance else []))
    counts, denominators = _grid_counts(kept, years.to_numpy(), levels, causes, baseline_id,
                                        stances if by_stance else None)
    grid = pd.MultiIndex.from_product(levels, names=keys)
    return _finished_table(pd.Series(counts, index=grid, name="count"), denominators, columns)


def evidence_table_from_summary(by_year: pd.DataFrame, hypotheses: Sequence[Hypothesis], *,
                                include_retracted: bool = False, by_stance: bool = False,
                                by_reading: bool = False, year_span: tuple[int | None, int | None] | None = None
                                ) -> pd.DataFrame:
    """`evidence_table` from the store's summary by year (`store.load_summaries()["by_year"]`), not the catalogue.

    The same rows and columns, but that the years span those of the articles that carry a hypothesis (an article
    that carries none is in no chart), or `year_span` (first, last) when given: the span of more hypotheses than
    the rows hold (`store.summary_year_span`). `by_stance` adds the stance key as `stances` does there;
    `by_reading` adds it as `reading_evidence_table` does (its rows in the grid's order).
    """
    by_stance = by_stance or by_reading
    extra_keys = ["stance"] if by_stance else []
    keys = ["hypothesis_id", "year", "design", *extra_keys]
    columns = [*EVIDENCE_COLUMNS[:4], *extra_keys, *EVIDENCE_COLUMNS[4:]]
    causes = [h.id for h in hypotheses if not h.baseline]
    baseline_id = baseline_id_of(hypotheses)
    rows = by_year if include_retracted else by_year[~by_year["retracted"].astype(bool)]
    rows = rows[rows["hypothesis_id"].isin([*causes, baseline_id])]
    years = rows["pub_year"].astype("Int64").fillna(_UNKNOWN_YEAR).astype("int64")
    known_years = years[years != _UNKNOWN_YEAR]
    first, last = year_span or ((known_years.min(), known_years.max()) if len(known_years) else (None, None))
    year_range = list(range(int(first), int(last) + 1)) if first is not None else []
    levels = ([causes, [*year_range, _UNKNOWN_YEAR], list(DESIGNS)]
              + ([list(READINGS if by_reading else STANCES)] if by_stance else []))
    counted = pd.DataFrame({"hypothesis_id": rows["hypothesis_id"].to_numpy(dtype=object), "year": years.to_numpy(),
                            "design": rows["design"].to_numpy(dtype=object),
                            "count": rows["articles"].to_numpy(dtype="int64")})
    if by_stance:
        counted["stance"] = (summary_reading_keys(rows) if by_reading
                             else rows["stance"].replace("", UNREAD_STANCE)).to_numpy(dtype=object)
    denominators = (counted.loc[counted["hypothesis_id"] == baseline_id].groupby("year")["count"].sum()
                    if baseline_id is not None else pd.Series(dtype="int64"))
    grid = pd.MultiIndex.from_product(levels, names=keys)
    counts = counted.groupby(keys, sort=False)["count"].sum().reindex(grid, fill_value=0)
    return _finished_table(counts, denominators, columns)


def summary_reading_keys(rows: pd.DataFrame) -> pd.Series:
    """Each summary row's reading (`vocabulary.READINGS`), as `reading_keys` gives a stance row's; a pair without a
    stance row reads as `models.UNREAD_STANCE`."""
    return reading_keys(rows.assign(stance=rows["stance"].replace("", UNREAD_STANCE)))


def _finished_table(counts: pd.Series, denominators: pd.Series, columns: list[str]) -> pd.DataFrame:
    """The evidence table from its counts over the full grid (a Series on the key MultiIndex, year -1 for
    unknown) and the baseline's articles per year: running sums, per 1,000 and year labels added."""
    keys = list(counts.index.names)
    table = counts.rename("count").reset_index()
    table["count"] = table["count"].astype("int64")

    known = table["year"] != _UNKNOWN_YEAR
    running = table[known].groupby([key for key in keys if key != "year"], sort=False)["count"].cumsum()
    table["cumulative"] = pd.array([pd.NA] * len(table), dtype="Int64")
    table.loc[known, "cumulative"] = running.astype("Int64")

    table["per_1000"] = per_1000(table["count"], table["year"].map(denominators).astype("float64"))

    table["year_label"] = table["year"].map(lambda year: UNKNOWN_YEAR_LABEL if year == _UNKNOWN_YEAR else str(year))
    table["year"] = table["year"].astype("Int64").mask(~known)
    table["hypothesis_id"] = table["hypothesis_id"].astype(object)
    for key in keys[2:]:
        table[key] = table[key].astype(object)
    return table[columns].reset_index(drop=True)


def _positions(values: pd.Series, level: Sequence[str]) -> np.ndarray:
    """Each value's position in `level`, -1 where it is not there (or missing), looked up in C++ on the Arrow
    strings the catalogue holds (object-dtype look-ups were most of a stance-keyed table)."""
    array = pa.array(values)
    if not pa.types.is_string(array.type) and not pa.types.is_large_string(array.type):
        array = array.cast(pa.large_string())
    found = pc.index_in(array, value_set=pa.array(list(level), type=array.type))
    return found.fill_null(-1).to_numpy(zero_copy_only=False).astype("int64")


def _grid_counts(kept: pd.DataFrame, years: np.ndarray, levels: list[list], causes: list[str],
                 baseline_id: str | None, stances: pd.DataFrame | None) -> tuple[np.ndarray, pd.Series]:
    """The articles in each cell of the grid `levels` (causes × years × designs (× species) (× stances), in
    MultiIndex.from_product's order) of every cause an article carries, and the baseline's articles per year
    (the per-1,000 denominators).

    The catalogue shares one hypotheses list among the articles with the same tags, so which causes an article
    carries is a look-up per shared list, and each cell a bincount over integer positions: a row per (article,
    cause) pair, as an explode and a group-by over their labels make, cost most of the table. With `stances`,
    a pair's stance comes from its stance row; the pairs without one count as UNREAD_STANCE.
    """
    lists = kept["hypotheses"].to_numpy(dtype=object)
    first_rows, list_codes = np.unique(np.fromiter(map(id, lists), dtype="int64", count=len(lists)),
                                       return_index=True, return_inverse=True)[1:]
    # carries[code, position]: whether the shared list `code` holds hypothesis `position` of causes + baseline.
    tracked = [*causes, *([baseline_id] if baseline_id is not None else [])]
    carries = np.array([[hypothesis_id in lists[row] for hypothesis_id in tracked] for row in first_rows],
                       dtype=bool).reshape(len(first_rows), len(tracked))
    # Each article's cell within one cause's block; -1 where a value is outside the grid (left out, as a
    # reindex on the grid leaves it out).
    year_levels = pd.Index(levels[1], dtype="int64")
    cell = year_levels.get_indexer(years)
    facet_columns = ["design", *(["species"] if len(levels) - (stances is not None) > 3 else [])]
    for level, column in zip(levels[2:], facet_columns):
        position = _positions(kept[column], level)
        cell = np.where((cell >= 0) & (position >= 0), cell * len(level) + position, -1)
    block = int(np.prod([len(level) for level in levels[1:2 + len(facet_columns)]]))
    inside = cell >= 0
    carried = carries[list_codes] & inside[:, None]
    plain = np.stack([np.bincount(cell[carried[:, position]], minlength=block) for position in range(len(causes))]
                     ) if causes else np.zeros((0, block), dtype="int64")
    if stances is None:
        counts = plain.reshape(-1)
    else:
        stance_count = len(levels[-1])
        rows = pd.Index(kept["pmid"].to_numpy(dtype="int64")).get_indexer(stances["pmid"].to_numpy(dtype="int64"))
        cause_positions = _positions(stances["hypothesis_id"], causes)
        stance_positions = _positions(stances["stance"], levels[-1])
        # A stance row counts where its article is kept and carries its cause.
        paired = (rows >= 0) & (cause_positions >= 0)
        paired[paired] = carried[rows[paired], cause_positions[paired]]
        pair_cells = cause_positions[paired] * block + cell[rows[paired]]
        valid = stance_positions[paired] >= 0
        by_stance = np.bincount(pair_cells[valid] * stance_count + stance_positions[paired][valid],
                                minlength=len(causes) * block * stance_count).reshape(len(causes), block, stance_count)
        # What has no stance row: the cause's count less the pairs that have one.
        with_row = np.bincount(pair_cells, minlength=len(causes) * block).reshape(len(causes), block)
        by_stance[:, :, list(levels[-1]).index(UNREAD_STANCE)] += plain - with_row
        counts = by_stance.reshape(-1)
    if baseline_id is None:
        denominators = pd.Series(dtype="int64")
    else:
        denominators = pd.Series(years[carries[list_codes, len(causes)]]).value_counts()
    return counts.astype("int64"), denominators


def evidence_by_year(table: pd.DataFrame, value: str = "count") -> pd.DataFrame:
    """Pivot an evidence table to year_label × hypothesis_id, summing designs (and species); unknown year last.

    `value` is "count", "cumulative" or "per_1000" (summing per_1000 is right: designs share a denominator).
    A cell stays NaN when every summed value is missing, as per_1000 is where the baseline has no articles.
    """
    sums = table.groupby(["year_label", "hypothesis_id"], sort=False)[value].sum(min_count=1).unstack()
    labels = sorted(sums.index, key=lambda label: (label == UNKNOWN_YEAR_LABEL, label))
    return sums.reindex(index=labels, columns=list(dict.fromkeys(table["hypothesis_id"])))


def per_1000(counts: pd.Series, denominators: pd.Series) -> pd.Series:
    """Counts per 1,000 baseline articles of the same year; NaN where the baseline has none."""
    return (counts * 1000.0 / denominators.where(denominators > 0)).astype("float64")


def _labels(hypotheses: Sequence[Hypothesis]) -> dict[str, str]:
    return {h.id: h.label for h in hypotheses}


def cause_articles(catalogue: pd.DataFrame, hypothesis_id: str, include_retracted: bool) -> pd.DataFrame:
    """The catalogue rows of the articles that carry one hypothesis (retracted ones only when asked for)."""
    carries = catalogue["hypotheses"].map(lambda ids: hypothesis_id in ids).astype(bool)
    if not include_retracted:
        carries &= ~catalogue["retracted"].astype(bool)
    return catalogue.loc[carries]


def chart_data(table: pd.DataFrame, hypotheses: Sequence[Hypothesis], mode: str) -> pd.DataFrame:
    """One line per cause over the known publication years: year, hypothesis_id, cause (label), value.

    `mode` is an evidence-table column: "count", "cumulative" or "per_1000".
    """
    by_year = evidence_by_year(table, mode).drop(index=UNKNOWN_YEAR_LABEL, errors="ignore")
    causes = [h.id for h in hypotheses if not h.baseline and h.id in by_year.columns]
    long = by_year[causes].rename_axis(columns="hypothesis_id").reset_index().melt(
        id_vars="year_label", var_name="hypothesis_id", value_name="value")
    return pd.DataFrame({
        "year": long["year_label"].astype("int64"),
        "hypothesis_id": long["hypothesis_id"].astype(object),
        "cause": long["hypothesis_id"].map(_labels(hypotheses)).astype(object),
        "value": long["value"].astype("float64"),
    })


def cause_totals(table: pd.DataFrame) -> dict[str, int]:
    """Articles per cause, unknown years included."""
    by_year = evidence_by_year(table, "count")
    return {hypothesis_id: int(total) for hypothesis_id, total in by_year.sum().items()}


def unknown_year_counts(table: pd.DataFrame, hypotheses: Sequence[Hypothesis]) -> dict[str, int]:
    """Per cause, the articles of unknown publication year that a chart by year cannot place (zeros left out)."""
    by_year = evidence_by_year(table, "count")
    if UNKNOWN_YEAR_LABEL not in by_year.index:
        return {}
    unknown = by_year.loc[UNKNOWN_YEAR_LABEL]
    return {h.id: int(unknown[h.id]) for h in hypotheses if h.id in unknown.index and unknown[h.id] > 0}


def design_chart_data(table: pd.DataFrame, hypothesis_id: str) -> pd.DataFrame:
    """One cause's articles per known publication year and study design: year, design (label), design_rank, value."""
    rows = table[(table["hypothesis_id"] == hypothesis_id) & table["year"].notna()]
    return pd.DataFrame({
        "year": rows["year"].astype("int64").to_numpy(),
        "design": rows["design"].map(DESIGN_LABELS).to_numpy(dtype=object),
        "design_rank": rows["design"].map(DESIGNS.index).to_numpy(dtype="int64"),
        "value": rows["count"].astype("float64").to_numpy(),
    })


def breakdowns(table: pd.DataFrame, hypothesis_id: str) -> dict[str, pd.Series]:
    """One cause's article counts by study design and by species (ids as index, in `vocabulary`'s order), from an
    evidence table made `by_species`."""
    rows = table[table["hypothesis_id"] == hypothesis_id]
    design = rows.groupby("design")["count"].sum().reindex(DESIGNS, fill_value=0)
    species = rows.groupby("species")["count"].sum().reindex(SPECIES, fill_value=0)
    return {
        "design": design.rename("articles"),
        "species": species.rename("articles"),
    }


def top_mesh(mesh_terms: pd.Series, check_tags: Sequence[str], limit: int) -> pd.DataFrame:
    """The MeSH descriptors most often indexed, from each article's decoded list, `check_tags` left out:
    mesh_term, articles."""
    terms = mesh_terms.explode().dropna()
    counts = terms[~terms.isin(check_tags)].value_counts()
    # Ties broken by name, so the list does not reshuffle between reloads.
    top = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit]
    return pd.DataFrame(top, columns=["mesh_term", "articles"])


def baseline_per_year(catalogue: pd.DataFrame, hypotheses: Sequence[Hypothesis], include_retracted: bool) -> pd.Series:
    """The fibromyalgia (baseline) articles of each known year: the per-1,000 denominators, as the evidence table
    divides by them."""
    baseline_id = baseline_id_of(hypotheses)
    if baseline_id is None:
        return pd.Series(dtype="int64")
    years = cause_articles(catalogue, baseline_id, include_retracted)["pub_year"].dropna().astype("int64")
    return years.value_counts().sort_index()


def reading_keys(stances: pd.DataFrame) -> pd.Series:
    """Each stance row's key in `vocabulary.READINGS`: its stance, or the low-confidence key of a finding read with
    low confidence."""
    low = (stances["confidence"] == "low") & stances["stance"].isin(list(LOW_CONFIDENCE_READINGS))
    return stances["stance"].where(~low, stances["stance"].map(LOW_CONFIDENCE_READINGS)).astype(object)


def reading_evidence_table(catalogue: pd.DataFrame, hypotheses: Sequence[Hypothesis], *,
                           include_retracted: bool = False, stances: pd.DataFrame) -> pd.DataFrame:
    """`evidence_table` keyed by reading (`vocabulary.READINGS`) instead of stance: a finding read with low
    confidence counts under its low-confidence key, apart from the confident ones. `stances` holds pmid,
    hypothesis_id, stance and confidence."""
    every = evidence_table(catalogue, hypotheses, include_retracted=include_retracted, stances=stances)
    # The same grid counting only the low-confidence findings (every other pair falls to the unread key): what
    # to move from each finding's key to its low-confidence one. Both tables have the same grid, row for row.
    low_rows = stances[(stances["confidence"] == "low") & stances["stance"].isin(list(LOW_CONFIDENCE_READINGS))]
    low = evidence_table(catalogue, hypotheses, include_retracted=include_retracted, stances=low_rows)
    moved = low["stance"].isin(list(LOW_CONFIDENCE_READINGS))
    table = every.assign(**{name: every[name] - low[name].where(moved, 0)
                            for name in ("count", "cumulative", "per_1000")})
    low_part = low[moved].assign(stance=low.loc[moved, "stance"].map(LOW_CONFIDENCE_READINGS))
    return pd.concat([table, low_part], ignore_index=True)


def _group_of(table: pd.DataFrame, by: str) -> tuple[pd.Series, dict[str, str], list[str]]:
    if by == "stance":
        return table["stance"], READING_LABELS, list(READINGS)
    return table["design"].map(_LEVEL_OF_DESIGN), EVIDENCE_LEVEL_LABELS, list(EVIDENCE_LEVELS)


def stacked_chart_data(table: pd.DataFrame, baseline: pd.Series, hypotheses: Sequence[Hypothesis], mode: str,
                       by: str, now_year: int, hypothesis_id: str | None = None) -> pd.DataFrame:
    """Per cause × known year × group (stance or evidence level): the value of `mode` with what explains it.

    `table` is an evidence table (with its reading key when `by` is "stance": `reading_evidence_table`), `baseline`
    the per-year
    denominators (`baseline_per_year`). Columns: hypothesis_id, cause, year, group, group_rank, value, articles
    (the count behind the value), baseline (the year's fibromyalgia articles), caveat (why the bar deserves care,
    or "").
    """
    table = table[table["year"].notna()]
    if hypothesis_id is not None:
        table = table[table["hypothesis_id"] == hypothesis_id]
    groups, labels, order = _group_of(table, by)
    grouped = table.assign(group=groups).groupby(["hypothesis_id", "year", "group"], sort=False).agg(
        count=("count", "sum"), cumulative=("cumulative", "sum")).reset_index()
    years = grouped["year"].astype("int64")
    denominator = years.map(baseline).fillna(0).astype("int64")
    if mode == "per_1000":
        value = per_1000(grouped["count"], denominator)
    else:
        value = grouped[mode].astype("float64")
    caveat = np.where(years == now_year, "partial year: counted so far", "")
    if mode == "per_1000":
        few = (denominator < SMALL_BASELINE) & (years != now_year)
        caveat = np.where(few, f"fewer than {SMALL_BASELINE} fibromyalgia articles that year", caveat)
    return pd.DataFrame({
        "hypothesis_id": grouped["hypothesis_id"].to_numpy(dtype=object),
        "cause": grouped["hypothesis_id"].map(_labels(hypotheses)).to_numpy(dtype=object),
        "year": years.to_numpy(),
        "group": grouped["group"].map(labels).to_numpy(dtype=object),
        "group_rank": grouped["group"].map(order.index).to_numpy(dtype="int64"),
        "value": value.to_numpy(),
        "articles": grouped["count"].astype("int64").to_numpy(),
        "baseline": denominator.to_numpy(),
        "caveat": caveat,
    })


def design_matrix(table: pd.DataFrame, hypotheses: Sequence[Hypothesis]) -> pd.DataFrame:
    """Articles per cause × study design (unknown years included): hypothesis_id, cause, design, design_rank,
    articles, share (of the cause's articles)."""
    counts = table.groupby(["hypothesis_id", "design"], sort=False)["count"].sum().reset_index()
    totals = counts.groupby("hypothesis_id")["count"].transform("sum")
    return pd.DataFrame({
        "hypothesis_id": counts["hypothesis_id"].to_numpy(dtype=object),
        "cause": counts["hypothesis_id"].map(_labels(hypotheses)).to_numpy(dtype=object),
        "design": counts["design"].map(DESIGN_LABELS).to_numpy(dtype=object),
        "design_rank": counts["design"].map(DESIGNS.index).to_numpy(dtype="int64"),
        "articles": counts["count"].astype("int64").to_numpy(),
        "share": (counts["count"] / totals.where(totals > 0)).fillna(0.0).to_numpy(dtype="float64"),
    })


def cause_summary(catalogue: pd.DataFrame, hypotheses: Sequence[Hypothesis], include_retracted: bool) -> pd.DataFrame:
    """Per cause: articles, how they were found (query only, text only, both), retracted ones, high-level evidence.

    Indexed by hypothesis id, in the hypotheses file's order. `retracted` counts the cause's retracted articles
    whether or not they are counted elsewhere.
    """
    causes = [h for h in hypotheses if not h.baseline]
    # The catalogue shares one {hypothesis id: source} object among the articles with the same tags: count the
    # articles per shared object first, then spread each object's few pairs (a Python step per pair was most of
    # a first render).
    tag_sources = catalogue["tag_sources"].to_numpy(dtype=object)
    articles = pd.DataFrame({
        "key": [id(sources) for sources in tag_sources],
        "retracted": catalogue["retracted"].to_numpy(dtype=bool),
        "high": catalogue["design"].isin(HIGH_LEVEL_DESIGNS).to_numpy(dtype=bool),
    })
    sources_of = dict(zip(articles["key"], tag_sources))
    grouped = articles.groupby(["key", "retracted", "high"]).size().rename("n").reset_index()
    pairs = pd.DataFrame([
        (hypothesis_id, source, retracted, high, n)
        for key, retracted, high, n in grouped.itertuples(index=False)
        for hypothesis_id, source in sources_of[key].items()
    ], columns=["hypothesis_id", "source", "retracted", "high", "n"])
    return _summary_of_pairs(pairs, causes, include_retracted)


def cause_summary_from_summary(by_source: pd.DataFrame, hypotheses: Sequence[Hypothesis],
                               include_retracted: bool) -> pd.DataFrame:
    """`cause_summary` from the store's summary by source (`store.load_summaries()["by_source"]`)."""
    pairs = pd.DataFrame({
        "hypothesis_id": by_source["hypothesis_id"].to_numpy(dtype=object),
        "source": by_source["source"].to_numpy(dtype=object),
        "retracted": by_source["retracted"].to_numpy(dtype=bool),
        "high": by_source["design"].isin(HIGH_LEVEL_DESIGNS).to_numpy(dtype=bool),
        "n": by_source["articles"].to_numpy(dtype="int64"),
    })
    return _summary_of_pairs(pairs, [h for h in hypotheses if not h.baseline], include_retracted)


def _summary_of_pairs(pairs: pd.DataFrame, causes: list[Hypothesis], include_retracted: bool) -> pd.DataFrame:
    """The table of causes from counted (hypothesis_id, source, retracted, high, n) rows."""
    pairs = pairs[pairs["hypothesis_id"].isin([h.id for h in causes])]
    retracted = pairs[pairs["retracted"]].groupby("hypothesis_id")["n"].sum()
    counted = pairs if include_retracted else pairs[~pairs["retracted"]]
    by_source = counted.groupby(["hypothesis_id", "source"])["n"].sum().unstack(fill_value=0)
    high = counted[counted["high"]].groupby("hypothesis_id")["n"].sum()
    index = pd.Index([h.id for h in causes], name="hypothesis_id")
    summary = pd.DataFrame(index=index)
    summary["label"] = [h.label for h in causes]
    for source in ("query", "text", "query+text"):
        column = by_source[source] if source in by_source else pd.Series(dtype="int64")
        summary[source] = column.reindex(index, fill_value=0).astype("int64")
    summary["articles"] = summary[["query", "text", "query+text"]].sum(axis=1)
    summary["retracted"] = retracted.reindex(index, fill_value=0).astype("int64")
    summary["high_level"] = high.reindex(index, fill_value=0).astype("int64")
    summary["high_level_share"] = (summary["high_level"] / summary["articles"].where(summary["articles"] > 0)).fillna(0.0)
    return summary


def stance_counts(catalogue: pd.DataFrame, stances: pd.DataFrame, sizes: pd.DataFrame, hypothesis_id: str,
                  include_retracted: bool) -> pd.DataFrame:
    """One cause's stance rows joined to its articles: per reading (a stance, or a finding read with low
    confidence), all articles, the high-level ones, and the patients the articles that state a sample size
    studied; plus the first year. Index: `vocabulary.READINGS`.

    `stances` holds every stance row's key, stance and confidence, `sizes` the cause's rows with n_patients.
    """
    rows = stances[stances["hypothesis_id"] == hypothesis_id]
    sizes = sizes[sizes["hypothesis_id"] == hypothesis_id].set_index("pmid")["n_patients"]
    positions = np.searchsorted(catalogue["pmid"].to_numpy(), rows["pmid"].to_numpy())
    articles = catalogue.iloc[positions]
    keep = np.ones(len(rows), dtype=bool) if include_retracted else ~articles["retracted"].to_numpy(dtype=bool)
    frame = pd.DataFrame({
        "stance": reading_keys(rows).to_numpy(dtype=object),
        "high": articles["design"].isin(HIGH_LEVEL_DESIGNS).to_numpy(dtype=bool),
        "year": articles["pub_year"].to_numpy(),
        "patients": rows["pmid"].map(sizes).to_numpy(),
    })[keep]
    grouped = frame.groupby("stance")
    counts = pd.DataFrame({
        "articles": grouped.size(),
        "high_level": grouped["high"].sum(),
        "patients": grouped["patients"].sum(min_count=1),
        "with_size": grouped["patients"].count(),
        "first_year": grouped["year"].min(),
    }).reindex(list(READINGS))
    for column in ("articles", "high_level", "with_size"):
        counts[column] = counts[column].fillna(0).astype("int64")
    return counts


def stance_counts_from_summary(by_kind: pd.DataFrame, by_year: pd.DataFrame, hypothesis_id: str,
                               include_retracted: bool) -> pd.DataFrame:
    """`stance_counts` from the store's summaries (`store.load_summaries()`): by kind for the counts, by year
    for the first year."""
    def cause_rows(summary: pd.DataFrame) -> pd.DataFrame:
        # Pairs without a stance row ('') are not stance rows: stance_counts counts the rows the reader wrote.
        kept = (summary["hypothesis_id"] == hypothesis_id) & (summary["stance"] != "")
        if not include_retracted:
            kept &= ~summary["retracted"].astype(bool)
        return summary[kept]

    rows = cause_rows(by_kind)
    grouped = rows.assign(high=rows["articles"].where(rows["design"].isin(HIGH_LEVEL_DESIGNS), 0)).groupby(
        summary_reading_keys(rows))
    dated = cause_rows(by_year)
    counts = pd.DataFrame({
        "articles": grouped["articles"].sum(),
        "high_level": grouped["high"].sum(),
        # NaN where no article of the stance stated a sample size, as a sum over no values is in stance_counts.
        "patients": grouped["patients"].sum().astype("float64").where(grouped["with_size"].sum() > 0),
        "with_size": grouped["with_size"].sum(),
        "first_year": dated["pub_year"].astype("float64").groupby(summary_reading_keys(dated)).min(),
    }).reindex(list(READINGS))
    for column in ("articles", "high_level", "with_size"):
        counts[column] = counts[column].fillna(0).astype("int64")
    return counts


def breakdowns_from_summary(by_kind: pd.DataFrame, hypothesis_id: str, include_retracted: bool) -> dict[str, pd.Series]:
    """`breakdowns` from the store's summary by kind (`store.load_summaries()["by_kind"]`)."""
    rows = by_kind if include_retracted else by_kind[~by_kind["retracted"].astype(bool)]
    return breakdowns(rows.rename(columns={"articles": "count"}), hypothesis_id)


def baseline_from_summary(by_year: pd.DataFrame, hypotheses: Sequence[Hypothesis],
                          include_retracted: bool) -> pd.Series:
    """`baseline_per_year` from the store's summary by year."""
    baseline_id = baseline_id_of(hypotheses)
    rows = by_year[(by_year["hypothesis_id"] == baseline_id) & by_year["pub_year"].notna()]
    if not include_retracted:
        rows = rows[~rows["retracted"].astype(bool)]
    counts = rows.groupby(rows["pub_year"].astype("int64"))["articles"].sum()
    return counts[counts > 0].rename_axis("pub_year").rename("count").sort_index()


def high_level_balance(table: pd.DataFrame, hypotheses: Sequence[Hypothesis]) -> pd.DataFrame:
    """Per cause × reading, the meta-analyses, systematic reviews and RCTs of a reading-keyed evidence table
    (`reading_evidence_table`): hypothesis_id, cause, group (reading label), group_rank, articles."""
    high = table[table["design"].isin(HIGH_LEVEL_DESIGNS)]
    counts = high.groupby(["hypothesis_id", "stance"], sort=False)["count"].sum().reset_index()
    return pd.DataFrame({
        "hypothesis_id": counts["hypothesis_id"].to_numpy(dtype=object),
        "cause": counts["hypothesis_id"].map(_labels(hypotheses)).to_numpy(dtype=object),
        "group": counts["stance"].map(READING_LABELS).to_numpy(dtype=object),
        "group_rank": counts["stance"].map(list(READINGS).index).to_numpy(dtype="int64"),
        "articles": counts["count"].astype("int64").to_numpy(),
    })


# --- the verdict: what the findings say about each cause, and how strongly -------------------------------------

# The stances that report a finding on the cause: the share of support is taken among these.
FINDING_STANCES: tuple[str, ...] = ("supports", "contradicts", "mixed")
# Patients against controls, or an exposure associated with fibromyalgia, test a cause directly; a treatment
# that helps tests it only through the treatment's mechanism.
DIRECT_KINDS: tuple[str, ...] = ("comparison", "association")
INDIRECT_KINDS: tuple[str, ...] = ("intervention",)
# What the direct scope leaves out, each finding once: per verdict column, the evidence kinds it counts, and whether
# it counts only findings stated with hedging (the others count them hedged or not).
LEFT_OUT_OF_DIRECT: dict[str, tuple[tuple[str, ...], bool]] = {
    "treatment_results": (INDIRECT_KINDS, False),
    "reviews": (("review",), False),
    "other_results": (("other",), False),
    "hedged_direct": (DIRECT_KINDS, True),
}
EVIDENCE_SCOPES = {
    "direct": "Direct findings only: patients against controls and associations, stated without hedging",
    "all": "All findings: also treatment results, reviews, other results and hedged sentences",
}
FINDING_KEYS: tuple[str, ...] = ("hypothesis_id", "year", "high_level", "stance", "confidence", "evidence_kind",
                                 "hedged", "reviewed")
# A direction over fewer findings than this is not tested: it is "too few".
TREND_MINIMUM = 10
TREND_SIGNIFICANCE = 0.05
# The normal quantile of 0.975, for 95% intervals: scipy.special.ndtri(0.975) (statistics.NormalDist's differs in
# the last bit).
WILSON_Z = 1.959963984540054


def finding_counts(catalogue: pd.DataFrame, stances: pd.DataFrame, *, include_retracted: bool = False
                   ) -> pd.DataFrame:
    """Count the stance rows per cause × publication year × high-level design × stance × confidence × evidence
    kind × hedged × reviewed (by a person): FINDING_KEYS, then articles, patients (the patients the abstracts that state them studied) and
    with_size (how many of the articles state them).

    The small frame every verdict is computed from: the dashboard reads the same frame from the store's summary
    (`store.load_finding_counts`), which the tests hold to this count over the catalogue. The catalogue needs pmid, pub_year, design, retracted, hypotheses; `stances` pmid, hypothesis_id,
    stance, evidence_kind, hedged, n_patients, confidence and reviewed (rows without them count as read with high
    confidence, by the machine alone). A stance row counts where its article is kept and still carries its
    cause; year is <NA> where the article's is unknown.
    """
    rows = pd.Index(catalogue["pmid"].to_numpy(dtype="int64")).get_indexer(stances["pmid"].to_numpy(dtype="int64"))
    lists = catalogue["hypotheses"].to_numpy(dtype=object)
    carried = np.fromiter((row >= 0 and cause in lists[row] for row, cause in
                           zip(rows, stances["hypothesis_id"].to_numpy(dtype=object))), dtype=bool, count=len(rows))
    if not include_retracted:
        carried &= ~catalogue["retracted"].to_numpy(dtype=bool)[np.where(rows >= 0, rows, 0)]
    kept = stances[carried]
    articles = catalogue.iloc[rows[carried]]
    frame = pd.DataFrame({
        "hypothesis_id": kept["hypothesis_id"].to_numpy(dtype=object),
        "year": articles["pub_year"].astype("Int64").to_numpy(),
        "high_level": articles["design"].isin(HIGH_LEVEL_DESIGNS).to_numpy(dtype=bool),
        "stance": kept["stance"].to_numpy(dtype=object),
        "confidence": (kept["confidence"].fillna("high").to_numpy(dtype=object) if "confidence" in kept
                       else np.full(len(kept), "high", dtype=object)),
        "evidence_kind": kept["evidence_kind"].fillna("other").to_numpy(dtype=object),
        "hedged": kept["hedged"].astype(bool).to_numpy(),
        "reviewed": (kept["reviewed"].fillna(False).astype(bool).to_numpy() if "reviewed" in kept
                     else np.zeros(len(kept), dtype=bool)),
        "patients": kept["n_patients"].astype("Int64").to_numpy(),
    })
    grouped = frame.groupby(list(FINDING_KEYS), dropna=False, sort=True)
    counts = pd.DataFrame({"articles": grouped.size(), "patients": grouped["patients"].sum(),
                           "with_size": grouped["patients"].count()}).reset_index()
    counts["year"] = counts["year"].astype("Int64")
    return counts.astype({"articles": "int64", "patients": "int64", "with_size": "int64"})


def in_scope(findings: pd.DataFrame, scope: str) -> pd.DataFrame:
    """The rows of a `finding_counts` frame that `scope` (a key of EVIDENCE_SCOPES) counts."""
    if scope not in EVIDENCE_SCOPES:
        raise ValueError(f"unknown evidence scope {scope!r}: choose from {', '.join(EVIDENCE_SCOPES)}")
    if scope == "all":
        return findings
    return findings[findings["evidence_kind"].isin(DIRECT_KINDS) & ~findings["hedged"].astype(bool)]


def wilson_intervals(successes: Sequence[int], trials: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """The 95% Wilson score interval of each successes / trials, NaN where trials is 0.

    Scipy's binomtest(k, n).proportion_ci(method="wilson") to the last bit, in NumPy: the same formula in the same
    order (Newcombe 1998), so that the Overview need not import scipy.stats (most of a second).
    """
    k = np.asarray(successes, dtype="float64")
    n = np.asarray(trials, dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k / n
        denominator = 2 * (n + WILSON_Z ** 2)
        centre = (2 * n * p + WILSON_Z ** 2) / denominator
        delta = WILSON_Z / denominator * np.sqrt(4 * n * p * (1 - p) + WILSON_Z ** 2)
    low = np.where(k == 0, 0.0, centre - delta)
    high = np.where(k == n, 1.0, centre + delta)
    empty = n <= 0
    return np.where(empty, np.nan, low), np.where(empty, np.nan, high)


def _kendall_tau_b(years: np.ndarray, supports: np.ndarray, others: np.ndarray) -> tuple[float, float]:
    """Kendall's tau-b between year and support over findings counted per year (years ascending), and its
    two-sided asymptotic p: scipy.stats.kendalltau of the findings one by one, from the counts (scipy takes the
    asymptotic p wherever there are ties, and a binary variable over ten findings or more always has them).

    The same integer counts of pairs and ties and the same float steps as scipy's, so tau is equal to the last
    bit; the p-value takes the normal tail from math.erfc rather than scipy's ndtr (equal within a few ulp).
    """
    order = np.argsort(years)
    supports, others = supports[order], others[order]
    per_year = supports + others
    size = int(per_year.sum())

    def ties(counts: np.ndarray) -> tuple[int, int, int]:
        counts = [int(count) for count in counts if count > 1]
        return (sum(c * (c - 1) // 2 for c in counts), sum(c * (c - 1) * (c - 2) for c in counts),
                sum(c * (c - 1) * (2 * c + 5) for c in counts))

    # A pair is discordant when the earlier finding supports and the later does not.
    later_others = np.concatenate([np.cumsum(others[::-1])[::-1][1:], [0]])
    discordant = int((supports * later_others).sum())
    joint_ties = sum(int(c) * (int(c) - 1) // 2 for c in (*supports, *others))
    year_ties, year_0, year_1 = ties(per_year)
    stance_ties, stance_0, stance_1 = ties(np.array([supports.sum(), others.sum()]))
    total = size * (size - 1) // 2
    con_minus_dis = total - year_ties - stance_ties + joint_ties - 2 * discordant
    tau = min(1.0, max(-1.0, con_minus_dis / np.sqrt(total - year_ties) / np.sqrt(total - stance_ties)))
    m = size * (size - 1.0)
    variance = ((m * (2 * size + 5) - year_1 - stance_1) / 18 + (2 * year_ties * stance_ties) / m
                + year_0 * stance_0 / (9 * m * (size - 2)))
    z = con_minus_dis / np.sqrt(variance)
    return float(tau), math.erfc(abs(float(z)) / math.sqrt(2))


def support_trend(by_year: pd.DataFrame) -> tuple[str, float, float]:
    """Whether support's share of findings rises or falls over the years: (direction, tau, p).

    `by_year` has one row per year with supports and findings. The test is Kendall's tau-b between each
    finding's year and whether it supports (as scipy.stats.kendalltau computes it, correcting for the ties of a
    2 × years table): a rank test of trend in a proportion, close to Cochran–Armitage's (scipy's Somers' D p-value
    was far too small on such tables). Direction is "rising" or "falling" where p < 0.05, "stable" otherwise, and
    "too few" (tau and p NaN) under TREND_MINIMUM findings or fewer than two years with findings.
    """
    used = by_year[by_year["findings"] > 0]
    if used["findings"].sum() < TREND_MINIMUM or len(used) < 2:
        return "too few", float("nan"), float("nan")
    supports = used["supports"].to_numpy(dtype="int64")
    others = used["findings"].to_numpy(dtype="int64") - supports
    if not supports.any() or not others.any():
        # All support or none, every year: no change of share to find.
        return "stable", 0.0, 1.0
    statistic, p_value = _kendall_tau_b(used["year"].to_numpy(dtype="int64"), supports, others)
    if p_value < TREND_SIGNIFICANCE:
        return ("rising" if statistic > 0 else "falling"), statistic, p_value
    return "stable", statistic, p_value


VERDICT_COLUMNS: tuple[str, ...] = (
    "hypothesis_id", "cause", "supports", "contradicts", "mixed", "findings", "share", "share_low", "share_high",
    "high_supports", "high_findings", "high_share", "high_low", "high_high", "trend", "trend_tau", "trend_p",
    "patients", "with_size", *LEFT_OUT_OF_DIRECT, "low_confidence", "reviewed",
)


def _by_confidence(findings: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The findings read with high confidence, which every verdict counts, and those read with low, kept apart."""
    findings = findings[findings["stance"].isin(FINDING_STANCES)]
    high = findings["confidence"] == "high"
    return findings[high], findings[~high]


def verdict_table(findings: pd.DataFrame, hypotheses: Sequence[Hypothesis], *, scope: str = "direct",
                  now_year: int, trend_years: int = 10) -> pd.DataFrame:
    """Per cause, what its findings say (VERDICT_COLUMNS), from a `finding_counts` frame; in the hypotheses
    file's order, every cause a row (zeros included).

    Only findings read with high confidence count (a person's review counts as such); low_confidence counts the
    scope's others, kept apart, and reviewed how many of the counted findings a person reviewed.
    supports / contradicts / mixed count the findings `scope` keeps; share is supports among all three with its
    95% Wilson interval (share_low, share_high; NaN without findings). high_* do the same for meta-analyses,
    systematic reviews and RCTs, whatever their kind of finding (a review or a trial is never a patient-control
    comparison), hedged ones included. trend is `support_trend` over the `trend_years` years up to `now_year`.
    patients sums the patients of the scope's findings whose abstracts state them (with_size of them do).
    The LEFT_OUT_OF_DIRECT columns (treatment_results, reviews, other_results, hedged_direct) count, whatever the
    scope, what the direct scope leaves out, each finding once: those of the other three kinds (hedged or not), then
    those of the direct kinds stated with hedging. Together they are the "all" scope's findings less the direct
    scope's.
    """
    causes = [h for h in hypotheses if not h.baseline]
    index = pd.Index([h.id for h in causes], name="hypothesis_id")
    findings, unsure = _by_confidence(findings)
    scoped = in_scope(findings, scope)

    def per_stance(frame: pd.DataFrame) -> pd.DataFrame:
        return (frame.groupby(["hypothesis_id", "stance"])["articles"].sum().unstack(fill_value=0)
                .reindex(index=index, columns=list(FINDING_STANCES), fill_value=0).astype("int64"))

    table = per_stance(scoped)
    table.insert(0, "cause", [h.label for h in causes])
    table["findings"] = table[list(FINDING_STANCES)].sum(axis=1)
    high = per_stance(findings[findings["high_level"].astype(bool)])
    table["high_supports"] = high["supports"]
    table["high_findings"] = high.sum(axis=1)
    for prefix, supports, total in (("share", "supports", "findings"), ("high", "high_supports", "high_findings")):
        low, upper = wilson_intervals(table[supports], table[total])
        share_name = "share" if prefix == "share" else "high_share"
        table[share_name] = table[supports] / table[total].where(table[total] > 0)
        table[f"{prefix}_low"], table[f"{prefix}_high"] = low, upper

    recent = scoped[scoped["year"].notna() & (scoped["year"] > now_year - trend_years)
                    & (scoped["year"] <= now_year)]
    by_year = recent.assign(supported=np.where(recent["stance"] == "supports", recent["articles"], 0)).groupby(
        ["hypothesis_id", "year"]).agg(supports=("supported", "sum"), findings=("articles", "sum")).reset_index()
    trends = {cause: support_trend(rows) for cause, rows in by_year.groupby("hypothesis_id")}
    none = ("too few", float("nan"), float("nan"))
    table["trend"] = [trends.get(cause, none)[0] for cause in index]
    table["trend_tau"] = [trends.get(cause, none)[1] for cause in index]
    table["trend_p"] = [trends.get(cause, none)[2] for cause in index]

    sizes = scoped.groupby("hypothesis_id")[["patients", "with_size"]].sum()
    table["patients"] = sizes["patients"].reindex(index, fill_value=0).astype("int64")
    table["with_size"] = sizes["with_size"].reindex(index, fill_value=0).astype("int64")

    def per_cause(frame: pd.DataFrame) -> pd.Series:
        return frame.groupby("hypothesis_id")["articles"].sum().reindex(index, fill_value=0).astype("int64")

    hedged = findings["hedged"].astype(bool)
    for column, (kinds, hedged_only) in LEFT_OUT_OF_DIRECT.items():
        table[column] = per_cause(findings[findings["evidence_kind"].isin(kinds) & (hedged if hedged_only else True)])
    table["low_confidence"] = per_cause(in_scope(unsure, scope))
    table["reviewed"] = per_cause(scoped[scoped["reviewed"].astype(bool)])
    return table.reset_index()[list(VERDICT_COLUMNS)].rename_axis(columns=None)


SHARE_COLUMNS: tuple[str, ...] = ("hypothesis_id", "cause", "period_start", "period", "supports", "contradicts",
                                  "mixed", "findings", "share", "share_low", "share_high")


def share_by_period(findings: pd.DataFrame, hypotheses: Sequence[Hypothesis], *, scope: str = "direct",
                    period_years: int = 5) -> pd.DataFrame:
    """Per cause × period of `period_years` calendar years (aligned on multiples of it: 2015–2019), support's
    share of the findings read with high confidence that `scope` keeps, with its 95% Wilson interval:
    SHARE_COLUMNS. Periods without a finding are left out; so are findings of unknown year."""
    scoped = in_scope(_by_confidence(findings)[0], scope)
    scoped = scoped[scoped["year"].notna()]
    start = (scoped["year"].astype("int64") // period_years) * period_years
    grouped = (scoped.assign(period_start=start).groupby(["hypothesis_id", "period_start", "stance"])["articles"]
               .sum().unstack(fill_value=0).reindex(columns=list(FINDING_STANCES), fill_value=0))
    grouped["findings"] = grouped.sum(axis=1)
    grouped = grouped.reset_index()
    order = {h.id: position for position, h in enumerate(hypotheses)}
    grouped = grouped[grouped["hypothesis_id"].isin(order)]
    grouped = grouped.sort_values(["hypothesis_id", "period_start"], key=lambda column: column.map(order)
                                  if column.name == "hypothesis_id" else column, ignore_index=True)
    low, high = wilson_intervals(grouped["supports"], grouped["findings"])
    return pd.DataFrame({
        "hypothesis_id": grouped["hypothesis_id"].to_numpy(dtype=object),
        "cause": grouped["hypothesis_id"].map(_labels(hypotheses)).to_numpy(dtype=object),
        "period_start": grouped["period_start"].to_numpy(dtype="int64"),
        "period": [f"{year}–{year + period_years - 1}" for year in grouped["period_start"]],
        **{name: grouped[name].to_numpy(dtype="int64") for name in (*FINDING_STANCES, "findings")},
        "share": (grouped["supports"] / grouped["findings"]).to_numpy(dtype="float64"),
        "share_low": low,
        "share_high": high,
    })
