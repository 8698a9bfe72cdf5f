"""A stored scenario from before a rule's key existed is read with the rule it ran under."""

from vstack_sim.scenario.legacy import RULES_BEFORE_READ_PATH, rules_for


def test_a_scenario_without_the_read_path_keys_ran_under_the_old_rules():
    assert rules_for({"cluster": {"nodes": 20}}) == RULES_BEFORE_READ_PATH
    assert rules_for({"reads": {"failure_timeout": 5.0}, "cache": {}}) == {
        "reads.replica_choice": "oracle", "repair.source_choice": "oracle",
        "reads.failure_detection": 0, "cache.capacity": 0}


def test_a_scenario_with_every_key_keeps_its_own():
    full = {"reads": {"replica_choice": "random", "failure_timeout": 5.0, "failure_detection": 20.0},
            "repair": {"source_choice": "random"}, "cache": {"capacity": 0}}
    assert rules_for(full) == {}
