"""A small company with planted expansions, for the expansion tests (docs/pipeline.md, Expansion).

120 accounts, 10 seats each at 100 a month, usage every month of 2023. Accounts 0–39 (the
growers) use every seat and 80% of key features until, in month 5 + (i mod 6) (May–October),
their subscription is replaced by one of 15 seats at 150 a month (an expansion). Accounts 100–119
(the decoys) look the same as the growers but never expand; the rest use 4–6 seats and 30% of
the features. Nothing else happens, so a score that reads utilisation and adoption puts the
growers and decoys on top and its top decile expands far above the base rate.
"""

from __future__ import annotations

from pathlib import Path

ACCOUNTS = 120
GROWERS = range(0, 40)
DECOYS = range(100, 120)
MONTHS = [f"2023-{m:02d}" for m in range(1, 13)]


def expansion_month(i: int) -> int:
    """The month (1–12) grower ``i`` expands in."""
    return 5 + i % 6


def write_company(folder: Path) -> Path:
    """Write the company's CSVs into ``folder`` and return it."""
    segments = ("SMB", "Mid-Market", "Enterprise")
    customers = ["customer_id,signup_date,segment,country,acquisition_channel"]
    subs = ["subscription_id,customer_id,plan_type,start_date,end_date,monthly_price,seats"]
    usage = ["account_id,month,active_users,licensed_seats,logins,key_feature_adoption"]
    for i in range(ACCOUNTS):
        cid = f"A{i:03d}"
        customers.append(f"{cid},2023-01-01,{segments[i % 3]},US,Organic")
        plan = "Basic" if i % 2 == 0 else "Pro"
        if i in GROWERS:
            e = expansion_month(i)
            subs.append(f"S{i:03d},{cid},{plan},2023-01-01,2023-{e:02d}-15,100,10")
            subs.append(f"S{i:03d}b,{cid},{plan},2023-{e:02d}-15,,150,15")
        else:
            subs.append(f"S{i:03d},{cid},{plan},2023-01-01,,100,10")
        for m, month in enumerate(MONTHS, start=1):
            if i in GROWERS and m >= expansion_month(i):
                active, seats, adoption = 12, 15, 0.6
            elif i in GROWERS or i in DECOYS:
                active, seats, adoption = 10, 10, 0.8
            else:
                active, seats, adoption = 4 + i % 3, 10, 0.3
            usage.append(f"{cid},{month},{active},{seats},{active * 20},{adoption}")
    for name, lines in (
        ("customers.csv", customers),
        ("subscriptions.csv", subs),
        ("usage.csv", usage),
    ):
        (folder / name).write_text("\n".join(lines) + "\n")
    return folder
