"""Attribution: every model's credit per channel side by side, and the difference from last touch.

Thin: reads the options, calls :mod:`revintel.attribution.service`, draws. Definitions:
``docs/attribution.md``.
"""

from __future__ import annotations

import streamlit as st

st.title("Attribution")
