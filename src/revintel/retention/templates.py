"""Campaign templates: a timeline of steps, each with a personalised email or call script
(docs/retention.md, Campaigns).

A template is a name, a description, who it suits and its steps (day, kind, title, the condition
on which it runs, a Jinja2 subject and body). Five are built in; custom templates (copies of a
built-in, edited, or new ones) are kept in the app store by :mod:`revintel.app.retention.campaigns`.

Scripts render in Jinja2's :class:`~jinja2.sandbox.SandboxedEnvironment` with
:class:`~jinja2.StrictUndefined`. The variables a script may name are :data:`VARIABLES`; a
template naming any other is refused when it is saved (:func:`validate_template`), naming the
variable and the allowed list. A value the data lacks renders as :data:`MISSING`, never as
"None" or "nan".

Pure: no store, no warehouse. Rendering many customers compiles each step once
(:class:`CompiledTemplate`) and renders subject and body in one pass.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, meta
from jinja2.sandbox import SandboxedEnvironment

from revintel.core.errors import InvalidOption

MISSING = "(missing)"
"""What a script shows for a value the customer's data lacks."""

STEP_KINDS = ("email", "call", "meeting", "offer", "escalate", "task")
CONDITIONS = ("always", "no_response")
"""``always``: the step is done for every treated customer; ``no_response``: only if the customer
has not responded to an earlier step (the owner closes it as done with outcome "not needed" when
they have)."""

MAX_STEPS = 20
MAX_DAY = 365
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,63}$")
MAX_TEXT = 10_000

# Every variable a script may name: what it holds, in words (docs/retention.md lists them).
VARIABLES: dict[str, str] = {
    "account_name": "The customer's name.",
    "customer_id": "The customer's id.",
    "first_name": "The first word of the customer's name (a greeting).",
    "owner": "Who runs this customer's tasks (the assigned owner).",
    "account_owner": "The account's owner in the customer data.",
    "mrr": "Monthly recurring revenue, as money ($12,345).",
    "arr": "Annual recurring revenue, as money.",
    "plan": "The customer's plan.",
    "segment": "The customer's segment.",
    "industry": "The customer's industry.",
    "country": "The customer's country.",
    "churn_risk": "Churn risk as a percentage (72%).",
    "risk_tier": "Churn risk tier (High, Medium, Low).",
    "top_risk_factors": "The top churn risk factors in words, comma-separated.",
    "top_risk_factor": "The top churn risk factor in words.",
    "health_score": "Health score (0-100).",
    "health_tier": "Health tier (Healthy, At risk, Critical ...).",
    "tenure_months": "Months as a customer.",
    "tenure": "Tenure in words (2 years 3 months).",
    "clv": "Customer lifetime value, as money.",
    "campaign_name": "The campaign's name.",
    "start_date": "The campaign's start date (YYYY-MM-DD).",
    "due_date": "This step's due date (YYYY-MM-DD).",
    "step_day": "This step's day in the timeline (1 = the start date).",
}
ALLOWED = frozenset(VARIABLES)


class TemplateError(InvalidOption):
    """A campaign template is invalid: a bad name, step, Jinja2 syntax or unknown variable."""


@dataclass(frozen=True)
class Step:
    """One step of a timeline: on ``day`` (1 = the campaign's start date) do ``kind``."""

    day: int
    kind: str
    title: str
    subject: str = ""  # Jinja2; an email's subject line (empty for calls)
    body: str = ""  # Jinja2; the email text or the call script
    condition: str = "always"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Template:
    """A campaign template; ``builtin`` templates cannot be changed (copy one to edit it)."""

    name: str
    label: str
    description: str
    target: str
    steps: tuple[Step, ...]
    builtin: bool = False
    meta: dict[str, Any] = field(default_factory=dict)  # created_by, updated_at, based_on ...

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "description": self.description,
            "target": self.target,
            "builtin": self.builtin,
            "steps": [s.to_dict() for s in self.steps],
            **self.meta,
        }


# -- the environment ------------------------------------------------------------------------------
def _finalize(value: Any) -> Any:
    """What ``{{ x }}`` prints: a missing value (None, NaN, empty text, or text a missing value
    would print as: "None", "nan") prints as MISSING. Variables arrive cleaned
    (:func:`customer_variables`); this also catches what an expression in a script computes."""
    if value is None:
        return MISSING
    kind = value.__class__
    if kind is float:
        return MISSING if value != value else value
    if kind is str:
        return MISSING if value in _MISSING_TEXTS or not value.strip() else value
    return value


_MISSING_TEXTS = frozenset({"", "None", "none", "nan", "NaN", "null", "NULL"})


def environment() -> SandboxedEnvironment:
    """The sandbox every script renders in: unknown names fail, missing values print MISSING,
    no HTML escaping (scripts are text; the dashboard escapes on display)."""
    return SandboxedEnvironment(
        undefined=StrictUndefined,
        finalize=_finalize,
        autoescape=False,
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )


_ENV = environment()


# -- validation -----------------------------------------------------------------------------------
def _text(value: Any, where: str, *, required: bool, limit: int = MAX_TEXT) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise TemplateError(f"{where}: expected text, got {type(value).__name__}")
    value = value.strip() if limit <= 300 else value
    if required and not value.strip():
        raise TemplateError(f"{where}: expected a non-empty text")
    if len(value) > limit:
        raise TemplateError(f"{where}: expected at most {limit} characters, got {len(value)}")
    return value


def check_script(source: str, where: str) -> set[str]:
    """The variables ``source`` names; :class:`TemplateError` naming ``where`` on a syntax error
    or on a variable not in :data:`VARIABLES` (with the allowed list)."""
    try:
        parsed = _ENV.parse(source)
    except TemplateSyntaxError as exc:
        raise TemplateError(
            f"{where}: Jinja2 syntax error on line {exc.lineno}: {exc.message}"
        ) from None
    names = meta.find_undeclared_variables(parsed)
    unknown = sorted(names - ALLOWED)
    if unknown:
        raise TemplateError(
            f"{where}: unknown variable {', '.join(repr(u) for u in unknown)}; expected one of "
            + ", ".join(sorted(ALLOWED))
        )
    return names


def parse_step(data: Any, where: str) -> Step:
    """A :class:`Step` from plain data (a dict), every field checked."""
    if isinstance(data, Step):
        data = data.to_dict()
    if not isinstance(data, dict):
        raise TemplateError(f"{where}: expected an object with day, kind and title")
    extra = sorted(set(data) - {"day", "kind", "title", "subject", "body", "condition"})
    if extra:
        raise TemplateError(
            f"{where}: unknown field {', '.join(extra)}; expected day, kind, title, subject, "
            "body, condition"
        )
    day = data.get("day")
    if isinstance(day, bool) or not isinstance(day, int) or not 1 <= day <= MAX_DAY:
        raise TemplateError(f"{where}.day: expected a whole number 1..{MAX_DAY}, got {day!r}")
    kind = data.get("kind")
    if kind not in STEP_KINDS:
        raise TemplateError(f"{where}.kind: expected one of {', '.join(STEP_KINDS)}, got {kind!r}")
    condition = data.get("condition") or "always"
    if condition not in CONDITIONS:
        raise TemplateError(
            f"{where}.condition: expected one of {', '.join(CONDITIONS)}, got {condition!r}"
        )
    title = _text(data.get("title"), f"{where}.title", required=True, limit=200)
    subject = _text(data.get("subject"), f"{where}.subject", required=False, limit=300)
    body = _text(data.get("body"), f"{where}.body", required=False)
    if kind == "email" and not subject:
        raise TemplateError(f"{where}.subject: an email step needs a subject")
    check_script(title, f"{where}.title")
    check_script(subject, f"{where}.subject")
    check_script(body, f"{where}.body")
    return Step(day=day, kind=kind, title=title, subject=subject, body=body, condition=condition)


def parse_steps(data: Any, where: str = "steps") -> tuple[Step, ...]:
    """Steps from plain data: 1..20 of them, sorted by day (stable)."""
    if not isinstance(data, list | tuple) or not data:
        raise TemplateError(f"{where}: expected a list of 1..{MAX_STEPS} steps")
    if len(data) > MAX_STEPS:
        raise TemplateError(f"{where}: expected at most {MAX_STEPS} steps, got {len(data)}")
    steps = [parse_step(s, f"{where}[{i}]") for i, s in enumerate(data)]
    return tuple(sorted(steps, key=lambda s: s.day))


def validate_template(data: dict[str, Any]) -> Template:
    """A custom :class:`Template` from plain data (name, label, description, target, steps), every
    field and every script checked; a name of a built-in is refused (copy it under a new name)."""
    if not isinstance(data, dict):
        raise TemplateError("template: expected an object with name, label, description, steps")
    extra = sorted(set(data) - {"name", "label", "description", "target", "steps", "based_on"})
    if extra:
        raise TemplateError(
            f"template: unknown field {', '.join(extra)}; expected name, label, description, "
            "target, steps, based_on"
        )
    name = data.get("name")
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise TemplateError(
            f"name: expected 2-64 lower-case letters, digits or _ starting with a letter, got "
            f"{name!r}"
        )
    if name in BUILTIN:
        raise TemplateError(
            f"name: {name!r} is a built-in template, which cannot be changed; save your copy under "
            f"another name (e.g. {name}_custom)"
        )
    label = _text(
        data.get("label") or name.replace("_", " ").capitalize(), "label", required=True, limit=200
    )
    description = _text(data.get("description"), "description", required=False, limit=2000)
    target = _text(data.get("target"), "target", required=False, limit=2000)
    steps = parse_steps(data.get("steps"))
    based_on = data.get("based_on")
    return Template(
        name=name,
        label=label,
        description=description,
        target=target,
        steps=steps,
        meta={"based_on": based_on} if based_on else {},
    )


# -- the customer's variables ---------------------------------------------------------------------
def money(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return f"${float(value):,.0f}"


def tenure_words(months: Any) -> str | None:
    if months is None or (isinstance(months, float) and math.isnan(months)):
        return None
    m = int(months)
    years, rest = divmod(m, 12)
    parts = []
    if years:
        parts.append(f"{years} year{'s' if years != 1 else ''}")
    if rest or not years:
        parts.append(f"{rest} month{'s' if rest != 1 else ''}")
    return " ".join(parts)


def _clean(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, str):
        if not value.strip():
            return None
        if _SPLIT in value or _STEP in value:
            return value.replace(_SPLIT, " ").replace(_STEP, " ")
    return value


def customer_variables(row: dict[str, Any], factors: list[str] | None = None) -> dict[str, Any]:
    """The script variables of one customer from a row of the features frame (keys as
    :func:`revintel.app.retention.features.customer_features` names them) and its top risk factors
    in words. A value the row lacks is None, which prints as :data:`MISSING`."""
    g = row.get
    name = _clean(g("name")) or _clean(g("account_name"))
    risk = _clean(g("churn_risk"))
    health = _clean(g("health_score"))
    tenure = _clean(g("tenure_months"))
    factors = [f for f in (factors or []) if _clean(f)]
    return {
        "account_name": name,
        "customer_id": _clean(g("customer_id")),
        "first_name": name.split()[0] if isinstance(name, str) and name.split() else None,
        "owner": _clean(g("assigned_owner")) or _clean(g("owner")),
        "account_owner": _clean(g("owner")),
        "mrr": money(_clean(g("mrr"))),
        "arr": money(_clean(g("arr"))),
        "plan": _clean(g("plan")),
        "segment": _clean(g("segment")),
        "industry": _clean(g("industry")),
        "country": _clean(g("country")),
        "churn_risk": None if risk is None else f"{float(risk) * 100:.0f}%",
        "risk_tier": _clean(g("risk_tier")),
        "top_risk_factors": ", ".join(factors) if factors else None,
        "top_risk_factor": factors[0] if factors else None,
        "health_score": None if health is None else f"{float(health):.0f}",
        "health_tier": _clean(g("health_tier")),
        "tenure_months": None if tenure is None else int(tenure),
        "tenure": tenure_words(tenure),
        "clv": money(_clean(g("clv"))),
    }


def _column(frame: Any, *names: str) -> list[Any]:
    for name in names:
        if name in frame.columns:
            return [_clean(v) for v in frame[name].to_list()]
    return [None] * frame.height


def variables_table(
    frame: Any, factors: list[list[str]], names: Sequence[str] | None = None
) -> list[dict[str, Any]]:
    """:func:`customer_variables` of every row of a polars ``frame`` (one list of factors per
    row), computed column by column (a campaign of 50k customers renders in seconds); only
    ``names`` when given."""
    n = frame.height
    wanted = set(VARIABLES if names is None else names)
    cols: dict[str, list[Any]] = {}

    def need(*keys: str) -> bool:
        return any(k in wanted for k in keys)

    if need("account_name", "first_name"):
        names_ = _column(frame, "name", "account_name")
        cols["account_name"] = names_
        cols["first_name"] = [
            v.split()[0] if isinstance(v, str) and v.split() else None for v in names_
        ]
    if need("customer_id"):
        cols["customer_id"] = _column(frame, "customer_id")
    if need("owner", "account_owner"):
        account = _column(frame, "owner")
        assigned = _column(frame, "assigned_owner") if "assigned_owner" in frame.columns else None
        cols["account_owner"] = account
        cols["owner"] = assigned if assigned is not None else account
    for key in ("mrr", "arr", "clv"):
        if need(key):
            cols[key] = [money(v) for v in _column(frame, key)]
    for key in ("plan", "segment", "industry", "country", "risk_tier", "health_tier"):
        if need(key):
            cols[key] = _column(frame, key)
    if need("churn_risk"):
        cols["churn_risk"] = [
            None if v is None else f"{float(v) * 100:.0f}%" for v in _column(frame, "churn_risk")
        ]
    if need("health_score"):
        cols["health_score"] = [
            None if v is None else f"{float(v):.0f}" for v in _column(frame, "health_score")
        ]
    if need("tenure_months", "tenure"):
        tenure = _column(frame, "tenure_months")
        cols["tenure_months"] = [None if v is None else int(v) for v in tenure]
        cols["tenure"] = [tenure_words(v) for v in tenure]
    if need("top_risk_factors", "top_risk_factor"):
        cleaned = [[f for f in row if _clean(f)] for row in factors]
        cols["top_risk_factors"] = [", ".join(f) if f else None for f in cleaned]
        cols["top_risk_factor"] = [f[0] if f else None for f in cleaned]
    keys = [k for k in cols if k in wanted]
    columns = [cols[k] for k in keys]
    return (
        [dict(zip(keys, values, strict=True)) for values in zip(*columns, strict=True)]
        if (keys)
        else [{} for _ in range(n)]
    )


SAMPLE_CUSTOMER: dict[str, Any] = {
    "customer_id": "C-0001",
    "name": "Acme Analytics",
    "owner": "Sarah Lee",
    "mrr": 12_500.0,
    "arr": 150_000.0,
    "plan": "Enterprise",
    "segment": "Enterprise",
    "industry": "Software",
    "country": "US",
    "churn_risk": 0.72,
    "risk_tier": "High",
    "health_score": 41.0,
    "health_tier": "At risk",
    "tenure_months": 27,
    "clv": 310_000.0,
}
SAMPLE_FACTORS = ["late payments", "fewer logins", "open support tickets"]


# -- rendering ------------------------------------------------------------------------------------
_SPLIT = "\x1e"  # title, subject and body of a step render in one pass, split on this
_STEP = "\x1d"  # between steps (neither is in any variable: control characters are dropped)


def _literal(value: Any) -> str:
    return "none" if value is None else repr(value)


class CompiledTemplate:
    """A template's steps compiled once into ONE sandboxed template: :meth:`render_all` fills
    every step for one customer in one pass (with only the variables the steps name);
    :meth:`render` one step."""

    def __init__(
        self, steps: tuple[Step, ...], *, campaign_name: str = "", start: date | None = None
    ):
        self.steps = steps
        self.campaign_name = campaign_name
        self.start = start
        self.dues = [
            None if start is None else start + timedelta(days=step.day - 1) for step in steps
        ]
        names: set[str] = set()
        parts = []
        for i, step in enumerate(steps):
            where = f"steps[{i}]"
            for part, text in (
                ("title", step.title),
                ("subject", step.subject),
                ("body", step.body),
            ):
                names |= check_script(text, f"{where}.{part}")
            day_due = self.dues[i]
            due = day_due.isoformat() if day_due is not None else None
            parts.append(
                f"{{% with due_date={_literal(due)}, step_day={step.day} %}}"
                + step.title
                + _SPLIT
                + step.subject
                + _SPLIT
                + step.body
                + "{% endwith %}"
            )
        self.names = sorted(names - {"due_date", "step_day"})
        self._all = _ENV.from_string(_STEP.join(parts))
        self._fixed = {
            "campaign_name": campaign_name or None,
            "start_date": start.isoformat() if start else None,
        }

    def _context(self, variables: dict[str, Any]) -> dict[str, Any]:
        fixed = self._fixed
        return {n: fixed[n] if n in fixed else variables.get(n) for n in self.names}

    def render_all(self, variables: dict[str, Any]) -> list[tuple[str, str, str]]:
        """[(title, subject, body)] of every step for a customer's :func:`customer_variables`."""
        text = self._all.render(self._context(variables))
        out = []
        for chunk in text.split(_STEP):
            title, subject, body = chunk.split(_SPLIT, 2)
            out.append((title.strip(), subject.strip(), body.strip()))
        return out

    def render(
        self, index: int, variables: dict[str, Any], due: date | None = None
    ) -> tuple[str, str, str]:
        """(title, subject, body) of step ``index``; ``due`` overrides its due date."""
        if due is not None and due != self.dues[index]:
            one = CompiledTemplate(
                (self.steps[index],),
                campaign_name=self.campaign_name,
                start=due - timedelta(days=self.steps[index].day - 1),
            )
            return one.render_all(variables)[0]
        return self.render_all(variables)[index]


def render_step(
    step: Step, row: dict[str, Any], factors: list[str] | None = None, **extra: Any
) -> tuple[str, str, str]:
    """(title, subject, body) of one step for one customer (a preview)."""
    compiled = CompiledTemplate(
        (step,), campaign_name=extra.get("campaign_name", ""), start=extra.get("start")
    )
    return compiled.render(0, customer_variables(row, factors), extra.get("due"))


# -- the five built-in templates ------------------------------------------------------------------
_SIGN = "\n\nBest regards,\n{{ owner }}"


def _b(
    name: str, label: str, description: str, target: str, steps: list[dict[str, Any]]
) -> Template:
    return Template(
        name=name,
        label=label,
        description=description,
        target=target,
        steps=tuple(Step(**s) for s in steps),
        builtin=True,
    )


BUILTIN: dict[str, Template] = {
    t.name: t
    for t in (
        _b(
            "payment_assistance",
            "Payment assistance",
            "Help a customer whose payments are failing or late: flexible terms before the "
            "account lapses.",
            "Customers whose top risk factors are payment failures, late invoices or a "
            "downgrade; High or Medium risk.",
            [
                dict(
                    day=1,
                    kind="email",
                    title="Payment options email to {{ account_name }}",
                    subject="{{ account_name }}: options for your {{ plan }} plan payments",
                    body="Hello {{ account_name }} team,\n\n"
                    "We noticed some trouble with recent payments "
                    "for your {{ plan }} plan ({{ mrr }} a month). We'd like to make this easy: "
                    "we can move your billing date, split the next invoice, or switch you to "
                    "annual billing at a discount.\n\nReply to this email or book 15 minutes "
                    "with me and we'll sort it out." + _SIGN,
                ),
                dict(
                    day=3,
                    kind="call",
                    condition="no_response",
                    title="Call {{ account_name }} about payment options",
                    body="Call script for {{ account_name }} ({{ customer_id }}).\n"
                    "Context: churn risk {{ churn_risk }} ({{ risk_tier }}), top factors: "
                    "{{ top_risk_factors }}. MRR {{ mrr }}, customer for {{ tenure }}.\n"
                    "1. Confirm they received the payment-options email.\n"
                    "2. Ask what changed (budget, billing contact, card expiry).\n"
                    "3. Offer: new billing date, split invoice, or annual billing discount.\n"
                    "4. Agree a date for the next payment and log the outcome.",
                ),
                dict(
                    day=7,
                    kind="offer",
                    title="Payment plan offer for {{ account_name }}",
                    subject="A payment plan for {{ account_name }}",
                    body="Offer {{ account_name }} a 3-month payment plan on {{ mrr }} MRR "
                    "(no late fees), valid 14 days. Lifetime value at stake: {{ clv }}.",
                ),
                dict(
                    day=14,
                    kind="escalate",
                    condition="no_response",
                    title="Escalate {{ account_name }} to finance and the account owner",
                    body="No response from {{ account_name }} after the payment-plan offer. "
                    "Escalate to finance and {{ account_owner }}: {{ mrr }} MRR at "
                    "{{ churn_risk }} risk ({{ top_risk_factors }}).",
                ),
            ],
        ),
        _b(
            "support_escalation",
            "Support escalation",
            "Resolve a customer's open support problems with a named engineer and a follow-up "
            "review.",
            "Customers whose top risk factors are support tickets, low CSAT or escalations.",
            [
                dict(
                    day=1,
                    kind="email",
                    title="Support review email to {{ account_name }}",
                    subject="{{ account_name }}: a dedicated engineer for your open issues",
                    body="Hello {{ account_name }} team,\n\n"
                    "I've reviewed your recent support requests "
                    "and I'm sorry they have taken longer than they should. I've assigned a "
                    "senior engineer to your account and would like to walk through each open "
                    "issue with you this week." + _SIGN,
                ),
                dict(
                    day=2,
                    kind="call",
                    title="Call {{ account_name }}: review open tickets",
                    body="Call script for {{ account_name }}.\nContext: {{ top_risk_factors }}; "
                    "health {{ health_score }} ({{ health_tier }}); churn risk {{ churn_risk }}.\n"
                    "1. Apologise and list the open tickets.\n2. Agree a fix date for each.\n"
                    "3. Offer a weekly check-in until they are closed.",
                ),
                dict(
                    day=7,
                    kind="meeting",
                    title="Technical review with {{ account_name }}",
                    body="Run a technical review with {{ account_name }} and the assigned "
                    "engineer; confirm every ticket is closed or has a date.",
                ),
                dict(
                    day=14,
                    kind="escalate",
                    condition="no_response",
                    title="Escalate {{ account_name }} to the head of support",
                    body="Tickets still open for {{ account_name }} ({{ mrr }} MRR, risk "
                    "{{ churn_risk }}). Escalate to the head of support.",
                ),
            ],
        ),
        _b(
            "product_training",
            "Product training",
            "Raise adoption with a tailored training session and usage goals.",
            "Customers whose risk factors are low usage, few logins, few active users or "
            "unused features; early tenure.",
            [
                dict(
                    day=1,
                    kind="email",
                    title="Training invitation to {{ account_name }}",
                    subject="Get more from your {{ plan }} plan, {{ account_name }}",
                    body="Hello {{ account_name }} team,\n\n"
                    "Teams like yours get the most value when more "
                    "people use the features they pay for. I'd like to offer a free 45-minute "
                    "training session for your team, tailored to how you use the product "
                    "today." + _SIGN,
                ),
                dict(
                    day=4,
                    kind="call",
                    condition="no_response",
                    title="Call {{ account_name }} to book the training",
                    body="Call script for {{ account_name }} (customer for {{ tenure }}).\n"
                    "Context: {{ top_risk_factors }}.\n1. Ask who should attend.\n"
                    "2. Book the session.\n3. Agree two usage goals for the next month.",
                ),
                dict(
                    day=10,
                    kind="meeting",
                    title="Training session with {{ account_name }}",
                    body="Deliver the training; record attendees and the usage goals agreed.",
                ),
                dict(
                    day=30,
                    kind="email",
                    title="Usage follow-up to {{ account_name }}",
                    subject="{{ account_name }}: how the last month went",
                    body="Hello {{ account_name }} team,\n\n"
                    "A month after the training, here is how your "
                    "team's usage has changed and what to try next." + _SIGN,
                ),
            ],
        ),
        _b(
            "win_back",
            "Win-back",
            "Bring back a customer who is leaving or has downgraded, with a reason-led offer.",
            "Customers who have downgraded, cancelled or whose risk is Critical or High.",
            [
                dict(
                    day=1,
                    kind="email",
                    title="We'd like you back: {{ account_name }}",
                    subject="{{ account_name }}, can we fix what went wrong?",
                    body="Hello {{ account_name }} team,\n\n"
                    "We value the {{ tenure }} you've been with us. "
                    "I'd like to understand what isn't working and whether we can fix it; we "
                    "have changed a lot recently." + _SIGN,
                ),
                dict(
                    day=3,
                    kind="call",
                    condition="no_response",
                    title="Win-back call to {{ account_name }}",
                    body="Call script for {{ account_name }}.\nContext: risk {{ churn_risk }}, "
                    "factors: {{ top_risk_factors }}; MRR {{ mrr }}; CLV {{ clv }}.\n"
                    "1. Ask the main reason.\n2. Address it with what changed.\n"
                    "3. Offer the win-back discount.",
                ),
                dict(
                    day=7,
                    kind="offer",
                    title="Win-back offer for {{ account_name }}",
                    subject="{{ account_name }}: 2 months at 50% on your {{ plan }} plan",
                    body="Offer {{ account_name }} two months at 50% on the {{ plan }} plan, "
                    "valid 14 days.",
                ),
                dict(
                    day=14,
                    kind="escalate",
                    condition="no_response",
                    title="Executive escalation for {{ account_name }}",
                    body="No answer to the win-back offer; ask an executive to reach out to "
                    "{{ account_name }} ({{ mrr }} MRR).",
                ),
            ],
        ),
        _b(
            "executive_outreach",
            "Executive outreach",
            "An executive sponsor reaches out to a high-value account at risk.",
            "High-MRR or high-CLV customers at High risk, often without an account manager.",
            [
                dict(
                    day=1,
                    kind="email",
                    title="Executive note to {{ account_name }}",
                    subject="{{ account_name }} and {{ owner }}: a personal note",
                    body="Hello {{ account_name }} team,\n\n"
                    "You're one of our most valued customers and I "
                    "want to make sure we are delivering what you need. I'd welcome 30 minutes "
                    "to hear how things are going and what we could do better." + _SIGN,
                ),
                dict(
                    day=3,
                    kind="call",
                    condition="no_response",
                    title="Executive call to {{ account_name }}",
                    body="Call script for {{ account_name }} ({{ customer_id }}).\n"
                    "Context: {{ mrr }} MRR ({{ arr }} ARR), CLV {{ clv }}, churn risk "
                    "{{ churn_risk }} ({{ risk_tier }}), health {{ health_tier }}, customer for "
                    "{{ tenure }}.\nTop risk factors: {{ top_risk_factors }}.\n"
                    "1. Thank them for {{ tenure }} as a customer.\n"
                    "2. Ask about their goals for the next year.\n"
                    "3. Address the top risk factor: {{ top_risk_factor }}.\n"
                    "4. Propose a quarterly business review.",
                ),
                dict(
                    day=7,
                    kind="meeting",
                    title="Business review with {{ account_name }}",
                    body="Quarterly business review with {{ account_name }}: value delivered, "
                    "roadmap, a success plan with dates.",
                ),
                dict(
                    day=14,
                    kind="escalate",
                    condition="no_response",
                    title="CEO outreach to {{ account_name }}",
                    body="No reply from {{ account_name }}; ask the CEO to reach out personally "
                    "({{ arr }} ARR at {{ churn_risk }} risk).",
                ),
            ],
        ),
    )
}
"""The five built-in templates, by name."""
