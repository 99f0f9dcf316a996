"""Expansion: accounts ranked by expansion opportunity, with reasons and the backtest lift.

Thin: reads the options, calls :mod:`revintel.pipeline.service`, draws. Definitions:
``docs/pipeline.md``.
"""

from __future__ import annotations

import streamlit as st

st.title("Expansion")
