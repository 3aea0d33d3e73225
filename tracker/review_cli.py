"""`tracker review …`: set, undo, list, export and import the stances people reviewed."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import click

from tracker import cli_options, store
from tracker.analysis.reviews import (REVIEW_COLUMNS, Review, ReviewUndo, agreement_table, check_review,
                                      check_reviewer, utc_timestamp)
from tracker.cli_options import (command_settings, db_option, hypotheses_option, output_option, text_table,
                                 write_command_output)
from tracker.errors import StoreError
from tracker.models import STANCES
from tracker.outputs.review_file import REVIEW_FORMATS, read_review_file, write_reviews_csv, write_reviews_jsonl
from tracker.wording import counted

reviewer_option = click.option(
    "--reviewer", envvar="TRACKER_REVIEWER", metavar="NAME",
    help="Who reviews (default: TRACKER_REVIEWER); a name, no password.")
# A note longer than this is cut in `tracker review list`'s table (export shows it whole).
_LISTED_NOTE_LENGTH = 60


def _store_options(function: Callable) -> Callable:
    """--db and --hypotheses after the sub-command, and the context that holds them."""
    return db_option(hypotheses_option(click.pass_context(function)))


@click.group("review")
def review_group() -> None:
    """Correct the stance of an (article, cause) pair, and share reviews: set, undo, list, export, import."""


@review_group.command("set")
@click.argument("pmid", type=click.IntRange(min=1))
@click.argument("hypothesis_id", metavar="CAUSE")
@click.argument("stance", type=click.Choice(STANCES))
@click.option("--sentence", default="", help="The deciding sentence, as it stands in the title or abstract.")
@click.option("--note", default="", help="Why (at most 2,000 characters).")
@reviewer_option
@_store_options
def set_command(context: click.Context, pmid: int, hypothesis_id: str, stance: str, sentence: str, note: str,
                reviewer: str | None) -> None:
    """Review a pair: its stance from now on is STANCE in every count, page and export."""
    settings = command_settings(context)
    review = check_review(Review(pmid=pmid, hypothesis=hypothesis_id, stance=stance,
                                 reviewer=check_reviewer(reviewer, "--reviewer"),
                                 reviewed_at=utc_timestamp(cli_options.current_time()), sentence=sentence, note=note),
                          f"review of PMID {pmid}")
    store.write_review(settings.db_path, review, [h.id for h in settings.causes])
    click.echo(f"reviewed PMID {pmid} for {hypothesis_id}: {stance} (by {review.reviewer} at {review.reviewed_at})")


@review_group.command("undo")
@click.argument("pmid", type=click.IntRange(min=1))
@click.argument("hypothesis_id", metavar="CAUSE")
@reviewer_option
@_store_options
def undo_command(context: click.Context, pmid: int, hypothesis_id: str, reviewer: str | None) -> None:
    """Take back your latest review of a pair: your earlier one, another reviewer's or the machine's counts again."""
    settings = command_settings(context)
    name = check_reviewer(reviewer, "--reviewer")
    undone = store.write_review(settings.db_path, ReviewUndo(pmid, hypothesis_id, name),
                                [h.id for h in settings.causes])
    if undone is None:
        raise click.ClickException(f"{name} has no review of PMID {pmid} for {hypothesis_id}; "
                                   f"`tracker review list` shows the reviews")
    click.echo(f"undid {name}'s review of PMID {pmid} for {hypothesis_id} ({undone.stance}, {undone.reviewed_at})")


@review_group.command("list")
@click.option("--hypothesis", "hypothesis_ids", multiple=True, metavar="ID",
              help="Only this cause's reviews (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@_store_options
def list_command(context: click.Context, hypothesis_ids: tuple[str, ...], as_json: bool) -> None:
    """List each reviewer's latest review of each pair, with the machine's reading and the agreement per cause."""
    settings = command_settings(context)
    cause_ids = [h.id for h in settings.causes]
    connection = store.connect(settings.db_path, read_only=True)
    try:
        with store.read_snapshot(connection):
            reviews = store.load_reviews(connection)
            effective = store.load_stance_frame(connection, pmids=reviews["pmid"].unique().tolist(),
                                                columns=("stance", *REVIEW_COLUMNS))
            states = store.load_review_states(connection)
    finally:
        connection.close()
    effective = effective[effective["hypothesis_id"].isin(cause_ids)]
    rows = _listed_rows(reviews, effective, states, hypothesis_ids)
    agreement = agreement_table(effective, [cause for cause in cause_ids
                                            if not hypothesis_ids or cause in hypothesis_ids])
    agreement = agreement[agreement["reviewed"] > 0]
    if as_json:
        click.echo(json.dumps({"reviews": rows, "agreement": [
            {**record, "accepted_share": round(record["accepted_share"], 4)}
            for record in agreement.to_dict("records")]}, indent=2, ensure_ascii=False))
        return
    if not rows:
        click.echo("no reviews yet: review a pair in the dashboard, with `tracker review set`, or import a file")
        return
    shown = [{**row, "machine": row["machine"] or "-", "note": _shown_note(row["note"]),
              "state": ", ".join(row["state"])} for row in rows]
    click.echo(text_table(shown, ["pmid", "hypothesis", "stance", "machine", "reviewer", "reviewed_at", "state",
                                  "note"]))
    for record in agreement.itertuples(index=False):
        changes = f"; changed: {record.changes}" if record.changes else ""
        click.echo(f"{record.hypothesis_id}: {record.accepted} of {counted(record.reviewed, 'reviewed pair')} kept "
                   f"the machine's stance ({record.accepted_share:.0%}){changes}")


def _listed_rows(reviews, effective, states, hypothesis_ids: tuple[str, ...]) -> list[dict[str, object]]:
    """Each reviewer's latest review of each pair, with the current machine reading and its state words."""
    latest = reviews.sort_values(["pmid", "hypothesis_id", "reviewed_at", "reviewer"]).drop_duplicates(
        ["pmid", "hypothesis_id", "reviewer"], keep="last")
    if hypothesis_ids:
        latest = latest[latest["hypothesis_id"].isin(hypothesis_ids)]
    machine = {(pmid, cause): stance for pmid, cause, stance in
               zip(effective["pmid"].tolist(), effective["hypothesis_id"].tolist(), effective["machine_stance"])}
    counted_by = {(state.pmid, state.hypothesis_id): state for state in states.itertuples(index=False)}
    rows = []
    for review in latest.itertuples(index=False):
        pair = (review.pmid, review.hypothesis_id)
        state = counted_by[pair]
        words = ["parked" if pair not in machine else
                 "counted" if (state.reviewer, state.reviewed_at) == (review.reviewer, review.reviewed_at) else
                 f"not counted (later review by {state.reviewer})"]
        if state.disagreement:
            words.append("reviewers disagree")
        if state.stale and words[0] == "counted":
            words.append("abstract changed since review")
        rows.append({"pmid": int(review.pmid), "hypothesis": review.hypothesis_id, "stance": review.stance,
                     "machine": machine.get(pair), "reviewer": review.reviewer, "reviewed_at": review.reviewed_at,
                     "state": words, "sentence": review.sentence, "note": review.note})
    return rows


def _shown_note(note: str) -> str:
    """The note on one terminal line: control characters (an escape sequence, a newline) shown as spaces."""
    text = "".join(character if character.isprintable() else " " for character in note or "")
    return (text[:_LISTED_NOTE_LENGTH - 1] + "…") if len(text) > _LISTED_NOTE_LENGTH else text or "-"


@review_group.command("export")
@click.option("--format", "review_format", type=click.Choice(REVIEW_FORMATS), default="csv", show_default=True,
              help="CSV for spreadsheets, JSON Lines for scripts.")
@output_option
@_store_options
def export_command(context: click.Context, review_format: str, output: Path | None) -> None:
    """Write every stored review (parked ones too), oldest first, as a review file another store can import."""
    settings = command_settings(context)
    connection = store.connect(settings.db_path, read_only=True)
    try:
        frame = store.load_reviews(connection)
    finally:
        connection.close()
    reviews = [Review(pmid=int(row.pmid), hypothesis=row.hypothesis_id, stance=row.stance, reviewer=row.reviewer,
                      reviewed_at=row.reviewed_at, sentence=row.sentence, note=row.note)
               for row in frame.itertuples(index=False)]
    writer = write_reviews_jsonl if review_format == "jsonl" else write_reviews_csv
    count = write_command_output(output, lambda stream: writer(reviews, stream))
    if output is not None or count == 0:
        click.echo(f"wrote {counted(count, 'review')} to {output or 'standard output'} ({review_format})", err=True)


@review_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@reviewer_option
@_store_options
def import_command(context: click.Context, file: Path, reviewer: str | None) -> None:
    """Add the reviews of a review file (CSV or JSON Lines), all or none; importing it again adds nothing."""
    settings = command_settings(context)
    records = read_review_file(file, reviewer)
    if not settings.db_path.exists():
        raise StoreError(f"{settings.db_path}: no store yet; run `tracker fetch` (or `tracker import FILE`) first")
    connection = store.connect(settings.db_path)
    try:
        with store.transaction(connection):
            added = store.save_reviews(connection, [review for _, review in records],
                                       [h.id for h in settings.causes], [where for where, _ in records])
    finally:
        connection.close()
    click.echo(f"{file}: {counted(len(records), 'review')}: {added} new, {len(records) - added} already stored")
