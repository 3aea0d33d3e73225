"""Two hand-written abstracts whose stances the review tests correct, and reads of what the store then holds."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tracker import store
from tracker.analysis.reviews import REVIEW_COLUMNS
from tracker.config import DEFAULT_HYPOTHESES_PATH, load_hypotheses
from tracker.models import AbstractSection, Article, MeshHeading

SHIPPED = load_hypotheses(DEFAULT_HYPOTHESES_PATH)
CAUSES = [h.id for h in SHIPPED if not h.baseline]
SEROTONIN_SENTENCE = "Serum serotonin did not differ between the groups."
# The stance reader reads substance P as supported and serotonin as contradicted here.
PAIRED = Article(
    pmid=32_000_001, title="Substance P and serotonin in fibromyalgia", pub_year=2020,
    mesh=(MeshHeading("Fibromyalgia"), MeshHeading("Humans")),
    publication_types=("Journal Article", "Comparative Study"),
    abstract=(
        AbstractSection("We studied 74 women with fibromyalgia and 30 healthy controls.", "METHODS", "METHODS"),
        AbstractSection("CSF substance P was significantly higher in patients with fibromyalgia than in healthy "
                        f"controls. {SEROTONIN_SENTENCE}", "RESULTS", "RESULTS"),
    ),
)
SLEEP = Article(
    pmid=32_000_002, title="Sleep in fibromyalgia", pub_year=2018, mesh=(MeshHeading("Humans"),),
    abstract=(AbstractSection("We recorded polysomnography in 20 patients with fibromyalgia and 20 healthy "
                              "controls. Slow-wave sleep was reduced in fibromyalgia patients compared with "
                              "controls."),),
)


def read_reviews(db_path: Path) -> pd.DataFrame:
    """Every stored review, oldest first."""
    with store.reading(db_path) as connection:
        return store.load_reviews(connection)


def read_counted_stances(db_path: Path) -> pd.DataFrame:
    """The stance rows every count reads, with their sentence, cue and the review columns."""
    with store.reading(db_path) as connection:
        return store.load_stance_frame(connection, columns=("stance", "sentence", "cue", *REVIEW_COLUMNS))
