"""Jobs: the scheduled jobs with their schedules, next and last runs, a run-now button for each,
and the history of runs (docs/retention.md, Scheduled jobs).

Thin: calls :mod:`revintel.app.retention.jobs` (``list_jobs``, ``run_job``, ``job_history``).
"""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st

from revintel.app.context import AppContext
from revintel.app.retention import jobs
from revintel.core.errors import RevintelError
from revintel.ui.components import current_context, flash, show_flash

STATUS_BADGES = {
    "success": ("green", ":material/check_circle:"),
    "failed": ("red", ":material/error:"),
    "skipped": ("gray", ":material/skip_next:"),
    "running": ("blue", ":material/progress_activity:"),
}


def _when(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if value else "—"


def render(ctx: AppContext) -> None:
    """The whole page."""
    st.title("Jobs", anchor=False)
    show_flash()
    st.caption(
        "Scheduled work: scoring, retraining, alerts, digests, exports and the executive "
        "report. Schedules are crontab lines in UTC, set in [retention.jobs] schedules. They run "
        "under `revintel serve --scheduler` or `revintel scheduler`; one run of a job at a time "
        "across every process (a second is recorded as skipped)."
    )
    try:
        overview = jobs.list_jobs(ctx)
    except RevintelError as exc:
        st.error(str(exc), icon=":material/error:")
        return
    render_jobs(ctx, overview)
    render_history(ctx)


def render_jobs(ctx: AppContext, overview: jobs.JobsOverview) -> None:
    """One row per job: schedule, next run, last run, and a run-now button."""
    st.subheader("Scheduled jobs", anchor=False)
    widths = [3, 2, 2, 3, 1.4]
    head = st.columns(widths)
    for col, label in zip(head, ("Job", "Schedule (UTC)", "Next run", "Last run", ""), strict=True):
        col.markdown(f"**{label}**")
    for job in overview.jobs:
        with st.container(border=True, key=f"job_row_{job.name}"):
            cols = st.columns(widths, vertical_alignment="center")
            cols[0].markdown(f"**{job.title}**  \n`{job.name}`")
            cols[0].caption(job.description)
            source = " (settings)" if job.schedule_source == "settings" else ""
            cols[1].markdown(f"`{job.schedule}`{source}")
            cols[2].markdown(_when(job.next_run) if job.schedule != "off" else "disabled")
            last = job.last_run
            with cols[3]:
                if last is None:
                    st.caption("never run")
                else:
                    colour, icon = STATUS_BADGES.get(last.status, ("gray", None))
                    st.badge(last.status, color=colour, icon=icon)  # type: ignore[arg-type]
                    took = (
                        f" · {last.duration_seconds:.1f} s"
                        if last.duration_seconds is not None
                        else ""
                    )
                    st.caption(f"{_when(last.started_at)} ({last.trigger}){took}")
                    if last.error:
                        st.caption(last.error[:300])
            if cols[4].button(
                "Run now",
                key=f"job_run_{job.name}",
                icon=":material/play_arrow:",
                disabled=job.running,
            ):
                run_now(ctx, job.name)


def run_now(ctx: AppContext, name: str) -> None:
    """Run a job and say how it ended (on the next run of the page)."""
    with st.spinner(f"Running {name}…"):
        try:
            record = jobs.run_job(ctx, name, trigger="manual")
        except RevintelError as exc:
            st.error(str(exc), icon=":material/error:")
            return
    if record.status == "success":
        flash(f"{name}: success in {record.duration_seconds or 0:.1f} s")
    else:
        flash(f"{name}: {record.status} — {(record.error or '')[:200]}")
    st.rerun()


def render_history(ctx: AppContext) -> None:
    """The recorded runs, newest first, optionally of one job."""
    st.subheader("History", anchor=False)
    cols = st.columns([2, 1, 3])
    job = cols[0].selectbox(
        "Job", ["All jobs", *jobs.JOBS], key="jobs_history_job", format_func=str
    )
    limit = cols[1].number_input("Runs", 1, 1000, 50, key="jobs_history_limit")
    history = jobs.job_history(ctx, None if job == "All jobs" else job, int(limit))
    if not history.runs:
        st.info("No job has run yet.", icon=":material/schedule:")
        return
    rows = [
        {
            "run": r.run_id,
            "job": r.job,
            "trigger": r.trigger,
            "status": r.status,
            "started": r.started_at,
            "seconds": r.duration_seconds,
            "error": r.error or "",
            "summary": ", ".join(f"{k}: {v}" for k, v in r.summary.items())[:300],
        }
        for r in history.runs
    ]
    st.dataframe(
        rows,
        hide_index=True,
        key="jobs_history",
        column_config={
            "started": st.column_config.DatetimeColumn("started (UTC)", format="YYYY-MM-DD HH:mm"),
            "seconds": st.column_config.NumberColumn("seconds", format="%.1f"),
        },
    )


if __name__ == "__main__":  # Streamlit runs a page script as __main__
    render(current_context())
