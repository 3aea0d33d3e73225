"""The Review page: a queue of (article, cause) pairs, the ones a person most likely changes first, one at a
time with its abstract, and a decision in one click."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import loaders, markup, views
from dashboard.context import Context
from dashboard.labels import DESIGN_BADGES, NCBI_NOTICE
from dashboard.reviewing import ask_reviewer, flash_saved, save_review, sentence_choice
from tracker import store
from tracker.analysis.reviews import (FINDING_STANCES, MAX_NOTE_LENGTH, article_sentences, normalised_text,
                                      review_progress, review_queue, section_sentences)
from tracker.models import STANCES
from tracker.vocabulary import HIGH_LEVEL_DESIGNS, STANCE_BADGES

# How many times the reader skipped ahead in each cause's queue, this session.
_QUEUE_SKIPS_KEY = "review_skips"


def review_page(context: Context) -> None:
    """A queue of pairs to check, the most likely to change first, one at a time, with one-click decisions."""
    st.title("Review")
    flash_saved()
    if not context.causes:
        views.draw_no_causes(context.settings.hypotheses_path)
        return
    name = ask_reviewer(context, "page")
    if not name:
        st.caption("The review queue appears once you have given your name.")
        return
    with st.sidebar:
        st.header("Queue")
        cause_id = st.selectbox("Cause", [c.id for c in context.causes], format_func=context.labels.get,
                                key="review_cause")
        chosen_stances = st.multiselect("Stance", list(STANCES), format_func=STANCE_BADGES.get,
                                        default=list(FINDING_STANCES), key="review_stances",
                                        help="The pairs whose counted stance is one of these.")
    pairs = loaders.load_review_pairs(context.state)
    if not context.include_retracted:
        pairs = pairs[~pairs["retracted"].astype(bool)]
    reviewed, total = review_progress(pairs, cause_id)
    label = context.labels[cause_id]
    st.progress(reviewed / total if total else 0.0,
                text=f"{reviewed:,} of {total:,} pairs with a finding reviewed for {markup.escape_text(label)}")
    queue = review_queue(pairs, HIGH_LEVEL_DESIGNS, hypothesis_ids=(cause_id,), stances=chosen_stances)
    if queue.empty:
        st.success("Nothing left to check for this cause with these stances.", icon=":material/task_alt:")
        return
    position = st.session_state.get(_QUEUE_SKIPS_KEY, {}).get(cause_id, 0) % len(queue)
    pair = queue.iloc[position]
    pmid = int(pair["pmid"])
    article = store.decode_details(loaders.load_rows_of(context.state, (int(pmid),))).iloc[0]
    row = loaders.load_article_stances(context.state, pmid).set_index("hypothesis_id").loc[cause_id]
    reason = f" · first because: {pair['reason']}" if pair["reason"] else ""
    st.caption(f"Pair {position + 1:,} of {len(queue):,} in the queue{reason}")
    st.markdown(f"<h4>{markup.escape_text(article['title'])}</h4><div>"
                f"{markup.article_anchor(pmid, context.demo)} · "
                f"{markup.escape_text(DESIGN_BADGES.get(article['design'], article['design']))} · "
                f"{markup.escape_text(_year_text(article['pub_year']))}</div>",
                unsafe_allow_html=True)
    machine = STANCE_BADGES.get(row["machine_stance"], "nothing")
    st.markdown(f"The machine read: <strong>{markup.escape_text(machine.lower())}</strong>"
                + (f" · counted now: <strong>{markup.escape_text(STANCE_BADGES[row['stance']].lower())}"
                   f"</strong>" if bool(row["reviewed"]) else ""), unsafe_allow_html=True)
    _decision_buttons(context, pmid, cause_id, row, article)
    st.markdown(abstract_markup(article, row["machine_sentence"]), unsafe_allow_html=True)
    st.caption(NCBI_NOTICE)


def _decision_buttons(context: Context, pmid: int, cause_id: str, row: pd.Series, article: pd.Series) -> None:
    """Accept, one of the other stances, or skip: one click each, above the abstract; the sentence and note are
    optional, in a fold below them."""
    key = f"{pmid}_{cause_id}"
    machine = row["machine_stance"] if row["machine_stance"] in STANCES else row["stance"]
    others = [stance for stance in STANCES if stance != machine]
    columns = st.columns(len(others) + 2)
    accept = columns[0].button(f"Accept: {STANCE_BADGES[machine].lower()}", type="primary",
                               key=f"queue_accept_{key}")
    changed = [column.button(STANCE_BADGES[stance], key=f"queue_{stance}_{key}")
               for column, stance in zip(columns[1:], others)]
    skip = columns[-1].button("Skip", key=f"queue_skip_{key}", help="Leave this pair for later; the next one shows.")
    with st.expander("Deciding sentence and note (optional)"):
        sentences = article_sentences(article["title"], article["abstract_sections"])
        sentence = sentence_choice(sentences, row["machine_sentence"], f"queue_sentence_{key}")
        note = st.text_input("Note", max_chars=MAX_NOTE_LENGTH, key=f"queue_note_{key}")
    if skip:
        skips = dict(st.session_state.get(_QUEUE_SKIPS_KEY, {}))
        skips[cause_id] = skips.get(cause_id, 0) + 1
        st.session_state[_QUEUE_SKIPS_KEY] = skips
        st.rerun()
    decided = machine if accept else next((stance for stance, clicked in zip(others, changed) if clicked), None)
    if decided is not None:
        save_review(context, pmid, cause_id, decided, sentence, note)


def abstract_markup(article: pd.Series, machine_sentence: object) -> str:
    """The abstract as HTML, every sentence escaped, the machine's deciding sentence(s) highlighted."""
    candidates = {normalised_text(line) for line in str(machine_sentence).split("\n")} \
        if markup.present(machine_sentence) else set()
    paragraphs = []
    for section in article["abstract_sections"]:
        pieces = []
        for sentence in section_sentences(section.get("text")):
            shown = markup.escape_text(sentence)
            pieces.append(f"<mark>{shown}</mark>" if normalised_text(sentence) in candidates else shown)
        label = f"<strong>{markup.escape_text(section['label'])}:</strong> " if section.get("label") else ""
        paragraphs.append(f"<p>{label}{' '.join(pieces)}</p>")
    return "".join(paragraphs) or "<p><em>PubMed has no abstract for this article.</em></p>"


def _year_text(year: object) -> str:
    return str(int(year)) if markup.present(year) else "year unknown"
