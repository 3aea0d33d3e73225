"""The evidence dashboard's page script: settings and the store's state, then the page the reader chose."""

from __future__ import annotations

import os
import sys
from pathlib import Path

# `streamlit run` puts only this file's folder on sys.path; the project folder holds the dashboard and tracker.
PROJECT_DIR = str(Path(__file__).resolve().parent.parent)
if PROJECT_DIR not in sys.path:
    sys.path.insert(0, PROJECT_DIR)

import streamlit as st

from dashboard import loaders, screens


# An emoji, not ":material/...:": Streamlit fetches a Material favicon from Google's font server, while an emoji
# becomes an inline SVG. Nothing the page loads may come from outside the machine.
DEMO_TITLE = " (synthetic demo)" if loaders.is_demo(sys.argv[1:]) else ""
st.set_page_config(page_title=f"Fibromyalgia evidence tracker{DEMO_TITLE}", page_icon="📚", layout="wide")
screens.render(sys.argv[1:], os.environ, now=loaders.utc_now())
