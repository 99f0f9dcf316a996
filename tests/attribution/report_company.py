"""A home holding a small company with touchpoints and conversions whose journeys are worked out
by hand, for the attribution report's service, CLI, API and page tests.

Paid journeys (90-day window): V1 Email > Paid Search converts (100), V2 Paid Search converts (50),
C2 Direct > Email converts (200); V3 Email and V4 Email > Direct do not convert. V1 also signs up.
"""

from __future__ import annotations

from pathlib import Path

from revintel.app.context import AppContext
from revintel.app.ingest import load_paths
from tests.backends.conftest import COMPANY
from tests.conftest import isolated_settings

TOUCHPOINTS = """\
touchpoint_id,journey_id,customer_id,touched_at,channel
T1,V1,,2024-01-01 09:00:00,Email
T2,V1,C1,2024-01-03 09:00:00,Paid Search
T3,V2,,2024-01-02 10:00:00,Paid Search
T4,V3,,2024-01-02 11:00:00,Email
T5,V4,,2024-01-06 12:00:00,Email
T6,V4,,2024-01-07 12:00:00,Direct
T7,,C2,2024-02-01 08:00:00,Direct
T8,,C2,2024-02-02 08:00:00,Email
"""
CONVERSIONS = """\
conversion_id,journey_id,customer_id,converted_at,conversion_type,value
K1,V1,C1,2024-01-05 09:00:00,paid,100
K2,V2,,2024-01-04 10:00:00,paid,50
K3,,C2,2024-02-10 08:00:00,paid,200
K4,V1,C1,2024-01-02 09:00:00,signup,0
"""
PATHS = [
    ["Email", "Paid Search"],
    ["Paid Search"],
    ["Direct", "Email"],
    ["Email"],
    ["Email", "Direct"],
]
CONVERTED = [1, 1, 1, 0, 0]
VALUES = [100.0, 50.0, 200.0, 0.0, 0.0]


def report_context(root: Path) -> AppContext:
    """An AppContext over a new home under ``root`` holding the company and its journeys."""
    folder = root / "attribution-company"
    folder.mkdir()
    for name, text in {
        **COMPANY,
        "touchpoints.csv": TOUCHPOINTS,
        "conversions.csv": CONVERSIONS,
    }.items():
        (folder / name).write_text(text)
    ctx = AppContext(isolated_settings(root / "home"))
    load_paths(ctx, [folder], source="test")
    return ctx


PATH_FILE = """\
path;total_conversions;total_conversion_value;total_null
Email > Paid Search;3;300;2
Paid Search;1;50;4
Direct > Email > Email;2;120;1
"""


def write_path_file(root: Path) -> Path:
    path = root / "paths.csv"
    path.write_text(PATH_FILE)
    return path
