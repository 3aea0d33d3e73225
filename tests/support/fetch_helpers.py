"""Shared set-up for the fetch tests: a small hypotheses file and a stand-in corpus whose queries it answers."""

from __future__ import annotations

import dataclasses
import random
from datetime import date
from pathlib import Path

from tracker.config import Settings, load_settings

from .standin import EutilsStandin
from .synthetic import synthetic_article_xml

HYPOTHESES_TOML = '''
[[hypothesis]]
id = "fibromyalgia"
label = "All fibromyalgia research"
baseline = true
description = "Every fibromyalgia article."
query = 'fibromyalgia[tiab]'
terms = ["fibromyalgia"]

[[hypothesis]]
id = "serotonin"
label = "Serotonin"
description = "Low serotonin."
query = 'fibromyalgia[tiab] AND serotonin[tiab]'
terms = ["serotonin", "5-HT"]

[[hypothesis]]
id = "sleep"
label = "Disturbed sleep"
description = "Non-restorative sleep."
query = 'fibromyalgia[tiab] AND sleep[tiab]'
terms = ["sleep"]
'''

BASELINE_QUERY = "fibromyalgia[tiab]"
SEROTONIN_QUERY = "fibromyalgia[tiab] AND serotonin[tiab]"
SLEEP_QUERY = "fibromyalgia[tiab] AND sleep[tiab]"


def make_settings(tmp_path: Path, base_url: str, **overrides: object) -> Settings:
    """Settings for a test: the small hypotheses file, a store in tmp, the stand-in's URL, fast back-off."""
    hypotheses = tmp_path / "hypotheses.toml"
    hypotheses.write_text(HYPOTHESES_TOML, encoding="utf-8")
    settings = load_settings(environ={
        "TRACKER_HYPOTHESES": str(hypotheses), "TRACKER_DB": str(tmp_path / "tracker.sqlite"),
        "NCBI_EUTILS_URL": base_url, "NCBI_EMAIL": "curator@example.org", "NCBI_API_KEY": "0123456789abcdef"})
    defaults = {"batch_size": 10, "backoff_base_s": 0.01, "backoff_max_s": 0.05, "read_timeout_s": 5.0}
    return dataclasses.replace(settings, **{**defaults, **overrides})


def article_xml(pmid: int, *, year: int = 2015, entrez: date | None = None, revised: date | None = None,
                retracted_in: int | None = None, title: str | None = None) -> bytes:
    """One synthetic record with fixed dates so the stand-in's date windows are predictable."""
    return synthetic_article_xml(pmid, random.Random(pmid), year=year, title=title, retracted_in=retracted_in,
                                 entrez_date=entrez or date(year, 6, 1), revised_date=revised or date(year, 7, 1))


def seed_corpus(server: EutilsStandin, baseline: range, serotonin: set[int], sleep: set[int]) -> None:
    """Serve records for every baseline PMID and answer the three queries."""
    for pmid in baseline:
        year = 1990 + pmid % 35
        server.add_record(pmid, article_xml(pmid, year=year), edat=date(year, 6, 1), pdat=date(year, 5, 1),
                          mdat=date(year, 7, 1), crdt=date(year, 6, 1))
    server.set_query(BASELINE_QUERY, baseline, translation='"fibromyalgia"[Title/Abstract]')
    server.set_query(SEROTONIN_QUERY, serotonin,
                     translation='"fibromyalgia"[Title/Abstract] AND "serotonin"[Title/Abstract]')
    server.set_query(SLEEP_QUERY, sleep, translation='"fibromyalgia"[Title/Abstract] AND "sleep"[Title/Abstract]')
