"""The dashboard's ASGI application, which ``streamlit run`` serves (it finds ``app`` here).

Streamlit serving the entry script ``app.py``, plus one route per page URL that answers with
Streamlit's own ``index.html`` told where the server is (:func:`revintel.ui.server.page_routes`).
"""

from pathlib import Path

import streamlit as st

from revintel.ui.server import page_routes

app = st.App(Path(__file__).with_name("app.py"), routes=page_routes())
