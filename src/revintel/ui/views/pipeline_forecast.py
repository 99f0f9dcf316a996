"""Forecast: forecast methods side by side with intervals, and the accuracy backtest.

Thin: reads the options, calls :mod:`revintel.pipeline.service`, draws. Definitions:
``docs/pipeline.md``.
"""

from __future__ import annotations

import streamlit as st

st.title("Forecast")
