"""A small company whose channels respond to spend along curves set here, for the channel ROI
and budget tests of every face: each converting journey is one touch, so every model credits
it to that channel and the attributed conversions per month are exactly the planted ones."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

MONTHS = tuple(f"2024-{m:02d}" for m in range(1, 13))
# channel: (a, b, value per conversion, base monthly spend); conversions = round(a × spend^b)
CURVES = {
    "Search": (2.0, 0.5, 100.0, 5000.0),
    "Social": (0.5, 0.7, 200.0, 3000.0),
    "Email": (5.0, 0.3, 50.0, 1000.0),
}
DIRECT_PER_MONTH = 20  # unpaid Direct conversions, value 80 each


def spend_table(seed: int = 5) -> dict[tuple[str, str], float]:
    rng = np.random.default_rng(seed)
    return {
        (m, c): round(base * float(rng.uniform(0.5, 1.5)), 2)
        for m in MONTHS
        for c, (_, _, _, base) in CURVES.items()
    }


def conversions_of(channel: str, spend: float) -> int:
    a, b, _, _ = CURVES[channel]
    return round(a * spend**b)


def write_company(folder: Path) -> dict[tuple[str, str], float]:
    """customers.csv (the customers of Search's conversions), touchpoints.csv, conversions.csv
    and channel_spend.csv in ``folder``; the spend."""
    folder.mkdir(parents=True, exist_ok=True)
    spend = spend_table()
    touches = [["touchpoint_id", "journey_id", "customer_id", "touched_at", "channel"]]
    customers = [["customer_id", "signup_date", "segment", "country", "acquisition_channel"]]
    convs = [["conversion_id", "journey_id", "customer_id", "converted_at", "conversion_type",
              "value"]]  # fmt: skip
    n = 0

    def journey(month: str, channel: str, converts: bool, value: float) -> None:
        nonlocal n
        n += 1
        jid, day = f"J{n:06d}", 3 + n % 20
        customer = f"C{n:06d}" if converts and channel == "Search" else ""
        if customer:
            customers.append([customer, f"{month}-{day + 2:02d}", "SMB", "US", "Paid Ads"])
        touches.append([f"T{n:06d}", jid, customer, f"{month}-{day:02d} 09:00:00", channel])
        if converts:
            convs.append([f"V{n:06d}", jid, customer, f"{month}-{day + 2:02d} 10:00:00", "paid",
                          f"{value}"])  # fmt: skip

    for m in MONTHS:
        for c, (_, _, value, _) in CURVES.items():
            for _ in range(conversions_of(c, spend[(m, c)])):
                journey(m, c, True, value)
            for _ in range(5):
                journey(m, c, False, 0.0)
        for _ in range(DIRECT_PER_MONTH):
            journey(m, "Direct", True, 80.0)
    for name, rows in (
        ("customers", customers),
        ("touchpoints", touches),
        ("conversions", convs),
    ):
        with (folder / f"{name}.csv").open("w", newline="") as f:
            csv.writer(f).writerows(rows)
    with (folder / "channel_spend.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["month", "channel", "spend"])
        for (m, c), s in spend.items():
            w.writerow([m, c, f"{s:.2f}"])
    return spend


def load_company(root: Path) -> Path:
    """A home under ``root`` holding the company (the home's path)."""
    from revintel.app.context import AppContext
    from revintel.app.ingest import load_paths
    from revintel.core.config import Settings

    write_company(root / "company")
    home = root / "home"
    ctx = AppContext(Settings(home=home, warehouse_url=None, database_url=None))
    try:
        load_paths(ctx, [root / "company"], source="test")
    finally:
        ctx.close()
    return home


def current_spend(spend: dict[tuple[str, str], float], months: int = 3) -> dict[str, float]:
    """Each channel's mean spend over the last ``months`` months."""
    last = MONTHS[-months:]
    return {c: sum(spend[(m, c)] for m in last) / months for c in CURVES}
