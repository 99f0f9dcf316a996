"""The executive report as HTML (Jinja2, every value escaped), PDF (WeasyPrint: the same HTML, A4,
a header and footer with the company, month and page numbers) and PowerPoint (python-pptx); JSON
for the figures (docs/retention.md, Executive report → Formats).

Every format reads the same formatted figures (:func:`view`), so a number reads the same in each.
"""

from __future__ import annotations

__all__ = ["render", "view"]

import base64
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from revintel.core.errors import InvalidOption
from revintel.core.formatting import NULL, money, percent

if TYPE_CHECKING:
    from revintel.app.retention.executive import ExecutiveReport, Kpi

TEMPLATES = Path(__file__).with_name("templates")
MOVEMENT_LABELS = (
    ("new", "New", "new_customers"),
    ("expansion", "Expansion", "expansion_customers"),
    ("reactivation", "Reactivation", "reactivated_customers"),
    ("contraction", "Contraction", "contraction_customers"),
    ("churn", "Churn", "churned_customers"),
)


# -- figures as people read them -------------------------------------------------------------------
def value_text(value: float | None, unit: str) -> str:
    """``$3.2M``, ``929``, ``2.8%``, ``5.02x``; ``—`` when undefined."""
    if value is None:
        return NULL
    if unit == "currency":
        return money(value)
    if unit == "ratio":
        return percent(value)
    if unit == "multiple":
        return f"{value:,.2f}x"
    if unit == "months":
        return f"{value:,.1f}"
    return f"{value:,.0f}"


def change_text(kpi: Kpi) -> tuple[str, str]:
    """The change (a share's in points) and the change %, signed."""
    if kpi.change is None:
        return NULL, ""
    sign = "+" if kpi.change > 0 else ""
    if kpi.unit == "ratio":
        change = f"{sign}{kpi.change * 100:.1f} pp"
    elif kpi.unit == "currency":
        change = sign + money(kpi.change)
    else:
        change = sign + value_text(kpi.change, kpi.unit)
    pct = kpi.change_pct
    return change, "" if pct is None else ("+" if pct > 0 else "") + percent(pct)


_GOOD_WHEN_DOWN = {"logo_churn_rate", "gross_mrr_churn_rate", "net_mrr_churn_rate"}


def _direction(kpi: Kpi) -> str:
    if not kpi.change:
        return "flat"
    good = (kpi.change < 0) if kpi.name in _GOOD_WHEN_DOWN else (kpi.change > 0)
    return "up" if good else "down"


def _text(value: Any) -> str:
    return NULL if value is None or value == "" else str(value)


def view(report: ExecutiveReport) -> dict[str, Any]:
    """The report's figures formatted for display, shared by the HTML, PDF and PowerPoint."""
    kpis = []
    notes = []
    for k in report.kpis.values():
        change, pct = change_text(k)
        kpis.append(
            {
                "name": k.name,
                "label": k.label,
                "value": value_text(k.value, k.unit),
                "previous": value_text(k.previous, k.unit),
                "change": change,
                "change_pct": pct,
                "direction": _direction(k),
            }
        )
        if k.value is None and k.reason:
            notes.append(f"{k.label}: {k.reason}")
    m = report.movements
    movements = [
        {
            "label": label,
            "amount": ("−" if name in ("contraction", "churn") else "+") + money(getattr(m, name)),
            "customers": f"{getattr(m, customers):,}",
            "direction": "down" if name in ("contraction", "churn") else "up",
        }
        for name, label, customers in MOVEMENT_LABELS
    ]
    movements.append(
        {
            "label": "Net new MRR",
            "amount": ("+" if m.net_new_mrr > 0 else "") + money(m.net_new_mrr),
            "customers": "",
            "direction": "up" if m.net_new_mrr >= 0 else "down",
        }
    )
    missing = {x.section: x.reason for x in report.missing}
    out: dict[str, Any] = {
        "kpis": kpis,
        "kpi_notes": notes,
        "movements": movements,
        "missing": missing,
        "forecast": None,
        "anomalies": [],
        "risk": None,
        "campaigns": None,
        "pipeline": None,
        "attribution": None,
    }
    f = report.forecast
    if f is not None:
        out["forecast"] = {
            "model": f.model,
            "detail": f.model_detail or "",
            "reason": f.reason,
            "mape": NULL if f.backtest_mape is None else f"{f.backtest_mape:.1f}%",
            "points": [
                {
                    "month": p.month,
                    "mean": money(p.mean),
                    "band80": f"{money(p.lo80)} – {money(p.hi80)}",
                    "band95": f"{money(p.lo95)} – {money(p.hi95)}",
                }
                for p in f.points
            ],
        }
    from revintel.app.retention.executive_narrative import describe_flag

    out["anomalies"] = [
        {
            "month": a.month,
            "series": "MRR" if a.metric == "mrr" else "Cash collected",
            "what": describe_flag(a),
        }
        for a in report.anomalies or []
    ]
    r = report.risk
    if r is not None:
        measures = []
        if r.customers is not None:
            measures += [
                {"label": "Customers scored", "value": f"{r.customers:,}"},
                {"label": "Scored on", "value": _text(r.scored_at)},
            ]
            for tier, n in (r.tiers or {}).items():
                measures.append({"label": f"{tier} churn risk", "value": f"{n:,} customers"})
            measures += [
                {"label": "Average churn risk", "value": percent(r.average_risk)},
                {
                    "label": "Expected churners (sum of probabilities)",
                    "value": NULL if r.expected_churners is None else f"{r.expected_churners:,.1f}",
                },
                {"label": "Expected MRR lost", "value": money(r.expected_mrr_lost)},
            ]
        if r.capital_at_risk is not None:
            measures += [
                {
                    "label": f"Total ARR ({r.health_month} health scores)",
                    "value": money(r.total_arr),
                },
                {
                    "label": "Capital at risk (At Risk + Critical ARR)",
                    "value": f"{money(r.capital_at_risk)} ({percent(r.capital_at_risk_share)})",
                },
            ]
        risk_notes = [
            reason
            for section, reason in missing.items()
            if section in ("churn risk", "capital at risk")
        ]
        if r.tier_rule:
            risk_notes.insert(0, r.tier_rule)
        out["risk"] = {
            "measures": measures,
            "notes": risk_notes,
            "accounts": [
                {
                    "name": a.name or a.account_id,
                    "account_id": a.account_id,
                    "segment": _text(a.segment),
                    "owner": _text(a.owner),
                    "mrr": money(a.mrr),
                    "risk": percent(a.churn_risk),
                    "tier": a.risk_tier,
                    "at_risk": money(a.mrr_at_risk),
                    "factor": _text(a.top_factor),
                }
                for a in r.top_accounts
            ],
        }
    c = report.campaigns
    if c is not None:
        out["campaigns"] = [
            {
                "name": x.name,
                "template": _text(x.template),
                "treated": NULL if x.treated is None else f"{x.treated:,}",
                "holdout": NULL if x.holdout is None else f"{x.holdout:,}",
                "uplift": NULL if x.uplift is None else f"{x.uplift * 100:.1f} pp",
                "interval": NULL
                if x.uplift_low is None or x.uplift_high is None
                else f"{x.uplift_low * 100:.1f} to {x.uplift_high * 100:.1f} pp",
                "p_value": NULL if x.p_value is None else f"{x.p_value:.3f}",
                "saves": NULL if x.saves is None else f"{x.saves:,.1f}",
                "roi": money(x.roi),
                "status": _text(x.status)
                + (f" ({x.months_remaining} months to go)" if x.months_remaining else ""),
            }
            for x in c.campaigns
        ]
    p = report.pipeline
    if p is not None:
        out["pipeline"] = [
            {"label": "As of", "value": p.as_of},
            {"label": "Open pipeline", "value": money(p.open_pipeline)},
            {"label": "Open deals", "value": f"{p.deal_count:,}"},
            {"label": "Average open deal", "value": money(p.avg_deal_size)},
            {
                "label": f"Weighted forecast, next {p.forecast_days} days",
                "value": money(p.weighted_forecast),
            },
            {
                "label": "Win rate (deals)",
                "value": f"{percent(p.win_rate)} ({p.won_deals:,} of {p.closed_deals:,})",
            },
            {"label": "Open deals at risk", "value": f"{p.at_risk_deals:,}"},
        ]
    a = report.attribution
    if a is not None:
        out["attribution"] = {
            "title": f"Markov attribution of the {a.conversions:,.0f} conversions from {a.start} "
            f"to {a.end} (quarter to {report.month}); ROI = (attributed value × gross margin − "
            "spend) ÷ spend.",
            "channels": [
                {
                    "channel": ch.channel,
                    "conversions": f"{ch.conversions:,.1f}",
                    "share": percent(ch.share),
                    "value": money(ch.value),
                    "spend": money(ch.spend),
                    "cac": money(ch.cac),
                    "roi": NULL if ch.roi is None else f"{ch.roi:,.1f}x",
                }
                for ch in a.channels
            ],
            "note": a.roi_note,
        }
    return out


# -- HTML and PDF ----------------------------------------------------------------------------------
def _css_string(value: Any) -> Markup:
    """``value`` escaped for a CSS string in the page's ``<style>`` (``@page`` header): every
    character but letters, digits and spaces as a CSS escape, so nothing can close the string
    or the style element."""
    text = str(value)
    escaped = "".join(ch if ch.isalnum() or ch == " " else f"\\{ord(ch):x} " for ch in text)
    return Markup(escaped)


def _environment() -> Any:
    from jinja2 import FileSystemLoader, StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment

    env = SandboxedEnvironment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["css"] = _css_string
    return env


@dataclass(frozen=True)
class _Image:
    title: str
    caption: str
    uri: str


def _images(report: ExecutiveReport, fmt: str) -> dict[str, _Image]:
    from revintel.app.retention.executive_charts import charts, draw

    media = "image/svg+xml" if fmt == "svg" else "image/png"
    out = {}
    for name, chart in charts(report).items():
        data = base64.b64encode(draw(chart, fmt)).decode("ascii")  # type: ignore[arg-type]
        out[name] = _Image(chart.title, chart.caption, f"data:{media};base64,{data}")
    return out


def html(report: ExecutiveReport, image_format: str = "svg") -> str:
    """The report as one self-contained HTML page (charts embedded as data URIs)."""
    template = _environment().get_template("executive.html.j2")
    return str(template.render(r=report, charts=_images(report, image_format), **view(report)))


def pdf(report: ExecutiveReport) -> bytes:
    """The same page printed to A4 by WeasyPrint (charts as PNG)."""
    from weasyprint import HTML

    return bytes(HTML(string=html(report, "png")).write_pdf())


# -- PowerPoint ------------------------------------------------------------------------------------
def pptx(report: ExecutiveReport) -> bytes:
    """A deck: title, summary, KPIs, movements, forecast, risk and top accounts, campaigns,
    pipeline and attribution (when present); each slide's narrative in its notes."""
    from pptx import Presentation
    from pptx.util import Inches, Pt

    from revintel.app.retention.executive_charts import charts, draw

    shown = view(report)
    images = charts(report)
    deck = Presentation()
    deck.slide_width, deck.slide_height = Inches(13.333), Inches(7.5)
    title_layout, blank_title = deck.slide_layouts[0], deck.slide_layouts[5]
    width = deck.slide_width - Inches(1.0)

    def slide(title: str, notes: list[str]) -> Any:
        s = deck.slides.add_slide(blank_title)
        s.shapes.title.text = title
        s.shapes.title.text_frame.paragraphs[0].font.size = Pt(30)
        s.shapes.title.top, s.shapes.title.height = Inches(0.3), Inches(0.9)
        s.shapes.title.left, s.shapes.title.width = Inches(0.5), width
        if notes:
            s.notes_slide.notes_text_frame.text = "\n".join(notes)
        return s

    def table(s: Any, header: list[str], rows: list[list[str]], top: float, size: int = 12) -> None:
        height = Inches(0.35) * (len(rows) + 1)
        shape = s.shapes.add_table(
            len(rows) + 1, len(header), Inches(0.5), Inches(top), width, height
        )
        for j, text in enumerate(header):
            shape.table.cell(0, j).text = text
        for i, row in enumerate(rows, start=1):
            for j, text in enumerate(row):
                shape.table.cell(i, j).text = str(text)
        for cell in (c for r in shape.table.rows for c in r.cells):
            for paragraph in cell.text_frame.paragraphs:
                paragraph.font.size = Pt(size)

    def text(s: Any, lines: list[str], top: float, height: float, size: int = 16) -> None:
        box = s.shapes.add_textbox(Inches(0.5), Inches(top), width, Inches(height))
        frame = box.text_frame
        frame.word_wrap = True
        for i, line in enumerate(lines):
            paragraph = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
            paragraph.text = line
            paragraph.font.size = Pt(size)
            paragraph.space_after = Pt(6)

    def picture(s: Any, name: str, top: float, height: float, left: float = 0.9) -> None:
        """The chart at ``left``, ``top``, ``height`` inches high, narrowed to fit the slide."""
        chart = images.get(name)
        if chart is None:
            return
        shape = s.shapes.add_picture(
            io.BytesIO(draw(chart, "png")), Inches(left), Inches(top), height=Inches(height)
        )
        room = deck.slide_width - Inches(left) - Inches(0.4)
        if shape.width > room:  # keep the aspect: scale both sides
            shape.height = int(shape.height * room / shape.width)
            shape.width = room

    sentences = report.narrative
    first = deck.slides.add_slide(title_layout)
    first.shapes.title.text = f"{report.company_name}"
    first.placeholders[1].text = (
        f"Executive report · {report.month_title} ({report.month})\n"
        f"Data {report.data_from} to {report.data_to}, as of {report.as_of}"
    )
    first.notes_slide.notes_text_frame.text = "\n".join(sentences)

    s = slide("Summary", sentences)
    text(s, sentences, 1.3, 5.9, size=15 if len(sentences) <= 8 else 13)

    s = slide(f"Headline KPIs, {report.month}", sentences[:3])
    table(
        s,
        ["KPI", report.month, report.previous_month or "Month before", "Change", "Change %"],
        [
            [k["label"], k["value"], k["previous"], k["change"], k["change_pct"]]
            for k in shown["kpis"]
        ],
        1.3,
        size=13,
    )

    s = slide("MRR movements", sentences[:1])
    table(
        s,
        ["Movement", "MRR", "Customers"],
        [[m["label"], m["amount"], m["customers"]] for m in shown["movements"]],
        1.3,
        size=12,
    )
    picture(s, "movements", 4.0, 3.3)

    forecast_notes = [x for x in sentences if x.startswith("The forecast")]
    s = slide("Forecast", forecast_notes)
    if shown["forecast"] is not None:
        picture(s, "mrr_trend", 1.2, 3.4)
        f = shown["forecast"]
        table(
            s,
            ["Month", "Forecast", "80% interval", "95% interval"],
            [[p["month"], p["mean"], p["band80"], p["band95"]] for p in f["points"]],
            4.7,
            size=11,
        )
    else:
        text(s, [shown["missing"].get("forecast", "No forecast.")], 1.4, 1.0)

    risk_notes = [x for x in sentences if "risk" in x]
    s = slide("Churn risk and top accounts at risk", risk_notes)
    if shown["risk"] is not None:
        risk = shown["risk"]
        lines = [f"{m['label']}: {m['value']}" for m in risk["measures"]]
        text(s, lines, 1.2, 2.2, size=11)
        picture(s, "risk_tiers", 1.2, 2.1, left=7.4)
        rows = [
            [a["name"], a["segment"], a["owner"], a["mrr"], a["risk"], a["tier"], a["at_risk"]]
            for a in risk["accounts"]
        ]
        if rows:
            table(
                s,
                ["Account", "Segment", "Owner", "MRR", "Risk", "Tier", "MRR at risk"],
                rows,
                3.5,
                size=10,
            )
    else:
        text(s, [shown["missing"].get("churn risk", "No churn predictions.")], 1.4, 1.0)

    s = slide("Campaign results", [x for x in sentences if "campaign" in x])
    if shown["campaigns"]:
        table(
            s,
            ["Campaign", "Template", "Treated", "Holdout", "Uplift", "95% interval", "p", "ROI"],
            [
                [
                    c["name"],
                    c["template"],
                    c["treated"],
                    c["holdout"],
                    c["uplift"],
                    c["interval"],
                    c["p_value"],
                    c["roi"],
                ]
                for c in shown["campaigns"]
            ],
            1.3,
            size=11,
        )
    else:
        text(s, [shown["missing"].get("campaigns", "No campaigns.")], 1.4, 1.0)

    if shown["pipeline"] is not None:
        s = slide("Pipeline", [x for x in sentences if x.startswith("Open pipeline")])
        table(s, ["Measure", "Value"], [[r["label"], r["value"]] for r in shown["pipeline"]], 1.3)
    if shown["attribution"] is not None:
        a = shown["attribution"]
        s = slide("Attribution", [x for x in sentences if "attribution" in x.lower()])
        text(s, [a["title"]], 1.2, 0.7, size=12)
        table(
            s,
            ["Channel", "Conversions", "Share", "Value", "Spend", "CAC", "ROI"],
            [
                [
                    c["channel"],
                    c["conversions"],
                    c["share"],
                    c["value"],
                    c["spend"],
                    c["cac"],
                    c["roi"],
                ]
                for c in a["channels"]
            ],
            2.0,
            size=11,
        )
    out = io.BytesIO()
    deck.save(out)
    return out.getvalue()


def render(report: ExecutiveReport, fmt: str) -> bytes:
    """``report`` as ``html``, ``pdf``, ``pptx`` or ``json`` bytes."""
    if fmt == "html":
        return html(report).encode("utf-8")
    if fmt == "pdf":
        return pdf(report)
    if fmt == "pptx":
        return pptx(report)
    if fmt == "json":
        return json.dumps(report.to_dict(), indent=2, default=str).encode("utf-8")
    raise InvalidOption(f"format = {fmt!r}; expected one of html, pdf, pptx, json")
