"""The lifetime clocks: a scaled life's end and its likelihood ratio by hand, and the weighted estimate against
the real measure's when the scale follows the state."""

from __future__ import annotations

import math

import numpy as np
import pytest
import simpy

from vstack_sim.model.hazard_clock import ScaledHazardClock
from vstack_sim.model.lifetimes import Lifetime


def _one_life(life: Lifetime, plan, seed: int = 3, until: float = 1e9):
    """One component under ``plan``: (when it failed or None, the weight at the end)."""
    env = simpy.Environment()
    clock = ScaledHazardClock(env, {"node": life}, {"node": 1}, True, plan)
    clock.replan()
    out = {}

    def proc():
        yield clock.life("node", 0, np.random.default_rng(seed), first=True)
        out["t"] = env.now

    env.process(proc())
    env.run(until=until)
    return out.get("t"), clock.weight_now(), clock


def test_a_constant_scale_ends_the_life_at_budget_over_scale_and_weighs_it_by_hand():
    g, mean = 4.0, 100.0
    budget = np.random.default_rng(3).exponential()      # the clock's one draw for an exponential life at age 0
    t, w, _ = _one_life(Lifetime(mean), lambda now: (np.array([g]), math.inf))
    assert t == pytest.approx(budget * mean / g, rel=1e-12)
    # h / h' = 1 / g at the failure, exp(-int (h - h')) = exp((g - 1) t / mean) over its life.
    assert w == pytest.approx(math.exp((g - 1.0) * t / mean) / g, rel=1e-12)


def test_a_weibull_life_under_a_scale_ends_where_the_scaled_cumulative_hazard_meets_the_budget():
    g, life = 3.0, Lifetime(100.0, 1.5)
    budget = np.random.default_rng(3).exponential()
    t, w, _ = _one_life(life, lambda now: (np.array([g]), math.inf))
    assert t == pytest.approx(life.scale * (budget / g) ** (1 / 1.5), rel=1e-12)
    assert w == pytest.approx(math.exp((g - 1.0) * (t / life.scale) ** 1.5) / g, rel=1e-12)


def test_a_scale_that_expires_mid_life_is_accrued_up_to_then_and_the_failure_is_weighed_at_the_real_hazard():
    g, mean, t1 = 50.0, 100.0, 0.01
    budget = np.random.default_rng(3).exponential()
    assert budget > g * t1 / mean      # the life outlasts the scaled part

    def plan(now):
        return (np.array([g]), t1) if now < t1 else (np.array([1.0]), math.inf)

    t, w, clock = _one_life(Lifetime(mean), plan)
    assert t == pytest.approx(t1 + (budget - g * t1 / mean) * mean, rel=1e-9)
    assert w == pytest.approx(math.exp((g - 1.0) * t1 / mean), rel=1e-9)   # failed at scale 1: no 1/g
    assert clock.failures == 1 and clock.peak_scale == g


def test_a_plan_that_slows_a_hazard_is_refused_naming_the_plan():
    with pytest.raises(ValueError, match="plan: one finite scale >= 1"):
        _one_life(Lifetime(1.0), lambda now: (np.array([0.5]), math.inf))


def _two_of_three(seed: int, scales, mission: float = 1.0, repair: float = 0.2):
    """Three components of mean life 1; the system is lost when two are down at once; a failed one is repaired in
    Exp(repair). The scale follows how many are down (``scales[down]``). Returns (lost, weight at the loss or the
    mission's end). It stops at the loss, as run.stop_at_first_loss does: run on, the two down stay down under the
    scale of a degraded system to the mission's end, whose weights (unbiased, but heavy-tailed) gave 0.31 for 0.42
    and a sample standard error a third of the real one."""
    env = simpy.Environment()
    rng = np.random.default_rng(seed)
    state = {"down": 0, "lost": False}
    clock = ScaledHazardClock(env, {"node": Lifetime(1.0)}, {"node": 3}, True,
                              lambda now: (np.full(3, scales[min(state["down"], 1)]), math.inf))
    clock.replan()
    lost = env.event()

    def component(i):
        first = True
        while True:
            yield clock.life("node", i, rng, first)
            first = False
            state["down"] += 1
            if state["down"] >= 2:
                state["lost"] = True
                lost.succeed()
                return
            clock.replan()
            yield env.timeout(rng.exponential(repair))
            state["down"] -= 1
            clock.replan()

    for i in range(3):
        env.process(component(i))
    env.run(until=env.any_of([lost, env.timeout(mission)]))
    return state["lost"], clock.weight_now()


def test_weights_make_the_scaled_estimate_agree_with_the_real_one():
    """The same probability three ways: plain, and two plans that speed failures up while degraded (the
    second from all up as well). Each weighted mean must sit in the plain estimate's 99 % band, widened by its
    own standard error (3,000 replications each)."""
    n = 3000
    plain = np.array([_two_of_three(s, (1.0, 1.0))[0] for s in range(n)], dtype=float)
    p, se_p = plain.mean(), plain.std(ddof=1) / math.sqrt(n)
    assert 0.25 < p < 0.6
    for scales in ((1.0, 6.0), (2.0, 6.0)):
        x = np.array([w if lost else 0.0 for lost, w in (_two_of_three(s + n, scales) for s in range(n))])
        est, se = x.mean(), x.std(ddof=1) / math.sqrt(n)
        assert abs(est - p) < 2.576 * math.hypot(se, se_p), (scales, est, p)
