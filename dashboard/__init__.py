"""The Streamlit evidence dashboard: `app.py` wires the page, `loaders` reads the store, `views` draws."""
