"""The demo's corpus: synthetic records, every title marked "[Synthetic]", found by the configured queries."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from tracker.config import Hypothesis
from tracker.demo.standin import EutilsStandin
from tracker.demo.synthetic import TOPICS, synthetic_article_xml

# Far above real PMIDs (about 41 million in 2026), so a demo record never shares a PMID with a real article.
DEMO_FIRST_PMID = 90_000_000
SYNTHETIC_MARK = "[Synthetic] "
# A cause of the shipped hypotheses file whose synthetic topic goes by another name.
_TOPIC_OF_CAUSE = {"stress_hormones": "stress_hpa"}
# Share of records that a second cause's query finds too, and share retracted (PubMed's real share is far lower;
# the demo shows what a retraction looks like).
_SECOND_CAUSE_SHARE = 0.2
_RETRACTED_SHARE = 0.02


@dataclass(frozen=True)
class DemoCorpus:
    """The records by PMID, and the PMIDs each hypothesis' query finds (the baseline's finds them all)."""

    records: dict[int, bytes]
    members: dict[str, frozenset[int]]


def demo_corpus(hypotheses: Sequence[Hypothesis], count: int, seed: int = 0) -> DemoCorpus:
    """Generate `count` synthetic records; the same seed gives the same bytes on every machine."""
    rng = random.Random(seed)
    causes = [h.id for h in hypotheses if not h.baseline]
    # Each record is about one cause that has a synthetic topic; a cause without one is found only as a second cause.
    topics = {cause: _TOPIC_OF_CAUSE.get(cause, cause) for cause in causes
              if _TOPIC_OF_CAUSE.get(cause, cause) in TOPICS}
    members: dict[str, set[int]] = {h.id: set() for h in hypotheses}
    records: dict[int, bytes] = {}
    for pmid in range(DEMO_FIRST_PMID, DEMO_FIRST_PMID + count):
        cause = rng.choice(list(topics)) if topics else None
        retracted_in = pmid + count if rng.random() < _RETRACTED_SHARE else None
        records[pmid] = synthetic_article_xml(pmid, rng, topic=topics.get(cause), retracted_in=retracted_in,
                                              title_prefix=SYNTHETIC_MARK)
        for hypothesis in hypotheses:
            if hypothesis.baseline:
                members[hypothesis.id].add(pmid)
        if cause is not None:
            members[cause].add(pmid)
        if causes and rng.random() < _SECOND_CAUSE_SHARE:
            members[rng.choice(causes)].add(pmid)
    return DemoCorpus(records, {hypothesis_id: frozenset(pmids) for hypothesis_id, pmids in members.items()})


def serve_demo_corpus(server: EutilsStandin, corpus: DemoCorpus, hypotheses: Sequence[Hypothesis]) -> None:
    """Make the stand-in serve the records and answer each hypothesis' query with its members."""
    server.add_corpus(corpus.records)
    for hypothesis in hypotheses:
        server.set_query(hypothesis.query, corpus.members[hypothesis.id])
