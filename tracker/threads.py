"""Ctrl-C and kill stop a command through its main thread, whatever threads it has started.

A signal sent to a process is taken by any one of its threads that does not block it. Python runs the handler
(KeyboardInterrupt) only in the main thread, and only once that thread next runs Python code: a main thread
blocked in a wait for a child process or a scheduler's next run time would not wake while the signal sat with a
server or worker thread. So every thread a command starts blocks the stop signals, and the main thread takes them.
"""

from __future__ import annotations

import signal

STOP_SIGNALS = frozenset({signal.SIGINT, signal.SIGTERM})


def leave_stop_signals_to_main_thread() -> None:
    """Block SIGINT and SIGTERM in the calling thread (a thread the command started), and in the threads it starts
    from now on, which inherit its mask."""
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
