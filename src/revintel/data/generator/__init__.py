"""The demo company: a seeded, reproducible month-by-month simulation of a B2B SaaS business.

``generate_company(customers, months, start, seed)`` simulates ``customers`` companies acquired
over ``months`` calendar months from ``start`` and returns every canonical table (exactly its
contract's Arrow schema, see ``revintel.data.schema``) plus ground-truth tables the analytics must
recover. ``write_company`` writes them as Parquet or CSV; the same arguments always give
byte-identical files.

The company
-----------
Sign-ups grow ~3% a month with seasonality (summer dip, Q4 and a December budget flush that also
brings more Enterprise buyers); segments ~65/25/10 SMB/Mid-Market/Enterprise; most customers start
with a 14-day trial. Paying customers buy Basic ($49-99), Pro ($199-499) or Enterprise
($1.5k-8k a month) plans priced by seats, billed monthly, quarterly or annually (~30%, 15% cheaper
per month); 40% of the Enterprise segment are strategic accounts on a company-wide Enterprise
licence ($25k-35k a month, so above $250k ARR: the executive sponsor call of the health
playbooks); some get time-limited discounts, add-ons, upgrades and downgrades; some churned
customers come back. Logo churn is 1-3% a month (Enterprise lower, SMB higher). The company starts
with no customers at ``start``. See ``simulation``, ``population``, ``sales`` and ``marketing`` for
each mechanism, and ``params`` for every planted number.

Planted effects (what the truth tables describe)
------------------------------------------------
* Churn hazard: every customer-month has a TRUE churn probability, a logistic function of the
  customer's own observable data of the previous months (seat utilisation, login trend,
  key-feature adoption, latest NPS, support tickets and escalations, late and failed payments, a
  recent downgrade), plan, segment, tenure and price increases (``params.CHURN_COEFFICIENTS``);
  churn is drawn from it. Engagement comes from a latent health that falls during disengagement
  episodes, so churners' usage declines in the months before they leave.
* Trouble episodes: some customers go through a few months of payment trouble (cards failing,
  invoices paid late), support trouble (many high/urgent tickets, low NPS) or a downgrade at
  their next term end (``params.TROUBLE_*``); the hazard sees them only through that data, so
  churners of every driver (payment, support, engagement, revenue) are there to find.
* Channel effect: the acquisition channel shifts the log-odds of trial-to-paid conversion by the
  same amount in every segment (``params.CHANNEL_LOGIT``: Referral > Partner > Organic > Paid Ads).
* Deal win drivers: qualification flags and the competitor shift the log-odds of winning a deal
  (``params.WIN_FLAGS``, ``params.WIN_COMPETITOR``).
* Late warning signs on deals: from 60% of a deal's life, deals headed to a loss (and deals that
  slip) log fewer activities, fewer of them inbound, and get their expected close pushed, their
  amount cut and their forecast category lowered more often (see ``deal_signals``); product,
  seats and discount satisfy ``amount = seats x list price x 12 x (1 - discount)``; a competitor
  brings deeper discounts and, on a lost deal, most often the "Lost to competitor" reason.
* Revenue anomalies: 2-3 months after the first year with a real event (price increase, mass
  churn, enterprise cohort, billing outage; see ``anomalies``).
* Marketing journeys: every visitor or lead journey (about four in five never sign up) is a walk
  of a first-order Markov chain over the touch channels with a planted per-touch sign-up
  probability per channel (``params.JOURNEY_*``); the converting ones are the customers'. Each
  month's spend by touch channel follows a power response of the channel's touches
  (``params.SPEND_RESPONSE_B``). See ``marketing``.
* Past retention campaigns: four always-on plays (executive outreach with no effect, payment
  assistance, support escalation, product training) enrol matching customers at risk for 12
  months, hold 30% of each risk tier out at random and multiply the churn hazard of the treated by
  (1 - effect) for 6 months (``campaigns``, ``params.PAST_CAMPAIGNS``); tables ``campaigns`` and
  ``campaign_members``.

Truth tables (``GeneratedCompany.truth``, written to ``out/truth/``)
-------------------------------------------------------------------
``churn_probability``: one row per customer-month at risk, i.e. per customer with MRR > 0 at the
    end of the previous month (the logo-churn denominator). ``customer_id``; ``month`` (YYYY-MM);
    ``true_churn_probability``: the probability that the customer has MRR = 0 at the end of the
    month (0 outside the term-end month of quarterly and annual contracts; in a mass-churn month it
    includes the event); ``churned``: whether it happened.
``churn_drivers``: ``feature``, ``coefficient`` (log-odds), ``description``: the hazard's terms.
``anomalies``: ``month``; ``series`` (``mrr`` or ``revenue``); ``kind`` (``price_increase``,
    ``mass_churn``, ``enterprise_cohort``, ``billing_outage``); ``size``: the realised relative
    effect (MRR added or removed over MRR at the end of the previous month, or the cash revenue
    pushed out of the month over what it would have collected); ``description``.
``channel_effects``: ``channel``; ``segment`` (null: all segments, weighted by the channel's
    trialists); ``true_conversion_probability`` (trial to paid); ``lift_vs_organic`` (ratio of
    probabilities); ``log_odds_effect`` (the channel's planted log-odds shift, Organic = 0).
``deal_win_drivers``: ``feature``, ``coefficient`` (log-odds of winning), ``odds_ratio``,
    ``description``. Flag and competitor coefficients are recovered by a logistic regression that
    controls for deal type and segment.
``deal_signals``: one row per deal: ``deal_id``; ``win_probability`` (the planted logistic);
    ``true_win_probability`` (the same shifted to the realised win rate of the deal's type and
    segment: the oracle of a close-probability model); ``headed_to_loss``; ``slips``;
    ``amount_cut``; ``late_signals_from`` (first day of the late part); ``activity_rate``
    (activities a day before it) and ``late_activity_factor`` (its multiplier from then on).

``attribution_truth``: one row per touch channel, about the ``signup`` conversion (attribution's
    default conversion type is ``paid``: pass ``signup`` to measure against this table).
    ``signup_probability_per_touch`` (the planted q: P(sign-up right after a touch of it));
    ``start_share`` (share of journeys whose first touch it is); ``removal_effect`` (share of
    sign-ups lost when a touch of the channel ends the journey without one); ``true_share``
    (removal effects normalised to 1: the order-1 Markov model's shares in the limit);
    ``shapley_share`` (the Shapley value of v(S) = P(sign-up touching only channels in S), as a
    share); ``last_touch_share`` (expected share of sign-ups whose last touch it is); the same
    three with ``_mc`` from ``mc_journeys`` simulated journeys; ``journey_signup_probability``
    (P(a journey signs up), the same on every row). Exact values are solved on the absorbing
    chain (``marketing.attribution_truth``).
``channel_response``: ``channel``, ``curve`` ("power"), ``a``, ``b``, ``response`` ("touches"):
    touches of the channel in a month = demand(month) x a x spend^b, spend from ``channel_spend``.
``channel_demand``: ``month``, ``demand`` (the month's factor in that response; null without
    spend).

``campaign_effects``: one row per past campaign: ``campaign_id``, ``name``, ``template``,
    ``start_month``, ``end_month``, ``hazard_reduction`` (the planted effect), ``members``,
    ``treated``, ``holdout``; ``true_churn_untreated`` / ``true_churn_treated``: the members'
    expected churn in their windows without / with the treatment, from the simulation's own
    hazards; ``true_uplift`` (their difference, over all members) and the same three over the
    treated members (``_treated_members``). See ``campaigns``.

``predictions`` is an empty table with its contract schema: the churn model fills it later.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from revintel.core.errors import ConfigError
from revintel.data.generator.anomalies import plan_anomalies
from revintel.data.generator.campaigns import PastCampaigns
from revintel.data.generator.deal_signals import (
    build_activities,
    build_changes,
    build_details,
    contact_pool,
)
from revintel.data.generator.marketing import (
    attribution_truth,
    build_conversions,
    build_touchpoints,
    channel_spend,
    marketing_spend,
    monthly_costs,
)
from revintel.data.generator.population import acquisition_weights, build_population, name_pool
from revintel.data.generator.sales import DealBuilder
from revintel.data.generator.simulation import CompanySimulation
from revintel.data.generator.tables import (
    TableBuilder,
    anomalies_table,
    attribution_truth_table,
    channel_effects_table,
    channel_response_table,
    churn_drivers_table,
    deal_win_drivers_table,
)
from revintel.data.generator.timeline import Timeline
from revintel.data.schema import TABLE_ORDER

__all__ = ["GeneratedCompany", "generate_company", "write_company"]

MAX_CUSTOMERS = 20_000_000
CSV_DATETIME = "%Y-%m-%d %H:%M:%S"


@dataclass
class GeneratedCompany:
    """Canonical tables (name -> table with exactly its contract's Arrow schema) and truth."""

    tables: dict[str, pa.Table]
    truth: dict[str, pa.Table]
    customers: int = 0
    months: int = 0
    start: str = ""
    seed: int = 0

    def row_counts(self) -> dict[str, int]:
        return {name: table.num_rows for name, table in self.tables.items()}


def generate_company(
    customers: int = 2000, months: int = 36, start: str = "2023-01", seed: int = 42
) -> GeneratedCompany:
    """Simulate the demo company: ``customers`` acquired over ``months`` months from ``start``."""
    if not 1 <= customers <= MAX_CUSTOMERS:
        raise ConfigError(f"customers must be between 1 and {MAX_CUSTOMERS:,}, got {customers}")
    timeline = Timeline(start, months)
    # Spawned children depend only on their index: adding a stream leaves the others unchanged.
    # 8: marketing journeys; 9: the Monte-Carlo of the attribution truth; 10: past campaigns.
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(11)]
    names = name_pool(seed)
    anomalies = plan_anomalies(streams[0], timeline, customers, acquisition_weights(timeline))
    population = build_population(customers, timeline, anomalies, names, streams[1])
    past = PastCampaigns(months, streams[10])
    sim = CompanySimulation(population, timeline, anomalies, streams[2], past).run()
    deals, stage_entries = DealBuilder(population, sim, timeline, names, streams[3]).build()
    details = build_details(deals, population.plan, timeline, streams[7])
    history = build_changes(deals, stage_entries, details, timeline, streams[7])
    activities = build_activities(deals, details, timeline, streams[7])
    touchpoints = build_touchpoints(population, timeline, streams[8])
    conversions = build_conversions(population, sim, touchpoints.customer_journey, streams[4])
    spend = marketing_spend(population, timeline, streams[5])
    costs = monthly_costs(population, sim, spend, streams[5])
    by_touch_channel = channel_spend(touchpoints, timeline, spend)
    per_segment = np.bincount(population.segment.astype(np.int64), minlength=3)
    planted = attribution_truth(per_segment, streams[9])

    build = TableBuilder(population, sim, timeline, names, streams[6])
    tables = {
        "customers": build.customers(),
        "subscriptions": build.subscriptions(),
        "payments": build.payments(),
        "costs": build.costs(costs),
        "marketing_spend": build.marketing_spend(spend),
        "trials": build.trials(),
        "accounts": build.accounts(),
        "usage": build.usage(),
        "nps_responses": build.nps_responses(),
        "support_tickets": build.support_tickets(),
        "deals": build.deals(deals, details),
        "deal_stage_history": build.deal_stage_history(history, len(deals)),
        "deal_activities": build.deal_activities(activities, len(deals), contact_pool(seed)),
        "touchpoints": build.touchpoints(touchpoints),
        "conversions": build.conversions(conversions, touchpoints),
        "channel_spend": build.channel_spend(by_touch_channel),
        "fx_rates": build.empty("fx_rates"),
        "predictions": build.predictions(),
        "campaigns": build.campaigns(),
        "campaign_members": build.campaign_members(),
    }
    tables = {name: tables[name] for name in TABLE_ORDER}
    truth = {
        "churn_probability": build.churn_probability(),
        "churn_drivers": churn_drivers_table(),
        "anomalies": anomalies_table(sim.anomalies),
        "channel_effects": channel_effects_table(),
        "deal_win_drivers": deal_win_drivers_table(),
        "deal_signals": build.deal_signals(deals, details),
        "attribution_truth": attribution_truth_table(planted),
        "channel_response": channel_response_table(by_touch_channel),
        "channel_demand": build.channel_demand(by_touch_channel),
        "campaign_effects": build.campaign_effects(),
    }
    return GeneratedCompany(
        tables=tables,
        truth=truth,
        customers=customers,
        months=months,
        start=start,
        seed=seed,
    )


def write_company(
    company: GeneratedCompany, out: Path, fmt: Literal["parquet", "csv"] = "parquet"
) -> list[Path]:
    """Write ``out/<table>.<fmt>`` and ``out/truth/<name>.<fmt>``; returns the paths written.

    A canonical table without rows (``predictions``, which the churn model fills) is not written:
    the loader rejects a file with no data rows, and ``revintel load OUT`` must load the folder.

    CSV: header row, UTF-8, ISO dates, date-times ``YYYY-MM-DD HH:MM:SS``, booleans true/false,
    blanks for nulls. Parquet: written by pyarrow, byte-identical for the same company.
    """
    if fmt not in ("parquet", "csv"):
        raise ConfigError(f"format must be parquet or csv, got {fmt!r}")
    out = Path(out)
    (out / "truth").mkdir(parents=True, exist_ok=True)
    jobs = [
        (table, out / f"{name}.{fmt}") for name, table in company.tables.items() if table.num_rows
    ]
    jobs += [(table, out / "truth" / f"{name}.{fmt}") for name, table in company.truth.items()]
    writer = _write_parquet if fmt == "parquet" else _write_csv
    # Largest first, so the two writers finish together.
    ordered = sorted(jobs, key=lambda job: -job[0].nbytes)
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(lambda job: writer(*job), ordered))
    return [path for _, path in jobs]


def _write_parquet(table: pa.Table, path: Path) -> None:
    # Row groups of DuckDB's default size, so the loaded copy is scanned on every core.
    pq.write_table(table, path, compression="snappy", row_group_size=122_880)


def _write_csv(table: pa.Table, path: Path) -> None:
    pl.from_arrow(table).write_csv(  # type: ignore[union-attr]
        path,
        include_header=True,
        date_format="%Y-%m-%d",
        datetime_format=CSV_DATETIME,
        null_value="",
    )
