"""The schedule: cron reading, off-peak warnings, catch-up with an injected clock, the locked job, cron/systemd text."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from click.testing import CliRunner
from croniter import croniter
from support.standin import EutilsStandin
from support.synthetic import synthetic_corpus
from support.threads import blocked_signals

from tracker.jobs import schedule as scheduling
from tracker import store
from tracker.cli import cli
from tracker.config import PROJECT_DIR, load_settings
from tracker.errors import ConfigError, EutilsError, StoreError
from tracker.jobs.fetch import FetchReport, HypothesisOutcome
from tracker.jobs.schedule import parse_schedule

UTC = timezone.utc
# A Wednesday away from daylight-saving changes, so that cron tools agree on every fire time that follows.
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
API_KEY = "0123456789abcdef0123456789abcdef0123"
EMAIL = "researcher@example.org"


def _plan(cron: str = "30 2 * * *", timezone_name: str = "America/New_York", jitter_s: int = 0,
          log_path: Path = Path("/tmp/schedule.log")) -> scheduling.Schedule:
    return parse_schedule(cron, timezone_name, jitter_s, log_path)


# --- reading cron expressions ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("cron", "expected"), [
    ("30 2 * * *", ((30,), (2,), tuple(range(1, 32)), tuple(range(1, 13)), tuple(range(7)), False, False)),
    ("*/15 21-23,0-4 * * 1-5",
     ((0, 15, 30, 45), (0, 1, 2, 3, 4, 21, 22, 23), tuple(range(1, 32)), tuple(range(1, 13)), (1, 2, 3, 4, 5),
      False, True)),
    # 7 is Sunday as well as 0; names in any case; "a/step" runs to the end of the field's range.
    ("0 3 1,15 JAN-mar sat,7", ((0,), (3,), (1, 15), (1, 2, 3), (0, 6), True, True)),
    ("5/20 0-12/6 */10 */4 *",
     ((5, 25, 45), (0, 6, 12), (1, 11, 21, 31), (1, 5, 9), tuple(range(7)), False, False)),
    ("0 0 * * */2", ((0,), (0,), tuple(range(1, 32)), tuple(range(1, 13)), (0, 2, 4, 6), False, False)),
])
def test_cron_fields_expand_to_their_values(cron: str, expected: tuple) -> None:
    plan = _plan(cron)
    assert (plan.minutes, plan.hours, plan.days, plan.months, plan.weekdays, plan.days_restricted,
            plan.weekdays_restricted) == expected


@pytest.mark.parametrize(("cron", "timezone_name", "message"), [
    ("30 2 * *", "UTC", "--cron '30 2 * *' has 4 fields, not 5; write five fields"),
    ("@daily", "UTC", "--cron '@daily' has 1 fields, not 5"),
    ("61 2 * * *", "UTC", "--cron '61 2 * * *': the minute field '61' is outside 0-59"),
    ("0 24 * * *", "UTC", "the hour field '24' is outside 0-23"),
    ("0 2 0 * *", "UTC", "the day of month field '0' is outside 1-31"),
    ("0 2 * 13 *", "UTC", "the month field '13' is outside 1-12"),
    ("0 2 * * 8", "UTC", "the day of week field '8' is outside 0-7"),
    ("0 2 * * mon-xyz", "UTC", "'xyz' is not a valid day of week"),
    ("0 2 * jan-feb/0 *", "UTC", "the month field 'jan-feb/0' is an empty range"),
    ("0 5-2 * * *", "UTC", "the hour field '5-2' is an empty range"),
    ("0 2 ? * *", "UTC", "the day of month field '?' is not cron syntax"),
    ("0 2 L * *", "UTC", "'l' is not a valid day of month"),
    ("30 2 * * *", "Eastern Time", "--timezone 'Eastern Time' is not a known time zone; use an IANA name"),
    ("30 2 * * *", "Mars/Olympus_Mons", "--timezone 'Mars/Olympus_Mons' is not a known time zone"),
])
def test_bad_cron_or_time_zone_is_a_config_error_naming_it(cron: str, timezone_name: str, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_schedule(cron, timezone_name, 0, Path("/tmp/schedule.log"))
    assert message in str(raised.value)


SCHEDULES = [
    ("30 2 * * *", "America/New_York"),
    ("*/20 21-23 * * 1-5", "America/New_York"),
    ("0 3 * * 0,6", "Europe/London"),
    ("15 4 1,15 * 5", "UTC"),  # cron's either-day rule: the 1st, the 15th and every Friday
    ("45 23 */10 * *", "Asia/Kolkata"),
    ("0 1 * jan,dec sun", "America/New_York"),
]


def _utc(times: list[datetime]) -> list[datetime]:
    return [moment.astimezone(UTC) for moment in times]


@pytest.mark.parametrize(("cron", "timezone_name"), SCHEDULES)
def test_scheduler_fires_when_cron_would(cron: str, timezone_name: str) -> None:
    expected = croniter(cron, NOW.astimezone(ZoneInfo(timezone_name)))
    assert _utc(scheduling.next_fire_times(_plan(cron, timezone_name), NOW, 25)) == _utc(
        [expected.get_next(datetime) for _ in range(25)])


# --- crontab and systemd text ---------------------------------------------------------------------------------------

@pytest.fixture
def settings(tmp_path: Path):
    return load_settings(db_path=tmp_path / "data" / "tracker.sqlite")


@pytest.fixture
def venv_python(monkeypatch, tmp_path: Path) -> Path:
    """A virtualenv's python without the `tracker` script (the project not pip-installed) as sys.executable."""
    python = tmp_path / "venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text("")
    monkeypatch.setattr(sys, "executable", str(python))
    return python


@pytest.mark.parametrize(("installed", "expected_start"), [(True, ["{bin}/tracker"]),
                                                           (False, ["{bin}/python", "-m", "tracker"])])
def test_tracker_command_is_absolute_and_prefers_the_installed_script(settings, venv_python: Path, tmp_path: Path,
                                                                      installed: bool,
                                                                      expected_start: list[str]) -> None:
    if installed:
        (venv_python.parent / "tracker").write_text("")
    start = [part.format(bin=venv_python.parent) for part in expected_start]
    assert scheduling.tracker_command(settings) == [*start, "--db", str(tmp_path / "data" / "tracker.sqlite"), "fetch"]

    custom = load_settings(hypotheses_path=PROJECT_DIR / "tracker" / "hypotheses.toml", db_path=Path("rel.sqlite"))
    assert scheduling.tracker_command(custom) == [*start, "--db", str(Path.cwd() / "rel.sqlite"), "fetch"]

    own_file = tmp_path / "my-hypotheses.toml"
    own_file.write_bytes((PROJECT_DIR / "tracker" / "hypotheses.toml").read_bytes())
    own = load_settings(hypotheses_path=own_file, db_path=tmp_path / "t.sqlite")
    assert scheduling.tracker_command(own) == [*start, "--db", str(tmp_path / "t.sqlite"), "--hypotheses",
                                               str(own_file), "fetch"]


@pytest.mark.parametrize(("cron", "timezone_name"), SCHEDULES)
def test_cron_text_is_a_valid_crontab_entry(settings, venv_python: Path, tmp_path: Path, cron: str,
                                            timezone_name: str) -> None:
    plan = parse_schedule(cron, timezone_name, 900, tmp_path / "data" / "schedule.log")
    lines = [line for line in scheduling.cron_text(settings, plan).splitlines() if not line.startswith("#")]

    assert lines[0] == f"CRON_TZ={timezone_name}"
    entry = lines[1].split()
    assert croniter.is_valid(" ".join(entry[:5]))
    first = croniter(" ".join(entry[:5]), NOW.astimezone(ZoneInfo(timezone_name))).get_next(datetime)
    assert _utc([first]) == _utc(scheduling.next_fire_times(plan, NOW, 1))
    command = " ".join(entry[5:])
    assert command == (
        f"cd {PROJECT_DIR} && sleep $(shuf -i 0-900 -n 1) && {venv_python} -m tracker "
        f"--db {tmp_path}/data/tracker.sqlite fetch >> {tmp_path}/data/schedule.log 2>&1")
    assert subprocess.run(["sh", "-n", "-c", command]).returncode == 0


def test_cron_text_escapes_percent_signs_and_omits_zero_jitter(tmp_path: Path) -> None:
    settings = load_settings(db_path=tmp_path / "100% data" / "tracker.sqlite")
    plan = parse_schedule("30 2 * * *", "America/New_York", 0, tmp_path / "100% data" / "schedule.log")
    entry = scheduling.cron_text(settings, plan).splitlines()[-1]
    assert "sleep" not in entry
    assert f"--db '{tmp_path}/100\\% data/tracker.sqlite' fetch >> '{tmp_path}/100\\% data/schedule.log' 2>&1" in entry


def test_secrets_never_reach_the_printed_schedules(tmp_path: Path) -> None:
    settings = load_settings(db_path=tmp_path / "tracker.sqlite",
                             environ={"NCBI_API_KEY": API_KEY, "NCBI_EMAIL": EMAIL})
    plan = _plan(log_path=tmp_path / "schedule.log")
    text = scheduling.cron_text(settings, plan) + scheduling.systemd_text(settings, plan)
    assert API_KEY not in text and EMAIL not in text


def _unit_sections(text: str) -> dict[str, list[tuple[str, str]]]:
    """Read a unit file the way systemd does: [Section] headers, Key=Value lines, # comments, repeated keys kept."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current = None
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], [])
            continue
        key, separator, value = line.partition("=")
        assert separator and current is not None, f"not a unit file line: {line!r}"
        current.append((key, value))
    return sections


def test_systemd_units(settings, venv_python: Path, tmp_path: Path) -> None:
    plan = parse_schedule("30 2 * * *", "America/New_York", 600, tmp_path / "data" / "schedule.log")
    service, timer = scheduling.systemd_units(settings, plan)

    assert _unit_sections(service) == {
        "Unit": [("Description", "Fibromyalgia evidence tracker: fetch new PubMed records"),
                 ("Wants", "network-online.target"), ("After", "network-online.target")],
        "Service": [("Type", "oneshot"), ("WorkingDirectory", str(PROJECT_DIR)),
                    ("EnvironmentFile", "-%h/.config/fibromyalgia-tracker.env"),
                    ("ExecStart", f"{venv_python} -m tracker --db {tmp_path}/data/tracker.sqlite fetch"),
                    ("StandardOutput", f"append:{tmp_path}/data/schedule.log"),
                    ("StandardError", f"append:{tmp_path}/data/schedule.log")],
    }
    assert _unit_sections(timer) == {
        "Unit": [("Description", "Fibromyalgia evidence tracker: daily fetch at an off-peak time for NCBI")],
        "Timer": [("OnCalendar", "*-*-* 02:30:00 America/New_York"), ("Persistent", "true"),
                  ("RandomizedDelaySec", "600")],
        "Install": [("WantedBy", "timers.target")],
    }
    text = scheduling.systemd_text(settings, plan)
    assert text.startswith("# ~/.config/systemd/user/fibromyalgia-tracker.service\n[Unit]\n")
    assert "# ~/.config/systemd/user/fibromyalgia-tracker.timer\n[Unit]\n" in text


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
@pytest.mark.parametrize("cron", ["30 2 * * *", "15 4 1,15 * 5"])
def test_systemd_analyze_verifies_the_units(settings, tmp_path: Path, cron: str) -> None:
    plan = parse_schedule(cron, "America/New_York", 600, tmp_path / "data" / "schedule.log")
    service, timer = scheduling.systemd_units(settings, plan)
    units = tmp_path / "units"
    units.mkdir()
    (units / "fibromyalgia-tracker.service").write_text(service)
    (units / "fibromyalgia-tracker.timer").write_text(timer)
    result = subprocess.run(["systemd-analyze", "verify", "--man=no", "./fibromyalgia-tracker.timer",
                             "./fibromyalgia-tracker.service"], cwd=units, capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


@pytest.mark.parametrize(("cron", "timezone_name", "calendars"), [
    ("30 2 * * *", "America/New_York", ["*-*-* 02:30:00 America/New_York"]),
    ("*/20 21-23 * * 1-5", "America/New_York", ["Mon..Fri *-*-* 21..23:00,20,40:00 America/New_York"]),
    ("0 3 * * 0,6", "Europe/London", ["Sat,Sun *-*-* 03:00:00 Europe/London"]),
    ("15 4 1,15 * 5", "UTC", ["*-*-01,15 04:15:00 UTC", "Fri *-*-* 04:15:00 UTC"]),
    ("45 23 */10 * *", "Asia/Kolkata", ["*-*-01,11,21,31 23:45:00 Asia/Kolkata"]),
    ("0 1 * jan,dec sun", "America/New_York", ["Sun *-01,12-* 01:00:00 America/New_York"]),
    # A day field starting with "*" does not count as restricted: cron then wants both day fields to match.
    ("0 0 */10 * */2", "UTC", ["Tue,Thu,Sat,Sun *-*-01,11,21,31 00:00:00 UTC"]),
])
def test_systemd_calendars(cron: str, timezone_name: str, calendars: list[str]) -> None:
    assert scheduling.systemd_calendars(_plan(cron, timezone_name)) == calendars


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
@pytest.mark.parametrize(("cron", "timezone_name"), [*SCHEDULES, ("0 0 */10 * */2", "UTC"), ("0 6 */2 * 1", "UTC")])
def test_systemd_analyze_agrees_with_the_scheduler(cron: str, timezone_name: str) -> None:
    plan = _plan(cron, timezone_name)
    # One clock for both sides: systemd-analyze counts from the same moment as the scheduler, whatever the date
    # (a faked clock does not reach it: the environment given to it is bare).
    now = datetime.now(UTC).replace(microsecond=0)
    elapses: list[datetime] = []
    for calendar in scheduling.systemd_calendars(plan):
        result = subprocess.run(["systemd-analyze", "calendar", "--iterations=12",
                                 f"--base-time=@{int(now.timestamp())}", calendar],
                                capture_output=True, text=True, env={"TZ": "UTC", "PATH": "/usr/bin:/bin"})
        assert result.returncode == 0, result.stderr
        assert "Normalized form:" in result.stdout
        for line in result.stdout.splitlines():
            label, _, moment = line.strip().partition(": ")
            if label in ("Next elapse", "(in UTC)") or label.startswith("Iter. #"):
                parsed = datetime.strptime(moment.removesuffix(" UTC")[4:], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
                if parsed not in elapses:
                    elapses.append(parsed)
    # On a day the clocks change, a time that day skips (02:30 on the spring-forward night) is run by the scheduler
    # at the first moment after the gap and skipped by systemd: docs/scheduling.md says so. Compare the other days.
    zone = ZoneInfo(timezone_name)
    systemd_times = [moment for moment in sorted(elapses) if not _clocks_change_that_day(moment, zone)]
    scheduler_times = [moment for moment in _utc(scheduling.next_fire_times(plan, now, 16))
                       if not _clocks_change_that_day(moment, zone)]
    assert len(systemd_times) >= 10 and systemd_times[:10] == scheduler_times[:10]


def _clocks_change_that_day(moment: datetime, zone: ZoneInfo) -> bool:
    day = moment.astimezone(zone).date()
    midnight = datetime(day.year, day.month, day.day, tzinfo=zone)
    return midnight.utcoffset() != datetime(day.year, day.month, day.day, 23, 59, tzinfo=zone).utcoffset()


# --- off-peak hours -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("cron", "timezone_name", "peak_example"), [
    ("30 2 * * *", "America/New_York", None),
    ("*/20 21-23 * * 1-5", "America/New_York", None),
    ("0 12 * * sat,sun", "America/New_York", None),
    ("0 3 * * *", "Europe/London", None),  # 22:00 Eastern the evening before
    ("59 20 * * *", "America/New_York", "Wed 2026-11-25 20:59"),
    ("0 5 * * *", "America/New_York", "Thu 2026-11-26 05:00"),
    ("0 12 * * *", "America/New_York", "Wed 2026-11-25 12:00"),
    # 04:30 Eastern in winter, 05:30 once daylight saving time starts in March.
    ("30 9 * * *", "UTC", "Mon 2027-03-15 05:30"),
    ("0 22 * * *", "Asia/Tokyo", "Wed 2026-11-25 08:00"),
])
def test_off_peak_warning(cron: str, timezone_name: str, peak_example: str | None) -> None:
    warning = scheduling.off_peak_warning(_plan(cron, timezone_name), NOW)
    if peak_example is None:
        assert warning is None
    else:
        assert warning == (
            f"--cron {cron!r} in {timezone_name} fires at peak hours for NCBI, e.g. {peak_example} US Eastern; NCBI "
            "asks for large jobs between 21:00 and 05:00 Eastern on weekdays or at weekends — choose a time in that "
            "window, e.g. the default --cron '30 2 * * *' --timezone America/New_York")


# --- catch-up with an injected clock --------------------------------------------------------------------------------

@pytest.mark.parametrize(("cron", "now", "expected"), [
    ("30 2 * * *", datetime(2026, 11, 25, 12, 0, tzinfo=UTC), datetime(2026, 11, 25, 7, 30, tzinfo=UTC)),
    ("30 2 * * *", datetime(2026, 11, 25, 7, 30, tzinfo=UTC), datetime(2026, 11, 25, 7, 30, tzinfo=UTC)),
    ("30 2 * * *", datetime(2026, 11, 25, 7, 29, tzinfo=UTC), datetime(2026, 11, 24, 7, 30, tzinfo=UTC)),
    ("0 3 * * 0", datetime(2026, 11, 25, 12, 0, tzinfo=UTC), datetime(2026, 11, 22, 8, 0, tzinfo=UTC)),
    ("0 3 1 1 *", datetime(2026, 11, 25, 12, 0, tzinfo=UTC), datetime(2026, 1, 1, 8, 0, tzinfo=UTC)),
    ("*/5 * * * *", datetime(2026, 11, 25, 12, 7, 30, tzinfo=UTC), datetime(2026, 11, 25, 12, 5, tzinfo=UTC)),
    ("0 0 29 2 *", datetime(2026, 11, 25, 12, 0, tzinfo=UTC), datetime(2024, 2, 29, 5, 0, tzinfo=UTC)),
])
def test_previous_fire_time(cron: str, now: datetime, expected: datetime) -> None:
    assert scheduling.previous_fire_time(_plan(cron), now).astimezone(UTC) == expected


@pytest.mark.parametrize(("last_success_at", "due"), [
    (None, False),  # never fetched: the first, full sync waits for the off-peak slot
    (datetime(2026, 11, 24, 7, 45, tzinfo=UTC), True),  # yesterday's run; today's 02:30 was missed
    (datetime(2026, 11, 25, 7, 29, tzinfo=UTC), True),
    (datetime(2026, 11, 25, 7, 41, tzinfo=UTC), False),  # today's run, started late by jitter
    (datetime(2026, 11, 25, 11, 0, tzinfo=UTC), False),
])
def test_catch_up_due(last_success_at: datetime | None, due: bool) -> None:
    assert scheduling.catch_up_due(_plan(), last_success_at, NOW) is due


def _record_run(db_path: Path, status: str, finished_at: str) -> None:
    connection = store.connect(db_path)
    with store.transaction(connection):
        connection.execute("INSERT INTO fetch_runs (started_at, finished_at, status) VALUES (?, ?, ?)",
                           (finished_at, finished_at, status))
    connection.close()


def test_last_successful_fetch_reads_the_store(db_path: Path) -> None:
    assert scheduling.last_successful_fetch(db_path) is None
    _record_run(db_path, "succeeded", "2026-11-23T07:40:00+00:00")
    _record_run(db_path, "succeeded", "2026-11-24T07:41:00+00:00")
    _record_run(db_path, "failed", "2026-11-25T07:42:00+00:00")
    assert scheduling.last_successful_fetch(db_path) == datetime(2026, 11, 24, 7, 41, tzinfo=UTC)


# --- the job --------------------------------------------------------------------------------------------------------

def _report(status: str = "succeeded", error: str | None = None) -> FetchReport:
    return FetchReport(
        run_id=7, status=status, error=error, esearch_requests=4, efetch_requests=2, elapsed_s=3.25,
        outcomes=[HypothesisOutcome("fibromyalgia", status="succeeded", new_count=5, updated_count=1),
                  HypothesisOutcome("sleep", status=status, new_count=2, removed_count=1)],
    )


def _log_lines(path: Path) -> list[str]:
    """The log's lines without their timestamps."""
    return [line.split(" ", 1)[1] for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize(("fetch", "outcome", "last_line"), [
    (lambda settings: _report(), "succeeded",
     "INFO tracker.schedule: fetch run 7 succeeded: 7 new, 1 updated, 1 removed; "
     "4 esearch + 2 efetch requests in 3.2 s"),
    (lambda settings: _report("failed", "sleep: esearch failed"), "failed",
     "ERROR tracker.schedule: fetch run 7 failed: 7 new, 1 updated, 1 removed; "
     "4 esearch + 2 efetch requests in 3.2 s; sleep: esearch failed"),
    (lambda settings: (_ for _ in ()).throw(EutilsError("NCBI unreachable; try later")), "failed",
     "ERROR tracker.schedule: fetch failed: NCBI unreachable; try later"),
])
def test_run_locked_fetch_logs_the_outcome(settings, tmp_path: Path, fetch, outcome: str, last_line: str) -> None:
    log_path = tmp_path / "schedule.log"
    log, close = scheduling.open_log(settings, log_path)
    try:
        assert scheduling.run_locked_fetch(settings, fetch, log) == outcome
    finally:
        close()
    assert _log_lines(log_path) == [f"INFO tracker.schedule: fetch starting (store {settings.db_path})", last_line]


def test_the_scheduled_fetch_leaves_ctrl_c_and_kill_to_the_main_thread(settings, tmp_path: Path) -> None:
    # The scheduler's main thread waits for the next run time; a signal its worker thread took would not wake it.
    seen: list[set[signal.Signals]] = []

    def fetch(_settings):
        seen.append(blocked_signals(threading.get_native_id()))
        return _report()

    log, close = scheduling.open_log(settings, tmp_path / "schedule.log")
    try:
        worker = threading.Thread(target=scheduling.run_scheduled_fetch, args=(settings, fetch, log))
        worker.start()
        worker.join(timeout=30)
    finally:
        close()
    assert len(seen) == 1 and {signal.SIGINT, signal.SIGTERM} <= seen[0]
    assert not {signal.SIGINT, signal.SIGTERM} & blocked_signals(threading.get_native_id())


def test_an_unexpected_error_is_logged_whole_and_not_raised(settings, tmp_path: Path) -> None:
    def broken_fetch(_settings):
        raise RuntimeError("a bug")

    log, close = scheduling.open_log(settings, tmp_path / "schedule.log")
    try:
        assert scheduling.run_locked_fetch(settings, broken_fetch, log) == "failed"
    finally:
        close()
    text = (tmp_path / "schedule.log").read_text()
    assert "ERROR tracker.schedule: fetch failed with an unexpected error\nTraceback" in text
    assert "RuntimeError: a bug" in text


def test_api_key_and_email_never_reach_the_log(tmp_path: Path) -> None:
    settings = load_settings(db_path=tmp_path / "tracker.sqlite",
                             environ={"NCBI_API_KEY": API_KEY, "NCBI_EMAIL": EMAIL})

    def leaky_fetch(_settings):
        raise RuntimeError(f"GET https://example.invalid/esearch.fcgi?api_key={API_KEY}&email={EMAIL}")

    log, close = scheduling.open_log(settings, tmp_path / "schedule.log")
    try:
        scheduling.run_locked_fetch(settings, leaky_fetch, log)
        log.info("settings: %s", settings)
        scheduling.run_locked_fetch(settings, lambda s: _report("failed", f"esearch with {API_KEY} failed"), log)
    finally:
        close()
    text = (tmp_path / "schedule.log").read_text()
    assert API_KEY not in text and EMAIL not in text
    assert "api_key=[redacted]&email=[redacted]" in text
    assert "esearch with [redacted] failed" in text



BASELINE_ENTRY = """
[[hypothesis]]
id = "fibromyalgia"
label = "All fibromyalgia research"
description = "Every fibromyalgia article."
query = "fibromyalgia"
baseline = true
"""


def test_each_run_reads_the_hypotheses_file_as_it_is_now(tmp_path: Path) -> None:
    hypotheses_path = tmp_path / "hypotheses.toml"
    hypotheses_path.write_text(BASELINE_ENTRY, encoding="utf-8")
    settings = load_settings(hypotheses_path=hypotheses_path, db_path=tmp_path / "tracker.sqlite", environ={})
    hypotheses_path.write_text(BASELINE_ENTRY + '\n[[hypothesis]]\nid = "sleep"\nlabel = "Sleep"\n'
                               'description = "Poor sleep."\nquery = "fibromyalgia AND sleep"\nterms = ["sleep"]\n',
                               encoding="utf-8")
    seen: list[tuple[str, ...]] = []

    def fetch(run_settings):
        seen.append(tuple(h.id for h in run_settings.hypotheses))
        return _report()

    log, close = scheduling.open_log(settings, tmp_path / "schedule.log")
    try:
        assert scheduling.run_locked_fetch(settings, fetch, log) == "succeeded"
        hypotheses_path.write_text("[[hypothesis]]\nid = 'x'\n", encoding="utf-8")
        assert scheduling.run_locked_fetch(settings, fetch, log) == "failed"
    finally:
        close()
    assert seen == [("fibromyalgia", "sleep")]
    assert _log_lines(tmp_path / "schedule.log")[-1] == (
        f'ERROR tracker.schedule: fetch failed: {hypotheses_path}: [x] has no "label"; add label = "..."')

@pytest.fixture
def lock_holder(settings, hold_lock):
    """A real process holding the job lock on the settings' store until the test ends."""
    return hold_lock(settings.db_path)


def test_a_run_while_another_job_holds_the_lock_is_skipped_and_logged(settings, tmp_path: Path, lock_holder) -> None:
    calls: list[object] = []
    log, close = scheduling.open_log(settings, tmp_path / "schedule.log")
    try:
        assert scheduling.run_locked_fetch(settings, calls.append, log) == "locked"
    finally:
        close()
    assert calls == []
    last_line = _log_lines(tmp_path / "schedule.log")[-1]
    assert last_line.startswith(f"WARNING tracker.schedule: fetch skipped: another tracker job (PID {lock_holder.pid}")


# --- the scheduler ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("last_success", "catch_up"), [
    (None, False),
    ("2026-11-24T07:45:00+00:00", True),
    ("2026-11-25T07:45:00+00:00", False),
])
def test_add_fetch_job(settings, last_success: str | None, catch_up: bool) -> None:
    if last_success:
        _record_run(settings.db_path, "succeeded", last_success)
    plan = _plan(jitter_s=600)
    scheduler = BackgroundScheduler(timezone=plan.zone)
    scheduler.start(paused=True)
    try:
        assert scheduling.add_fetch_job(scheduler, settings, plan, lambda s: _report(), None, NOW) is catch_up
        (job,) = scheduler.get_jobs()
        assert (job.id, job.max_instances, job.coalesce, job.misfire_grace_time, job.trigger.jitter) == (
            "fetch", 1, True, 3600, 600)
        assert job.func is scheduling.run_scheduled_fetch
        if catch_up:
            assert job.next_run_time == NOW
        else:
            # Jitter adds up to ten minutes to the next 02:30 Eastern, which is after NOW.
            assert datetime(2026, 11, 26, 7, 30, tzinfo=UTC) <= job.next_run_time <= datetime(
                2026, 11, 26, 7, 40, tzinfo=UTC)
    finally:
        scheduler.shutdown(wait=False)


def test_a_missed_run_is_caught_up_at_start(settings, tmp_path: Path) -> None:
    _record_run(settings.db_path, "succeeded", "2020-01-01T07:45:00+00:00")
    plan = _plan(log_path=tmp_path / "schedule.log")
    ran = threading.Event()

    def fetch(_settings):
        ran.set()
        return _report()

    log, close = scheduling.open_log(settings, plan.log_path)
    scheduler = BackgroundScheduler(timezone=plan.zone)
    try:
        scheduling.add_fetch_job(scheduler, settings, plan, fetch, log, datetime.now(UTC))
        scheduler.start()
        assert ran.wait(timeout=10)
    finally:
        scheduler.shutdown(wait=True)
        close()
    assert "INFO tracker.schedule: fetch run 7 succeeded: 7 new, 1 updated, 1 removed; " in (
        tmp_path / "schedule.log").read_text()


# --- the command ----------------------------------------------------------------------------------------------------

def test_command_defaults_are_the_module_defaults() -> None:
    defaults = {parameter.name: parameter.default for parameter in cli.commands["schedule"].params}
    assert (defaults["cron"], defaults["timezone_name"], defaults["jitter_s"]) == (
        scheduling.DEFAULT_CRON, scheduling.DEFAULT_TIMEZONE, scheduling.DEFAULT_JITTER_S)


@pytest.mark.parametrize(("status", "exit_code"), [("succeeded", 0), ("failed", 1)])
def test_once_runs_one_fetch_and_exits_with_its_code(monkeypatch, settings, tmp_path: Path, status: str,
                                                     exit_code: int) -> None:
    calls: list[object] = []
    monkeypatch.setattr("tracker.jobs.fetch.run_fetch", lambda s: calls.append(s.db_path) or _report(status, "x"))
    result = CliRunner().invoke(cli, ["schedule", "--db", str(settings.db_path), "--once",
                                      "--log-file", str(tmp_path / "once.log")])
    assert result.exit_code == exit_code, result.output
    assert calls == [settings.db_path]
    assert f"tracker.schedule: fetch run 7 {status}: 7 new" in (tmp_path / "once.log").read_text()


def test_once_exits_3_while_another_job_holds_the_lock(monkeypatch, settings, tmp_path: Path, lock_holder) -> None:
    monkeypatch.setattr("tracker.jobs.fetch.run_fetch", lambda s: pytest.fail("fetched while the lock was held"))
    result = CliRunner().invoke(cli, ["schedule", "--db", str(settings.db_path), "--once",
                                      "--log-file", str(tmp_path / "once.log")])
    assert result.exit_code == 3
    assert f"fetch skipped: another tracker job (PID {lock_holder.pid}" in (tmp_path / "once.log").read_text()


def test_print_modes_write_to_stdout_and_warn_on_stderr(settings) -> None:
    result = CliRunner().invoke(cli, ["schedule", "--db", str(settings.db_path), "--cron", "0 12 * * *",
                                      "--print-cron"])
    assert result.exit_code == 0
    assert result.stdout.splitlines()[3] == "CRON_TZ=America/New_York"
    assert result.stdout.splitlines()[4].startswith("0 12 * * * cd ")
    assert result.stderr.startswith("tracker: warning: --cron '0 12 * * *' in America/New_York fires at peak hours")

    result = CliRunner().invoke(cli, ["schedule", "--db", str(settings.db_path), "--print-systemd"])
    assert result.exit_code == 0
    assert "OnCalendar=*-*-* 02:30:00 America/New_York\n" in result.stdout
    assert result.stderr == ""


@pytest.mark.parametrize(("arguments", "exit_code", "message"), [
    (["--once", "--print-cron"], 2, "choose one of --once, --print-cron and --print-systemd"),
    (["--cron", "99 2 * * *", "--print-cron"], 1, "tracker: --cron '99 2 * * *': the minute field '99' is outside 0-59"),
    (["--timezone", "Nowhere/Land", "--once"], 1, "tracker: --timezone 'Nowhere/Land' is not a known time zone"),
    (["--jitter-s", "-5", "--print-cron"], 2, "Invalid value for '--jitter-s'"),
])
def test_bad_options(settings, arguments: list[str], exit_code: int, message: str) -> None:
    result = CliRunner().invoke(cli, ["schedule", "--db", str(settings.db_path), *arguments])
    assert result.exit_code == exit_code
    assert message in result.output
    assert not settings.db_path.exists()


def _as_at_a_terminal() -> None:
    """In the scheduler's process, before it starts: Ctrl-C interrupts it, as at a terminal, even when the tests run
    where SIGINT is ignored (a job a script put in the background, which its children inherit)."""
    signal.signal(signal.SIGINT, signal.default_int_handler)


def _wait_for(path: Path, text: str, timeout_s: float) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        content = path.read_text(encoding="utf-8") if path.exists() else ""
        if text in content:
            return content
        time.sleep(0.1)
    raise AssertionError(f"{text!r} did not reach {path} within {timeout_s} s:\n{content}")


def test_the_scheduler_process_catches_up_a_missed_run(tmp_path: Path, db_path: Path) -> None:
    hypotheses_path = tmp_path / "hypotheses.toml"
    hypotheses_path.write_text(textwrap.dedent("""
        [[hypothesis]]
        id = "fibromyalgia"
        label = "All fibromyalgia research (baseline)"
        description = "Every fibromyalgia article."
        query = "fibromyalgia"
        baseline = true
        terms = ["fibromyalgia"]
    """))
    _record_run(db_path, "succeeded", "2020-01-01T07:45:00+00:00")
    log_path = tmp_path / "schedule.log"
    corpus = synthetic_corpus(3)
    with EutilsStandin(rate_limit=False) as server:
        server.add_corpus(corpus)
        server.set_query("fibromyalgia", corpus)
        environment = {"PATH": "/usr/bin:/bin", "NCBI_EUTILS_URL": server.base_url, "NCBI_API_KEY": API_KEY,
                       "NCBI_EMAIL": EMAIL}
        process = subprocess.Popen(
            [sys.executable, "-m", "tracker", "schedule", "--db", str(db_path), "--hypotheses", str(hypotheses_path),
             "--log-file", str(log_path)],
            cwd=PROJECT_DIR, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            preexec_fn=_as_at_a_terminal)
        try:
            log_text = _wait_for(log_path, "fetch run 2 succeeded", timeout_s=60)
        finally:
            process.send_signal(signal.SIGINT)
            try:
                _stdout, stderr = process.communicate(timeout=30)
            finally:
                # Still running after Ctrl-C and 30 s (the assertions below then fail): it must not outlive the test.
                process.kill()
                process.wait()

    lines = [line.split(" ", 2)[2] for line in log_text.splitlines() if " tracker.schedule: " in line]
    assert lines[0].startswith("tracker.schedule: scheduler started: --cron '30 2 * * *' --timezone "
                               "America/New_York, up to 600 s of jitter; next run 20")
    assert lines[1].startswith("tracker.schedule: the last successful fetch is older than the previous scheduled "
                               "time 20")
    assert f"tracker.schedule: fetch starting (store {db_path})" in lines
    assert "tracker.schedule: fetch run 2 succeeded: 3 new, 0 updated, 0 removed; 1 esearch + 1 efetch requests" in (
        " ".join(lines))
    assert API_KEY not in log_text and EMAIL not in log_text
    assert stderr.startswith(f"tracker: scheduler running (--cron '30 2 * * *' --timezone America/New_York); "
                             f"logging to {log_path}; stop it with Ctrl-C or kill\n")
    assert process.returncode == 130
    assert scheduling.last_successful_fetch(db_path) > datetime(2026, 1, 1, tzinfo=UTC)


INTERRUPTED_SCHEDULER_SCRIPT = textwrap.dedent(
    """
    import sys
    import time
    from pathlib import Path

    from tracker.jobs import schedule as scheduling
    from tracker.config import load_settings
    from tracker.jobs.fetch import FetchReport

    settings = load_settings(db_path=Path(sys.argv[1]), environ={})

    def slow_fetch(_settings):
        print("fetching", flush=True)
        time.sleep(2)
        return FetchReport(run_id=7, status="succeeded", outcomes=[], esearch_requests=1, efetch_requests=0,
                           elapsed_s=2.0)

    plan = scheduling.parse_schedule("30 2 * * *", "America/New_York", 0, Path(sys.argv[2]))
    scheduling.run_scheduler(settings, plan, slow_fetch)
    """
)


# Ctrl-C at a terminal, or SIGTERM from kill or a service manager.
@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_stopping_the_scheduler_during_a_fetch_logs_the_run_before_exiting(db_path: Path, tmp_path: Path,
                                                                           stop: signal.Signals) -> None:
    _record_run(db_path, "succeeded", "2020-01-01T07:45:00+00:00")
    log_path = tmp_path / "schedule.log"
    process = subprocess.Popen([sys.executable, "-c", INTERRUPTED_SCHEDULER_SCRIPT, str(db_path), str(log_path)],
                               cwd=PROJECT_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=_as_at_a_terminal)
    try:
        assert process.stdout.readline() == "fetching\n"
        # The catch-up run starts inside scheduler.start(): give the main thread a moment to reach its wait, so that
        # the signal lands, as a person's would, while the fetch (two seconds) is under way and the scheduler idles.
        time.sleep(0.5)
        process.send_signal(stop)
        _stdout, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
        process.wait()
    assert "KeyboardInterrupt" in stderr
    lines = [line.split(" ", 2)[2] for line in log_path.read_text(encoding="utf-8").splitlines()
             if " tracker.schedule: " in line]
    assert lines[-2:] == [
        "tracker.schedule: scheduler stopping: a fetch under way finishes its run first",
        "tracker.schedule: fetch run 7 succeeded: 0 new, 0 updated, 0 removed; 1 esearch + 0 efetch request in 2.0 s",
    ]


# --- the log file beside the store --------------------------------------------------------------------------------

def test_the_schedule_log_through_a_symlink_is_refused_and_its_target_untouched(settings, tmp_path: Path) -> None:
    victim = tmp_path / "precious.txt"
    victim.write_text("not a log\n")
    log_path = tmp_path / "schedule.log"
    log_path.symlink_to(victim)
    with pytest.raises(StoreError) as raised:
        scheduling.open_log(settings, log_path)
    assert str(raised.value) == (f"{log_path}: the scheduler's log is a symbolic link, which the tracker never "
                                 "follows; delete it (the tracker makes its own) and run this again")
    assert victim.read_text() == "not a log\n"


def test_a_dangling_symlink_schedule_log_creates_nothing(settings, tmp_path: Path) -> None:
    target = tmp_path / "created-by-the-log"
    (tmp_path / "schedule.log").symlink_to(target)
    with pytest.raises(StoreError, match="the scheduler's log is a symbolic link"):
        scheduling.open_log(settings, tmp_path / "schedule.log")
    assert not target.exists()


def test_the_schedule_log_is_appended_to(settings, tmp_path: Path) -> None:
    log_path = tmp_path / "schedule.log"
    log_path.write_text("an earlier line\n")
    log, close = scheduling.open_log(settings, log_path)
    try:
        log.info("a new line")
    finally:
        close()
    assert log_path.read_text().splitlines()[0] == "an earlier line"
    assert log_path.read_text().splitlines()[1].endswith("INFO tracker.schedule: a new line")


# --- paths that would smuggle lines into a crontab or a unit -----------------------------------------------------

INJECTED = "\n* * * * * touch /tmp/pwned\n"


@pytest.mark.parametrize("mode", ["--print-cron", "--print-systemd"])
@pytest.mark.parametrize(("option", "character", "shown"), [
    ("--db", INJECTED, "\\n"), ("--log-file", INJECTED, "\\n"), ("--db", "\r", "\\r"), ("--log-file", "\x85", "\\x85"),
    ("--db", "\u2028", "\\u2028"), ("--hypotheses", INJECTED, "\\n"),
])
def test_a_control_character_in_a_path_is_refused_in_one_line(tmp_path: Path, mode: str, option: str,
                                                               character: str, shown: str) -> None:
    path = tmp_path / f"store{character}x"
    if option == "--hypotheses":
        path.parent.mkdir(parents=True)
        path.write_bytes((PROJECT_DIR / "tracker" / "hypotheses.toml").read_bytes())
    arguments = ["schedule", mode, "--db", str(tmp_path / "tracker.sqlite"), option, str(path)]
    result = CliRunner().invoke(cli, arguments)
    assert (result.exit_code, result.stdout) == (1, "")
    shown_path = str(path).replace("\n", "\\n").replace(character, shown)
    assert result.stderr == (
        f"tracker: {option} '{shown_path}': a path with a control character ({shown}) cannot be written into a "
        f"{'crontab line' if mode == '--print-cron' else 'systemd unit'} safely; rename it or give another path\n")


ODD_FOLDER = "it's 100% $HOME `id` \"a b\" \\ x"


def test_the_cron_line_carries_odd_paths_through_cron_and_sh_unchanged(tmp_path: Path, venv_python: Path) -> None:
    import shlex

    folder = tmp_path / ODD_FOLDER
    settings = load_settings(db_path=folder / "tracker.sqlite")
    plan = parse_schedule("30 2 * * *", "UTC", 0, folder / "schedule.log")
    entry = scheduling.cron_text(settings, plan).splitlines()[-1]
    command = entry.split(" ", 5)[5].replace("\\%", "%")  # cron turns "\%" into "%" and any other "%" into a newline
    assert "%" not in entry.replace("\\%", "")
    assert shlex.split(command) == ["cd", str(PROJECT_DIR), "&&", str(venv_python), "-m", "tracker", "--db",
                                    str(folder / "tracker.sqlite"), "fetch", ">>", str(folder / "schedule.log"),
                                    "2>&1"]


def test_the_systemd_units_carry_odd_paths_unchanged(tmp_path: Path, venv_python: Path) -> None:
    folder = tmp_path / ODD_FOLDER
    settings = load_settings(db_path=folder / "tracker.sqlite")
    plan = parse_schedule("30 2 * * *", "UTC", 0, folder / "schedule.log")
    service, _ = scheduling.systemd_units(settings, plan)
    values = dict(_unit_sections(service)["Service"])
    # StandardOutput's path is taken as written (quotes would be part of it); % is a specifier everywhere, $ in
    # ExecStart a variable.
    literal_log = str(folder / "schedule.log").replace("%", "%%")
    assert values["StandardOutput"] == values["StandardError"] == f"append:{literal_log}"
    db_word = '"' + str(folder / "tracker.sqlite").replace("\\", "\\\\").replace('"', '\\"').replace(
        "%", "%%").replace("$", "$$") + '"'
    assert values["ExecStart"] == f"{venv_python} -m tracker --db {db_word} fetch"
