"""The steady-state estimator on synthetic series whose mean is known: AR(1), a transient then a plateau, a trend
that never settles, and exact cases computed by hand."""

import math

import numpy as np
import pytest

from vstack_sim.analysis.steady_state import mser_truncation, steady_state_mean


def ar1(seed: int, n: int = 2000, mean: float = 5.0, phi: float = 0.5) -> np.ndarray:
    rng = np.random.default_rng(seed)
    e = rng.normal(0.0, 1.0, n)
    x = np.empty(n)
    x[0] = mean + e[0] / math.sqrt(1 - phi * phi)      # started in its stationary law: no transient
    for i in range(1, n):
        x[i] = mean + phi * (x[i - 1] - mean) + e[i]
    return x


def test_an_ar1_series_is_in_steady_state_and_its_interval_covers_the_mean():
    results = [steady_state_mean(ar1(seed)) for seed in range(40)]
    assert all(r.reached for r in results)
    assert all(r.truncated < 200 for r in results)            # hardly any warm-up is cut from a stationary start
    covered = sum(r.lo <= 5.0 <= r.hi for r in results)
    assert covered >= 34                                       # 95 % intervals: 38 expected of 40
    # The batches are long enough for the correlation (phi 0.5): the interval is not the iid one, narrower by
    # sqrt((1 + phi) / (1 - phi)) = 1.7.
    widths = np.array([r.hi - r.lo for r in results])
    iid = 2 * 2.262 * 1.0 / math.sqrt(1 - 0.25) / math.sqrt(1800)
    assert np.median(widths) > 1.3 * iid


def test_a_transient_then_a_plateau_is_truncated_and_gives_the_plateau():
    t = np.arange(1000)
    results = []
    for seed in range(20):
        noise = np.random.default_rng(seed).normal(0.0, 0.01, len(t))
        results.append(steady_state_mean(0.3 * (1 - np.exp(-t / 20)) + noise))
    assert all(r.reached for r in results)
    # The transient (time constant 20) is cut: 2.5 time constants in, it is still 2.5 noise sds off the plateau.
    assert all(r.truncated >= 50 for r in results)
    assert all(abs(r.mean - 0.3) < 0.002 for r in results)
    assert sum(r.lo <= 0.3 <= r.hi for r in results) >= 17


@pytest.mark.parametrize("seed", range(5))
def test_a_trend_that_never_settles_is_not_reached(seed):
    x = 0.001 * np.arange(500) + np.random.default_rng(seed).normal(0.0, 0.05, 500)
    r = steady_state_mean(x)
    assert not r.reached and "drifting" in r.why
    assert math.isnan(r.mean) and math.isnan(r.lo) and math.isnan(r.hi)


def test_a_series_that_only_steps_up_is_not_reached_one_that_goes_both_ways_is():
    # The replicated fraction under cumulative popularity: flat, then one late step up (the batch means alone,
    # most of them equal, would give a narrow interval that excludes where the series ended).
    up = np.r_[np.full(105, 0.051), np.full(15, 0.052)]
    r = steady_state_mean(up)
    assert not r.reached and r.why == "still drifting: it only rises"
    assert steady_state_mean(-up).why == "still drifting: it only falls"
    # A video going hot and cold again and again (a telegraph process, mean 0.0515): it goes both ways.
    reached = []
    for seed in range(10):
        flips = np.random.default_rng(seed).random(300) < 0.1
        r = steady_state_mean(0.051 + 0.001 * (np.cumsum(flips) % 2))
        reached.append(r.reached and r.lo <= 0.0515 <= r.hi)
    assert sum(reached) >= 8


def test_exact_cases_by_hand():
    flat = steady_state_mean(np.full(100, 0.25))
    assert flat.reached and flat.mean == flat.lo == flat.hi == 0.25 and flat.truncated == 0
    # A ramp over the first 4 MSER batches (20 observations), then exactly flat: MSER is 0 from batch 4 on and
    # the smallest such d is taken; 200 kept observations make 10 batches of 20.
    ramp = np.r_[np.linspace(0.0, 0.3, 20), np.full(200, 0.3)]
    assert mser_truncation(ramp) == (4, 44)
    r = steady_state_mean(ramp)
    assert r.reached and r.truncated == 20 and r.batch_size == 20
    assert r.mean == pytest.approx(0.3, abs=1e-15) and r.hi - r.lo == pytest.approx(0.0, abs=1e-15)


def test_too_short_and_bad_input():
    assert steady_state_mean(np.ones(9)).why == "too short"
    assert steady_state_mean(np.ones(29)).why == "too short"   # 10 batches of fewer than 3
    assert steady_state_mean(np.ones(30)).reached
    with pytest.raises(ValueError, match="finite"):
        steady_state_mean([1.0, float("nan")] * 10)
