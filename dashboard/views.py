"""Small functions that each draw one thing from data they are given; none of them reads the store."""

from __future__ import annotations

import functools
import json
import re
import shlex
import textwrap
import urllib.parse
from collections.abc import Iterable, Mapping, Sequence

import altair as alt
import pandas as pd
import streamlit as st

from tracker import config
from tracker.config import Hypothesis
from tracker.models import STANCES
from tracker.tagging import DESIGN_LABELS, DESIGNS
from tracker.wording import plural

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
# Short badges beside a title: what a reader scans for first.
DESIGN_BADGES = {"meta_analysis": "Meta-analysis", "systematic_review": "Systematic review", "rct": "RCT",
                 "clinical_trial": "Trial", "cohort": "Cohort", "case_control": "Case-control",
                 "observational": "Observational", "case_report": "Case report", "narrative_review": "Review",
                 "editorial": "Opinion", "other": "Other design"}
STANCE_BADGES = {"supports": "Supports", "contradicts": "Contradicts", "mixed": "Mixed", "no_finding": "No finding"}
INTEGRITY_BADGES = {"retracted": "RETRACTED", "has_erratum": "Erratum", "expression_of_concern": "Concern"}
_BADGE_COLOURS = {**{badge: "blue" if design in ("meta_analysis", "systematic_review", "rct") else "gray"
                     for design, badge in DESIGN_BADGES.items()},
                  "Supports": "green", "Contradicts": "orange", "Mixed": "violet", "No finding": "gray",
                  "RETRACTED": "red", "Erratum": "yellow", "Concern": "yellow"}
# Colours that stay apart for colour-blind readers (ColorBrewer Dark2 and Blues), one per stacked group.
# A finding read with low confidence takes a pale tint of its stance's colour, stacked above the confident ones.
STANCE_COLOURS = {"Supports": "#1b9e77", "Contradicts": "#d95f02", "Mixed": "#7570b3",
                  "Supports, low confidence": "#a9dcc9", "Contradicts, low confidence": "#f6c39c",
                  "Mixed, low confidence": "#cbc8e4", "No finding on it": "#c7c7c7"}
LEVEL_COLOURS = {"Meta-analyses, systematic reviews, RCTs": "#08519c", "Other trials and observational studies": "#6baed6",
                 "Case reports, narrative reviews, opinion": "#fdae6b", "Other or not stated": "#d9d9d9"}
# Only ids of these shapes become links: stored text never reaches an href.
_HIGH_LEVEL = ("meta_analysis", "systematic_review", "rct")
_PMCID = re.compile(r"PMC[0-9]{1,12}")
_DOI = re.compile(r"10\.[0-9]{4,9}/\S+")

# Markdown would read these characters in an abstract as emphasis, links, maths or headings; as HTML entities
# they reach the page as the plain characters they are.
# ":" too: Streamlit reads ":red[...]" and ":material/home:" as its own colour and icon syntax.
_MARKDOWN_ENTITIES = {character: f"&#{ord(character)};" for character in "\\`*_{}[]()#+-.!|$~<>&\"':="}
# A line break or blank line would end the HTML block and hand the rest back to Markdown.
_WHITESPACE = re.compile(r"\s+")
_MARKDOWN_ESCAPE = re.compile("|".join(re.escape(character) for character in _MARKDOWN_ENTITIES))


def doi_url(doi: object) -> str | None:
    """The doi.org link of a well-formed DOI ("10.NNNN/suffix"), percent-encoded so that brackets in it cannot
    break a Markdown link; None for anything else."""
    if not isinstance(doi, str) or not _DOI.fullmatch(doi.strip()):
        return None
    return "https://doi.org/" + urllib.parse.quote(doi.strip(), safe="/")


def pubmed_url(pmid: object) -> str:
    """The PubMed page of a PMID, which must be a positive whole number."""
    number = int(pmid)  # type: ignore[call-overload]
    if number <= 0:
        raise ValueError(f"not a PMID: {pmid!r}")
    return PUBMED_URL.format(pmid=number)


def pmc_url(pmcid: object) -> str | None:
    """The PubMed Central page of a well-formed PMC id ("PMC1234567"); None for anything else."""
    if not isinstance(pmcid, str) or not _PMCID.fullmatch(pmcid.strip()):
        return None
    return f"https://pmc.ncbi.nlm.nih.gov/articles/{pmcid.strip()}/"


def citations_link(**filters: object) -> str:
    """A link to the Citations page with these filters set (causes, stances, designs, retracted, from, to)."""
    query = {"page": "Citations"}
    for name, value in filters.items():
        if value is None or value == () or value == []:
            continue
        query[name] = ",".join(str(v) for v in value) if isinstance(value, (list, tuple)) else str(value)
    return "?" + urllib.parse.urlencode(query)


def linked_count(count: int, **filters: object) -> str:
    """A count as a Markdown link to the articles behind it."""
    return f"[{count:,}]({citations_link(**filters)})"


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


def draw_missing_store(db_path: str, folder_exists: bool) -> None:
    """Say that the store file does not exist (a mistyped --db is likelier than an empty store), and the fix."""
    st.title("Fibromyalgia evidence tracker")
    where = "" if folder_exists else " (nor does its folder)"
    st.error(f"No store at {escape_text(db_path)}: the file does not exist{where}. Check the path given with --db or "
             "TRACKER_DB; to start a new store there, run the fetch job:", icon=":material/error:")
    st.code(f"tracker fetch --db {shlex.quote(db_path)}", language="bash")


def cause_table_markdown(summary: pd.DataFrame, split: bool, retracted: str | None) -> str:
    """One row per cause with one clear count (and, with `split`, how the articles were found), the retracted
    ones and the share of high-level evidence; every count links to its articles in Citations."""
    head = ["Cause", "Articles"]
    if split:
        head += ["By PubMed's query only", "By their text only", "By both"]
    head += ["Retracted", "High-level evidence"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join([":---"] + ["---:"] * (len(head) - 1)) + "|"]
    for hypothesis_id, row in summary.iterrows():
        cells = [escape_text(row["label"]), linked_count(int(row["articles"]), causes=[hypothesis_id],
                                                         retracted=retracted)]
        if split:
            cells += [f"{int(row[source]):,}" for source in ("query", "text", "query+text")]
        cells.append(linked_count(int(row["retracted"]), causes=[hypothesis_id], retracted="only"))
        cells.append(f"{row['high_level_share']:.0%} ("
                     + linked_count(int(row["high_level"]), causes=[hypothesis_id],
                                    designs=list(_HIGH_LEVEL), retracted=retracted) + ")")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def cause_links_markdown(hypothesis_id: str, row: pd.Series, retracted: str | None) -> str:
    """The cause page's counts as links to their articles in Citations."""
    return (f"Open in Citations: {linked_count(int(row['articles']), causes=[hypothesis_id], retracted=retracted)} "
            f"articles · {linked_count(int(row['high_level']), causes=[hypothesis_id], designs=list(_HIGH_LEVEL), retracted=retracted)} "
            f"meta-analyses, systematic reviews and RCTs · "
            f"{linked_count(int(row['retracted']), causes=[hypothesis_id], retracted='only')} retracted")


def _verb(count: int, verb: str) -> str:
    """The verb that agrees with a count as its subject: "1 reports", "2 report"."""
    return verb + "s" if count == 1 else verb


def stance_summary_markdown(cause: Hypothesis, counts: pd.DataFrame, tagged: int, retracted: str | None) -> str:
    """A few plain sentences that sum up what the cause's articles found; every number links to its articles.

    `counts` is `loaders.load_stance_counts`' frame (index: the readings, a finding read with low confidence
    apart), `tagged` the cause's article count. The findings counted are the high-confidence ones; the
    low-confidence ones are told apart, so that a guess is never taken for a finding.
    """
    def link(number: int, stance: str, confidence: str | None = "high", **more: object) -> str:
        return linked_count(number, causes=[cause.id], stances=[stance], retracted=retracted,
                            confidence=confidence, **more)

    n = {reading: int(counts.at[reading, "articles"]) for reading in counts.index}
    low = {stance: n[f"{stance}_low"] for stance in ("supports", "contradicts", "mixed")}
    unread = max(0, tagged - sum(n.values()))
    first_years = counts["first_year"].dropna()
    since = f"Since {int(first_years.min())}, of" if len(first_years) else "Of"
    sentences = [
        f"{since} the {tagged:,} {plural(tagged, 'article')} tagged with {escape_text(cause.label)}, "
        f"{link(n['supports'], 'supports')} {_verb(n['supports'], 'report')} a finding that supports it, "
        f"{link(n['contradicts'], 'contradicts')} one that contradicts it (no difference, or the opposite of what "
        f"it predicts), {link(n['mixed'], 'mixed')} mixed findings and {link(n['no_finding'], 'no_finding', None)} "
        "no finding on it" + (f"; {unread:,} have not been read yet (`tracker retag` reads them)." if unread else ".")]
    if sum(low.values()):
        total = sum(low.values())
        sentences.append(
            f"Counted apart, {total:,} more {plural(total, 'article')} {_verb(total, 'report')} a finding the reader "
            f"is not sure of (hedged wording, a pooled population, a measure named only by an abbreviation, an "
            f"unstructured abstract; each article says why): {link(low['supports'], 'supports', 'low')} "
            f"supporting, {link(low['contradicts'], 'contradicts', 'low')} contradicting, "
            f"{link(low['mixed'], 'mixed', 'low')} mixed.")
    high = {stance: int(counts.at[stance, "high_level"]) for stance in ("supports", "contradicts")}
    if sum(int(value) for value in counts["high_level"]):
        sentences.append(
            "Among its meta-analyses, systematic reviews and randomised trials, "
            f"{link(high['supports'], 'supports', designs=list(_HIGH_LEVEL))} {_verb(high['supports'], 'support')} "
            f"it and {link(high['contradicts'], 'contradicts', designs=list(_HIGH_LEVEL))} "
            f"{_verb(high['contradicts'], 'contradict')} it with high confidence.")
    else:
        sentences.append("None of its articles is a meta-analysis, systematic review or randomised trial.")
    sizes = []
    for stance, verb in (("supports", "supporting"), ("contradicts", "contradicting")):
        with_size = int(counts.at[stance, "with_size"])
        if with_size:
            patients = int(counts.at[stance, "patients"])
            sizes.append(f"the {link(with_size, stance)} {verb} {plural(with_size, 'article')} that "
                         f"{_verb(with_size, 'state')} a sample size studied "
                         f"{patients:,} {plural(patients, 'patient')} in all")
    if sizes:
        joined = "; ".join(sizes)
        # Only the first letter: str.capitalize() would lower-case the links' "?page=Citations" and break them.
        sentences.append(joined[:1].upper() + joined[1:] + ".")
    return " ".join(sentences)


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


def citation_rows(frame: pd.DataFrame, labels: Mapping[str, str],
                  stances: pd.DataFrame | None = None) -> pd.DataFrame:
    """The citations table's visible columns, in the frame's order: the PubMed link first, the title with its
    badges (design, stance, retraction), then the rest. `stances` (pmid, hypothesis_id, stance) fills the stance."""
    stance_lists: dict[int, list[tuple[str, str, bool]]] = {}
    if stances is not None and len(stances):
        shown = stances[stances["pmid"].isin(frame["pmid"])]
        low = (shown["confidence"] == "low").tolist() if "confidence" in shown else [False] * len(shown)
        for (pmid, hypothesis_id, stance), unsure in zip(
                shown[["pmid", "hypothesis_id", "stance"]].itertuples(index=False), low):
            stance_lists.setdefault(int(pmid), []).append((hypothesis_id, stance, unsure and stance != "no_finding"))
    badges, stance_texts = [], []
    for pmid, design, retracted, erratum, concern in zip(
            frame["pmid"], frame["design"], frame["retracted"], frame["has_erratum"], frame["expression_of_concern"]):
        pairs = stance_lists.get(int(pmid), [])
        row_badges = [DESIGN_BADGES.get(design, "Other design")]
        row_badges += [STANCE_BADGES[s] for s in STANCES if s != "no_finding" and any(p[1] == s for p in pairs)]
        row_badges += [badge for flag, badge in INTEGRITY_BADGES.items()
                       if bool({"retracted": retracted, "has_erratum": erratum, "expression_of_concern": concern}[flag])]
        badges.append(row_badges)
        stance_texts.append("; ".join(f"{labels.get(h, h)}: {STANCE_BADGES[s].lower()}"
                                      + (" (low confidence)" if unsure else "") for h, s, unsure in pairs) or None)
    return pd.DataFrame({
        "PubMed": [pubmed_url(pmid) for pmid in frame["pmid"]],
        "Title": frame["title"].to_numpy(dtype=object),
        "Badges": badges,
        "Year": frame["pub_year"].to_numpy(),
        "Authors": frame["author_names"].map(_short_authors).to_numpy(),
        "Journal": frame["journal_iso"].fillna(frame["journal"]).to_numpy(),
        "Causes": frame["hypotheses"].map(lambda ids: ", ".join(labels[i] for i in ids if i in labels)).to_numpy(),
        "Stance": stance_texts,
        "Design": frame["design"].map(DESIGN_LABELS).to_numpy(),
        "Species": frame["species"].map(SPECIES_LABELS).to_numpy(),
        "DOI": [doi_url(doi) for doi in frame["doi"]],
        "PMID": frame["pmid"].to_numpy(),
    })


def _short_authors(author_names: str) -> str:
    names = [name for name in (author_names or "").split("; ") if name]
    return "; ".join(names) if len(names) <= 3 else f"{'; '.join(names[:3])}; et al."


def draw_citations(rows: pd.DataFrame, key: str, height: int | str = "auto"):
    """The citations table: PubMed link first, wrapped titles with badges; a click on a row selects it.

    Returns the table's selection state (its `selection.rows` are positions in `rows`).
    """
    badge_options = list(_BADGE_COLOURS)
    return st.dataframe(
        rows,
        hide_index=True,
        width="stretch",
        height=height,
        key=key,
        on_select="rerun",
        selection_mode="single-row",
        # Three lines per row: long titles wrap instead of running off to the right.
        row_height=66,
        column_order=[c for c in rows.columns if c != "PMID"],
        column_config={
            "PubMed": st.column_config.LinkColumn("PubMed", display_text=r"https://pubmed\.ncbi\.nlm\.nih\.gov/(\d+)/",
                                                  width="small", pinned=True, help="Opens the article on PubMed"),
            "Title": st.column_config.TextColumn(width="large", help="Click a row to open the article below"),
            "Badges": st.column_config.MultiselectColumn(
                "Design · stance · integrity", options=badge_options, width="medium",
                color=[_BADGE_COLOURS[badge] for badge in badge_options]),
            "Year": st.column_config.NumberColumn(format="%d", width="small"),
            "DOI": st.column_config.LinkColumn(display_text="DOI", width="small"),
        },
    )


def _retraction_notices(corrections: Sequence[Mapping]) -> list[Mapping]:
    return [c for c in corrections if c.get("ref_type") == "RetractionIn"]


def draw_article(article: pd.Series, hypotheses: Sequence[Hypothesis], stances: pd.DataFrame | None = None) -> None:
    """One article in full: citation, links, integrity flags (with the retraction notice), the deciding sentence of
    each stance, the abstract with its tagging terms marked, tags, MeSH. Every stored string is escaped."""
    labels = {h.id: h.label for h in hypotheses}
    terms = [entry["term"] for entries in article["matched_terms"].values() for entry in entries]
    # Stored text goes out inside HTML blocks only: Markdown would turn a URL in it into a link even escaped.
    st.markdown(f"<h4>{highlight_terms(article['title'], terms)}</h4>", unsafe_allow_html=True)
    citation = ", ".join(str(part) for part in (
        article["journal"], _year_text(article["pub_year"]), article["volume"], article["pages"]) if _present(part))
    st.markdown(f"<div>{escape_text(article['author_names'] or 'No authors listed')}<br>"
                f"<em>{escape_text(citation)}</em></div>", unsafe_allow_html=True)
    links = [_anchor(pubmed_url(article["pmid"]), f"PubMed {int(article['pmid'])}")]
    doi_link = doi_url(article["doi"])
    if doi_link:
        links.append(_anchor(doi_link, f"doi&#58;{escape_text(article['doi'].strip())}"))
    pmc_link = pmc_url(article["pmcid"])
    if pmc_link:
        links.append(_anchor(pmc_link, article["pmcid"].strip()))
    st.markdown(f"<div>{' · '.join(links)}</div>", unsafe_allow_html=True)
    for flag, text in INTEGRITY_LABELS.items():
        if not bool(article[flag]):
            continue
        if flag == "retracted":
            st.error(_retraction_text(article), icon=":material/report:")
            sources = [escape_text(n["ref_source"]) for n in _retraction_notices(article["corrections"])
                       if n.get("ref_source")]
            if sources:
                st.markdown(f"<div>Retraction notice: {'; '.join(sources)}</div>", unsafe_allow_html=True)
        else:
            st.warning(text, icon=":material/report:")

    if stances is not None and len(stances):
        st.markdown("**What it found, per cause**")
        for row in stances.itertuples(index=False):
            st.markdown(stance_markup(row, labels), unsafe_allow_html=True)

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

    tag_lines = []
    for hypothesis_id in article["hypotheses"]:
        source = article["tag_sources"].get(hypothesis_id)
        matched = article["matched_terms"].get(hypothesis_id, [])
        found = ", ".join(f"“{escape_text(m['term'])}” ({escape_text(m['field'])})" for m in matched)
        why = TAG_SOURCE_LABELS.get(source, "tagged")
        tag_lines.append(f"<li><strong>{escape_text(labels.get(hypothesis_id, hypothesis_id))}</strong>: {why}"
                         + (f": {found}" if found else "") + "</li>")
    st.markdown("<div><strong>Why it is tagged</strong>"
                + (f"<ul>{''.join(tag_lines)}</ul>" if tag_lines else "<p>No cause tags.</p>") + "</div>",
                unsafe_allow_html=True)
    species = SPECIES_LABELS.get(article["species"], article["species"])
    st.markdown(f"**Study design**: {escape_text(DESIGN_LABELS.get(article['design'], article['design']))} · "
                f"**Species**: {escape_text(species)}" + (" · in vitro" if bool(article["in_vitro"]) else ""),
                unsafe_allow_html=True)
    mesh = [f"{escape_text(m['descriptor'])}{' &#42;' if m.get('major') else ''}" for m in article["mesh"]]
    st.markdown("<div><strong>MeSH terms</strong> (&#42; major topic): " + ("; ".join(mesh) if mesh else "none yet")
                + "</div>", unsafe_allow_html=True)


def _anchor(url: str, text_markup: str) -> str:
    """A link for an HTML block; `url` must come from a validated id, `text_markup` be escaped already."""
    return f'<a href="{url}" target="_blank" rel="noopener noreferrer">{text_markup}</a>'


def _retraction_text(article: pd.Series) -> str:
    """The retracted banner: the notice's PubMed link (from its validated PMID) and when PubMed's record said so."""
    notices = _retraction_notices(article["corrections"])
    parts = [INTEGRITY_LABELS["retracted"] + "."]
    for notice in notices:
        pmid = notice.get("pmid")
        # The notice's citation (ref_source) is stored text: it goes in an HTML block below, not in this banner.
        if isinstance(pmid, int) and pmid > 0:
            parts.append(f"Retraction notice: [PubMed {pmid}]({pubmed_url(pmid)}).")
        else:
            parts.append("PubMed's record names a retraction notice without its PMID.")
    if not notices:
        parts.append("PubMed marks it as a retracted publication but links no notice.")
    revised = article.get("revised_date")
    if _present(revised):
        parts.append(f"PubMed's record, flag included, was last revised on {escape_text(str(revised)[:10])}.")
    first_seen = article.get("first_seen")
    if _present(first_seen):
        parts.append(f"In this store since {escape_text(str(first_seen)[:10])}.")
    return " ".join(parts)


def stance_markup(row: object, labels: Mapping[str, str]) -> str:
    """One stance as HTML: cause, stance, kind and sample size, then the deciding sentence with its cue marked."""
    cause = escape_text(labels.get(row.hypothesis_id, row.hypothesis_id))
    stance = escape_text(STANCE_BADGES.get(row.stance, row.stance).lower())
    details = [escape_text(str(row.evidence_kind))] if _present(row.evidence_kind) else []
    if bool(row.hedged):
        details.append("hedged")
    if _present(row.n_patients):
        details.append(f"{int(row.n_patients):,} patients" + (
            f", {int(row.n_controls):,} controls" if _present(row.n_controls) else ""))
    if _present(row.cue):
        details.append(f"cue: <mark>{escape_text(str(row.cue))}</mark>")
    head = f"<strong>{cause}</strong>: {stance}" + (f" ({'; '.join(details)})" if details else "")
    if getattr(row, "confidence", None) == "low":
        # Why the reader is unsure, so that a guess is never taken for a finding.
        reason = escape_text(str(row.confidence_reason)) if _present(row.confidence_reason) else "no reason kept"
        head += f"<br><em>Low confidence: {reason}.</em>"
    if not _present(row.sentence):
        return f"<div>{head}</div>"
    section = f"<strong>{escape_text(str(row.section))}</strong>: " if _present(row.section) else ""
    return (f"<div>{head}<div style=\"border-left: 3px solid #c7c7c7; padding-left: 0.7em; margin: 0.2em 0 0.8em\">"
            f"{section}{highlight_phrase(str(row.sentence), row.cue)}</div></div>")


def highlight_phrase(text: str, phrase: object) -> str:
    """The text escaped, with the first case-insensitive occurrence of `phrase` wrapped in <mark>."""
    text = _WHITESPACE.sub(" ", text).strip()
    if not _present(phrase) or not str(phrase).strip():
        return escape_text(text)
    start = text.lower().find(str(phrase).strip().lower())
    if start < 0:
        return escape_text(text)
    end = start + len(str(phrase).strip())
    return f"{escape_text(text[:start])}<mark>{escape_text(text[start:end])}</mark>{escape_text(text[end:])}"


def _present(value: object) -> bool:
    return value is not None and not (isinstance(value, float) and pd.isna(value)) and value is not pd.NA and value != ""


def _year_text(year: object) -> str | None:
    return None if year is None or pd.isna(year) else str(int(year))


def utc_text(stamps: pd.Series) -> pd.Series:
    """Stored UTC times ("2026-12-01T15:53:09+00:00") as a reader reads them ("2026-12-01 15:53:09"); none: ""."""
    return stamps.astype("string").str.slice(0, 19).str.replace("T", " ", regex=False).fillna("")


def draw_runs(runs: pd.DataFrame) -> None:
    """The recent fetch runs with their outcome and error."""
    shown = pd.DataFrame({
        "Run": runs["id"],
        "Kind": runs["kind"],
        "Outcome": runs["status"],
        "Started (UTC)": utc_text(runs["started_at"]),
        "Finished (UTC)": utc_text(runs["finished_at"]),
        "Full sync": runs["full_sync"].astype(bool),
        "Requests": runs["requests"],
        "Error": runs["error"].fillna(""),
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
        "Error": run_log["error"].fillna(""),
    })
    st.dataframe(shown, hide_index=True, width="stretch")


def draw_sync_states(sync_states: pd.DataFrame, hypotheses: Sequence[Hypothesis]) -> None:
    """Per cause: when it was last synced, PubMed's count then, and the date windows it needed."""
    rows = []
    for hypothesis in hypotheses:
        known = hypothesis.id in sync_states.index
        rows.append({
            "Cause": hypothesis.label,
            "Last synced (UTC)": utc_text(pd.Series([sync_states.at[hypothesis.id, "last_success_at"]])).iloc[0]
                                 if known else "never",
            "In PubMed": sync_states.at[hypothesis.id, "pubmed_count"] if known else None,
            "Date windows": sync_states.at[hypothesis.id, "window_count"] if known else None,
            "Changes since": sync_states.at[hypothesis.id, "modified_since"] if known else None,
        })
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")


def draw_schedule() -> None:
    """How the fetch job is meant to recur."""
    st.markdown(
        f"By default the fetch job runs on the cron schedule `{config.DEFAULT_CRON}` in "
        f"**{config.DEFAULT_TIMEZONE}** time, inside NCBI's requested off-peak hours "
        f"({config.OFF_PEAK_START_HOUR:02d}:00–{config.OFF_PEAK_END_HOUR:02d}:00 US Eastern), starting up to "
        f"{config.DEFAULT_JITTER_S // 60} minutes late at random. `tracker schedule` runs it in the foreground "
        "and catches up a missed run; `tracker schedule --print-cron` or `--print-systemd` prints the lines that "
        "install it instead. A run that finds another one still going stops at once without touching the store."
    )


def breakdown_chart(counts: pd.Series, labels: Mapping[str, str], title: str) -> alt.Chart:
    """Horizontal bars of article counts, in the order of `counts` (the tagging module's order), not A to Z."""
    data = pd.DataFrame({"category": [labels.get(key, key) for key in counts.index], "articles": counts.to_numpy()})
    return alt.Chart(data).mark_bar().encode(
        x=alt.X("articles:Q", title="Articles"),
        y=alt.Y("category:N", title=title, sort=list(data["category"]), axis=alt.Axis(labelLimit=0)),
        tooltip=[alt.Tooltip("category", title=title), alt.Tooltip("articles", title="Articles")],
    )


def _colour_scale(by: str) -> alt.Scale:
    colours = STANCE_COLOURS if by == "stance" else LEVEL_COLOURS
    return alt.Scale(domain=list(colours), range=list(colours.values()))


def draw_stacked_bars(data: pd.DataFrame, by: str, y_title: str, *, facet: bool, shared_scale: bool = True) -> None:
    """Bars per publication year stacked by stance or evidence level; one small chart per cause when `facet`.

    `data` is `loaders.load_stacked_chart_data`'s frame. A bar with a caveat (the partial current year; a
    per-1,000 value from a small baseline) is drawn faint, and its tooltip says why.
    """
    spec = _stacked_bars_spec(by, y_title, facet, shared_scale, int(data["year"].min()), int(data["year"].max()),
                              tuple(dict.fromkeys(data["cause"])))
    st.vega_lite_chart(spec={**spec, "datasets": {"data": data}}, width="stretch")


# Validating a spec against Vega-Lite's schema takes longer than building it; the tests validate every shape
# (they set this to True), the dashboard trusts them.
SPEC_VALIDATION = False


# Chart specs are cached without their data: building and validating an Altair chart costs more than a rerun's
# every other step together, and only a few shapes are ever drawn.
@functools.lru_cache(maxsize=64)
def _stacked_bars_spec(by: str, y_title: str, facet: bool, shared_scale: bool, first: int, last: int,
                       causes: tuple[str, ...], columns: int = 3) -> dict:
    legend_title = "Stance" if by == "stance" else "Evidence level"
    base = alt.Chart(alt.NamedData(name="data")).mark_bar().encode(
        # Quantitative years on one shared domain: every small chart has the same time axis.
        x=alt.X("year:Q", title=None, scale=alt.Scale(domain=[first - 0.5, last + 0.5], nice=False),
                axis=alt.Axis(format="d", tickMinStep=1, labelOverlap=True)),
        # One row per bar segment already: no aggregate for Vega to compute.
        y=alt.Y("value:Q", title=y_title, stack="zero"),
        # Beside one half-width chart the legend takes the height the bars need: the short stance labels in two
        # columns; the long evidence-level labels do not fit two abreast, so in one.
        color=alt.Color("group:N", title=legend_title, scale=_colour_scale(by),
                        legend=alt.Legend(orient="top", labelLimit=0,
                                          columns=4 if facet else 2 if by == "stance" else 1)),
        order=alt.Order("group_rank:Q"),
        opacity=alt.condition(alt.datum.caveat == "", alt.value(1.0), alt.value(0.4)),
        tooltip=[alt.Tooltip("cause:N", title="Cause"), alt.Tooltip("year:Q", title="Year", format="d"),
                 alt.Tooltip("group:N", title=legend_title), alt.Tooltip("value:Q", title=y_title, format=",.1f"),
                 alt.Tooltip("articles:Q", title="Articles", format=","),
                 alt.Tooltip("baseline:Q", title="Fibromyalgia articles that year", format=","),
                 alt.Tooltip("caveat:N", title="Note")],
    # 270 px a small chart: three fit side by side in the wide layout on a laptop screen.
    ).properties(height=150 if facet else 300, **({"width": 270} if facet else {}))
    if not facet:
        return base.to_dict(validate=SPEC_VALIDATION)
    return base.facet(
        facet=alt.Facet("cause:N", title=None, sort=list(causes),
                        # A long cause name wraps onto a second line: unwrapped, it widens its column and pushes the third
        # column of charts off the page.
        header=alt.Header(labelLimit=0, labelFontSize=13, labelFontWeight="bold", labelAnchor="start",
                          labelExpr=_wrapped_labels_expression(causes))),
        columns=columns,
    ).resolve_scale(y="shared" if shared_scale else "independent").to_dict(validate=SPEC_VALIDATION)


FACET_LABEL_CHARACTERS = 36  # what fits above a 270 px small chart in 13 px bold
DESIGN_LABEL_CHARACTERS = 22  # a line of a study design's name over a column of the heat map


def wrap_label(label: str, width: int = FACET_LABEL_CHARACTERS) -> list[str]:
    """A label as the lines of at most `width` characters it wraps onto, broken at spaces."""
    return textwrap.wrap(label, width, break_long_words=False) or [label]


def _wrapped_labels_expression(labels: Sequence[str], width: int = FACET_LABEL_CHARACTERS) -> str:
    """A Vega expression that gives each long label as its lines (a Vega text mark draws a list as lines).

    It compares `datum.value`, the raw field: Vega-Lite pastes its formatting expression, an unbracketed
    conditional, in place of `datum.label`, which would swallow the comparison."""
    expression = "datum.label"
    for label in labels:
        lines = wrap_label(label, width)
        if len(lines) > 1:
            expression = f"datum.value === {json.dumps(label)} ? {json.dumps(lines)} : {expression}"
    return expression


def draw_design_heatmap(matrix: pd.DataFrame, summary: pd.DataFrame) -> None:
    """Causes × study designs, each cell the articles of that design, with each cause's share of high-level
    evidence (meta-analyses, systematic reviews, RCTs) as a last column."""
    share = pd.DataFrame({"cause": summary["label"].to_numpy(), "share": summary["high_level_share"].to_numpy(),
                          "high_level": summary["high_level"].to_numpy(), "articles": summary["articles"].to_numpy()})
    spec = _design_heatmap_spec(tuple(summary["label"]))
    st.vega_lite_chart(spec={**spec, "datasets": {"matrix": matrix, "share": share}})


@functools.lru_cache(maxsize=8)
def _design_heatmap_spec(cause_order: tuple[str, ...]) -> dict:
    cause_order = list(cause_order)
    design_order = [DESIGN_LABELS[d] for d in DESIGNS]
    heat = alt.Chart(alt.NamedData(name="matrix")).encode(
        x=alt.X("design:N", sort=design_order, title=None,
                # Every design named: slanted labels do not touch, but their boxes do, and Vega's overlap rule
                # would hide two in three.
                # and a long design name on two lines, as one slanted line would run out of the chart's top.
                axis=alt.Axis(labelAngle=-35, labelLimit=0, labelOverlap=False, orient="top",
                              labelExpr=_wrapped_labels_expression(design_order, DESIGN_LABEL_CHARACTERS))),
        y=alt.Y("cause:N", sort=cause_order, title=None, axis=alt.Axis(labelLimit=0)),
    )
    cells = heat.mark_rect().encode(
        color=alt.Color("share:Q", title="Share of the cause's articles", scale=alt.Scale(scheme="blues"),
                        legend=alt.Legend(format=".0%", orient="bottom")),
        tooltip=[alt.Tooltip("cause:N", title="Cause"), alt.Tooltip("design:N", title="Design"),
                 alt.Tooltip("articles:Q", title="Articles", format=","),
                 alt.Tooltip("share:Q", title="Share of the cause", format=".0%")],
    )
    labels = heat.mark_text(fontSize=11).encode(
        text=alt.Text("articles:Q", format=","),
        color=alt.condition(alt.datum.share > 0.35, alt.value("white"), alt.value("black")),
    )
    share_column = alt.Chart(alt.NamedData(name="share")).mark_text(fontWeight="bold").encode(
        y=alt.Y("cause:N", sort=cause_order, title=None, axis=None),
        text=alt.Text("share:Q", format=".0%"),
        tooltip=[alt.Tooltip("cause:N", title="Cause"),
                 alt.Tooltip("high_level:Q", title="Meta-analyses, systematic reviews, RCTs", format=","),
                 alt.Tooltip("articles:Q", title="All articles", format=","),
                 alt.Tooltip("share:Q", title="High-level share", format=".0%")],
    ).properties(width=70, title=alt.TitleParams("High-level", fontSize=11, anchor="middle"))
    # 52 px a column: with the cause names and the share column, the map fits the wide layout on a laptop.
    return alt.hconcat((cells + labels).properties(width=alt.Step(52)), share_column,
                       spacing=4).to_dict(validate=SPEC_VALIDATION)


def high_level_balance_chart(balance: pd.DataFrame) -> alt.Chart:
    """Per cause, the stances of its high-level articles as shares of one bar; `balance` has cause, group,
    group_rank, articles."""
    return alt.Chart(balance).mark_bar().encode(
        x=alt.X("articles:Q", stack="normalize", title="Share of the cause's meta-analyses, systematic reviews "
                "and RCTs", axis=alt.Axis(format="%")),
        y=alt.Y("cause:N", title=None, sort=list(dict.fromkeys(balance["cause"])), axis=alt.Axis(labelLimit=0)),
        color=alt.Color("group:N", title="Stance", scale=_colour_scale("stance"), legend=alt.Legend(orient="top")),
        order=alt.Order("group_rank:Q"),
        tooltip=[alt.Tooltip("cause:N", title="Cause"), alt.Tooltip("group:N", title="Stance"),
                 alt.Tooltip("articles:Q", title="Articles", format=",")],
    )


def draw_how_to_read(text: str) -> None:
    """A short note under a chart that says, in a reader's words, what it shows and what to be careful of."""
    st.caption(f"**How to read this.** {text}")
