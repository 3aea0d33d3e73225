"""`tracker demo`: the project's own E-utilities stand-in on loopback, serving a generated corpus of synthetic
records under the configured hypotheses' queries, so the tracker can be tried without PubMed.

The tests talk to the same stand-in (`standin`) and build their records with the same generator (`synthetic`).
"""
