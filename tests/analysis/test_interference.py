"""Read latency per window and the block-bootstrap interval of a p99 ratio."""

import numpy as np
import pandas as pd
import pytest

from vstack_sim.analysis.interference import p99_ratio, windowed_quantile


def synthetic(n_windows=120, per_window=200, scale=1.0, start=0.0, seed=0, window_sd=0.3):
    """Lognormal latencies with a random level per 1-minute window (reads in a window share a queue state)."""
    rng = np.random.default_rng(seed)
    level = rng.normal(0.0, window_sd, n_windows)
    t = start + np.repeat(np.arange(n_windows) * 60.0, per_window) + rng.uniform(0, 60, n_windows * per_window)
    lat = scale * np.exp(np.repeat(level, per_window) + rng.normal(3.0, 0.5, n_windows * per_window))
    return pd.DataFrame({"time_s": t, "latency_ms": lat})


def test_windowed_quantile_is_the_inverted_cdf_quantile_of_each_window():
    reads = pd.DataFrame({"time_s": [1, 2, 3, 61, 62, 200], "latency_ms": [5.0, 1.0, 3.0, 7.0, np.nan, 2.0]})
    w = windowed_quantile(reads, 60.0, 0.5)
    assert list(w["time_s"]) == [0.0, 60.0, 180.0]
    assert list(w["count"]) == [3, 1, 1]                      # the failed read (NaN) is left out
    assert list(w["latency_ms"]) == [3.0, 7.0, 2.0]
    assert list(windowed_quantile(reads, 60.0, 0.99)["latency_ms"]) == [5.0, 7.0, 2.0]


def test_a_doubled_tail_gives_a_ratio_of_two_inside_its_interval():
    before = synthetic(seed=1)
    during = before.assign(time_s=before["time_s"] + 10_000, latency_ms=2 * before["latency_ms"])
    out = p99_ratio(pd.concat([before, during]), (0, 7200), (10_000, 17_200), n_boot=500)
    assert out["ratio"] == pytest.approx(2.0, rel=1e-12)
    assert out["low"] < 2.0 < out["high"]
    assert out["before_windows"] == out["during_windows"] == 120 and out["before_reads"] == 24_000


def test_the_block_interval_covers_the_true_ratio_about_95_percent_of_the_time():
    # 100 independent pairs of periods with equal latency laws (true ratio 1) and correlated windows.
    # A percentile interval from 60 blocks covers a little less than its nominal 95 % (92 of these 100,
    # fixed seeds); 87 is 2 binomial sd below that. Resampling single reads instead of windows ignores
    # the window levels, and its interval covers far less often (24 of the first 40 when measured).
    covered = 0
    for seed in range(100):
        reads = pd.concat([synthetic(60, 100, seed=2 * seed), synthetic(60, 100, start=5000, seed=2 * seed + 1)])
        out = p99_ratio(reads, (0, 3600), (5000, 8600), n_boot=300, seed=seed)
        covered += out["low"] <= 1.0 <= out["high"]
    assert covered >= 87


def test_bad_periods_and_settings_are_refused():
    reads = synthetic(10, 10)
    with pytest.raises(ValueError, match="during: no reads"):
        p99_ratio(reads, (0, 600), (10_000, 11_000))
    with pytest.raises(ValueError, match="before: the period must end after it starts"):
        p99_ratio(reads, (600, 0), (0, 600))
    with pytest.raises(ValueError, match="window"):
        p99_ratio(reads, (0, 300), (300, 600), window=0)
    with pytest.raises(ValueError, match="n_boot"):
        p99_ratio(reads, (0, 300), (300, 600), n_boot=10)
