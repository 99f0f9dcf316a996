"""Channel ROI: spend, CAC, ROAS and ROI per channel and model, response curves and the
budget suggestion.

Thin: reads the options, calls :mod:`revintel.attribution.service`, draws. Definitions:
``docs/attribution.md``.
"""

from __future__ import annotations

import streamlit as st

st.title("Channel ROI")
