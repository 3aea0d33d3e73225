"""Synthetic PubMed XML for the stand-in and the benchmarks; it lives in the package (`tracker/demo/synthetic.py`),
where `tracker demo` generates its corpus with it too."""

from tracker.demo.synthetic import (DOCTYPE_LINE, TOPICS, pubmed_article_set,  # noqa: F401
                                    synthetic_article_xml, synthetic_corpus)
