"""The one-stripe durability model's estimators: hazard scaling against plain Monte Carlo on Weibull
lifetimes, and the likelihood-ratio bookkeeping.

Issue 26: at Weibull shape 1.12 (SimEDC's disk lifetimes), with failure rates inflated until plain Monte
Carlo sees at least 100 losses (node MTTF 100 d, MTTR 1 d, a 365-day mission: P(loss) about 1 %), plain
and importance estimates agree within their 99 % intervals (the difference within 2.5758 combined standard
errors).
"""

import math

import numpy as np
import pytest

from tests.builders import DAY, stripe_scenario
from vstack_sim.model.lifetimes import Lifetime
from vstack_sim.model.simulation import simulate
from vstack_sim.model.stripe_durability import Stripe, replicate

Z99 = 2.5758


@pytest.mark.parametrize("policy", ["erasure_coding", "replication"])
def test_hazard_scaling_agrees_with_plain_monte_carlo_at_weibull_shape_1_12(policy):
    weibull = {"node_mttf": 100 * DAY if policy == "erasure_coding" else 40 * DAY,
               "ttf_distribution": "weibull", "weibull_shape": 1.12}
    plain = simulate(stripe_scenario(policy, run={"estimator": "plain", "replications": 20000},
                                     failures=weibull)).summary["loss_estimate"]
    imp = simulate(stripe_scenario(policy, run={"replications": 20000}, failures=weibull)).summary
    assert imp["estimator"]["method"] == "hazard_scaling"
    imp = imp["loss_estimate"]
    assert plain["losses_observed"] >= 100, plain
    assert abs(plain["probability"] - imp["probability"]) <= Z99 * math.hypot(plain["std_error"], imp["std_error"])
    assert plain["interval_99"][0] <= imp["probability"] <= plain["interval_99"][1]
    assert imp["interval_99"][0] <= plain["probability"] <= imp["interval_99"][1]


def test_a_detection_delay_makes_the_chain_not_markov_and_hazard_scaling_agrees_with_plain():
    # Repair = 1 h detection + Exp(1 d): plain and hazard scaling must agree (exponential lifetimes).
    failures = {"node_mttf": 100 * DAY, "detection_timeout": 3600}
    plain = simulate(stripe_scenario(run={"estimator": "plain", "replications": 20000},
                                     failures=failures)).summary["loss_estimate"]
    imp = simulate(stripe_scenario(run={"replications": 20000}, failures=failures)).summary
    assert imp["estimator"]["method"] == "hazard_scaling"
    imp = imp["loss_estimate"]
    assert abs(plain["probability"] - imp["probability"]) <= Z99 * math.hypot(plain["std_error"], imp["std_error"])


def test_factor_one_everywhere_is_plain_monte_carlo_with_weight_one():
    stripe = Stripe("erasure_coding", 5, 3, Lifetime(30 * DAY, 1.5), False, DAY, 0.0, 100 * DAY)
    out = replicate(stripe, 3000, np.random.default_rng(0), "plain")
    assert out["method"] == "plain" and (out["weight"] == 1).all() and out["lost"].any()
    assert np.all(out["loss_time_s"][out["lost"]] <= 100 * DAY)


def test_hazard_factors_bias_degraded_states_and_never_slow_failures():
    stripe = Stripe("erasure_coding", 5, 3, Lifetime(3650 * DAY), False, DAY, 0.0, 365 * DAY)
    f = stripe.hazard_factors(0.2)
    assert len(f) == 3 and (f >= 1).all()
    # With i down: f (n - i) / mttf against i / mttr gives odds 0.2 / 0.8.
    for i in (1, 2):
        assert f[i] * (5 - i) / 3650 / (f[i] * (5 - i) / 3650 + i) == pytest.approx(0.2)
    assert f[0] == pytest.approx(2 * 3650 / (5 * 365))


def test_a_stripe_is_lost_only_with_more_than_its_tolerance_down():
    # Replication of 1 copy (need 1 of 1): the first failure is the loss, at the lifetime itself.
    stripe = Stripe("replication", 1, 1, Lifetime(10 * DAY), True, DAY, 0.0, 5 * DAY)
    out = replicate(stripe, 20000, np.random.default_rng(1), "plain")
    assert out["lost"].mean() == pytest.approx(1 - math.exp(-0.5), abs=0.012)
    assert (out["events"][out["lost"]] == 1).all()
