"""Turning the simulation's numpy columns into the canonical Arrow tables and the truth tables."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from revintel.data.generator import columns as C
from revintel.data.generator import params as P
from revintel.data.generator.anomalies import AnomalyRecord
from revintel.data.generator.campaigns import CAMPAIGN_RULES, PastCampaign
from revintel.data.generator.deal_signals import Activities, DealChanges, DealDetails
from revintel.data.generator.marketing import (
    AttributionTruth,
    ChannelSpend,
    Conversions,
    Touchpoints,
    campaign_names,
    source_names,
)
from revintel.data.generator.population import NamePool, Population
from revintel.data.generator.sales import (
    COMBO_COMPETITOR,
    COMBO_FLAGS,
    LEAD_SOURCES,
    Deals,
    mean_win_rate,
)
from revintel.data.generator.simulation import NPS_COMMENTS, SimulationResult
from revintel.data.generator.timeline import NO_DAY, Timeline
from revintel.data.schema import (
    ACTIVITY_DIRECTIONS,
    CONTRACTS,
    CONVERSION_TYPES,
    DEAL_ACTIVITY_KINDS,
    DEAL_STAGES,
    FORECAST_CATEGORIES,
)

CONTACT_GAP_DAYS = np.array([55.0, 30.0, 14.0])  # mean days since last contact, by segment


class TableBuilder:
    def __init__(
        self,
        pop: Population,
        sim: SimulationResult,
        tl: Timeline,
        names: NamePool,
        rng: np.random.Generator,
    ) -> None:
        self.pop, self.sim, self.tl, self.names, self.rng = pop, sim, tl, names, rng
        self.customer_width = C.id_width(pop.n)
        self.month_labels = C.Vocabulary(tl.labels)

    def customer_id(self, population_index: np.ndarray, mask: np.ndarray | None = None):
        number = np.asarray(population_index, dtype=np.int64) + 1
        return C.string_ids("CUS-", number, self.customer_width, mask)

    def company_name(self, population_index: np.ndarray) -> pa.Array:
        return self.names.companies.take(self.pop.name_code[population_index])

    def paying_id(self, paying_index: np.ndarray) -> pa.Array:
        return self.customer_id(self.sim.paying[np.asarray(paying_index, dtype=np.int64)])

    def months(self, month: np.ndarray) -> pa.Array:
        return self.month_labels.take(month)

    # ------------------------------------------------------------------ customers and revenue
    def customers(self) -> pa.Table:
        pop = self.pop
        active = np.zeros(pop.n, dtype=bool)
        active[self.sim.paying] = self.sim.alive_end
        return C.contract_table(
            "customers",
            {
                "customer_id": self.customer_id(np.arange(pop.n)),
                "signup_date": C.dates(pop.signup_day),
                "segment": C.labels(P.SEGMENT_LABELS, pop.segment),
                "country": C.labels(P.COUNTRIES, pop.country),
                "acquisition_channel": C.labels(P.CHANNEL_LABELS, pop.channel),
                "is_active": C.bools(active),
                "company_name": self.company_name(np.arange(pop.n)),
                "industry": C.labels(P.INDUSTRIES, pop.industry),
            },
        )

    def trials(self) -> pa.Table:
        pop = self.pop
        idx = np.flatnonzero(pop.has_trial)
        return C.contract_table(
            "trials",
            {
                "trial_id": C.string_ids("TRL-", np.arange(1, len(idx) + 1), C.id_width(len(idx))),
                "customer_id": self.customer_id(idx),
                "trial_start": C.dates(pop.signup_day[idx]),
                "trial_end": C.dates(pop.trial_end[idx]),
                "plan_type": C.labels(P.PLAN_LABELS, pop.plan[idx]),
                "converted": C.bools(pop.converts[idx]),
            },
        )

    def subscription_ids(self, numbers: np.ndarray) -> pa.Array:
        width = C.id_width(int(self.sim.subscriptions.sub_id.max(initial=0)))
        return C.string_ids("SUB-", numbers, width)

    def subscriptions(self) -> pa.Table:
        s = self.sim.subscriptions
        open_ = s.end >= NO_DAY
        no_disc = s.disc_end < 0
        return C.contract_table(
            "subscriptions",
            {
                "subscription_id": self.subscription_ids(s.sub_id),
                "customer_id": self.paying_id(s.cust),
                "plan_type": C.labels(P.PLAN_LABELS, s.plan),
                "start_date": C.dates(s.start),
                "end_date": C.dates(np.where(open_, 0, s.end), mask=open_),
                "monthly_price": C.floats(s.price, 2),
                "billing_period": C.labels(
                    P.BILLING_LABELS, np.searchsorted(P.BILLING_MONTHS, s.period)
                ),
                "seats": C.ints(s.seats),
                "discount_pct": C.floats(s.disc, 2),
                "discount_end_date": C.dates(np.where(no_disc, 0, s.disc_end), mask=no_disc),
            },
        )

    def payments(self) -> pa.Table:
        p = self.sim.payments
        n = len(p["cust"])
        invoices = int(p["invoice"].max(initial=0)) if n else 0
        return C.contract_table(
            "payments",
            {
                "payment_id": C.string_ids("PAY-", np.arange(1, n + 1), C.id_width(n)),
                "customer_id": self.paying_id(p["cust"]),
                "payment_date": C.dates(p["date"]),
                "amount": C.floats(p["amount"], 2),
                "payment_status": C.labels(("Failed", "Success"), p["success"].astype(np.int64)),
                "subscription_id": self.subscription_ids(p["sub_id"].astype(np.int64)),
                "invoice_id": C.string_ids(
                    "INV-", p["invoice"].astype(np.int64), C.id_width(invoices)
                ),
                "attempt": C.ints(p["attempt"]),
                "due_date": C.dates(p["due"]),
            },
        )

    def marketing_spend(self, spend: np.ndarray) -> pa.Table:
        months, channels = spend.shape
        return C.contract_table(
            "marketing_spend",
            {
                "month": self.months(np.repeat(np.arange(months), channels)),
                "channel": C.labels(P.CHANNEL_LABELS, np.tile(np.arange(channels), months)),
                "spend": C.floats(spend.reshape(-1), 2),
            },
        )

    def costs(self, costs: dict[str, np.ndarray]) -> pa.Table:
        return C.contract_table(
            "costs",
            {
                "month": self.months(np.arange(self.tl.months)),
                **{k: C.floats(v, 2) for k, v in costs.items()},
            },
        )

    # ------------------------------------------------------------------ accounts and engagement
    def accounts(self) -> pa.Table:
        pop, sim, tl, rng = self.pop, self.sim, self.tl, self.rng
        n = len(sim.paying)
        seg = pop.segment[sim.paying].astype(np.int64)
        alive = sim.alive_end
        arr = 12.0 * np.where(alive, sim.mrr_end, sim.last_mrr)
        renewal = tl.next_billing(
            np.full(n, tl.window_end + 1),
            sim.main_anchor_month,
            sim.main_anchor_dom,
            np.full(n, 12),
        )
        # Neglected, unhealthy accounts go longer without contact.
        gap = rng.exponential(CONTACT_GAP_DAYS[seg] * np.exp(-0.2 * sim.health.astype(np.float64)))
        reference = np.where(alive, tl.window_end, sim.last_end_day)
        first = pop.first_sub_day[sim.paying]
        contact = np.maximum(reference - np.rint(gap).astype(np.int64), first)
        return C.contract_table(
            "accounts",
            {
                "account_id": self.customer_id(sim.paying),
                "account_name": self.company_name(sim.paying),
                "industry": C.labels(P.INDUSTRIES, pop.industry[sim.paying]),
                "arr": C.floats(arr, 2),
                "owner": C.labels(self.names.account_managers, pop.account_manager[sim.paying]),
                "renewal_date": C.dates(np.where(alive, renewal, 0), mask=~alive),
                "last_contact_date": C.dates(contact),
            },
        )

    def usage(self) -> pa.Table:
        u = self.sim.usage
        return C.contract_table(
            "usage",
            {
                "account_id": self.paying_id(u["cust"]),
                "month": self.months(u["month"]),
                "active_users": C.ints(u["active_users"]),
                "licensed_seats": C.ints(u["seats"]),
                "logins": C.ints(u["logins"]),
                "key_feature_adoption": C.floats(u["adoption"], 3),
            },
        )

    def nps_responses(self) -> pa.Table:
        r = self.sim.nps
        n = len(r["cust"])
        order = np.lexsort((r["cust"], r["day"])) if n else np.empty(0, dtype=np.int64)
        comment = r["comment"][order].astype(np.int64)
        return C.contract_table(
            "nps_responses",
            {
                "response_id": C.string_ids("NPS-", np.arange(1, n + 1), C.id_width(n)),
                "account_id": self.paying_id(r["cust"][order]),
                "response_date": C.dates(r["day"][order]),
                "score": C.ints(r["score"][order]),
                "comment": C.labels(NPS_COMMENTS, np.maximum(comment, 0), mask=comment < 0),
            },
        )

    def support_tickets(self) -> pa.Table:
        t = self.sim.tickets
        n = len(t["cust"])
        order = np.argsort(t["opened"], kind="stable") if n else np.empty(0, dtype=np.int64)
        closed = t["closed"][order].astype(np.int64)
        still_open = closed < 0
        return C.contract_table(
            "support_tickets",
            {
                "ticket_id": C.string_ids("TKT-", np.arange(1, n + 1), C.id_width(n)),
                "account_id": self.paying_id(t["cust"][order]),
                "opened_at": C.timestamps(t["opened"][order]),
                "closed_at": C.timestamps(np.where(still_open, 0, closed), mask=still_open),
                "severity": C.labels(
                    ("low", "medium", "high", "urgent"), t["severity"][order].astype(np.int64)
                ),
                "category": C.labels(P.TICKET_CATEGORIES, t["category"][order].astype(np.int64)),
            },
        )

    # ------------------------------------------------------------------ sales and marketing
    def deals(self, deals: Deals, details: DealDetails) -> pa.Table:
        n = len(deals)
        ids = C.string_ids("DEAL-", np.arange(1, n + 1), C.id_width(n))
        prospect = deals.account < 0
        staff = (*self.names.sales_reps, *self.names.account_managers)
        competitor = COMBO_COMPETITOR[deals.combo]
        flags = COMBO_FLAGS[deals.combo]
        no_expected = deals.expected_close < 0
        not_closed = deals.closed < 0
        table = C.contract_table(
            "deals",
            {
                "deal_id": ids,
                "account_id": self.customer_id(np.maximum(deals.account, 0), mask=prospect),
                "account_name": self.names.companies.take(deals.name_code),
                "owner": C.labels(staff, deals.owner),
                "stage": C.labels(DEAL_STAGES, deals.stage),
                "amount": C.floats(deals.amount, 2),
                "created_date": C.dates(deals.created),
                "expected_close_date": C.dates(
                    np.where(no_expected, deals.closed, deals.expected_close),
                    mask=no_expected & not_closed,
                ),
                "closed_date": C.dates(np.where(not_closed, 0, deals.closed), mask=not_closed),
                "forecast_category": C.labels(FORECAST_CATEGORIES, details.category),
                "deal_type": C.labels(P.DEAL_TYPE_LABELS, deals.deal_type),
                "segment": C.labels(P.SEGMENT_LABELS, deals.segment),
                "competitor": C.labels(("", *P.COMPETITORS), competitor, mask=competitor == 0),
                "lead_source": C.labels(LEAD_SOURCES, deals.lead_source),
                "has_champion": C.bools(flags[:, 0]),
                "budget_confirmed": C.bools(flags[:, 1]),
                "decision_maker_engaged": C.bools(flags[:, 2]),
                "loss_reason": C.labels(
                    P.LOSS_REASONS,
                    np.maximum(details.loss_reason, 0),
                    mask=details.loss_reason < 0,
                ),
                "discount_pct": C.floats(details.discount, 6),
                "seats": C.ints(details.seats),
                "product": C.labels(P.PLAN_LABELS, details.product),
            },
        )
        return table

    def deal_stage_history(self, history: DealChanges, deals: int) -> pa.Table:
        deal_width = C.id_width(deals)
        return C.contract_table(
            "deal_stage_history",
            {
                "deal_id": C.string_ids("DEAL-", history.deal + 1, deal_width),
                "stage": C.labels(DEAL_STAGES, history.stage),
                "entered_at": C.dates(history.entered),
                "amount": C.floats(history.amount, 2),
                "expected_close_date": C.dates(history.expected),
                "forecast_category": C.labels(FORECAST_CATEGORIES, history.category),
            },
        )

    def deal_activities(self, activities: Activities, deals: int, contacts: tuple[str, ...]):
        n = len(activities.deal)
        no_direction = activities.direction < 0
        no_contact = activities.contact < 0
        return C.contract_table(
            "deal_activities",
            {
                "activity_id": C.string_ids("ACT-", np.arange(1, n + 1), C.id_width(n)),
                "deal_id": C.string_ids("DEAL-", activities.deal + 1, C.id_width(deals)),
                "activity_at": C.timestamps(activities.second),
                "kind": C.labels(DEAL_ACTIVITY_KINDS, activities.kind),
                "direction": C.labels(
                    ACTIVITY_DIRECTIONS, np.maximum(activities.direction, 0), mask=no_direction
                ),
                "contact": C.labels(contacts, np.maximum(activities.contact, 0), mask=no_contact),
            },
        )

    def deal_signals(self, deals: Deals, details: DealDetails) -> pa.Table:
        """Truth: each deal's planted win probability and late warning signs."""
        n = len(deals)
        return pa.table(
            {
                "deal_id": C.string_ids("DEAL-", np.arange(1, n + 1), C.id_width(n)),
                "win_probability": C.floats(details.win_probability, 6),
                "true_win_probability": C.floats(details.true_win_probability, 6),
                "headed_to_loss": C.bools(details.to_loss),
                "slips": C.bools(details.slips),
                "amount_cut": C.bools(details.cut),
                "late_signals_from": C.dates(details.late_start),
                "activity_rate": C.floats(P.ACTIVITY_RATE[deals.segment], 4),
                "late_activity_factor": C.floats(P.ACTIVITY_THINNING[details.group], 4),
            }
        )

    def journey_id(self, t: Touchpoints, journey: np.ndarray) -> pa.Array:
        return C.string_ids("VIS-", journey, C.id_width(t.journeys))

    def touchpoints(self, t: Touchpoints) -> pa.Table:
        n = len(t.cust)
        sources, _ = source_names()
        first_year = int(self.tl.year[0]) - 1
        years = int(self.tl.year[self.tl.months - 1]) - first_year + 1
        no_campaign = t.campaign < 0
        return C.contract_table(
            "touchpoints",
            {
                "touchpoint_id": C.string_ids("TCH-", np.arange(1, n + 1), C.id_width(n)),
                "journey_id": self.journey_id(t, t.journey),
                "customer_id": self.customer_id(np.maximum(t.cust, 0), mask=t.cust < 0),
                "touched_at": C.timestamps(t.second),
                "channel": C.labels(P.TOUCH_CHANNELS, t.channel),
                "source": C.labels(sources, t.source),
                "medium": C.labels(P.TOUCH_MEDIUMS, t.channel),
                "campaign": C.labels(
                    campaign_names(first_year, years),
                    np.maximum(t.campaign, 0),
                    mask=no_campaign,
                ),
                "touchpoint_type": C.labels(P.TOUCH_TYPES, t.channel),
            },
        )

    def conversions(self, c: Conversions, t: Touchpoints) -> pa.Table:
        n = len(c.cust)
        return C.contract_table(
            "conversions",
            {
                "conversion_id": C.string_ids("CNV-", np.arange(1, n + 1), C.id_width(n)),
                "journey_id": self.journey_id(t, c.journey),
                "customer_id": self.customer_id(c.cust),
                "converted_at": C.timestamps(c.second),
                "conversion_type": C.labels(CONVERSION_TYPES, c.kind),
                "value": C.floats(c.value, 2),
                "currency": pa.nulls(n, pa.string()),
                "original_value": pa.nulls(n, pa.float64()),
            },
        )

    def channel_spend(self, cs: ChannelSpend) -> pa.Table:
        months = cs.spend.shape[0]
        paid = np.flatnonzero(P.SPEND_SHARE > 0)
        return C.contract_table(
            "channel_spend",
            {
                "month": self.months(np.repeat(np.arange(months), len(paid))),
                "channel": C.labels(P.TOUCH_CHANNELS, np.tile(paid, months)),
                "spend": C.floats(cs.spend[:, paid].reshape(-1), 2),
            },
        )

    def channel_demand(self, cs: ChannelSpend) -> pa.Table:
        """Truth: each month's market demand in the spend response (null: no spend)."""
        months = len(cs.demand)
        return pa.table(
            {
                "month": self.months(np.arange(months)),
                "demand": C.floats(cs.demand, mask=~np.isfinite(cs.demand)),
            }
        )

    @staticmethod
    def empty(name: str) -> pa.Table:
        return CONTRACTS[name].arrow_schema().empty_table()

    @staticmethod
    def predictions() -> pa.Table:
        schema = CONTRACTS["predictions"].arrow_schema()
        return schema.empty_table()

    # ------------------------------------------------------------------ past campaigns
    def _campaigns(self) -> list[PastCampaign]:
        past = self.sim.campaigns
        return [c for c in past.campaigns if c.ran] if past is not None else []

    def campaign_id(self, c: PastCampaign) -> str:
        return f"CMP-{self.tl.labels[c.start]}-{c.key}"

    def campaigns(self) -> pa.Table:
        runs = self._campaigns()
        tl = self.tl
        return C.contract_table(
            "campaigns",
            {
                "campaign_id": pa.array([self.campaign_id(c) for c in runs], pa.string()),
                "name": pa.array([c.name for c in runs], pa.string()),
                "template": pa.array([c.template for c in runs], pa.string()),
                "start_date": C.dates(np.array([tl.month_start[c.start] for c in runs])),
                "end_date": C.dates(np.array([tl.month_end(c.end) for c in runs])),
                "outcome_months": C.ints(np.array([c.months for c in runs])),
                "cost_per_customer": C.floats(np.array([c.cost for c in runs])),
                "holdout_share": C.floats(np.full(len(runs), P.CAMPAIGN_HOLDOUT_SHARE)),
                "description": pa.array(
                    [
                        f"{CAMPAIGN_RULES[c.rule]}, enrolled monthly from "
                        f"{tl.labels[c.start]} to {tl.labels[c.last_enrol]}; "
                        f"{len(c.members):,} customers, {P.CAMPAIGN_HOLDOUT_SHARE:.0%} of each "
                        "risk tier held out at random"
                        for c in runs
                    ],
                    pa.string(),
                ),
            },
        )

    def campaign_members(self) -> pa.Table:
        runs = self._campaigns()
        ids = [np.full(len(c.members), self.campaign_id(c), dtype=object) for c in runs]
        members = [c.members for c in runs]
        empty = not runs

        def cat(parts: list[np.ndarray], dtype: type) -> np.ndarray:
            return np.empty(0, dtype) if empty else np.concatenate(parts).astype(dtype)

        return C.contract_table(
            "campaign_members",
            {
                "campaign_id": pa.array(cat(ids, object), pa.string()),
                "customer_id": self.paying_id(cat(members, np.int64)),
                "group": C.labels(
                    ("holdout", "treated"), cat([c.treated for c in runs], bool).astype(np.int8)
                ),
                "enrolled_on": C.dates(self.tl.month_start[cat([c.enrol for c in runs], np.int64)]),
                "risk_tier": C.labels(P.CAMPAIGN_TIERS, cat([c.tier for c in runs], np.int8)),
                "risk_at_start": C.floats(cat([c.risk for c in runs], np.float64), 4),
            },
        )

    def campaign_effects(self) -> pa.Table:
        """Truth: each past campaign's planted hazard reduction and expected churn both ways."""
        past = self.sim.campaigns
        rows = past.truth_rows() if past is not None else []
        runs = {c.number: c for c in self._campaigns()}

        def col(name: str) -> list:
            return [r[name] for r in rows]

        def num(name: str) -> pa.Array:
            return C.floats(np.array(col(name), dtype=np.float64), 6)

        return pa.table(
            {
                "campaign_id": pa.array(
                    [self.campaign_id(runs[int(r["number"])]) for r in rows], pa.string()
                ),
                "name": pa.array(col("name"), pa.string()),
                "template": pa.array(col("template"), pa.string()),
                "start_month": self.months(np.array(col("start"), dtype=np.int64)),
                "end_month": self.months(np.array(col("end"), dtype=np.int64)),
                "hazard_reduction": C.floats(np.array(col("effect"), dtype=np.float64)),
                "members": C.ints(np.array(col("members"), dtype=np.int64)),
                "treated": C.ints(np.array(col("treated"), dtype=np.int64)),
                "holdout": C.ints(np.array(col("holdout"), dtype=np.int64)),
                "true_churn_untreated": num("churn_untreated"),
                "true_churn_treated": num("churn_treated"),
                "true_uplift": num("uplift"),
                "true_churn_untreated_treated_members": num("churn_untreated_treated_members"),
                "true_churn_treated_treated_members": num("churn_treated_treated_members"),
                "true_uplift_treated_members": num("uplift_treated_members"),
            }
        )

    # ------------------------------------------------------------------ truth
    def churn_probability(self) -> pa.Table:
        t = self.sim.churn_truth
        return pa.table(
            {
                "customer_id": self.paying_id(t["cust"]),
                "month": self.months(t["month"]),
                "true_churn_probability": C.floats(t["probability"], 6),
                "churned": C.bools(t["churned"]),
            }
        )


def anomalies_table(records: list[AnomalyRecord]) -> pa.Table:
    return pa.table(
        {
            "month": pa.array([r.month for r in records], type=pa.string()),
            "series": pa.array([r.series for r in records], type=pa.string()),
            "kind": pa.array([r.kind for r in records], type=pa.string()),
            "size": pa.array([round(r.size, 4) for r in records], type=pa.float64()),
            "description": pa.array([r.description for r in records], type=pa.string()),
        }
    )


def channel_effects_table() -> pa.Table:
    """True trial-to-paid probability per channel and segment (segment null: the channel's mix)."""
    from revintel.data.generator.population import sigmoid

    rows: dict[str, list] = {
        k: []
        for k in (
            "channel",
            "segment",
            "true_conversion_probability",
            "lift_vs_organic",
            "log_odds_effect",
        )
    }
    mix = P.SEGMENT_MIX[:, None] * P.CHANNEL_MIX * P.TRIAL_SHARE[:, None]  # trialists
    for c, channel in enumerate(P.CHANNEL_LABELS):
        probs = sigmoid(P.TRIAL_BASE_LOGIT + P.CHANNEL_LOGIT[c])
        organic = sigmoid(P.TRIAL_BASE_LOGIT + P.CHANNEL_LOGIT[P.ORGANIC])
        for s, segment in enumerate(P.SEGMENT_LABELS):
            rows["channel"].append(channel)
            rows["segment"].append(segment)
            rows["true_conversion_probability"].append(round(float(probs[s]), 6))
            rows["lift_vs_organic"].append(round(float(probs[s] / organic[s]), 6))
            rows["log_odds_effect"].append(float(P.CHANNEL_LOGIT[c]))
        weights = mix[:, c] / mix[:, c].sum()
        overall = float(weights @ probs)
        rows["channel"].append(channel)
        rows["segment"].append(None)
        rows["true_conversion_probability"].append(round(overall, 6))
        rows["lift_vs_organic"].append(round(overall / float(weights @ organic), 6))
        rows["log_odds_effect"].append(float(P.CHANNEL_LOGIT[c]))
    return pa.table(
        {
            "channel": pa.array(rows["channel"], type=pa.string()),
            "segment": pa.array(rows["segment"], type=pa.string()),
            "true_conversion_probability": pa.array(rows["true_conversion_probability"]),
            "lift_vs_organic": pa.array(rows["lift_vs_organic"]),
            "log_odds_effect": pa.array(rows["log_odds_effect"]),
        }
    )


def attribution_truth_table(truth: AttributionTruth) -> pa.Table:
    """Per touch channel: the planted per-touch sign-up probability and the true removal effect,
    share and Shapley share of the sign-up journeys, exactly and by Monte-Carlo."""
    re, re_mc = truth.removal_effect, truth.removal_effect_mc
    return pa.table(
        {
            "channel": pa.array(P.TOUCH_CHANNELS, type=pa.string()),
            "signup_probability_per_touch": C.floats(P.JOURNEY_CONVERT, 6),
            "start_share": C.floats(truth.start, 6),
            "removal_effect": C.floats(re, 6),
            "true_share": C.floats(re / re.sum(), 6),
            "shapley_share": C.floats(truth.shapley / truth.shapley.sum(), 6),
            "last_touch_share": C.floats(truth.last_touch, 6),
            "removal_effect_mc": C.floats(re_mc, 6),
            "true_share_mc": C.floats(re_mc / re_mc.sum(), 6),
            "shapley_share_mc": C.floats(truth.shapley_mc / truth.shapley_mc.sum(), 6),
            "journey_signup_probability": C.floats(
                np.full(len(P.TOUCH_CHANNELS), truth.signup_probability), 6
            ),
            "mc_journeys": C.ints(np.full(len(P.TOUCH_CHANNELS), truth.mc_journeys)),
        }
    )


def channel_response_table(cs: ChannelSpend) -> pa.Table:
    """Truth: each spend channel's response curve, touches = demand[month] x a x spend^b."""
    paid = np.flatnonzero(P.SPEND_SHARE > 0)
    return pa.table(
        {
            "channel": C.labels(P.TOUCH_CHANNELS, paid),
            "curve": pa.array(["power"] * len(paid), type=pa.string()),
            "a": C.floats(cs.a[paid]),
            "b": C.floats(cs.b[paid]),
            "response": pa.array(["touches"] * len(paid), type=pa.string()),
        }
    )


def deal_win_drivers_table() -> pa.Table:
    features, coefs, notes = [], [], []
    for name, coef in P.WIN_FLAGS.items():
        features.append(name)
        coefs.append(coef)
        notes.append(f"{name} is true")
    for i, competitor in enumerate(P.COMPETITORS, start=1):
        features.append(f"competitor={competitor}")
        coefs.append(float(P.WIN_COMPETITOR[i]))
        notes.append(f"{competitor} competes (vs no competitor)")
    for t, label in enumerate(P.DEAL_TYPE_LABELS):
        features.append(f"intercept[deal_type={label}]")
        coefs.append(float(P.WIN_INTERCEPT[t]))
        notes.append(
            f"base log-odds for {label} (SMB baseline: mean win rate "
            f"{mean_win_rate(t, 0):.1%}); not identifiable from outcomes decided elsewhere"
        )
    for s, label in enumerate(P.SEGMENT_LABELS):
        features.append(f"segment={label}")
        coefs.append(float(P.WIN_SEGMENT[s]))
        notes.append("segment shift of the log-odds (absorbed by the base rate of each segment)")
    return pa.table(
        {
            "feature": pa.array(features, type=pa.string()),
            "coefficient": pa.array(coefs, type=pa.float64()),
            "odds_ratio": pa.array([round(float(np.exp(c)), 6) for c in coefs]),
            "description": pa.array(notes, type=pa.string()),
        }
    )


def churn_drivers_table() -> pa.Table:
    features = ["intercept"]
    coefs = [P.CHURN_INTERCEPT]
    notes = ["base log-odds of the monthly hazard (Mid-Market, Pro plan, average features)"]
    for s, label in enumerate(P.SEGMENT_LABELS):
        features.append(f"segment={label}")
        coefs.append(float(P.CHURN_SEGMENT[s]))
        notes.append("segment shift")
    for p, label in enumerate(P.PLAN_LABELS):
        features.append(f"plan={label}")
        coefs.append(float(P.CHURN_PLAN[p]))
        notes.append("plan of the main subscription")
    for name, (coef, note) in P.CHURN_COEFFICIENTS.items():
        features.append(name)
        coefs.append(coef)
        notes.append(note)
    return pa.table(
        {
            "feature": pa.array(features, type=pa.string()),
            "coefficient": pa.array(coefs, type=pa.float64()),
            "description": pa.array(notes, type=pa.string()),
        }
    )
