"""Per-video aging: the curves, each video's views by age against its curve, and the aggregate view rate against
its steady state U x E[A] x G(t)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.builders import config
from vstack_sim.model.aging import ExponentialAging, PowerLawAging, aging_curve
from vstack_sim.model.lifecycle import UploadSchedule, draw_uploads
from vstack_sim.model.upload_views import UploadViewSource
from vstack_sim.scenario.lifecycle_schema import AgingConfig

DAY = 86400.0


def integral(curve, grid):
    y = curve.density(grid)
    return float(((y[1:] + y[:-1]) / 2 * np.diff(grid)).sum())


@pytest.mark.parametrize("curve", [PowerLawAging(3600, 1.5), PowerLawAging(600, 3.0), ExponentialAging(7200)])
def test_each_curve_is_a_density_and_its_survival_inverts(curve):
    # The density's integral over a fine grid to 10^7 s, plus the survival beyond, is 1.
    grid = np.concatenate([[0.0], np.geomspace(1e-3, 1e7, 200_001)])
    assert integral(curve, grid) + float(curve.survival(1e7)) == pytest.approx(1.0, rel=1e-6)
    ages = np.array([0.0, 10.0, 3600.0, 30 * DAY, 3e9])
    ages = ages[curve.survival(ages) > 0]      # an exponential's survival underflows at 3e9 s: no view is drawn there
    assert np.allclose(curve.age_at_survival(curve.survival(ages)), ages, rtol=1e-9, atol=1e-6)
    assert curve.cdf(0.0) == 0.0
    for a, b in [(0.0, 3600.0), (3600.0, DAY)]:
        part = integral(curve, np.linspace(a, b, 200_001))
        assert curve.survival(a) - curve.survival(b) == pytest.approx(part, rel=1e-7)


def test_the_f4_preset_gives_a_week_old_video_at_least_ten_times_fewer_views_than_a_day_old():
    curve = aging_curve(AgingConfig(preset="f4"))
    assert curve.density(DAY) / curve.density(7 * DAY) >= 10
    assert repr(curve) == "PowerLawAging(burst=21600, exponent=1.5)"


def test_the_schema_refuses_an_exponent_at_or_below_one_and_a_preset_with_its_own_settings():
    with pytest.raises(ValueError, match="exponent"):
        AgingConfig(exponent=1.0)
    with pytest.raises(ValueError, match="burst: set by preset 'f4' to 21600.0, got 60"):
        AgingConfig(preset="f4", burst=60)
    # The preset's own values beside it (as a resolved scenario writes them) are accepted.
    assert AgingConfig(preset="f4", burst="6h", exponent=1.5, curve="power_law") == AgingConfig(preset="f4")


def source(uploads, curve, end, cycle=0.0, after=0.0, seed=5):
    return UploadViewSource(np.random.default_rng(seed), uploads, curve, np.full(10**6, 4), lambda rng, n: np.ones(n),
                            end, cycle, 20.0, after)


def drain(src):
    out = []
    while (item := src.next()) is not None:
        out.append(item)
    return np.array([x[0] for x in out]), np.array([x[1] for x in out])


@pytest.mark.parametrize("curve", [PowerLawAging(6 * 3600, 1.5), ExponentialAging(12 * 3600)])
def test_a_videos_views_per_age_bucket_follow_its_curve(curve):
    end = 10 * DAY
    times = np.linspace(0, 5 * DAY, 400, endpoint=False)
    up = UploadSchedule(first_video=7, times=times, chunk_counts=np.full(400, 4), lifetime_views=np.full(400, 40.0))
    t, v = drain(source(up, curve, end))
    assert (np.diff(t) >= 0).all() and t.max() < end
    age = t - times[v - 7]
    assert (age >= 0).all()
    edges = [0, 3600, 6 * 3600, DAY, 3 * DAY, 10 * DAY]
    for b0, b1 in zip(edges[:-1], edges[1:], strict=False):
        seen = int(((age >= b0) & (age < b1)).sum())
        lo, hi = b0, np.minimum(b1, end - times)
        expected = float((40.0 * np.clip(curve.survival(lo) - curve.survival(hi), 0, None) * (hi > lo)).sum())
        assert abs(seen - expected) < 4 * math.sqrt(expected) + 1, (b0, seen, expected)


def test_deleted_by_age_videos_get_no_views_after_their_deletion():
    up = UploadSchedule(0, np.linspace(0, DAY, 100), np.full(100, 4), np.full(100, 50.0))
    t, v = drain(source(up, PowerLawAging(3600, 1.5), 3 * DAY, after=6 * 3600))
    assert (t - up.times[v] < 6 * 3600).all()


def test_the_daily_cycle_shapes_the_views_and_keeps_their_daily_total():
    up = UploadSchedule(0, np.zeros(2000), np.full(2000, 4), np.full(2000, 20.0))
    curve = ExponentialAging(30 * DAY)                      # nearly flat over the two days
    t, _ = drain(source(up, curve, 2 * DAY, cycle=0.8))
    expected = 2000 * 20.0 * float(curve.cdf(2 * DAY))    # whole days: the cycle averages out
    assert abs(len(t) - expected) < 4 * math.sqrt(expected)
    hour = (t % DAY) / 3600
    near_peak = ((hour >= 18) & (hour < 22)).sum()
    near_trough = ((hour >= 6) & (hour < 10)).sum()
    assert near_peak > 3 * near_trough                   # (1 + 0.8) / (1 - 0.8) = 9 at the extremes


def test_the_aggregate_view_rate_reaches_its_steady_state():
    # Uploads at U = 200 a day, A = 25 views each, exponential aging with a 4 h mean: after a few means the
    # rate is U x A x G(t) -> U x A = 5,000 views a day. The count in each later day is compound Poisson
    # (uploads and views), variance about mean x (1 + A); the check is at 4 standard deviations.
    cfg = config({"run": {"duration": "4d", "seed": 3},
                  "workload": {"uploads": {"rate": "200/d", "mean_views": 25, "views_sigma": 0}}})
    up = draw_uploads(cfg, 0, np.random.default_rng(9))
    curve = ExponentialAging(4 * 3600)
    t, _ = drain(source(up, curve, 4 * DAY))
    steady = 200 * 25.0
    first_hours = ((t >= 0) & (t < 2 * 3600)).sum() / (2 / 24)
    assert first_hours < 0.5 * steady                     # still rising: G(2 h) is small
    for day in (1, 2, 3):
        seen = int(((t >= day * DAY) & (t < (day + 1) * DAY)).sum())
        assert abs(seen - steady) < 4 * math.sqrt(steady * 26), (day, seen)
