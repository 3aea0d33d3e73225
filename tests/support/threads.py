"""Which signals a thread of this process blocks, as Linux reports it."""

from __future__ import annotations

import signal
from pathlib import Path


def blocked_signals(native_id: int) -> set[signal.Signals]:
    """The signals the thread `native_id` (threading's native_id) of this process blocks."""
    status = Path(f"/proc/self/task/{native_id}/status").read_text()
    mask = int(next(line for line in status.splitlines() if line.startswith("SigBlk:")).split()[1], 16)
    return {number for number in signal.Signals if mask >> (number - 1) & 1}
