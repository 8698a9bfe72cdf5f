"""Sweep files and grids: expansion, zip, seeds, and one-line errors before anything runs."""

import pytest

from tests.sweep_builders import write_base, write_sweep
from vstack_sim.experiments.sweep_files import load_sweep, make_sweep
from vstack_sim.experiments.sweep_spec import SweepError
from vstack_sim.scenario.reading import ScenarioError
from vstack_sim.scenario.schema import Config


def test_grid_is_the_cartesian_product_with_the_zip_as_one_more_axis(tmp_path):
    base = write_base(tmp_path)
    spec = make_sweep(base, grid={"redundancy.policy": ["adaptive", "erasure_coding"],
                                  "cluster.io_slots": [2, 4, 8]},
                      zip={"failures.node_mttf": ["2h", "4h"], "repair.bandwidth": ["50MB/s", "100MB/s"]},
                      replications=2)
    points = spec.points()
    assert len(points) == 2 * 3 * 2 and spec.axes == [("redundancy.policy",), ("cluster.io_slots",),
                                                       ("failures.node_mttf", "repair.bandwidth")]
    # the last axis varies fastest; zipped keys move together
    assert [p.values["failures.node_mttf"] for p in points[:4]] == ["2h", "4h", "2h", "4h"]
    assert all((p.values["failures.node_mttf"], p.values["repair.bandwidth"]) in {("2h", "50MB/s"), ("4h", "100MB/s")}
               for p in points)
    assert points[0].name == "p00-policy-adaptive-io_slots-2-node_mttf-2h-bandwidth-50MB_s"
    assert len({p.name for p in points}) == 12
    cfg = spec.point_config(points[5])
    assert cfg.failures.node_mttf == 4 * 3600 and cfg.repair.bandwidth == 100e6 and cfg.cluster.io_slots == 8


def test_replication_i_has_the_same_seed_at_every_point(tmp_path):
    spec = make_sweep(write_base(tmp_path), grid={"redundancy.policy": ["adaptive", "replication"]},
                      replications=3, seed=11)
    runs = spec.runs()
    by_rep = {}
    for run in runs:
        by_rep.setdefault(run.replication, set()).add(spec.run_config(run).run.seed)
    assert all(len(seeds) == 1 for seeds in by_rep.values())
    assert len({next(iter(s)) for s in by_rep.values()}) == 3
    import numpy as np
    expected = [int(c.generate_state(1)[0]) for c in np.random.SeedSequence(11).spawn(3)]
    assert [next(iter(by_rep[i])) for i in range(3)] == expected
    assert spec.run_config(runs[4]).name == runs[4].folder == "p1-policy-replication-r1"


def test_root_seed_defaults_to_the_base_scenario_seed_and_a_config_base_works():
    spec = make_sweep(Config(run={"seed": 99}), grid={"cluster.io_slots": [2]})
    assert spec.seed == 99 and spec.base_label == "<Config default>"


def test_set_applies_to_every_point_nested_or_dotted(tmp_path):
    spec = load_sweep(write_sweep(tmp_path, f"base: {write_base(tmp_path).name}\n"
                                  "set:\n  run.duration: 2h\n  catalog: {videos: 5}\n"
                                  "grid: {cluster.io_slots: [1, 2]}\n"))
    cfgs = [spec.point_config(p) for p in spec.points()]
    assert all(c.run.duration == 7200 and c.catalog.videos == 5 for c in cfgs)
    assert spec.name == "s"


BAD = [
    ("grid: {cluster.nodez: [3]}", "s.yaml:2: cluster.nodez: unknown key (did you mean 'nodes'?)"),
    ("grid: {}", "s.yaml:2: grid: is empty"),
    ("grid: {cluster.nodes: []}", "s.yaml:2: grid.cluster.nodes: empty list of values"),
    ("grid:\n  cluster.nodes: [7, lots]", "s.yaml:3: cluster.nodes: Input should be a valid integer"),
    ("grid: {cluster.nodes: 7}", "s.yaml:2: grid.cluster.nodes: must be a list of values"),
    ("zip:\n  cluster.nodes: [7, 8]\n  cluster.io_slots: [1]", "s.yaml:2: zip: lists of unequal length"),
    ("zip:\n  cluster.nodes: [7, 7]\n  cluster.io_slots: [1, 1]",
     "s.yaml:2: zip: the point cluster.nodes=7, cluster.io_slots=1 is given twice"),
    ("grid: {cluster.nodes: [7, 7]}", "s.yaml:2: grid.cluster.nodes: value 7 given twice"),
    ("grid: {redundancy.policy: [adaptive]}\nreplicatons: 2", "s.yaml:3: replicatons: unknown key (did you mean"),
    ("grid: {run.seed: [1, 2]}", "s.yaml:2: grid.run.seed: set by the sweep itself"),
    ("zip:\n  cluster.nodes: [4]\n  cluster.racks: [4]", "s.yaml:3: redundancy.data_shards: RS(3,2) needs 5 distinct"),
    ("replications: 0", "s.yaml:2: replications: Input should be greater than or equal to 1"),
    ("grid: {redundancy.policy: [adaptive]}\ncompare: {by: cluster.nodes, baseline: 3}", "s.yaml:3: compare.by"),
]


@pytest.mark.parametrize("text,message", BAD, ids=[m[8:38] for _, m in BAD])
def test_bad_sweep_files_raise_one_line(tmp_path, monkeypatch, text, message):
    write_base(tmp_path)
    monkeypatch.chdir(tmp_path)
    path = write_sweep(tmp_path, "base: base.yaml\n" + text + "\n")
    with pytest.raises(ScenarioError) as exc:
        load_sweep(path)
    assert str(exc.value).startswith(message) and "\n" not in str(exc.value)


def test_missing_base_and_missing_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SweepError,
                       match=r"^s.yaml:1: base: nope.yaml: scenario file not found, nor a shipped scenario$"):
        load_sweep(write_sweep(tmp_path, "base: nope.yaml\ngrid: {cluster.nodes: [7]}\n"))
    with pytest.raises(SweepError, match=r"^gone.yaml: sweep file not found, nor a shipped sweep of that name "
                                         r"\(scenarios/sweeps/\)$"):
        load_sweep(tmp_path / "gone.yaml")
    with pytest.raises(SweepError, match="base: required"):
        load_sweep(write_sweep(tmp_path, "grid: {cluster.nodes: [7]}\n"))


def test_python_grid_errors_are_the_scenario_errors(tmp_path):
    with pytest.raises(ScenarioError, match=r"^sweep grid: redundancy.policy: Input should be"):
        make_sweep(write_base(tmp_path), grid={"redundancy.policy": ["adaptive", "bogus"]})


def test_a_sweep_too_big_is_refused_before_expanding(tmp_path):
    grid = {"catalog.videos": list(range(1, 1001)), "cluster.io_slots": list(range(1, 1001))}
    with pytest.raises(SweepError, match="too big"):
        make_sweep(write_base(tmp_path), grid=grid)


def test_resolved_sweep_round_trips_with_the_same_fingerprint(tmp_path):
    spec = load_sweep(write_sweep(tmp_path, f"base: {write_base(tmp_path).name}\n"
                                  "grid: {redundancy.popularity_threshold: [10, 1000]}\nreplications: 2\n"))
    out = tmp_path / "resolved"
    out.mkdir()
    (out / "sweep.yaml").write_text(spec.to_yaml())
    from vstack_sim.scenario.emit import to_yaml
    (out / "base.yaml").write_text(to_yaml(spec.base))
    again = load_sweep(out / "sweep.yaml")
    assert again.fingerprint() == spec.fingerprint() and again.seeds() == spec.seeds()


def test_shipped_sweeps_validate():
    from vstack_sim.analysis.theory import stripe_mttdl
    from vstack_sim.scenario.reading import SCENARIO_DIR

    shipped = {p.stem: load_sweep(p) for p in sorted((SCENARIO_DIR / "sweeps").glob("*.yaml"))}
    assert set(shipped) == {"policies", "threshold", "mttdl", "recovery-frontier", "conversion-frontier",
                            "policy-zoo"}
    frontier = shipped["recovery-frontier"]
    assert [(c.io.scheduler, c.repair.budget) for c in map(frontier.point_config, frontier.points())] == \
        [("fifo", 1.0), ("fifo", 0.25), ("fifo", 0.1), ("priority", 1.0), ("mclock", 1.0)]
    conversions = shipped["conversion-frontier"]
    assert [c.migration.budget for c in map(conversions.point_config, conversions.points())] == [1.0, 0.2, 0.05, 1.0]
    assert shipped["policies"].replications == 5 and shipped["policies"].compare.baseline == "adaptive"
    thr = shipped["threshold"]
    assert all(thr.point_config(p).catalog.starting_views == "total" for p in thr.points())
    # every point of the MTTDL sweep is exactly the birth-death chain, so the report can draw it
    mttdl = shipped["mttdl"]
    assert all(stripe_mttdl(mttdl.point_config(p)) is not None for p in mttdl.points())


def test_a_zip_key_may_repeat_a_value_across_points(tmp_path, monkeypatch):
    write_base(tmp_path)
    monkeypatch.chdir(tmp_path)
    spec = load_sweep(write_sweep(tmp_path, "base: base.yaml\nzip:\n  cluster.nodes: [7, 7, 8]\n"
                                            "  cluster.io_slots: [1, 2, 1]\n"))
    assert [p.values for p in spec.points()] == [{"cluster.nodes": 7, "cluster.io_slots": 1},
                                                 {"cluster.nodes": 7, "cluster.io_slots": 2},
                                                 {"cluster.nodes": 8, "cluster.io_slots": 1}]
