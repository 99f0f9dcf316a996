"""The Streamlit dashboard: ``app.py`` is the entry script, ``views/`` holds one script per page."""
