"""Event-level analytics exports mapped to touchpoints and conversions (data/touch_mapping.py):
the GA4 example on a hand-written export, a flag column, and problems that name the key, or the
file, row and column of the export."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

import pytest

from revintel.app.context import AppContext
from revintel.app.ingest import load_mapped
from revintel.attribution.journeys import JourneyOptions, load_journeys
from revintel.cli import main
from revintel.core.errors import ValidationFailed
from revintel.data.mapping import apply_mapping, read_mapping

REPO = Path(__file__).resolve().parents[2]
GA4_MAPPING = REPO / "examples" / "mappings" / "ga4-touches.toml"

HEADER = (
    "event_timestamp,event_name,user_pseudo_id,user_id,source,medium,campaign,"
    "purchase_revenue,transaction_id\n"
)
# 2024-03-01 10:00:00 UTC is 1709287200 seconds after 1970-01-01.
GA4_EVENTS = HEADER + (
    "1709287200000000,session_start,v1,,google,cpc,spring,,\n"  # 1 Paid Search
    "1709287260000000,page_view,v1,,google,cpc,spring,,\n"  # 2 not a touch
    "1709373600000000,session_start,v1,,newsletter,EMAIL,march,,\n"  # 3 Email (any case)
    "1709377200000000,purchase,v1,,newsletter,email,march,99.5,T-1\n"  # 4 paid, 99.5
    "1709287200000000,session_start,v2,,(direct),(none),,,\n"  # 5 Direct
    "1709290800000000,sign_up,v2,,(direct),(none),,,\n"  # 6 signup, worth 0
    "1709460000000000,session_start,v3,,l.facebook.com,referral,,,\n"  # 7 Organic Social
    "1709460000000000,session_start,v4,,m.facebook.com,paid,,,\n"  # 8 Paid Social
    "1709460000000000,session_start,v5,,someblog.example,weird,,,\n"  # 9 Unassigned
)


def ga4_export(tmp_path: Path, events: str = GA4_EVENTS) -> Path:
    folder = tmp_path / "ga4"
    folder.mkdir(exist_ok=True)
    (folder / "events.csv").write_text(events)
    return folder


def problems(excinfo: pytest.ExceptionInfo[ValidationFailed]) -> list[str]:
    return [str(p) for p in excinfo.value.problems]


def test_the_ga4_example_makes_touches_and_conversions(tmp_path: Path) -> None:
    folder = ga4_export(tmp_path)

    tables = {t.table: t for t in apply_mapping(read_mapping(GA4_MAPPING), folder)}

    touches = tables["touchpoints"].frame
    assert touches["touchpoint_id"].to_list() == [
        "events-000000001",
        "events-000000003",
        "events-000000005",
        "events-000000007",
        "events-000000008",
        "events-000000009",
    ]
    assert touches["channel"].to_list() == [
        "Paid Search",
        "Email",
        "Direct",
        "Organic Social",
        "Paid Social",
        "Unassigned",
    ]
    assert touches["journey_id"].to_list() == ["v1", "v1", "v2", "v3", "v4", "v5"]
    assert touches["touched_at"][0] == "2024-03-01 10:00:00.000000"
    assert set(touches["touchpoint_type"]) == {"session_start"}
    assert touches["campaign"].to_list()[:2] == ["spring", "march"]
    conversions = tables["conversions"].frame
    assert conversions.rows() == [
        ("T-1", "v1", None, "2024-03-02 11:00:00.000000", "paid", "99.5"),
        ("events-000000006", "v2", None, "2024-03-01 11:00:00.000000", "signup", "0"),
    ]
    assert tables["conversions"].label.endswith("via ga4-touches.toml [events: conversions]")


def test_an_analytics_export_loads_without_customers_and_builds_journeys(
    tmp_path: Path, empty_context: AppContext
) -> None:
    result = load_mapped(empty_context, ga4_export(tmp_path), GA4_MAPPING, source="test")

    assert result.tables == {"touchpoints": 6, "conversions": 2}
    journeys = load_journeys(empty_context.warehouse, JourneyOptions(conversion_type="paid"))
    paths = {
        str(jid): [journeys.channels[c] for c in path]
        for jid, path in zip(journeys.journey_ids, journeys.paths(), strict=True)
    }
    # The paid conversion's journey, and the visitors without a paid conversion (v2 signed up).
    assert paths == {
        "T-1": ["Paid Search", "Email"],
        "v2": ["Direct"],
        "v3": ["Organic Social"],
        "v4": ["Paid Social"],
        "v5": ["Unassigned"],
    }
    assert journeys.total_conversions == 1.0
    assert journeys.total_value == 99.5


def test_load_with_the_mapping_from_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("REVINTEL_HOME", "REVINTEL_WAREHOUSE_URL", "REVINTEL_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("REVINTEL_CONFIG", str(tmp_path / "no-such-revintel.toml"))
    args = ["load", str(ga4_export(tmp_path)), "--mapping", str(GA4_MAPPING)]
    monkeypatch.setattr(
        sys, "argv", ["revintel", *args, "--home", str(tmp_path / "home"), "-f", "json"]
    )

    with pytest.raises(SystemExit) as exited:
        main()

    assert exited.value.code in (0, None)
    assert json.loads(capsys.readouterr().out)["tables"] == {"touchpoints": 6, "conversions": 2}


FLAG_MAPPING = """
version = 1
[files]
hits = "hits.csv"

[events]
file = "hits"
time_format = "%Y-%m-%dT%H:%M:%S%z"

[events.columns]
journey = "visitor"
customer = "account"
time = "at"
channel = "channel"
source = "utm_source"
medium = "utm_medium"
value = "amount"

[events.conversions]
flag = "converted"
truthy = ["Y"]
falsy = ["N"]
type = "trial"

[[events.channels]]
channel = "Email"
medium = ["email"]
"""


def flag_export(tmp_path: Path, hits: str, mapping: str = FLAG_MAPPING) -> tuple[Path, Path]:
    folder = tmp_path / "hits"
    folder.mkdir(exist_ok=True)
    (folder / "hits.csv").write_text(hits)
    path = tmp_path / "hits.toml"
    path.write_text(mapping)
    return folder, path


def test_a_flag_column_picks_the_conversions_and_times_become_utc(tmp_path: Path) -> None:
    folder, mapping = flag_export(
        tmp_path,
        "visitor,account,at,channel,utm_source,utm_medium,amount,converted\n"
        "a,,2024-05-01T09:00:00+02:00,Webinar,,,,N\n"  # its own channel column
        "a,,2024-05-01T10:00:00+02:00,,news,email,,\n"  # blank flag: a touch; channel by rule
        "a,,2024-05-02T10:00:00+00:00,,,,1200,y\n",  # a conversion (flags compared without case)
    )

    tables = {t.table: t.frame for t in apply_mapping(read_mapping(mapping), folder)}

    touches = tables["touchpoints"]
    assert touches["channel"].to_list() == ["Webinar", "Email"]
    assert touches["touched_at"].to_list() == [
        "2024-05-01 07:00:00.000000",
        "2024-05-01 08:00:00.000000",
    ]
    assert touches["touchpoint_type"].to_list() == [None, None]
    assert tables["conversions"].rows() == [
        ("hits-000000003", "a", None, "2024-05-02 10:00:00.000000", "trial", "1200")
    ]


def test_bad_rows_name_the_file_row_column_and_what_was_expected(tmp_path: Path) -> None:
    folder, mapping = flag_export(
        tmp_path,
        "visitor,account,at,channel,utm_source,utm_medium,amount,converted\n"
        "a,,2024-05-01T09:00:00+02:00,Webinar,,,,N\n"  # 1 fine
        "b,,yesterday,Webinar,,,,N\n"  # 2 no time
        ",,2024-05-01T09:00:00+02:00,Webinar,,,,N\n"  # 3 no journey
        "c,,2024-05-01T09:00:00+02:00,,google,cpc,,N\n"  # 4 no channel: no rule matches
        "d,,2024-05-01T09:00:00+02:00,,,,-5,Y\n"  # 5 a negative value
        "e,,2024-05-01T09:00:00+02:00,,,,ten,Y\n"  # 6 not a number
        "f,,2024-05-01T09:00:00+02:00,Webinar,,,,maybe\n",  # 7 neither true nor false
    )

    with pytest.raises(ValidationFailed) as excinfo:
        apply_mapping(read_mapping(mapping), folder)

    found = problems(excinfo)
    csv = str(folder / "hits.csv")
    assert len(found) == 6
    expected = [
        f"{csv}, row 7, column 'converted': key events.conversions.flag: neither a true nor a "
        "false value (add it to truthy or falsy); expected one of Y, N, or blank (false), "
        "got 'maybe'",
        f"{csv}, row 2, column 'at': key events.time_format: time does not match the format "
        "'%Y-%m-%dT%H:%M:%S%z'",
        f"{csv}, row 3, column 'visitor': key events.columns.journey: no journey: both the "
        "journey and the customer are blank; expected a visitor or lead id, or a customer id",
        f"{csv}, row 4, column 'channel': key events.channels: a touch with no channel: blank, "
        "and no rule of events.channels matches it",
        f"{csv}, row 5, column 'amount': key events.columns.value: a conversion's value is not "
        "a number of at least 0; expected a number ≥ 0 in the reporting currency (blank: 0), "
        "got '-5'",
        f"{csv}, row 6, column 'amount': key events.columns.value: a conversion's value is not "
        "a number of at least 0; expected a number ≥ 0 in the reporting currency (blank: 0), "
        "got 'ten'",
    ]
    for text, problem in zip(expected, found, strict=True):
        assert problem.startswith(text), (problem, text)
    assert "got 'source=google, medium=cpc'" in found[3]
    assert "got 'yesterday'" in found[1]


def test_a_missing_column_is_named_with_its_key(tmp_path: Path) -> None:
    folder, mapping = flag_export(tmp_path, "visitor,at,channel,amount,converted\n")

    with pytest.raises(ValidationFailed) as excinfo:
        apply_mapping(read_mapping(mapping), folder)

    found = problems(excinfo)
    assert any("key events.columns.customer: no column 'account' in this file" in p for p in found)
    assert any("key events.columns.source: no column 'utm_source'" in p for p in found)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (('time = "at"\n', ""), "key events.columns.time: missing"),
        (
            ('journey = "visitor"\ncustomer = "account"\n', ""),
            "key events.columns.journey: missing",
        ),
        (('type = "trial"', 'type = "purchase"'), "key events.conversions.type: not a conversion"),
        (('flag = "converted"\n', ""), "key events.conversions: says no row is a conversion"),
        (('channel = "channel"\n', 'channel = "channel"\nchannel_group = "x"\n'), "not something"),
        (('medium = ["email"]', 'campaign = ["x*"]'), "matches on campaign, but no column"),
        (('time_format = "%Y-%m-%dT%H:%M:%S%z"', 'time_format = "unix"'), "not a date format"),
        (('file = "hits"', 'file = "sessions"'), "key events.file: not a file named under"),
    ],
)
def test_mapping_problems_name_their_keys(
    tmp_path: Path, change: tuple[str, str], expected: str
) -> None:
    old, new = change
    assert old in FLAG_MAPPING
    _, mapping = flag_export(tmp_path, "", FLAG_MAPPING.replace(old, new, 1))

    with pytest.raises(ValidationFailed) as excinfo:
        read_mapping(mapping)

    assert any(expected in p for p in problems(excinfo)), problems(excinfo)


def test_conversion_events_need_the_event_column_and_known_types(tmp_path: Path) -> None:
    text = GA4_MAPPING.read_text()
    bad = text.replace('event = "event_name"', "").replace('sign_up = "signup"', 'sign_up = "lead"')
    path = tmp_path / "bad.toml"
    path.write_text(bad)

    with pytest.raises(ValidationFailed) as excinfo:
        read_mapping(path)

    found = problems(excinfo)
    assert any("key events.conversions.events.sign_up: not a conversion type" in p for p in found)
    assert any(
        "key events.columns.event: missing: conversions are chosen by event" in p for p in found
    )


def test_events_and_a_touchpoints_table_are_not_both_mapped(tmp_path: Path) -> None:
    _, mapping = flag_export(tmp_path, "", FLAG_MAPPING + '\n[tables.touchpoints]\nfile = "hits"\n')

    with pytest.raises(ValidationFailed, match=r"key tables\.touchpoints: also made by"):
        read_mapping(mapping)


def test_a_repeated_conversion_id_is_refused_at_its_source_row(
    tmp_path: Path, empty_context: AppContext
) -> None:
    events = GA4_EVENTS.replace(
        "1709290800000000,sign_up,v2,,(direct),(none),,,",
        "1709290800000000,purchase,v2,,(direct),(none),,10,T-1",
    )

    with pytest.raises(ValidationFailed) as excinfo:
        load_mapped(empty_context, ga4_export(tmp_path, events), GA4_MAPPING, source="test")

    assert problems(excinfo) == [
        f"{tmp_path / 'ga4' / 'events.csv'}, row 6, column 'transaction_id': key "
        "events.columns.conversion_id: this conversion id is used by an earlier row; expected "
        "an id used once (drop the repeated event from the export), got 'T-1 (also at row 4)'"
    ]
    assert not empty_context.warehouse.has_table("touchpoints")


def test_a_customer_id_must_name_a_loaded_customer_once_customers_are_loaded(
    loaded_context: AppContext, tmp_path: Path
) -> None:
    events = GA4_EVENTS.replace(",session_start,v5,,", ",session_start,v5,NO-SUCH-CUSTOMER,")

    with pytest.raises(ValidationFailed) as excinfo:
        load_mapped(loaded_context, ga4_export(tmp_path, events), GA4_MAPPING, mode="append")

    assert any("NO-SUCH-CUSTOMER" in p for p in problems(excinfo)), problems(excinfo)


def test_epoch_times_in_seconds_and_milliseconds(tmp_path: Path) -> None:
    moment = datetime(2024, 3, 1, 10, 0, 0)
    for fmt, stamp in (("epoch_s", "1709287200"), ("epoch_ms", "1709287200000")):
        mapping = FLAG_MAPPING.replace('"%Y-%m-%dT%H:%M:%S%z"', f'"{fmt}"')
        folder, path = flag_export(
            tmp_path,
            f"visitor,account,at,channel,utm_source,utm_medium,amount,converted\n"
            f"a,,{stamp},Webinar,,,,N\n",
            mapping,
        )
        touches = {t.table: t.frame for t in apply_mapping(read_mapping(path), folder)}[
            "touchpoints"
        ]
        assert touches["touched_at"].to_list() == [f"{moment:%Y-%m-%d %H:%M:%S}.000000"]


def test_the_flag_example_loads_an_event_table(tmp_path: Path, empty_context: AppContext) -> None:
    folder = tmp_path / "web"
    folder.mkdir()
    (folder / "web_events.csv").write_text(
        "event_id,anonymous_id,account_id,timestamp,event,channel,utm_source,utm_medium,"
        "utm_campaign,revenue,is_conversion\n"
        "e1,a1,,2024-05-01T09:30:00.000Z,page_view,,google,cpc,brand,,false\n"
        "e2,a1,,2024-05-03T12:00:00.250Z,page_view,Partner Webinar,,,,,\n"
        "e3,a1,,2024-05-03T12:05:00.000Z,order_completed,,,,,480.00,TRUE\n"
        "e4,a2,,2024-05-04T08:00:00.000Z,page_view,,,,,,0\n"
    )
    mapping = REPO / "examples" / "mappings" / "events-flag.toml"

    result = load_mapped(empty_context, folder, mapping, source="test")

    assert result.tables == {"touchpoints": 3, "conversions": 1}
    touches = empty_context.warehouse.table("touchpoints").order_by("touchpoint_id").to_pyarrow()
    assert touches["channel"].to_pylist() == ["Paid Search", "Partner Webinar", "Direct"]
    assert touches["touched_at"].to_pylist()[1] == datetime(2024, 5, 3, 12, 0, 0, 250_000)
    conversions = empty_context.warehouse.table("conversions").to_pyarrow().to_pylist()
    assert [(c["conversion_id"], c["conversion_type"], c["value"]) for c in conversions] == [
        ("e3", "paid", 480.0)
    ]
