"""The weighted score: weights really weight, renormalisation, partial, pillars, change."""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest

from revintel.health.config import HealthConfig, validate_config
from revintel.health.pillars import engagement_pillar, sentiment_pillar, support_pillar
from revintel.health.scoring import score_accounts, weighted_score


def _pillars(n: int, seed: int, missing: float = 0.2) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    data = rng.uniform(0, 100, size=(n, 3))
    data[rng.random((n, 3)) < missing] = np.nan
    return pl.DataFrame(
        {p: data[:, i] for i, p in enumerate(("engagement", "sentiment", "support"))}
    ).fill_nan(None)


@pytest.mark.parametrize(
    "weights",
    [(40, 30, 30), (100, 0, 0), (0, 100, 0), (10, 20, 70), (33.3, 33.3, 33.4)],
)
def test_weights_really_weight_every_score(weights: tuple[float, float, float]) -> None:
    frame = _pillars(500, seed=1)
    w = dict(zip(("engagement", "sentiment", "support"), weights, strict=True))
    scored = weighted_score(frame, w)
    for row in scored.iter_rows(named=True):
        present = {p: row[p] for p in w if w[p] > 0 and row[p] is not None}
        if not present:
            assert row["health_score"] is None
            continue
        expected = sum(w[p] * v for p, v in present.items()) / sum(w[p] for p in present)
        assert row["health_score"] == pytest.approx(round(expected, 1), abs=0.051)
        assert row["partial"] == (len(present) < sum(1 for v in w.values() if v > 0))


def test_changing_weights_changes_scores_in_the_right_direction() -> None:
    frame = _pillars(300, seed=2, missing=0.0)
    base = weighted_score(frame, {"engagement": 40, "sentiment": 30, "support": 30})
    more = weighted_score(frame, {"engagement": 70, "sentiment": 15, "support": 15})
    diff = (more["health_score"] - base["health_score"]).to_numpy()
    others = ((frame["sentiment"] + frame["support"]) / 2).to_numpy()
    lean = frame["engagement"].to_numpy() - others
    # Moving weight to engagement raises exactly the accounts whose engagement is above the rest.
    clear = np.abs(lean) > 1
    assert (np.sign(diff[clear]) == np.sign(lean[clear])).all()


def test_missing_pillar_renormalises_and_marks_partial() -> None:
    frame = pl.DataFrame(
        {"engagement": [80.0, 80.0, None], "sentiment": [None, 50.0, None], "support": [20.0] * 3}
    )
    out = weighted_score(frame, {"engagement": 40, "sentiment": 30, "support": 30})
    assert out["health_score"].to_list() == [round((40 * 80 + 30 * 20) / 70, 1), 53.0, 20.0]
    assert out["partial"].to_list() == [True, False, True]
    assert out["pillars_used"].to_list() == [2, 3, 1]


def test_engagement_pillar_formula() -> None:
    frame = pl.DataFrame(
        {
            "active_users": [8, 12, 5, 5],
            "licensed_seats": [10, 10, 0, 10],
            "logins": [1, 1, 1, None],
            "key_feature_adoption": [0.5, 1.0, 0.2, None],
            "logins_per_day": [4.0, 10.0, 1.0, None],
            "prior_logins_per_day": [9.0, 5.0, None, None],
        }
    )
    out = engagement_pillar(frame)
    # utilisation capped at 100; trend: (1+4) is half of (1+9) → 0; rising → 100.
    assert out["utilisation_score"].to_list()[:3] == [80.0, 100.0, None]
    assert out["login_trend_score"].to_list()[:3] == [pytest.approx(0.0), 100.0, None]
    first = 0.4 * 80 + 0.3 * 0 + 0.3 * 50
    assert out["engagement"][0] == pytest.approx(first)
    assert out["engagement"][1] == pytest.approx(100.0)
    assert out["engagement"][2] == pytest.approx(20.0)  # only adoption left
    assert out["engagement"][3] is None  # no usage row


def test_sentiment_pillar_decays_to_neutral_with_age() -> None:
    config = HealthConfig()
    half = int(config.nps_half_life_days)
    answered = date(2024, 6, 30)
    frame = pl.DataFrame(
        {
            "month_end": [answered, answered, answered + timedelta(days=half), answered],
            "nps_date": [answered, answered, answered, None],
            "nps_score": [10, 2, 6, None],
            "nps_previous": [None, 6, 4, None],
        }
    )
    out = sentiment_pillar(frame, config)
    assert out["sentiment"][0] == pytest.approx(100.0)
    assert out["sentiment"][1] == pytest.approx(10.0)  # 20 − 10 (capped fall of 4 points)
    # one half-life old: halfway from raw (60 + 5) to 50
    assert out["nps_staleness_weight"][2] == pytest.approx(0.5)
    assert out["sentiment"][2] == pytest.approx(50 + 0.5 * 15)
    assert out["sentiment"][3] is None


def test_support_pillar_compares_with_segment_peers() -> None:
    config = HealthConfig()
    frame = pl.DataFrame(
        {
            "month_idx": [1, 1, 1, 1],
            "segment": ["SMB", "SMB", "SMB", "Enterprise"],
            "licensed_seats": [10, 10, 10, 100],
            "tickets_low": [0, 2, 0, 0],
            "tickets_medium": [0, 0, 0, 0],
            "tickets_high": [0, 0, 0, 1],
            "tickets_urgent": [0, 0, 1, 0],
            "tickets": [0, 2, 1, 1],
            "aged_open_tickets": [0, 0, 5, 0],
        }
    )
    out = support_pillar(frame, config)
    # SMB rates per seat: 0, 0.2, 0.5 → mean 0.2333
    mean = (0.2 + 0.5) / 3
    assert out["peer_ratio"].to_list()[:3] == pytest.approx([0.0, 0.2 / mean, 0.5 / mean])
    assert out["support"][0] == 100.0
    assert out["support"][1] == pytest.approx(100 * 2 ** (-(0.2 / mean) / 2))
    vol = 100 * 2 ** (-(0.5 / mean) / 2)
    assert out["support"][2] == pytest.approx(max(vol - 30, 0))  # 5 aged tickets, capped at 30
    assert out["support"][3] == pytest.approx(100 * 2**-0.5)  # its segment average: ratio 1


def _inputs() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "account_id": ["A", "A", "B", "B"],
            "month_idx": [100, 101, 100, 101],
            "month": ["x", "y", "x", "y"],
            "month_end": [date(2024, 5, 31), date(2024, 6, 30)] * 2,
            "arr": [300_000.0, 300_000.0, 1000.0, 1000.0],
            "segment": ["SMB"] * 4,
            "last_contact_date": [date(2024, 1, 1)] * 4,
            "active_users": [10, 2, 5, 5],
            "licensed_seats": [10] * 4,
            "logins": [100, 5, 50, 50],
            "key_feature_adoption": [0.9, 0.1, 0.5, 0.5],
            "logins_per_day": [3.0, 0.2, 1.0, 1.0],
            "prior_logins_per_day": [3.0, 3.0, 1.0, 1.0],
        }
    )


def test_score_accounts_end_to_end_on_inputs() -> None:
    config = HealthConfig()
    out = score_accounts(_inputs(), config, ("engagement",)).sort(["account_id", "month_idx"])
    a_may, a_june = out.row(0, named=True), out.row(1, named=True)
    assert a_may["health_score"] == 97.0 and a_may["tier"] == "Healthy"
    assert a_june["partial"] is True and a_june["sentiment"] is None
    assert a_june["tier"] == "Critical"
    assert a_june["playbook"] == "Executive Sponsor Call"
    assert a_june["health_change"] == pytest.approx(a_june["health_score"] - 97.0)
    assert a_may["previous_score"] is None
    assert a_june["days_since_contact"] == (date(2024, 6, 30) - date(2024, 1, 1)).days


def test_score_accounts_weights_change_every_score() -> None:
    inputs = _inputs()
    a = score_accounts(inputs, HealthConfig())
    b = score_accounts(
        inputs,
        validate_config({"weights": {"engagement": 20, "sentiment": 40, "support": 40}}),
    )
    for ra, rb in zip(a.iter_rows(named=True), b.iter_rows(named=True), strict=True):
        present = [p for p in ("engagement", "sentiment", "support") if ra[p] is not None]
        wa = {"engagement": 40, "sentiment": 30, "support": 30}
        wb = {"engagement": 20, "sentiment": 40, "support": 40}
        for score, w in ((ra["health_score"], wa), (rb["health_score"], wb)):
            expected = sum(w[p] * ra[p] for p in present) / sum(w[p] for p in present)
            assert math.isclose(score, round(expected, 1), abs_tol=0.051)
