"""The dashboard's look, passed to Streamlit as ``--theme.*`` flags.

A ``.streamlit/config.toml`` would only be found when Streamlit runs from the repository, so the
launcher passes the theme on the command line instead.
"""

from __future__ import annotations

PRIMARY = "#2563EB"  # calm blue
TEXT = "#1E293B"
MUTED_BACKGROUND = "#F5F7FB"
BORDER = "#E2E8F0"

THEME: dict[str, str] = {
    "base": "light",
    "primaryColor": PRIMARY,
    "backgroundColor": "#FFFFFF",
    "secondaryBackgroundColor": MUTED_BACKGROUND,
    "textColor": TEXT,
    "linkColor": PRIMARY,
    "borderColor": BORDER,
    "dataframeHeaderBackgroundColor": MUTED_BACKGROUND,
    "font": "sans-serif",
    "headingFont": "sans-serif",
    "baseRadius": "0.5rem",
    "showWidgetBorder": "true",
    "paddingTop": "3rem",
    "sidebar.backgroundColor": MUTED_BACKGROUND,
    "sidebar.secondaryBackgroundColor": "#FFFFFF",
}


def theme_flags(theme: dict[str, str] = THEME) -> list[str]:
    """``--theme.<option>=<value>`` for each theme option."""
    return [f"--theme.{option}={value}" for option, value in theme.items()]
