"""Scheduled jobs: what each does, running one (one at a time across every process, through a
lock in the app store), recording every run, and the scheduler (docs/retention.md, Scheduled
jobs).

The jobs: ``score_customers`` (churn scoring of the warehouse), ``retrain`` (the churn retraining
policy: retrain when due, promote only if better), ``evaluate_alerts``, ``daily_digest`` and
``weekly_digest`` (alerts), ``export_high_risk`` (a CSV of the High risk tier, or of a saved
segment, to a folder and/or a webhook) and ``executive_report`` (the PDF, emailed). Schedules are
crontab lines (:mod:`revintel.retention.schedule`), overridable in ``[retention.jobs]
schedules``.

A run takes the job's lock (``store/jobs.py``: a lease renewed while the run lasts, so a crashed
process's lock frees itself after ``lock_seconds``); a run that finds the lock taken is recorded
as ``skipped``. Every run is recorded in ``job_runs`` with its trigger, status, duration, error
and a JSON summary. A job that fails (a missing setting, a capability that raises, a feature not
built yet) is recorded as ``failed`` with its message; nothing is raised to the scheduler.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import polars as pl
from sqlalchemy import select

from revintel.core.errors import ConfigError, InvalidOption, NotFoundError, RevintelError
from revintel.core.redact import redact_credentials
from revintel.retention.config import RetentionConfig, load_config
from revintel.retention.schedule import JOB_NAMES, OFF, parse_crontab, schedule_of
from revintel.store.jobs import JobRun, acquire_lock, lock_of, release_lock, renew_lock

if TYPE_CHECKING:
    from revintel.app.context import AppContext

log = logging.getLogger("revintel.jobs")

Trigger = Literal["schedule", "manual", "api"]
Status = Literal["running", "success", "failed", "skipped"]
TRIGGERS: tuple[str, ...] = ("schedule", "manual", "api")
MAX_ERROR = 4_000


@dataclass(frozen=True)
class JobSpec:
    """A job: its name, what it does, and the function that does it (returns a summary)."""

    name: str
    title: str
    description: str
    run: Callable[[AppContext, RetentionConfig], dict[str, Any]]


@dataclass(frozen=True)
class JobRunRecord:
    """One recorded run of a job."""

    run_id: int
    job: str
    trigger: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    duration_seconds: float | None
    error: str | None
    summary: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "job": self.job,
            "trigger": self.trigger,
            "status": self.status,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "duration_seconds": self.duration_seconds,
            "error": self.error,
            "summary": self.summary,
        }


@dataclass(frozen=True)
class JobStatus:
    """A job as the list shows it: its schedule, next and last run."""

    name: str
    title: str
    description: str
    schedule: str
    schedule_source: Literal["default", "settings"]
    next_run: datetime | None
    last_run: JobRunRecord | None
    running: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "schedule": self.schedule,
            "schedule_source": self.schedule_source,
            "enabled": self.schedule != OFF,
            "next_run": self.next_run.isoformat() if self.next_run else None,
            "running": self.running,
            "last_run": self.last_run.to_dict() if self.last_run else None,
        }


@dataclass(frozen=True)
class JobsOverview:
    """Every job with its schedule and last run."""

    jobs: list[JobStatus]
    now: datetime

    def to_dict(self) -> dict[str, Any]:
        return {"now": self.now.isoformat(), "jobs": [j.to_dict() for j in self.jobs]}


@dataclass(frozen=True)
class JobHistory:
    """Runs, newest first."""

    runs: list[JobRunRecord] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"runs": [r.to_dict() for r in self.runs]}


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _jsonable(value: Any) -> Any:
    """``value`` as plain JSON (dates as ISO text, anything else unknown as its text)."""

    def default(item: Any) -> Any:
        if isinstance(item, datetime | date):
            return item.isoformat()
        if isinstance(item, Path):
            return str(item)
        if hasattr(item, "item"):  # numpy scalar
            return item.item()
        return str(item)

    return json.loads(json.dumps(value, default=default))


def _summary(result: Any) -> dict[str, Any]:
    if result is None:
        return {}
    if hasattr(result, "to_dict"):
        result = result.to_dict()
    if not isinstance(result, dict):
        result = {"result": result}
    return _jsonable(result)


# -- the jobs -----------------------------------------------------------------------------------
def _score_customers(ctx: AppContext, _cfg: RetentionConfig) -> dict[str, Any]:
    from revintel.app.churn import score_warehouse

    run = score_warehouse(ctx)
    return {
        "model_version": run.version,
        "customers_scored": run.scored,
        "months": run.months,
        "seconds": round(run.seconds, 2),
    }


def _retrain(ctx: AppContext, _cfg: RetentionConfig) -> dict[str, Any]:
    from revintel.churn import service

    return _summary(service.retrain(ctx))


def _evaluate_alerts(ctx: AppContext, _cfg: RetentionConfig) -> dict[str, Any]:
    from revintel.app.retention import alerts

    return _summary(alerts.evaluate(ctx))


def _digest(period: Literal["daily", "weekly"]) -> Callable[[AppContext, RetentionConfig], Any]:
    def run(ctx: AppContext, _cfg: RetentionConfig) -> dict[str, Any]:
        from revintel.app.retention import alerts

        return _summary(alerts.send_digests(ctx, period))

    return run


EXPORT_COLUMNS = (
    "account_id", "account_name", "owner", "segment", "plan_type", "mrr", "churn_risk_score",
    "risk_tier", "top_factor_label", "recommended_action",
)  # fmt: skip
"""The export's columns, where the source has them (a saved segment's rows name the customer
``customer_id``, ``name``, ``churn_risk``); then the account's newest note and next follow-up."""
_ALIASES = {"customer_id": "account_id", "name": "account_name", "churn_risk": "churn_risk_score"}


def high_risk_frame(ctx: AppContext, cfg: RetentionConfig) -> tuple[pl.DataFrame, str]:
    """The customers the export holds and what they are: the saved segment of
    ``export_segment_id``, else the current predictions' High tier; with each account's newest
    note and next open follow-up."""
    from revintel.app.retention import notes

    segment_id = cfg.jobs.export_segment_id
    if segment_id is not None:
        from revintel.app.retention.segments import resolve_customers

        frame = resolve_customers(ctx, segment_id=segment_id)
        source = f"segment {segment_id}"
    else:
        from revintel.churn.service import current_predictions

        frame = current_predictions(ctx).filter(pl.col("risk_tier") == "High")
        source = "High risk tier"
    frame = frame.rename(
        {k: v for k, v in _ALIASES.items() if k in frame.columns and v not in frame.columns}
    )
    frame = frame.select([c for c in EXPORT_COLUMNS if c in frame.columns])
    ids = frame["account_id"].to_list() if "account_id" in frame.columns else []
    latest = notes.latest_notes(ctx, ids)
    frame = frame.with_columns(
        last_note=pl.Series([latest.last_note.get(a) for a in ids], dtype=pl.String),
        last_note_at=pl.Series(
            [latest.last_note_at[a].isoformat() if a in latest.last_note_at else None for a in ids],
            dtype=pl.String,
        ),
        next_follow_up=pl.Series([latest.next_follow_up.get(a) for a in ids], dtype=pl.Date),
    )
    return frame, source


def _export_high_risk(ctx: AppContext, cfg: RetentionConfig) -> dict[str, Any]:
    from revintel.core.csv_export import to_csv_bytes

    jobs_cfg = cfg.jobs
    if not jobs_cfg.export_folder and not jobs_cfg.export_webhook_url:
        raise ConfigError(
            "export_high_risk: set [retention.jobs] export_folder (a folder for the CSV) or "
            "export_webhook_url (an http(s) URL); neither is set"
        )
    frame, source = high_risk_frame(ctx, cfg)
    summary: dict[str, Any] = {"source": source, "rows": frame.height}
    if jobs_cfg.export_folder:
        folder = Path(jobs_cfg.export_folder).expanduser()
        folder.mkdir(parents=True, exist_ok=True)
        stamp = _now().strftime("%Y%m%dT%H%M%SZ")
        path = folder / f"high_risk_{stamp}.csv"
        partial = path.with_suffix(".csv.part")
        partial.write_bytes(to_csv_bytes(frame))  # formula-like text escaped for spreadsheets
        os.replace(partial, path)  # a reader never sees half a file
        summary["file"] = str(path)
    if jobs_cfg.export_webhook_url:
        from revintel.retention.delivery import post_webhook

        payload = {
            "event": "export_high_risk",
            "source": source,
            "rows": frame.height,
            "exported_at": _now().isoformat(),
            "customers": _jsonable(frame.head(1_000).to_dicts()),
            "truncated": frame.height > 1_000,
        }
        delivery = post_webhook(
            cfg.webhooks, jobs_cfg.export_webhook_url, payload, style=jobs_cfg.export_webhook_style
        )
        summary["webhook"] = {"status": delivery.status, "attempts": delivery.attempts}
        if delivery.status != "sent":
            raise RuntimeError(
                f"export_high_risk: the webhook {delivery.target} failed after "
                f"{delivery.attempts} attempt(s): {delivery.detail or delivery.http_status}"
                + (f"; the CSV was written to {summary['file']}" if "file" in summary else "")
            )
    return summary


def _executive_report(ctx: AppContext, cfg: RetentionConfig) -> dict[str, Any]:
    from revintel.app.retention import executive
    from revintel.retention.delivery import send_mail

    recipients = cfg.jobs.report_recipients
    if not recipients:
        raise ConfigError(
            "executive_report: set [retention.jobs] report_recipients (a list of email "
            "addresses); it is empty"
        )
    report = executive.executive_report(ctx)
    pdf = executive.render(report, "pdf")
    month = getattr(report, "month", None) or _now().strftime("%Y-%m")
    name = f"executive-report-{month}.pdf"
    delivery = send_mail(
        cfg.mail,
        to=recipients,
        subject=f"Executive report {month}",
        text=f"The executive report for {month} is attached ({name}).",
        attachments=[(name, pdf, "application/pdf")],
    )
    if delivery.status != "sent":
        raise RuntimeError(
            f"executive_report: mail to {', '.join(recipients)} failed after "
            f"{delivery.attempts} attempt(s): {delivery.detail}"
        )
    return {"month": month, "recipients": recipients, "bytes": len(pdf), "file": name}


JOBS: dict[str, JobSpec] = {
    spec.name: spec
    for spec in (
        JobSpec(
            "score_customers",
            "Score customers",
            "Score every customer's churn risk with the production model into predictions.",
            _score_customers,
        ),
        JobSpec(
            "retrain",
            "Retraining policy",
            "Retrain the churn model when due (monthly or on drift); promote only if better.",
            _retrain,
        ),
        JobSpec(
            "evaluate_alerts",
            "Evaluate alerts",
            "Evaluate the alert rules, fire new alerts, clear resolved ones and deliver them.",
            _evaluate_alerts,
        ),
        JobSpec(
            "daily_digest",
            "Daily digest",
            "Email the day's alerts to the digest recipients.",
            _digest("daily"),
        ),
        JobSpec(
            "weekly_digest",
            "Weekly digest",
            "Email the week's alerts to the digest recipients.",
            _digest("weekly"),
        ),
        JobSpec(
            "export_high_risk",
            "Export high-risk customers",
            "CSV of the High risk tier (or a saved segment) with each account's latest note, to "
            "the export folder and/or the export webhook.",
            _export_high_risk,
        ),
        JobSpec(
            "executive_report",
            "Executive report",
            "Render last month's executive report as a PDF and email it to the recipients.",
            _executive_report,
        ),
    )
}
assert tuple(JOBS) == JOB_NAMES  # one list of names (retention/schedule.py)


def job_spec(name: str) -> JobSpec:
    """The job called ``name``; :class:`NotFoundError` naming the jobs there are."""
    if name not in JOBS:
        raise NotFoundError(f"No job {name!r}; expected one of {', '.join(JOBS)}")
    return JOBS[name]


# -- running ------------------------------------------------------------------------------------
def _holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _record(row: JobRun) -> JobRunRecord:
    started = _aware(row.started_at)
    assert started is not None
    return JobRunRecord(
        run_id=row.id,
        job=row.job,
        trigger=row.trigger,
        status=row.status,
        started_at=started,
        finished_at=_aware(row.finished_at),
        duration_seconds=row.duration_seconds,
        error=row.error,
        summary=dict(row.summary or {}),
    )


class _LeaseKeeper:
    """Renews a held lock every third of its lease while a run lasts."""

    def __init__(self, ctx: AppContext, name: str, holder: str, lease: float) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._renew,
            args=(ctx, name, holder, lease),
            name=f"revintel-job-lease-{name}",
            daemon=True,
        )

    def _renew(self, ctx: AppContext, name: str, holder: str, lease: float) -> None:
        while not self._stop.wait(lease / 3):
            try:
                if not renew_lock(ctx.store.engine, name, holder, lease):
                    log.warning("job %s: lost its lock (held %s)", name, holder)
                    return
            except Exception:  # the store may be briefly down; the lease has time left
                log.warning("job %s: could not renew its lock", name, exc_info=True)

    def __enter__(self) -> _LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def _failure(exc: BaseException) -> str:
    text = str(exc) if isinstance(exc, RevintelError) else f"{type(exc).__name__}: {exc}"
    return redact_credentials(text)[:MAX_ERROR]


def run_job(ctx: AppContext, name: str, trigger: Trigger = "manual") -> JobRunRecord:
    """Run job ``name`` now, if no other process runs it, and record the run.

    Returns the recorded run: ``success`` with the job's summary; ``failed`` with the error
    (the job raised; nothing is raised here); ``skipped`` when another run holds the lock.
    """
    spec = job_spec(name)
    if trigger not in TRIGGERS:
        raise InvalidOption(f"'trigger' = {trigger!r}: expected one of {', '.join(TRIGGERS)}")
    cfg = load_config(ctx.settings)
    lease = float(cfg.jobs.lock_seconds)
    holder = _holder()
    engine = ctx.store.engine
    started = _now()
    if not acquire_lock(engine, name, holder, lease, now=started):
        held = lock_of(engine, name)
        who = f" by {held[0]} since {held[1]:%Y-%m-%d %H:%M:%S} UTC" if held else ""
        with ctx.store.session() as s:
            row = JobRun(
                job=name,
                trigger=trigger,
                started_at=started,
                finished_at=started,
                status="skipped",
                duration_seconds=0.0,
                error=f"skipped: {name} is already running{who}",
                summary={},
                holder=holder,
            )
            s.add(row)
            s.flush()
            return _record(row)
    try:
        with ctx.store.session() as s:
            row = JobRun(
                job=name,
                trigger=trigger,
                started_at=started,
                status="running",
                summary={},
                holder=holder,
            )
            s.add(row)
            s.flush()
            run_id = row.id
        clock = time.perf_counter()
        status: Status = "success"
        error: str | None = None
        summary: dict[str, Any] = {}
        with _LeaseKeeper(ctx, name, holder, lease):
            try:
                summary = _summary(spec.run(ctx, cfg))
            except Exception as exc:  # recorded, never raised to the scheduler
                status, error = "failed", _failure(exc)
                if not isinstance(exc, RevintelError):
                    log.error("job %s failed", name, exc_info=exc)
        with ctx.store.session() as s:
            done = s.get(JobRun, run_id)
            assert done is not None
            done.status = status
            done.error = error
            done.summary = summary
            done.finished_at = _now()
            done.duration_seconds = round(time.perf_counter() - clock, 3)
            s.flush()
            return _record(done)
    finally:
        release_lock(engine, name, holder)


def _reconcile(ctx: AppContext) -> None:
    """Runs left ``running`` by a process that is gone (its lock is no longer its own) are
    recorded as failed."""
    engine = ctx.store.engine
    now = _now()
    with ctx.store.session() as s:
        running = s.scalars(select(JobRun).where(JobRun.status == "running")).all()
        for run in running:
            held = lock_of(engine, run.job)
            if held is not None and held[0] == run.holder and held[2] > now:
                continue
            run.status = "failed"
            run.finished_at = now
            run.error = (
                "interrupted: the process running it stopped before it finished (noticed "
                f"{now:%Y-%m-%d %H:%M:%S} UTC)"
            )


def job_history(ctx: AppContext, job: str | None = None, limit: int = 50) -> JobHistory:
    """Recorded runs, newest first; ``job`` keeps one job's."""
    if job is not None:
        job_spec(job)
    if not 1 <= limit <= 10_000:
        raise InvalidOption(f"'limit' = {limit}: expected 1 to 10,000")
    _reconcile(ctx)
    query = select(JobRun).order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(limit)
    if job is not None:
        query = query.where(JobRun.job == job)
    with ctx.store.session() as s:
        return JobHistory([_record(r) for r in s.scalars(query).all()])


def list_jobs(ctx: AppContext, now: datetime | None = None) -> JobsOverview:
    """Every job: its schedule (default or from the settings), next run, last run and whether
    it runs now."""
    cfg = load_config(ctx.settings)
    now = now or _now()
    _reconcile(ctx)
    statuses = []
    with ctx.store.session() as s:
        for name, spec in JOBS.items():
            line, source = schedule_of(name, cfg.jobs.schedules)
            next_run = None
            if line != OFF:
                next_run = parse_crontab(line).get_next_fire_time(None, now)
            last = s.scalars(
                select(JobRun)
                .where(JobRun.job == name)
                .order_by(JobRun.started_at.desc(), JobRun.id.desc())
                .limit(1)
            ).first()
            statuses.append(
                JobStatus(
                    name=name,
                    title=spec.title,
                    description=spec.description,
                    schedule=line,
                    schedule_source=source,  # type: ignore[arg-type]
                    next_run=next_run,
                    last_run=_record(last) if last is not None else None,
                    running=last is not None and last.status == "running",
                )
            )
    return JobsOverview(statuses, now)


# -- the scheduler ------------------------------------------------------------------------------
class JobScheduler:
    """The scheduler: one APScheduler trigger per enabled job, each run through :func:`run_job`
    on its own fork of the context (its own warehouse connection).

    Several processes may each run one (API workers): the lock lets one run a job at a time,
    and the others record ``skipped``. A job whose previous run in this process still lasts is
    not started again (``max_instances=1``); missed runs are coalesced into one.
    """

    def __init__(self, ctx: AppContext, *, blocking: bool = False) -> None:
        from apscheduler.schedulers.background import BackgroundScheduler
        from apscheduler.schedulers.blocking import BlockingScheduler

        self.ctx = ctx
        kind = BlockingScheduler if blocking else BackgroundScheduler
        self.scheduler = kind(timezone=UTC, job_defaults={"coalesce": True, "max_instances": 1})
        cfg = load_config(ctx.settings)
        self.schedules: dict[str, str] = {}
        for name in JOBS:
            line, _source = schedule_of(name, cfg.jobs.schedules)
            if line == OFF:
                continue
            self.schedules[name] = line
            self.scheduler.add_job(
                self._run,
                parse_crontab(line),
                args=(name,),
                id=name,
                name=name,
                misfire_grace_time=3600,
            )

    def _run(self, name: str) -> None:
        fork = self.ctx.fork()
        try:
            record = run_job(fork, name, trigger="schedule")
            log.info("job %s: %s in %.1f s", name, record.status, record.duration_seconds or 0)
        except Exception:  # the store is down: logged, the next trigger tries again
            log.exception("job %s could not run", name)
        finally:
            fork.close()

    def next_runs(self) -> dict[str, datetime | None]:
        return {job.id: job.next_run_time for job in self.scheduler.get_jobs()}

    @property
    def running(self) -> bool:
        return bool(self.scheduler.running)

    def start(self) -> None:
        """Start (a blocking scheduler returns only when shut down)."""
        log.info("scheduler: %s", ", ".join(f"{k} '{v}'" for k, v in self.schedules.items()))
        self.scheduler.start()

    def shutdown(self, wait: bool = True) -> None:
        """Stop; with ``wait``, after the runs under way finish."""
        if self.scheduler.running:
            self.scheduler.shutdown(wait=wait)
