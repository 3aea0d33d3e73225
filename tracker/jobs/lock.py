"""The job lock: one writer job (fetch, import, scheduled run) per store at a time.

An OS file lock (`fcntl.flock`) on "<store>.lock", not a PID file: the kernel releases it when its holder exits, even
by `kill -9`, so a crashed job never leaves a lock that blocks the next one. The file itself stays; it only records
who holds the lock now, for the message the next job prints.

The lock is keyed on the store's real path, symlinks resolved, as SQLite itself resolves them: two jobs reaching
one file through a symlink share one lock. Hard links cannot be told apart that way, and SQLite's WAL is unsafe
through them anyway, so `store.connect` refuses a store file with more than one name.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

from tracker.errors import LockHeld, StoreError


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
        # No O_TRUNC: the holder's PID and start time must survive until we know we are the holder.
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as error:
        raise StoreError(f"{path}: cannot create the job lock file ({error.strerror}); "
                         f"check that the store's folder is writable") from None
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LockHeld(_held_message(path, descriptor)) from None
        started_at = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, f"pid={os.getpid()} started={started_at}\n".encode(), 0)
        try:
            yield
        finally:
            # Clear the holder line before unlocking so that nobody reads a finished job as the holder.
            os.ftruncate(descriptor, 0)
            fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)


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
