"""PubMed in: the E-utilities client and the parsers of PubMed XML and MEDLINE text into `Article` records.

Never imports the store, the analysis or the outputs (tests/test_layers.py, ARCHITECTURE.md).
"""
