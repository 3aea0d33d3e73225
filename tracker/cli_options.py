"""What the `tracker` commands share: the --db, --hypotheses and -o options, the settings they build, the clock,
writing a command's output, and its tables.

Apart from `cli` so that the command modules (`cli`, `review_cli`) import it one way, never each other.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import click

from tracker.config import Settings, load_settings


def current_time() -> datetime:
    """The clock the commands read, in one place so that a test can pin it."""
    return datetime.now(timezone.utc)


def command_settings(context: click.Context) -> Settings:
    """The settings of the --hypotheses and --db options given anywhere on the command line (or their defaults)."""
    options = context.obj
    return load_settings(hypotheses_path=options["hypotheses"], db_path=options["db"])


def db_option(function: Callable) -> Callable:
    """Accept --db after the sub-command too (`tracker fetch --db PATH`), as docs/ shows it."""

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

    # Named apart from the filters' "hypotheses" (the ids --hypothesis gives), which a command may also take.
    return click.option("--hypotheses", "hypotheses_file", type=click.Path(dir_okay=False, path_type=Path),
                        default=None, expose_value=False, callback=remember, is_eager=True,
                        help="Hypotheses TOML file.")(function)


def output_option(function: Callable) -> Callable:
    """-o FILE, as export, evidence and feed take it; `-o -` is standard output, as no -o is."""

    def standard_output_as_none(_context: click.Context, _parameter: click.Parameter,
                                value: Path | None) -> Path | None:
        return None if value is not None and str(value) == "-" else value

    return click.option(
        "-o", "--output", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path), default=None,
        metavar="FILE", callback=standard_output_as_none,
        help="Write to FILE instead of standard output (- is standard output). A file is replaced only once "
             "complete and keeps its permissions; a symbolic link is followed (the file it points to is replaced, "
             "the link kept); a device or FIFO such as /dev/stdout is written straight.")(function)


def write_command_output(output: Path | None, write: Callable, *, binary: bool = False) -> object:
    """Call write(stream) on standard output, or on OUTPUT as `outputs.files.write_output` writes a file."""
    from tracker.outputs.files import write_output

    if output is not None:
        return write_output(output, write, binary=binary)
    sys.stdout.flush()
    raw = sys.stdout.buffer
    if binary:
        result = write(raw)
        raw.flush()
        return result
    stream = io.TextIOWrapper(raw, encoding="utf-8", newline="")
    try:
        return write(stream)
    finally:
        stream.flush()
        stream.detach()  # leave the real stdout open for click


def text_table(rows: list[dict[str, object]], columns: list[str]) -> str:
    """Rows as a plain-text table, each column as wide as its widest cell."""
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) if rows else len(c) for c in columns}
    lines = ["  ".join(c.ljust(widths[c]) for c in columns)]
    lines += ["  ".join(str(r[c]).ljust(widths[c]) for c in columns) for r in rows]
    return "\n".join(lines)
