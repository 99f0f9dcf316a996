"""Scheduled jobs and their runs (docs/retention.md, Scheduled jobs).

``GET /jobs`` (each job's schedule, next and last run), ``POST /jobs/{name}/run`` (run it now;
the answer is the recorded run: ``success``, ``failed`` with its error, or ``skipped`` when
another process runs it) and ``GET /jobs/runs`` (the history).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field

from revintel.api.deps import ContextDep
from revintel.api.schemas import error_responses
from revintel.app.retention import jobs as service
from revintel.retention.schedule import JOB_NAMES

router = APIRouter(prefix="/jobs", tags=["jobs"])

JobName = Literal[JOB_NAMES]  # type: ignore[valid-type]
FROM_STORE = error_responses(400, 422, 503, descriptions={400: "A retention setting is invalid."})


class JobRunOut(BaseModel):
    """One recorded run of a job."""

    run_id: int
    job: str
    trigger: Literal["schedule", "manual", "api"] = Field(description="What started it.")
    status: Literal["running", "success", "failed", "skipped"] = Field(
        description="skipped: another run held the job's lock."
    )
    started_at: datetime
    finished_at: datetime | None
    duration_seconds: float | None
    error: str | None = Field(description="Why it failed or was skipped.")
    summary: dict[str, Any] = Field(description="What the job did (rows, files, versions).")


class JobOut(BaseModel):
    """A job, its schedule, next and last run."""

    name: str
    title: str
    description: str
    schedule: str = Field(description="Crontab line (minute hour day month weekday, UTC) or off.")
    schedule_source: Literal["default", "settings"]
    enabled: bool
    next_run: datetime | None = Field(description="When the schedule next fires (UTC).")
    running: bool = Field(description="A run is under way.")
    last_run: JobRunOut | None


class JobsOut(BaseModel):
    """Every job, and whether this API process runs the scheduler (serve --scheduler)."""

    now: datetime
    scheduler_running: bool
    jobs: list[JobOut]


class JobRunsOut(BaseModel):
    """Recorded runs, newest first."""

    runs: list[JobRunOut]


@router.get("", responses=FROM_STORE)
def list_jobs(ctx: ContextDep, request: Request) -> JobsOut:
    """Each job with its schedule (default or from the settings), next run and last run."""
    scheduler = getattr(request.app.state, "scheduler", None)
    body = service.list_jobs(ctx).to_dict()
    return JobsOut.model_validate(
        {**body, "scheduler_running": bool(scheduler is not None and scheduler.running)}
    )


@router.get("/runs", responses=FROM_STORE)
def job_runs(
    ctx: ContextDep,
    job: Annotated[JobName | None, Query(description="Only this job's runs.")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000, description="At most this many.")] = 50,
) -> JobRunsOut:
    """Recorded runs, newest first."""
    return JobRunsOut.model_validate(service.job_history(ctx, job, limit).to_dict())


@router.post(
    "/{name}/run",
    responses={**FROM_STORE, **error_responses(404, descriptions={404: "No such job."})},
)
def run_job(
    ctx: ContextDep, name: Annotated[str, Path(max_length=64, description="The job.")]
) -> JobRunOut:
    """Run the job now and answer with the recorded run (it waits for the run to finish):
    success, failed with its error, or skipped when another process runs it."""
    return JobRunOut.model_validate(service.run_job(ctx, name, trigger="api").to_dict())
