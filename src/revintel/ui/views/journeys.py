"""Journeys: top paths, path lengths, time to convert, first-to-last flows and one
customer's journey.

Thin: reads the options, calls :mod:`revintel.attribution.service`, draws. Definitions:
``docs/attribution.md``.
"""

from __future__ import annotations

import streamlit as st

st.title("Journeys")
