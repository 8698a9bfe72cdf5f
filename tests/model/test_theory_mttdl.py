"""Mean time to data loss of one stripe, simulated through simulate(), against the exact birth-death chain.

One stripe on a cluster with spare nodes; exponential permanent node failures
(rate lambda per node); detection 0; an empty replacement at once; no repair
cap; exponential repair times (rate mu per failed slot, from the `repairs`
stream). That is the chain with parallel repair, so the sample mean of the
time to first loss over a fixed set of seeds must fall inside the 99 %
confidence interval around the exact MTTDL, using the chain's exact standard
deviation.
"""

import functools
import math

import numpy as np
import pytest

from vstack_sim.analysis.theory import mttdl, ttdl_std
from vstack_sim.model.simulation import simulate
from vstack_sim.scenario.schema import Config
from vstack_sim.validation.durability_checks import MTTR_H as MTTR
from vstack_sim.validation.durability_checks import Z99, mttdl_scenario

# The MTTDL chains over many seeds: two and a half minutes of one core; CI runs them.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("mttdl")]

RUNS = 150   # CI's size; `vstack-sim check-model --full` runs the same chains over 300 seeds (the interval uses RUNS)


def stripe_config(policy: str, ratio: float, seed: int) -> Config:
    """The scenario `vstack-sim check-model` runs (one source): the chain with parallel repair."""
    return Config.model_validate(mttdl_scenario(policy, seed, ratio=ratio))


def simulated_ttdl(policy: str, ratio: float) -> np.ndarray:
    out = []
    for seed in range(RUNS):
        s = simulate(stripe_config(policy, ratio, seed)).summary
        assert s["durability"]["chunks_lost"] == 1
        out.append(s["durability"]["first_loss_s"])
    return np.array(out)


@functools.cache
def chain_sample(policy: str, ratio: float) -> np.ndarray:
    return simulated_ttdl(policy, ratio)


class Samples:
    """Each chain's sample, drawn when a test first needs it and kept for the worker's process: the suite's two
    workers split this module's tests, and a module fixture drawing all four chains ran in both."""

    def __getitem__(self, key: tuple[str, float]) -> np.ndarray:
        return chain_sample(*key)


@pytest.fixture(scope="module")
def samples():
    return Samples()


@pytest.mark.parametrize("policy,n", [("replication", 3), ("erasure_coding", 5)])
@pytest.mark.parametrize("ratio", [10, 30])
def test_mttdl_within_99_percent_interval_of_exact_chain(samples, policy, n, ratio):
    lam, mu = 1.0 / (ratio * MTTR), 1.0 / MTTR
    exact = mttdl(n, 2, lam, mu)
    half_width = Z99 * ttdl_std(n, 2, lam, mu) / math.sqrt(RUNS)
    mean = samples[(policy, ratio)].mean()
    assert abs(mean - exact) <= half_width, (mean, exact, half_width)


@pytest.mark.parametrize("ratio,chain_ratio", [(10, 7.45), (30, 9.03)])
def test_replication_over_rs32_mttdl_ratio_matches_chain(samples, ratio, chain_ratio):
    lam, mu = 1.0 / (ratio * MTTR), 1.0 / MTTR
    exact_rep, exact_ec = mttdl(3, 2, lam, mu), mttdl(5, 2, lam, mu)
    assert exact_rep / exact_ec == pytest.approx(chain_ratio, abs=0.005)
    rep, ec = samples[("replication", ratio)], samples[("erasure_coding", ratio)]
    sim_ratio = rep.mean() / ec.mean()
    # Delta method: relative standard errors of the two independent means add in quadrature.
    rel_se = math.hypot(ttdl_std(3, 2, lam, mu) / exact_rep, ttdl_std(5, 2, lam, mu) / exact_ec) / math.sqrt(RUNS)
    assert abs(sim_ratio / (exact_rep / exact_ec) - 1) <= Z99 * rel_se, (sim_ratio, exact_rep / exact_ec, rel_se)
