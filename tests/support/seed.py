"""Synthetic but realistic articles and a seeded store, for the tests of tagging, export and dashboard."""

from __future__ import annotations

import dataclasses
import random
import zlib
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from tracker import store
from tracker.analysis import tagging
from tracker.jobs import retag
from tracker.config import Hypothesis
from tracker.outputs.export import STANCE_READ_COLUMNS
from tracker.models import (
    AbstractSection,
    Article,
    Author,
    Correction,
    MeshHeading,
    MeshQualifier,
    STANCES,
)

# Sentences an abstract may carry, per shipped hypothesis: each names the hypothesis in words its rules know.
_HYPOTHESIS_SENTENCES: dict[str, tuple[str, ...]] = {
    "substance_p": ("Cerebrospinal fluid substance P (SP) was threefold higher than in controls.",
                    "Tachykinin signalling through the neurokinin-1 receptor was examined."),
    "serotonin": ("Serum serotonin (5-HT) and its precursor tryptophan were low.",
                  "Patients received an SSRI or placebo for 12 weeks."),
    "sleep": ("Polysomnography showed alpha-delta sleep and less slow-wave sleep.",
              "Somatomedin C (IGF-1) levels were reduced."),
    "autonomic": ("Heart-rate variability showed sympathetic predominance.",
                  "Tilt-table testing provoked orthostatic intolerance."),
    "injury": ("Onset followed a whiplash injury in a motor vehicle accident.",),
    "infection": ("Hepatitis C virus infection was more common than expected.",
                  "Symptoms began after SARS-CoV-2 infection (long COVID)."),
    "muscle": ("Muscle biopsy showed mitochondrial changes and low ATP.",
               "Phosphocreatine recovery was slower after exercise."),
    "stress_hormones": ("Salivary cortisol and the HPA axis response to stress were blunted.",),
    "central_sensitisation": ("Temporal summation of pain (wind-up) was enhanced.",
                              "Conditioned pain modulation was impaired and thalamic blood flow reduced."),
}
# Sentences that look like a hypothesis but must not tag it.
_LOOK_ALIKES = (
    "SP, the study protocol, was registered in advance.",
    "Clinicians expressed sympathy for the patients.",
    "Na+/K+-ATPase activity was not measured.",
    "Participants kept a diary of their daily activity.",
)
_FILLER = (
    "Women with fibromyalgia were compared with healthy controls.",
    "Pain intensity was rated on a visual analogue scale.",
    "The Fibromyalgia Impact Questionnaire improved by 14 points.",
    "Fatigue and tender point counts were recorded at baseline.",
    "The results support a multifactorial model of chronic widespread pain.",
    "Quality of life was assessed with the SF-36 in São Paulo and Zürich.",
    "TNF-α and IL-1β were measured in plasma.",
)
_PUBLICATION_TYPE_SETS = (
    ("Journal Article",),
    ("Journal Article", "Randomized Controlled Trial"),
    ("Journal Article", "Clinical Trial"),
    ("Journal Article", "Review"),
    ("Journal Article", "Systematic Review", "Meta-Analysis"),
    ("Journal Article", "Systematic Review"),
    ("Journal Article", "Comparative Study"),
    ("Journal Article", "Observational Study"),
    ("Case Reports",),
    ("Letter", "Comment"),
    ("Editorial",),
)
_DESIGN_MESH = ((), ("Cohort Studies", "Prospective Studies"), ("Case-Control Studies",), ("Cross-Sectional Studies",))
_SPECIES_MESH = (("Humans", "Female", "Middle Aged"), ("Humans", "Adult"), ("Animals", "Rats", "Rats, Sprague-Dawley"),
                 ("Humans", "Animals", "Mice"), ())
_TOPIC_MESH = ("Fibromyalgia", "Pain Measurement", "Chronic Pain", "Substance P", "Serotonin", "Sleep",
               "Heart Rate", "Whiplash Injuries", "Hydrocortisone", "Muscle, Skeletal")
_LAST_NAMES = ("Smith", "Müller", "García", "Núñez", "Østergaard", "Wolfe", "Russell", "Yunus", "Clauw", "Crofford")
_FORE_NAMES = ("Anna", "José", "Björn", "Li", "Frederick", "Muhammad", "Daniel", "Leslie", "Ines", "Jon")
_JOURNALS = (("Arthritis and rheumatism", "Arthritis Rheum"), ("Pain", "Pain"),
             ("The Journal of rheumatology", "J Rheumatol"), ("Scandinavian journal of rheumatology", "Scand J Rheumatol"))


def _author(rng: random.Random) -> Author:
    fore_name = rng.choice(_FORE_NAMES)
    return Author(last_name=rng.choice(_LAST_NAMES), fore_name=fore_name, initials=fore_name[0],
                  affiliations=("Department of Rheumatology, University Hospital",))


def make_articles(count: int, seed: int = 0) -> list[Article]:
    """Build `count` varied, realistic articles deterministically from `seed`."""
    rng = random.Random(seed)
    articles = []
    for number in range(count):
        pmid = 20_000_000 + seed * 1_000_000 + number
        topics = rng.sample(sorted(_HYPOTHESIS_SENTENCES), k=rng.choice((0, 1, 1, 2, 3)))
        sentences = [rng.choice(_HYPOTHESIS_SENTENCES[topic]) for topic in topics]
        sentences += rng.sample(_FILLER, k=3)
        if rng.random() < 0.2:
            sentences.append(rng.choice(_LOOK_ALIKES))
        rng.shuffle(sentences)
        if rng.random() < 0.05:
            sentences = [s.replace("fibromyalgia", "chronic pain").replace("Fibromyalgia", "Chronic Pain")
                         for s in sentences]
        if rng.random() < 0.5:
            half = len(sentences) // 2
            abstract = (AbstractSection(" ".join(sentences[:half]), "BACKGROUND", "BACKGROUND"),
                        AbstractSection(" ".join(sentences[half:]), "RESULTS", "RESULTS"))
        else:
            abstract = (AbstractSection(" ".join(sentences)),) if rng.random() < 0.95 else ()
        topic_words = " and ".join(topic.replace("_", " ") for topic in topics) or "clinical features"
        year = None if rng.random() < 0.04 else rng.randint(1985, 2026)
        publication_types = list(rng.choice(_PUBLICATION_TYPE_SETS))
        corrections: list[Correction] = []
        if rng.random() < 0.04:
            publication_types.append("Retracted Publication")
            corrections.append(Correction("RetractionIn", pmid + 500_000, "Pain. 2020;1:1"))
        if rng.random() < 0.03:
            corrections.append(Correction("ErratumIn", pmid + 600_000, "Pain. 2021;2:2"))
        if rng.random() < 0.01:
            corrections.append(Correction("ExpressionOfConcernIn", pmid + 700_000, "Pain. 2022;3:3"))
        mesh_names = (*rng.choice(_SPECIES_MESH), *rng.choice(_DESIGN_MESH), *rng.sample(_TOPIC_MESH, k=2))
        mesh = tuple(MeshHeading(descriptor=name, ui=f"D{zlib.crc32(name.encode()) % 1_000_000:06d}",
                                 major=name in _TOPIC_MESH,
                                 qualifiers=(MeshQualifier("physiopathology", major=False),) if name in _TOPIC_MESH else ())
                     for name in dict.fromkeys(mesh_names))
        journal, journal_iso = rng.choice(_JOURNALS)
        articles.append(Article(
            pmid=pmid,
            title=f"{topic_words.capitalize()} in fibromyalgia: a study of {rng.randint(12, 400)} patients",
            abstract=abstract,
            journal=journal, journal_iso=journal_iso, volume=str(rng.randint(1, 60)), issue=str(rng.randint(1, 12)),
            pages=f"{rng.randint(1, 900)}-{rng.randint(901, 999)}",
            pub_year=year, pub_month=rng.randint(1, 12) if year else None, pub_day=None,
            pub_date_raw=None if year else "Spring",
            entry_date=f"{year or 2001}-06-01",
            authors=tuple(_author(rng) for _ in range(rng.randint(1, 5))),
            doi=f"10.1000/fm.{pmid}" if rng.random() < 0.8 else None,
            languages=("eng",) if rng.random() < 0.9 else ("ger",),
            publication_types=tuple(publication_types),
            mesh=mesh,
            keywords=tuple(rng.sample(("fibromyalgia", "chronic pain", "central sensitization", "sleep", "cortisol"),
                                      k=rng.randint(0, 2))),
            corrections=tuple(corrections),
        ))
    return articles


def seed_store(db_path: Path, hypotheses: Sequence[Hypothesis], articles: Sequence[Article],
               links: dict[str, set[int]] | None = None) -> None:
    """Store articles as fetched by one succeeded fetch run (new in it), link them to hypotheses, then tag them.

    Each article is linked to the baseline and to the hypotheses whose terms it mentions; a hypothesis id in
    `links` replaces that default with exactly the PMIDs given (an empty set: no links).
    """
    links = links or {}
    connection = store.connect(db_path)
    try:
        run_id = store.start_run(connection, full_sync=True)
        now = store.utc_now()
        with store.transaction(connection):
            store.record_run_articles(connection, run_id, store.save_articles(connection, articles, "pubmed", now=now))
        mentioned = tagging.tag_articles(store.load_articles_frame(connection), hypotheses).tags
        with store.transaction(connection):
            for hypothesis in hypotheses:
                if hypothesis.id in links:
                    pmids = set(links[hypothesis.id])
                elif hypothesis.baseline:
                    pmids = {article.pmid for article in articles}
                else:
                    pmids = set(mentioned.loc[mentioned["hypothesis_id"] == hypothesis.id, "pmid"].astype(int))
                store.link_hypothesis(connection, hypothesis.id, sorted(pmids), now)
                store.record_run_hypothesis(connection, run_id, hypothesis.id, "succeeded", pubmed_count=len(pmids),
                                            stored_count=len(pmids), new_count=len(pmids))
                store.save_sync_state(connection, hypothesis.id, query=hypothesis.query, query_translation=None,
                                      pubmed_count=len(pmids), window_count=1, modified_since=now, run_id=run_id)
        store.finish_run(connection, run_id, "succeeded", None, requests=2 * len(hypotheses),
                         efetch_requests=len(hypotheses))
        retag.refresh_tags(connection, hypotheses)
    finally:
        connection.close()


def add_fetch_run(db_path: Path, hypotheses: Sequence[Hypothesis], articles: Sequence[Article],
                  changed: Sequence[Article] = (), status: str = "succeeded") -> int:
    """Record one more fetch run that stores `articles` for the first time and re-saves the stored `changed` ones
    (modified copies), linking them to the baseline and tagging them; return its id."""
    connection = store.connect(db_path)
    try:
        run_id = store.start_run(connection, full_sync=False)
        now = store.utc_now()
        with store.transaction(connection):
            outcomes = store.save_articles(connection, [*articles, *changed], "pubmed", now=now)
            store.record_run_articles(connection, run_id, outcomes)
            baseline = [h.id for h in hypotheses if h.baseline]
            for hypothesis_id in baseline:
                store.link_hypothesis(connection, hypothesis_id, [a.pmid for a in articles], now)
        store.finish_run(connection, run_id, status, None if status == "succeeded" else "no network")
        retag.refresh_tags(connection, hypotheses, [a.pmid for a in (*articles, *changed)])
    finally:
        connection.close()
    return run_id


def retracted_copy(article: Article) -> Article:
    """The article as PubMed sends it once a retraction is linked to it."""
    return dataclasses.replace(article, publication_types=(*article.publication_types, "Retracted Publication"),
                               corrections=(Correction("RetractionIn", article.pmid + 1, "Pain. 2026"),))


def seed_two_runs(db_path: Path, hypotheses: Sequence[Hypothesis], articles: Sequence[Article],
                  late_articles: Sequence[Article], retracted_count: int) -> Path:
    """Run 1 stores `articles`; run 2, the same day, stores `late_articles` (what "new in the latest run" must
    find) and links a retraction to the first `retracted_count` stored ones (what "changed in run" must find)."""
    seed_store(db_path, hypotheses, articles)
    add_fetch_run(db_path, hypotheses, late_articles,
                  changed=[retracted_copy(article) for article in articles[:retracted_count]])
    return db_path


def read_catalogue(db_path: Path):
    """The store's catalogue as the dashboard and exports read it: through a read-only connection."""
    with store.reading(db_path) as connection:
        return store.load_catalogue(connection)


def read_stances(db_path: Path) -> pd.DataFrame:
    """Every stored stance row's key, stance, confidence and review columns, as the dashboard and the exports read
    them."""
    with store.reading(db_path) as connection:
        return store.load_stance_frame(connection, columns=STANCE_READ_COLUMNS)


def read_run_history(db_path: Path):
    """The store's run history, read as the dashboard and exports read it."""
    with store.reading(db_path) as connection:
        return store.load_run_history(connection)


def seed_stances(db_path: Path, catalogue: pd.DataFrame) -> pd.DataFrame:
    """Store a stance row for most (article, cause) pairs, cycling through the stances; a few pairs stay unread."""
    pairs = catalogue[["pmid", "hypotheses"]].explode("hypotheses").dropna()
    pairs = pairs[pairs["hypotheses"] != "fibromyalgia"].reset_index(drop=True)
    pairs = pairs[pairs.index % 7 != 6].reset_index(drop=True)
    stances = pd.DataFrame({
        "pmid": pairs["pmid"].astype("int64"),
        "hypothesis_id": pairs["hypotheses"].astype(object),
        "stance": [STANCES[i % len(STANCES)] for i in range(len(pairs))],
        # Mostly direct evidence, with treatment results and reviews the verdict keeps apart.
        "evidence_kind": [("comparison", "association", "comparison", "intervention", "review")[i % 5]
                          for i in range(len(pairs))],
        "hedged": [i % 6 == 0 for i in range(len(pairs))],
        "section": "RESULTS",
        "sentence": "Levels were significantly higher than in healthy controls.",
        "cue": "significantly higher",
        "n_patients": [30 + i % 50 if i % 3 else None for i in range(len(pairs))],
        "n_controls": [20 if i % 3 else None for i in range(len(pairs))],
        # Every third reading is low-confidence, with its reason, as the reader gives one (3 and the 4 stances
        # share no factor: every stance gets some).
        "confidence": ["low" if i % 3 == 2 else "high" for i in range(len(pairs))],
        "confidence_reason": ["hedged" if i % 3 == 2 else None for i in range(len(pairs))],
    })
    connection = store.connect(db_path)
    try:
        with store.transaction(connection):
            store.save_stances(connection, stances, stances["pmid"].unique().tolist(), "test-rules")
    finally:
        connection.close()
    return stances


def undo_run_counts(connection) -> None:
    """Take a store's schema back to before its counts per run (migration 12): no `run_counts` and its triggers, the
    facets' index on their rules version; for the tests of the migrations that came before."""
    for trigger in ("run_counts_insert", "run_counts_delete"):
        connection.execute(f"DROP TRIGGER {trigger}")
    connection.execute("DROP TABLE run_counts")
    connection.execute("CREATE INDEX article_facets_rules_version ON article_facets(rules_version)")
