"""Small deterministic models with scheduled failures: the event logs the issue asks for."""

import math

import numpy as np
import pytest

from tests.builders import config, fail, layout, one_stripe
from vstack_sim.model.lifetimes import equilibrium_residual_weibull
from vstack_sim.model.simulation import simulate

DAY = 86400.0


def test_two_permanent_failures_leave_rs32_chunk_available_and_repaired_onto_spares():
    base = one_stripe(7)
    nodes = layout(config(base))
    assert len(nodes) == 5 and len(set(nodes)) == 5
    cfg = config(base, {"failures": {"scheduled": [fail(DAY, nodes[0]), fail(DAY + 60, nodes[3])],
                                     "replacement_delay": "30d"}})
    r = simulate(cfg)
    s = r.summary
    assert s["durability"]["chunks_lost"] == 0
    assert s["recovery"]["node_failures"] == 2
    rep = r.repairs
    assert sorted(rep["slot"]) == [0, 3]
    spares = set(range(7)) - set(nodes)
    assert set(rep["target_node"]) <= spares          # rebuilt onto the two spare nodes
    assert (rep["start_s"] >= DAY + cfg.failures.detection_timeout).all()
    assert s["payload_audit"]["chunks_recovered"] == 1 and s["payload_audit"]["repairs_verified"] == 2
    assert r.storage_timeline["live_chunks"].iloc[-1] == 1


def test_three_permanent_failures_before_repair_lose_the_chunk():
    base = one_stripe(7)
    nodes = layout(config(base))
    cfg = config(base, {"failures": {"scheduled": [fail(DAY, nodes[0]), fail(DAY + 10, nodes[1]),
                                                   fail(DAY + 20, nodes[4])]}})
    r = simulate(cfg)
    assert list(r.losses["time_s"]) == [DAY + 20]
    assert r.summary["durability"]["chunks_lost"] == 1
    assert r.summary["durability"]["bytes_lost"] == 3001
    assert len(r.repairs) == 0                           # lost chunks are never repaired
    assert r.summary["payload_audit"]["lost_chunks_unrecoverable"] == 1
    # A lost chunk is no longer stored: the ledger counts neither it nor its bytes.
    storage = r.summary["storage"]
    assert storage["erasure_coded_chunks"] == 0 and storage["total_physical_bytes"] == 0
    assert r.storage_timeline["total_physical_bytes"].iloc[-1] == 0


def test_repair_waits_for_the_replacement_node_when_no_spare_exists():
    base = one_stripe(5)
    nodes = layout(config(base))
    cfg = config(base, {"failures": {"scheduled": [fail(DAY, nodes[2])], "replacement_delay": "6h"}})
    r = simulate(cfg)
    rep = r.repairs
    assert len(rep) == 1
    assert rep["target_node"].iloc[0] == nodes[2]        # the empty replacement under the same id
    assert rep["start_s"].iloc[0] >= DAY + 6 * 3600
    f = r.failures.iloc[0]
    assert f["recovery_time_s"] == rep["end_s"].iloc[0] - DAY
    assert rep["failure_id"].iloc[0] == f["failure_id"] == 0   # a job started after the replacement keeps its failure
    ev = r.node_events
    assert list(ev["event"]) == ["down", "declared", "replaced"]


def test_transient_failure_shorter_than_detection_causes_no_repair():
    base = one_stripe(5)
    nodes = layout(config(base))
    cfg = config(base, {"failures": {"scheduled": [fail(DAY, nodes[0], "transient", "10min")]}})
    r = simulate(cfg)
    s = r.summary["recovery"]
    assert s["transient_failures"] == 1 and s["node_failures"] == 0 and s["repairs"] == 0
    assert np.isnan(r.failures["recovery_time_s"].iloc[0])
    assert list(r.node_events["event"]) == ["down", "up"]


def test_declared_dead_node_that_returns_leaves_stale_slots_which_are_dropped():
    base = one_stripe(7)
    nodes = layout(config(base))
    cfg = config(base, {"failures": {"scheduled": [fail(DAY, nodes[1], "transient", "2h")]}})
    r = simulate(cfg)
    f = r.failures.iloc[0]
    assert bool(f["declared"]) and f["stale_slots_dropped"] == 1
    assert r.summary["recovery"]["stale_slots_dropped"] == 1
    tl = r.storage_timeline.set_index("time_s")
    nominal = tl["total_physical_bytes"].iloc[-1]
    during = tl.loc[(tl.index > DAY + 3600) & (tl.index < DAY + 2 * 3600), "held_bytes"]
    assert (during == nominal + 1001).all()              # the stale fragment still sits on the down node
    assert tl["held_bytes"].iloc[-1] == nominal          # dropped when it came back


def test_rack_outage_takes_down_every_node_of_the_rack_at_once():
    cfg = config({"catalog": {"videos": 10, "chunks_per_video": 4, "chunk_size": 4096},
                  "cluster": {"nodes": 12, "racks": 4},
                  "failures": {"scheduled": [{"at": DAY, "rack": 2, "duration": "1h"}]}})
    r = simulate(cfg)
    down = r.node_events[r.node_events["event"] == "down"]
    assert sorted(down["node"]) == [2, 6, 10]
    assert (down["time_s"] == DAY).all() and (down["rack"] == 2).all()
    assert (r.failures["source"] == "scheduled").all()
    # At most ceil(5/4) = 2 fragments per rack, so no chunk became unavailable.
    assert r.summary["durability"]["unavailable_chunk_seconds"] == 0


def test_unavailable_chunk_seconds_equal_the_overlap_of_three_downtimes():
    base = one_stripe(5, failures={"detection_timeout": "30d"})
    nodes = layout(config(base))
    sched = [fail(DAY, nodes[0], "transient", "3h"), fail(DAY + 3600, nodes[1], "transient", "3h"),
             fail(DAY + 1800, nodes[2], "transient", "1h")]
    r = simulate(config(base, {"failures": {"scheduled": sched}}))
    # Three of five fragments are down from DAY + 1h to DAY + 1.5h.
    assert r.summary["durability"]["unavailable_chunk_seconds"] == 1800.0
    assert r.summary["durability"]["chunks_lost"] == 0


def test_node_without_data_recovers_when_declared_with_a_repair_of_zero():
    # Issue 19: an empty node's recovery is its detection (the timeout), then nothing to rebuild; it used to say 0.
    cfg = config({"catalog": {"videos": 1, "chunks_per_video": 1, "chunk_size": 3000, "hot_fraction": 0},
                  "cluster": {"nodes": 8, "racks": 8}})
    nodes = layout(cfg)
    empty = next(n for n in range(8) if n not in nodes)
    r = simulate(config(cfg.model_dump(), {"failures": {"scheduled": [fail(DAY, empty)]}}))
    row = r.failures.iloc[0]
    detection = cfg.failures.detection_timeout
    assert row["detection_s"] == detection and row["repair_s"] == 0.0
    assert row["recovery_time_s"] == detection and row["recovery_end_s"] == DAY + detection
    assert row["chunks_affected"] == 0


def test_a_rack_outage_keeps_a_node_that_was_already_down_from_coming_back_early():
    # Node 0 (rack 0 of 3) is down for 1h from DAY; rack 0 goes out at DAY + 30 min for 3h.
    # The node is up only when neither holds it down: back at DAY + 3.5h, with the rest of its rack.
    cfg = config({"catalog": {"videos": 6, "chunks_per_video": 2, "chunk_size": 4096},
                  "cluster": {"nodes": 6, "racks": 3},
                  "failures": {"detection_timeout": "30d",
                               "scheduled": [fail(DAY, 0, "transient", "1h"),
                                             {"at": DAY + 1800, "rack": 0, "duration": "3h"}]}})
    r = simulate(cfg)
    ev = r.node_events
    up = ev[ev["event"] == "up"].set_index("node")["time_s"]
    assert sorted(up.index) == [0, 3]
    assert up.loc[0] == up.loc[3] == DAY + 1800 + 3 * 3600
    assert list(ev[ev["node"] == 0]["event"]) == ["down", "up"]
    assert r.storage_timeline["nodes_up"].iloc[-1] == 6


def test_recovery_is_split_into_detection_and_repair_per_failure_and_in_the_summary():
    base = one_stripe(7)
    nodes = layout(config(base))
    r = simulate(config(base, {"failures": {"scheduled": [fail(DAY, nodes[0])], "replacement_delay": "30d"}}))
    f = r.failures.iloc[0]
    assert f["detection_s"] == 900.0 and not f["censored"]
    assert f["repair_s"] == r.repairs["end_s"].iloc[0] - (DAY + 900) > 0
    assert f["detection_s"] + f["repair_s"] == f["recovery_time_s"]
    s = r.summary["recovery"]
    assert s["detection_s"]["max"] == 900.0 and s["repair_s"]["max"] == round(f["repair_s"], 6)
    assert s["total_s"] == s["time_s"] and s["censored"] == 0 and s["censored_recoveries"] == []


def test_a_recovery_open_at_the_end_is_reported_censored_not_dropped():
    base = one_stripe(5, run={"duration": DAY + 7200})    # no spare: the repair waits for a 6h replacement
    nodes = layout(config(base))
    r = simulate(config(base, {"failures": {"scheduled": [fail(DAY, nodes[2])], "replacement_delay": "6h"}}))
    f = r.failures.iloc[0]
    assert bool(f["censored"]) and np.isnan(f["recovery_end_s"])
    assert f["repair_s"] == 7200 - 900 and f["recovery_time_s"] == 7200
    s = r.summary["recovery"]
    assert s["censored"] == s["unfinished"] == 1 and s["time_s"] is None
    assert s["censored_recoveries"] == [{"failure_id": 0, "detection_s": 900.0, "repair_s": 6300.0,
                                         "total_s": 7200.0}]


def test_chunk_seconds_at_reduced_redundancy_by_missing_slots_and_peak_one_failure_from_loss():
    base = one_stripe(5, failures={"detection_timeout": "30d"})
    nodes = layout(config(base))
    sched = [fail(DAY, nodes[0], "transient", "3h"), fail(DAY + 3600, nodes[1], "transient", "3h"),
             fail(DAY + 1800, nodes[2], "transient", "1h")]
    d = simulate(config(base, {"failures": {"scheduled": sched}})).summary["durability"]
    # Missing 1 slot for 0.5h + 1h, 2 slots for 0.5h + 1.5h, 3 slots for 0.5h.
    assert d["reduced_redundancy_chunk_seconds"]["erasure_coding"] == {
        "1": 5400.0, "2": 7200.0, "3": 1800.0, "4": 0.0, "5": 0.0}
    assert d["peak_chunks_one_failure_from_loss"] == 0      # transient: every slot still exists

    base = one_stripe(7)
    nodes = layout(config(base))
    r = simulate(config(base, {"failures": {"scheduled": [fail(DAY, nodes[0]), fail(DAY + 60, nodes[3])],
                                            "replacement_delay": "30d"}}))
    d = r.summary["durability"]
    assert d["peak_chunks_one_failure_from_loss"] == 1 and d["peak_chunks_one_failure_from_loss_s"] == DAY + 60
    tl = r.storage_timeline
    assert tl["reduced_redundancy_chunks"].max() == 1 and tl["reduced_redundancy_chunks"].iloc[-1] == 0


# -- stationary start -------------------------------------------------------------------------------

def weibull_first_week(shape: float, start_new: bool, nodes: int = 2000, seed: int = 3):
    """Failures in the first week of ``nodes`` Weibull nodes (mean 30 d); each fails at most once (the
    replacement takes 30 d), so the count is Binomial(nodes, P(first failure <= 7 d))."""
    cfg = config({"run": {"duration": "7d", "seed": seed},
                  "catalog": {"videos": 1, "chunks_per_video": 1, "chunk_size": 4096, "hot_fraction": 0},
                  "cluster": {"nodes": nodes, "racks": 4},
                  "failures": {"node_mttf": "30d", "ttf_distribution": "weibull", "weibull_shape": shape,
                               "permanent_fraction": 1.0, "replacement_delay": "30d", "start_new": start_new}})
    return len(simulate(cfg).failures)


def weibull_cdf_and_equilibrium_cdf(shape: float, mean: float, t: float) -> tuple[float, float]:
    """F(t) in closed form and F_e(t) = (1/mean) int_0^t S(u) du by the trapezoid rule on 10^6 points."""
    scale = mean / math.gamma(1 + 1 / shape)
    u = np.linspace(0.0, t, 1_000_001)
    s = np.exp(-(u / scale) ** shape)
    integral = float(((s[1:] + s[:-1]) / 2 * np.diff(u)).sum())
    return 1 - math.exp(-(t / scale) ** shape), integral / mean


@pytest.mark.parametrize("shape", [0.7, 3.0])
def test_first_week_failures_of_weibull_nodes_match_the_stationary_expectation(shape):
    # Stationary: each node fails in the first week with probability F_e(7 d); start_new: F(7 d). For
    # shape 3 these are 0.233 and 0.009, for shape 0.7 0.183 and 0.347, so either mistake is far outside
    # the tolerance of 4 binomial standard deviations (false alarm rate 6e-5 per check).
    n = 2000
    f, fe = weibull_cdf_and_equilibrium_cdf(shape, 30 * DAY, 7 * DAY)
    for start_new, p in ((False, fe), (True, f)):
        count = weibull_first_week(shape, start_new, n)
        sd = math.sqrt(n * p * (1 - p))
        assert abs(count - n * p) <= 4 * sd, (start_new, count, n * p, sd)


def test_equilibrium_residual_life_has_the_renewal_theory_mean():
    # The residual life at equilibrium age has mean E[X^2] / (2 E[X]) = scale x G(1 + 2/c) / (2 G(1 + 1/c)).
    rng = np.random.default_rng(5)
    for shape in (0.7, 1.12, 3.0):
        scale = 30 * DAY / math.gamma(1 + 1 / shape)
        draws = np.array([equilibrium_residual_weibull(rng, scale, shape) for _ in range(40000)])
        expected = scale * math.gamma(1 + 2 / shape) / (2 * math.gamma(1 + 1 / shape))
        se = draws.std() / math.sqrt(len(draws))
        assert abs(draws.mean() - expected) <= 4 * se, shape


def test_exponential_nodes_draw_the_same_failures_whether_started_new_or_not():
    base = {"run": {"duration": "10d"}, "catalog": {"videos": 5, "chunks_per_video": 2, "chunk_size": 4096},
            "failures": {"node_mttf": "5d"}}
    a, b = simulate(config(base)), simulate(config(base, {"failures": {"start_new": True}}))
    assert len(a.failures) > 10 and a.summary == b.summary


def test_an_empty_disk_recovers_when_declared_with_a_repair_of_zero():
    cfg = config({"catalog": {"videos": 1, "chunks_per_video": 1, "chunk_size": 3000, "hot_fraction": 0},
                  "cluster": {"nodes": 8, "racks": 8}})
    empty = next(n for n in range(8) if n not in layout(cfg))
    disk_failure = {"at": DAY, "node": empty, "disk": 0}
    r = simulate(config(cfg.model_dump(), {"failures": {"scheduled": [disk_failure]}}))
    row = r.failures.iloc[0]
    assert row["component"] == "disk"
    assert row["detection_s"] == cfg.failures.detection_timeout and row["repair_s"] == 0.0
    assert row["recovery_time_s"] == cfg.failures.detection_timeout
