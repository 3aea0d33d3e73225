"""Stance: does an article support or contradict the cause it is tagged with, and which sentence says so.

Pure like `tagging`: text and frames in, frames out; no I/O, no clock, no network. The values it produces are
`models.STANCES` and `models.EVIDENCE_KINDS`.
"""

from __future__ import annotations

from tracker.models import EVIDENCE_KINDS, STANCES, UNREAD_STANCE

__all__ = ["EVIDENCE_KINDS", "STANCES", "UNREAD_STANCE"]
