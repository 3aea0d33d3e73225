"""Analysis: pure functions over frames (no I/O, no clock, no network)."""
