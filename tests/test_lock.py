"""The job lock between real processes: contention fails at once, a killed holder leaves nothing that blocks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tracker.errors import LockHeld, StoreError
from tracker.jobs.lock import job_lock, lock_path

PROJECT_DIR = Path(__file__).resolve().parent.parent

# A second process that takes the lock, says so on stdout, then waits to be told to stop (or killed).
@pytest.fixture
def holder(db_path: Path, hold_lock) -> subprocess.Popen:
    """A real process holding the job lock on db_path until the test ends."""
    return hold_lock(db_path)


def test_lock_file_sits_beside_the_store(tmp_path: Path) -> None:
    assert lock_path(tmp_path / "data" / "tracker.sqlite") == tmp_path / "data" / "tracker.sqlite.lock"


def test_lock_records_holder_and_clears_on_release(db_path: Path) -> None:
    with job_lock(db_path):
        text = lock_path(db_path).read_text()
        assert text.startswith(f"pid={os.getpid()} started=20")
    assert lock_path(db_path).read_text().strip() == ""  # blanked in place, not truncated


def test_lock_is_taken_again_after_release(db_path: Path) -> None:
    with job_lock(db_path):
        pass
    with job_lock(db_path):
        assert lock_path(db_path).read_text().startswith(f"pid={os.getpid()} ")


def test_second_holder_in_another_process_fails_at_once_naming_the_holder(holder: subprocess.Popen,
                                                                           db_path: Path) -> None:
    started = time.monotonic()
    with pytest.raises(LockHeld) as raised:
        with job_lock(db_path):
            pytest.fail("the lock was granted while another process held it")
    assert time.monotonic() - started < 2
    message = str(raised.value)
    assert f"another tracker job (PID {holder.pid}, started 20" in message
    assert str(lock_path(db_path)) in message
    assert "wait until it finishes" in message


def test_lock_is_free_once_the_holder_is_released(holder: subprocess.Popen, db_path: Path) -> None:
    holder.stdin.write("\n")
    holder.stdin.flush()
    assert holder.wait(timeout=10) == 0
    with job_lock(db_path):
        assert lock_path(db_path).read_text().startswith(f"pid={os.getpid()} ")


def test_lock_of_a_killed_holder_does_not_block(holder: subprocess.Popen, db_path: Path) -> None:
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait(timeout=10)
    # The killed holder's line is still in the file: the file is not the lock, the kernel's flock is.
    assert lock_path(db_path).read_text().startswith(f"pid={holder.pid} ")
    with job_lock(db_path):
        assert lock_path(db_path).read_text().startswith(f"pid={os.getpid()} ")


def test_unwritable_lock_folder_is_a_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    with pytest.raises(StoreError, match="cannot create the job lock file"):
        with job_lock(blocker / "tracker.sqlite"):
            pass


MEDLINE_FILE = PROJECT_DIR / "tests" / "fixtures" / "medline_fibromyalgia.txt"


def _tracker(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tracker", *arguments], cwd=PROJECT_DIR, capture_output=True,
                          text=True, timeout=60)


@pytest.mark.parametrize(("command", "prefix"), [
    (["fetch"], "tracker: "),
    (["import", str(MEDLINE_FILE)], "tracker: "),
    (["schedule", "--once"], "WARNING tracker.schedule: fetch skipped: "),  # its log line, echoed to stderr
])
def test_a_second_job_exits_3_at_once_with_a_clear_message(holder: subprocess.Popen, db_path: Path,
                                                            command: list[str], prefix: str) -> None:
    # The lock is taken before anything else happens, so the fetch never reaches for the network.
    started = time.monotonic()
    result = _tracker(*command, "--db", str(db_path))
    assert result.returncode == 3, result.stderr
    assert time.monotonic() - started < 30
    assert f"{prefix}another tracker job (PID {holder.pid}, started 20" in result.stderr
    assert not db_path.exists()
    assert f"holds the lock {lock_path(db_path)}; wait until it finishes (`ps -p {holder.pid}` shows it)" in (
        result.stderr)


def test_a_job_after_a_killed_holder_runs(holder: subprocess.Popen, db_path: Path) -> None:
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait(timeout=10)
    result = _tracker("import", "--db", str(db_path), str(MEDLINE_FILE))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "imported 4 new articles and 0 updated; tagged 4; run 1"


# --- one store, several paths -----------------------------------------------------------------------------------

@pytest.fixture
def no_ncbi(monkeypatch: pytest.MonkeyPatch) -> None:
    """Point a subprocess' fetch at a closed local port: a regression fails there instead of reaching NCBI."""
    monkeypatch.setenv("NCBI_EUTILS_URL", "http://127.0.0.1:9/")


def test_lock_file_sits_beside_the_real_file_of_a_symlinked_store(tmp_path: Path) -> None:
    real = tmp_path / "real" / "tracker.sqlite"
    real.parent.mkdir()
    link = tmp_path / "link.sqlite"
    link.symlink_to(real)
    assert lock_path(link) == lock_path(real) == real.resolve().with_name("tracker.sqlite.lock")


@pytest.mark.parametrize(("holder_name", "command"), [
    ("real", ["import", str(MEDLINE_FILE)]),
    ("link", ["import", str(MEDLINE_FILE)]),
    ("real", ["fetch"]),
    ("link", ["fetch"]),
])
def test_a_job_through_a_symlink_shares_the_real_files_lock(hold_lock, tmp_path: Path, no_ncbi: None,
                                                             holder_name: str, command: list[str]) -> None:
    paths = {"real": tmp_path / "real" / "tracker.sqlite", "link": tmp_path / "link.sqlite"}
    paths["real"].parent.mkdir()
    paths["link"].symlink_to(paths["real"])
    holder = hold_lock(paths[holder_name])
    other = paths["link" if holder_name == "real" else "real"]
    result = _tracker(*command, "--db", str(other))
    assert result.returncode == 3, result.stderr
    assert f"another tracker job (PID {holder.pid}, started 20" in result.stderr
    assert not paths["real"].exists()


def test_a_store_file_with_two_names_is_refused_by_every_job(hold_lock, tmp_path: Path, db_path: Path,
                                                              no_ncbi: None) -> None:
    assert _tracker("import", "--db", str(db_path), str(MEDLINE_FILE)).returncode == 0
    other = tmp_path / "copy-by-link.sqlite"
    os.link(db_path, other)
    before = db_path.read_bytes()
    holder = hold_lock(db_path)  # a job at work through the first name
    for command in (["import", str(MEDLINE_FILE)], ["fetch"], ["retag"], ["status"], ["export"]):
        result = _tracker(*command, "--db", str(other))
        assert result.returncode == 1, (command, result.stderr)
        assert result.stderr == (
            f"tracker: {other}: this store file has 2 names (hard links); SQLite keeps a write-ahead log beside "
            f"each name, so jobs through two names corrupt it — use one path: delete the other names, or make an "
            f"independent copy (cp {other} NEW.sqlite) and give that to --db\n"), command
    holder.stdin.write("\n")
    holder.stdin.flush()
    assert holder.wait(timeout=10) == 0
    result = _tracker("import", "--db", str(db_path), str(MEDLINE_FILE))
    assert (result.returncode, result.stderr.split(": ", 2)[-1][:30]) == (1, "this store file has 2 names (h")
    assert db_path.read_bytes() == before
    other.unlink()
    assert _tracker("import", "--db", str(db_path), str(MEDLINE_FILE)).returncode == 0


# --- a lock path that is not the tracker's own file -------------------------------------------------------------

def _victim(tmp_path: Path) -> Path:
    victim = tmp_path / "elsewhere" / "precious.txt"
    victim.parent.mkdir()
    victim.write_text("a file the lock must not touch\n")
    return victim


def _refused(db_path: Path) -> str:
    with pytest.raises(StoreError) as raised:
        with job_lock(db_path):
            pytest.fail("the lock was granted on a file that is not the tracker's own")
    return str(raised.value)


def test_a_lock_that_is_a_symlink_is_refused_and_its_target_untouched(tmp_path: Path, db_path: Path) -> None:
    victim = _victim(tmp_path)
    lock_path(db_path).symlink_to(victim)
    assert _refused(db_path) == (
        f"{lock_path(db_path)}: the job lock is a symbolic link, which the tracker never follows; delete it "
        "(the tracker makes its own) and run this again")
    assert victim.read_text() == "a file the lock must not touch\n"


def test_a_dangling_symlink_lock_creates_nothing(tmp_path: Path, db_path: Path) -> None:
    target = tmp_path / "created-by-the-lock"
    lock_path(db_path).symlink_to(target)
    assert "the job lock is a symbolic link" in _refused(db_path)
    assert not target.exists()


@pytest.mark.parametrize(("make", "what"), [
    (lambda path, victim: os.link(victim, path), "a file with 2 names (hard links)"),
    (lambda path, victim: os.mkfifo(path), "a named pipe (FIFO)"),
])
def test_a_lock_that_is_not_a_plain_file_is_refused(tmp_path: Path, db_path: Path, make, what: str) -> None:
    victim = _victim(tmp_path)
    make(lock_path(db_path), victim)
    assert _refused(db_path) == (f"{lock_path(db_path)}: the job lock is {what}, not a regular file of the tracker's; "
                                 "delete it (the tracker makes its own) and run this again")
    assert victim.read_text() == "a file the lock must not touch\n"


def test_a_lock_owned_by_another_user_is_refused(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lock_path(db_path).write_text("")
    monkeypatch.setattr(os, "geteuid", lambda: lock_path(db_path).stat().st_uid + 1)
    assert "the job lock is owned by another user, not a regular file of the tracker's" in _refused(db_path)


def test_the_lock_file_is_never_truncated(db_path: Path) -> None:
    # What the holder writes overwrites its own fixed-width line and no more; a release blanks that line.
    lock_path(db_path).write_text("x" * 300)
    with job_lock(db_path):
        assert lock_path(db_path).read_text().startswith(f"pid={os.getpid()} started=20")
        assert lock_path(db_path).stat().st_size == 300
    assert lock_path(db_path).stat().st_size == 300
    assert lock_path(db_path).read_text().split()[0] == "x" * (300 - 65)
