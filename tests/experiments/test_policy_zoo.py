"""The policy zoo (issue 25, part 4): scenarios/sweeps/policy-zoo.yaml expands to two points per policy on the
shortened living catalog, one pool and SSD/HDD tiers, and the metrics it reports are key numbers with their units
and a figure.
The sweep itself is not run here (about 5 minutes); notebooks/08 runs a smaller version."""

import numpy as np
import pandas as pd
import pytest

from vstack_sim.experiments.intervals import LABELS, Group, format_difference, format_value, summary_row
from vstack_sim.experiments.sweep_figures import cost_frontier
from vstack_sim.experiments.sweep_files import load_sweep

POLICIES = ["threshold", "age", "reads", "quiet", "size", "cost", "predictive"]
METRICS = ["storage_mean_savings_percent", "reads.latency_ms.replication.p99", "reads.latency_ms.erasure_coding.p99",
           "conversions.io_share.mean", "cost.total_dollars"]


@pytest.fixture(scope="module")
def zoo():
    return load_sweep("policy-zoo")


def test_the_zoo_has_two_points_per_policy_one_pool_and_tiers_with_common_random_numbers(zoo):
    assert zoo.keys == ["redundancy.policy", "cluster.pools", "cluster.mode_pools", "cluster.nodes"]
    assert zoo.replications == 3
    configs = [zoo.point_config(p) for p in zoo.points()]
    assert [c.redundancy.policy for c in configs] == [p for p in POLICIES for _ in range(2)]
    assert [[p.name for p in c.cluster.pools] for c in configs] == [[], ["ssd", "hdd"]] * len(POLICIES)
    tiers = configs[1].cluster
    assert tiers.mode_pools == {"replication": "ssd", "erasure_coding": "hdd"} and tiers.nodes == 20
    assert configs[1].effective_prices().table().storage_replication == 0.08
    runs = zoo.runs()
    assert len(runs) == 42 and len({r.seed for r in runs}) == 3           # replication i: one seed at every point
    assert zoo.compare.by == "redundancy.policy" and zoo.compare.baseline == "threshold"


def test_the_zoo_runs_the_living_catalog_shortened_with_each_policys_settings(zoo):
    cfg = zoo.point_config(zoo.points()[0])
    assert cfg.run.duration == 10 * 86400 and cfg.catalog.videos == 1000 and cfg.cluster.nodes == 10
    assert cfg.workload.deletes.after == 3 * 86400 and cfg.workload.aging.preset == "f4"
    assert cfg.migration.popularity_measure == "windowed"                 # reads and cost need it
    red = cfg.redundancy
    assert (red.popularity_threshold, red.reads_promote, red.reads_demote) == (40, 41, 30)
    assert red.reads_max_replicated == 0.05 and red.age_threshold == 2 * 86400
    assert red.quiet_for == 86400 and red.upload_grace == 86400


def test_the_zoos_metrics_are_key_numbers_with_units():
    summary = {"conversions": {"io_share": {"mean": 0.1186, "peak": 0.9},
                               "replicated_fraction": {"steady_state": {"reached": True, "mean": 0.0912}}},
               "cost": {"total_dollars": 1234.5}}
    row = summary_row(summary)       # nested keys reach the runs' columns as dotted names
    assert row["conversions.io_share.mean"] == 0.1186 and row["cost.total_dollars"] == 1234.5
    assert all(m in LABELS for m in METRICS)
    assert format_value("conversions.io_share.mean", 0.1186) == "11.86 %"
    assert format_value("cost.total_dollars", 1234.5) == "$1,234.50"
    assert format_difference("conversions.io_share.mean", {"diff": -0.02, "lo": -0.03, "hi": -0.01}) == \
        "-2.00 points [-3.00 points, -1.00 points]"
    assert format_difference("cost.total_dollars", {"diff": 0.5, "lo": np.nan, "hi": np.nan}) == "+$0.50"


def test_cost_frontier_draws_cost_against_both_p99s():
    groups = [Group(name, pd.DataFrame({"cost.total_dollars": [c, c + 0.1], "reads.latency_ms.replication.p99":
                                        [hot, hot + 1], "reads.latency_ms.erasure_coding.p99": [cold, cold + 1]}))
              for name, c, hot, cold in (("threshold", 1.2, 30, 25), ("quiet", 3.4, 29, 26), ("age", 1.0, 31, 25))]
    fig = cost_frontier(groups, "zoo")
    assert fig.texts[0].get_text() == "Cost against read p99 - zoo"
    top, bottom = fig.axes
    assert top.get_ylabel() == "read p99, replicated (ms)" and bottom.get_ylabel() == "read p99, erasure coded (ms)"
    assert len(top.lines) > 0 and len(bottom.lines) > 0
