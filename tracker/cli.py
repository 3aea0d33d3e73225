"""The `tracker` command: the only place that prints and exits."""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import math
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import click

from tracker import cli_options, store
from tracker.cli_options import (command_settings, db_option, hypotheses_option, output_option, text_table,
                                 write_command_output)
from tracker.config import (DEFAULT_CRON, DEFAULT_JITTER_S, DEFAULT_TIMEZONE, DEMO_DB_PATH, PROJECT_DIR, Settings,
                            baseline_id_of)
from tracker.errors import ConfigError, LockHeld, TrackerError, printable
from tracker.models import CONFIDENCES, EVIDENCE_KINDS, STANCES, ArticleFilter
from tracker.outputs.feed import MAX_DAYS as FEED_MAX_DAYS
from tracker.outputs.selection import STATUS_WORDS, RunChoiceError, Selection, article_filter
from tracker.review_cli import review_group
from tracker.vocabulary import DESIGNS, FIRST_PUBMED_YEAR, SPECIES
from tracker.wording import counted, near_match, plural, runnable, tracker_command

# Exit codes: 1 for any failure the user must act on, 2 for bad usage (click's own), 3 when another fetch holds the lock.
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_LOCKED = 3
# Runs `tracker status` lists as a table; --json lists them all.
STATUS_RUN_COUNT = 10


def _fail(error: TrackerError) -> None:
    """Print one line naming what went wrong and exit non-zero."""
    click.echo(f"tracker: {runnable(str(error))}", err=True)
    sys.exit(EXIT_LOCKED if isinstance(error, LockHeld) else EXIT_FAILURE)


class _TrackerGroup(click.Group):
    """A click group that turns every TrackerError into a one-line message and a non-zero exit."""

    def invoke(self, context: click.Context) -> object:
        try:
            return super().invoke(context)
        except TrackerError as error:
            _fail(error)
        except KeyboardInterrupt:
            click.echo("tracker: interrupted; the store keeps every batch that was committed", err=True)
            sys.exit(130)


@click.group(cls=_TrackerGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--hypotheses", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Hypotheses TOML file (default: TRACKER_HYPOTHESES or the one shipped with the tracker).")
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="SQLite store (default: TRACKER_DB or data/tracker.sqlite).")
@click.option("-v", "--verbose", is_flag=True, help="Log each request retry and other details to standard error.")
@click.version_option(package_name="fibromyalgia-evidence-tracker")
@click.pass_context
def cli(context: click.Context, hypotheses: Path | None, db: Path | None, verbose: bool) -> None:
    """Follow the PubMed evidence for each hypothesised cause of fibromyalgia."""
    context.obj = {"hypotheses": hypotheses, "db": db}
    if verbose:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger = logging.getLogger("tracker")
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        context.call_on_close(lambda: (logger.removeHandler(handler), logger.setLevel(logging.NOTSET)))


# --- option values: bad ones are bad usage (exit 2), with the near match a typo or a case variant meant ----------

def _not_one_of(value: str, choices: Sequence[str], noun: str) -> str:
    match = near_match(value, choices)
    return f"{value!r} is not {noun}; " + (f"did you mean {match!r}?" if match else f"choose from {', '.join(choices)}")


class _Choice(click.Choice):
    """click's Choice, refusing a typo or a case variant with the choice it probably meant (suggested, not taken:
    a near match taken quietly could be the wrong one)."""

    def __init__(self, choices: Sequence[str], noun: str) -> None:
        super().__init__(choices)
        self.noun = noun

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> object:
        if value in self.choices:
            return value
        self.fail(_not_one_of(str(value), tuple(self.choices), self.noun), param, ctx)


class _Year(click.ParamType):
    """A publication year: a whole number no earlier than PubMed's first records."""

    name = "year"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> int:
        year = click.INT.convert(value, param, ctx)
        if year < FIRST_PUBMED_YEAR:
            self.fail(f"{year} is before PubMed's first records ({FIRST_PUBMED_YEAR}); give a four-digit year "
                      "such as 2015", param, ctx)
        return year


def _configured(causes_only: bool = False) -> Callable:
    """A callback refusing an id the hypotheses file does not name (with causes_only, the baseline's too)."""

    def check(context: click.Context, parameter: click.Parameter, values: tuple[str, ...]) -> tuple[str, ...]:
        if values:
            settings = command_settings(context)
            known = [h.id for h in (settings.causes if causes_only else settings.hypotheses)]
            for value in values:
                if value not in known:
                    raise click.BadParameter(_not_one_of(value, known, "a cause" if causes_only else "a hypothesis"),
                                             context, parameter)
        return values

    return check


# --- fetch / status ---------------------------------------------------------------------------------------------

class _CliProgress:
    """A progress bar on a terminal; plain log lines otherwise (cron, CI, pipes)."""

    def __init__(self, warning: str | None = None) -> None:
        self._interactive = sys.stderr.isatty()
        self._bar = None
        self._done = 0
        self._total = 0
        self._warning = warning

    def searched(self, hypothesis_id: str, count: int, window_count: int) -> None:
        if self._warning:
            # Once NCBI has answered, not before: a run refused earlier (store, lock, config) stays one line.
            click.echo(self._warning, err=True)
            self._warning = None
        windows = f" in {window_count} date windows" if window_count > 1 else ""
        click.echo(f"searched {hypothesis_id}: {counted(count, 'record')} in PubMed{windows}", err=True)

    def fetching(self, pmid_count: int, batch_count: int) -> None:
        click.echo(f"fetching {counted(pmid_count, 'new or changed record')} in {counted(batch_count, 'batch')}",
                   err=True)
        if self._interactive and batch_count:
            self._bar = click.progressbar(length=pmid_count, label="efetch", file=sys.stderr)
            self._bar.__enter__()
        self._total = pmid_count

    def batch_done(self, record_count: int) -> None:
        self._done += record_count
        if self._bar is not None:
            self._bar.update(record_count)
            if self._done >= self._total:
                self._bar.__exit__(None, None, None)
                self._bar = None
        else:
            click.echo(f"fetched {self._done}/{self._total}", err=True)

    def tagged(self, done: int, total: int) -> None:
        # After the last batch the tagger and the stance reader still take seconds (some 300 articles a second):
        # a bar of their own, not a silent pause after the fetch's.
        heading = f"tagging and reading the stances of {counted(total, 'article')}"
        if done == 0:
            self.close()
            if self._interactive and total:
                click.echo(heading, err=True)
                self._bar = click.progressbar(length=total, label="tagging", file=sys.stderr)
                self._bar.__enter__()
            self._done, self._total = 0, total
            return
        if self._bar is not None:
            self._bar.update(done - self._done)
        else:
            # Logged once a batch is saved: a store that refuses the write stays one line.
            if self._done == 0:
                click.echo(heading, err=True)
            click.echo(f"tagged {done}/{total}", err=True)
        self._done = done
        if done >= total:
            self.close()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None


def _blank(value: object) -> object:
    return "-" if value is None or value != value else value  # value != value: pandas' NaN


@cli.command()
@click.option("--hypothesis", "hypothesis_ids", multiple=True, metavar="ID", callback=_configured(),
              help="Sync only this hypothesis (repeatable); default: all of them.")
@click.option("--full", is_flag=True, help="Fetch every record again, not only what is new or changed.")
@db_option
@hypotheses_option
@click.pass_context
def fetch(context: click.Context, hypothesis_ids: tuple[str, ...], full: bool) -> None:
    """Sync the store with PubMed: new, changed and withdrawn records for each hypothesis."""
    settings = command_settings(context)
    # NCBI asks every tool to give an address, so it can write before it blocks one that misbehaves.
    _fetch_and_report(settings, hypothesis_ids, full=full, warning=None if settings.email else (
        "warning: NCBI_EMAIL is not set; NCBI asks every tool for an address it can write to about "
        "problems: set NCBI_EMAIL=you@example.org"))


def _fetch_and_report(settings: Settings, hypothesis_ids: tuple[str, ...] = (), *, full: bool = False,
                      warning: str | None = None) -> None:
    """Run one fetch under the job lock with its progress, print its table, and exit 1 when it failed."""
    from tracker.jobs.fetch import run_fetch
    from tracker.jobs.lock import job_lock

    progress = _CliProgress(warning)
    with job_lock(settings.db_path):
        try:
            report = run_fetch(settings, hypothesis_ids, full=full, progress=progress)
        finally:
            progress.close()
    # A run that stopped before PubMed answered anything (network down) has no table to show: the one line says it.
    if any(o.pubmed_count is not None for o in report.outcomes):
        rows = [
            {"hypothesis": o.hypothesis_id, "pubmed": _blank(o.pubmed_count), "stored": _blank(o.stored_count),
             "new": o.new_count, "updated": o.updated_count, "removed": o.removed_count,
             "status": "ok" if o.status == "succeeded" else "FAILED"}
            for o in report.outcomes
        ]
        click.echo(text_table(rows, ["hypothesis", "pubmed", "stored", "new", "updated", "removed", "status"]))
        requests = plural(report.esearch_requests + report.efetch_requests, "request")
        click.echo(f"run {report.run_id}: {report.esearch_requests} esearch + {report.efetch_requests} efetch "
                   f"{requests}, {counted(report.fetched_records, 'record')} fetched in {report.elapsed_s:.1f} s")
    if not report.succeeded:
        click.echo(f"tracker: fetch failed: {report.error}", err=True)
        sys.exit(EXIT_FAILURE)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@db_option
@hypotheses_option
@click.pass_context
def status(context: click.Context, as_json: bool) -> None:
    """Show each hypothesis' last successful sync, PubMed and stored counts, and the last run's outcome."""
    settings = command_settings(context)
    # Checked as the writers check it (about 1 s at 200,000 articles): status is how a user asks whether all is well.
    with store.reading(settings.db_path, check=True) as connection:
        frame = store.load_status_frame(connection).set_index("hypothesis_id")
        # The last fetch, not an import since: a failed fetch must stay in view until one succeeds.
        runs = store.load_runs_frame(connection, limit=1, kind="fetch")
        history = store.load_run_history(connection).runs
        parked = store.load_parked(connection, _configured_ids(settings))
        reviews = store.load_review_summary(connection, [h.id for h in settings.causes])
    rows = []
    for hypothesis in settings.hypotheses:
        known = hypothesis.id in frame.index
        row = {k: (None if v != v else v) for k, v in frame.loc[hypothesis.id].items()} if known else {}
        rows.append({
            "hypothesis": hypothesis.id,
            "last_success": row.get("last_success_at"),
            "pubmed": None if row.get("pubmed_count") is None else int(row["pubmed_count"]),
            "stored": int(row.get("stored_count") or 0),
            "last_run": row.get("last_run_status"),
            "error": row.get("last_run_error"),
        })
    last_run = None if runs.empty else {k: (None if v != v else v) for k, v in runs.iloc[0].to_dict().items()}
    if last_run is not None:
        last_run = {k: (int(v) if isinstance(v, float) and v.is_integer() else v) for k, v in last_run.items()}
    run_rows = [{"run": int(run.id), "kind": run.kind, "status": run.status, "started": run.started_at,
                 "finished": run.finished_at, "new": int(run.new_count), "changed": int(run.changed_count),
                 "files": list(run.files), "error": run.error if isinstance(run.error, str) else None}
                for run in history.iloc[::-1].itertuples(index=False)]
    parked_rows = [{"hypothesis": row.hypothesis_id, "linked": int(row.linked), "stances": int(row.stances)}
                   for row in parked.itertuples(index=False)]
    if as_json:
        click.echo(json.dumps({"hypotheses": rows, "last_run": last_run, "runs": run_rows, "parked": parked_rows,
                                "reviews": reviews},
                              indent=2, default=str))
        return
    click.echo(text_table([{k: _blank(v) for k, v in r.items() if k != "error"} for r in rows],
                      ["hypothesis", "last_success", "pubmed", "stored", "last_run"]))
    if run_rows:
        # The ids --new-in-run and --changed-in-run take; new and changed are what each run itself stored.
        shown = [{**r, "finished": _blank(r["finished"]), "files": ", ".join(r["files"]) or "-"}
                 for r in run_rows[:STATUS_RUN_COUNT]]
        click.echo(text_table(shown, ["run", "kind", "status", "started", "finished", "new", "changed", "files"]))
        if len(run_rows) > STATUS_RUN_COUNT:
            click.echo(f"... and {len(run_rows) - STATUS_RUN_COUNT} earlier runs (tracker status --json lists all)")
        # Too long for a column: each failed run of the table, with what stopped it, on a line of its own.
        for row in shown:
            if row["status"] != "succeeded" and row["error"]:
                click.echo(f"run {row['run']} {STATUS_WORDS.get(row['status'], row['status'])}: "
                           f"{printable(row['error'])}")
    listed = {row["run"] for row in run_rows[:STATUS_RUN_COUNT] if row["error"]}
    if last_run is None:
        click.echo(runnable("no fetch has run yet: run `tracker fetch`"))
    else:
        click.echo(f"last run {last_run['id']}: {last_run['status']} (started {last_run['started_at']}, "
                   f"finished {last_run['finished_at'] or '-'})")
        if last_run["error"] and last_run["id"] not in listed:
            # Escaped again: a run of an older tracker may have stored a server's text as it came.
            click.echo(f"  error: {printable(last_run['error'])}")
    for row in parked_rows:
        click.echo(f"parked: {row['hypothesis']} ({counted(row['linked'], 'linked article')}, "
                   f"{counted(row['stances'], 'stance')}) is no longer in the hypotheses file: kept in the store, "
                   "neither shown nor exported; give a cause that id again to show it")
    if reviews["reviewed_pairs"]:
        click.echo(f"reviews: {counted(reviews['reviewed_pairs'], 'reviewed pair')}, {reviews['parked']} parked "
                   f"(article or cause absent: not counted until it is back), {reviews['stale']} with an abstract "
                   f"changed since review")


# --- retag ------------------------------------------------------------------------------------------------------

@cli.command()
@db_option
@hypotheses_option
@click.pass_context
def retag(context: click.Context) -> None:
    """Re-tag every stored article with the current hypotheses file's rules (after editing it); no network."""
    from tracker.errors import StoreError
    from tracker.jobs.lock import job_lock
    from tracker.jobs.retag import refresh_tags
    from tracker.analysis.tagging import compile_rules

    settings = command_settings(context)
    rules = compile_rules(settings.hypotheses, source=str(settings.hypotheses_path))
    if not settings.db_path.exists():
        raise StoreError(f"{settings.db_path}: no store yet; run `tracker fetch` (or `tracker import FILE`) first")
    # The lock keeps a scheduled fetch from waiting on this one long write transaction (and the other way round).
    with job_lock(settings.db_path):
        connection = store.connect(settings.db_path)
        progress = _CliProgress()
        try:
            tagged = refresh_tags(connection, rules, all_articles=True, progress=progress.tagged)
        finally:
            progress.close()
            connection.close()
    click.echo(f"tagged {counted(tagged, 'article')} with rules {rules.version} from {settings.hypotheses_path}")


# --- export / import / feed -------------------------------------------------------------------------------------

_IMPORT_FORMAT_NAMES = {"medline": "MEDLINE", "xml": "PubMed XML"}


@cli.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@db_option
@hypotheses_option
@click.pass_context
def import_command(context: click.Context, files: tuple[Path, ...]) -> None:
    """Load PubMed export files (MEDLINE/.nbib or PubMed XML) into the store, all or nothing, and tag them."""
    from tracker.jobs.importer import check_import_paths, import_files
    from tracker.jobs.lock import job_lock
    from tracker.analysis.tagging import compile_rules

    settings = command_settings(context)
    # Checked before the store is opened: a bad tagging term is reported with the hypotheses file's name, and a
    # FIFO never holds the lock waiting for a writer.
    rules = compile_rules(settings.hypotheses, source=str(settings.hypotheses_path))
    check_import_paths(files)
    with job_lock(settings.db_path):
        connection = store.connect(settings.db_path)
        try:
            report = import_files(connection, files, rules)
        finally:
            connection.close()
    for item in report.files:
        click.echo(f"{item.path}: {_IMPORT_FORMAT_NAMES[item.file_format]}, "
                   f"{counted(item.records_read, 'record')}: "
                   f"{item.new} new, {item.updated} updated, {item.unchanged} unchanged"
                   + (f", {item.kept} kept (stored record is more complete: PMID {_some(item.kept_pmids)})"
                      if item.kept else ""))
    click.echo(f"imported {counted(report.new, 'new article')} and {report.updated} updated; tagged {report.tagged}"
               + (f"; run {report.run_id}" if report.run_id is not None else ""))


def _some(pmids: tuple[int, ...], shown: int = 10) -> str:
    """"1, 2, 3" or, for a long list, its first few and how many more."""
    more = f" and {len(pmids) - shown} more" if len(pmids) > shown else ""
    return ", ".join(map(str, pmids[:shown])) + more


def _configured_ids(settings: Settings) -> list[str]:
    """The causes the hypotheses file names: rows of any other id (a renamed cause's) are parked, never read."""
    return [hypothesis.id for hypothesis in settings.hypotheses]


def run_choice_options(function: Callable) -> Callable:
    """--new-in-run and --changed-in-run, as export, evidence and feed take them."""
    function = click.option(
        "--changed-in-run", metavar="latest|N",
        help="Only articles that run N (an id `tracker status` lists) or the latest successful fetch or import "
             "changed: new retraction or erratum links, corrected records.")(function)
    return click.option(
        "--new-in-run", metavar="latest|N",
        help="Only articles that run N (an id `tracker status` lists) or the latest successful fetch or import "
             "stored for the first time.")(function)


def _selection(only_new: bool = False, **fields: object) -> Selection:
    """The filter options as the one Selection the command reads; what it refuses (a malformed run choice, a date
    that is not one, years the wrong way round) is bad usage, exit 2."""
    if only_new:
        if fields.get("new_in_run") is not None:
            raise click.UsageError("--only-new is --new-in-run latest; give one of them")
        fields["new_in_run"] = "latest"
    try:
        return Selection(**fields)
    except ConfigError as error:
        _usage_error(str(error))


@contextlib.contextmanager
def _runs_are_usage() -> Iterator[None]:
    """Turn a run choice that is malformed, unknown or failed into one line and exit 2: the options are wrong."""
    try:
        yield
    except RunChoiceError as error:
        click.echo(f"tracker: {error}", err=True)
        sys.exit(EXIT_USAGE)


_EXPORT_FORMAT_NAMES = {"csv": "CSV", "ris": "RIS", "bibtex": "BibTeX"}


def selection_options(hypothesis_help: str, causes_only: bool = False) -> Callable[[Callable], Callable]:
    """The filters of `selection.Selection` as options named by its fields (and --only-new), shared by `tracker
    export` and `tracker evidence`."""
    options = [
        click.option("--hypothesis", "hypotheses", multiple=True, metavar="ID", callback=_configured(causes_only),
                     help=hypothesis_help),
        click.option("--from-year", type=_Year(), metavar="YEAR", help="Published in this year or later."),
        click.option("--to-year", type=_Year(), metavar="YEAR", help="Published in this year or earlier."),
        click.option("--design", "designs", multiple=True, metavar="DESIGN", type=_Choice(DESIGNS, "a study design"),
                     help="Only this study design (repeatable): meta_analysis, systematic_review, rct, "
                          "clinical_trial, cohort, case_control, observational, case_report, narrative_review, "
                          "editorial, other."),
        click.option("--species", metavar="SPECIES", type=_Choice(SPECIES, "a species"),
                     help="human (includes both), animal (includes both), both or unknown."),
        click.option("--include-retracted", is_flag=True, help="Keep retracted articles (flagged in the output)."),
        click.option("--new-since", metavar="DATE",
                     help="Only articles first seen on or after this ISO date or datetime."),
        run_choice_options,
        click.option("--only-new", is_flag=True, help="The same as --new-in-run latest (its older spelling)."),
        click.option("--query", "text", metavar="TEXT",
                     help="Only articles whose title, abstract, authors or journal contain this text (any case)."),
        click.option("--evidence-kind", "evidence_kinds", multiple=True, metavar="KIND",
                     type=_Choice(EVIDENCE_KINDS, "a kind of evidence"),
                     help="Only articles with a stance row of this kind of evidence (repeatable): comparison, "
                          "association (direct evidence), intervention (indirect), review, other."),
        click.option("--confidence", type=_Choice(CONFIDENCES, "a confidence"), default=None,
                     help="Only articles with a stance row read with this confidence (the dashboard's counts are "
                          "of high)."),
        click.option("--hedged/--not-hedged", "hedged", default=None,
                     help="Only articles with a hedged (\"may\", \"suggests\") or a plainly stated stance row."),
    ]

    def decorate(function: Callable) -> Callable:
        for option in reversed(options):
            function = option(function)
        return function

    return decorate


def _article_filter(connection: sqlite3.Connection, settings: Settings, selection: Selection) -> ArticleFilter:
    """The selection as the store's query tests it; a run that does not exist or failed is bad usage (exit 2)."""
    with _runs_are_usage():
        return article_filter(selection, hypothesis_ids=_configured_ids(settings),
                              runs=store.load_run_list(connection))


@cli.command("export")
@click.option("--format", "export_format", type=_Choice(["csv", "ris", "bibtex"], "an export format"), default="csv",
              show_default=True, help="CSV for spreadsheets, RIS or BibTeX for reference managers.")
@selection_options("Only articles carrying this hypothesis (repeatable: any of them).")
@click.option("--with-abstract", is_flag=True, help="CSV: add the abstract as the last column.")
@click.option("--excel", is_flag=True, help="CSV: start with a byte-order mark so Excel reads it as UTF-8.")
@output_option
@db_option
@hypotheses_option
@click.pass_context
def export_command(context: click.Context, export_format: str, only_new: bool, with_abstract: bool, excel: bool,
                   output: Path | None, **filters: object) -> None:
    """Write the articles the filters keep as CSV, RIS or BibTeX, in the dashboard's order."""
    from tracker.outputs import export

    if export_format != "csv" and (with_abstract or excel):
        raise click.UsageError(f"--with-abstract and --excel apply to CSV only; RIS and BibTeX always carry the "
                               f"abstract (drop them or use --format csv, not {export_format})")
    settings = command_settings(context)
    # Checked before the store is read: bad options are reported whatever the store holds.
    selection = _selection(only_new, **filters)
    cause_ids = [h.id for h in settings.causes]
    with store.reading(settings.db_path) as connection:
        chosen = _article_filter(connection, settings, selection)
        batches = store.iter_selected_batches(connection, chosen, hypothesis_ids=_configured_ids(settings),
                                              details=export.detail_columns(export_format),
                                              stance_columns=export.STANCE_READ_COLUMNS)
        writers = {
            "csv": lambda stream: export.write_csv(batches, stream, with_abstract=with_abstract, excel=excel,
                                                   cause_ids=cause_ids),
            "ris": lambda stream: export.write_ris(batches, stream, cause_ids=cause_ids),
            # Citation keys are unique across the whole file: a first pass over what keys are made of, in the
            # same snapshot, makes them; then the entries are written a batch at a time.
            "bibtex": lambda stream: export.write_bibtex(batches, stream, cause_ids=cause_ids, keys=export.BibtexKeys(
                store.iter_citation_key_fields(connection, store.select_pmids(connection, chosen)))),
        }
        count = write_command_output(output, writers[export_format])
    if count == 0:
        # Still written, as csvkit and pandas write a header-only CSV: a script reading it finds its columns.
        if export_format == "csv":
            written = "only the CSV header row"
        else:
            written = f"an empty {_EXPORT_FORMAT_NAMES[export_format]} file" if output is not None else "nothing"
        click.echo(f"tracker: no article matched the filters; wrote {written} to {output or 'standard output'}",
                   err=True)
    elif output is not None:
        click.echo(f"wrote {counted(count, 'article')} to {output} ({export_format})", err=True)


@cli.command("evidence")
@click.option("--stance", "stance_values", multiple=True, metavar="STANCE", type=_Choice(STANCES, "a stance"),
              help="Only rows with this stance (repeatable): supports, contradicts, mixed, no_finding.")
@selection_options("Only rows of this cause (repeatable: any of them).", causes_only=True)
@click.option("--format", "evidence_format", type=_Choice(["csv", "json"], "an evidence format"), default="csv",
              show_default=True,
              help="CSV for spreadsheets, JSON (a list of objects) for scripts.")
@output_option
@db_option
@hypotheses_option
@click.pass_context
def evidence_command(context: click.Context, stance_values: tuple[str, ...], only_new: bool, evidence_format: str,
                     output: Path | None, **filters: object) -> None:
    """Write one row per (article, cause) with its stance, the deciding sentence and cue, in the export's order."""
    from tracker.analysis.reviews import REVIEW_COLUMNS
    from tracker.outputs import export

    settings = command_settings(context)
    cause_ids = [h.id for h in settings.causes]
    # The stance filter applies to each (article, cause) row, where a pair not read yet counts as no_finding as
    # in every count: the selection picks the articles, evidence_frame the rows.
    selection = _selection(only_new, **filters)
    writer = export.write_evidence_json if evidence_format == "json" else export.write_evidence_csv
    with store.reading(settings.db_path) as connection:
        batches = store.iter_selected_batches(connection, _article_filter(connection, settings, selection),
                                              hypothesis_ids=_configured_ids(settings),
                                              stance_columns=(*store.STANCE_COLUMNS, *REVIEW_COLUMNS))
        rows = (export.evidence_frame(articles, stances, cause_ids, hypotheses=selection.hypotheses,
                                      stance_values=stance_values, evidence_kinds=selection.evidence_kinds,
                                      hedged=selection.hedged, confidence=selection.confidence)
                for articles, stances in batches)
        count = write_command_output(output, lambda stream: writer(rows, stream))
    if count == 0:
        # As `tracker export`: still written, so a script reading it finds the columns (CSV) or a list (JSON).
        written = "only the CSV header row" if evidence_format == "csv" else "an empty JSON list"
        click.echo(f"tracker: no row matched the filters; wrote {written} to {output or 'standard output'}",
                   err=True)
    elif output is not None:
        click.echo(f"wrote {counted(count, 'row')} to {output} ({evidence_format})", err=True)


@cli.command("feed")
@click.option("--days", type=click.IntRange(1, FEED_MAX_DAYS), default=None, metavar="N",
              help="Articles first seen in the last N days (default 30; with a run option, no day limit unless given).")
@click.option("--hypothesis", "hypothesis_ids", multiple=True, metavar="ID", callback=_configured(),
              help="Only articles carrying this hypothesis (repeatable: any of them).")
@run_choice_options
@click.option("--limit", type=click.IntRange(min=1), default=None, metavar="N",
              help="At most N entries, the newest first (default 500).")
@output_option
@db_option
@hypotheses_option
@click.pass_context
def feed_command(context: click.Context, days: int | None, hypothesis_ids: tuple[str, ...], new_in_run: str | None,
                 changed_in_run: str | None, limit: int | None, output: Path | None) -> None:
    """Write an Atom feed of the articles first seen in the last N days (or new in a run), newest first."""
    import pandas as pd

    from tracker.outputs.feed import (DEFAULT_DAYS, FEED_DETAILS, FEED_LIMIT, build_feed, check_limit,
                                      describe_feed, feed_selection)

    settings = command_settings(context)
    now = cli_options.current_time()
    runs_chosen = _selection(new_in_run=new_in_run, changed_in_run=changed_in_run)
    choices = {"new_in_run": runs_chosen.new_in_run, "changed_in_run": runs_chosen.changed_in_run}
    if days is None and not any(choices.values()):
        days = DEFAULT_DAYS
    selection = feed_selection(days=days, hypothesis_ids=hypothesis_ids, now=now, **choices)
    with store.reading(settings.db_path) as connection:
        chosen = _article_filter(connection, settings, selection)
        matching = store.count_selected(connection, chosen)
        # Only the entries shown are read: after a first sync the match is the whole store.
        batches = [articles for articles, _stances in store.iter_selected_batches(
            connection, chosen, hypothesis_ids=_configured_ids(settings), details=FEED_DETAILS, order="first_seen",
            limit=check_limit(limit or FEED_LIMIT))]
        shown = (pd.concat(batches, ignore_index=True) if batches else
                 store.decode_details(store.load_catalogue(connection, _configured_ids(settings), pmids=[]),
                                      FEED_DETAILS))
    document = build_feed(shown, settings.hypotheses, days=days, hypothesis_ids=hypothesis_ids, now=now, **choices)
    write_command_output(output, lambda stream: stream.write(document), binary=True)
    if output is not None:
        click.echo(f"wrote the feed of {describe_feed(days, **choices)[0]} "
                   f"({counted(len(shown), 'entry', 'entries')}) to {output}", err=True)
    if len(shown) < matching:
        click.echo(f"tracker: the feed holds the newest {len(shown):,} of {matching:,} articles; "
                   f"give --limit N for more, or narrow it with --days or --hypothesis", err=True)


# --- emerging ---------------------------------------------------------------------------------------------------

EMERGING_JSON_KEYS = ("rank", "term", "kind", "articles", "rate_ratio", "q_value", "burst_years", "trend",
                      "first_flagged_year", "example_pmids", "emerging")


def _usage_error(message: str) -> None:
    """One line on standard error and exit 2: the arguments, not the store, are wrong."""
    click.echo(f"tracker: {message}", err=True)
    sys.exit(2)


def _whole_number(option: str, text: str | None, minimum: int) -> int | None:
    if text is None:
        return None
    try:
        value = int(text)
    except ValueError:
        _usage_error(f"{option} {text!r} is not a whole number; give one of at least {minimum}")
    if value < minimum:
        _usage_error(f"{option} {value} is too small; give a whole number of at least {minimum}")
    return value


def _emerging_row_json(row: dict) -> dict:
    def number(value: float) -> float | None:
        # JSON has no infinity: a candidate with no article in the earlier window has rate_ratio null.
        return None if value is None or value != value or value in (math.inf, -math.inf) else float(value)

    return {
        "rank": int(row["rank"]), "term": row["term"], "also_named": list(row["idea_terms"]), "kind": row["kind"],
        "articles": int(row["articles"]),
        "rate_ratio": number(row["rate_ratio"]), "q_value": number(row["q_value"]),
        "burst_years": [int(year) for year in row["burst_years"]], "trend": row["trend"],
        "first_flagged_year": _first_flagged(row),
        "example_pmids": [int(pmid) for pmid in row["example_pmids"]], "emerging": bool(row["emerging"]),
    }


def _first_flagged(row: dict) -> int | None:
    import pandas as pd

    return None if pd.isna(row["first_flagged_year"]) else int(row["first_flagged_year"])


def _emerging_row_text(row: dict) -> dict:
    from tracker.analysis.emerging import year_ranges

    ratio = row["rate_ratio"]
    share = (f"{row['share_recent']:.1%} vs {row['share_before']:.1%}"
             if row["share_recent"] == row["share_recent"] and row["share_before"] == row["share_before"] else "-")
    return {
        "rank": row["rank"], "term": row["term"] if len(row["term"]) <= 40 else row["term"][:39] + "…",
        "kind": row["kind"], "articles": row["articles"], "share recent vs before": share,
        "rate_ratio": "new" if ratio == math.inf else "-" if ratio != ratio else f"{ratio:.2f}",
        "q_value": "-" if row["q_value"] != row["q_value"] else f"{row['q_value']:.2g}",
        "burst_years": year_ranges(row["burst_years"]) or "-", "trend": row["trend"],
        "first_flagged": _blank(_first_flagged(row)),
        "example_pmids": ", ".join(str(pmid) for pmid in row["example_pmids"]) or "-",
        "emerging": "yes" if row["emerging"] else "no",
    }


@cli.command("emerging")
@click.option("--as-of", "as_of_text", metavar="YEAR",
              help="Compute as at the end of YEAR, from the articles that had entered PubMed by then "
                   "(default: last year, the latest complete one).")
@click.option("--top", "top_text", metavar="N", default="20", show_default=True, help="Show the best N candidates.")
@click.option("--min-articles", "min_articles_text", metavar="K", default="10", show_default=True,
              help="Consider only candidates mentioned in at least K fibromyalgia articles.")
@click.option("--json", "as_json", is_flag=True,
              help="Print a JSON list of {rank, term, kind, articles, rate_ratio (null: none before), q_value, "
                   "burst_years, trend, first_flagged_year, example_pmids, emerging}, best first.")
@click.option("--toml", "toml_term", metavar="TERM",
              help="Print a [[hypothesis]] entry for TERM to paste into the hypotheses file, and exit.")
@db_option
@hypotheses_option
@click.pass_context
def emerging_command(context: click.Context, as_of_text: str | None, top_text: str, min_articles_text: str,
                     as_json: bool, toml_term: str | None) -> None:
    """Rank the ideas rising in the stored fibromyalgia articles that no configured cause covers; no network."""
    from datetime import datetime, timezone

    from tracker.analysis import emerging

    if as_json and toml_term is not None:
        _usage_error("--json and --toml do not go together; drop one of them")
    current_year = datetime.now(timezone.utc).year
    as_of = _whole_number("--as-of", as_of_text, 1) or current_year - 1
    top = _whole_number("--top", top_text, 1)
    min_articles = _whole_number("--min-articles", min_articles_text, 1)
    if toml_term is not None and not toml_term.strip():
        _usage_error("--toml needs a term, such as --toml \"small fiber pathology\"")
    try:
        emerging.check_as_of(as_of, current_year)
    except ConfigError as error:
        _usage_error(f"--as-of: {error}")
    settings = command_settings(context)
    method = emerging.Method(min_articles=min_articles)
    # The baseline's articles a batch at a time, read once per pass from one snapshot of a read-only connection:
    # each batch's text is reduced to what is counted before the next is read.
    with store.reading(settings.db_path) as connection:
        batches = functools.partial(store.iter_emerging_batches, connection,
                                    baseline_id_of(settings.hypotheses))
        result = emerging.find_emerging(batches, settings.hypotheses, as_of=as_of, current_year=current_year,
                                        method=method)
    if toml_term is not None:
        try:
            row = emerging.find_candidate(result.ranked, result.excluded, toml_term)
        except ConfigError as error:
            _usage_error(f"--toml: {error}")
        click.echo(emerging.hypothesis_toml(row, settings.hypotheses, as_of), nl=False)
        return
    rows = result.ranked.head(top).to_dict("records")
    if as_json:
        click.echo(json.dumps([_emerging_row_json(row) for row in rows], indent=2))
        return
    flagged = int(result.ranked["emerging"].sum())
    click.echo(f"as of {as_of}: {len(result.ranked):,} {plural(len(result.ranked), 'candidate')} in at least "
               f"{counted(min_articles, 'fibromyalgia article')}, "
               f"{flagged:,} emerging (the last {method.recent_years} years against the {method.before_years} before)")
    if not rows:
        click.echo(f"no candidate to rank; lower --min-articles (now {min_articles}) or fetch more articles")
        return
    columns = ["rank", "term", "kind", "articles", "share recent vs before", "rate_ratio", "q_value", "burst_years",
               "trend", "first_flagged", "example_pmids", "emerging"]
    click.echo(text_table([_emerging_row_text(row) for row in rows], columns))


# --- schedule ---------------------------------------------------------------------------------------------------

_JOB_EXIT_CODES = {"succeeded": 0, "failed": EXIT_FAILURE, "locked": EXIT_LOCKED}


@cli.command()
@click.option("--cron", "cron", default=DEFAULT_CRON, show_default=True, metavar="EXPR",
              help="When to fetch: minute hour day-of-month month day-of-week, read in --timezone.")
@click.option("--timezone", "timezone_name", default=DEFAULT_TIMEZONE, show_default=True, metavar="TZ",
              help="IANA time zone the --cron fields are read in.")
@click.option("--jitter-s", type=click.IntRange(min=0), default=DEFAULT_JITTER_S, show_default=True,
              help="Start up to this many seconds late, at random, so that many trackers do not fetch at once.")
@click.option("--log-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Log file (default: schedule.log next to the store).")
@click.option("--once", is_flag=True, help="Run one fetch under the job lock now and exit with its exit code.")
@click.option("--print-cron", is_flag=True, help="Print a crontab entry that does the same, and exit.")
@click.option("--print-systemd", is_flag=True, help="Print a systemd .service and .timer that do the same, and exit.")
@db_option
@hypotheses_option
@click.pass_context
def schedule(context: click.Context, cron: str, timezone_name: str, jitter_s: int, log_file: Path | None,
             once: bool, print_cron: bool, print_systemd: bool) -> None:
    """Fetch every night at an off-peak time for NCBI, under the job lock, catching up a missed run."""
    from datetime import datetime, timezone

    from tracker.jobs import schedule as scheduling
    from tracker.jobs.fetch import run_fetch

    if once + print_cron + print_systemd > 1:
        raise click.UsageError("choose one of --once, --print-cron and --print-systemd")
    settings = command_settings(context)
    plan = scheduling.parse_schedule(cron, timezone_name, jitter_s,
                                     log_file or scheduling.default_log_path(settings.db_path))
    warning = scheduling.off_peak_warning(plan, datetime.now(timezone.utc))
    if warning:
        click.echo(f"tracker: warning: {warning}", err=True)
    if print_cron:
        click.echo(scheduling.cron_text(settings, plan), nl=False)
    elif print_systemd:
        click.echo(scheduling.systemd_text(settings, plan), nl=False)
    elif once:
        sys.exit(_JOB_EXIT_CODES[scheduling.run_once(settings, plan, run_fetch)])
    else:
        click.echo(f"tracker: scheduler running (--cron {plan.cron!r} --timezone {plan.timezone_name}); "
                   f"logging to {plan.log_path}; stop it with Ctrl-C or kill", err=True)
        scheduling.run_scheduler(settings, plan, run_fetch)


# --- dashboard --------------------------------------------------------------------------------------------------

# The page script lives next to the package in the source tree; found from here, never from the current directory.
DASHBOARD_APP_PATH = Path(__file__).resolve().parent.parent / "dashboard" / "app.py"


def check_port_free(host: str, port: int) -> None:
    """Refuse a port the dashboard could not listen on, before anything slow runs (a fetch, Streamlit's start)."""
    import errno
    import socket

    try:
        family, kind, protocol, _name, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    except socket.gaierror as error:
        raise ConfigError(f"--host {host}: not an address of this machine ({error.strerror}); "
                          "give an address such as 127.0.0.1") from None
    with socket.socket(family, kind, protocol) as probe:
        # As the server itself binds: a port left in TIME_WAIT by a server just stopped is free to it.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                problem = "is taken (another program listens there)"
            elif error.errno == errno.EACCES:
                problem = "needs administrator rights (ports below 1024 do)"
            else:
                problem = f"cannot be used ({error.strerror})"
            raise ConfigError(f"port {port} on {host} {problem}; choose another with --port N "
                              "(make run PORT=N)") from None


def dashboard_command(settings: Settings, host: str, port: int, demo: bool = False) -> list[str]:
    """The `streamlit run` command line that serves the dashboard; the same settings as .streamlit/config.toml.

    `demo` makes every page say that the store holds synthetic records (`tracker demo`'s).
    """
    return [
        sys.executable, "-m", "streamlit", "run", str(DASHBOARD_APP_PATH),
        "--server.address", host,
        "--server.port", str(port),
        "--server.headless", "true",
        "--server.fileWatcherType", "none",
        "--browser.gatherUsageStats", "false",
        "--client.showErrorDetails", "false",
        "--client.toolbarMode", "minimal",
        "--client.showSidebarNavigation", "false",
        "--client.disableDataExport", "true",
        "--global.disableWidgetStateDuplicationWarning", "true",
        "--", "--db", str(settings.db_path), "--hypotheses", str(settings.hypotheses_path),
        *(["--demo"] if demo else []),
    ]


@cli.command()
@db_option
@hypotheses_option
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to serve on; the default keeps the dashboard on this machine.")
@click.option("--port", type=click.IntRange(1, 65535), default=8501, show_default=True, help="Port to serve on.")
@click.option("--check-port", is_flag=True,
              help="Only check that HOST:PORT is free, and exit (`make run` does this before the fetch).")
@click.pass_context
def dashboard(context: click.Context, host: str, port: int, check_port: bool) -> None:
    """Serve the evidence dashboard (Streamlit) at http://HOST:PORT until Ctrl-C."""
    import os  # only this command replaces its process; keeps the other commands' imports unchanged

    check_port_free(host, port)
    if check_port:
        return
    settings = command_settings(context)
    if not DASHBOARD_APP_PATH.exists():
        raise TrackerError(f"{DASHBOARD_APP_PATH}: the dashboard's page script is missing; "
                           "run the tracker from its source checkout (pip install -e .)")
    demo = _is_demo_store(settings.db_path)
    what = f"the synthetic demo store {settings.db_path}" if demo else settings.db_path
    click.echo(f"tracker: serving {what} at http://{host}:{port} (Ctrl-C stops it)", err=True)
    sys.stdout.flush()
    sys.stderr.flush()
    command = dashboard_command(settings, host, port, demo=demo)
    try:
        # Become Streamlit rather than wrap it: Ctrl-C, kill or a service manager's stop then reach the server
        # itself, and no orphaned server outlives a stopped `tracker dashboard`.
        os.execv(command[0], command)
    except OSError as error:
        raise TrackerError(f"{command[0]}: cannot start streamlit ({error.strerror}); "
                           "reinstall the tracker with pip install -e .") from None


# --- demo -------------------------------------------------------------------------------------------------------

# A few thousand: enough for every chart to have a shape, fetched in about ten seconds at NCBI's 3 requests a second.
DEMO_RECORD_COUNT = 3000


def _is_demo_store(db_path: Path) -> bool:
    return db_path.resolve() == DEMO_DB_PATH.resolve()


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to serve the dashboard on.")
@click.option("--port", type=click.IntRange(1, 65535), default=8501, show_default=True,
              help="Port to serve the dashboard on.")
@click.option("--records", type=click.IntRange(1, 50_000), default=DEMO_RECORD_COUNT, show_default=True,
              help="How many synthetic records to generate.")
@click.option("--db", "demo_db", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help=f"The demo's own store [default: {DEMO_DB_PATH.relative_to(PROJECT_DIR)}]; never your store.")
@hypotheses_option
@click.pass_context
def demo(context: click.Context, host: str, port: int, records: int, demo_db: Path | None) -> None:
    """Try the tracker without PubMed: synthetic records, fetched from a stand-in on this machine, then the
    dashboard on them, until Ctrl-C."""
    import dataclasses
    import os

    from tracker.demo.corpus import demo_corpus, serve_demo_corpus
    from tracker.demo.standin import EutilsStandin
    from tracker.threads import sigterm_as_ctrl_c

    check_port_free(host, port)
    own_settings = command_settings(context)
    db_path = demo_db or DEMO_DB_PATH
    if not db_path.is_absolute() or Path.cwd() in db_path.parents:
        # As the user would type it from here: `data/demo.sqlite` in the project folder.
        db_path = Path(os.path.relpath(db_path))
    if db_path.exists() and own_settings.db_path.exists() and db_path.samefile(own_settings.db_path):
        raise ConfigError(f"--db {db_path}: that is your store (TRACKER_DB or --db); the demo writes synthetic "
                          f"records only into a store of its own: give another path, or leave --db out")
    db_path.parent.mkdir(parents=True, exist_ok=True)
    say = lambda line: click.echo(f"tracker demo: {line}", err=True)  # noqa: E731
    say(f"SYNTHETIC DATA, not PubMed: {counted(records, 'generated record')}, every title marked "
        f"\"[Synthetic]\", fetched into {db_path}")
    corpus = demo_corpus(own_settings.hypotheses, records)
    # SIGTERM (kill, a service manager) stops the demo as Ctrl-C does: the dashboard and the stand-in with it.
    with sigterm_as_ctrl_c(), EutilsStandin() as server:
        serve_demo_corpus(server, corpus, own_settings.hypotheses)
        say(f"E-utilities stand-in serving them at {server.base_url} (on this machine only)")
        # The real client against the stand-in; the user's NCBI address and key stay with NCBI.
        settings = dataclasses.replace(own_settings, db_path=db_path, eutils_url=server.base_url, email=None,
                                       api_key=None)
        _fetch_and_report(settings)
        say(f"serving the synthetic demo store at http://{host}:{port} (Ctrl-C stops the dashboard and the "
            f"stand-in)")
        say(f"meanwhile, in another terminal: NCBI_EUTILS_URL={server.base_url} {tracker_command()} "
            f"--db {db_path} fetch")
        dashboard_server = subprocess.Popen(dashboard_command(settings, host, port, demo=True))
        try:
            dashboard_server.wait()
        except KeyboardInterrupt:
            pass
        finally:
            _stop(dashboard_server)
    say("stopped the dashboard and the stand-in")


def _stop(process: subprocess.Popen) -> None:
    """Stop a child: terminate it, then kill it if it has not stopped in ten seconds. Ctrl-C in a terminal has
    already reached it (the whole process group gets it), a kill of the demo alone has not: asking again is
    harmless, waiting for it would keep a stopped demo's dashboard serving."""
    for stop in (process.terminate, process.kill):
        stop()
        try:
            process.wait(timeout=10)
            return
        except subprocess.TimeoutExpired:
            continue


def main() -> None:
    """Console-script entry point."""
    # Usage errors end "Try '<prog> export --help'": name the tracker as it can be typed here.
    cli(prog_name=tracker_command())


# The review commands live in their own module (sharing `cli_options` with this one).
cli.add_command(review_group)
