"""``/api/v1/alerts``: alert rules (CRUD), evaluation, the inbox, acknowledgement, history, the
delivery log, digests and test messages (docs/retention.md, Alerts)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from revintel.api.deps import ContextDep
from revintel.api.schemas import error_responses
from revintel.app.retention import alerts as service

router = APIRouter(prefix="/alerts", tags=["alerts"])

Kind = Literal[
    "risk_rise",
    "high_tier_value",
    "health_critical",
    "deal_at_risk",
    "metric_anomaly",
    "segment_risk_rise",
]
INVALID = error_responses(
    400,
    422,
    503,
    descriptions={
        422: "An invalid field: unknown kind, a threshold out of range, an empty channel list, "
        "a bad email address, a webhook URL that is not http(s) or reaches a private address."
    },
)
ONE_RULE = {**INVALID, **error_responses(404, descriptions={404: "No such rule."})}


class Webhook(BaseModel):
    """A webhook channel."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(description="http(s) URL; private addresses are refused (loopback allowed).")
    style: Literal["generic", "slack"] = Field(
        default="generic", description="generic JSON, or a Slack-compatible {text, blocks}."
    )


class Channels(BaseModel):
    """Where a rule's new alerts go: at least one."""

    model_config = ConfigDict(extra="forbid")

    email: list[str] = Field(default_factory=list, description="Email addresses.")
    webhooks: list[Webhook] = Field(default_factory=list, description="Webhooks.")
    inbox: bool = Field(default=True, description="Keep the alerts in the in-app inbox.")


class RuleIn(BaseModel):
    """A new alert rule."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, description="The rule's name.")
    kind: Kind = Field(description="What the rule watches (docs/retention.md, Alerts).")
    thresholds: dict[str, Any] = Field(
        default_factory=dict,
        description="points (0-100) for risk_rise and segment_risk_rise; mrr or arr (≥ 0) for "
        "high_tier_value; min_mrr for health_critical; amount for deal_at_risk; metrics and "
        "min_size for metric_anomaly.",
    )
    scope: dict[str, Any] = Field(
        default_factory=dict,
        description='{} for every customer, {"segment_id": 3}, or filters '
        '{"segment": [...], "plan": [...], "owner": [...]}.',
    )
    channels: Channels = Field(default_factory=Channels, description="Where alerts go.")
    enabled: bool = Field(default=True, description="Evaluated when enabled.")
    created_by: str = Field(default="api", max_length=255, description="Who adds the rule.")


class RulePatch(BaseModel):
    """The parts of a rule to change; the rest stay."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    thresholds: dict[str, Any] | None = None
    scope: dict[str, Any] | None = None
    channels: Channels | None = Field(
        default=None,
        description="Replaces the channels; a masked webhook URL keeps the stored one.",
    )
    enabled: bool | None = None
    updated_by: str = Field(default="api", max_length=255, description="Who changes the rule.")


class RuleOut(BaseModel):
    """A rule; webhook URLs are masked."""

    id: int
    name: str
    kind: str
    scope: dict[str, Any]
    thresholds: dict[str, Any]
    channels: dict[str, Any]
    enabled: bool
    created_by: str
    created_at: str
    updated_by: str | None
    updated_at: str | None
    firing: int = Field(description="Alerts of this rule firing now.")
    description: str = Field(description="The rule in words.")


def _rule(view: service.RuleView) -> dict[str, Any]:
    return {**view.to_dict(), "description": view.description}


class AlertOut(BaseModel):
    """One alert."""

    id: int
    rule_id: int
    rule_name: str
    kind: str
    subject: str = Field(description="Customer id, deal id, metric:month or segment key.")
    subject_name: str | None
    state: Literal["firing", "cleared"]
    message: str
    details: dict[str, Any] = Field(description="The figures behind the message.")
    first_fired_at: str
    last_seen_at: str
    cleared_at: str | None
    acknowledged_by: str | None
    acknowledged_at: str | None


class AlertListOut(BaseModel):
    """A page of alerts and how many match."""

    total: int
    alerts: list[AlertOut]


class DeliveryOut(BaseModel):
    """One logged delivery and its attempts."""

    id: int
    kind: Literal["alert", "digest", "test"]
    rule_id: int | None
    alert_id: int | None
    alert_count: int = Field(description="Alerts the message carried.")
    channel: Literal["email", "webhook"]
    target: str = Field(description="Recipients, or the webhook URL masked.")
    status: Literal["sent", "failed"]
    attempts: int
    http_status: int | None
    detail: str | None
    at: str
    attempt_log: list[dict[str, Any]] = Field(
        description="Each attempt: at, ok, http_status, error, wait_seconds."
    )


class RuleOutcomeOut(BaseModel):
    rule_id: int
    name: str
    kind: str
    fired: int
    still_firing: int
    cleared: int
    skipped: str | None = Field(description="Why the rule could not be evaluated, if it could not.")
    notes: list[str]


class EvaluationOut(BaseModel):
    """What one evaluation did."""

    evaluated_at: str
    fired: int
    still_firing: int
    cleared: int
    deliveries_sent: int
    deliveries_failed: int
    rules: list[RuleOutcomeOut]
    deliveries: list[DeliveryOut]
    seconds: float


class EvaluateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    deliver: bool = Field(default=True, description="Send the new alerts on their channels.")
    rule_ids: list[int] | None = Field(default=None, description="Only these rules.")


class AcknowledgeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    by: str = Field(default="api", min_length=1, max_length=255, description="Who acknowledges.")


class DigestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    period: Literal["daily", "weekly"] = Field(description="The last 24 hours or 7 days.")


class DigestOut(BaseModel):
    period: str
    since: str
    until: str
    alerts: int
    by_rule: dict[str, int]
    deliveries: list[DeliveryOut]


class TestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str | None = Field(default=None, description="Send a test email here.")
    webhook: str | None = Field(default=None, description="POST a test message here.")
    style: Literal["generic", "slack"] = "generic"


@router.get("/rules", response_model=list[RuleOut], responses=error_responses(400, 503))
def list_rules(ctx: ContextDep) -> list[dict[str, Any]]:
    """Every alert rule with its firing count."""
    return [_rule(r) for r in service.list_rules(ctx)]


@router.post("/rules", response_model=RuleOut, status_code=201, responses=INVALID)
def create_rule(ctx: ContextDep, body: RuleIn) -> dict[str, Any]:
    """Add a rule (validated as a whole; nothing is saved when a field is invalid)."""
    rule = service.create_rule(
        ctx,
        name=body.name,
        kind=body.kind,
        thresholds=body.thresholds,
        scope=body.scope,
        channels=body.channels.model_dump(),
        enabled=body.enabled,
        created_by=body.created_by,
    )
    return _rule(rule)


@router.get("/rules/{rule_id}", response_model=RuleOut, responses=ONE_RULE)
def get_rule(ctx: ContextDep, rule_id: int) -> dict[str, Any]:
    """One rule."""
    return _rule(service.get_rule(ctx, rule_id))


@router.patch("/rules/{rule_id}", response_model=RuleOut, responses=ONE_RULE)
def update_rule(ctx: ContextDep, rule_id: int, body: RulePatch) -> dict[str, Any]:
    """Change a rule (validated as a whole)."""
    changes = body.model_dump(exclude_unset=True, exclude={"updated_by"})
    if body.channels is not None:
        changes["channels"] = body.channels.model_dump()
    return _rule(service.update_rule(ctx, rule_id, changes, body.updated_by))


@router.delete("/rules/{rule_id}", status_code=204, responses=ONE_RULE)
def delete_rule(ctx: ContextDep, rule_id: int) -> Response:
    """Delete a rule and its alerts (the delivery log stays)."""
    service.delete_rule(ctx, rule_id)
    return Response(status_code=204)


@router.post("/evaluate", response_model=EvaluationOut, responses=INVALID)
def evaluate(ctx: ContextDep, body: EvaluateIn | None = None) -> dict[str, Any]:
    """Evaluate the enabled rules: fire new alerts, clear resolved ones, deliver the new."""
    body = body or EvaluateIn()
    return service.evaluate(ctx, rule_ids=body.rule_ids, deliver=body.deliver).to_dict()


@router.get("", response_model=AlertListOut, responses=INVALID)
def inbox(
    ctx: ContextDep,
    state: Literal["firing", "cleared", "all"] = "firing",
    acknowledged: Annotated[
        bool | None, Query(description="true: acknowledged only; false: unacknowledged only.")
    ] = None,
    rule_id: int | None = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    """The inbox: firing alerts, newest first (filters: state, acknowledged, rule)."""
    return service.list_alerts(
        ctx, state=state, acknowledged=acknowledged, rule_id=rule_id, limit=limit, offset=offset
    ).to_dict()


@router.get("/history", response_model=AlertListOut, responses=INVALID)
def history(
    ctx: ContextDep,
    rule_id: int | None = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
) -> dict[str, Any]:
    """Every alert, firing or cleared, newest first."""
    return service.history(ctx, rule_id=rule_id, limit=limit).to_dict()


@router.get("/deliveries", response_model=list[DeliveryOut], responses=INVALID)
def deliveries(
    ctx: ContextDep,
    status: Literal["sent", "failed"] | None = None,
    rule_id: int | None = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
) -> list[dict[str, Any]]:
    """The delivery log, newest first, each with every attempt."""
    return [
        d.to_dict()
        for d in service.list_deliveries(ctx, status=status, rule_id=rule_id, limit=limit)
    ]


@router.post(
    "/{alert_id}/acknowledge",
    response_model=AlertOut,
    responses={**INVALID, **error_responses(404, descriptions={404: "No such alert."})},
)
def acknowledge(
    ctx: ContextDep, alert_id: int, body: AcknowledgeIn | None = None
) -> dict[str, Any]:
    """Acknowledge an alert (the first acknowledgement is kept)."""
    return service.acknowledge(ctx, alert_id, (body or AcknowledgeIn()).by).to_dict()


@router.post(
    "/digest",
    response_model=DigestOut,
    responses={
        **INVALID,
        **error_responses(
            400, descriptions={400: "No digest recipient or webhook is set, or a bad body."}
        ),
    },
)
def digest(ctx: ContextDep, body: DigestIn) -> dict[str, Any]:
    """Send the daily or weekly digest to the configured recipients now."""
    return service.send_digests(ctx, body.period).to_dict()


@router.post("/test-delivery", response_model=list[DeliveryOut], responses=INVALID)
def test_delivery(ctx: ContextDep, body: TestIn) -> list[dict[str, Any]]:
    """Send a test message with the current mail and webhook settings."""
    return [
        d.to_dict()
        for d in service.test_delivery(
            ctx, email=body.email, webhook=body.webhook, style=body.style
        )
    ]
