"""The scheduled jobs' names, their default schedules, and crontab lines read as APScheduler
triggers (docs/retention.md, Scheduled jobs).

A schedule is a standard five-field crontab line, ``minute hour day month weekday``, in UTC, as
``crontab(5)`` reads it: weekday 0 or 7 is Sunday, 1 Monday … 6 Saturday, or the names
``mon``…``sun``; ``*``, lists (``1,15``), ranges (``1-5``) and steps (``*/15``, ``0-30/10``).
APScheduler numbers weekdays from Monday, so numeric weekdays are translated to names here
before it reads them. One difference from cron: when both the day of month and the weekday are
restricted, a run needs both to match (cron runs when either does). ``off`` disables a job.
"""

from __future__ import annotations

import re
from datetime import UTC

from apscheduler.triggers.cron import CronTrigger

JOB_NAMES: tuple[str, ...] = (
    "score_customers",
    "retrain",
    "evaluate_alerts",
    "daily_digest",
    "weekly_digest",
    "export_high_risk",
    "executive_report",
)

DEFAULT_SCHEDULES: dict[str, str] = {
    "score_customers": "0 2 * * *",  # daily 02:00, after the nightly load
    "retrain": "30 3 * * 0",  # Sundays 03:30: the policy retrains only when due
    "evaluate_alerts": "15 * * * *",  # hourly, after scoring
    "daily_digest": "0 8 * * *",  # daily 08:00
    "weekly_digest": "0 8 * * 1",  # Mondays 08:00
    "export_high_risk": "0 6 * * 1",  # Mondays 06:00
    "executive_report": "0 7 1 * *",  # the 1st of each month 07:00
}

OFF = "off"
EXPECTED = (
    "five fields 'minute hour day month weekday' (UTC), e.g. '0 2 * * *' (daily 02:00) or "
    "'0 8 * * 1' (Mondays 08:00), or 'off'"
)
_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_FIELDS = ("minute", "hour", "day", "month", "day_of_week")


class ScheduleError(ValueError):
    """A crontab line that cannot be read (the message says which field and why)."""


def _weekdays(field: str) -> str:
    """The weekday field with cron's numbers (0/7 Sunday) written as APScheduler's names."""
    parts: list[str] = []
    for token in field.split(","):
        match = re.fullmatch(r"(\*|\d+(?:-\d+)?)(?:/(\d+))?", token)
        if match is None:  # names (mon-fri) or something APScheduler will judge
            parts.append(token.lower())
            continue
        span, step_text = match.groups()
        step = int(step_text) if step_text else 1
        if step < 1:
            raise ScheduleError(f"weekday step {token!r} must be at least 1")
        if span == "*":
            if step == 1:
                parts.append("*")
                continue
            low, high = 0, 6
        elif "-" in span:
            low, high = (int(x) for x in span.split("-"))
        else:
            low = high = int(span)
            if step_text:  # "1/2": from 1 to the end of the week, every second day
                high = 6
        if not (0 <= low <= 7 and 0 <= high <= 7) or low > high:
            raise ScheduleError(f"weekday {token!r} must be within 0-7 (0 and 7 are Sunday)")
        parts.extend(_DAY_NAMES[day % 7] for day in range(low, high + 1, step))
    return ",".join(dict.fromkeys(parts))  # without repeats (0 and 7 are both Sunday)


def parse_crontab(line: str) -> CronTrigger:
    """The trigger of a five-field crontab line (UTC); :class:`ScheduleError` if it is not one."""
    fields = line.split()
    if len(fields) != 5:
        raise ScheduleError(f"{len(fields)} field(s), not 5")
    values = dict(zip(_FIELDS, fields, strict=True))
    values["day_of_week"] = _weekdays(values["day_of_week"])
    try:
        return CronTrigger(timezone=UTC, **values)
    except ValueError as exc:
        raise ScheduleError(str(exc)) from exc


def check_schedules(schedules: dict[str, str]) -> dict[str, str]:
    """``schedules`` (job → crontab line or ``off``) with each line stripped; a ``ValueError``
    naming the job and the expected form for an unknown job or a line that cannot be read."""
    out: dict[str, str] = {}
    for job, line in schedules.items():
        if job not in JOB_NAMES:
            raise ValueError(f"unknown job {job!r}; expected one of {', '.join(JOB_NAMES)}")
        text = " ".join(str(line).split())
        if text.lower() != OFF:
            try:
                parse_crontab(text)
            except ScheduleError as exc:
                raise ValueError(
                    f"job {job!r}: {line!r} is not a crontab schedule ({exc}); expected {EXPECTED}"
                ) from exc
        out[job] = OFF if text.lower() == OFF else text
    return out


def schedule_of(job: str, overrides: dict[str, str]) -> tuple[str, str]:
    """The job's crontab line (or ``off``) and where it comes from: ``settings`` or
    ``default``."""
    if job in overrides:
        return overrides[job], "settings"
    return DEFAULT_SCHEDULES[job], "default"
