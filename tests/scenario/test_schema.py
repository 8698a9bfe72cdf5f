"""The scenario schema: units, defaults, and errors that name the key path."""

import pytest
from pydantic import ValidationError

from vstack_sim.scenario.files import load_scenario
from vstack_sim.scenario.schema import Config
from vstack_sim.scenario.sections import validation_error_line
from vstack_sim.scenario.units import parse_duration, parse_frequency, parse_rate, parse_size


def test_units_convert_to_base_units():
    assert parse_size("2MiB") == 2 * 2**20 and parse_size("1.5TB") == 1_500_000_000_000
    assert parse_duration("30d") == 30 * 86400 and parse_duration("15min") == 900 and parse_duration("500ms") == 0.5
    assert parse_rate("200MB/s") == 200e6 and parse_rate("1Gbps") == 125e6
    assert parse_frequency("600/min") == 10.0


@pytest.mark.parametrize("bad", ["2MB/x", "fast", "1.5B"])
def test_bad_units_raise(bad):
    with pytest.raises(ValueError):
        parse_rate(bad) if "/" in bad or bad == "fast" else parse_size(bad)


def error(data):
    with pytest.raises(ValidationError) as e:
        Config.model_validate(data)
    return validation_error_line(e.value)


def test_defaults_are_the_seed_catalog_on_a_small_cluster_with_failures():
    c = Config()
    assert (c.name, c.catalog.videos, c.catalog.chunks_per_video, c.catalog.chunk_size) == ("default", 1000, 50, 2**21)
    assert c.catalog.hot_fraction == 0.05 and c.failures.node_mttf > 0 and c.failures.detection_timeout == 900


@pytest.mark.parametrize("data,expected", [
    ({"failures": {"node_mttf": "-3d"}}, "failures.node_mttf: must not be negative"),
    ({"catalog": {"vidoes": 3}}, "catalog.vidoes: unknown key"),
    ({"cluster": {"disk_bandwidth": "2MB/x"}}, "cluster.disk_bandwidth: not a byte rate"),
    ({"cluster": {"nodes": 4}}, "redundancy.data_shards: RS(3,2) needs 5 distinct nodes"),
    ({"cluster": {"nodes": 4}, "redundancy": {"policy": "replication", "replication_factor": 5}},
     "redundancy.replication_factor: 5 replicas need 5 distinct nodes"),
    ({"cluster": {"racks": 30}}, "cluster.racks: 30 racks but only 20 nodes"),
    ({"cluster": {"node_capacity": "1GB"}}, "cluster.node_capacity: the catalog needs"),
    ({"name": "../x"}, "name: '../x' is not a safe folder name"),
    ({"workload": {"flash_crowds": [{"video": 5000, "start": 0, "duration": 1, "view_rate": 1}]}},
     "workload.flash_crowds.0.video"),
    ({"reads": {"hedge_withdraw": "later"}}, "reads.hedge_withdraw: Input should be 'exact' or 'keep'"),
    ({"reads": {"hedge_after": "p95"}, "cluster": {"cpu_cores_per_node": 4}},
     "reads.hedge_withdraw: exact withdraws a losing request at its disk, which needs no CPU stage"),
])
def test_errors_name_the_key_path(data, expected):
    assert error(data).startswith(expected)


def test_keep_runs_what_exact_cannot_and_exact_needs_hedging():
    keep = {"hedge_after": "p95", "hedge_withdraw": "keep"}
    Config.model_validate({"reads": keep, "cluster": {"cpu_cores_per_node": 4}, "io": {"scheduler": "mclock"}})
    Config.model_validate({"cluster": {"cpu_cores_per_node": 4}})      # no hedging: nothing to withdraw


def test_zero_means_off_where_allowed():
    c = Config.model_validate({"failures": {"node_mttf": 0}, "workload": {"view_rate": 0}})
    assert c.failures.node_mttf == 0 and c.workload.view_rate == 0


def test_config_is_frozen():
    with pytest.raises(ValidationError):
        Config().run.seed = 3


def test_ingest_bytes_of_the_capacity_check_equal_the_ledger_at_ingest():
    from vstack_sim.model.simulation import Simulation

    for weight, policy in ((1, "adaptive"), (7, "adaptive"), (1, "erasure_coding")):
        data = {"catalog": {"videos": 120, "chunks_per_video": 4, "chunk_weight": weight},
                "redundancy": {"policy": policy}, "workload": {"view_rate": 0}}
        cfg = Config.model_validate(data)
        start = Simulation(cfg).build().storage_initial
        assert cfg.ingest_physical_bytes() == start["total_physical_bytes"], (weight, policy)


@pytest.mark.parametrize("key, value, fragment", [
    ("catalog.total_views", 2**53 + 1, "catalog.total_views: Input should be less than or equal to 9007199254740992"),
    ("redundancy.popularity_threshold", 2**53, "redundancy.popularity_threshold: Input should be less than"),
    ("redundancy.popularity_threshold", 2**63 - 1, "redundancy.popularity_threshold: Input should be less than"),
])
def test_view_counts_in_a_scenario_are_bounded_by_2_to_the_53(key, value, fragment):
    # Issue 19: views are shared out in float64 and compared in int64; 2^63 - 1 ended in an OverflowError.
    with pytest.raises(ValueError, match=fragment):
        load_scenario(None, [f"{key}={value}", "catalog.starting_views=total"])
    load_scenario(None, [f"{key}={2**53 - 1}", "catalog.starting_views=total"])


def test_repair_semantics_accept_their_choices_and_a_bad_one_names_the_key():
    for restart in ("restart", "resume", "complete"):
        for per in ("job", "failure"):
            c = Config.model_validate({"repair": {"restart": restart, "exponential_per": per}})
            assert (c.repair.restart, c.repair.exponential_per) == (restart, per)
    assert error({"repair": {"restart": "retry"}}).startswith("repair.restart: ")
    assert error({"repair": {"exponential_per": "node"}}).startswith("repair.exponential_per: ")
