"""Disk failures: a disk loses its slots while its node stays up; repair rebuilds them under the per-node
caps; the disk is replaced; failures come at their rate; the records tell disks from nodes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.builders import config, fail, layout, one_stripe
from tests.model.test_capacity import run_checking_capacity, tight
from tests.model.test_repair import concurrency
from vstack_sim.analysis.stats import gammainc
from vstack_sim.model.simulation import Simulation, simulate
from vstack_sim.results import plots

DAY = 86400.0


def disk_fail(at, node, disk, duration=None) -> dict:
    f = {"at": at, "node": node, "disk": disk}
    if duration is not None:
        f["duration"] = duration
    return f


def spread(**extra):
    """200 chunks over 10 nodes of 4 disks: each disk holds about 20 slots."""
    return config({"run": {"duration": "3d"},
                   "catalog": {"videos": 40, "chunks_per_video": 5, "hot_fraction": 0.2},
                   "cluster": {"nodes": 10, "racks": 5, "disks_per_node": 4}}, extra)


def test_a_failed_disk_loses_exactly_its_slots_and_its_node_stays_up():
    cfg = spread(failures={"scheduled": [disk_fail(DAY, 3, 2)], "detection_timeout": "1h"})
    sim = Simulation(cfg).build()
    w = sim.world
    disk = 3 * 4 + 2
    c, s = w.cluster.disks.slots_on(disk)
    assert len(c) > 10
    before = w.cluster.capacity[3], w.cluster.used[3], int(w.cluster.disks.used[disk])
    sim.start()
    w.env.run(until=DAY + 1)
    st = w.state
    assert w.cluster.up[3] and not w.cluster.failed[3]
    assert not st.slot_has_data[c, s].any()                       # the disk's slots are gone ...
    others = (st.slot_node == 3) & ~np.isin(np.arange(st.slot_node.size).reshape(st.slot_node.shape),
                                            c * st.width + s)
    assert st.slot_has_data[others].all()                           # ... and no other slot of its node
    assert w.cluster.capacity[3] == before[0] - w.cluster.disks.capacity[disk]
    assert w.cluster.used[3] == before[1] - before[2]
    assert (st.avail[c] == st.exist[c]).all() and (st.exist[c] == st.mode_width[st.mode[c]] - 1).all()
    assert st.recount()["n_short"] == st.n_short == len(c)
    w.env.run(until=DAY + 3600 + 1)                                 # declared: its slots are rebuilt
    w.env.run(until=DAY + 2 * 3600)
    assert st.slot_has_data[c, s].all() and st.n_short == 0
    assert (w.cluster.disks.slot_disk[c, s] != disk).all()          # never onto the failed disk
    w.env.run(until=2 * DAY + 1)                                    # replaced after a day, empty
    assert w.cluster.capacity[3] == before[0] and not w.cluster.disks.failed[disk]


def test_the_failures_table_and_summary_tell_a_disk_failure_from_a_node_failure():
    cfg = spread(failures={"scheduled": [disk_fail(DAY, 3, 2), fail(DAY + 60, 7)], "replacement_delay": "30d"})
    r = simulate(cfg)
    f = r.failures.set_index("failure_id")
    assert list(f["component"]) == ["disk", "node"]
    assert f.loc[0, "disk"] == 14 and f.loc[1, "disk"] == -1
    assert f.loc[0, "node"] == 3 and f.loc[0, "kind"] == "permanent"
    assert f.loc[0, "back_s"] == DAY + cfg.failures.disk_replacement_delay
    rec = r.summary["recovery"]
    assert rec["node_failures"] == 1 and rec["disk_failures"] == 1
    assert rec["by_component"]["disk"]["declared"] == 1 and rec["by_component"]["node"]["declared"] == 1
    assert rec["by_component"]["disk"]["detection_s"]["max"] == cfg.failures.detection_timeout
    # A node holds 4 disks' worth of slots: its rebuild is the longer one.
    assert rec["by_component"]["node"]["repair_s"]["max"] > rec["by_component"]["disk"]["repair_s"]["max"]
    assert set(r.repairs["failure_id"]) == {0, 1}
    rows = r.repairs[r.repairs["failure_id"] == 0]
    assert len(rows) == f.loc[0, "chunks_affected"]
    labels = [t.get_text() for t in plots.recovery_split(r).axes[0].get_yticklabels()]
    assert labels == ["#0 node 3 disk 14", "#1 node 7"]
    legend = [t.get_text() for t in plots.recovery_times(r).axes[0].get_legend().get_texts()]
    assert legend == ["node failures (n=1)", "disk failures (n=1)"]


def test_a_disk_rebuild_carries_real_bytes_and_may_land_on_the_same_node():
    base = one_stripe(6, cluster={"disks_per_node": 2})
    nodes = layout(config(base))
    cfg = config(base, {"failures": {"scheduled": [disk_fail(DAY, nodes[0], 0), disk_fail(DAY, nodes[0], 1)]}})
    r = simulate(cfg)
    assert r.summary["payload_audit"]["repairs_verified"] == 1
    assert r.summary["payload_audit"]["chunks_recovered"] == 1 and r.summary["durability"]["chunks_lost"] == 0


def test_a_disk_failure_can_lose_a_chunk_already_one_failure_from_loss():
    base = one_stripe(6, cluster={"disks_per_node": 2}, codec={"verify_payloads": False})
    nodes = layout(config(base))
    # Two fragments' nodes are gone for good; a third fragment's disk fails before any rebuild starts.
    cfg = config(base, {"failures": {"scheduled": [fail(DAY, nodes[0]), fail(DAY, nodes[1]),
                                                   disk_fail(DAY + 10, nodes[2], 0), disk_fail(DAY + 10, nodes[2], 1)],
                                     "replacement_delay": "30d"}})
    r = simulate(cfg)
    assert r.summary["durability"]["chunks_lost"] == 1
    assert r.losses["time_s"].iloc[0] == DAY + 10


def test_disk_rebuilds_respect_the_per_node_caps_at_every_instant():
    cfg = config({
        "run": {"duration": "2d"},
        "catalog": {"videos": 150, "chunks_per_video": 8, "hot_fraction": 0.2},
        "cluster": {"nodes": 20, "racks": 5, "disks_per_node": 2},
        "repair": {"streams_per_node": 2, "source_streams_per_node": 3, "bandwidth": "100MB/s"},
        # Two disks at once (three could lose a chunk with all its copies on them), then a third.
        "failures": {"scheduled": [disk_fail(3600, 0, 0), disk_fail(3600, 5, 1), disk_fail(4 * 3600, 12, 1)]},
    })
    r = simulate(cfg)
    rep = r.repairs
    assert len(rep) > 200 and r.summary["durability"]["chunks_lost"] == 0
    span = rep[["transfer_start_s", "transfer_end_s"]].to_numpy()
    worst_in = max(concurrency(span[(rep["target_node"] == n).to_numpy()]) for n in range(20))
    sources = rep["source_nodes"].map(lambda x: [int(n) for n in x.split()])
    worst_out = max(concurrency(span[sources.map(lambda ns, n=n: n in ns).to_numpy()]) for n in range(20))
    assert worst_in == 2 and worst_out == 3          # the caps are reached, never exceeded
    # Repair traffic: k x fragment bytes read per rebuilt fragment, one chunk per replica.
    frag = rep["mode"] == "erasure_coding"
    assert (rep.loc[frag, "bytes_read"] == 3 * rep.loc[frag, "bytes_written"]).all()
    assert (rep.loc[~frag, "bytes_read"] == rep.loc[~frag, "bytes_written"]).all()


def test_a_repair_reading_from_a_disk_that_fails_restarts_from_other_sources():
    base = one_stripe(8, cluster={"disks_per_node": 2}, repair={"bandwidth": "10B/s", "streams_per_node": 0,
                                                                "source_choice": "primary"})
    nodes = layout(config(base))
    declared = DAY + 900
    sim = Simulation(config(base)).build()
    disk0 = int(sim.world.cluster.disks.slot_disk[0, 0])
    # Slot 4's node fails for good; its rebuild reads slots 0, 1, 2 (primary: data first); slot 0's disk
    # fails 100 s in.
    cfg = config(base, {"failures": {"scheduled": [fail(DAY, nodes[4]),
                                                   disk_fail(declared + 100, nodes[0], disk0 % 2)],
                                     "replacement_delay": "30d"}})
    r = simulate(cfg)
    rep = r.repairs.set_index("slot")
    assert sorted(rep.index) == [0, 4]
    assert rep.loc[4, "start_s"] == declared + 100
    assert rep.loc[4, "source_nodes"] == " ".join(str(nodes[j]) for j in (1, 2, 3))
    assert r.summary["payload_audit"]["repairs_verified"] == 2 and r.summary["durability"]["chunks_lost"] == 0


def test_reads_of_a_failed_disk_are_served_degraded_from_the_others():
    base = one_stripe(6, cluster={"disks_per_node": 2}, codec={"verify_payloads": False},
                      workload={"scheduled_views": [{"at": DAY + 60 * i, "video": 0} for i in range(10)]})
    nodes = layout(config(base))
    sim = Simulation(config(base)).build()
    disk = int(sim.world.cluster.disks.slot_disk[0, 0])
    cfg = config(base, {"failures": {"scheduled": [disk_fail(DAY - 1, nodes[0], disk % 2)],
                                     "detection_timeout": "1h"}})
    reads = simulate(cfg).reads
    assert len(reads) == 10 and (reads["kind"] == "degraded").all()


def test_disk_failures_and_conversions_never_overfill_a_node():
    # As in test_model_capacity: everything starts replicated on a 90 % full cluster and converts to EC
    # once the starting views leave the window, while disks (and nodes) keep failing.
    cfg = config(tight({
        "run": {"seed": 5, "duration": "1d"},
        "catalog": {"videos": 30, "chunks_per_video": 4, "chunk_size": 3000, "hot_fraction": 1.0},
        "cluster": {"nodes": 8, "racks": 4, "disks_per_node": 3},
        "failures": {"node_mttf": "1d", "permanent_fraction": 0.5, "replacement_delay": "2h",
                     "disk_mttf": "12h", "disk_replacement_delay": "3h"},
        "workload": {"view_rate": "0.002/s"},
        "migration": {"check_interval": "1h", "popularity_measure": "windowed", "window": "6h"},
        "redundancy": {"popularity_threshold": 5},
        "outputs": {"timeline_interval": "30min"},
    }, 0.9))
    held, sim = run_checking_capacity(cfg)
    w = sim.world
    assert w.disk_failures.count > 20 and len(sim.migrator.table) > 20
    assert len(held) > 45 and all(held)
    st = w.state
    assert st.recount()["n_short"] == st.n_short and st.recount()["n_lost"] == st.n_lost
    dk = w.cluster.disks
    live = st.slot_has_data & (st.slot_node >= 0)
    assert not dk.failed[dk.slot_disk[live]].any()                 # no live slot sits on a failed disk


def weekly_failures(start_new: bool, seed: int) -> int:
    cfg = config({"run": {"seed": seed, "duration": "7d"},
                  "catalog": {"videos": 10, "chunks_per_video": 2},
                  "cluster": {"nodes": 100, "racks": 10, "disks_per_node": 20},
                  "failures": {"disk_mttf": "30d", "disk_ttf_distribution": "weibull", "disk_weibull_shape": 1.12,
                               "disk_replacement_delay": 0, "start_new": start_new}})
    sim = Simulation(cfg).build().start().run()
    return sim.world.disk_failures.count


def test_disk_failures_in_the_first_week_come_at_the_stationary_rate_or_the_new_disk_rate():
    # 2,000 Weibull(1.12) disks of mean 30 d, replaced at once. At equilibrium age a renewal process has
    # E[N(t)] = t / mean exactly: 2000 x 7 / 30 = 466.7. Brand new, E[N(t)] is the renewal function M(t)
    # of the Weibull lifetime, M = F + M * dF (from a hazard rising from 0): 2000 M(7 d) = 370.2.
    # The counts are Poisson-like; each is checked at 99.9 % (3.3 sd).
    mean = 30.0
    scale = mean / math.gamma(1 + 1 / 1.12)
    stationary = 2000 * 7 / mean
    fresh = 2000 * _renewal_function(7.0, lambda x: 1 - np.exp(-(x / scale) ** 1.12))
    assert 360 < fresh < 385
    n_stat = weekly_failures(start_new=False, seed=1)
    n_new = weekly_failures(start_new=True, seed=1)
    assert abs(n_stat - stationary) <= 3.3 * math.sqrt(stationary), n_stat
    assert abs(n_new - fresh) <= 3.3 * math.sqrt(fresh), n_new


def _renewal_function(t: float, cdf, steps: int = 2_000) -> float:
    """M(t) = F(t) + int_0^t M(t - x) dF(x), solved on a grid (error well under 0.1 % here)."""
    h = t / steps
    f = cdf(np.arange(steps + 1) * h)
    df = np.diff(f)                                   # dF over each step, at its midpoint
    m = np.zeros(steps + 1)
    for i in range(1, steps + 1):
        m[i] = f[i] + np.dot(df[:i], (m[i - 1::-1][:i] + m[i::-1][:i]) / 2)
    return float(m[-1])


def test_exponential_disk_failures_come_at_one_per_mttf_plus_replacement_delay():
    # Each disk alternates life (Exp, mean 10 d) and replacement (1 d): 2,000 disks over 30 days fail
    # about 2000 x 30 / 11 = 5,455 times; the exact mean from a fresh life is the renewal sum below
    # (5,573). The count is checked at 99.9 % (3.3 sd of a Poisson count, which over-states the spread
    # of a renewal count with a fixed delay).
    cfg = config({"run": {"seed": 3, "duration": "30d"},
                  "catalog": {"videos": 10, "chunks_per_video": 2},
                  "cluster": {"nodes": 100, "racks": 10, "disks_per_node": 20},
                  "failures": {"disk_mttf": "10d", "disk_replacement_delay": "1d"}})
    sim = Simulation(cfg).build().start().run()
    n = sim.world.disk_failures.count
    expected = 2000 * _alternating_renewal_mean(30.0, 10.0, 1.0)
    assert abs(n - expected) <= 3.3 * math.sqrt(expected), (n, expected)


def _alternating_renewal_mean(t: float, life: float, delay: float) -> float:
    """E[failures in [0, t]] when a disk lives Exp(life), then is out for ``delay``, and so on.

    The j-th failure comes at S_j + (j - 1) delay with S_j ~ Gamma(j, life), so
    E[N(t)] = sum_j P(Gamma(j, life) <= t - (j - 1) delay)."""
    total, j = 0.0, 1
    while (j - 1) * delay < t:
        p = gammainc(j, (t - (j - 1) * delay) / life)
        total += p
        if p < 1e-12:
            break
        j += 1
    return total


@pytest.mark.parametrize("bad, key", [
    ({"failures": {"scheduled": [{"at": 10, "node": 1, "disk": 4}]}}, "failures.scheduled.0.disk"),
    ({"failures": {"scheduled": [{"at": 10, "rack": 1, "disk": 0}]}}, "disk"),
    ({"failures": {"scheduled": [{"at": 10, "node": 1, "disk": 0, "kind": "transient"}]}}, "kind"),
])
def test_a_bad_scheduled_disk_failure_is_refused_naming_the_key(bad, key):
    with pytest.raises(ValueError, match=key):
        spread(**bad)
