"""Alerts (docs/retention.md)."""

from __future__ import annotations

import streamlit as st

st.title("Alerts")
