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

from dashboard import screens

st.set_page_config(page_title="Fibromyalgia evidence tracker", page_icon=":material/menu_book:", layout="wide")
screens.render(sys.argv[1:], os.environ)
