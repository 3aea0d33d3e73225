"""Reviewing stances in the dashboard, what the pages share: the reviewer's name, the one write (a review or an undo,
through `store.write_review`), the review controls of the article view, the Overview's agreement.

The dashboard writes nothing but reviews: short transactions that wait at most a second for a fetch's batch, then
say "try again" on the page, so a click is never lost silently. Every text a person typed (name, note) and every
stored sentence is escaped where shown; a selectbox shows its options as plain text.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from dashboard import labels, loaders, markup, views
from dashboard.markup import REVIEWER_PARAM
from dashboard.context import Context
from tracker import store
from tracker.analysis.reviews import (MAX_NOTE_LENGTH, Review, ReviewUndo, article_sentences, check_review,
                                      check_reviewer, normalised_text, utc_timestamp)
from tracker.errors import ConfigError, TrackerError
from tracker.models import STANCES
from tracker.vocabulary import STANCE_BADGES

REVIEWER_KEY = "reviewer_name"
_SAVED_KEY = "_review_saved"
NO_SENTENCE = ""
# A sentence in the selectbox is cut to this many characters (the whole sentence is stored).
_SHOWN_SENTENCE = 140


def reviewer(context: Context) -> str | None:
    """Who reviews: TRACKER_REVIEWER, else the name given once in this browser (kept by `keep_reviewer`)."""
    return context.reviewer or st.session_state.get(REVIEWER_KEY)


def keep_reviewer(context: Context) -> None:
    """Keep the name given in this browser across a reload: in the page's address (`?reviewer=NAME`), which
    only this browser and the dashboard on 127.0.0.1 see (no cookie, nothing stored elsewhere). Each rerun: a
    name given puts itself in the address, and an address with a name gives it after a reload. A name in the
    address is checked as a typed one; TRACKER_REVIEWER, when set, is the name and the address is left alone."""
    if context.reviewer:
        return
    name = st.session_state.get(REVIEWER_KEY)
    in_address = st.query_params.get(REVIEWER_PARAM)
    if name:
        if in_address != name:
            st.query_params[REVIEWER_PARAM] = name
        return
    if in_address:
        try:
            st.session_state[REVIEWER_KEY] = check_reviewer(in_address, REVIEWER_PARAM)
        except ConfigError as error:
            del st.query_params[REVIEWER_PARAM]
            st.warning(f"This page's address: {markup.escape_markdown(str(error))}", icon=":material/link_off:")


def ask_reviewer(context: Context, key: str) -> str | None:
    """The reviewer's name, asking for it (once per browser) when TRACKER_REVIEWER is unset; once given, who
    reviews is said with a way to change it."""
    name = reviewer(context)
    if name:
        if not context.reviewer:
            _draw_reviewer_line(name, key)
        return name
    with st.form(f"reviewer_form_{key}"):
        typed = st.text_input("Your name, saved with each review you make (asked once in this browser: a reload "
                              "keeps it in the page's address)", key=f"reviewer_input_{key}", max_chars=80)
        chosen = st.form_submit_button("Start reviewing")
    if chosen:
        try:
            st.session_state[REVIEWER_KEY] = check_reviewer(typed, "Your name")
        except ConfigError as error:
            views.draw_store_error(markup.escape_text(str(error)))
            return None
        st.query_params[REVIEWER_PARAM] = st.session_state[REVIEWER_KEY]
        st.rerun()
    return None


def _draw_reviewer_line(name: str, key: str) -> None:
    shown, change = st.columns([4, 1])
    shown.caption(f"Reviewing as {markup.escape_text(name)}.", unsafe_allow_html=True)
    if change.button("Change name", key=f"reviewer_change_{key}", type="tertiary"):
        st.session_state.pop(REVIEWER_KEY, None)
        st.query_params.pop(REVIEWER_PARAM, None)
        st.rerun()


def flash_saved() -> None:
    """Say what the last click saved (the page reran after it)."""
    message = st.session_state.pop(_SAVED_KEY, None)
    if message:
        st.toast(message, icon=":material/check_circle:")


def save_review(context: Context, pmid: int, cause_id: str, stance: str, sentence: str = "", note: str = "") -> None:
    """Store one review; a refusal or a busy store is shown, not lost."""
    try:
        review = check_review(Review(pmid=int(pmid), hypothesis=cause_id, stance=stance,
                                     reviewer=reviewer(context) or "", reviewed_at=utc_timestamp(context.now),
                                     sentence=sentence, note=note), f"review of PMID {pmid}")
    except ConfigError as error:
        views.draw_store_error(markup.escape_text(str(error)))
        return
    _write(context, review, f"Saved: PMID {int(pmid)}, {context.labels.get(cause_id, cause_id)}, "
                            f"{STANCE_BADGES[stance].lower()}.")


def _undo(context: Context, pmid: int, cause_id: str) -> None:
    _write(context, ReviewUndo(pmid=int(pmid), hypothesis=cause_id, reviewer=reviewer(context) or ""),
           f"Undone: your review of PMID {int(pmid)}.")


def _write(context: Context, change: Review | ReviewUndo, saved: str) -> None:
    """The dashboard's one write, `store.write_review`: a busy store or a refusal is shown on the page (the click
    is not lost silently); a write that changed something is said after the rerun."""
    try:
        written = store.write_review(context.settings.db_path, change, [c.id for c in context.causes])
    except TrackerError as error:
        views.draw_store_error(markup.escape_text(str(error)))
        return
    if written is not None:
        st.session_state[_SAVED_KEY] = saved
    st.rerun()


def _shown_sentence(sentence: str) -> str:
    if sentence == NO_SENTENCE:
        return "(none: the stance alone)"
    return sentence if len(sentence) <= _SHOWN_SENTENCE else sentence[:_SHOWN_SENTENCE - 1] + "…"


def sentence_choice(sentences: list[str], machine_sentence: object, key: str) -> str:
    """A selectbox of the article's sentences, the machine's deciding one preselected."""
    options = [NO_SENTENCE, *sentences]
    first = normalised_text(str(machine_sentence).split("\n")[0]) if markup.present(machine_sentence) else ""
    return st.selectbox("The deciding sentence (optional)", options, key=key, format_func=_shown_sentence,
                        index=options.index(first) if first in options else 0)


# --- the article view ---------------------------------------------------------------------------------------------

def article_controls(context: Context, article: pd.Series, stances: pd.DataFrame) -> Callable[[], None]:
    """What `views.draw_article` draws below the stances: per cause, a form that sets the stance, the deciding
    sentence and a note, and an undo of one's own latest review."""
    pmid = int(article["pmid"])

    def draw() -> None:
        flash_saved()
        with st.expander("Review these readings", icon=":material/rate_review:"):
            name = ask_reviewer(context, f"article_{pmid}")
            if not name:
                return
            st.caption("A review counts everywhere from now on: charts, counts, exports; the machine's reading "
                       "stays beside it.")
            sentences = article_sentences(article["title"], article["abstract_sections"])
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
        st.markdown(f"**{markup.escape_text(context.labels[cause_id])}**: the machine read "
                    f"{markup.escape_text(STANCE_BADGES.get(row.machine_stance, 'nothing').lower())}",
                    unsafe_allow_html=True)
        stance = st.radio("Stance", list(STANCES), index=list(STANCES).index(row.stance), horizontal=True,
                          format_func=STANCE_BADGES.get, key=f"review_stance_{key}")
        sentence = sentence_choice(sentences, row.sentence, f"review_sentence_{key}")
        note = st.text_input("Note (optional)", max_chars=MAX_NOTE_LENGTH, key=f"review_note_{key}")
        submitted = st.form_submit_button("Save review")
    if submitted:
        save_review(context, pmid, cause_id, stance, sentence, note)
    mine = own[(own["hypothesis_id"] == cause_id) & (own["reviewer"] == name)]
    if len(mine) and st.button("Undo my review", key=f"review_undo_{key}",
                               help="Takes back your latest review of this pair: your earlier one, another "
                                    "reviewer's or the machine's reading counts again."):
        _undo(context, pmid, cause_id)


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
    }), hide_index=True, placeholder=labels.MISSING_CELL, column_config={
        "Kept the machine's stance": st.column_config.ProgressColumn(format="percent", min_value=0, max_value=1)})
