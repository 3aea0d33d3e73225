"""Small functions that each draw one thing from data they are given; none of them reads the store."""

from __future__ import annotations

import shlex
from collections.abc import Callable, Mapping, Sequence

import pandas as pd
import streamlit as st

from dashboard.labels import (BADGE_COLOURS, DESIGN_BADGES, INTEGRITY_BADGES, INTEGRITY_LABELS, NCBI_NOTICE, OK_ICON,
                              SPECIES_LABELS, TAG_SOURCE_LABELS, WARNING_ICON)
from dashboard.markup import (anchor, doi_url, escape_text, highlight_phrase, highlight_terms, linked_count, pmc_url,
                              present)
from tracker import config
from tracker.analysis.reviews import normalised_text
from tracker.config import Hypothesis
from tracker.models import STANCES
from tracker.vocabulary import DESIGN_LABELS, HIGH_LEVEL_DESIGNS, LOW_CONFIDENCE_READINGS, STANCE_BADGES, pubmed_url
from tracker.wording import plural


CITATION_PAGE_SIZE = 100


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
                                    designs=list(HIGH_LEVEL_DESIGNS), retracted=retracted) + ")")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def cause_links_markdown(hypothesis_id: str, row: pd.Series, retracted: str | None) -> str:
    """The cause page's counts as links to their articles in Citations."""
    return (f"Open in Citations: {linked_count(int(row['articles']), causes=[hypothesis_id], retracted=retracted)} "
            f"articles · {linked_count(int(row['high_level']), causes=[hypothesis_id], designs=list(HIGH_LEVEL_DESIGNS), retracted=retracted)} "
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
        return linked_count(number, causes=[cause.id], stances=(stance,), retracted=retracted,
                            confidence=confidence, **more)

    n = {reading: int(counts.at[reading, "articles"]) for reading in counts.index}
    low = {stance: n[reading] for stance, reading in LOW_CONFIDENCE_READINGS.items()}
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
            f"{link(high['supports'], 'supports', designs=tuple(HIGH_LEVEL_DESIGNS))} "
            f"{_verb(high['supports'], 'support')} it and "
            f"{link(high['contradicts'], 'contradicts', designs=tuple(HIGH_LEVEL_DESIGNS))} "
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
    badge_options = list(BADGE_COLOURS)
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
                color=[BADGE_COLOURS[badge] for badge in badge_options]),
            "Year": st.column_config.NumberColumn(format="%d", width="small"),
            "DOI": st.column_config.LinkColumn(display_text="DOI", width="small"),
        },
    )


def _retraction_notices(corrections: Sequence[Mapping]) -> list[Mapping]:
    return [c for c in corrections if c.get("ref_type") == "RetractionIn"]


def draw_article(article: pd.Series, hypotheses: Sequence[Hypothesis], stances: pd.DataFrame | None = None,
                 review_controls: Callable[[], None] | None = None) -> None:
    """One article in full: citation, links, integrity flags (with the retraction notice), the deciding sentence of
    each stance (and who reviewed it), the abstract with its tagging terms marked, tags, MeSH. Every stored string
    is escaped. `review_controls` draws the controls that review the stances, right below them."""
    labels = {h.id: h.label for h in hypotheses}
    terms = [entry["term"] for entries in article["matched_terms"].values() for entry in entries]
    # Stored text goes out inside HTML blocks only: Markdown would turn a URL in it into a link even escaped.
    st.markdown(f"<h4>{highlight_terms(article['title'], terms)}</h4>", unsafe_allow_html=True)
    citation = ", ".join(str(part) for part in (
        article["journal"], _year_text(article["pub_year"]), article["volume"], article["pages"]) if present(part))
    st.markdown(f"<div>{escape_text(article['author_names'] or 'No authors listed')}<br>"
                f"<em>{escape_text(citation)}</em></div>", unsafe_allow_html=True)
    links = [anchor(pubmed_url(article["pmid"]), f"PubMed {int(article['pmid'])}")]
    doi_link = doi_url(article["doi"])
    if doi_link:
        links.append(anchor(doi_link, f"doi&#58;{escape_text(article['doi'].strip())}"))
    pmc_link = pmc_url(article["pmcid"])
    if pmc_link:
        links.append(anchor(pmc_link, article["pmcid"].strip()))
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
        if review_controls is not None:
            review_controls()

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
    if present(revised):
        parts.append(f"PubMed's record, flag included, was last revised on {escape_text(str(revised)[:10])}.")
    first_seen = article.get("first_seen")
    if present(first_seen):
        parts.append(f"In this store since {escape_text(str(first_seen)[:10])}.")
    return " ".join(parts)


def stance_markup(row: object, labels: Mapping[str, str]) -> str:
    """One stance as HTML: cause, stance, kind and sample size, then the deciding sentence with its cue marked."""
    cause = escape_text(labels.get(row.hypothesis_id, row.hypothesis_id))
    stance = escape_text(STANCE_BADGES.get(row.stance, row.stance).lower())
    details = [escape_text(str(row.evidence_kind))] if present(row.evidence_kind) else []
    if bool(row.hedged):
        details.append("hedged")
    if present(row.n_patients):
        details.append(f"{int(row.n_patients):,} patients" + (
            f", {int(row.n_controls):,} controls" if present(row.n_controls) else ""))
    if present(row.cue):
        details.append(f"cue: <mark>{escape_text(str(row.cue))}</mark>")
    head = f"<strong>{cause}</strong>: {stance}" + (f" ({'; '.join(details)})" if details else "")
    review = review_markup(row)
    # A reviewed stance is a person's: the machine's doubt about its own reading no longer applies to it.
    if getattr(row, "confidence", None) == "low" and not review:
        # Why the reader is unsure, so that a guess is never taken for a finding.
        reason = escape_text(str(row.confidence_reason)) if present(row.confidence_reason) else "no reason kept"
        head += f"<br><em>Low confidence: {reason}.</em>"
    if not present(row.sentence):
        return f"<div>{head}{review}</div>"
    section = f"<strong>{escape_text(str(row.section))}</strong>: " if present(row.section) else ""
    return (f"<div>{head}{review}<div style=\"{_QUOTE_STYLE}\">"
            f"{section}{highlight_phrase(str(row.sentence), row.cue)}</div></div>")


_QUOTE_STYLE = "border-left: 3px solid #c7c7c7; padding-left: 0.7em; margin: 0.2em 0 0.8em"


def review_markup(row: object) -> str:
    """Who reviewed a stance and when, the machine's reading beside it, the note: HTML, "" for an unreviewed row.

    Every part the reviewer typed (name, note) and the machine's sentence are escaped."""
    if not bool(getattr(row, "reviewed", False)):
        return ""
    machine = STANCE_BADGES.get(row.machine_stance, str(row.machine_stance)).lower() \
        if present(row.machine_stance) else "not read"
    parts = [f"<span style=\"background: #e8f0fe; border-radius: 0.3em; padding: 0 0.4em\">reviewed by "
             f"{escape_text(str(row.reviewer))} on {escape_text(str(row.reviewed_at)[:10])}</span> · machine: "
             f"{escape_text(machine)}"]
    if bool(getattr(row, "review_stale", False)):
        parts.append("abstract changed since review")
    if bool(getattr(row, "review_disagreement", False)):
        parts.append("reviewers disagree")
    markup = f" <small>{' · '.join(parts)}</small>"
    machine_sentence = getattr(row, "machine_sentence", None)
    if present(machine_sentence) and normalised_text(machine_sentence) != normalised_text(row.sentence):
        markup += (f"<div style=\"{_QUOTE_STYLE}; color: #6b6b6b\"><small>The machine's sentence:</small> "
                   f"{highlight_phrase(str(machine_sentence), getattr(row, 'machine_cue', None))}</div>")
    if present(getattr(row, "review_note", None)):
        markup += f"<div><small>Note: {escape_text(str(row.review_note))}</small></div>"
    return markup


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
