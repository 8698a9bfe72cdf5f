"""Scenario files: loading, extends, --set overrides, one-line errors with file and line, the key reference."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel

from vstack_sim.scenario.emit import canonical_json, config_sha256, to_yaml
from vstack_sim.scenario.files import load_scenario
from vstack_sim.scenario.overrides import parse_set
from vstack_sim.scenario.reading import ScenarioError, shipped_scenarios
from vstack_sim.scenario.reference import schema_markdown, schema_rows
from vstack_sim.scenario.schema import Config

REPO = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def error_of(*args, **kw) -> str:
    with pytest.raises(ScenarioError) as info:
        load_scenario(*args, **kw)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_no_path_is_the_shipped_default_the_schemas_defaults_named_and_described():
    default = load_scenario()
    assert default.name == "default" and default.description.startswith("The V-Stack design's catalog")
    assert default.model_dump(exclude={"description"}) == Config().model_dump(exclude={"description"})
    assert load_scenario("default") == default


def test_units_are_converted_at_load(tmp_path):
    path = write(tmp_path, "s.yaml", "name: u\nrun: {duration: 2d}\ncatalog: {chunk_size: 1MiB}\n"
                                     "cluster: {disk_bandwidth: 200MB/s, client_bandwidth: 1Gbps}\n"
                                     "workload: {view_rate: 60/min}\n")
    cfg = load_scenario(path)
    assert cfg.run.duration == 172800.0
    assert cfg.catalog.chunk_size == 2**20
    assert cfg.cluster.disk_bandwidth == 200e6
    assert cfg.cluster.client_bandwidth == 125e6
    assert cfg.workload.view_rate == 1.0


def test_extends_deep_merges_mappings_relative_to_the_extending_file(tmp_path):
    write(tmp_path, "base/base.yaml", "name: base\ncluster: {nodes: 10, racks: 5}\n"
                                      "failures:\n  scheduled:\n    - {at: 1d, node: 1}\n    - {at: 2d, node: 2}\n")
    child = write(tmp_path, "child.yaml", "extends: base/base.yaml\nname: child\ncluster: {racks: 2}\n"
                                          "failures:\n  scheduled:\n    - {at: 3d, node: 3}\n")
    cfg = load_scenario(child)
    assert cfg.name == "child"
    assert (cfg.cluster.nodes, cfg.cluster.racks) == (10, 2)  # merged key by key
    assert [f.node for f in cfg.failures.scheduled] == [3]  # lists replace


def test_extends_chains_and_later_files_win(tmp_path):
    write(tmp_path, "a.yaml", "name: a\nrun: {seed: 1, duration: 1d}\n")
    write(tmp_path, "b.yaml", "extends: a.yaml\nrun: {seed: 2}\n")
    c = write(tmp_path, "c.yaml", "extends: b.yaml\nname: c\n")
    cfg = load_scenario(c)
    assert (cfg.name, cfg.run.seed, cfg.run.duration) == ("c", 2, 86400.0)


def test_set_overrides_parse_yaml_scalars(tmp_path):
    path = write(tmp_path, "s.yaml", "name: s\nfailures:\n  scheduled:\n    - {at: 1d, node: 1}\n"
                                     "redundancy:\n  overrides: {5: erasure_coding}\n")
    cfg = load_scenario(path, ["run.duration=3h", "codec.verify_payloads=true", "cluster.nodes=12",
                               "failures.scheduled.0.node=7", "redundancy.overrides.5=replication",
                               "description=two words"])
    assert cfg.run.duration == 3 * 3600.0
    assert cfg.codec.verify_payloads is True
    assert cfg.cluster.nodes == 12
    assert cfg.failures.scheduled[0].node == 7
    assert cfg.redundancy.overrides == {5: "replication"}  # same key, not a second "5"
    assert cfg.description == "two words"


def test_set_is_never_evaluated():
    # A Python expression is just a string to YAML; the schema then rejects it as a name.
    message = error_of(None, ["name=__import__('os').getcwd()"])
    assert message.startswith("--set name=")
    assert "not a safe folder name" in message


def test_seed_argument_replaces_run_seed():
    assert load_scenario(None, ["run.seed=5"], seed=9).run.seed == 9


def test_mapping_overrides_keep_python_values():
    cfg = load_scenario(None, {"run.duration": "1d", "catalog.videos": 10})
    assert (cfg.run.duration, cfg.catalog.videos) == (86400.0, 10)


@pytest.mark.parametrize("item", ["novalue", "=3", "a..b=1", "run.seed=[1"])
def test_malformed_set_items(item):
    with pytest.raises(ScenarioError, match="--set"):
        load_scenario(None, [item])


def test_parse_set_reads_the_value_as_yaml():
    assert parse_set("a.b=1.5") == (["a", "b"], 1.5)
    assert parse_set("a=off") == (["a"], False)
    assert parse_set("a=2MiB") == (["a"], "2MiB")
    assert parse_set("a=") == (["a"], None)


@pytest.mark.parametrize("item", ["name=evil\n", "name=evil\r", "name=\x1b[31mred", "name=ev\x00il"])
def test_a_name_with_a_control_character_is_refused_not_folded(item):
    # Issue 19: YAML folded 'evil\n' to 'evil' and the run went ahead; the name becomes a folder and a title.
    with pytest.raises(ScenarioError, match=r"^--set name: a name may not hold a control character"):
        load_scenario(None, [item])
    assert load_scenario(None, ["description=two\nlines"]).description == "two lines"


@pytest.mark.parametrize("name", ["evil\n", "a\tb", "x\x85"])
def test_names_that_become_folders_refuse_control_characters(name):
    from vstack_sim.experiments.sweep_files import make_sweep

    with pytest.raises(ValueError, match="not a safe folder name"):
        load_scenario(None, overrides={"name": name})
    with pytest.raises(ValueError, match="not a safe folder name"):
        make_sweep(load_scenario(None), grid={"catalog.videos": [10]}, name=name)


# --------------------------------------------------------------------------- errors


def test_malformed_yaml_names_file_and_line(tmp_path):
    path = write(tmp_path, "bad.yaml", "name: x\ncluster:\n  nodes: [1\n  racks: 2\n")
    message = error_of(path)
    assert "bad.yaml:" in message and "malformed YAML" in message


def test_unsafe_yaml_tags_are_refused(tmp_path):
    path = write(tmp_path, "evil.yaml", "name: !!python/object/apply:os.getcwd []\n")
    assert "malformed YAML" in error_of(path)


def test_top_level_must_be_a_mapping(tmp_path):
    assert "mapping" in error_of(write(tmp_path, "list.yaml", "- 1\n- 2\n"))


def test_empty_file_is_an_error_and_an_empty_mapping_the_default(tmp_path):
    for text in ("", "# nothing\n", "\n\n"):
        assert "empty scenario file" in error_of(write(tmp_path, "empty.yaml", text))
    assert load_scenario(write(tmp_path, "defaults.yaml", "{}\n")) == Config()


def test_a_shipped_scenario_loads_by_name_unless_a_file_of_that_name_exists(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert load_scenario("baseline").name == "baseline"
    assert load_scenario("baseline.yaml").name == "baseline"
    (tmp_path / "baseline").write_text("name: mine\n")
    assert load_scenario("baseline").name == "mine"
    assert "scenario file not found" in error_of("no-such-scenario")
    (tmp_path / "mine.yaml").write_text("extends: baseline\nname: mine\n")   # extends a shipped one by name
    assert load_scenario("mine.yaml").catalog.hot_fraction == load_scenario("baseline").catalog.hot_fraction


def test_a_set_that_makes_the_stripe_too_wide_is_named_not_a_line_of_the_file(tmp_path):
    path = write(tmp_path, "s.yaml", "cluster:\n  nodes: 20\nredundancy:\n  data_shards: 3\n  parity_shards: 2\n")
    message = error_of(path, ["cluster.nodes=4"])
    assert message.startswith("--set cluster.nodes=4: ") and "5 distinct nodes" in message
    # Without the --set, a file that is itself impossible still points at its line.
    bad = write(tmp_path, "bad.yaml", "cluster:\n  nodes: 4\n")
    assert error_of(bad).startswith(f"{bad}:2: ") or error_of(bad).startswith("bad.yaml:2: ")


def test_duplicate_key_is_an_error(tmp_path):
    message = error_of(write(tmp_path, "dup.yaml", "cluster:\n  nodes: 10\n  nodes: 12\n"))
    assert message == f"{tmp_path / 'dup.yaml'}:3: cluster.nodes: duplicate key" or message.endswith(
        "dup.yaml:3: cluster.nodes: duplicate key")


def test_unknown_key_suggests_the_close_one_with_its_line(tmp_path):
    path = write(tmp_path, "s.yaml", "name: s\ncluster:\n  nodes: 10\n  nodez: 4\n")
    message = error_of(path)
    assert message.endswith("s.yaml:4: cluster.nodez: unknown key (did you mean 'nodes'?)")


def test_unknown_top_level_key():
    assert error_of(None, ["clustr.nodes=3"]) == "--set clustr.nodes=3: clustr: unknown key (did you mean 'cluster'?)"


def test_unknown_key_without_close_match_lists_the_keys():
    message = error_of(None, ["run.zzzzzz=1"])
    assert "known keys: seed, duration, stop_at_first_loss" in message


def test_unknown_key_in_a_list_item(tmp_path):
    path = write(tmp_path, "s.yaml", "failures:\n  scheduled:\n    - at: 1d\n      nod: 3\n")
    assert error_of(path).endswith("s.yaml:4: failures.scheduled.0.nod: unknown key (did you mean 'node'?)")


def test_wrong_type(tmp_path):
    path = write(tmp_path, "s.yaml", "cluster:\n  nodes: many\n")
    message = error_of(path)
    assert message.endswith("s.yaml:2: cluster.nodes: Input should be a valid integer, "
                            "unable to parse string as an integer")


def test_bad_unit(tmp_path):
    path = write(tmp_path, "s.yaml", "name: s\ncluster:\n  disk_bandwidth: 2MB/x\n")
    assert error_of(path).endswith("s.yaml:3: cluster.disk_bandwidth: not a byte rate: '2MB/x' "
                                   "(use e.g. 200MB/s, 1Gbps)")


@pytest.mark.parametrize("item, key", [
    ("cluster.nodes=-3", "cluster.nodes"),
    ("catalog.videos=-1", "catalog.videos"),
    ("workload.view_rate=-2/s", "workload.view_rate"),
    ("failures.node_mttf=-1d", "failures.node_mttf"),
    ("repair.streams_per_node=-1", "repair.streams_per_node"),
])
def test_negative_counts_and_rates(item, key):
    message = error_of(None, [item])
    assert message.startswith(f"--set {item}: {key}: ")


@pytest.mark.parametrize("item", ["workload.view_rate=0", "failures.node_mttf=0", "repair.streams_per_node=0",
                                  "migration.check_interval=0", "failures.rack_mttf=0"])
def test_zero_means_off_and_is_allowed(item):
    load_scenario(None, [item])


def test_stripe_wider_than_the_cluster_points_at_the_nodes_line(tmp_path):
    path = write(tmp_path, "s.yaml", "name: s\ncluster:\n  nodes: 4\n  racks: 2\n")
    assert error_of(path).endswith("s.yaml:3: redundancy.data_shards: RS(3,2) needs 5 distinct nodes, "
                                   "cluster.nodes is 4")


def test_stripe_only_matters_for_a_mode_the_policy_can_assign():
    cfg = load_scenario(None, ["cluster.nodes=4", "cluster.racks=2", "redundancy.policy=replication"])
    assert cfg.cluster.nodes == 4
    assert "replication_factor" in error_of(None, ["cluster.nodes=2", "cluster.racks=2",
                                                    "redundancy.policy=replication"])
    # An override to erasure coding makes EC assignable again.
    assert "RS(3,2)" in error_of(None, ["cluster.nodes=4", "cluster.racks=2", "redundancy.policy=replication",
                                        "redundancy.overrides.0=erasure_coding"])


def test_racks_larger_than_nodes(tmp_path):
    path = write(tmp_path, "s.yaml", "cluster:\n  nodes: 6\n  racks: 7\n")
    assert error_of(path).endswith("s.yaml:3: cluster.racks: 7 racks but only 6 nodes")


def test_missing_file(tmp_path):
    assert error_of(tmp_path / "nope.yaml").endswith("nope.yaml: scenario file not found")


def test_missing_base_points_at_the_extends_line(tmp_path):
    path = write(tmp_path, "s.yaml", "name: s\nextends: gone.yaml\n")
    assert error_of(path).endswith("s.yaml:2: extends: gone.yaml: scenario file not found")


def test_extends_cycle(tmp_path):
    write(tmp_path, "a.yaml", "extends: b.yaml\n")
    write(tmp_path, "b.yaml", "extends: a.yaml\n")
    message = error_of(tmp_path / "a.yaml")
    assert "extends cycle" in message and "a.yaml -> " in message and "b.yaml -> " in message


def test_self_extends_is_a_cycle(tmp_path):
    assert "extends cycle" in error_of(write(tmp_path, "a.yaml", "extends: a.yaml\n"))


def test_error_in_base_file_names_the_base_line(tmp_path):
    write(tmp_path, "base.yaml", "name: base\nworkload:\n  view_rate: fast\n")
    child = write(tmp_path, "child.yaml", "extends: base.yaml\nname: child\n")
    assert "base.yaml:3: workload.view_rate: not a frequency" in error_of(child)


def test_unsafe_name():
    assert "not a safe folder name" in error_of(None, ["name=../escape"])


# --------------------------------------------------------------------------- resolved form and reference


def test_resolved_yaml_round_trips(tmp_path):
    cfg = load_scenario(None, ["name=rt", "failures.scheduled=[{at: 1d, rack: 1, kind: permanent}]",
                               "redundancy.overrides.3=replication"])
    text = to_yaml(cfg)
    assert "extends" not in text
    path = write(tmp_path, "resolved.yaml", text)
    assert load_scenario(path) == cfg
    assert yaml.safe_load(text)["run"]["duration"] == 7 * 86400.0  # every default filled in, base units


def test_config_sha256_is_of_the_canonical_json():
    a = load_scenario(None, ["run.duration=1d"])
    b = load_scenario(None, ["run.duration=86400"])
    assert canonical_json(a) == canonical_json(b)
    assert config_sha256(a) == config_sha256(b)
    assert config_sha256(a) != config_sha256(load_scenario(None, ["run.seed=1"]))


def test_schema_reference_lists_every_leaf_key_with_unit_and_default():
    rows = {r["key"]: r for r in schema_rows()}
    assert rows["catalog.chunk_size"]["unit"] == "bytes"
    assert rows["catalog.chunk_size"]["default"] == "2097152"
    assert rows["run.duration"]["unit"] == "seconds"
    assert rows["cluster.client_bandwidth"]["unit"] == "bytes/s"
    assert rows["workload.view_rate"]["unit"] == "1/s"
    assert rows["failures.scheduled[].duration"]["unit"] == "seconds"
    assert rows["failures.scheduled[].at"]["default"] == "required"
    assert rows["redundancy.policy"]["doc"].startswith("adaptive")
    for section in Config.model_fields:
        sub = getattr(Config(), section)
        if isinstance(sub, BaseModel):
            for key in type(sub).model_fields:
                assert f"{section}.{key}" in rows


def test_docs_scenario_reference_is_up_to_date():
    page = (REPO / "docs" / "scenario-reference.md").read_text()
    assert page == schema_markdown(), "regenerate: vstack-sim scenario --schema > docs/scenario-reference.md"



def test_shipped_scenarios_all_validate():
    paths = shipped_scenarios()
    assert {p.name for p in paths} >= {"seed.yaml", "baseline.yaml", "all-replication.yaml", "all-ec.yaml",
                                       "flash-crowd.yaml", "rack-failure.yaml"}
    for path in paths:
        text = path.read_text()
        assert text.startswith("#"), f"{path.name} is documented at its top"
        load_scenario(path)


# --------------------------------------------------------------------------- hostile files: one line, fast

BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{c}: &{c} [{', '.join(['*' + p] * 10)}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=False)) + "name: *i\n"


@pytest.mark.parametrize("text, fragment", [
    (BOMB, "expands to more than 100,000 values"),
    ("a: &a [*a]\n", "alias refers to its own anchor"),
    ("catalog: " + "[" * 5000 + "]" * 5000 + "\n", "nested deeper than 32 levels"),
    ("x: &x {a: {b: {c: {d: {e: 1}}}}}\n" + "".join(f"x{i}: &x{i} {{y: *{'x' if i == 0 else f'x{i - 1}'}}}\n"
                                                     for i in range(40)), "nested deeper than 32 levels"),
    ("catalog: {videos: " + "9" * 5000 + "}\n", "catalog.videos"),
    ("run: {seed: 2024-13-45}\n", "bad value"),
])
def test_hostile_yaml_fails_fast_with_one_line(tmp_path, text, fragment):
    import time

    start = time.perf_counter()
    assert fragment in error_of(write(tmp_path, "x.yaml", text))
    assert time.perf_counter() - start < 5


def test_scenario_files_are_small_regular_utf8_files(tmp_path):
    big = tmp_path / "big.yaml"
    big.write_bytes(b"# " + b"x" * (50 * 2**20) + b"\n")
    assert "larger than 1 MiB, the limit for scenario files" in error_of(big)
    assert "not a regular file" in error_of("/dev/zero")
    assert "not a regular file" in error_of(write(tmp_path, "z.yaml", "extends: /dev/zero\n"))
    (tmp_path / "bin.yaml").write_bytes(b"\xff\xfe\x00")
    assert "not UTF-8 text" in error_of(tmp_path / "bin.yaml")
    loop = tmp_path / "loop.yaml"
    loop.symlink_to(tmp_path / "loop2.yaml")
    (tmp_path / "loop2.yaml").symlink_to(loop)
    assert "symbolic link loop" in error_of(loop)


def test_a_long_extends_chain_is_refused(tmp_path):
    for i in range(1000):
        write(tmp_path, f"s{i}.yaml", f"extends: s{i + 1}.yaml\n" if i < 999 else "name: end\n")
    assert "a chain of more than 32 files" in error_of(tmp_path / "s0.yaml")
    assert load_scenario(tmp_path / "s980.yaml").name == "end"


def test_set_mapping_value_deep_merges_like_extends(tmp_path):
    path = write(tmp_path, "s.yaml", "cluster: {nodes: 12, racks: 6}\n")
    config = load_scenario(path, ["cluster={racks: 2}"])
    assert (config.cluster.nodes, config.cluster.racks) == (12, 2)
    assert load_scenario(None, ["cluster={racks: 2}"]).cluster.nodes == Config().cluster.nodes
    # a later error inside still points at what set it
    assert "--set cluster" in error_of(path, ["cluster={racks: 20}"])


def test_set_values_have_the_same_limits():
    flow = "{" + ", ".join(line for line in BOMB.splitlines()) + "}"
    assert "expands to more than" in error_of(None, ["catalog=" + flow])
    assert "nested deeper" in error_of(None, ["catalog=" + "[" * 100 + "]" * 100])


@pytest.mark.parametrize("item", ["catalog.videos=yes", "catalog.zipf_alpha=.inf", "catalog.zipf_alpha=.nan",
                                  "run.duration=1e309", "cluster.nodes=true", "workload.view_rate=.inf",
                                  "catalog.chunk_size=" + "9" * 5000, "run.seed=" + "9" * 30])
def test_numbers_are_strict_and_finite(item):
    key = item.split("=")[0]
    assert key in error_of(None, [item])


def test_a_name_with_a_trailing_newline_is_not_safe():
    assert "not a safe folder name" in error_of(None, {"name": "evil\n"})


@pytest.mark.parametrize("key, text, value", [
    ("migration.conversion_rate", "0", 0.0), ("migration.conversion_rate", "2.5e6", 2.5e6),
    ("workload.view_rate", "0.5", 0.5), ("run.duration", "3600", 3600.0), ("catalog.chunk_size", "4096", 4096)])
def test_a_plain_number_as_text_is_base_units_from_a_mapping_as_from_set(key, text, value):
    # One parser: `--set key=0` and overrides={"key": "0"} give the same Config (issue 19).
    section, field = key.split(".")
    from_mapping = load_scenario(overrides={key: text})
    from_set = load_scenario(overrides=[f"{key}={text}"])
    assert getattr(getattr(from_mapping, section), field) == value == getattr(getattr(from_set, section), field)
