"""Reports: the executive report of a month as HTML, PDF or PowerPoint, with its narrative and an
inline preview.

Thin: reads the month and format, calls :func:`revintel.app.retention.executive.executive_report`
and :func:`~revintel.app.retention.executive.render`, offers the file. Definitions:
``docs/retention.md``, Executive report.
"""

from __future__ import annotations

import streamlit as st
import streamlit.components.v1 as components

from revintel.app.context import AppContext
from revintel.app.retention.executive import (
    MEDIA_TYPES,
    Format,
    executive_report,
    file_name,
    report_months,
)
from revintel.app.retention.executive import render as render_report
from revintel.core.errors import RevintelError
from revintel.ui.components import current_context, has_data, render_empty_state

FORMATS: dict[Format, str] = {"html": "HTML page", "pdf": "PDF (A4)", "pptx": "PowerPoint"}
PREVIEW_HEIGHT = 900


def render(ctx: AppContext) -> None:
    """The whole page."""
    st.title("Reports", anchor=False)
    st.caption(
        "The executive report of a month: headline KPIs with changes, MRR movements, the forecast "
        "with its intervals, anomalies, churn risk and capital at risk, the accounts most at "
        "risk, campaign results, pipeline and attribution, and a narrative written from the "
        "numbers. Every figure is the one `revintel metrics summary`, "
        "`revintel churn predictions` and the other commands print for the same month. "
        "Definitions: docs/retention.md, Executive report."
    )
    if not has_data(ctx):
        render_empty_state(ctx)
        return
    try:
        months = report_months(ctx)
    except RevintelError as exc:
        st.warning(str(exc), icon=":material/info:")
        return
    left, middle, right = st.columns([2, 2, 1], vertical_alignment="bottom")
    month = left.selectbox("Month", months, index=0, key="report_month")
    fmt = middle.radio(
        "Format",
        list(FORMATS),
        format_func=FORMATS.__getitem__,
        horizontal=True,
        key="report_format",
    )
    if right.button("Generate", type="primary", icon=":material/summarize:", key="report_go"):
        try:
            with st.spinner(f"Building the executive report of {month}…"):
                report = executive_report(ctx, month)
                data = render_report(report, fmt)
                preview = data if fmt == "html" else render_report(report, "html")
        except RevintelError as exc:
            st.error(str(exc), icon=":material/error:")
            return
        st.session_state["report_result"] = {
            "month": report.month,
            "format": fmt,
            "data": data,
            "file_name": file_name(report, fmt),
            "preview": preview.decode("utf-8"),
            "narrative": list(report.narrative),
            "missing": [(m.section, m.reason) for m in report.missing],
        }
    result = st.session_state.get("report_result")
    if result is None:
        st.info("Choose a month and a format, then Generate.", icon=":material/info:")
        return
    st.download_button(
        f"Download {FORMATS[result['format']]} ({len(result['data']) / 1024:,.0f} KB)",
        data=result["data"],
        file_name=result["file_name"],
        mime=MEDIA_TYPES[result["format"]].split(";")[0],
        icon=":material/download:",
        key="report_download",
    )
    st.subheader(f"Summary, {result['month']}", anchor=False)
    with st.container(border=True, key="report_narrative"):
        for sentence in result["narrative"]:
            st.markdown(sentence.replace("$", "\\$"))
    for section, reason in result["missing"]:
        st.caption(f":material/info: {section.capitalize()}: {reason}")
    st.subheader("Preview", anchor=False)
    components.html(result["preview"], height=PREVIEW_HEIGHT, scrolling=True)


if __name__ == "__main__":  # Streamlit runs a page script as __main__
    render(current_context())
