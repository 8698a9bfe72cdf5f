"""P(loss within a mission) of one stripe through simulate(), against the exact transient birth-death chain.

Issue 26's validation: one RS(3,2) stripe (and one of 3 replicas), node MTTF 3,650 d, MTTR 1 d, parallel
repair (rate i mu with i slots down), a mission of 365 d. The exact probability is [exp(QT)] from "all up"
to "lost", computed here from the generator with scipy's expm; the issue gives 2.239e-7 and 2.240e-8.
Importance sampling (balanced failure biasing) with 4,000 replications in one simulate() call must hold the
exact value inside its 99 % interval with a relative error of at most 10 %, and so must hazard scaling on
Weibull lifetimes of shape 1 (the same lifetimes, written as Weibull). Each replication's weight is in the
result's ``replications`` table.
"""

import math

import numpy as np
import pytest
from scipy.linalg import expm

from tests.builders import DAY, stripe_scenario
from vstack_sim.model.simulation import simulate

Z99 = 2.5758


def exact_loss_probability(width: int, tolerance: int, mttf: float, mttr: float, mission: float) -> float:
    """[exp(Q T)]_{0, lost} of the chain with i slots down, failure rate (width - i)/mttf, repair i/mttr."""
    size = tolerance + 2
    q = np.zeros((size, size))
    for i in range(tolerance + 1):
        q[i, i + 1] = (width - i) / mttf
        if i:
            q[i, i - 1] = i / mttr
        q[i, i] = -q[i].sum()
    return float(expm(q * mission)[0, -1])


EXACT = {"erasure_coding": exact_loss_probability(5, 2, 3650 * DAY, DAY, 365 * DAY),
         "replication": exact_loss_probability(3, 2, 3650 * DAY, DAY, 365 * DAY)}


def test_the_chain_gives_the_issues_numbers():
    assert EXACT["erasure_coding"] == pytest.approx(2.239e-7, rel=5e-4)
    assert EXACT["replication"] == pytest.approx(2.240e-8, rel=5e-4)
    year = 365 * DAY
    assert exact_loss_probability(5, 2, 50 * year, DAY, year) == pytest.approx(1.793e-9, rel=5e-4)


@pytest.mark.parametrize("policy", ["erasure_coding", "replication"])
@pytest.mark.parametrize("lifetimes", [{}, {"ttf_distribution": "weibull", "weibull_shape": 1.0}])
def test_importance_estimate_holds_the_exact_value_with_relative_error_at_most_10_percent(policy, lifetimes):
    s = simulate(stripe_scenario(policy, run={"replications": 4000 if not lifetimes else 50000},
                                 failures=lifetimes)).summary
    est = s["loss_estimate"]
    assert s["estimator"]["method"] == ("hazard_scaling" if lifetimes else "balanced_failure_biasing")
    lo, hi = est["interval_99"]
    assert lo <= EXACT[policy] <= hi, (est, EXACT[policy])
    assert est["relative_error"] <= 0.10, est


def test_weibull_shape_1_matches_the_exponential_estimate():
    runs = [simulate(stripe_scenario(failures=f, run={"replications": 50000})).summary["loss_estimate"]
            for f in ({}, {"ttf_distribution": "weibull", "weibull_shape": 1.0})]
    (a, b) = runs
    assert abs(a["probability"] - b["probability"]) <= Z99 * math.hypot(a["std_error"], b["std_error"])


def test_each_replication_records_its_weight_and_the_estimate_is_their_mean():
    r = simulate(stripe_scenario(run={"replications": 500}))
    table = r.replications
    assert len(table) == 500 and list(table.columns) == ["replication", "lost", "loss_time_s", "weight", "events"]
    assert r.summary["loss_estimate"]["probability"] == pytest.approx((table["lost"] * table["weight"]).mean())
    assert (table["weight"] > 0).all() and table.loc[~table["lost"], "loss_time_s"].isna().all()
    assert "biased measure" in r.summary["outputs_note"] and "reads" not in r.summary


def test_plain_replications_weigh_one_and_count_losses():
    # An inflated rate (MTTF 20 d) where plain Monte Carlo sees losses: every weight is 1.
    r = simulate(stripe_scenario(run={"estimator": "plain", "replications": 2000, "duration": 30 * DAY},
                                 failures={"node_mttf": 20 * DAY}))
    exact = exact_loss_probability(5, 2, 20 * DAY, DAY, 30 * DAY)
    est = r.summary["loss_estimate"]
    assert (r.replications["weight"] == 1).all()
    assert est["losses_observed"] == int(r.replications["lost"].sum()) >= 100
    assert est["interval_99"][0] <= exact <= est["interval_99"][1], (est, exact)


def test_the_same_seed_gives_the_same_estimate_and_another_seed_another():
    a, b = (simulate(stripe_scenario(run={"replications": 300})) for _ in range(2))
    c = simulate(stripe_scenario(run={"replications": 300, "seed": 2}))
    assert a.summary == b.summary and a.replications.equals(b.replications)
    assert c.summary["loss_estimate"] != a.summary["loss_estimate"]
