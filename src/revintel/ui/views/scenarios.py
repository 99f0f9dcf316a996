"""Scenarios: what-if sliders, baseline against projected.

Thin: reads the options, calls :mod:`revintel.pipeline.service`, draws. Definitions:
``docs/pipeline.md``.
"""

from __future__ import annotations

import streamlit as st

st.title("Scenarios")
