"""Ctrl-C and kill stop a command through its main thread, whatever threads it has started.

A signal sent to a process is taken by any one of its threads that does not block it. Python runs the handler
(KeyboardInterrupt) only in the main thread, and only once that thread next runs Python code: a main thread
blocked in a wait for a child process or a scheduler's next run time would not wake while the signal sat with a
server or worker thread. So every thread a command starts blocks the stop signals, and the main thread takes them.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator

STOP_SIGNALS = frozenset({signal.SIGINT, signal.SIGTERM})


def leave_stop_signals_to_main_thread() -> None:
    """Block SIGINT and SIGTERM in the calling thread (a thread the command started), and in the threads it starts
    from now on, which inherit its mask."""
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)


@contextlib.contextmanager
def sigterm_as_ctrl_c() -> Iterator[None]:
    """While the block runs, SIGTERM (kill, a service manager) stops the command as Ctrl-C does: KeyboardInterrupt
    in the main thread, through the same clean-up. The handler before it is restored after. SIGINT keeps the
    disposition the command was started with: a shell ignores it in a job a script put in the background, so that
    Ctrl-C at the terminal does not reach that job."""
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
