"""The prices section and the size, cost and predictive settings of the redundancy section: defaults with their
sources, the policy object built from a scenario with every setting, and the errors naming their key."""

import pytest
from pydantic import ValidationError

from vstack_sim.scenario.policy_schema import policy_from_config
from vstack_sim.scenario.prices_schema import Prices
from vstack_sim.scenario.schema import Config
from vstack_sim.scenario.sections import validation_error_line
from vstack_sim.system.cost_policies import PriceTable
from vstack_sim.system.policies import make_policy
from vstack_sim.system.predictive_policy import PredictivePolicy

DAY = 86400.0
WINDOWED = {"popularity_measure": "windowed"}


def error(data):
    with pytest.raises(ValidationError) as e:
        Config.model_validate(data)
    return validation_error_line(e.value)


def test_prices_default_to_s3_list_prices_and_match_the_system_defaults():
    p = Prices()
    assert (p.storage_per_gb_month, p.request, p.moved_per_gb) == (0.023, 4e-7, 0.01)
    assert p.table() == PriceTable()
    assert Config().prices == p


def test_a_mode_priced_apart_keeps_the_common_price_for_the_other():
    table = Prices(storage_per_gb_month=0.02, storage_per_gb_month_by_mode={"erasure_coding": 0.01}).table()
    assert (table.storage_replication, table.storage_erasure_coding) == (0.02, 0.01)


def test_redundancy_defaults_follow_their_sources():
    red = Config().redundancy
    assert red.min_ec_bytes == 128 * 1024 and red.cost_horizon == 30 * DAY
    assert (red.predictive_alpha, red.predictive_beta) == (0.5, 0.5)
    assert repr(make_policy("size")) == repr(policy_from_config(red.model_copy(update={"policy": "size"})))
    assert repr(make_policy("predictive")) == repr(policy_from_config(red.model_copy(update={"policy": "predictive"})))


def test_the_policy_object_gets_every_setting_it_reads():
    cfg = Config.model_validate({
        "catalog": {"chunk_size": "1MiB"},
        "redundancy": {"policy": "cost", "replication_factor": 2, "data_shards": 4, "parity_shards": 1,
                       "cost_horizon": "60d"},
        "migration": {**WINDOWED, "window": "1d"},
        "prices": {"storage_per_gb_month": 0.03, "request": 1e-6, "moved_per_gb": 0.02}})
    policy = cfg.policy_object()
    g = policy.geometry
    assert (g.replication_factor, g.erasure_data_shards, g.erasure_parity_shards, g.chunk_size) == (2, 4, 1, 2**20)
    assert (policy.window, policy.horizon) == (DAY, 60 * DAY)
    assert policy.prices == PriceTable(0.03, 0.03, 1e-6, 0.02)
    size = Config.model_validate({"redundancy": {"policy": "size", "min_ec_bytes": "1MiB", "popularity_threshold": 9,
                                                 "hysteresis": 0.5}}).policy_object()
    assert repr(size) == "SizePolicy(min_ec_bytes=1048576, base=ThresholdPolicy(threshold=9, hysteresis=0.5, " \
                         "name='threshold'))"
    pred = Config.model_validate({"redundancy": {"policy": "predictive", "popularity_threshold": 100,
                                                 "hysteresis": 0.2, "predictive_alpha": 0.25,
                                                 "predictive_beta": 0}}).policy_object()
    assert isinstance(pred, PredictivePolicy)
    assert repr(pred) == "PredictivePolicy(threshold=100, cold_threshold=80, alpha=0.25, beta=0.0)"


@pytest.mark.parametrize("policy", ["size", "cost", "predictive"])
def test_the_new_policies_can_assign_both_modes(policy):
    cfg = Config.model_validate({"redundancy": {"policy": policy}, "migration": WINDOWED})
    assert cfg.assignable_modes() == {"replication", "erasure_coding"}


@pytest.mark.parametrize("data, line", [
    ({"redundancy": {"policy": "cost"}},
     "migration.popularity_measure: the cost policy counts views in migration.window, so it needs windowed, "
     "got cumulative"),
    ({"prices": {"request": -1}}, "prices.request: Input should be greater than or equal to 0"),
    ({"prices": {"storage_per_gb_month_by_mode": {"pool": 0.01}}},
     "prices.storage_per_gb_month_by_mode.pool: Input should be 'replication' or 'erasure_coding'"),
    ({"prices": {"storage_per_gb_month_by_mode": {"erasure_coding": float("inf")}}},
     "prices.storage_per_gb_month_by_mode.erasure_coding: Input should be a finite number"),
    ({"redundancy": {"min_ec_bytes": "-1KiB"}}, "redundancy.min_ec_bytes:"),
    ({"redundancy": {"cost_horizon": 0}}, "redundancy.cost_horizon: Input should be greater than 0"),
    ({"redundancy": {"predictive_alpha": 0}}, "redundancy.predictive_alpha: Input should be greater than 0"),
    ({"redundancy": {"predictive_beta": 1.5}}, "redundancy.predictive_beta: Input should be less than or equal to 1"),
])
def test_errors_name_the_key(data, line):
    assert error(data).startswith(line)
