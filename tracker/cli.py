"""The `tracker` command: the only place that prints and exits."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import click

from tracker import store
from tracker.config import Settings, load_settings
from tracker.errors import LockHeld, TrackerError

# Exit codes: 1 for any failure the user must act on, 2 for bad usage (click's own), 3 when another fetch holds the lock.
EXIT_FAILURE = 1
EXIT_LOCKED = 3


def _fail(error: TrackerError) -> None:
    """Print one line naming what went wrong and exit non-zero."""
    click.echo(f"tracker: {error}", err=True)
    sys.exit(EXIT_LOCKED if isinstance(error, LockHeld) else EXIT_FAILURE)


def _settings(context: click.Context) -> Settings:
    options = context.obj
    return load_settings(hypotheses_path=options["hypotheses"], db_path=options["db"])


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
@click.version_option(package_name="fibromyalgia-evidence-tracker")
@click.pass_context
def cli(context: click.Context, hypotheses: Path | None, db: Path | None) -> None:
    """Follow the PubMed evidence for each hypothesised cause of fibromyalgia."""
    context.obj = {"hypotheses": hypotheses, "db": db}


def db_option(function: Callable) -> Callable:
    """Accept --db after the sub-command too (`tracker fetch --db PATH`), as the README shows it."""

    def remember(context: click.Context, _parameter: click.Parameter, value: Path | None) -> Path | None:
        if value is not None:
            context.find_root().obj["db"] = value
        return value

    return click.option("--db", type=click.Path(dir_okay=False, path_type=Path), default=None, expose_value=False,
                        callback=remember, is_eager=True,
                        help="SQLite store (default: TRACKER_DB or data/tracker.sqlite).")(function)


def hypotheses_option(function: Callable) -> Callable:
    """Accept --hypotheses after the sub-command too."""

    def remember(context: click.Context, _parameter: click.Parameter, value: Path | None) -> Path | None:
        if value is not None:
            context.find_root().obj["hypotheses"] = value
        return value

    return click.option("--hypotheses", type=click.Path(dir_okay=False, path_type=Path), default=None,
                        expose_value=False, callback=remember, is_eager=True,
                        help="Hypotheses TOML file.")(function)


# --- fetch / status ---------------------------------------------------------------------------------------------

# --- retag ------------------------------------------------------------------------------------------------------

# --- export / import / feed -------------------------------------------------------------------------------------

# --- schedule ---------------------------------------------------------------------------------------------------

# --- dashboard --------------------------------------------------------------------------------------------------


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="tracker")
