"""Pure analysis over frames: tags, stance, emerging ideas, evidence counts. No I/O, no clock, no network.

Never imports the store, PubMed, the jobs or Streamlit (tests/test_layers.py, ARCHITECTURE.md).
"""
