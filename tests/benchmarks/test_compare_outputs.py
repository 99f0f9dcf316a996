"""benchmarks/compare_outputs.py: the diff of two captures and what it normalises."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.compare_outputs import _expand, _variants, diff_folders

STARTED = "2026-01-10T12:00:00+00:00"


def _capture(folder: Path, outputs: dict[str, object], started: str = STARTED) -> Path:
    folder.mkdir()
    manifest = {"started_at": started, "values": {"account": "CUS-1"}, "outputs": {}}
    for name, body in outputs.items():
        (folder / f"{name}.json").write_text(json.dumps(body))
        manifest["outputs"][name] = {"command": name, "exit_code": 0, "file": f"{name}.json"}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


def test_same_outputs_with_volatile_values_are_no_difference(tmp_path: Path) -> None:
    a = _capture(
        tmp_path / "a",
        {
            "cli-churn-score": {
                "scored": 479,
                "seconds": 1.88,
                "created_at": "2026-01-10T12:00:03+00:00",  # written by the capture
                "trained_at": "2025-12-01T08:00:00+00:00",  # in the home: kept
            }
        },
    )
    b = _capture(
        tmp_path / "b",
        {
            "cli-churn-score": {
                "scored": 479,
                "seconds": 2.5,
                "created_at": "2026-01-11T09:30:00+00:00",
                "trained_at": "2025-12-01T08:00:00+00:00",
            }
        },
        started="2026-01-11T09:29:00+00:00",
    )
    assert diff_folders(a, b) == []


def test_every_difference_is_reported_with_its_path(tmp_path: Path) -> None:
    a = _capture(tmp_path / "a", {"m": [{"month": "2025-01", "mrr": 1.0, "x": 1}], "gone": {}})
    b = _capture(
        tmp_path / "b", {"m": [{"month": "2025-01", "mrr": 1.5}, {"month": "2025-02"}], "new": {}}
    )
    found = diff_folders(a, b)
    assert "gone: only in A (gone)" in found
    assert "new: only in B (new)" in found
    assert "m: $: 1 items != 2 items" in found
    assert "m: $[0].mrr: 1.0 != 1.5" in found
    assert "m: $[0].x: only in A: 1" in found
    # A value in the home older than the capture is data, not "now".
    a2 = _capture(tmp_path / "a2", {"t": {"trained_at": "2025-12-01T08:00:00+00:00"}})
    b2 = _capture(tmp_path / "b2", {"t": {"trained_at": "2025-12-02T08:00:00+00:00"}})
    assert len(diff_folders(a2, b2)) == 1


def test_required_values_fill_commands_and_paths() -> None:
    spec = {"params": [{"name": "series", "required": True, "opts": [], "argument": True}]}
    assert [v["series"] for v in _variants(spec)][:2] == ["mrr", "revenue"]
    params = [
        {"name": "account_id", "in": "path"},
        {"name": "name", "in": "path", "schema": {"enum": ["mrr", "ltv"]}},
    ]
    paths = _expand("/x/{account_id}/{name}", params, {"account": "CUS-1"})
    assert paths == ["/x/CUS-1/mrr", "/x/CUS-1/ltv"]
    assert _expand("/y/{deal}", [{"name": "deal", "in": "path"}], {})[0].startswith("!")
