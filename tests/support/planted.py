"""A corpus with emerging ideas planted in it, for the tests of `tracker emerging` and its dashboard page."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from tracker.config import DEFAULT_HYPOTHESES_PATH, load_hypotheses
from tracker.models import AbstractSection, Article, MeshHeading

from .seed import seed_store

# Relative to today, so that the suite passes on any date: the last complete year is the default --as-of.
LAST_YEAR = datetime.now(timezone.utc).year - 1
FIRST_YEAR = LAST_YEAR - 15
ONSET = LAST_YEAR - 2
PER_YEAR = 40
RISING_SENTENCES = ("Trelaxin receptor was higher.", "The trelaxin receptor was lower.",
                    "The trelaxin receptor was expressed.")


def planted_articles() -> list[Article]:
    """PER_YEAR articles a year; a third mention "trelaxin receptor" from ONSET, a fifth "aquatic therapy"."""
    articles = []
    pmid = 30_000_000
    for year in range(FIRST_YEAR, LAST_YEAR + 1):
        for number in range(PER_YEAR):
            sentences = ["Women with fibromyalgia were compared with healthy controls."]
            if year >= ONSET and number % 3 == 0:
                sentences.append(RISING_SENTENCES[number % 9 // 3])
            if number % 5 == 0:
                sentences.append("Aquatic therapy was offered to every patient.")
            articles.append(Article(
                pmid=pmid, title=f"Fibromyalgia cohort report {number}", pub_year=year,
                entry_date=f"{year}-03-01", abstract=(AbstractSection(" ".join(sentences)),),
                mesh=(MeshHeading("Fibromyalgia", "D005356"), MeshHeading("Humans", "D006801")),
                keywords=("Trelaxin receptors",) if year >= ONSET and number % 6 == 0 else (),
                publication_types=("Journal Article",)))
            pmid += 1
    return articles


def seed_planted_store(db_path: Path) -> Path:
    """Store the planted articles under the shipped hypotheses; return the store's path."""
    seed_store(db_path, load_hypotheses(DEFAULT_HYPOTHESES_PATH), planted_articles())
    return db_path
