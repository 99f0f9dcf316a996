"""Deals: deals with health and close probability, and one deal's page (?deal=ID).

Thin: reads the options, calls :mod:`revintel.pipeline.service`, draws. Definitions:
``docs/pipeline.md``.
"""

from __future__ import annotations

import streamlit as st

st.title("Deals")
