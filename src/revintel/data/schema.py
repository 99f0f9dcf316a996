"""Canonical data model: one contract per table (see docs/data-model.md and DESIGN.md).

A :class:`TableContract` declares a table's columns (type, required or optional, nullable,
allowed values, bounds), its primary key, its foreign keys and its cross-column rules. From it come:

* :meth:`TableContract.pandera_schema`, the pandera (polars) schema importers validate against;
* :meth:`TableContract.arrow_schema`, the storage types written to the warehouse;
* the column documentation in ``docs/data-model.md`` (a test checks they agree).

A billing system's four CSVs (customers, subscriptions, payments, costs) load with their required
columns alone: every other column is optional. Every table other than ``customers`` is optional.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Literal

import pyarrow as pa_arrow

from revintel.core.calendar import MONTH_PATTERN
from revintel.core.vocabulary import RISK_TIERS

if TYPE_CHECKING:
    import pandera.polars as pa
    import polars as pl

# polars and pandera are imported when a file is validated, not with this module: reading the
# warehouse (every CLI command, the API, the dashboard) needs the contracts but neither library
# (about 1 s of imports).

ColumnType = Literal["str", "int", "float", "bool", "date", "datetime", "month"]


@functools.cache
def polars_types() -> dict[ColumnType, pl.DataType]:
    """The polars type each column type is parsed to (made on first use)."""
    import polars as pl

    return {
        "str": pl.String(),
        "int": pl.Int64(),
        "float": pl.Float64(),
        "bool": pl.Boolean(),
        "date": pl.Date(),
        "datetime": pl.Datetime("us"),
        "month": pl.String(),
    }


ARROW_TYPES: dict[ColumnType, pa_arrow.DataType] = {
    "str": pa_arrow.string(),
    "int": pa_arrow.int64(),
    "float": pa_arrow.float64(),
    "bool": pa_arrow.bool_(),
    "date": pa_arrow.date32(),
    "datetime": pa_arrow.timestamp("us"),
    "month": pa_arrow.string(),
}

# What a user is told the importer expected, per type.
EXPECTED_TEXT: dict[ColumnType, str] = {
    "str": "text",
    "int": "a whole number",
    "float": "a number",
    "bool": "true/false (also 1/0, yes/no)",
    "date": "a date YYYY-MM-DD",
    "datetime": "a date-time YYYY-MM-DD HH:MM[:SS]",
    "month": "a month YYYY-MM",
}

# Dates outside [PLAUSIBLE_FROM, load date + PLAUSIBLE_YEARS_AHEAD years] load with a warning
# naming their rows (a year typed 9999 or 1900 is a typo or a placeholder, rarely a fact).
PLAUSIBLE_FROM = date(1990, 1, 1)
PLAUSIBLE_YEARS_AHEAD = 10


def plausible_dates(today: date) -> tuple[date, date]:
    """The range of dates a load accepts without a warning, as of ``today``."""
    try:
        until = today.replace(year=today.year + PLAUSIBLE_YEARS_AHEAD)
    except ValueError:  # 29 February
        until = today.replace(year=today.year + PLAUSIBLE_YEARS_AHEAD, day=28)
    return PLAUSIBLE_FROM, until


SEGMENTS = ("SMB", "Mid-Market", "Enterprise")
PLANS = ("Basic", "Pro", "Enterprise")
ACQUISITION_CHANNELS = ("Paid Ads", "Referral", "Organic", "Partner")
PAYMENT_STATUSES = ("Success", "Failed")
BILLING_PERIODS = ("monthly", "quarterly", "annual", "multi-year")
TICKET_SEVERITIES = ("low", "medium", "high", "urgent")
DEAL_STAGES = (
    "Prospecting",
    "Qualification",
    "Proposal",
    "Negotiation",
    "Closed Won",
    "Closed Lost",
)
FORECAST_CATEGORIES = ("Pipeline", "Best Case", "Commit", "Closed", "Omitted")
DEAL_TYPES = ("New Business", "Expansion", "Renewal")
CONVERSION_TYPES = ("signup", "trial", "paid")


@dataclass(frozen=True)
class ColumnSpec:
    """One column of a contract."""

    name: str
    type: ColumnType
    description: str
    required: bool = True  # must the file have this column?
    nullable: bool = False  # may a value be blank?
    unique: bool = False
    allowed: tuple[str, ...] | None = None  # closed set of values (case-sensitive)
    ge: float | None = None
    le: float | None = None

    def expected(self) -> str:
        if self.allowed:
            return "one of " + ", ".join(self.allowed)
        text = EXPECTED_TEXT[self.type]
        if self.ge is not None and self.le is not None:
            text += f" between {self.ge:g} and {self.le:g}"
        elif self.ge is not None:
            text += f" ≥ {self.ge:g}"
        elif self.le is not None:
            text += f" ≤ {self.le:g}"
        return text


@dataclass(frozen=True)
class ForeignKey:
    """``column`` of this table must name an existing row of ``table.ref_column``.

    ``when_loaded``: checked only when ``table`` is loaded (in the same load or before); without it
    the values stand on their own (bring-your-own churn predictions need no customers table).
    """

    column: str
    table: str
    ref_column: str
    when_loaded: bool = False


@dataclass(frozen=True)
class RowRule:
    """A cross-column rule. ``violated`` returns a boolean expression true on bad rows.

    The rule applies only when all ``columns`` are present in the file.
    """

    name: str
    columns: tuple[str, ...]
    message: str
    violated: Callable[[], pl.Expr]


@dataclass(frozen=True)
class TableContract:
    """A canonical table: columns, keys and rules."""

    name: str
    description: str
    columns: tuple[ColumnSpec, ...]
    primary_key: tuple[str, ...]
    foreign_keys: tuple[ForeignKey, ...] = ()
    rules: tuple[RowRule, ...] = ()
    aliases: tuple[str, ...] = field(default=())  # other file stems that mean this table
    standalone: bool = (
        False  # may be loaded without the customers table (its keys then stand alone)
    )

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    @property
    def key_columns(self) -> tuple[str, ...]:
        """Text columns that identify rows (primary key, unique, foreign keys): trimmed on load."""
        keys = {*self.primary_key, *(fk.column for fk in self.foreign_keys)}
        keys |= {c.name for c in self.columns if c.unique}
        return tuple(c.name for c in self.columns if c.name in keys and c.type == "str")

    def column(self, name: str) -> ColumnSpec:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    def polars_schema(self, present: list[str] | None = None) -> dict[str, pl.DataType]:
        cols = self.columns if present is None else [self.column(n) for n in present]
        types = polars_types()
        return {c.name: types[c.type] for c in cols}

    def arrow_schema(self) -> pa_arrow.Schema:
        """Storage schema: every contract column, optional ones stored as nulls when absent."""
        return pa_arrow.schema(
            [pa_arrow.field(c.name, ARROW_TYPES[c.type], nullable=True) for c in self.columns]
        )

    def pandera_schema(self, present: list[str] | None = None) -> pa.DataFrameSchema:
        """The pandera (polars) schema for the columns present in a file.

        Value checks only: types are parsed (with row-level messages) before this runs, and key
        uniqueness across chunks and foreign keys are checked by the importer, which sees all rows.
        """
        import pandera.polars as pa

        names = list(self.column_names) if present is None else present
        types = polars_types()
        columns: dict[str, pa.Column] = {}
        for name in names:
            spec = self.column(name)
            checks: list[pa.Check] = []
            if spec.allowed:
                checks.append(pa.Check.isin(list(spec.allowed), error=spec.expected()))
            if spec.ge is not None:
                checks.append(pa.Check.ge(spec.ge, error=spec.expected()))
            if spec.le is not None:
                checks.append(pa.Check.le(spec.le, error=spec.expected()))
            if spec.type == "month":
                checks.append(pa.Check.str_matches(MONTH_PATTERN, error=spec.expected()))
            columns[name] = pa.Column(
                types[spec.type],
                checks=checks,
                nullable=spec.nullable,
                unique=spec.unique,
                required=True,
                coerce=False,
            )
        frame_checks = [
            pa.Check(
                _rule_check(rule),
                name=rule.name,
                error=rule.message,
            )
            for rule in self.rules
            if all(c in names for c in rule.columns)
        ]
        return pa.DataFrameSchema(columns, checks=frame_checks, strict=True, name=self.name)

    def empty_frame(self) -> pl.DataFrame:
        import polars as pl

        return pl.DataFrame(schema=self.polars_schema())


def _rule_check(rule: RowRule) -> Callable[[object], pl.LazyFrame]:
    def check(data: object) -> pl.LazyFrame:
        # pandera passes PolarsData(lazyframe, key); the check returns True on good rows.
        # A null in either column is not a violation (the nullability check covers blanks).
        return data.lazyframe.select(~rule.violated().fill_null(False))  # type: ignore[attr-defined]

    return check


def _pl_col(name: str) -> pl.Expr:
    import polars as pl

    return pl.col(name)


def _col(
    name: str,
    type_: ColumnType,
    description: str,
    *,
    required: bool = True,
    nullable: bool = False,
    unique: bool = False,
    allowed: tuple[str, ...] | None = None,
    ge: float | None = None,
    le: float | None = None,
) -> ColumnSpec:
    return ColumnSpec(name, type_, description, required, nullable, unique, allowed, ge, le)


def _not_before(later: str, earlier: str, what: str) -> RowRule:
    return RowRule(
        name=f"{later}_not_before_{earlier}",
        columns=(later, earlier),
        message=f"{what}: '{later}' must not be before '{earlier}'",
        violated=lambda: _pl_col(later) < _pl_col(earlier),
    )


_JOURNEY_ID = ColumnSpec(
    "journey_id",
    "str",
    "Whose journey: a visitor or lead id (blank: the customer's own journey).",
    required=False,
    nullable=True,
)


def _journey_known(what: str) -> RowRule:
    return RowRule(
        name="journey_or_customer",
        columns=("journey_id", "customer_id"),
        message=f"{what} belongs to no journey: expected a journey_id or a customer_id",
        violated=lambda: _pl_col("journey_id").is_null() & _pl_col("customer_id").is_null(),
    )


def _at_most(small: str, large: str) -> RowRule:
    return RowRule(
        name=f"{small}_at_most_{large}",
        columns=(small, large),
        message=f"'{small}' must not exceed '{large}'",
        violated=lambda: _pl_col(small) > _pl_col(large),
    )


CUSTOMERS = TableContract(
    name="customers",
    description="One row per customer (a paying or trialling company). The only required table.",
    columns=(
        _col("customer_id", "str", "Unique customer identifier.", unique=True),
        _col("signup_date", "date", "Date the customer signed up (or started a trial)."),
        _col("segment", "str", "Market segment.", allowed=SEGMENTS),
        _col("country", "str", "Country code (ISO 3166-1 alpha-2 recommended)."),
        _col(
            "acquisition_channel",
            "str",
            "How the customer was acquired.",
            allowed=ACQUISITION_CHANNELS,
        ),
        _col(
            "is_active",
            "bool",
            "Current active status, as exported.",
            required=False,
            nullable=True,
        ),
        _col("company_name", "str", "Company name.", required=False, nullable=True),
        _col("industry", "str", "Industry of the company.", required=False, nullable=True),
    ),
    primary_key=("customer_id",),
)

SUBSCRIPTIONS = TableContract(
    name="subscriptions",
    description="Recurring subscriptions. MRR comes from these (docs/metrics.md).",
    columns=(
        _col("subscription_id", "str", "Unique subscription identifier.", unique=True),
        _col("customer_id", "str", "The customer (customers.customer_id)."),
        _col("plan_type", "str", "Plan.", allowed=PLANS),
        _col("start_date", "date", "First day the subscription is active."),
        _col(
            "end_date",
            "date",
            "Cancellation date (blank while active); the subscription is "
            "active through the day before.",
            nullable=True,
        ),
        _col(
            "monthly_price",
            "float",
            "Recurring price normalised to one month, before "
            "discounts and tax (annual / 12, quarterly / 3).",
            ge=0,
        ),
        _col(
            "billing_period",
            "str",
            "How often it is invoiced.",
            required=False,
            nullable=True,
            allowed=BILLING_PERIODS,
        ),
        _col("seats", "int", "Licensed seats.", required=False, nullable=True, ge=0),
        _col(
            "discount_pct",
            "float",
            "Recurring discount as a fraction (0.2 = 20% off).",
            required=False,
            nullable=True,
            ge=0,
            le=1,
        ),
        _col(
            "discount_end_date",
            "date",
            "Last day the discount applies (blank: for the "
            "whole subscription). Its end is an expansion.",
            required=False,
            nullable=True,
        ),
    ),
    primary_key=("subscription_id",),
    foreign_keys=(ForeignKey("customer_id", "customers", "customer_id"),),
    rules=(_not_before("end_date", "start_date", "a subscription cannot end before it starts"),),
)

PAYMENTS = TableContract(
    name="payments",
    description="Payment attempts (cash). Revenue(M) sums successful ones.",
    columns=(
        _col("payment_id", "str", "Unique payment (attempt) identifier.", unique=True),
        _col("customer_id", "str", "The paying customer (customers.customer_id)."),
        _col("payment_date", "date", "Date of the attempt."),
        _col("amount", "float", "Amount charged, before refunds.", ge=0),
        _col("payment_status", "str", "Outcome of the attempt.", allowed=PAYMENT_STATUSES),
        _col("subscription_id", "str", "Subscription invoiced.", required=False, nullable=True),
        _col(
            "invoice_id",
            "str",
            "Invoice; retries of one invoice share it.",
            required=False,
            nullable=True,
        ),
        _col(
            "attempt",
            "int",
            "Attempt number for the invoice (1 = first).",
            required=False,
            nullable=True,
            ge=1,
        ),
        _col("due_date", "date", "Invoice due date.", required=False, nullable=True),
    ),
    primary_key=("payment_id",),
    foreign_keys=(
        ForeignKey("customer_id", "customers", "customer_id"),
        ForeignKey("subscription_id", "subscriptions", "subscription_id"),
    ),
)

COSTS = TableContract(
    name="costs",
    description="Monthly cost breakdown: infrastructure, support and marketing.",
    columns=(
        _col("month", "month", "Month, YYYY-MM.", unique=True),
        _col("infra_cost", "float", "Infrastructure (cost of revenue).", ge=0),
        _col("marketing_cost", "float", "Marketing spend (operating cost).", ge=0),
        _col("support_cost", "float", "Customer support (cost of revenue).", ge=0),
    ),
    primary_key=("month",),
)

MARKETING_SPEND = TableContract(
    name="marketing_spend",
    description="Marketing spend by month and acquisition channel (for CAC by channel).",
    columns=(
        _col("month", "month", "Month, YYYY-MM."),
        _col("channel", "str", "Acquisition channel.", allowed=ACQUISITION_CHANNELS),
        _col("spend", "float", "Spend in the month.", ge=0),
    ),
    primary_key=("month", "channel"),
)

TRIALS = TableContract(
    name="trials",
    description="Free trials, for trial-to-paid conversion.",
    columns=(
        _col("trial_id", "str", "Unique trial identifier.", unique=True),
        _col("customer_id", "str", "The trialling customer (customers.customer_id)."),
        _col("trial_start", "date", "First day of the trial."),
        _col("trial_end", "date", "Last day of the trial."),
        _col("plan_type", "str", "Plan trialled.", required=False, nullable=True, allowed=PLANS),
        _col(
            "converted",
            "bool",
            "Whether it converted, as exported (revintel recomputes conversion from first MRR).",
            required=False,
            nullable=True,
        ),
    ),
    primary_key=("trial_id",),
    foreign_keys=(ForeignKey("customer_id", "customers", "customer_id"),),
    rules=(_not_before("trial_end", "trial_start", "a trial cannot end before it starts"),),
)

ACCOUNTS = TableContract(
    name="accounts",
    description="Account facts for health scoring and playbooks (one row per customer account).",
    columns=(
        _col("account_id", "str", "The account (customers.customer_id).", unique=True),
        _col("account_name", "str", "Display name.", required=False, nullable=True),
        _col("industry", "str", "Industry.", required=False, nullable=True),
        _col("arr", "float", "Annual recurring revenue of the account.", ge=0),
        _col("owner", "str", "Account manager.", nullable=True),
        _col("renewal_date", "date", "Next renewal.", nullable=True),
        _col("last_contact_date", "date", "Last logged contact with the account.", nullable=True),
    ),
    primary_key=("account_id",),
    foreign_keys=(ForeignKey("account_id", "customers", "customer_id"),),
)

USAGE = TableContract(
    name="usage",
    description="Monthly product engagement per account.",
    columns=(
        _col("account_id", "str", "The account (customers.customer_id)."),
        _col("month", "month", "Month, YYYY-MM."),
        _col("active_users", "int", "Distinct users active in the month.", ge=0),
        _col("licensed_seats", "int", "Seats paid for.", ge=0),
        _col("logins", "int", "Logins in the month.", ge=0),
        _col("key_feature_adoption", "float", "Share of key features used (0–1).", ge=0, le=1),
    ),
    primary_key=("account_id", "month"),
    foreign_keys=(ForeignKey("account_id", "customers", "customer_id"),),
)

NPS_RESPONSES = TableContract(
    name="nps_responses",
    description="Net Promoter Score survey responses.",
    columns=(
        _col("response_id", "str", "Unique response identifier.", unique=True),
        _col("account_id", "str", "The account (customers.customer_id)."),
        _col("response_date", "date", "Date answered."),
        _col("score", "int", "Likelihood to recommend, 0–10.", ge=0, le=10),
        _col("comment", "str", "Free-text comment.", required=False, nullable=True),
    ),
    primary_key=("response_id",),
    foreign_keys=(ForeignKey("account_id", "customers", "customer_id"),),
)

SUPPORT_TICKETS = TableContract(
    name="support_tickets",
    description="Support tickets with severity and open/close times.",
    columns=(
        _col("ticket_id", "str", "Unique ticket identifier.", unique=True),
        _col("account_id", "str", "The account (customers.customer_id)."),
        _col("opened_at", "datetime", "When the ticket was opened."),
        _col("closed_at", "datetime", "When it was closed (blank while open).", nullable=True),
        _col("severity", "str", "Severity.", allowed=TICKET_SEVERITIES),
        _col("category", "str", "Topic (billing, bug, how-to, …).", required=False, nullable=True),
    ),
    primary_key=("ticket_id",),
    foreign_keys=(ForeignKey("account_id", "customers", "customer_id"),),
    rules=(_not_before("closed_at", "opened_at", "a ticket cannot close before it opens"),),
)

DEALS = TableContract(
    name="deals",
    description="Sales opportunities.",
    columns=(
        _col("deal_id", "str", "Unique deal identifier.", unique=True),
        _col(
            "account_id",
            "str",
            "Customer account, blank for a prospect not yet a customer.",
            nullable=True,
        ),
        _col("account_name", "str", "Account or prospect name.", required=False, nullable=True),
        _col("owner", "str", "Sales rep."),
        _col("stage", "str", "Current stage.", allowed=DEAL_STAGES),
        _col("amount", "float", "Deal value (first-year ARR).", ge=0),
        _col("created_date", "date", "Date the opportunity was created."),
        _col("expected_close_date", "date", "Expected close date.", nullable=True),
        _col("closed_date", "date", "Actual close date (blank while open).", nullable=True),
        _col(
            "forecast_category",
            "str",
            "Rep's forecast category.",
            required=False,
            nullable=True,
            allowed=FORECAST_CATEGORIES,
        ),
        _col(
            "deal_type", "str", "Kind of deal.", required=False, nullable=True, allowed=DEAL_TYPES
        ),
        _col("segment", "str", "Segment.", required=False, nullable=True, allowed=SEGMENTS),
        _col(
            "competitor",
            "str",
            "Main competitor in the deal, blank if none.",
            required=False,
            nullable=True,
        ),
        _col("lead_source", "str", "Where the lead came from.", required=False, nullable=True),
        _col(
            "has_champion",
            "bool",
            "Qualification: an internal champion is identified.",
            required=False,
            nullable=True,
        ),
        _col(
            "budget_confirmed",
            "bool",
            "Qualification: budget confirmed.",
            required=False,
            nullable=True,
        ),
        _col(
            "decision_maker_engaged",
            "bool",
            "Qualification: economic buyer engaged.",
            required=False,
            nullable=True,
        ),
        _col(
            "loss_reason",
            "str",
            "Why a lost deal was lost (price, competitor, no decision, …), blank otherwise.",
            required=False,
            nullable=True,
        ),
        _col(
            "discount_pct",
            "float",
            "Discount off list price as a fraction (0.2 = 20% off).",
            required=False,
            nullable=True,
            ge=0,
            le=1,
        ),
        _col("seats", "int", "Seats (users) the deal is for.", required=False, nullable=True, ge=0),
        _col("product", "str", "Product or plan sold.", required=False, nullable=True),
    ),
    primary_key=("deal_id",),
    foreign_keys=(ForeignKey("account_id", "customers", "customer_id"),),
    rules=(_not_before("closed_date", "created_date", "a deal cannot close before it is created"),),
)

DEAL_STAGE_HISTORY = TableContract(
    name="deal_stage_history",
    description=(
        "Each change to a deal, and when: a row each time it entered a stage, and a row (in the "
        "same stage) each time its amount, expected close date or forecast category changed. "
        "Each row carries the deal's state from that date on (blank: not recorded)."
    ),
    columns=(
        _col("deal_id", "str", "The deal (deals.deal_id)."),
        _col(
            "stage",
            "str",
            "Stage entered (or the deal's stage at the change).",
            allowed=DEAL_STAGES,
        ),
        _col("entered_at", "date", "Date of the change."),
        _col("amount", "float", "Deal amount from then on.", required=False, nullable=True, ge=0),
        _col(
            "expected_close_date",
            "date",
            "Expected close date from then on.",
            required=False,
            nullable=True,
        ),
        _col(
            "forecast_category",
            "str",
            "Rep's forecast category from then on.",
            required=False,
            nullable=True,
            allowed=FORECAST_CATEGORIES,
        ),
    ),
    primary_key=("deal_id", "stage", "entered_at"),
    foreign_keys=(ForeignKey("deal_id", "deals", "deal_id"),),
)

DEAL_ACTIVITY_KINDS = ("email", "call", "meeting", "note")
ACTIVITY_DIRECTIONS = ("inbound", "outbound")

DEAL_ACTIVITIES = TableContract(
    name="deal_activities",
    description="Sales activity on each deal: emails, calls, meetings and notes.",
    columns=(
        _col("activity_id", "str", "Unique activity identifier.", unique=True),
        _col("deal_id", "str", "The deal (deals.deal_id)."),
        _col("activity_at", "datetime", "When it happened."),
        _col("kind", "str", "email, call, meeting or note.", allowed=DEAL_ACTIVITY_KINDS),
        _col(
            "direction",
            "str",
            "inbound (from the buyer) or outbound (from us).",
            required=False,
            nullable=True,
            allowed=ACTIVITY_DIRECTIONS,
        ),
        _col("contact", "str", "Buyer contact involved.", required=False, nullable=True),
    ),
    primary_key=("activity_id",),
    foreign_keys=(ForeignKey("deal_id", "deals", "deal_id"),),
)

TOUCHPOINTS = TableContract(
    name="touchpoints",
    description=(
        "Marketing touchpoints on each journey: a visitor's or lead's (journey_id), with the "
        "customer filled in once known. Journeys that never converted are kept."
    ),
    columns=(
        _col("touchpoint_id", "str", "Unique touchpoint identifier.", unique=True),
        _JOURNEY_ID,
        _col(
            "customer_id",
            "str",
            "The customer, once known (customers.customer_id); blank for a visitor or lead.",
            nullable=True,
        ),
        _col("touched_at", "datetime", "When the touch happened."),
        _col("channel", "str", "Marketing channel (Paid Search, Email, …)."),
        _col("source", "str", "utm_source.", required=False, nullable=True),
        _col("medium", "str", "utm_medium.", required=False, nullable=True),
        _col("campaign", "str", "utm_campaign.", required=False, nullable=True),
        _col(
            "touchpoint_type",
            "str",
            "Kind of touch as tracked (paid_search, email_open, …).",
            required=False,
            nullable=True,
        ),
    ),
    primary_key=("touchpoint_id",),
    # An analytics export's journeys load without customers; customer ids are checked once
    # customers are loaded.
    foreign_keys=(ForeignKey("customer_id", "customers", "customer_id", when_loaded=True),),
    rules=(_journey_known("touchpoint"),),
    standalone=True,
)

CONVERSIONS = TableContract(
    name="conversions",
    description="Conversion and revenue events that attribution credits, on the same journeys.",
    columns=(
        _col("conversion_id", "str", "Unique conversion identifier.", unique=True),
        _JOURNEY_ID,
        _col(
            "customer_id",
            "str",
            "Who converted, once known (customers.customer_id).",
            nullable=True,
        ),
        _col("converted_at", "datetime", "When."),
        _col("conversion_type", "str", "What happened.", allowed=CONVERSION_TYPES),
        _col(
            "value",
            "float",
            "Conversion value in the reporting currency (first-year revenue for paid).",
            ge=0,
        ),
        _col(
            "currency",
            "str",
            "Currency the value was reported in, ISO 4217 (converted through fx_rates).",
            required=False,
            nullable=True,
        ),
        _col(
            "original_value",
            "float",
            "The value in that currency, before conversion.",
            required=False,
            nullable=True,
            ge=0,
        ),
    ),
    primary_key=("conversion_id",),
    foreign_keys=(ForeignKey("customer_id", "customers", "customer_id", when_loaded=True),),
    rules=(_journey_known("conversion"),),
    standalone=True,
)

CHANNEL_SPEND = TableContract(
    name="channel_spend",
    description=(
        "Marketing spend by month and marketing (touch) channel, for channel ROI and the budget "
        "suggestion. marketing_spend holds the same money by acquisition channel."
    ),
    columns=(
        _col("month", "month", "Month, YYYY-MM."),
        _col("channel", "str", "Marketing channel, as in touchpoints.channel."),
        _col("spend", "float", "Spend in the month, in the reporting currency.", ge=0),
    ),
    primary_key=("month", "channel"),
    standalone=True,
)

FX_RATES = TableContract(
    name="fx_rates",
    description="Exchange rates to the reporting currency, by month: value × rate.",
    columns=(
        _col("month", "month", "Month, YYYY-MM."),
        _col("currency", "str", "Currency, ISO 4217 (EUR, GBP, …)."),
        _col("rate", "float", "Units of the reporting currency per unit of this one.", ge=0),
    ),
    primary_key=("month", "currency"),
    standalone=True,
)

PREDICTIONS = TableContract(
    name="predictions",
    description="Churn predictions: revintel's own scores, or your own (bring-your-own scores).",
    columns=(
        _col("account_id", "str", "The account (customers.customer_id)."),
        _col("churn_risk_score", "float", "Probability of churn, 0–1.", ge=0, le=1),
        _col("risk_tier", "str", "Risk tier.", required=False, nullable=True, allowed=RISK_TIERS),
        _col(
            "prediction",
            "int",
            "Predicted label (1 = churn).",
            required=False,
            nullable=True,
            ge=0,
            le=1,
        ),
        _col(
            "scored_at", "date", "Date of scoring (blank: undated).", required=False, nullable=True
        ),
        _col("model_version", "str", "Model that scored it.", required=False, nullable=True),
    ),
    primary_key=("account_id", "scored_at"),
    foreign_keys=(ForeignKey("account_id", "customers", "customer_id", when_loaded=True),),
    standalone=True,
)

CAMPAIGN_GROUPS: tuple[str, ...] = ("treated", "holdout")

CAMPAIGNS = TableContract(
    name="campaigns",
    description=(
        "Past retention campaigns run outside revintel (a CRM's or the demo's), measured against "
        "their holdout by revintel's campaign results. A member's outcome window starts the month "
        "it was enrolled (campaign_members.enrolled_on, else start_date) and lasts outcome_months "
        "months (blank: to end_date); it churned when its MRR is 0 at the end of a month of it."
    ),
    columns=(
        _col("campaign_id", "str", "Unique campaign identifier.", unique=True),
        _col("name", "str", "Campaign name."),
        _col(
            "template",
            "str",
            "The play it ran (payment_assistance, support_escalation, product_training, "
            "win_back, executive_outreach, or your own).",
        ),
        _col("start_date", "date", "First day of the campaign."),
        _col("end_date", "date", "Last day of the last member's outcome window."),
        _col(
            "outcome_months",
            "int",
            "Months of each member's outcome window, its enrolment month included.",
            required=False,
            nullable=True,
            ge=1,
            le=36,
        ),
        _col(
            "cost_per_customer",
            "float",
            "Cost per treated customer in the reporting currency (blank: unknown).",
            required=False,
            nullable=True,
            ge=0,
        ),
        _col(
            "holdout_share",
            "float",
            "Share of the audience held out at random.",
            required=False,
            nullable=True,
            ge=0,
            le=1,
        ),
        _col("description", "str", "Audience and play.", required=False, nullable=True),
    ),
    primary_key=("campaign_id",),
    rules=(_not_before("end_date", "start_date", "campaign"),),
    standalone=True,
)

CAMPAIGN_MEMBERS = TableContract(
    name="campaign_members",
    description=(
        "Who was in each past campaign: treated (received the play) or holdout (a random control "
        "that received nothing)."
    ),
    columns=(
        _col("campaign_id", "str", "The campaign (campaigns.campaign_id)."),
        _col("customer_id", "str", "The customer (customers.customer_id)."),
        _col("group", "str", "treated or holdout.", allowed=CAMPAIGN_GROUPS),
        _col(
            "enrolled_on",
            "date",
            "When the customer joined (blank: the campaign's start_date).",
            required=False,
            nullable=True,
        ),
        _col(
            "risk_tier",
            "str",
            "Churn risk tier at the start (the holdout was drawn within each tier).",
            required=False,
            nullable=True,
            allowed=RISK_TIERS,
        ),
        _col(
            "risk_at_start",
            "float",
            "Churn risk score at the start, 0–1.",
            required=False,
            nullable=True,
            ge=0,
            le=1,
        ),
    ),
    primary_key=("campaign_id", "customer_id"),
    foreign_keys=(
        ForeignKey("campaign_id", "campaigns", "campaign_id"),
        ForeignKey("customer_id", "customers", "customer_id", when_loaded=True),
    ),
    standalone=True,
)

CONTRACTS: dict[str, TableContract] = {
    c.name: c
    for c in (
        CUSTOMERS,
        SUBSCRIPTIONS,
        PAYMENTS,
        COSTS,
        MARKETING_SPEND,
        TRIALS,
        ACCOUNTS,
        USAGE,
        NPS_RESPONSES,
        SUPPORT_TICKETS,
        DEALS,
        DEAL_STAGE_HISTORY,
        DEAL_ACTIVITIES,
        TOUCHPOINTS,
        CONVERSIONS,
        CHANNEL_SPEND,
        FX_RATES,
        PREDICTIONS,
        CAMPAIGNS,
        CAMPAIGN_MEMBERS,
    )
}

# Load order: a table comes after every table its foreign keys point to.
TABLE_ORDER: tuple[str, ...] = tuple(CONTRACTS)


def contract_for(name: str) -> TableContract:
    """The contract of a table, by canonical name or alias (case-insensitive)."""
    key = name.strip().lower()
    for contract in CONTRACTS.values():
        if key == contract.name or key in contract.aliases:
            return contract
    from revintel.core.errors import NotFoundError

    raise NotFoundError(f"Unknown table {name!r}; expected one of: {', '.join(CONTRACTS)}")


def data_model_markdown() -> str:
    """The per-table column reference of docs/data-model.md, rendered from the contracts.

    ``docs/data-model.md`` embeds this text between ``<!-- contracts:begin -->`` and
    ``<!-- contracts:end -->``; a test fails when the two disagree (regenerate with
    ``uv run python -m revintel.data.schema``).
    """
    parts: list[str] = []
    for contract in CONTRACTS.values():
        parts.append(f"### `{contract.name}`\n\n")
        parts.append(f"{contract.description}\n\n")
        parts.append(f"Primary key: {', '.join(f'`{c}`' for c in contract.primary_key)}.")
        if contract.foreign_keys:
            refs = "; ".join(
                f"`{fk.column}` → `{fk.table}.{fk.ref_column}`"
                + (f" (checked when `{fk.table}` is loaded)" if fk.when_loaded else "")
                for fk in contract.foreign_keys
            )
            parts.append(f" References: {refs}.")
        if contract.rules:
            parts.append(" Rules: " + "; ".join(r.message for r in contract.rules) + ".")
        parts.append("\n\n| column | type | required | blank allowed | values | description |\n")
        parts.append("|---|---|---|---|---|---|\n")
        for c in contract.columns:
            values = c.expected() if (c.allowed or c.ge is not None or c.le is not None) else ""
            unique = " Unique." if c.unique else ""
            parts.append(
                f"| `{c.name}` | {c.type} | {'yes' if c.required else 'no'} | "
                f"{'yes' if c.nullable else 'no'} | {values} | {c.description}{unique} |\n"
            )
        parts.append("\n")
    return "".join(parts).rstrip() + "\n"


if __name__ == "__main__":
    print(data_model_markdown(), end="")
