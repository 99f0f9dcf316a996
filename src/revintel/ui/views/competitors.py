"""Competitors: win and loss by competitor, trend by quarter, threats and opportunities.

Thin: reads the options, calls :mod:`revintel.pipeline.service`, draws. Definitions:
``docs/pipeline.md``.
"""

from __future__ import annotations

import streamlit as st

st.title("Competitors")
