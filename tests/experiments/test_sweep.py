"""Sweeps end to end on tiny runs: common random numbers, the tables, paired comparisons, MTTDL and resume."""

import json

import numpy as np
import pandas as pd
import pytest

import vstack_sim
from tests.sweep_builders import TINY, write_base
from vstack_sim.analysis import stats
from vstack_sim.analysis.theory import stripe_mttdl
from vstack_sim.experiments.executors import SerialExecutor
from vstack_sim.experiments.sweep_spec import SweepError
from vstack_sim.experiments.sweeps import Sweep

POLICIES = {"redundancy.policy": ["adaptive", "replication", "erasure_coding"]}


@pytest.fixture(scope="module")
def policies(tmp_path_factory):
    folder = tmp_path_factory.mktemp("policies")
    base = write_base(folder)
    return vstack_sim.sweep(base, grid=POLICIES, replications=2, executor=SerialExecutor(), out=folder / "out",
                            compare={"by": "redundancy.policy", "baseline": "adaptive"})


def test_common_random_numbers_give_every_policy_the_same_failures_and_views(policies):
    def table(point, rep, name, cols):
        return pd.read_csv(policies.path / "runs" / f"{point}-r{rep}" / "tables" / f"{name}.csv")[cols]

    points = [p.name for p in policies.spec.points()]
    for rep in range(2):
        failures = [table(p, rep, "failures", ["time_s", "node", "kind", "source"]) for p in points]
        views = [table(p, rep, "views", ["time_s", "video_id"]) for p in points]
        assert len(failures[0]) > 0 and len(views[0]) > 10
        for f, v in zip(failures[1:], views[1:], strict=False):
            pd.testing.assert_frame_equal(f, failures[0])
            pd.testing.assert_frame_equal(v, views[0])
    # and the replications themselves differ
    assert not table(points[0], 0, "views", ["time_s"]).equals(table(points[0], 1, "views", ["time_s"]))


def test_runs_table_has_the_grid_values_and_the_flattened_summary(policies):
    runs = policies.runs
    assert list(runs.columns[:5]) == ["point", "replication", "seed", "folder", "redundancy.policy"]
    assert len(runs) == 6 and list(runs["replication"]) == [0, 1] * 3
    summary = json.loads((policies.path / "runs" / runs["folder"][3] / "summary.json").read_text())
    assert runs["reads.latency_ms.all.p99"][3] == summary["reads"]["latency_ms"]["all"]["p99"]
    assert runs["storage.storage_savings_percent"][2] == 0.0  # all-replication
    assert runs["run.seed"].tolist() == runs["seed"].tolist()
    assert (policies.path / "runs.csv").read_text().splitlines()[0].startswith("point,replication,seed,folder")


def test_points_have_t_and_wilson_intervals_computed_from_the_runs(policies):
    runs, points = policies.runs, policies.points
    metric = "recovery.repair_bytes_read"
    row = points[(points["point"] == runs["point"][0]) & (points["metric"] == metric)].iloc[0]
    iv = stats.mean_interval(runs[metric][:2])
    assert (row["mean"], row["lo"], row["hi"], row["n"], row["method"]) == (iv.estimate, iv.lo, iv.hi, 2, "t")
    loss = points[(points["metric"] == "durability.any_loss")].iloc[0]
    assert loss["method"] == "wilson" and loss["mean"] == 0.0 and loss["hi"] == pytest.approx(0.657620, abs=1e-6)
    assert (policies.path / "points.csv").is_file() and (policies.path / "report.html").is_file()


def test_compare_is_the_paired_difference_per_replication(policies):
    metric = "recovery.repair_bytes_read"
    table = policies.compare(metric)
    assert list(table["redundancy.policy"]) == ["replication", "erasure_coding"]
    runs = policies.runs.set_index(["redundancy.policy", "replication"])[metric]
    diffs = [runs["erasure_coding", i] - runs["adaptive", i] for i in range(2)]
    ec = table.iloc[1]
    iv = stats.mean_interval(diffs)
    assert (ec["diff"], ec["lo"], ec["hi"], ec["n"]) == (iv.estimate, iv.lo, iv.hi, 2)
    assert ec["baseline_mean"] == np.mean([runs["adaptive", i] for i in range(2)])
    with pytest.raises(ValueError, match="baseline"):
        policies.compare(metric, baseline="raid")


def test_a_sweep_folder_reads_back_and_each_run_reproduces_alone(policies, tmp_path):
    loaded = Sweep.load(policies.path)
    pd.testing.assert_frame_equal(loaded.points, pd.read_csv(policies.path / "points.csv"))
    folder = policies.path / "runs" / policies.runs["folder"][1]
    rerun = vstack_sim.simulate(vstack_sim.load_scenario(folder / "scenario.yaml"))
    from vstack_sim.results.store import dump_json
    assert dump_json(rerun.summary) == (folder / "summary.json").read_text()
    assert not (folder / "figures").exists() and (folder / "report.html").is_file()  # outputs.figures: false
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["sweep"] == {"name": policies.spec.name, "point": policies.runs["point"][1], "replication": 1,
                                 "grid": {"redundancy.policy": "adaptive"}}


def test_in_memory_sweep_gives_the_same_runs_table(policies, tmp_path):
    again = vstack_sim.sweep(write_base(tmp_path), grid=POLICIES, replications=2, executor=SerialExecutor())
    assert again.path is None
    pd.testing.assert_frame_equal(again.runs.drop(columns=["run.name"]), policies.runs.drop(columns=["run.name"]))


def test_starting_views_total_lets_the_threshold_change_the_hot_fraction(tmp_path):
    grid = {"redundancy.popularity_threshold": [10, 1000, 3000, 100_000]}
    base = write_base(tmp_path, catalog={"videos": 40, "chunks_per_video": 1, "starting_views": "total",
                                         "total_views": 60_000})
    swept = vstack_sim.sweep(base, grid=grid, executor=SerialExecutor(), set={"workload.view_rate": 0})
    hot = (swept.runs["storage_initial.replication_chunks"] / swept.runs["run.chunks"]).tolist()
    assert hot[0] == 1.0 and hot[-1] == 0.0 and hot == sorted(hot, reverse=True) and len(set(hot)) == 4
    # with hot_fraction the catalog is rescaled to every threshold: the sweep is flat
    flat = vstack_sim.sweep(base, grid=grid, executor=SerialExecutor(),
                            set={"workload.view_rate": 0, "catalog.starting_views": "hot_fraction"})
    assert set(flat.runs["storage_initial.replication_chunks"]) == {2}  # 5 % of 40


def test_mttdl_points_use_the_exponential_interval(tmp_path):
    stripe = {"run": {"duration": "3000d", "stop_at_first_loss": True},
              "catalog": {"videos": 1, "chunks_per_video": 1, "chunk_size": 3000, "hot_fraction": 0.0},
              "cluster": {"nodes": 6, "racks": 1}, "workload": {"view_rate": 0},
              "failures": {"node_mttf": "10h", "permanent_fraction": 1.0, "detection_timeout": 0,
                           "replacement_delay": 0},
              "repair": {"streams_per_node": 0, "bandwidth": 0, "time_model": "exponential", "mttr": "1h"},
              "outputs": {"timeline_interval": "1000d"}}
    base = write_base(tmp_path, **stripe)
    swept = vstack_sim.sweep(base, grid={"redundancy.policy": ["replication", "erasure_coding"]}, replications=40,
                             executor=SerialExecutor(), seed=3)
    rows = swept.metric("durability.mttdl_s")
    part = swept.runs[swept.runs["redundancy.policy"] == "erasure_coding"]
    iv = stats.mttdl_interval(part["durability.first_loss_s"], part["durability.chunks_lost"] > 0)
    ec = rows[rows["redundancy.policy"] == "erasure_coding"].iloc[0]
    assert (ec["mean"], ec["lo"], ec["hi"], ec["method"]) == (iv.estimate, iv.lo, iv.hi, "exponential")
    for policy in ("replication", "erasure_coding"):
        exact = stripe_mttdl(swept.spec.point_config(next(p for p in swept.spec.points()
                                                          if p.values["redundancy.policy"] == policy)))
        row = rows[rows["redundancy.policy"] == policy].iloc[0]
        # 95 % intervals: this fixed seed set covers the chain (a miss is a 1-in-20 event, not tolerance)
        assert row["lo"] <= exact <= row["hi"], (policy, row["lo"], exact, row["hi"])


def test_resume_keeps_finished_runs_and_refuses_a_changed_sweep(tmp_path):
    base = write_base(tmp_path)
    out = tmp_path / "out"
    full = vstack_sim.sweep(base, grid=POLICIES, replications=2, executor=SerialExecutor(), out=out)
    keep = out / "runs" / full.runs["folder"][0]
    drop = out / "runs" / full.runs["folder"][5]
    inode = (keep / "summary.json").stat().st_ino
    import shutil
    shutil.rmtree(drop)
    (out / "runs.csv").unlink()
    again = vstack_sim.sweep(base, grid=POLICIES, replications=2, executor=SerialExecutor(), out=out, resume=True)
    assert (keep / "summary.json").stat().st_ino == inode and (drop / "summary.json").is_file()
    pd.testing.assert_frame_equal(again.runs, full.runs)
    with pytest.raises(SweepError, match="sweep file changed"):
        vstack_sim.sweep(base, grid=POLICIES, replications=3, executor=SerialExecutor(), out=out, resume=True)
    with pytest.raises(SweepError, match="already exists"):
        vstack_sim.sweep(base, grid=POLICIES, replications=2, executor=SerialExecutor(), out=out)


def test_compare_of_folders_pairs_runs_that_share_seeds(policies):
    comparison = vstack_sim.compare(policies.path)
    assert [g.label for g in comparison.groups] == [f"out/{p.name}" for p in policies.spec.points()]
    d = comparison.differences
    row = d[(d["metric"] == "recovery.repair_bytes_read") & (d["group"] == comparison.groups[2].label)].iloc[0]
    paired = policies.compare("recovery.repair_bytes_read").iloc[1]
    assert row["method"] == "paired t" and (row["diff"], row["lo"], row["hi"]) == (paired["diff"], paired["lo"],
                                                                                   paired["hi"])
    # two single runs with different seeds are not paired
    a, b = (policies.path / "runs" / f for f in policies.runs["folder"][:2])
    single = vstack_sim.compare(a, b, labels=["r0", "r1"])
    assert set(single.differences["method"]) == {"welch"} and "r1 (n=1)" in single.format()


def test_user_text_in_runs_csv_is_escaped_for_spreadsheets_and_reads_back(tmp_path):
    # Issue 19 §5: a grid value is the user's text; '=1+1' must not become a live formula in runs.csv.
    base = write_base(tmp_path, outputs={**TINY["outputs"], "catalog": False}, run={"duration": "10min", "seed": 5})
    done = vstack_sim.sweep(base, grid={"description": ["=1+1", "-x"]}, executor=SerialExecutor(),
                            out=tmp_path / "out")
    text = (done.path / "runs.csv").read_text()
    assert "'=1+1" in text and "'-x" in text
    assert Sweep.load(done.path).runs["description"].tolist() == ["=1+1", "-x"]


# -- every point passes the up-front limits of `vstack-sim run` before the first run (issue 19 §2) ------------

class _Refusing(SerialExecutor):
    """An executor that fails the test if any run reaches it."""

    def submit(self, fn, *args, **kwargs):
        raise AssertionError("a run started although a point should have been refused")


def test_a_point_that_cannot_fit_is_refused_before_any_run_naming_the_point(tmp_path):
    base = write_base(tmp_path)
    wide = {"zip": {"redundancy.replication_factor": [3, 33_000], "cluster.nodes": [7, 33_000]},
            "set": {"redundancy.policy": "replication", "cluster.racks": 1}}
    for allow_huge in (False, True):   # --allow-huge lifts the estimate limits, never the hard ones
        with pytest.raises(SweepError, match=r"^point p1-replication_factor-33000-nodes-33000: "
                                             r"redundancy.replication_factor: 33,000"):
            vstack_sim.sweep(base, **wide, executor=_Refusing(), out=tmp_path / "out", allow_huge=allow_huge)
    assert not (tmp_path / "out").exists()
    with pytest.raises(SweepError, match="^point p1-view_rate-1000_s: workload.view_rate"):
        vstack_sim.sweep(base, grid={"workload.view_rate": [0, "1000/s"]}, set={"run.duration": "10000d"},
                         executor=_Refusing())
    with pytest.raises(SweepError, match="^point p1-videos-200000000: catalog.videos"):
        # without failures the chunk state is the biggest part (with them, the repairs table: failures.node_mttf)
        vstack_sim.sweep(base, grid={"catalog.videos": [12, 200_000_000]},
                         set={"cluster.node_capacity": "100TB", "failures.node_mttf": 0},
                         executor=_Refusing())


def test_execute_run_checks_its_config_too():
    from vstack_sim.experiments.sweeps import execute_run
    from vstack_sim.scenario.files import load_scenario
    from vstack_sim.scenario.limits import ResourceError

    huge = load_scenario(None, ["workload.view_rate=1000/s", "run.duration=10000d"])
    with pytest.raises(ResourceError, match="workload.view_rate"):
        execute_run({"index": 0, "config": huge, "target": None})


def test_the_shipped_mttdl_sweep_passes_the_limits_without_allow_huge():
    from pathlib import Path

    from vstack_sim.experiments.sweep_files import load_sweep
    from vstack_sim.experiments.sweeps import check_limits

    check_limits(load_sweep(Path(__file__).parents[2] / "scenarios" / "sweeps" / "mttdl.yaml"))


def test_one_stripe_durability_points_carry_the_pooled_weighted_estimate(tmp_path):
    from tests.builders import stripe_scenario
    from vstack_sim.analysis.weighted import pooled_estimate

    base = stripe_scenario(run={"replications": 1000})
    swept = vstack_sim.sweep(base, grid={"redundancy.policy": ["replication", "erasure_coding"]}, replications=3,
                             executor=SerialExecutor(), seed=3, out=tmp_path / "sweep")
    rows = swept.metric("loss_estimate.probability")
    for policy in ("replication", "erasure_coding"):
        part = swept.runs[swept.runs["redundancy.policy"] == policy]
        row = rows[rows["redundancy.policy"] == policy].iloc[0]
        mean, lo, hi = pooled_estimate(part["loss_estimate.probability"], part["loss_estimate.std_error"], 0.95)
        assert (row["method"], row["n"]) == ("weighted", 3000)
        assert (row["mean"], row["lo"], row["hi"]) == pytest.approx((mean, lo, hi))
        # Three runs of 1,000: the pooled standard error is each run's over sqrt(3).
        assert (hi - lo) / 2 == pytest.approx(1.959964 * np.sqrt((part["loss_estimate.std_error"] ** 2).sum()) / 3)
    assert "P(loss within the mission) (weighted replications)" in (tmp_path / "sweep" / "report.md").read_text()
    # Such runs have no reads or storage: the report draws the estimate, not empty latency and Pareto panels.
    figures = sorted(p.name for p in (tmp_path / "sweep" / "figures").glob("*.png"))
    assert figures == ["loss_estimate-vs-redundancy_policy.png"], figures
