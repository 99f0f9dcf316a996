"""The dashboard's pages, by section. A capability adds its page with one line in ``PAGES``.

Each page is a script in this folder that Streamlit runs as ``__main__``: it reads the run's
context with :func:`revintel.ui.components.current_context`, calls services and draws. (The folder
is not called ``pages/``: next to the entry script, that name switches Streamlit to its older
folder-based navigation until ``st.navigation`` first runs.)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

PAGES_DIR = Path(__file__).parent


@dataclass(frozen=True)
class PageSpec:
    """One page: the navigation section it sits in, its script in this folder, title and icon."""

    section: str
    script: str
    title: str
    icon: str  # a Material icon, ":material/<name>:"
    default: bool = False

    @property
    def path(self) -> Path:
        return PAGES_DIR / self.script

    @property
    def url_path(self) -> str:
        return Path(self.script).stem.replace("_", "-")


PAGES: list[PageSpec] = [
    PageSpec("Overview", "home.py", "Home", ":material/home:", default=True),
    PageSpec("Data", "data.py", "Data", ":material/database:"),
    PageSpec("Data", "data_quality.py", "Data Quality", ":material/fact_check:"),
    PageSpec("Revenue", "executive_overview.py", "Executive Overview", ":material/monitoring:"),
    PageSpec("Revenue", "customer_insights.py", "Customer Insights", ":material/groups:"),
    PageSpec("Revenue", "financial_health.py", "Financial Health", ":material/account_balance:"),
    PageSpec("Accounts", "account_health.py", "Account Health", ":material/monitor_heart:"),
    PageSpec("Accounts", "account_360.py", "Account 360", ":material/account_circle:"),
    PageSpec("Accounts", "health_settings.py", "Health settings", ":material/tune:"),
    PageSpec("Churn & LTV", "churn_overview.py", "Churn Overview", ":material/trending_down:"),
    PageSpec("Churn & LTV", "high_risk.py", "High-Risk Customers", ":material/warning:"),
    PageSpec("Churn & LTV", "churn_segments.py", "Churn Segments", ":material/category:"),
    PageSpec("Churn & LTV", "customer_lookup.py", "Customer Lookup", ":material/person_search:"),
    PageSpec("Churn & LTV", "model_insights.py", "Model Insights", ":material/insights:"),
    PageSpec("Churn & LTV", "threshold_roi.py", "Threshold & ROI", ":material/tune:"),
    PageSpec("Churn & LTV", "model_training.py", "Model Training", ":material/model_training:"),
    PageSpec("Churn & LTV", "lifetime_value.py", "Lifetime Value", ":material/savings:"),
    PageSpec("Pipeline", "pipeline.py", "Pipeline", ":material/filter_alt:"),
    PageSpec("Pipeline", "pipeline_forecast.py", "Forecast", ":material/query_stats:"),
    PageSpec("Pipeline", "deals.py", "Deals", ":material/handshake:"),
    PageSpec("Pipeline", "scenarios.py", "Scenarios", ":material/science:"),
    PageSpec("Pipeline", "competitors.py", "Competitors", ":material/swords:"),
    PageSpec("Pipeline", "expansion.py", "Expansion", ":material/trending_up:"),
    PageSpec("Marketing", "attribution.py", "Attribution", ":material/call_split:"),
    PageSpec("Marketing", "channel_roi.py", "Channel ROI", ":material/paid:"),
    PageSpec("Marketing", "journeys.py", "Journeys", ":material/route:"),
    PageSpec("Retention", "segments.py", "Segments", ":material/filter_list:"),
    PageSpec("Retention", "campaigns.py", "Campaigns", ":material/campaign:"),
    PageSpec("Retention", "risk_trends.py", "Risk Trends", ":material/ssid_chart:"),
    PageSpec("Retention", "alerts.py", "Alerts", ":material/notifications:"),
    PageSpec("Retention", "reports.py", "Reports", ":material/summarize:"),
    PageSpec("Retention", "jobs.py", "Jobs", ":material/schedule:"),
]


def page_path(script: str) -> Path:
    """The path of a registered page script, for ``st.page_link``."""
    spec = next(s for s in PAGES if s.script == script)
    return spec.path


def navigation_sections(pages: list[PageSpec] = PAGES) -> dict[str, list[st.Page]]:
    """``st.navigation``'s input: sections in the order they first appear, pages in list order."""
    sections: dict[str, list[st.Page]] = {}
    for spec in pages:
        page = st.Page(
            spec.path,
            title=spec.title,
            icon=spec.icon,
            url_path=spec.url_path,
            default=spec.default,
        )
        sections.setdefault(spec.section, []).append(page)
    return sections
