"""``/api/v1/campaigns``: templates, the wizard, campaigns, tasks and the CRM export
(docs/retention.md, Campaigns). Measured impact is ``api/routes/campaign_results.py``."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from revintel.api.deps import ContextDep
from revintel.api.schemas import error_responses
from revintel.app.retention import campaigns as service

router = APIRouter(prefix="/campaigns", tags=["campaigns"])

STORE = error_responses(400, 404, 422, 503)
WIZARD = error_responses(
    400,
    404,
    409,
    422,
    503,
    descriptions={
        404: "An unknown template, segment or customer id (the message names them).",
        409: "The customer features cannot be computed: data or churn scores are not loaded.",
        422: "An invalid field: no customers, a rule that does not parse (with its position), "
        "a bad step or script variable, a holdout share out of range, a capacity shortfall.",
    },
)
TaskStatus = Literal["todo", "contacted", "responded", "done"]


# -- models ---------------------------------------------------------------------------------------
class StepModel(BaseModel):
    """One step of a timeline."""

    model_config = ConfigDict(extra="forbid")

    day: int = Field(ge=1, le=365, description="Day of the campaign (1 = the start date).")
    kind: Literal["email", "call", "meeting", "offer", "escalate", "task"] = Field(
        description="What the owner does."
    )
    title: str = Field(min_length=1, max_length=200, description="Task title (Jinja2).")
    subject: str = Field(default="", max_length=300, description="Email subject (Jinja2).")
    body: str = Field(default="", max_length=10_000, description="Email text or call script.")
    condition: Literal["always", "no_response"] = Field(
        default="always", description="no_response: only if the customer has not responded."
    )


class TemplateBody(BaseModel):
    """A custom template; its scripts may name only the allowed variables (GET /templates)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=2, max_length=64, description="Lower-case letters, digits, _.")
    label: str | None = Field(default=None, max_length=200, description="Shown to people.")
    description: str = Field(default="", max_length=2000, description="What it does.")
    target: str = Field(default="", max_length=2000, description="Who it suits.")
    steps: list[StepModel] = Field(min_length=1, max_length=20, description="The timeline.")
    based_on: str | None = Field(default=None, description="The template it was copied from.")
    author: str = Field(default="api", min_length=1, max_length=255, description="Who saves it.")


class CopyBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=2, max_length=64, description="The copy's name.")
    author: str = Field(default="api", min_length=1, max_length=255, description="Who copies it.")


class TemplateList(BaseModel):
    templates: list[dict[str, Any]] = Field(description="Built-in, then custom templates.")
    variables: dict[str, str] = Field(description="Variables a script may name, with meanings.")
    missing: str = Field(description="What a script shows for a value the data lacks.")


class CampaignBody(BaseModel):
    """The wizard's answers. Exactly one audience: segment_id, rule or customer_ids."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, description="The campaign's name.")
    template: str = Field(description="A built-in or custom template's name.")
    start_date: date = Field(description="Day 1 of the timeline.")
    segment_id: int | None = Field(default=None, description="A saved segment.")
    rule: str | None = Field(default=None, max_length=5000, description="A segment rule.")
    customer_ids: list[str] | None = Field(
        default=None, max_length=1_000_000, description="Customer ids."
    )
    steps: list[StepModel] | None = Field(
        default=None, max_length=20, description="An edited timeline (default the template's)."
    )
    owners_mode: Literal["account_owner", "round_robin"] = Field(
        default="account_owner", description="Each account's owner, or round-robin over people."
    )
    people: list[str] = Field(default_factory=list, description="Round-robin: the people.")
    capacity: int | None = Field(
        default=None, ge=1, description="Round-robin: most customers per person (default settings)."
    )
    overflow: Literal["error", "unassigned"] = Field(
        default="error", description="Beyond capacity: refuse, or leave the rest unassigned."
    )
    success_criteria: dict[str, Any] = Field(
        default_factory=dict,
        description="risk_below (0-1) with within_days (1-365), and/or no_churn_months (1-24).",
    )
    holdout_share: float | None = Field(
        default=None, description="Held-out share per risk tier, 0.05-0.5 (default settings)."
    )
    seed: int | None = Field(default=None, description="Holdout seed (default random, recorded).")
    cost_per_customer: float = Field(default=0.0, ge=0, description="Cost per treated customer.")
    description: str | None = Field(default=None, max_length=5000)
    created_by: str = Field(default="api", min_length=1, max_length=255, description="Who.")
    dry_run: bool = Field(default=False, description="Only preview: write nothing.")


class TaskPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: TaskStatus | None = Field(default=None, description="Forward only.")
    outcome: str | None = Field(default=None, max_length=2000, description="What happened.")
    updated_by: str = Field(default="api", min_length=1, max_length=255, description="Who.")


class EndBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    end_date: date | None = Field(default=None, description="Default today.")
    by: str = Field(default="api", min_length=1, max_length=255, description="Who.")


# -- templates ------------------------------------------------------------------------------------
@router.get("/templates", responses=STORE)
def list_templates(ctx: ContextDep) -> TemplateList:
    """The five built-in templates and the custom ones, with the variables scripts may name."""
    return TemplateList(
        templates=[t.to_dict() for t in service.list_templates(ctx)],
        variables=service.T.VARIABLES,
        missing=service.T.MISSING,
    )


@router.get("/templates/{name}", responses=STORE)
def get_template(
    ctx: ContextDep,
    name: str,
    customer_id: Annotated[
        str | None, Query(description="Render the scripts for this customer (default a sample).")
    ] = None,
    start_date: Annotated[date | None, Query(description="Day 1 (default today).")] = None,
) -> dict[str, Any]:
    """A template with its timeline rendered for one customer."""
    return service.preview_template(ctx, name, customer_id=customer_id, start=start_date)


@router.post("/templates", status_code=201, responses=STORE)
def save_template(ctx: ContextDep, body: TemplateBody) -> dict[str, Any]:
    """Create a custom template (or replace one of that name); every script is checked."""
    data = body.model_dump(exclude={"author"}, exclude_none=True)
    return service.save_template(ctx, data, body.author).to_dict()


@router.put("/templates/{name}", responses=STORE)
def replace_template(ctx: ContextDep, name: str, body: TemplateBody) -> dict[str, Any]:
    """Replace a custom template (the body's name must be the path's)."""
    from revintel.core.errors import InvalidOption

    if body.name != name:
        raise InvalidOption(f"name: expected {name!r} (the path's), got {body.name!r}")
    service.get_template(ctx, name)  # 404 when there is none
    data = body.model_dump(exclude={"author"}, exclude_none=True)
    return service.save_template(ctx, data, body.author).to_dict()


@router.post("/templates/{name}/copy", status_code=201, responses=STORE)
def copy_template(ctx: ContextDep, name: str, body: CopyBody) -> dict[str, Any]:
    """Copy a template (built-in or custom) under a new name, to edit it."""
    return service.copy_template(ctx, name, body.name, body.author).to_dict()


@router.delete("/templates/{name}", status_code=204, responses=STORE)
def delete_template(ctx: ContextDep, name: str) -> Response:
    """Delete a custom template (campaigns keep their own copy of its steps)."""
    service.delete_template(ctx, name)
    return Response(status_code=204)


# -- tasks (before /{campaign_id}) ----------------------------------------------------------------
@router.get("/tasks", responses=STORE)
def all_tasks(
    ctx: ContextDep,
    owner: Annotated[str | None, Query(description="An owner; 'unassigned' for none.")] = None,
    status: Annotated[TaskStatus | None, Query(description="A status.")] = None,
    due_before: Annotated[date | None, Query(description="Due on or before.")] = None,
    limit: Annotated[int, Query(ge=1, le=100_000, description="Most tasks.")] = 1000,
    offset: Annotated[int, Query(ge=0, description="Skip this many.")] = 0,
) -> list[dict[str, Any]]:
    """Tasks of every campaign by due date (a person's work list with owner=)."""
    return service.tasks(
        ctx, owner=owner, status=status, due_before=due_before, limit=limit, offset=offset
    )


@router.patch("/tasks/{task_id}", responses=STORE)
def update_task(ctx: ContextDep, task_id: int, body: TaskPatch) -> dict[str, Any]:
    """Move a task along to do → contacted → responded → done and/or record its outcome."""
    return service.update_task(
        ctx, task_id, status=body.status, outcome=body.outcome, updated_by=body.updated_by
    )


# -- campaigns ------------------------------------------------------------------------------------
@router.post("", status_code=201, responses=WIZARD)
def create_campaign(ctx: ContextDep, body: CampaignBody, response: Response) -> dict[str, Any]:
    """The wizard: validates everything, then creates the campaign, its members (treated and a
    seeded holdout stratified by risk tier) and its tasks with rendered scripts in one
    transaction. With dry_run, only the preview (nothing written; status 200)."""
    data = body.model_dump(exclude={"dry_run"})
    if body.steps is not None:
        data["steps"] = [s.model_dump() for s in body.steps]
    request = service.CampaignRequest(**data)
    if body.dry_run:
        response.status_code = 200
        return service.preview_campaign(ctx, request).to_dict()
    return service.create_campaign(ctx, request).to_dict()


@router.get("", responses=STORE)
def list_campaigns(
    ctx: ContextDep,
    status: Annotated[
        Literal["active", "finished", "cancelled"] | None, Query(description="Only these.")
    ] = None,
) -> list[dict[str, Any]]:
    """Campaigns, newest first, with treated / holdout counts and task progress."""
    return service.list_campaigns(ctx, status)


@router.get("/{campaign_id:int}", responses=STORE)
def get_campaign(ctx: ContextDep, campaign_id: int) -> dict[str, Any]:
    """One campaign: settings, steps, members by risk tier, progress overall and by owner."""
    return service.get_campaign(ctx, campaign_id)


@router.get("/{campaign_id:int}/tasks", responses=STORE)
def campaign_tasks(
    ctx: ContextDep,
    campaign_id: int,
    owner: Annotated[str | None, Query(description="An owner; 'unassigned' for none.")] = None,
    status: Annotated[TaskStatus | None, Query(description="A status.")] = None,
    due_before: Annotated[date | None, Query(description="Due on or before.")] = None,
    limit: Annotated[int, Query(ge=1, le=1_000_000, description="Most tasks.")] = 1000,
    offset: Annotated[int, Query(ge=0, description="Skip this many.")] = 0,
) -> list[dict[str, Any]]:
    """A campaign's tasks by due date."""
    return service.tasks(
        ctx,
        campaign_id=campaign_id,
        owner=owner,
        status=status,
        due_before=due_before,
        limit=limit,
        offset=offset,
    )


@router.get(
    "/{campaign_id:int}/tasks.csv",
    responses={**STORE, 200: {"content": {"text/csv": {}}, "description": "The tasks as CSV."}},
)
def campaign_tasks_csv(
    ctx: ContextDep,
    campaign_id: int,
    owner: Annotated[str | None, Query(description="Only this owner's tasks.")] = None,
    status: Annotated[TaskStatus | None, Query(description="Only this status.")] = None,
) -> Response:
    """The tasks as CSV for CRM import (columns: docs/retention.md, Campaigns → CSV export)."""
    text = service.export_tasks_csv(ctx, campaign_id=campaign_id, owner=owner, status=status)
    return Response(
        content=text.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="campaign-{campaign_id}-tasks.csv"'},
    )


@router.post("/{campaign_id:int}/finish", responses=STORE)
def finish_campaign(ctx: ContextDep, campaign_id: int, body: EndBody | None = None) -> dict:
    """Mark an active campaign finished (its impact can then be measured)."""
    b = body or EndBody()
    return service.finish_campaign(ctx, campaign_id, end_date=b.end_date, by=b.by)


@router.post("/{campaign_id:int}/cancel", responses=STORE)
def cancel_campaign(ctx: ContextDep, campaign_id: int, body: EndBody | None = None) -> dict:
    """Cancel an active campaign: its tasks can no longer change."""
    b = body or EndBody()
    return service.cancel_campaign(ctx, campaign_id, end_date=b.end_date, by=b.by)
