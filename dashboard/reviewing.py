"""Reviewing stances in the dashboard: the reviewer's name, the controls of the article view, the Review page and
the agreement figures of the Overview.

The dashboard writes nothing but reviews, and those only through `store.record_review` and `store.undo_review`:
short transactions that wait at most a second for a fetch's batch, then say "try again" on the page, so a click
is never lost silently. Every text a person typed (name, note) and every stored sentence is escaped where shown;
a selectbox shows its options as plain text.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pandas as pd
import streamlit as st

from dashboard import loaders, views
from tracker import store
from tracker.errors import ConfigError, TrackerError
from tracker.models import STANCES
from tracker.reviews import (FINDING_STANCES, MAX_NOTE_LENGTH, Review, check_review, check_reviewer,
                             normalised_text, review_progress, review_queue, utc_timestamp)
from tracker.stance import split_sentences

if TYPE_CHECKING:
    from dashboard.screens import Context

REVIEWER_KEY = "reviewer_name"
_SAVED_KEY = "_review_saved"
_QUEUE_SKIPS_KEY = "review_skips"
NO_SENTENCE = ""
# A sentence in the selectbox is cut to this many characters (the whole sentence is stored).
_SHOWN_SENTENCE = 140


def reviewer(context: Context) -> str | None:
    """Who reviews: TRACKER_REVIEWER, else the name given once in this browser session."""
    return context.reviewer or st.session_state.get(REVIEWER_KEY)


def ask_reviewer(context: Context, key: str) -> str | None:
    """The reviewer's name, asking for it (once per browser session) when TRACKER_REVIEWER is unset."""
    name = reviewer(context)
    if name:
        return name
    with st.form(f"reviewer_form_{key}"):
        typed = st.text_input("Your name, saved with each review you make (asked once per browser session)",
                              key=f"reviewer_input_{key}", max_chars=80)
        chosen = st.form_submit_button("Start reviewing")
    if chosen:
        try:
            st.session_state[REVIEWER_KEY] = check_reviewer(typed, "Your name")
        except ConfigError as error:
            views.draw_store_error(views.escape_text(str(error)))
            return None
        st.rerun()
    return None


def _flash_saved() -> None:
    """Say what the last click saved (the page reran after it)."""
    message = st.session_state.pop(_SAVED_KEY, None)
    if message:
        st.toast(message, icon=":material/check_circle:")


def _save(context: Context, pmid: int, cause_id: str, stance: str, sentence: str = "", note: str = "") -> None:
    """Store one review through the store's one writing function; a refusal or a busy store is shown, not lost."""
    name = reviewer(context)
    try:
        review = check_review(Review(pmid=int(pmid), hypothesis=cause_id, stance=stance, reviewer=name or "",
                                     reviewed_at=utc_timestamp(context.now), sentence=sentence, note=note),
                              f"review of PMID {pmid}")
        store.record_review(context.settings.db_path, review, [c.id for c in context.causes])
    except TrackerError as error:
        views.draw_store_error(views.escape_text(str(error)))
        return
    st.session_state[_SAVED_KEY] = (f"Saved: PMID {int(pmid)}, {context.labels.get(cause_id, cause_id)}, "
                                    f"{views.STANCE_BADGES[stance].lower()}.")
    st.rerun()


def _undo(context: Context, pmid: int, cause_id: str) -> None:
    try:
        undone = store.undo_review(context.settings.db_path, int(pmid), cause_id, reviewer(context) or "")
    except TrackerError as error:
        views.draw_store_error(views.escape_text(str(error)))
        return
    if undone is not None:
        st.session_state[_SAVED_KEY] = f"Undone: your review of PMID {int(pmid)}."
    st.rerun()


def article_sentences(article: pd.Series) -> list[str]:
    """The title and every sentence of the abstract, in order: what a reviewer may pick as the deciding one."""
    sentences = [normalised_text(article["title"])] if normalised_text(article["title"]) else []
    for section in article["abstract_sections"]:
        text = section.get("text") or ""
        sentences += [normalised_text(text[start:end]) for start, end in split_sentences(text)]
    return list(dict.fromkeys(sentence for sentence in sentences if sentence))


def _shown_sentence(sentence: str) -> str:
    if sentence == NO_SENTENCE:
        return "(none: the stance alone)"
    return sentence if len(sentence) <= _SHOWN_SENTENCE else sentence[:_SHOWN_SENTENCE - 1] + "…"


def _sentence_choice(sentences: list[str], machine_sentence: object, key: str) -> str:
    """A selectbox of the article's sentences, the machine's deciding one preselected."""
    options = [NO_SENTENCE, *sentences]
    first = normalised_text(str(machine_sentence).split("\n")[0]) if views._present(machine_sentence) else ""
    return st.selectbox("The deciding sentence (optional)", options, key=key, format_func=_shown_sentence,
                        index=options.index(first) if first in options else 0)


# --- the article view ---------------------------------------------------------------------------------------------

def article_controls(context: Context, article: pd.Series, stances: pd.DataFrame) -> Callable[[], None]:
    """What `views.draw_article` draws below the stances: per cause, a form that sets the stance, the deciding
    sentence and a note, and an undo of one's own latest review."""
    pmid = int(article["pmid"])

    def draw() -> None:
        _flash_saved()
        with st.expander("Review these readings", icon=":material/rate_review:"):
            name = ask_reviewer(context, f"article_{pmid}")
            if not name:
                return
            st.caption(f"Reviewing as {views.escape_text(name)}. A review counts everywhere from now on: charts, "
                       "counts, exports; the machine's reading stays beside it.", unsafe_allow_html=True)
            sentences = article_sentences(article)
            own = loaders.load_pair_reviews(context.state, pmid)
            for row in stances.itertuples(index=False):
                if row.hypothesis_id not in context.labels:
                    continue
                _pair_form(context, pmid, row, sentences, own, name)

    return draw


def _pair_form(context: Context, pmid: int, row: object, sentences: list[str], own: pd.DataFrame,
               name: str) -> None:
    cause_id = row.hypothesis_id
    key = f"{pmid}_{cause_id}"
    with st.form(f"review_form_{key}"):
        st.markdown(f"**{views.escape_text(context.labels[cause_id])}**: the machine read "
                    f"{views.escape_text(views.STANCE_BADGES.get(row.machine_stance, 'nothing').lower())}",
                    unsafe_allow_html=True)
        stance = st.radio("Stance", list(STANCES), index=list(STANCES).index(row.stance), horizontal=True,
                          format_func=views.STANCE_BADGES.get, key=f"review_stance_{key}")
        sentence = _sentence_choice(sentences, row.sentence, f"review_sentence_{key}")
        note = st.text_input("Note (optional)", max_chars=MAX_NOTE_LENGTH, key=f"review_note_{key}")
        submitted = st.form_submit_button("Save review")
    if submitted:
        _save(context, pmid, cause_id, stance, sentence, note)
    mine = own[(own["hypothesis_id"] == cause_id) & (own["reviewer"] == name)]
    if len(mine) and st.button("Undo my review", key=f"review_undo_{key}",
                               help="Takes back your latest review of this pair: your earlier one, another "
                                    "reviewer's or the machine's reading counts again."):
        _undo(context, pmid, cause_id)


# --- the Review page ----------------------------------------------------------------------------------------------

def review_page(context: Context) -> None:
    """A queue of pairs to check, the most likely to change first, one at a time, with one-click decisions."""
    st.title("Review")
    _flash_saved()
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
        chosen_stances = st.multiselect("Stance", list(STANCES), format_func=views.STANCE_BADGES.get,
                                        default=list(FINDING_STANCES), key="review_stances",
                                        help="The pairs whose counted stance is one of these.")
    pairs = loaders.load_review_pairs(context.state)
    if not context.include_retracted:
        pairs = pairs[~pairs["retracted"].astype(bool)]
    reviewed, total = review_progress(pairs, cause_id)
    label = context.labels[cause_id]
    st.progress(reviewed / total if total else 0.0,
                text=f"{reviewed:,} of {total:,} pairs with a finding reviewed for {views.escape_text(label)}")
    queue = review_queue(pairs, loaders.HIGH_LEVEL_DESIGNS, hypothesis_ids=(cause_id,), stances=chosen_stances)
    if queue.empty:
        st.success("Nothing left to check for this cause with these stances.", icon=":material/task_alt:")
        return
    position = st.session_state.get(_QUEUE_SKIPS_KEY, {}).get(cause_id, 0) % len(queue)
    pair = queue.iloc[position]
    pmid = int(pair["pmid"])
    article = store.decode_details(loaders.catalogue_rows(context.state, [pmid])).iloc[0]
    row = loaders.load_article_stances(context.state, pmid).set_index("hypothesis_id").loc[cause_id]
    reason = f" · first because: {pair['reason']}" if pair["reason"] else ""
    st.caption(f"Pair {position + 1:,} of {len(queue):,} in the queue{reason}")
    st.markdown(f"<h4>{views.escape_text(article['title'])}</h4><div>"
                f"{views._anchor(views.pubmed_url(pmid), f'PubMed {pmid}')} · "
                f"{views.escape_text(views.DESIGN_BADGES.get(article['design'], article['design']))} · "
                f"{views.escape_text(str(views._year_text(article['pub_year']) or 'year unknown'))}</div>",
                unsafe_allow_html=True)
    machine = views.STANCE_BADGES.get(row["machine_stance"], "nothing")
    st.markdown(f"The machine read: <strong>{views.escape_text(machine.lower())}</strong>"
                + (f" · counted now: <strong>{views.escape_text(views.STANCE_BADGES[row['stance']].lower())}"
                   f"</strong>" if bool(row["reviewed"]) else ""), unsafe_allow_html=True)
    _decision_buttons(context, pmid, cause_id, row, article)
    st.markdown(abstract_markup(article, row["machine_sentence"]), unsafe_allow_html=True)
    st.caption(views.NCBI_NOTICE)


def _decision_buttons(context: Context, pmid: int, cause_id: str, row: pd.Series, article: pd.Series) -> None:
    """Accept, one of the other stances, or skip: one click each, above the abstract; the sentence and note are
    optional, in a fold below them."""
    key = f"{pmid}_{cause_id}"
    machine = row["machine_stance"] if row["machine_stance"] in STANCES else row["stance"]
    others = [stance for stance in STANCES if stance != machine]
    columns = st.columns(len(others) + 2)
    accept = columns[0].button(f"Accept: {views.STANCE_BADGES[machine].lower()}", type="primary",
                               key=f"queue_accept_{key}")
    changed = [column.button(views.STANCE_BADGES[stance], key=f"queue_{stance}_{key}")
               for column, stance in zip(columns[1:], others)]
    skip = columns[-1].button("Skip", key=f"queue_skip_{key}", help="Leave this pair for later; the next one shows.")
    with st.expander("Deciding sentence and note (optional)"):
        sentence = _sentence_choice(article_sentences(article), row["machine_sentence"], f"queue_sentence_{key}")
        note = st.text_input("Note", max_chars=MAX_NOTE_LENGTH, key=f"queue_note_{key}")
    if skip:
        skips = dict(st.session_state.get(_QUEUE_SKIPS_KEY, {}))
        skips[cause_id] = skips.get(cause_id, 0) + 1
        st.session_state[_QUEUE_SKIPS_KEY] = skips
        st.rerun()
    decided = machine if accept else next((stance for stance, clicked in zip(others, changed) if clicked), None)
    if decided is not None:
        _save(context, pmid, cause_id, decided, sentence, note)


def abstract_markup(article: pd.Series, machine_sentence: object) -> str:
    """The abstract as HTML, every sentence escaped, the machine's deciding sentence(s) highlighted."""
    candidates = {normalised_text(line) for line in str(machine_sentence).split("\n")} \
        if views._present(machine_sentence) else set()
    paragraphs = []
    for section in article["abstract_sections"]:
        text = section.get("text") or ""
        pieces = []
        for start, end in split_sentences(text):
            sentence = text[start:end]
            shown = views.escape_text(sentence)
            pieces.append(f"<mark>{shown}</mark>" if normalised_text(sentence) in candidates else shown)
        label = f"<strong>{views.escape_text(section['label'])}:</strong> " if section.get("label") else ""
        paragraphs.append(f"<p>{label}{' '.join(pieces)}</p>")
    return "".join(paragraphs) or "<p><em>PubMed has no abstract for this article.</em></p>"


# --- the Overview's agreement figures -----------------------------------------------------------------------------

def draw_agreement(context: Context) -> None:
    """Per cause, how often reviewers kept the machine's stance and what they changed it to."""
    table = loaders.load_agreement(context.state, tuple(c.id for c in context.causes))
    if not table["reviewed"].sum():
        st.caption("No pair has been reviewed yet. Each review on the Review page (or in an article) shows here "
                   "as agreement with the machine's reading.")
        return
    shown = table[table["reviewed"] > 0]
    st.dataframe(pd.DataFrame({
        "Cause": shown["hypothesis_id"].map(context.labels).to_numpy(dtype=object),
        "Reviewed pairs": shown["reviewed"].to_numpy(),
        "Kept the machine's stance": shown["accepted_share"].to_numpy(),
        "Changed": shown["changed"].to_numpy(),
        "Changed, from → to": shown["changes"].replace("", "–").to_numpy(dtype=object),
    }), hide_index=True, column_config={
        "Kept the machine's stance": st.column_config.ProgressColumn(format="percent", min_value=0, max_value=1)})
