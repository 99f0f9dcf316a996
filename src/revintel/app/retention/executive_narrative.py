"""The executive report's narrative: templated sentences generated from its figures
(docs/retention.md, Executive report → Narrative).

Rules: each sentence states what changed and, where the figures say it, why (the largest MRR
movement is named as the driver of the month's change); a sentence is written only when every
figure it quotes is present, so a missing section or an undefined value never reads as "None".
"""

from __future__ import annotations

__all__ = ["describe_flag", "narrative"]

from typing import TYPE_CHECKING

from revintel.core.formatting import money, percent

if TYPE_CHECKING:
    from revintel.app.retention.executive import ExecutiveReport, FlaggedMonth, Kpi

FLAT = 0.001  # a change under 0.1% reads as "held steady"
_MOVEMENT_WORDS = {
    "new": "new MRR",
    "expansion": "expansion",
    "reactivation": "reactivated MRR",
    "contraction": "contraction",
    "churn": "churned MRR",
}
_ADDS = ("new", "expansion", "reactivation")
_DRIVER_WORDS = {**_MOVEMENT_WORDS, "new": "new MRR", "expansion": "expansion"}


def _month(label: str) -> str:
    from datetime import date

    return date.fromisoformat(f"{label}-01").strftime("%B %Y")


def _points(change: float) -> str:
    return f"{abs(change) * 100:.1f} points"


def narrative(report: ExecutiveReport) -> list[str]:
    """The sentences, in the report's order: MRR and its driver, customers and ARPA, retention,
    forecast, anomalies, risk, campaigns, pipeline, attribution."""
    sentences = [
        _mrr(report),
        _customers(report),
        _retention(report),
        _forecast(report),
        _anomalies(report),
        *_risk(report),
        _campaigns(report),
        _pipeline(report),
        _attribution(report),
    ]
    return [s for s in sentences if s]


def _mrr(report: ExecutiveReport) -> str | None:
    """ "MRR rose 3.2% to $412.3k: new MRR of $18.2k outran churned MRR of $9.9k; expansion added
    $4.1k." The driver is the largest movement in the direction of the change."""
    m = report.movements
    kpi = report.kpis["mrr"]
    when = _month(report.month)
    if kpi.value is None:
        return None
    if kpi.previous is None or not kpi.previous:
        return f"MRR was {money(kpi.value)} in {when}, the first month of the data."
    pct = kpi.change_pct or 0.0
    amounts = {name: getattr(m, name) for name in _MOVEMENT_WORDS}
    adds = sorted(((amounts[n], n) for n in _ADDS if amounts[n] > 0), reverse=True)
    removes = sorted(
        ((amounts[n], n) for n in ("contraction", "churn") if amounts[n] > 0), reverse=True
    )
    if abs(pct) < FLAT:
        head = f"MRR held steady at {money(kpi.value)} in {when}"
    else:
        verb = "rose" if pct > 0 else "fell"
        head = f"MRR {verb} {percent(abs(pct))} to {money(kpi.value)} in {when}"
    if not adds and not removes:
        return f"{head}, with no movement."
    parts: list[str] = []
    if pct >= FLAT and adds:
        value, name = adds[0]
        against = removes[0] if removes else None
        if against:
            parts.append(
                f"{_MOVEMENT_WORDS[name]} of {money(value)} outran "
                f"{_MOVEMENT_WORDS[against[1]]} of {money(against[0])}"
            )
        else:
            parts.append(f"{_MOVEMENT_WORDS[name]} of {money(value)} drove it, with nothing lost")
        rest = [(v, n) for v, n in adds[1:]]
    elif pct <= -FLAT and removes:
        value, name = removes[0]
        against = adds[0] if adds else None
        if against:
            parts.append(
                f"{_MOVEMENT_WORDS[name]} of {money(value)} outweighed "
                f"{_MOVEMENT_WORDS[against[1]]} of {money(against[0])}"
            )
        else:
            parts.append(f"{_MOVEMENT_WORDS[name]} of {money(value)} with nothing gained")
        rest = [(v, n) for v, n in removes[1:]]
    else:  # flat: gains and losses offset
        gained = sum(v for v, _ in adds)
        lost = sum(v for v, _ in removes)
        parts.append(f"{money(gained)} gained offset {money(lost)} lost")
        rest = []
    for value, name in rest[:1]:
        verb = "added" if name in _ADDS else "took"
        parts.append(f"{_MOVEMENT_WORDS[name]} {verb} {money(value)}")
    return f"{head}: " + "; ".join(parts) + "."


def _change_words(kpi: Kpi, *, what: str, count: bool = False) -> str | None:
    if kpi.value is None:
        return None
    shown = f"{kpi.value:,.0f}" if count else money(kpi.value)
    if kpi.previous is None or kpi.change is None:
        return f"{what} was {shown}"
    if abs(kpi.change) < (0.5 if count else 0.005 * max(abs(kpi.previous), 1.0)):
        return f"{what} held at {shown}"
    verb = "rose" if kpi.change > 0 else "fell"
    before = f"{kpi.previous:,.0f}" if count else money(kpi.previous)
    return f"{what} {verb} from {before} to {shown}"


def _customers(report: ExecutiveReport) -> str | None:
    """Paying customers with new and churned logos; ARPA."""
    m = report.movements
    customers = _change_words(report.kpis["customers"], what="Paying customers", count=True)
    if customers is None:
        return None
    logos = []
    if m.new_customers:
        logos.append(f"{m.new_customers:,} new")
    if m.reactivated_customers:
        logos.append(f"{m.reactivated_customers:,} reactivated")
    if m.churned_customers:
        logos.append(f"{m.churned_customers:,} churned")
    text = customers + (f" ({', '.join(logos)})" if logos else "")
    arpa = _change_words(report.kpis["arpa"], what="ARPA")
    if arpa is not None:
        text += f"; {arpa}"
    return text + "."


def _retention(report: ExecutiveReport) -> str | None:
    """Logo churn against the month before, net and gross revenue retention."""
    k = report.kpis
    logo, nrr, grr = k["logo_churn_rate"], k["nrr_monthly"], k["nrr_t12m"]
    parts = []
    if logo.value is not None:
        text = f"Logo churn was {percent(logo.value)}"
        if logo.previous is not None and logo.change is not None:
            if abs(logo.change) < 0.0005:
                text += f", unchanged from {_month(report.previous_month or report.month)}"
            else:
                better = "down" if logo.change < 0 else "up"
                text += f", {better} {_points(logo.change)} from {percent(logo.previous)}"
        parts.append(text)
    if nrr.value is not None:
        text = f"net revenue retention {percent(nrr.value)} for the month"
        if grr.value is not None:
            text += f" and {percent(grr.value)} over the trailing 12 months"
        parts.append(text)
    revenue_churn = k["gross_mrr_churn_rate"]
    if revenue_churn.value is not None:
        parts.append(f"gross MRR churn {percent(revenue_churn.value)}")
    if not parts:
        return None
    return parts[0] + ("; " + ", ".join(parts[1:]) if len(parts) > 1 else "") + "."


def _forecast(report: ExecutiveReport) -> str | None:
    f = report.forecast
    if f is None or not f.points:
        return None
    last = f.points[-1]
    mape = "" if f.backtest_mape is None else f", backtest error {f.backtest_mape:.1f}%"
    now = report.kpis["mrr"].value
    direction = ""
    if now:
        change = last.mean / now - 1.0
        direction = (
            f", {percent(abs(change))} {'above' if change >= 0 else 'below'} {_month(report.month)}"
        )
    return (
        f"The forecast ({f.model}{mape}) puts MRR at {money(last.mean)} in {_month(last.month)}"
        f"{direction} (95% interval {money(last.lo95)} to {money(last.hi95)})."
    )


def _anomalies(report: ExecutiveReport) -> str | None:
    flags = report.anomalies
    if not flags:
        return None
    this = [a for a in flags if a.month == report.month]
    if this:
        return (
            f"{_month(report.month)} fell outside the model's 95% band: "
            + "; ".join(describe_flag(a) for a in this)
            + "."
        )
    latest = flags[0]
    months = len({a.month for a in flags})
    return (
        f"{months} month{'s' if months > 1 else ''} of the year to {_month(report.month)} fell "
        f"outside the model's 95% band; the latest, {_month(latest.month)}: "
        f"{describe_flag(latest)}."
    )


def describe_flag(a: FlaggedMonth) -> str:
    """What broke the band: the part (``churned MRR of $114.1k against $12.1k expected``), else
    the series."""
    series = "MRR" if a.metric == "mrr" else "cash collected"
    if a.driver and a.driver_actual is not None and a.driver_expected is not None:
        part = _DRIVER_WORDS.get(a.driver, a.driver.replace("_", " "))
        return (
            f"{series} {part} of {money(a.driver_actual)} against {money(a.driver_expected)} "
            "expected"
        )
    if a.actual is not None and a.expected is not None:
        return f"{series} of {money(a.actual)} against {money(a.expected)} expected"
    return a.reason


def _risk(report: ExecutiveReport) -> list[str | None]:
    r = report.risk
    if r is None:
        return []
    out: list[str | None] = []
    if r.tiers is not None and r.expected_churners is not None:
        high = r.tiers.get("High", 0)
        text = (
            f"{high:,} customer{'s are' if high != 1 else ' is'} at High churn risk; the model "
            f"expects {r.expected_churners:,.0f} of {r.customers or 0:,} to churn"
        )
        if r.expected_mrr_lost is not None:
            text += f", taking {money(r.expected_mrr_lost)} of MRR"
        if r.scored_at and not r.scored_at.startswith(report.month):  # a past month's report
            text += f" (latest predictions, scored {r.scored_at})"
        out.append(text + ".")
    if r.capital_at_risk is not None:
        share = (
            f" ({percent(r.capital_at_risk_share)} of ARR)"
            if r.capital_at_risk_share is not None
            else ""
        )
        out.append(
            f"Capital at risk (ARR of At Risk and Critical health accounts) is "
            f"{money(r.capital_at_risk)}{share}."
        )
    if r.top_accounts:
        top = r.top_accounts[0]
        name = top.name or top.account_id
        stake = f" ({money(top.mrr)} MRR)" if top.mrr is not None else ""
        out.append(
            f"The account with the most at stake is {name}{stake} at "
            f"{percent(top.churn_risk, 0)} risk"
            + (f", driven by {top.top_factor.lower()}" if top.top_factor else "")
            + "."
        )
    return out


def _campaigns(report: ExecutiveReport) -> str | None:
    c = report.campaigns
    if c is None or not c.campaigns:
        return None
    measured = [x for x in c.campaigns if x.uplift is not None]
    if not measured:
        n = len(c.campaigns)
        return f"{n} campaign{'s are' if n != 1 else ' is'} running; none has reached its outcome."
    text = f"{len(measured)} campaign{'s' if len(measured) != 1 else ''} measured"
    if measured:
        best = max(measured, key=lambda x: x.uplift or 0.0)
        interval = ""
        if best.uplift_low is not None and best.uplift_high is not None:
            interval = f" (95% interval {_pp(best.uplift_low)} to {_pp(best.uplift_high)})"
        text += (
            f"; the largest uplift is {best.name}'s: churn {_pp(best.uplift or 0.0)} lower than "
            f"its holdout{interval}"
        )
        if best.saves is not None:
            text += f", {best.saves:,.0f} customers saved"
        if best.roi is not None:
            text += f", net return {money(best.roi)}"
    return text + "."


def _pp(share: float) -> str:
    return f"{share * 100:.1f} pp"


def _pipeline(report: ExecutiveReport) -> str | None:
    p = report.pipeline
    if p is None:
        return None
    text = f"Open pipeline is {money(p.open_pipeline)} across {p.deal_count:,} deals"
    if p.weighted_forecast is not None:
        text += f"; the {p.forecast_days}-day weighted forecast is {money(p.weighted_forecast)}"
    if p.win_rate is not None:
        text += f"; win rate {percent(p.win_rate)} ({p.won_deals:,} of {p.closed_deals:,} closed)"
    return text + f" (as of {p.as_of})."


def _attribution(report: ExecutiveReport) -> str | None:
    a = report.attribution
    if a is None or not a.channels:
        return None
    top = a.channels[0]
    text = (
        f"Markov attribution credits {top.channel} with the most conversions in the quarter "
        f"({percent(top.share)} of {a.conversions:,.0f})"
    )
    with_roi = [c for c in a.channels if c.roi is not None]
    if with_roi:
        best = max(with_roi, key=lambda c: c.roi or 0.0)
        text += f"; {best.channel} returns the most on spend (ROI {best.roi:,.1f}x)"
    return text + "."
