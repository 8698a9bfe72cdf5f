"""The shared lifetime distributions: the configured mean, the cumulative hazard and its inverse, and the
world's failure processes drawing from the same object."""

import math

import numpy as np
import pytest

from tests.builders import config
from vstack_sim.model.lifetimes import Lifetime
from vstack_sim.model.simulation import Simulation


@pytest.mark.parametrize("shape", [None, 0.7, 1.12, 3.0])
def test_draws_have_the_configured_mean_and_survive_as_exp_of_minus_the_cumulative_hazard(shape):
    life = Lifetime(100.0, shape)
    draws = life.draw(np.random.default_rng(0), 200_000)
    assert draws.mean() == pytest.approx(100.0, rel=0.01)
    for t in (30.0, 100.0, 200.0):
        assert np.mean(draws > t) == pytest.approx(math.exp(-float(life.cumulative_hazard(t))), abs=0.004)
    assert life.age_at_hazard(life.cumulative_hazard(57.0)) == pytest.approx(57.0)


def test_equilibrium_ages_have_the_stationary_excess_mean_and_start_new_is_age_zero():
    life = Lifetime(100.0, 2.0)
    ages = life.age(np.random.default_rng(1), False, 200_000)
    # E[age] at equilibrium = E[X^2] / (2 E[X]); for Weibull shape 2, E[X^2] = scale^2.
    assert ages.mean() == pytest.approx(life.scale ** 2 / 200.0, rel=0.01)
    assert (life.age(np.random.default_rng(1), True, 5) == 0).all()
    assert (Lifetime(100.0).age(np.random.default_rng(1), False, 5) == 0).all()


def test_the_world_draws_node_lifetimes_from_the_scenarios_lifetime():
    cfg = config({"failures": {"node_mttf": "30d", "ttf_distribution": "weibull", "weibull_shape": 1.5}})
    world = Simulation(cfg).build().world
    assert world.clock.lifetimes["node"] == Lifetime(30 * 86400.0, 1.5) == Lifetime.node(cfg.failures)
    drawn = world.clock.draw("node", np.random.default_rng(3), first=False)
    assert drawn == Lifetime.node(cfg.failures).draw(np.random.default_rng(3))
