"""The redundancy and migration sections: the new policies' settings, the off-peak windows, their errors
(naming the key), and the policy object built from a scenario."""

import pytest
import yaml
from pydantic import ValidationError

from vstack_sim.scenario.emit import to_yaml
from vstack_sim.scenario.files import load_scenario
from vstack_sim.scenario.policy_schema import MigrationConfig, RedundancyConfig, policy_from_config
from vstack_sim.scenario.schema import Config
from vstack_sim.scenario.sections import validation_error_line
from vstack_sim.system.policies import POLICIES, make_policy

DAY = 86400.0


def error(data):
    with pytest.raises(ValidationError) as e:
        Config.model_validate(data)
    return validation_error_line(e.value)


def red(**settings):
    return Config.model_validate({"redundancy": settings}).redundancy


def test_the_sections_are_still_importable_from_the_schema():
    from vstack_sim.scenario import schema

    assert schema.RedundancyConfig is RedundancyConfig and schema.MigrationConfig is MigrationConfig


def test_every_registered_policy_is_a_scenario_choice():
    assert set(RedundancyConfig.model_fields["policy"].annotation.__args__) == set(POLICIES)


def test_defaults_follow_the_sources_and_match_the_system_defaults():
    r = RedundancyConfig()
    assert r.policy == "adaptive"                                   # the old name: old summaries read the same
    assert r.age_threshold == 30 * DAY and r.quiet_for == 30 * DAY
    assert (r.reads_promote, r.reads_demote, r.reads_max_replicated) == (1000, 500, 1.0)
    for name in ("age", "reads", "quiet"):
        assert repr(policy_from_config(r.model_copy(update={"policy": name}))) == repr(make_policy(name))
    assert MigrationConfig().windows == ()


def test_policy_from_config_passes_every_setting():
    assert repr(policy_from_config(red(policy="age", age_threshold="45d"))) == "AgePolicy(age_threshold=3888000.0)"
    assert repr(policy_from_config(red(policy="quiet", quiet_for="12h"))) == "QuietPolicy(quiet_for=43200.0)"
    got = policy_from_config(Config.model_validate({
        "redundancy": {"policy": "reads", "reads_promote": 40, "reads_demote": 4, "reads_max_replicated": 0.3},
        "migration": {"popularity_measure": "windowed"}}).redundancy)
    assert repr(got) == "ReadsPolicy(promote=40, demote=4, max_replicated=0.3)"
    assert repr(policy_from_config(red(policy="threshold", popularity_threshold=70, hysteresis=0.5))) == \
        "ThresholdPolicy(threshold=70, hysteresis=0.5, name='threshold')"
    assert policy_from_config(red()).name == "adaptive"


@pytest.mark.parametrize("policy", ["threshold", "age", "quiet"])
def test_new_policies_can_assign_both_modes(policy):
    assert Config.model_validate({"redundancy": {"policy": policy}}).assignable_modes() == \
        {"replication", "erasure_coding"}


def test_threshold_prices_ingest_as_adaptive_does():
    assert Config.model_validate({"redundancy": {"policy": "threshold"}}).ingest_physical_bytes() == \
        Config().ingest_physical_bytes()


def test_settings_of_another_policy_are_accepted_silently():
    # As a scenario's other policy-specific keys: a sweep over policies can keep one file.
    r = red(policy="threshold", reads_promote=10, reads_demote=50, age_threshold="1d")
    assert (r.reads_promote, r.reads_demote) == (10, 50)


WINDOWED = {"migration": {"popularity_measure": "windowed"}}


@pytest.mark.parametrize("data, expected", [
    ({"redundancy": {"policy": "reads"}},
     "migration.popularity_measure: the reads policy counts views in migration.window, so it needs windowed, "
     "got cumulative"),
    ({"redundancy": {"policy": "reads", "reads_promote": 5, "reads_demote": 5}, **WINDOWED},
     "redundancy.reads_demote: 5 must be below redundancy.reads_promote (5)"),
    ({"redundancy": {"policy": "reads", "reads_promote": 0, "reads_demote": 0}, **WINDOWED},
     "redundancy.reads_promote:"),
    ({"redundancy": {"reads_max_replicated": 1.5}}, "redundancy.reads_max_replicated:"),
    ({"redundancy": {"reads_max_replicated": 0}}, "redundancy.reads_max_replicated:"),
    ({"redundancy": {"age_threshold": 0}}, "redundancy.age_threshold:"),
    ({"redundancy": {"quiet_for": "-1d"}}, "redundancy.quiet_for:"),
    ({"redundancy": {"policy": "coldest"}}, "redundancy.policy:"),
    ({"migration": {"windows": [[25, 3]]}}, "migration.windows.0: the start hour must be in [0, 24), got 25"),
    ({"migration": {"windows": [[22, 6], [3, 24.5]]}}, "migration.windows.1: the end hour must be in [0, 24]"),
    ({"migration": {"windows": [[5, 5]]}}, "migration.windows.0: start and end are both 5"),
    ({"migration": {"windows": [[22, True]]}}, "migration.windows.0.1: expected an hour of the day"),
    ({"migration": {"windows": [[22, "6am"]]}}, "migration.windows.0.1: expected an hour of the day"),
    ({"migration": {"windows": [[1, 2, 3]]}}, "migration.windows.0:"),
])
def test_errors_name_the_key(data, expected):
    assert error(data).startswith(expected)


def test_windows_take_fractions_wrap_midnight_and_may_end_at_24():
    m = Config.model_validate({"migration": {"windows": [[22.5, 6], [12, 24], [0, 1]]}}).migration
    assert m.windows == ((22.5, 6.0), (12.0, 24.0), (0.0, 1.0))


def test_new_keys_survive_the_resolved_yaml(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump({
        "redundancy": {"policy": "reads", "reads_promote": 9, "reads_demote": 2, "reads_max_replicated": 0.4},
        "migration": {"popularity_measure": "windowed", "windows": [[22, 6]]}}))
    config = load_scenario(path)
    again = tmp_path / "again.yaml"
    again.write_text(to_yaml(config))
    assert load_scenario(again) == config
