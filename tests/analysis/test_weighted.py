"""The estimate of a probability from weighted replications."""

import math

import numpy as np
import pytest

from vstack_sim.analysis.weighted import weighted_estimate


def test_mean_standard_error_relative_error_and_99_percent_interval():
    x = np.array([0.0, 0.0, 2e-7, 0.0, 4e-7, 0.0])
    e = weighted_estimate(x)
    se = x.std(ddof=1) / math.sqrt(6)
    assert e["estimate"] == pytest.approx(1e-7) and e["std_error"] == pytest.approx(se)
    assert e["relative_error"] == pytest.approx(1.96 * se / 1e-7)
    assert e["interval"] == pytest.approx([max(0.0, 1e-7 - 2.5758293 * se), 1e-7 + 2.5758293 * se])


def test_no_loss_has_no_relative_error_and_plain_counts_take_wilsons_interval():
    assert weighted_estimate(np.zeros(10))["relative_error"] is None
    e = weighted_estimate(np.zeros(1000), weighted=False)
    assert e["interval"][0] == 0.0 and 0.004 < e["interval"][1] < 0.008   # Wilson's, not a point
    with pytest.raises(ValueError, match="at least 2"):
        weighted_estimate([1.0])


def test_pooled_estimate_of_runs_is_their_mean_with_the_combined_standard_error():
    from vstack_sim.analysis.weighted import pooled_estimate

    mean, lo, hi = pooled_estimate([1e-7, 3e-7], [3e-8, 4e-8], level=0.99)
    assert mean == pytest.approx(2e-7)
    assert (hi - lo) / 2 == pytest.approx(2.5758293 * 5e-8 / 2)
    assert pooled_estimate([1e-9], [1e-8], 0.95)[1] == 0.0     # cut at 0
