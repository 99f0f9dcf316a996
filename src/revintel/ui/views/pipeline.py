"""Pipeline: KPI tiles, funnel by stage, pipeline created per month and coverage.

Thin: reads the options, calls :mod:`revintel.pipeline.service`, draws. Definitions:
``docs/pipeline.md``.
"""

from __future__ import annotations

import streamlit as st

st.title("Pipeline")
