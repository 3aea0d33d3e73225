"""Small functions that each draw one thing from data they are given; none of them reads the store."""

from __future__ import annotations

import re
import shlex
import urllib.parse
from collections.abc import Iterable, Mapping, Sequence

import altair as alt
import pandas as pd
import streamlit as st

from tracker import schedule
from tracker.config import Hypothesis
from tracker.tagging import DESIGN_LABELS

PUBMED_URL = "https://pubmed.ncbi.nlm.nih.gov/{pmid}/"
NCBI_POLICY_URL = "https://www.ncbi.nlm.nih.gov/home/about/policies/"
# NCBI asks tools that show abstracts to show its disclaimer and copyright notice with them.
NCBI_NOTICE = (
    "Citations and abstracts are from PubMed, a service of the U.S. National Library of Medicine (NLM); NLM does "
    "not endorse this tool. Abstracts may be protected by the publishers' copyright: see NCBI's "
    f"[disclaimer and copyright notice]({NCBI_POLICY_URL})."
)
SPECIES_LABELS = {"human": "Humans", "animal": "Animals", "both": "Humans and animals", "unknown": "Not stated"}
# Material icons ship with Streamlit's own font; emoji depend on the reader's fonts (a box without them).
OK_ICON = ":green[:material/check_circle:]"
WARNING_ICON = ":orange[:material/warning:]"
TAG_SOURCE_LABELS = {
    "query": "PubMed's query for this cause returns it",
    "text": "its text mentions the cause's terms",
    "query+text": "PubMed's query returns it and its text mentions the cause's terms",
}
INTEGRITY_LABELS = {
    "retracted": "Retracted: PubMed links a retraction notice to this article",
    "retraction_notice": "This record is itself a retraction notice",
    "has_erratum": "An erratum (correction) was published for this article",
    "expression_of_concern": "The journal published an expression of concern about this article",
}
CITATION_PAGE_SIZE = 100

# Markdown would read these characters in an abstract as emphasis, links, maths or headings; as HTML entities
# they reach the page as the plain characters they are.
_MARKDOWN_ENTITIES = {character: f"&#{ord(character)};" for character in "\\`*_{}[]()#+-.!|$~<>&\"'"}
# A line break or blank line would end the HTML block and hand the rest back to Markdown.
_WHITESPACE = re.compile(r"\s+")
_MARKDOWN_ESCAPE = re.compile("|".join(re.escape(character) for character in _MARKDOWN_ENTITIES))


def doi_url(doi: str) -> str:
    """The doi.org link of a DOI, percent-encoded so that brackets or spaces in it cannot break a Markdown link."""
    return "https://doi.org/" + urllib.parse.quote(doi.strip(), safe="/")


def escape_text(text: str) -> str:
    """Make text inert for st.markdown(unsafe_allow_html=True): HTML and Markdown both shown as typed."""
    return _MARKDOWN_ESCAPE.sub(lambda match: _MARKDOWN_ENTITIES[match.group(0)], _WHITESPACE.sub(" ", text))


def term_pattern(terms: Iterable[str]) -> re.Pattern[str] | None:
    """One case-insensitive whole-word pattern for the terms, tolerant of "tilt table" vs "tilt-table"."""
    alternatives = []
    for term in sorted({t for t in terms if t.strip()}, key=len, reverse=True):
        words = [re.escape(word) for word in re.split(r"[\s\-]+", term.strip()) if word]
        alternatives.append(r"[\s\-]?".join(words))
    if not alternatives:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)", re.IGNORECASE)


def highlight_terms(text: str, terms: Iterable[str]) -> str:
    """Return the text escaped for markup with each term wrapped in <mark>; only escaped pieces reach the page."""
    text = _WHITESPACE.sub(" ", text).strip()
    pattern = term_pattern(terms)
    if pattern is None:
        return escape_text(text)
    # Matching the raw text and escaping each piece, rather than matching escaped text, keeps a term such as
    # "35" from landing inside an entity like "&#35;".
    pieces: list[str] = []
    position = 0
    for match in pattern.finditer(text):
        pieces.append(escape_text(text[position:match.start()]))
        pieces.append(f"<mark>{escape_text(match.group(0))}</mark>")
        position = match.end()
    pieces.append(escape_text(text[position:]))
    return "".join(pieces)


def draw_store_error(message: str) -> None:
    """Show a store or configuration problem as one message with its fix, not a traceback."""
    st.error(message, icon=":material/error:")


def draw_first_screen(db_path: str, has_runs: bool) -> None:
    """The empty store's screen: what the dashboard will show and the command that fills it."""
    st.title("Fibromyalgia evidence tracker")
    st.info("The store has no articles yet.", icon=":material/inbox:")
    st.markdown(
        "The dashboard charts the PubMed evidence for each hypothesised cause of fibromyalgia once the fetch job "
        "has stored some articles. Run it in a terminal, in the project directory:"
    )
    # Quoted: the reader pastes it into a shell, and a store path may hold spaces.
    st.code(f"tracker fetch --db {shlex.quote(db_path)}", language="bash")
    st.markdown(
        "It asks PubMed for every cause in the hypotheses file (a first run takes a few minutes; later runs fetch "
        "only what changed), then reload this page. Articles saved from PubMed can be added with "
        "`tracker import FILE` instead."
    )
    if has_runs:
        st.warning("A fetch has run but stored nothing: see its outcome below.", icon=":material/warning:")


def draw_no_causes(hypotheses_path: object) -> None:
    """Say that the hypotheses file names no cause, only the baseline, and how to add one."""
    st.info(f"{hypotheses_path} has no causes, only the fibromyalgia baseline: add a [[hypothesis]] entry with "
            "id, label, description, query and terms, then run `tracker fetch`.", icon=":material/info:")


def draw_headline(article_count: int, new_count: int, new_run: str | None, last_success: Mapping | None,
                  last_run: Mapping | None) -> None:
    """The figures at the top of the overview; `new_run` names the latest successful run ("run 7 (fetch, …)")."""
    columns = st.columns(3)
    columns[0].metric("Articles tracked", f"{article_count:,}")
    columns[1].metric("New in the latest fetch or import", f"{new_count:,}",
                      help=f"Stored for the first time by {new_run}, retracted ones included; Citations → "
                           "“New in run …” lists them" if new_run else "No fetch or import has succeeded yet")
    columns[1].caption(f"In {new_run}" if new_run else "No fetch or import yet")
    if last_success is None:
        columns[2].metric("Last successful fetch (UTC)", "never")
    else:
        finished = str(last_success["finished_at"] or last_success["started_at"])
        columns[2].metric("Last successful fetch (UTC)", f"{finished[:10]} {finished[11:16]}")
    if last_run is not None and last_run["status"] != "succeeded":
        st.warning(f"The latest fetch (run {last_run['id']}, {last_run['started_at']}) "
                   f"{last_run['status']}: {last_run['error'] or 'no error recorded'}. "
                   "The figures show what was stored before it; see Fetch status.", icon=":material/warning:")


def coverage_frame(hypotheses: Sequence[Hypothesis], status: pd.DataFrame) -> pd.DataFrame:
    """Per hypothesis: PubMed's count at the last sync, the stored count, and whether they agree."""
    by_id = status.set_index("hypothesis_id") if len(status) else status
    rows = []
    for hypothesis in hypotheses:
        known = hypothesis.id in by_id.index
        pubmed_count = by_id.at[hypothesis.id, "pubmed_count"] if known else None
        stored_count = int(by_id.at[hypothesis.id, "stored_count"]) if known else 0
        pubmed_count = None if pubmed_count is None or pd.isna(pubmed_count) else int(pubmed_count)
        rows.append({"hypothesis_id": hypothesis.id, "label": hypothesis.label, "pubmed_count": pubmed_count,
                     "stored_count": stored_count, "complete": pubmed_count is not None and pubmed_count == stored_count})
    return pd.DataFrame(rows, columns=["hypothesis_id", "label", "pubmed_count", "stored_count", "complete"])


def draw_coverage(coverage: pd.DataFrame) -> None:
    """One line per cause, "stored = PubMed count", with a warning where they differ or no sync has run."""
    lines = []
    for row in coverage.itertuples(index=False):
        if row.pubmed_count is None:
            lines.append(f"- {WARNING_ICON} **{row.label}**: {row.stored_count:,} stored; not synced with PubMed yet")
        elif row.complete:
            lines.append(f"- {OK_ICON} **{row.label}**: {row.stored_count:,} stored = {row.pubmed_count:,} in PubMed")
        else:
            lines.append(f"- {WARNING_ICON} **{row.label}**: {row.stored_count:,} stored ≠ {row.pubmed_count:,} in PubMed "
                         "— run `tracker fetch` to catch up")
    st.markdown("\n".join(lines))


def citation_rows(frame: pd.DataFrame, labels: Mapping[str, str]) -> pd.DataFrame:
    """The citations table's visible columns, in the frame's order."""
    return pd.DataFrame({
        "PMID": frame["pmid"].to_numpy(),
        "Year": frame["pub_year"].to_numpy(),
        "Title": frame["title"].to_numpy(),
        "Authors": frame["author_names"].map(_short_authors).to_numpy(),
        "Journal": frame["journal_iso"].fillna(frame["journal"]).to_numpy(),
        "Design": frame["design"].map(DESIGN_LABELS).to_numpy(),
        "Species": frame["species"].map(SPECIES_LABELS).to_numpy(),
        "Causes": frame["hypotheses"].map(lambda ids: ", ".join(labels[i] for i in ids if i in labels)).to_numpy(),
        "Retracted": frame["retracted"].to_numpy(dtype=bool),
        "PubMed": [PUBMED_URL.format(pmid=pmid) for pmid in frame["pmid"]],
        "DOI": [doi_url(doi) if isinstance(doi, str) and doi else None for doi in frame["doi"]],
    })


def _short_authors(author_names: str) -> str:
    names = [name for name in (author_names or "").split("; ") if name]
    return "; ".join(names) if len(names) <= 3 else f"{'; '.join(names[:3])}; et al."


def draw_citations(rows: pd.DataFrame) -> None:
    """The citations table with its PubMed and DOI links."""
    st.dataframe(
        rows,
        hide_index=True,
        width="stretch",
        column_config={
            "PMID": st.column_config.NumberColumn(format="%d"),
            "Year": st.column_config.NumberColumn(format="%d"),
            "Title": st.column_config.TextColumn(width="large"),
            "PubMed": st.column_config.LinkColumn(display_text="PubMed"),
            "DOI": st.column_config.LinkColumn(display_text="DOI"),
        },
    )


def draw_article(article: pd.Series, hypotheses: Sequence[Hypothesis]) -> None:
    """One article in full: citation, links, integrity flags, abstract with its tagging terms marked, tags, MeSH."""
    labels = {h.id: h.label for h in hypotheses}
    terms = [entry["term"] for entries in article["matched_terms"].values() for entry in entries]
    st.markdown(f"#### {highlight_terms(article['title'], terms)}", unsafe_allow_html=True)
    citation = ", ".join(str(part) for part in (
        article["journal"], _year_text(article["pub_year"]), article["volume"], article["pages"]) if _present(part))
    st.markdown(f"{escape_text(article['author_names'] or 'No authors listed')}  \n*{escape_text(citation)}*",
                unsafe_allow_html=True)
    links = [f"[PubMed {article['pmid']}]({PUBMED_URL.format(pmid=article['pmid'])})"]
    if _present(article["doi"]):
        links.append(f"[doi:{escape_text(article['doi'])}]({doi_url(article['doi'])})")
    if _present(article["pmcid"]):
        links.append(f"[{article['pmcid']}](https://pmc.ncbi.nlm.nih.gov/articles/{article['pmcid']}/)")
    st.markdown(" · ".join(links))
    for flag, text in INTEGRITY_LABELS.items():
        if bool(article[flag]):
            (st.error if flag == "retracted" else st.warning)(text, icon=":material/report:")

    sections = list(article["abstract_sections"])
    if sections:
        paragraphs = []
        for section in sections:
            label = f"<strong>{escape_text(section['label'])}:</strong> " if section.get("label") else ""
            paragraphs.append(f"<p>{label}{highlight_terms(section['text'], terms)}</p>")
        st.markdown("".join(paragraphs), unsafe_allow_html=True)
    else:
        st.caption("PubMed has no abstract for this article.")
    st.caption(NCBI_NOTICE)

    st.markdown("**Why it is tagged**")
    tag_lines = []
    for hypothesis_id in article["hypotheses"]:
        source = article["tag_sources"].get(hypothesis_id)
        matched = article["matched_terms"].get(hypothesis_id, [])
        found = ", ".join(f"“{escape_text(m['term'])}” ({m['field']})" for m in matched)
        why = TAG_SOURCE_LABELS.get(source, "tagged")
        tag_lines.append(f"- **{escape_text(labels.get(hypothesis_id, hypothesis_id))}**: {why}"
                         + (f": {found}" if found else ""))
    st.markdown("\n".join(tag_lines) or "No cause tags.", unsafe_allow_html=True)
    species = SPECIES_LABELS.get(article["species"], article["species"])
    st.markdown(f"**Study design**: {DESIGN_LABELS.get(article['design'], article['design'])} · "
                f"**Species**: {species}" + (" · in vitro" if bool(article["in_vitro"]) else ""))
    mesh = [f"{escape_text(m['descriptor'])}{' *' if m.get('major') else ''}" for m in article["mesh"]]
    st.markdown("**MeSH terms** (* major topic): " + ("; ".join(mesh) if mesh else "none yet"),
                unsafe_allow_html=True)


def _present(value: object) -> bool:
    return value is not None and not (isinstance(value, float) and pd.isna(value)) and value is not pd.NA and value != ""


def _year_text(year: object) -> str | None:
    return None if year is None or pd.isna(year) else str(int(year))


def draw_runs(runs: pd.DataFrame) -> None:
    """The recent fetch runs with their outcome and error."""
    shown = pd.DataFrame({
        "Run": runs["id"],
        "Kind": runs["kind"],
        "Outcome": runs["status"],
        "Started (UTC)": runs["started_at"],
        "Finished (UTC)": runs["finished_at"],
        "Full sync": runs["full_sync"].astype(bool),
        "Requests": runs["requests"],
        "Error": runs["error"],
    })
    st.dataframe(shown, hide_index=True, width="stretch")


def draw_run_log(run_log: pd.DataFrame, labels: Mapping[str, str]) -> None:
    """One run's per-cause lines: counts and errors."""
    shown = pd.DataFrame({
        "Cause": run_log["hypothesis_id"].map(lambda i: labels.get(i, i)),
        "Outcome": run_log["status"],
        "In PubMed": run_log["pubmed_count"],
        "Stored": run_log["stored_count"],
        "New": run_log["new_count"],
        "Updated": run_log["updated_count"],
        "Removed": run_log["removed_count"],
        "Error": run_log["error"],
    })
    st.dataframe(shown, hide_index=True, width="stretch")


def draw_sync_states(sync_states: pd.DataFrame, hypotheses: Sequence[Hypothesis]) -> None:
    """Per cause: when it was last synced, PubMed's count then, and the date windows it needed."""
    rows = []
    for hypothesis in hypotheses:
        known = hypothesis.id in sync_states.index
        rows.append({
            "Cause": hypothesis.label,
            "Last synced (UTC)": sync_states.at[hypothesis.id, "last_success_at"] if known else "never",
            "In PubMed": sync_states.at[hypothesis.id, "pubmed_count"] if known else None,
            "Date windows": sync_states.at[hypothesis.id, "window_count"] if known else None,
            "Changes since": sync_states.at[hypothesis.id, "modified_since"] if known else None,
        })
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")


def draw_schedule() -> None:
    """How the fetch job is meant to recur."""
    st.markdown(
        f"By default the fetch job runs on the cron schedule `{schedule.DEFAULT_CRON}` in "
        f"**{schedule.DEFAULT_TIMEZONE}** time, inside NCBI's requested off-peak hours "
        f"({schedule.OFF_PEAK_START_HOUR:02d}:00–{schedule.OFF_PEAK_END_HOUR:02d}:00 US Eastern), starting up to "
        f"{schedule.DEFAULT_JITTER_S // 60} minutes late at random. `tracker schedule` runs it in the foreground "
        "and catches up a missed run; `tracker schedule --print-cron` or `--print-systemd` prints the lines that "
        "install it instead. A run that finds another one still going stops at once without touching the store."
    )


def line_chart(data: pd.DataFrame, x_title: str, y_title: str) -> alt.Chart:
    """A line per cause over publication year; `data` has columns year, cause, value."""
    return alt.Chart(data).mark_line(point=True).encode(
        x=alt.X("year:O", title=x_title),
        y=alt.Y("value:Q", title=y_title),
        color=alt.Color("cause:N", title="Cause"),
        tooltip=["cause", "year", alt.Tooltip("value:Q", format=",.1f")],
    )


def breakdown_chart(counts: pd.Series, labels: Mapping[str, str], title: str) -> alt.Chart:
    """Horizontal bars of article counts, in the order of `counts` (the tagging module's order), not A to Z."""
    data = pd.DataFrame({"category": [labels.get(key, key) for key in counts.index], "articles": counts.to_numpy()})
    return alt.Chart(data).mark_bar().encode(
        x=alt.X("articles:Q", title="Articles"),
        y=alt.Y("category:N", title=title, sort=list(data["category"])),
        tooltip=["category", "articles"],
    )


def stacked_design_chart(data: pd.DataFrame, y_title: str) -> alt.Chart:
    """Bars per publication year stacked by study design; `data` has columns year, design, value."""
    order = list(DESIGN_LABELS.values())
    return alt.Chart(data).mark_bar().encode(
        x=alt.X("year:O", title="Publication year"),
        y=alt.Y("value:Q", title=y_title, stack="zero"),
        # Eleven designs: a 20-colour scheme keeps them apart (the default has ten, so two would share one).
        color=alt.Color("design:N", title="Study design", sort=order, scale=alt.Scale(scheme="tableau20")),
        order=alt.Order("design_rank:Q"),
        tooltip=["design", "year", alt.Tooltip("value:Q", format=",.1f")],
    )
