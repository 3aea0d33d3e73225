"""The recurring fetch: an APScheduler cron job under the job lock, or crontab / systemd lines that do the same.

NCBI asks for large jobs between 21:00 and 05:00 US Eastern on weekdays, or at weekends; the default, 02:30
America/New_York, sits inside that window whatever the season, and a schedule that fires outside it gets a warning.

Cron expressions are read here, not by `CronTrigger.from_crontab`: APScheduler 3 numbers weekdays from Monday = 0,
so "1-5" would silently mean Tuesday to Saturday, and it ANDs day-of-month with day-of-week where cron ORs them.
Each field is expanded into the set of values it allows, and the same sets feed the APScheduler trigger, the
crontab line and systemd's OnCalendar, so all three fire at the same times.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import shlex
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger

from tracker import store
from tracker.config import (DEFAULT_CRON, DEFAULT_HYPOTHESES_PATH, DEFAULT_JITTER_S, DEFAULT_TIMEZONE,
                            OFF_PEAK_END_HOUR, OFF_PEAK_START_HOUR, PROJECT_DIR, Settings, load_hypotheses)
from tracker.errors import ConfigError, LockHeld, TrackerError, printable
from tracker.jobs.lock import job_lock, open_own_file
from tracker.threads import leave_stop_signals_to_main_thread, sigterm_as_ctrl_c
from tracker.wording import plural

if TYPE_CHECKING:
    from tracker.jobs.fetch import FetchReport

# A run that starts up to an hour late (the machine slept, the process was busy) still runs; later ones are skipped.
MISFIRE_GRACE_S = 3600
LOG_FILE_NAME = "schedule.log"
UNIT_NAME = "fibromyalgia-tracker"

NCBI_TIMEZONE = ZoneInfo("America/New_York")
# How far ahead the off-peak check looks: a year, so that a UTC schedule that drifts into peak hours when daylight
# saving time starts is caught too.
OFF_PEAK_HORIZON = timedelta(days=366)

_FIELD_NAMES = ("minute", "hour", "day of month", "month", "day of week")
_FIELD_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))
_MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_CRON_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
# systemd and APScheduler both start the week on Monday; cron's numbers (0 or 7 = Sunday) are mapped by name.
_SYSTEMD_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_CRON_PART = re.compile(r"^(?:(\*)|([a-z0-9]+)(?:-([a-z0-9]+))?)(?:/(\d+))?$")
_CRON_HELP = 'write five fields "minute hour day-of-month month day-of-week", e.g. "30 2 * * *" for 02:30 daily'


@dataclass(frozen=True)
class Schedule:
    """A checked cron schedule in a time zone, with its jitter and log file."""

    cron: str
    timezone_name: str
    jitter_s: int
    log_path: Path
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days: tuple[int, ...]
    months: tuple[int, ...]
    weekdays: tuple[int, ...]  # cron numbering: 0 = Sunday
    days_restricted: bool
    weekdays_restricted: bool

    @property
    def zone(self) -> ZoneInfo:
        """The time zone the cron fields are read in."""
        return ZoneInfo(self.timezone_name)

    def trigger(self, *, with_jitter: bool = True) -> BaseTrigger:
        """The APScheduler trigger that fires at the schedule's times (plus up to jitter_s seconds)."""
        jitter_s = self.jitter_s if with_jitter and self.jitter_s else None
        common = {"minute": _listed(self.minutes, 0, 59), "hour": _listed(self.hours, 0, 23),
                  "month": _listed(self.months, 1, 12), "timezone": self.zone}
        days = _listed(self.days, 1, 31)
        weekdays = "*" if len(self.weekdays) == 7 else ",".join(
            _SYSTEMD_DAYS[(day - 1) % 7].lower() for day in self.weekdays)
        if self.days_restricted and self.weekdays_restricted:
            # Cron fires when either day field matches.
            return OrTrigger([CronTrigger(day=days, **common), CronTrigger(day_of_week=weekdays, **common)],
                             jitter=jitter_s)
        return CronTrigger(day=days, day_of_week=weekdays, jitter=jitter_s, **common)


def default_log_path(db_path: Path) -> Path:
    """The scheduler's log file: schedule.log next to the store."""
    return Path(db_path).absolute().parent / LOG_FILE_NAME


def parse_schedule(cron: str, timezone_name: str, jitter_s: int, log_path: Path) -> Schedule:
    """Check a cron expression and a time zone name, raising ConfigError naming the value and the fix."""
    try:
        ZoneInfo(timezone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"--timezone {timezone_name!r} is not a known time zone; use an IANA name such as "
                          f"America/New_York, Europe/London or UTC") from None
    if jitter_s < 0:
        raise ConfigError(f"--jitter-s {jitter_s} is negative; give a number of seconds, 0 for none")
    fields = cron.split()
    if len(fields) != 5:
        raise ConfigError(f"--cron {cron!r} has {len(fields)} fields, not 5; {_CRON_HELP}")
    values = [_expand(cron, index, text) for index, text in enumerate(fields)]
    weekdays = tuple(sorted({day % 7 for day in values[4]}))
    return Schedule(
        cron=" ".join(fields), timezone_name=timezone_name, jitter_s=jitter_s, log_path=Path(log_path).absolute(),
        minutes=values[0], hours=values[1], days=values[2], months=values[3], weekdays=weekdays,
        # As in cron: a day field that starts with "*" does not restrict (so "*/2" ANDs with the other day field).
        days_restricted=not fields[2].startswith("*"), weekdays_restricted=not fields[4].startswith("*"),
    )


def _expand(cron: str, index: int, text: str) -> tuple[int, ...]:
    """The values one cron field allows: "*", "a", "a-b", any of them with "/step", comma-separated."""
    name = _FIELD_NAMES[index]
    low, high = _FIELD_RANGES[index]
    allowed: set[int] = set()
    for part in text.lower().split(","):
        match = _CRON_PART.match(part)
        if match is None:
            raise ConfigError(f"--cron {cron!r}: the {name} field {text!r} is not cron syntax (numbers, names, "
                              f"'*', 'a-b', '/step', commas); {_CRON_HELP}")
        star, start_text, end_text, step_text = match.groups()
        if star:
            start, end = low, high if index != 4 else 6
        else:
            start = _number(cron, index, start_text)
            # "a/step" runs from a to the end of the range, as in Vixie cron.
            end = _number(cron, index, end_text) if end_text else (high if step_text else start)
        step = int(step_text) if step_text else 1
        if not (low <= start <= high and low <= end <= high):
            raise ConfigError(f"--cron {cron!r}: the {name} field {text!r} is outside {low}-{high}; {_CRON_HELP}")
        if start > end or step == 0:
            raise ConfigError(f"--cron {cron!r}: the {name} field {text!r} is an empty range; write it as low-high "
                              f"with a step of at least 1")
        allowed.update(range(start, end + 1, step))
    return tuple(sorted(allowed))


def _number(cron: str, index: int, text: str) -> int:
    if text.isdigit():
        return int(text)
    names = {3: _MONTH_NAMES, 4: _CRON_DAY_NAMES}.get(index, ())
    if text in names:
        return names.index(text) + (1 if index == 3 else 0)
    raise ConfigError(f"--cron {cron!r}: {text!r} is not a valid {_FIELD_NAMES[index]}; {_CRON_HELP}")


def _listed(values: tuple[int, ...], low: int, high: int) -> str:
    """An APScheduler field: "*" for every value, else the values listed."""
    return "*" if values == tuple(range(low, high + 1)) else ",".join(str(value) for value in values)


# --- when it fires ------------------------------------------------------------------------------------------------

def next_fire_times(schedule: Schedule, now: datetime, count: int) -> list[datetime]:
    """The next `count` fire times after `now`, without jitter."""
    trigger = schedule.trigger(with_jitter=False)
    times: list[datetime] = []
    moment = now
    while len(times) < count:
        fire_time = trigger.get_next_fire_time(None, moment)
        if fire_time is None:
            break
        times.append(fire_time)
        moment = fire_time + timedelta(seconds=1)
    return times


def previous_fire_time(schedule: Schedule, now: datetime) -> datetime | None:
    """The last time at or before `now` that the schedule fired (without jitter), or None within four years."""
    trigger = schedule.trigger(with_jitter=False)
    # Widening look-backs: a frequent schedule is settled in the first, a yearly one in the last.
    for look_back in (timedelta(hours=1), timedelta(days=1), timedelta(days=8), timedelta(days=32),
                      timedelta(days=367), timedelta(days=4 * 366)):
        latest = None
        moment = now - look_back
        while (fire_time := trigger.get_next_fire_time(None, moment)) is not None and fire_time <= now:
            latest = fire_time
            moment = fire_time + timedelta(seconds=1)
        if latest is not None:
            return latest
    return None


def catch_up_due(schedule: Schedule, last_success_at: datetime | None, now: datetime) -> bool:
    """True when the store's last successful fetch is older than the schedule's previous fire time.

    A store that never had a successful fetch is not caught up: its first, full sync is the largest job of all
    and waits for the off-peak slot (or for a `tracker fetch` by hand).
    """
    if last_success_at is None:
        return False
    previous = previous_fire_time(schedule, now)
    return previous is not None and last_success_at < previous


def off_peak_warning(schedule: Schedule, now: datetime) -> str | None:
    """A warning when the schedule fires outside NCBI's off-peak hours in the coming year, else None."""
    trigger = schedule.trigger(with_jitter=False)
    moment, end = now, now + OFF_PEAK_HORIZON
    while (fire_time := trigger.get_next_fire_time(None, moment)) is not None and fire_time < end:
        eastern = fire_time.astimezone(NCBI_TIMEZONE)
        if _is_peak(eastern):
            return (f"--cron {schedule.cron!r} in {schedule.timezone_name} fires at peak hours for NCBI, e.g. "
                    f"{eastern:%a %Y-%m-%d %H:%M} US Eastern; NCBI asks for large jobs between 21:00 and 05:00 "
                    f"Eastern on weekdays or at weekends — choose a time in that window, e.g. the default "
                    f"--cron {DEFAULT_CRON!r} --timezone {DEFAULT_TIMEZONE}")
        # Peak and off-peak change only on whole Eastern hours, which are whole UTC hours: skip to the next one.
        utc_time = fire_time.astimezone(timezone.utc)
        moment = utc_time.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    return None


def _is_peak(eastern: datetime) -> bool:
    weekday = eastern.weekday() < 5
    return weekday and OFF_PEAK_END_HOUR <= eastern.hour < OFF_PEAK_START_HOUR


def last_successful_fetch(db_path: Path) -> datetime | None:
    """When the last fetch run that succeeded finished, from the store (None without one)."""
    if not Path(db_path).exists():
        return None
    # Read-only: the scheduler only looks; the fetch it starts is the job that may migrate the store.
    with store.reading(db_path) as connection:
        run = store.load_last_successful_run(connection)
    return datetime.fromisoformat(str(run["finished_at"])) if run and run["finished_at"] else None


# --- running ------------------------------------------------------------------------------------------------------

# `tracker.fetch.run_fetch` in use; a stand-in in tests.
FetchFunction = Callable[[Settings], "FetchReport"]


def run_scheduled_fetch(settings: Settings, fetch: FetchFunction, log: logging.Logger) -> str:
    """`run_locked_fetch` in the scheduler's worker thread, which leaves Ctrl-C and kill to the main thread: there
    the scheduler waits, for hours, for its next run time."""
    leave_stop_signals_to_main_thread()
    return run_locked_fetch(settings, fetch, log)


def run_locked_fetch(settings: Settings, fetch: FetchFunction, log: logging.Logger) -> str:
    """Run one fetch under the job lock and log its outcome: "succeeded", "failed" or "locked".

    The hypotheses file is read again first, as each `tracker fetch` reads it. Nothing escapes: a scheduled job
    that raised would be logged by APScheduler without the run's story, and the scheduler must live on to the next
    night.
    """
    log.info("fetch starting (store %s)", settings.db_path)
    try:
        # A scheduler runs for months: with the file as it was at start-up, a run after an edit would sync the old
        # queries and re-tag, with the old terms, every article that `tracker retag` had tagged with the new ones.
        settings = dataclasses.replace(settings, hypotheses=load_hypotheses(settings.hypotheses_path))
        with job_lock(settings.db_path):
            report = fetch(settings)
    except LockHeld as error:
        log.warning("fetch skipped: %s", error)
        return "locked"
    except TrackerError as error:
        log.error("fetch failed: %s", error)
        return "failed"
    except Exception:  # noqa: BLE001 - see the docstring: log it whole and keep the scheduler alive
        log.exception("fetch failed with an unexpected error")
        return "failed"
    new = sum(outcome.new_count for outcome in report.outcomes)
    updated = sum(outcome.updated_count for outcome in report.outcomes)
    removed = sum(outcome.removed_count for outcome in report.outcomes)
    summary = (f"fetch run {report.run_id} {report.status}: {new} new, {updated} updated, {removed} removed; "
               f"{report.esearch_requests} esearch + {report.efetch_requests} efetch "
               f"{plural(report.esearch_requests + report.efetch_requests, 'request')} in "
               f"{report.elapsed_s:.1f} s")
    if report.succeeded:
        log.info(summary)
        return "succeeded"
    log.error("%s; %s", summary, report.error)
    return "failed"


def add_fetch_job(scheduler: BaseScheduler, settings: Settings, schedule: Schedule, fetch: FetchFunction,
                  log: logging.Logger, now: datetime) -> bool:
    """Add the nightly fetch to a scheduler, due at once when a run was missed; return whether it catches up."""
    catch_up = catch_up_due(schedule, last_successful_fetch(settings.db_path), now)
    trigger = schedule.trigger()
    # The first run time comes from the injected clock, not from APScheduler's own reading of the wall clock, so
    # that the schedule a caller computed for `now` is the one the scheduler keeps.
    next_run_time = now if catch_up else trigger.get_next_fire_time(None, now)
    scheduler.add_job(run_scheduled_fetch, trigger, args=(settings, fetch, log), id="fetch",
                      name="tracker fetch", max_instances=1, coalesce=True, misfire_grace_time=MISFIRE_GRACE_S,
                      replace_existing=True, next_run_time=next_run_time)
    return catch_up


def run_scheduler(settings: Settings, schedule: Schedule, fetch: FetchFunction) -> None:
    """Run the fetch at the schedule's times until interrupted (Ctrl-C, or SIGTERM from kill or a service manager),
    catching up a missed run at start-up."""
    log, close_log = open_log(settings, schedule.log_path)
    scheduler = BlockingScheduler(timezone=schedule.zone)
    # SIGTERM stops it as Ctrl-C does, the fetch under way finishing its run, rather than ending the process in the
    # middle of it.
    with sigterm_as_ctrl_c():
        try:
            now = datetime.now(timezone.utc)
            warning = off_peak_warning(schedule, now)
            if warning:
                log.warning(warning)
            upcoming = next_fire_times(schedule, now, 1)
            log.info("scheduler started: --cron %r --timezone %s, up to %d s of jitter; next run %s",
                     schedule.cron, schedule.timezone_name, schedule.jitter_s, upcoming[0] if upcoming else "never")
            if add_fetch_job(scheduler, settings, schedule, fetch, log, now):
                log.info("the last successful fetch is older than the previous scheduled time %s: catching up now",
                         previous_fire_time(schedule, now))
            scheduler.start()
        except KeyboardInterrupt:
            log.info("scheduler stopping: a fetch under way finishes its run first")
            raise
        finally:
            # The fetch runs in a worker thread that the interpreter waits for at exit anyway: wait here instead,
            # while the log is still open, so that the run's outcome reaches it.
            if scheduler.running:
                scheduler.shutdown(wait=True)
            close_log()


def run_once(settings: Settings, schedule: Schedule, fetch: FetchFunction) -> str:
    """Run one fetch under the job lock, logging to the schedule's log and stderr; return its outcome."""
    log, close_log = open_log(settings, schedule.log_path, echo=True)
    try:
        return run_locked_fetch(settings, fetch, log)
    finally:
        close_log()


class _RedactSecrets(logging.Filter):
    """Blank out the API key, e-mail and URL password wherever they would reach the log, whatever logged them."""

    def __init__(self, secrets: Iterable[str | None]) -> None:
        super().__init__()
        self._secrets = [secret for secret in secrets if secret]

    def filter(self, record: logging.LogRecord) -> bool:
        if self._secrets:
            message = record.getMessage()
            for secret in self._secrets:
                message = message.replace(secret, "[redacted]")
            record.msg, record.args = message, None
            if record.exc_info:
                text = logging.Formatter().formatException(record.exc_info)
                for secret in self._secrets:
                    text = text.replace(secret, "[redacted]")
                record.exc_info, record.exc_text = None, text
        return True


class _UtcFormatter(logging.Formatter):
    converter = staticmethod(lambda seconds: datetime.fromtimestamp(seconds, timezone.utc).timetuple())


def open_log(settings: Settings, log_path: Path, *, echo: bool = False) -> tuple[logging.Logger, Callable[[], None]]:
    """Send the tracker's and APScheduler's log records to the log file (and stderr); return the logger and a closer."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    # Appended through our own checked descriptor, not FileHandler's open(), which would follow a planted symlink.
    descriptor = open_own_file(log_path, os.O_WRONLY | os.O_APPEND, "the scheduler's log", "open the scheduler's log")
    log_file = open(descriptor, "a", encoding="utf-8")
    handlers: list[logging.Handler] = [logging.StreamHandler(log_file)]
    if echo:
        handlers.append(logging.StreamHandler(sys.stderr))
    for handler in handlers:
        handler.setFormatter(_UtcFormatter("%(asctime)sZ %(levelname)s %(name)s: %(message)s", "%Y-%m-%dT%H:%M:%S"))
        handler.addFilter(_RedactSecrets([settings.api_key, settings.email, *settings.url_secrets]))
    loggers = [logging.getLogger("tracker"), logging.getLogger("apscheduler")]
    previous_levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.INFO)
        for handler in handlers:
            logger.addHandler(handler)

    def close() -> None:
        for logger, level in zip(loggers, previous_levels):
            logger.setLevel(level)
            for handler in handlers:
                logger.removeHandler(handler)
        for handler in handlers:
            handler.close()
        log_file.close()

    return logging.getLogger("tracker.schedule"), close


# --- crontab and systemd --------------------------------------------------------------------------------------------

def tracker_command(settings: Settings) -> list[str]:
    """The absolute command that runs `tracker fetch` on this store, as the scheduled job does."""
    executable = Path(sys.executable).absolute()
    script = executable.parent / "tracker"
    command = [str(script)] if script.exists() else [str(executable), "-m", "tracker"]
    command += ["--db", str(Path(settings.db_path).absolute())]
    if settings.hypotheses_path.resolve() != DEFAULT_HYPOTHESES_PATH.resolve():
        command += ["--hypotheses", str(settings.hypotheses_path.absolute())]
    return command + ["fetch"]


def cron_text(settings: Settings, schedule: Schedule) -> str:
    """A crontab entry (with CRON_TZ) that runs the fetch at the schedule's times, for `crontab -e`."""
    _refuse_control_characters(settings, schedule, "crontab line")
    command = " ".join(_cron_quote(part) for part in tracker_command(settings))
    # shuf rather than $RANDOM: cron runs /bin/sh, and a bare "%" would end the command in a crontab line.
    delay = f"sleep $(shuf -i 0-{schedule.jitter_s} -n 1) && " if schedule.jitter_s else ""
    log = _cron_quote(str(schedule.log_path))
    return "\n".join([
        "# fibromyalgia evidence tracker: fetch new PubMed records at an off-peak time for NCBI",
        "# Install with `crontab -e`. Put NCBI_EMAIL=... and NCBI_API_KEY=... lines above this one (never printed here).",
        "# CRON_TZ needs cronie (Fedora, Arch, RHEL); Debian's cron ignores it: there, write the time in the machine's zone.",
        f"CRON_TZ={schedule.timezone_name}",
        f"{schedule.cron} cd {_cron_quote(str(PROJECT_DIR))} && {delay}{command} >> {log} 2>&1",
    ]) + "\n"


def _cron_quote(text: str) -> str:
    # A bare "%" in a crontab command is a newline.
    return shlex.quote(text).replace("%", "\\%")


def _refuse_control_characters(settings: Settings, schedule: Schedule, target: str) -> None:
    """Refuse a path holding a control character: no quoting keeps a newline from ending a crontab or unit line."""
    paths = [("--db", Path(settings.db_path).absolute()), ("--hypotheses", settings.hypotheses_path.absolute()),
             ("--log-file", schedule.log_path), ("the Python running the tracker", Path(sys.executable).absolute()),
             ("the project folder", PROJECT_DIR)]
    for name, path in paths:
        controls = [character for character in str(path) if printable(character) != character]
        if controls:
            raise ConfigError(f"{name} '{printable(str(path))}': a path with a control character "
                              f"({printable(controls[0])}) cannot be written into a {target} safely; rename it or "
                              "give another path")


def systemd_calendars(schedule: Schedule) -> list[str]:
    """OnCalendar values for the schedule (two when cron's either-day rule needs both day fields)."""
    time_part = f"{_systemd_values(schedule.hours, 0, 23, 2)}:{_systemd_values(schedule.minutes, 0, 59, 2)}:00"
    months = _systemd_values(schedule.months, 1, 12, 2)
    days = _systemd_values(schedule.days, 1, 31, 2)
    weekdays = _systemd_weekdays(schedule.weekdays)
    zone = schedule.timezone_name
    if schedule.days_restricted and schedule.weekdays_restricted:
        return [f"*-{months}-{days} {time_part} {zone}", f"{weekdays} *-{months}-* {time_part} {zone}"]
    both = f"{weekdays} " if len(schedule.weekdays) < 7 else ""
    return [f"{both}*-{months}-{days} {time_part} {zone}"]


def _systemd_values(values: tuple[int, ...], low: int, high: int, width: int) -> str:
    if values == tuple(range(low, high + 1)):
        return "*"
    return ",".join(_runs(values, lambda value: f"{value:0{width}d}"))


def _systemd_weekdays(cron_weekdays: tuple[int, ...]) -> str:
    monday_first = tuple(sorted((day - 1) % 7 for day in cron_weekdays))
    return ",".join(_runs(monday_first, lambda index: _SYSTEMD_DAYS[index]))


def _runs(values: tuple[int, ...], show: Callable[[int], str]) -> list[str]:
    """Sorted values with runs of three or more written as "a..b", the rest one by one."""
    groups: list[list[int]] = []
    for value in values:
        if groups and value == groups[-1][-1] + 1:
            groups[-1].append(value)
        else:
            groups.append([value])
    parts: list[str] = []
    for group in groups:
        parts += [f"{show(group[0])}..{show(group[-1])}"] if len(group) >= 3 else [show(value) for value in group]
    return parts


def systemd_units(settings: Settings, schedule: Schedule) -> tuple[str, str]:
    """The text of a .service and a .timer unit that run the fetch at the schedule's times."""
    _refuse_control_characters(settings, schedule, "systemd unit")
    command = " ".join(_systemd_quote(part) for part in tracker_command(settings))
    # StandardOutput's "append:" and WorkingDirectory take a path as written: quotes would become part of it.
    log = _systemd_path(schedule.log_path)
    service = "\n".join([
        "[Unit]",
        "Description=Fibromyalgia evidence tracker: fetch new PubMed records",
        "Wants=network-online.target",
        "After=network-online.target",
        "",
        "[Service]",
        "Type=oneshot",
        f"WorkingDirectory={_systemd_path(PROJECT_DIR)}",
        "# NCBI_EMAIL=... and NCBI_API_KEY=... lines go in this file (chmod 600); they are never printed here.",
        f"EnvironmentFile=-%h/.config/{UNIT_NAME}.env",
        f"ExecStart={command}",
        f"StandardOutput=append:{log}",
        f"StandardError=append:{log}",
    ]) + "\n"
    timer_lines = [
        "[Unit]",
        "Description=Fibromyalgia evidence tracker: daily fetch at an off-peak time for NCBI",
        "",
        "[Timer]",
        *(f"OnCalendar={calendar}" for calendar in systemd_calendars(schedule)),
        "# A run missed while the machine was off starts at the next boot.",
        "Persistent=true",
    ]
    if schedule.jitter_s:
        timer_lines.append(f"RandomizedDelaySec={schedule.jitter_s}")
    timer = "\n".join([*timer_lines, "", "[Install]", "WantedBy=timers.target"]) + "\n"
    return service, timer


def systemd_text(settings: Settings, schedule: Schedule) -> str:
    """Both units with the paths to save them at and the commands that enable them."""
    service, timer = systemd_units(settings, schedule)
    return (f"# ~/.config/systemd/user/{UNIT_NAME}.service\n{service}\n"
            f"# ~/.config/systemd/user/{UNIT_NAME}.timer\n{timer}\n"
            f"# then: systemctl --user daemon-reload && systemctl --user enable --now {UNIT_NAME}.timer\n"
            f"# and, to run while logged out: loginctl enable-linger $USER\n")


def _systemd_quote(text: str) -> str:
    """One ExecStart word: "%" starts a specifier ("%%" is one), "$" a variable ("$$" is one), C escapes apply."""
    text = text.replace("%", "%%").replace("$", "$$")
    if re.fullmatch(r"[A-Za-z0-9_./:@%+=,-]+", text):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _systemd_path(path: Path) -> str:
    """A path for a setting that takes it unquoted: only specifiers need escaping."""
    text = str(path)
    if text != text.strip() or text.endswith("\\"):
        # Unit files strip the ends of a value and join a line ending in a backslash to the next.
        raise ConfigError(f"'{text}': a path that ends in a space or a backslash cannot be written into a systemd "
                          "unit; rename it or give another path")
    return text.replace("%", "%%")
