"""The dashboard's entry script (``streamlit run``): page setup, context, sidebar, navigation.

Settings come from the environment (``REVINTEL_HOME`` …), which ``revintel dashboard`` sets.
"""

from __future__ import annotations

import streamlit as st

from revintel.ui.components import (
    PRODUCT,
    asset_url,
    open_context,
    render_sidebar,
    show_flash,
)
from revintel.ui.views import navigation_sections

st.set_page_config(
    page_title=PRODUCT,
    page_icon=asset_url("icon.svg"),
    layout="wide",
    initial_sidebar_state="expanded",
)

ctx = open_context()
page = st.navigation(navigation_sections())
render_sidebar(ctx)
show_flash()
page.run()
