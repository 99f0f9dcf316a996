"""The demo company's planted parameters: mixes, prices and the coefficients of every effect.

Everything the analytics should recover (churn drivers, channel effects on trial conversion, deal
win drivers) is a constant here, so the ground-truth tables are written from the same numbers the
simulation draws from. Index order of every per-category tuple follows the label tuples below.
"""

from __future__ import annotations

import numpy as np

from revintel.data.schema import ACQUISITION_CHANNELS, PLANS, SEGMENTS

# ---------------------------------------------------------------------------------------------
# Labels (the order is the integer code used throughout the simulation)
# ---------------------------------------------------------------------------------------------
SEGMENT_LABELS: tuple[str, ...] = SEGMENTS  # SMB, Mid-Market, Enterprise
PLAN_LABELS: tuple[str, ...] = PLANS  # Basic, Pro, Enterprise
CHANNEL_LABELS: tuple[str, ...] = ACQUISITION_CHANNELS  # Paid Ads, Referral, Organic, Partner
SMB, MID_MARKET, ENTERPRISE = 0, 1, 2
BASIC, PRO, ENTERPRISE_PLAN = 0, 1, 2
PAID_ADS, REFERRAL, ORGANIC, PARTNER = 0, 1, 2, 3

BILLING_LABELS: tuple[str, ...] = ("monthly", "quarterly", "annual")
BILLING_MONTHS = np.array([1, 3, 12], dtype=np.int64)
# Prepaying a longer term buys a lower monthly price.
BILLING_PRICE_FACTOR = np.array([1.0, 0.95, 0.85])

COUNTRIES: tuple[str, ...] = (
    "US", "GB", "DE", "FR", "CA", "AU", "NL", "IN", "BR", "JP", "ES", "SE", "SG", "IE",
)  # fmt: skip
COUNTRY_WEIGHTS = np.array(
    [0.40, 0.11, 0.08, 0.06, 0.06, 0.05, 0.04, 0.04, 0.03, 0.03, 0.03, 0.025, 0.02, 0.025]
)
# Faker locale for each country's company names, and the legal form appended to them.
COUNTRY_LOCALES: tuple[str, ...] = (
    "en_US", "en_GB", "de_DE", "fr_FR", "en_CA", "en_AU", "nl_NL", "en_IN", "pt_BR", "ja_JP",
    "es_ES", "sv_SE", "en_GB", "en_IE",
)  # fmt: skip
COUNTRY_LEGAL_FORMS: tuple[str, ...] = (
    "Inc.", "Ltd", "GmbH", "SAS", "Inc.", "Pty Ltd", "B.V.", "Pvt Ltd", "Ltda", "K.K.",
    "S.L.", "AB", "Pte Ltd", "Ltd",
)  # fmt: skip
COMPANY_WORDS: tuple[str, ...] = (
    "Analytics", "Systems", "Labs", "Logistics", "Health", "Software", "Partners", "Group",
    "Technologies", "Foods", "Robotics", "Energy", "Media", "Capital", "Networks", "Retail",
    "Consulting", "Solutions", "Dynamics", "Digital", "Manufacturing", "Biotech", "Security",
    "Cloud", "Motors", "Data", "Ventures", "Industries", "Studios", "Supply", "Works", "Finance",
    "Insurance", "Learning", "Travel", "Marine", "Pharma", "Engineering", "Holdings", "Design",
)  # fmt: skip

INDUSTRIES: tuple[str, ...] = (
    "Software", "Financial Services", "Healthcare", "Retail & E-commerce", "Manufacturing",
    "Education", "Media & Entertainment", "Logistics", "Professional Services", "Real Estate",
    "Telecommunications", "Energy", "Hospitality", "Non-profit", "Government",
)  # fmt: skip
INDUSTRY_WEIGHTS = np.array(
    [0.20, 0.11, 0.10, 0.10, 0.09, 0.06, 0.05, 0.06, 0.09, 0.04, 0.03, 0.03, 0.02, 0.01, 0.02]
)

N_ACCOUNT_MANAGERS = 20
ACCOUNT_MANAGER_SPLIT = np.array([0, 8, 14, 20])  # SMB, Mid-Market, Enterprise books
N_SALES_REPS = 30  # ten per segment

# ---------------------------------------------------------------------------------------------
# Acquisition: growth and seasonality
# ---------------------------------------------------------------------------------------------
ACQUISITION_GROWTH = 0.032  # monthly growth of new sign-ups (~46% a year)
# Sign-up seasonality by calendar month (Jan..Dec): summer dip, Q4 and December budget flush.
ACQUISITION_SEASON = np.array(
    [0.96, 0.98, 1.05, 1.02, 1.00, 0.94, 0.86, 0.84, 1.04, 1.08, 1.10, 1.22]
)
SEGMENT_MIX = np.array([0.65, 0.25, 0.10])
SEGMENT_MIX_DECEMBER = np.array([0.59, 0.27, 0.14])  # budget flush brings larger buyers
# Acquisition channel mix by segment (rows) over CHANNEL_LABELS (columns).
CHANNEL_MIX = np.array(
    [
        [0.40, 0.15, 0.35, 0.10],
        [0.30, 0.25, 0.25, 0.20],
        [0.15, 0.35, 0.10, 0.40],
    ]
)

# ---------------------------------------------------------------------------------------------
# Trials: the planted channel effect
# ---------------------------------------------------------------------------------------------
TRIAL_DAYS = 14
TRIAL_SHARE = np.array([0.92, 0.85, 0.55])  # share of each segment that starts with a trial
# Trial-to-paid conversion: P = logistic(TRIAL_BASE_LOGIT[segment] + CHANNEL_LOGIT[channel]).
TRIAL_BASE_LOGIT = np.array([-0.95, -0.55, -0.15])
CHANNEL_LOGIT = np.array([-0.45, 0.80, 0.0, 0.45])  # Paid Ads, Referral, Organic, Partner
LATE_CONVERSION_SHARE = 0.2  # converters who pay 1-30 days after the trial ended
LATE_CONVERSION_MAX_DAYS = 30

# ---------------------------------------------------------------------------------------------
# Plans, seats, prices, billing, discounts
# ---------------------------------------------------------------------------------------------
PLAN_MIX = np.array(  # by segment over PLAN_LABELS
    [
        [0.66, 0.33, 0.01],
        [0.12, 0.73, 0.15],
        [0.00, 0.32, 0.68],
    ]
)
BILLING_MIX = np.array(  # by segment over BILLING_LABELS
    [
        [0.75, 0.04, 0.21],
        [0.58, 0.08, 0.34],
        [0.30, 0.05, 0.65],
    ]
)
SEATS_MEDIAN = np.array([4.0, 25.0, 160.0])
SEATS_SIGMA = np.array([0.6, 0.6, 0.7])
SEATS_RANGE = np.array([[1, 50], [5, 400], [30, 3000]])
# List price points per month (before the billing-term factor); seats pick the point.
PRICE_POINTS: tuple[np.ndarray, ...] = (
    np.array([49.0, 59.0, 69.0, 79.0, 89.0, 99.0]),
    np.array([199.0, 249.0, 299.0, 349.0, 399.0, 449.0, 499.0]),
    np.arange(1500.0, 8001.0, 250.0),
)
PLAN_SEAT_SPAN = np.array([[1.0, 20.0], [5.0, 150.0], [50.0, 1500.0]])  # seats at lowest/highest
# Strategic accounts: a share of the Enterprise segment buys a company-wide licence of the
# Enterprise plan from its own price list (per month, the seat count picks the point as above), so
# the demo has accounts above the $250k ARR from which a Critical account gets an executive
# sponsor call.
STRATEGIC_SHARE = 0.4
STRATEGIC_PRICE_POINTS = np.arange(25_000.0, 35_001.0, 500.0)

DISCOUNT_SHARE = np.array([0.10, 0.22, 0.35])  # share of new subscriptions with a discount
DISCOUNT_LEVELS = np.array([0.10, 0.15, 0.20, 0.25, 0.30])
DISCOUNT_LEVEL_WEIGHTS = np.array([0.30, 0.20, 0.25, 0.15, 0.10])
DISCOUNT_MONTHS = np.array([3, 6, 12])
DISCOUNT_MONTH_WEIGHTS = np.array([0.35, 0.40, 0.25])

ADDON_MONTHLY_LOGIT = -5.3  # + 0.6 health + 0.5 (plan >= Pro): second subscription (add-on)
ADDON_CANCEL_MONTHLY = 0.025
ADDON_SEATS = np.array([2, 10])

REACTIVATION_MONTHLY = 0.015  # x exp(-(months since churn - 2) / 12), from 2 months after churn
REACTIVATION_DECAY_MONTHS = 12.0
MAX_REACTIVATIONS = 2

# ---------------------------------------------------------------------------------------------
# Latent account health and the engagement it produces
# ---------------------------------------------------------------------------------------------
HEALTH_START_MEAN = np.array([0.25, 0.35, 0.45])
HEALTH_START_SD = 0.75
HEALTH_REVERSION = 0.10  # monthly pull toward the account's own baseline
HEALTH_NOISE = 0.25
EPISODE_START_MONTHLY = 0.03  # disengagement episode (champion leaves, project shelved)
EPISODE_MONTHS = np.array([3, 7])  # duration range, inclusive-exclusive
EPISODE_DRIFT = -0.38  # health change per month during an episode

UPGRADE_LOGIT = -4.6  # + 0.9 health + UPGRADE_SEGMENT[segment]
UPGRADE_SEGMENT = np.array([-0.3, 0.0, 0.2])
DOWNGRADE_LOGIT = -5.6  # - 0.9 health

LOGINS_PER_ACTIVE_USER = 12.0
# Engagement seasonality by calendar month (summer holidays, December).
USAGE_SEASON = np.array([0.98, 1.0, 1.02, 1.0, 1.0, 0.95, 0.86, 0.84, 1.0, 1.02, 1.0, 0.9])
NPS_RESPONSE_RATE = np.array([0.28, 0.33, 0.40])  # per survey wave (every third month)
TICKETS_PER_MONTH = np.array([0.12, 0.35, 0.90])  # x exp(-0.45 health)
TICKET_SEVERITY_LOGITS = np.array([0.0, -0.15, -0.9, -2.0])  # low, medium, high, urgent
TICKET_HOURS_MEDIAN = np.array([96.0, 40.0, 16.0, 5.0])  # resolution time by severity
TICKET_CATEGORIES: tuple[str, ...] = (
    "how-to", "bug", "billing", "integration", "feature request", "account access",
)  # fmt: skip
TICKET_STUCK_SHARE = 0.01  # tickets left open indefinitely

# Payments
CARD_FAILURE_BASE = 0.03  # first-attempt failure, x exp(-0.4 health), SMB x 1.2
RETRY_FAILURE = np.array([0.45, 0.5])  # failure of attempt 2 and 3
RETRY_GAP_DAYS = np.array([3, 6])  # retry after 3-5 days
NET_TERMS_DAYS = 30  # invoice (not card) customers: Enterprise, and Mid-Market on annual terms
LATE_INVOICE_BASE = 0.12  # x exp(-0.4 health): paid 31-60 days after invoicing

# ---------------------------------------------------------------------------------------------
# The planted churn hazard
# ---------------------------------------------------------------------------------------------
# True monthly churn hazard h = logistic(logit) for a customer with MRR > 0 at the end of the
# previous month; features are the customer's own observable data up to the previous month.
# Monthly-billed customers churn in any month with probability h; quarterly and annual ones only
# at term end, with probability 1 - (1 - h)^term_months.
CHURN_INTERCEPT = -5.0
CHURN_SEGMENT = np.array([0.35, 0.0, -0.60])  # SMB, Mid-Market, Enterprise
CHURN_PLAN = np.array([0.25, 0.0, -0.25])  # Basic, Pro, Enterprise
CHURN_COEFFICIENTS: dict[str, tuple[float, str]] = {
    "seat_utilisation": (
        -2.5,
        "per unit of (active_users / licensed_seats - 0.7) last month",
    ),
    "login_trend": (
        -1.2,
        "per unit of log(1 + logins per active day last month) - log(1 + mean of the 3 months "
        "before)",
    ),
    "key_feature_adoption": (-1.5, "per unit of (key_feature_adoption - 0.5) last month"),
    "nps": (-0.18, "per point of (latest NPS score - 7); 7 while the account never answered"),
    "support_tickets": (0.35, "per unit of log(1 + tickets opened in the last 3 months)"),
    "late_payments": (0.6, "per invoice of the last 3 months paid late or after a retry"),
    "failed_invoice": (2.5, "an invoice ended failed (all attempts) in the last 2 months"),
    "early_tenure": (0.4, "first 3 months of the current subscription"),
    "price_increase": (0.3, "monthly-billed, in the 2 months after a list-price increase"),
    "escalations": (
        0.9,
        "per high or urgent ticket beyond the first opened in the last 3 months (at most 3)",
    ),
    "downgrade": (3.0, "the main subscription moved to a lower price in the last 3 months"),
}

# Trouble episodes: the churners a retention team meets by driver. Each month a paying customer
# without one starts a payment, support or downgrade episode with these probabilities; it lasts
# TROUBLE_MONTHS. The hazard reads only what the episode leaves in the data (late and failed
# payments; tickets and low NPS; a smaller plan), through the coefficients above.
TROUBLE_KINDS: tuple[str, ...] = ("payment", "support", "downgrade")
TROUBLE_START_MONTHLY = np.array([0.005, 0.005, 0.012])  # payment, support, downgrade
TROUBLE_MONTHS = (3, 7)  # episode length: 3-6 months
TROUBLE_CARD_FAILURE = 0.7  # first-attempt card failure in a payment episode
TROUBLE_RETRY_FAILURE = 0.5  # failure of each retry in a payment episode
TROUBLE_LATE_INVOICE = 0.9  # invoice-terms customers paying 31-60 days late
TROUBLE_TICKETS = 2.5  # extra tickets a month in a support episode
TROUBLE_SEVERITY_SHIFT = 2.5  # added to the high and urgent severity logits in a support episode
TROUBLE_NPS_DROP = 4.0  # NPS points lost in a support episode
TROUBLE_SHRINK = (0.35, 0.65)  # seats kept by a downgrade episode's plan change

# ---------------------------------------------------------------------------------------------
# Deals: the planted win drivers
# ---------------------------------------------------------------------------------------------
DEAL_TYPE_LABELS: tuple[str, ...] = ("New Business", "Expansion", "Renewal")
COMPETITORS: tuple[str, ...] = ("Vantage Cloud", "Orbitly", "PeakMetrics", "Stackwise")
# P(win) = logistic(intercept[type] + segment + flags + competitor).
WIN_INTERCEPT = np.array([-1.6, -0.3, 1.0])
WIN_SEGMENT = np.array([0.3, 0.0, -0.4])
WIN_FLAGS: dict[str, float] = {
    "has_champion": 0.9,
    "budget_confirmed": 0.7,
    "decision_maker_engaged": 1.1,
}
WIN_COMPETITOR = np.array([0.0, -0.6, -0.3, -0.9, -0.2])  # none, then COMPETITORS
FLAG_PRIOR = np.array([0.45, 0.50, 0.40])  # P(flag) before the outcome is known
COMPETITOR_PRIOR = np.array([0.35, 0.20, 0.20, 0.15, 0.10])
SALES_ASSISTED_SHARE = np.array([0.10, 0.60, 1.0])  # new customers that came through a deal
SALES_CYCLE_MEDIAN_DAYS = np.array([21.0, 45.0, 95.0])
EXPANSION_CYCLE_MEDIAN_DAYS = 30.0
RENEWAL_LEAD_DAYS = 90
OPEN_EXPANSION_SHARE = 0.03

# ---------------------------------------------------------------------------------------------
# Deals: products, seats, discounts, loss reasons and the late warning signs
# ---------------------------------------------------------------------------------------------
# amount = seats x DEAL_LIST_PRICE[product] x 12 x (1 - discount_pct): the product is the plan sold
# (list price per seat per month); discount_pct is what makes the equation exact.
DEAL_LIST_PRICE = np.array([10.0, 16.0, 40.0])  # Basic, Pro, Enterprise
DEAL_DISCOUNT_SHARE = np.array([0.25, 0.40, 0.55])  # deals negotiated a discount, by segment
DEAL_DISCOUNT_COMPETITOR_SHARE = 0.20  # added to the share when a competitor is in the deal
DEAL_DISCOUNT_COMPETITOR_LEVEL = 0.05  # added to the discount level when a competitor is in
LOSS_REASONS: tuple[str, ...] = (
    "Lost to competitor", "Price", "No decision", "Timing", "Missing features", "Budget",
)  # fmt: skip
LOSS_REASON_MIX = np.array(  # rows: no competitor, a competitor in the deal
    [
        [0.00, 0.32, 0.28, 0.14, 0.14, 0.12],
        [0.55, 0.18, 0.08, 0.05, 0.09, 0.05],
    ]
)
# Late warning signs: from LATE_SIGNAL_START of a deal's life (created to close; for an open deal
# created to its current expected close) to its end, deals headed for a loss (lost ones, and open
# ones drawn to lose from their planted win probability) and deals that slip show less activity,
# get their expected close pushed, their amount cut and their forecast category lowered. Before
# that point they look like every other deal.
LATE_SIGNAL_START = 0.6
ACTIVITY_RATE = np.array([0.25, 0.18, 0.14])  # activities per day over a deal's life, by segment
ACTIVITY_THINNING = np.array([1.0, 0.6, 0.3])  # late rate factor: on track, slips, headed to loss
ACTIVITY_KINDS_MIX = np.array([0.50, 0.22, 0.13, 0.15])  # email, call, meeting, note
ACTIVITY_INBOUND = np.array([0.40, 0.30, 0.15])  # late inbound share: on track, slips, to loss
SLIP_SHARE = np.array([0.25, 0.55])  # deals whose expected close is pushed: won / to loss
SLIP_EXTRA_PUSH = 0.3  # each of up to two further pushes
SLIP_NOTICE_DAYS = 10  # a push comes up to this many days before the old expected close
# Deals that do not slip still close early at times: their expected close date (set when created)
# was up to CLOSE_EARLY_MAX of their life after the day they closed, won or lost alike.
CLOSE_EARLY_SHARE = 0.4
CLOSE_EARLY_MAX = 0.25
AMOUNT_CUT_SHARE = np.array([0.10, 0.35])  # deals whose amount is cut late: won / to loss
AMOUNT_CUT_RANGE = (0.15, 0.40)  # relative size of the cut
CONTACT_POOL = 400  # buyer contact names drawn once; a deal talks to 1-6 of them
CONTACTS_PER_DEAL = np.array([1.0, 2.0, 3.5])  # mean, by segment

# ---------------------------------------------------------------------------------------------
# Marketing and costs
# ---------------------------------------------------------------------------------------------
TOUCH_CHANNELS: tuple[str, ...] = (
    "Paid Search", "Paid Social", "Organic Search", "Email", "Referral", "Partner", "Direct",
    "Events", "Content",
)  # fmt: skip
# Visitor and lead journeys: a first-order Markov chain over TOUCH_CHANNELS (see ``marketing``).
# A journey starts at a channel drawn from JOURNEY_START_MIX[segment]; after each touch of channel
# c it signs up with probability JOURNEY_CONVERT[c] (the planted per-touch effect), else it goes on
# with probability JOURNEY_CONTINUE to a next channel (the same one with probability
# JOURNEY_REPEAT, else one drawn from JOURNEY_NEXT_MIX[c]), else it ends without signing up. Only
# the start mix depends on the segment, so the pooled chain is exactly first order.
JOURNEY_START_MIX = np.array(  # by segment over TOUCH_CHANNELS
    [
        [0.25, 0.32, 0.16, 0.02, 0.03, 0.02, 0.05, 0.02, 0.13],
        [0.21, 0.24, 0.14, 0.03, 0.05, 0.04, 0.05, 0.08, 0.16],
        [0.12, 0.14, 0.08, 0.04, 0.12, 0.14, 0.06, 0.16, 0.14],
    ]
)
# Awareness channels (Paid Social, Content, Events) rarely lead straight to a sign-up; closers
# (Referral, Partner, Direct) often do: last touch over-credits the closers.
JOURNEY_CONVERT = np.array([0.10, 0.015, 0.06, 0.04, 0.26, 0.20, 0.14, 0.04, 0.02])
JOURNEY_CONTINUE = 0.62
JOURNEY_REPEAT = 0.2
JOURNEY_NEXT_MIX = np.array(  # from channel (rows) to the next, other channel (columns)
    [
        [0.00, 0.06, 0.16, 0.14, 0.08, 0.06, 0.28, 0.06, 0.16],
        [0.27, 0.00, 0.15, 0.08, 0.06, 0.04, 0.14, 0.06, 0.20],
        [0.17, 0.05, 0.00, 0.14, 0.06, 0.05, 0.28, 0.05, 0.20],
        [0.17, 0.05, 0.15, 0.00, 0.07, 0.06, 0.33, 0.06, 0.11],
        [0.15, 0.05, 0.19, 0.10, 0.00, 0.05, 0.32, 0.05, 0.09],
        [0.11, 0.03, 0.11, 0.12, 0.06, 0.00, 0.28, 0.20, 0.09],
        [0.28, 0.05, 0.19, 0.14, 0.06, 0.05, 0.00, 0.07, 0.16],
        [0.11, 0.05, 0.13, 0.20, 0.06, 0.14, 0.26, 0.00, 0.05],
        [0.23, 0.08, 0.23, 0.12, 0.07, 0.06, 0.12, 0.09, 0.00],
    ]
)
# The acquisition channel a touch channel stands for (CHANNEL_LABELS index): a sign-up journey is
# given to a customer whose acquisition channel matches its last touch where the counts allow.
TOUCH_ACQUISITION = np.array([PAID_ADS, PAID_ADS, ORGANIC, ORGANIC, REFERRAL, PARTNER, ORGANIC,
                              PARTNER, ORGANIC])  # fmt: skip
TOUCH_TYPES: tuple[str, ...] = (
    "ad_click", "ad_click", "organic_visit", "email_click", "referral_visit", "partner_referral",
    "direct_visit", "event_attendance", "content_download",
)  # fmt: skip
# Spend by touch channel (channel_spend): the month's marketing spend is split so that each
# channel's touches that month are CHANNEL_DEMAND(month) x a[c] x spend^SPEND_RESPONSE_B[c]
# (``marketing.channel_spend``); SPEND_SHARE is the average split that fixes a[c]. Direct has no
# spend.
SPEND_SHARE = np.array([0.30, 0.22, 0.06, 0.05, 0.05, 0.10, 0.00, 0.12, 0.10])
SPEND_RESPONSE_B = np.array([0.75, 0.65, 0.50, 0.55, 0.60, 0.70, 0.0, 0.80, 0.45])
TOUCH_SOURCES: tuple[tuple[str, ...], ...] = (
    ("google", "bing"),
    ("linkedin", "facebook", "twitter"),
    ("google", "bing", "duckduckgo"),
    ("newsletter", "nurture"),
    ("customer_referral", "g2", "capterra"),
    ("partner_portal", "reseller"),
    ("(direct)",),
    ("webinar", "conference", "meetup"),
    ("blog", "ebook", "whitepaper"),
)
TOUCH_MEDIUMS: tuple[str, ...] = (
    "cpc", "paid_social", "organic", "email", "referral", "partner", "(none)", "event", "content",
)  # fmt: skip
CAMPAIGN_THEMES: tuple[str, ...] = ("brand", "product", "competitor", "retargeting")
TOUCH_HAS_CAMPAIGN = np.array([True, True, False, True, False, True, False, True, True])

# Marketing cost per sign-up, by segment, times a channel factor.
SIGNUP_COST = np.array([250.0, 1000.0, 5000.0])
CHANNEL_COST_FACTOR = np.array([1.3, 0.6, 0.35, 1.1])
INFRA_PER_SEAT = 2.0
INFRA_PER_CUSTOMER = 15.0
INFRA_FIXED_PER_CUSTOMER = 0.2  # fixed platform cost, per customer the company will ever have
SUPPORT_PER_TICKET = np.array([45.0, 80.0, 140.0, 250.0])
SUPPORT_PER_CUSTOMER = 10.0

# ---------------------------------------------------------------------------------------------
# Anomalies
# ---------------------------------------------------------------------------------------------
ANOMALY_KINDS: tuple[str, ...] = (
    "price_increase", "mass_churn", "enterprise_cohort", "billing_outage",
)  # fmt: skip
ANOMALY_FIRST_MONTH = 12  # never in the first year
ANOMALY_MIN_GAP = 3
ANOMALY_TARGET = (0.12, 0.2)  # aimed relative effect on MRR (or revenue)

# ---------------------------------------------------------------------------------------------
# Past retention campaigns (``campaigns``): planted treatment effects with a random holdout
# ---------------------------------------------------------------------------------------------
# An always-on play: each campaign enrols for CAMPAIGN_ENROL_MONTHS months from its start
# (``months_before_end`` months before the window's last month). Every enrolment month it takes
# the customers at risk whose own data matches its rule and who are in no campaign's effect window
# (contact fatigue), the highest TRUE hazards first, at most ``max_share`` of the customers at risk
# that month; it splits them treated / holdout at random within each risk tier (holdout share
# CAMPAIGN_HOLDOUT_SHARE) and, for CAMPAIGN_EFFECT_MONTHS months from each member's enrolment,
# multiplies the monthly churn hazard of its TREATED members by (1 - effect).
# rule: "payment" = a late or failed payment in the last 3 months; "support" = 3+ tickets or a
# high / urgent one in the last 3 months; "adoption" = key-feature adoption below 0.4 last month;
# "risk" = every customer at risk (the highest hazards first).
PAST_CAMPAIGNS: tuple[dict[str, object], ...] = (
    dict(
        key="EXEC", name="Executive outreach to top-risk accounts", template="executive_outreach",
        rule="risk", months_before_end=29, effect=0.0, max_share=0.08, cost=400.0,
    ),
    dict(
        key="PAY", name="Payment assistance for late and failed payments",
        template="payment_assistance", rule="payment", months_before_end=25, effect=0.6,
        max_share=0.15, cost=120.0,
    ),
    dict(
        key="SUP", name="Support escalation for accounts with ticket trouble",
        template="support_escalation", rule="support", months_before_end=21, effect=0.45,
        max_share=0.15, cost=250.0,
    ),
    dict(
        key="TRN", name="Product training for low adopters", template="product_training",
        rule="adoption", months_before_end=17, effect=0.2, max_share=0.15, cost=90.0,
    ),
)  # fmt: skip
CAMPAIGN_HOLDOUT_SHARE = 0.3
CAMPAIGN_ENROL_MONTHS = 12  # a campaign takes new members for this many months
CAMPAIGN_EFFECT_MONTHS = 6  # effect and outcome window: the enrolment month and 5 more
CAMPAIGN_FIRST_MONTH = 6  # never before the seventh month (customers need a history)
CAMPAIGN_MIN_MEMBERS = 10  # fewer members in all: the campaign is left out of the tables
# Risk tier of a member at enrolment (brief 004 bounds on the 3-month churn probability
# 1 - (1 - hazard)^3): Safe < 0.2, Low 0.2-0.4, Medium 0.4-0.7, High > 0.7.
CAMPAIGN_TIER_BOUNDS = (0.2, 0.4, 0.7)
CAMPAIGN_TIERS: tuple[str, ...] = ("Safe", "Low", "Medium", "High")
