"""The sweep report's figures: bands against numeric keys, error bars against categories, the Pareto front,
and MTTDL against the exact chain."""

import numpy as np
import pytest

import vstack_sim
from tests.sweep_builders import write_base
from vstack_sim.analysis.theory import stripe_mttdl
from vstack_sim.experiments import sweep_figures
from vstack_sim.experiments.executors import SerialExecutor
from vstack_sim.experiments.intervals import groups_of_sweep


@pytest.fixture(scope="module")
def slots(tmp_path_factory):
    base = write_base(tmp_path_factory.mktemp("report"))
    return vstack_sim.sweep(base, grid={"workload.view_rate": [0.05, 0.5, 20.0],
                                        "redundancy.policy": ["adaptive", "erasure_coding"]},
                            replications=2, executor=SerialExecutor())


def test_metric_against_a_numeric_key_draws_a_line_and_band_per_other_value(slots):
    fig = sweep_figures.metric_vs_parameter(slots, "reads.latency_ms.all.p99", "workload.view_rate")
    ax = fig.axes[0]
    assert len(ax.lines) == 2 and len(ax.collections) == 2  # one mean line and one 95 % band per policy
    assert ax.get_xscale() == "log" and ax.get_xlabel() == "workload.view_rate (1/s)"
    points = slots.metric("reads.latency_ms.all.p99")
    adaptive = points[points["redundancy.policy"] == "adaptive"]
    assert np.allclose(ax.lines[0].get_ydata(), adaptive["mean"])
    band = ax.collections[0].get_paths()[0].vertices[:, 1]
    assert np.isclose(band.min(), adaptive["lo"].min()) and np.isclose(band.max(), adaptive["hi"].max())


def test_metric_against_a_category_draws_error_bars(slots):
    fig = sweep_figures.metric_vs_parameter(slots, "storage_mean_savings_percent", "redundancy.policy")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["adaptive", "erasure_coding"]
    assert len(ax.containers) == 3  # one errorbar series per view rate


def test_pareto_front_keeps_the_points_no_other_beats_on_both():
    x = np.array([0.0, 30.0, 44.0, 40.0])
    y = np.array([60.0, 60.0, 35.0, 50.0])
    assert sweep_figures.non_dominated(x, y) == [2]
    assert sweep_figures.non_dominated(np.array([0.0, 10.0, 20.0]), np.array([1.0, 2.0, 3.0])) == [0, 1, 2]


def test_pareto_figure_has_both_panels(slots):
    fig = sweep_figures.pareto(groups_of_sweep(slots), "slots")
    assert len(fig.axes) == 2 and "read p99" in fig.axes[0].get_ylabel()


def test_mttdl_figure_draws_the_exact_chain(tmp_path):
    stripe = {"run": {"duration": "3000d", "stop_at_first_loss": True},
              "catalog": {"videos": 1, "chunks_per_video": 1, "chunk_size": 3000, "hot_fraction": 0.0},
              "cluster": {"nodes": 6, "racks": 1}, "workload": {"view_rate": 0},
              "redundancy": {"policy": "erasure_coding"},
              "failures": {"permanent_fraction": 1.0, "detection_timeout": 0, "replacement_delay": 0},
              "repair": {"streams_per_node": 0, "bandwidth": 0, "time_model": "exponential", "mttr": "1h"},
              "outputs": {"timeline_interval": "1000d"}}
    swept = vstack_sim.sweep(write_base(tmp_path, **stripe), grid={"failures.node_mttf": ["5h", "10h"]},
                             replications=5, executor=SerialExecutor())
    ax = sweep_figures.mttdl_vs_parameter(swept).axes[0]
    chain = next(line for line in ax.lines if line.get_label().endswith("exact chain"))
    expected = [stripe_mttdl(swept.spec.point_config(p)) / 3600 for p in swept.spec.points()]
    assert np.allclose(chain.get_ydata(), expected)


def test_key_metrics_name_disk_failures_beside_node_failures():
    # A comparison of runs with disk failures shows them (issue 19: KEY_METRICS had no disk-failure row).
    from vstack_sim.experiments.intervals import KEY_METRICS, LABELS

    metrics = [m for m, _, _ in KEY_METRICS]
    assert metrics.index("recovery.disk_failures") == metrics.index("recovery.node_failures") + 1
    assert LABELS["recovery.disk_failures"] == "disk failures"


def test_key_metrics_carry_the_cache_hit_ratios_of_a_run_with_a_cache():
    # Issue 21 §3: a comparison of runs behind a cache shows its hit ratio, in all and by mode.
    from tests.builders import config
    from vstack_sim.experiments.intervals import KEY_METRICS, summary_row
    from vstack_sim.model.simulation import simulate

    cached = config({"run": {"duration": "1h"}, "catalog": {"videos": 20, "chunks_per_video": 5, "hot_fraction": 0.1},
                     "workload": {"view_rate": "1/s"}, "cache": {"capacity": "20MiB"}})
    row = summary_row(simulate(cached).summary)
    cache_metrics = [m for m, _, _ in KEY_METRICS if "cache" in m]
    assert len(cache_metrics) == 4 and all(0.0 < row[m] for m in cache_metrics)
    assert row["reads.cache.hit_ratio"] == row["reads.cache.byte_hit_ratio"] < 1.0
