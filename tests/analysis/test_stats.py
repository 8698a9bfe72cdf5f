"""Interval arithmetic against tabulated quantiles and hand-computed intervals; coverage on exponential samples."""

import math

import numpy as np
import pytest

from vstack_sim.analysis import stats


@pytest.mark.parametrize("p,df,table", [(0.975, 1, 12.7062047362), (0.975, 4, 2.7764451052),
                                        (0.975, 9, 2.2621571628), (0.975, 29, 2.0452296421),
                                        (0.995, 10, 3.1692726726), (0.025, 4, -2.7764451052)])
def test_t_quantile_matches_tables(p, df, table):
    assert stats.t_quantile(p, df) == pytest.approx(table, abs=1e-8)


@pytest.mark.parametrize("p,df,table", [(0.975, 8, 17.5345461), (0.025, 8, 2.1797307), (0.975, 2, 7.3777589),
                                        (0.025, 2, 0.0506356), (0.95, 1, 3.8414588), (0.975, 200, 241.0579)])
def test_chi2_quantile_matches_tables(p, df, table):
    assert stats.chi2_quantile(p, df) == pytest.approx(table, rel=1e-6)


def test_t_interval_by_hand():
    # mean 3, s = sqrt(2.5), t(0.975, 4) = 2.776445: half width 2.776445 * 1.581139 / sqrt(5) = 1.963243
    iv = stats.mean_interval([1, 2, 3, 4, 5])
    assert (iv.estimate, iv.n, iv.method) == (3.0, 5, "t")
    assert iv.lo == pytest.approx(3 - 1.963243, abs=1e-6) and iv.hi == pytest.approx(3 + 1.963243, abs=1e-6)


def test_t_interval_edge_cases():
    one = stats.mean_interval([7.0, float("nan")])
    assert one.estimate == 7.0 and one.n == 1 and math.isnan(one.lo) and math.isnan(one.hi)
    assert stats.mean_interval([]).n == 0
    flat = stats.mean_interval([2.0, 2.0, 2.0])
    assert flat.lo == flat.hi == 2.0


def test_wilson_by_hand():
    # p = 0.3, n = 10, z = 1.959964: centre (0.3 + z^2/20) / (1 + z^2/10) = 0.355506,
    # half z / (1 + z^2/10) * sqrt(0.021 + z^2/400) = 0.247715
    iv = stats.wilson_interval(3, 10)
    assert iv.lo == pytest.approx(0.107791, abs=1e-6) and iv.hi == pytest.approx(0.603222, abs=1e-6)
    zero = stats.wilson_interval(0, 10)
    assert zero.lo == 0.0 and zero.hi == pytest.approx(0.277533, abs=1e-6)  # z^2 / (n + z^2)
    full = stats.wilson_interval(10, 10)
    assert full.hi == 1.0 and full.lo == pytest.approx(1 - 0.277533, abs=1e-6)
    with pytest.raises(ValueError, match="successes"):
        stats.wilson_interval(11, 10)


def test_mttdl_interval_by_hand():
    # four losses in 100 s on test: 2T / chi2 quantiles with 2r = 8 degrees of freedom
    iv = stats.mttdl_interval([10, 20, 30, 40], [True] * 4)
    assert iv.estimate == 25.0
    assert iv.lo == pytest.approx(200 / 17.5345461, rel=1e-6) and iv.hi == pytest.approx(200 / 2.1797307, rel=1e-6)
    # two censored: lower side with 2r + 2 = 6 degrees of freedom (chi2(0.975, 6) = 14.449375), upper with 2r = 4
    cens = stats.mttdl_interval([10, 20, 30, 40], [True, True, False, False])
    assert cens.estimate == 50.0
    assert cens.lo == pytest.approx(200 / 14.449375, rel=1e-6) and cens.hi == pytest.approx(200 / 0.4844186, rel=1e-6)
    none = stats.mttdl_interval([10, 20], [False, False])
    assert math.isnan(none.estimate) and none.hi == math.inf and none.lo > 0


def test_mttdl_interval_covers_the_exponential_mean_95_percent_of_the_time():
    rng = np.random.default_rng(2026)
    trials, n, mean = 2000, 8, 100.0
    samples = rng.exponential(mean, size=(trials, n))
    hits = sum(iv.lo <= mean <= iv.hi for iv in (stats.mttdl_interval(s, np.ones(n, bool)) for s in samples))
    # binomial sd of the coverage is sqrt(0.95 * 0.05 / 2000) = 0.0049; 3 sd either side
    assert abs(hits / trials - 0.95) <= 0.0146
    # right-censored at 150 (time-truncated test): the interval is conservative, never short of 95 %
    cens = np.minimum(samples, 150.0)
    hits = sum(iv.lo <= mean <= iv.hi
               for iv in (stats.mttdl_interval(c, s < 150.0) for c, s in zip(cens, samples, strict=False)))
    assert hits / trials >= 0.95 - 0.0146


def test_t_interval_covers_the_mean_95_percent_of_the_time():
    rng = np.random.default_rng(7)
    hits = sum(iv.lo <= 5.0 <= iv.hi for iv in (stats.mean_interval(rng.normal(5.0, 2.0, 5)) for _ in range(2000)))
    assert abs(hits / 2000 - 0.95) <= 0.0146


def test_welch_interval_by_hand():
    # diff -3; se = sqrt(1/3 + 6.667/4) = sqrt(2); Welch df = 4 / (1/18 + 25/27) = 4.0755; t(0.975, 4.0755) = 2.756285
    iv = stats.difference_interval([1, 2, 3], [2, 4, 6, 8])
    assert iv.estimate == -3.0 and iv.hi - iv.estimate == pytest.approx(3.897975, abs=1e-5)
