"""The one-stripe durability model's keys: what it accepts, and every key it cannot honour named in the error."""

import pytest
from pydantic import ValidationError

from tests.builders import merge, stripe_scenario
from vstack_sim.scenario.schema import Config
from vstack_sim.scenario.sections import validation_error_line


def error(data):
    with pytest.raises(ValidationError) as e:
        Config.model_validate(data)
    return validation_error_line(e.value)


def stripe_data(**over):
    return merge(stripe_scenario().model_dump(mode="json"), over)


def test_defaults_run_the_world_with_plain_estimation():
    run = Config().run
    assert (run.replications, run.estimator, run.failure_bias) == (0, "plain", None)


def test_a_one_stripe_scenario_is_accepted_with_either_estimator_and_a_bias():
    assert stripe_scenario(run={"estimator": "plain"}).run.estimator == "plain"
    assert stripe_scenario(run={"failure_bias": 0.3}).run.failure_bias == 0.3
    assert stripe_scenario("replication", failures={"ttf_distribution": "weibull"}).run.replications == 4000


@pytest.mark.parametrize("over,expected", [
    ({"run": {"replications": 0}}, "run.estimator: importance sampling weighs independent replications"),
    ({"run": {"replications": 1}}, "run.replications: an estimate with an interval needs at least 2"),
    ({"run": {"replications": 2_000_000}}, "run.replications: Input should be less than or equal to 1000000"),
    ({"run": {"failure_bias": 1}}, "run.failure_bias"),
    ({"run": {"estimator": "plain", "failure_bias": 0.3}}, "run.failure_bias: biases importance sampling only"),
    ({"run": {"estimator": "weighted"}}, "run.estimator"),
    ({"catalog": {"videos": 2}}, "catalog.videos: with run.replications 4000, the one-stripe durability model"),
    ({"catalog": {"chunks_per_video": 3}}, "catalog.videos:"),
    ({"catalog": {"chunk_weight": 4}}, "catalog.chunk_weight:"),
    ({"redundancy": {"policy": "adaptive"}}, "redundancy.policy: with run.replications 4000"),
    ({"failures": {"node_mttf": 0}}, "failures.node_mttf:"),
    ({"failures": {"permanent_fraction": 0.5}}, "failures.permanent_fraction:"),
    ({"failures": {"rack_mttf": "300d"}}, "failures.rack_mttf:"),
    ({"failures": {"disk_mttf": "300d"}}, "failures.disk_mttf:"),
    ({"failures": {"scheduled": [{"at": 5, "node": 0}]}}, "failures.scheduled:"),
    ({"repair": {"time_model": "io"}}, "repair.time_model: with run.replications 4000, the one-stripe durability "
                                       "model draws repair times: it needs exponential"),
    ({"repair": {"streams_per_node": 2}}, "repair.streams_per_node:"),
    ({"workload": {"view_rate": 1}}, "workload.view_rate:"),
    ({"codec": {"verify_payloads": True}}, "codec.verify_payloads:"),
])
def test_what_the_one_stripe_model_cannot_honour_is_refused_naming_the_key(over, expected):
    assert error(stripe_data(**over)).startswith(expected)


def test_importance_on_the_default_world_is_refused():
    assert error({"run": {"estimator": "importance"}}).startswith("run.estimator:")
    assert error({"run": {"estimator": "importance", "replications": 100}}).startswith("catalog.videos:")
