"""What leaves the tracker: one `Selection` of articles, and the exports and feed written from it.

Never imports the store or the jobs (tests/test_layers.py, ARCHITECTURE.md).
"""
