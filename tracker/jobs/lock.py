"""The job lock: one writer job (fetch, import, scheduled run) per store at a time.

An OS file lock (`fcntl.flock`) on "<store>.lock", not a PID file: the kernel releases it when its holder exits, even
by `kill -9`, so a crashed job never leaves a lock that blocks the next one. The file itself stays; it only records
who holds the lock now, for the message the next job prints.

The lock is keyed on the store's real path, symlinks resolved, as SQLite itself resolves them: two jobs reaching
one file through a symlink share one lock. Hard links cannot be told apart that way, and SQLite's WAL is unsafe
through them anyway, so `store.connect` refuses a store file with more than one name.

The lock file, like every file the tracker writes beside the store (the scheduler's log too), is opened without
following a symlink and used only when it is a regular file of one name that this user owns: otherwise a link planted
there would have the tracker write into, or create, a file of someone else's choosing. It is never truncated: the
holder's line has a fixed width and is overwritten in place.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

from tracker.errors import LockHeld, StoreError

# The holder line's width: "pid=<up to 7 digits> started=<ISO time with offset>" fits with room to spare.
HOLDER_LINE_BYTES = 65


def lock_path(db_path: Path) -> Path:
    """The lock file that guards a store: "<store>.lock" beside the real file (symlinks resolved)."""
    real_path = Path(db_path).resolve()
    return real_path.with_name(real_path.name + ".lock")


@contextlib.contextmanager
def job_lock(db_path: Path) -> Iterator[None]:
    """Hold the store's job lock for the block; raise LockHeld at once when another process holds it."""
    path = lock_path(db_path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise StoreError(f"{path}: cannot create the job lock file ({error.strerror}); "
                         f"check that the store's folder is writable") from None
    # No O_TRUNC: the holder's PID and start time must survive until we know we are the holder.
    descriptor = open_own_file(path, os.O_RDWR, "the job lock", "create the job lock file")
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LockHeld(_held_message(path, descriptor)) from None
        started_at = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
        os.pwrite(descriptor, _holder_line(f"pid={os.getpid()} started={started_at}"), 0)
        try:
            yield
        finally:
            # Blank the holder line before unlocking so that nobody reads a finished job as the holder.
            os.pwrite(descriptor, _holder_line(""), 0)
            fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)


def open_own_file(path: Path, flags: int, what: str, action: str) -> int:
    """Open (creating it) a file the tracker writes beside the store; refuse anything but its own plain file.

    `flags` adds the access mode (os.O_RDWR, os.O_WRONLY | os.O_APPEND); `what` names the file in a message
    ("the job lock"), `action` says what failed ("create the job lock file"). Links are never followed, and a
    FIFO or device is never waited on: O_NONBLOCK only matters for those, which are then refused.
    """
    try:
        descriptor = os.open(path, flags | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC,
                             0o644)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise StoreError(f"{path}: {what} is a symbolic link, which the tracker never follows; delete it "
                             "(the tracker makes its own) and run this again") from None
        raise StoreError(f"{path}: cannot {action} ({error.strerror}); "
                         "check that the store's folder is writable") from None
    status = os.fstat(descriptor)
    problem = _not_own_file(status)
    if problem is not None:
        os.close(descriptor)
        raise StoreError(f"{path}: {what} is {problem}, not a regular file of the tracker's; delete it "
                         "(the tracker makes its own) and run this again")
    os.set_blocking(descriptor, True)
    return descriptor


def _not_own_file(status: os.stat_result) -> str | None:
    """What makes a file unfit for the tracker to write, or None when it is a plain file of one name, ours."""
    if stat.S_ISFIFO(status.st_mode):
        return "a named pipe (FIFO)"
    if not stat.S_ISREG(status.st_mode):
        return "not a regular file (a device, socket or folder)"
    if status.st_nlink > 1:
        return f"a file with {status.st_nlink} names (hard links)"
    if status.st_uid != os.geteuid():
        return "owned by another user"
    return None


def _holder_line(text: str) -> bytes:
    # A fixed width, so that each write covers the last one exactly and the file never needs truncating.
    return text.ljust(HOLDER_LINE_BYTES - 1)[:HOLDER_LINE_BYTES - 1].encode("ascii") + b"\n"


def _held_message(path: Path, descriptor: int) -> str:
    holder = _read_holder(descriptor)
    if holder is None:
        who = "another tracker job"
        check = ""
    else:
        pid, started_at = holder
        who = f"another tracker job (PID {pid}, started {started_at})"
        check = f" (`ps -p {pid}` shows it)"
    return (f"{who} holds the lock {path}; wait until it finishes{check} and run this again — "
            f"a killed job's lock is released by the system, so there is nothing to delete")


def _read_holder(descriptor: int) -> tuple[str, str] | None:
    """The holder's PID and start time from the lock file, or None while it has not written them yet."""
    text = os.pread(descriptor, 200, 0).decode("ascii", errors="replace")
    fields = dict(part.split("=", 1) for part in text.split() if "=" in part)
    if "pid" not in fields:
        return None
    return fields["pid"], fields.get("started", "at an unknown time")
