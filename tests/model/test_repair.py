"""Repair: traffic identities, ordering, caps and the payload audit under many failures."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.builders import config, fail, frames_equal, layout, one_stripe
from vstack_sim.model.simulation import Simulation, simulate

DAY = 86400.0
CHUNK = 2 * 2**20
FRAG = 699_051      # ceil(2 MiB / 3)


def cluster_with_failures(policy="adaptive", seed=7, **extra):
    return config({
        "name": "repairs", "run": {"seed": seed, "duration": "20d"},
        "catalog": {"videos": 60, "chunks_per_video": 8, "hot_fraction": 0.2},
        "cluster": {"nodes": 12, "racks": 4},
        "redundancy": {"policy": policy},
        "failures": {"node_mttf": "15d", "permanent_fraction": 0.5, "transient_downtime": "1h"},
    }, extra)


def test_repair_traffic_equals_k_fragments_per_rebuilt_fragment_and_one_chunk_per_replica():
    r = simulate(cluster_with_failures())
    rep = r.repairs
    ec, rp = rep[rep["mode"] == "erasure_coding"], rep[rep["mode"] == "replication"]
    assert len(ec) > 50 and len(rp) > 5
    assert (ec["bytes_read"] == 3 * FRAG).all() and (ec["bytes_written"] == FRAG).all()
    assert (rp["bytes_read"] == CHUNK).all() and (rp["bytes_written"] == CHUNK).all()
    s = r.summary["recovery"]
    assert s["repair_bytes_read"] == 3 * FRAG * len(ec) + CHUNK * len(rp)
    assert s["repair_bytes_written"] == FRAG * len(ec) + CHUNK * len(rp)
    assert (rep["end_s"] > rep["start_s"]).all()
    # Every job carries the failure it rebuilds after, whenever it started.
    f = r.failures.set_index("failure_id")
    assert (rep["failure_id"] >= 0).all() and f.loc[rep["failure_id"], "declared"].all()


def test_most_endangered_chunk_is_repaired_first():
    base = {"catalog": {"videos": 40, "chunks_per_video": 1, "hot_fraction": 0},
            "cluster": {"nodes": 10, "racks": 10},
            "repair": {"streams_per_node": 1, "source_streams_per_node": 0, "bandwidth": "1MB/s"}}
    rows = Simulation(config(base)).build().world.state.slot_node
    a, b = 0, 1
    both = set(np.flatnonzero((rows == a).any(axis=1) & (rows == b).any(axis=1)).tolist())
    assert len(both) >= 2
    # Both nodes fail at once; a's declaration comes first, while b is down but not yet declared,
    # so the chunks on both have surplus 0 and the others surplus 1. With 8 streams for 20 jobs,
    # the first batch must hold every doubly-hit chunk.
    r = simulate(config(base, {"failures": {"scheduled": [fail(DAY, a), fail(DAY, b)],
                                            "replacement_delay": "30d"}}))
    rep = r.repairs
    first_batch = rep[(rep["failure_id"] == 0) & (rep["start_s"] == DAY + 900)]
    assert len(first_batch) == 8
    assert both <= set(first_batch["chunk_id"])
    assert r.summary["durability"]["chunks_lost"] == 0


def test_repair_streams_cap_concurrent_jobs():
    r = simulate(cluster_with_failures(repair={"streams_per_node": 1, "bandwidth": "20MB/s"}))
    rep = r.repairs.sort_values("start_s")
    events = np.concatenate([np.c_[rep["start_s"], np.ones(len(rep))], np.c_[rep["end_s"], -np.ones(len(rep))]])
    events = events[np.lexsort((events[:, 1], events[:, 0]))]
    running = np.cumsum(events[:, 1])
    assert running.max() <= 12     # one stream per node, 12 nodes at most


def test_payload_audit_passes_under_many_failures_including_permanent_ones():
    cfg = cluster_with_failures(catalog={"chunk_size": 3001, "videos": 40, "chunks_per_video": 5},
                                codec={"verify_payloads": True},
                                failures={"node_mttf": "4d", "permanent_fraction": 0.4},
                                workload={"view_rate": "1/min"})
    r = simulate(cfg)
    audit = r.summary["payload_audit"]
    assert r.summary["recovery"]["node_failures"] >= 10
    assert audit["repairs_verified"] == len(r.repairs) > 100
    assert audit["chunks_recovered"] + audit["lost_chunks_unrecoverable"] == 200
    assert audit["lost_chunks_unrecoverable"] == r.summary["durability"]["chunks_lost"]


def test_same_config_and_seed_give_identical_summary_and_tables():
    cfg = cluster_with_failures(workload={"view_rate": "2/min"}, migration={"check_interval": "6h"})
    a, b = simulate(cfg), simulate(cfg)
    assert a.summary == b.summary
    for name in a.tables:
        assert frames_equal(a.tables[name], b.tables[name]), name


@pytest.mark.parametrize("policy", ["replication", "erasure_coding"])
def test_policies_see_the_same_failures_and_views(policy):
    kw = dict(workload={"view_rate": "2/min"}, run={"duration": "5d"})
    a, b = simulate(cluster_with_failures(**kw)), simulate(cluster_with_failures(policy, **kw))
    cols = ["time_s", "node", "kind"]
    fa, fb = a.failures[cols], b.failures[cols]
    assert len(fa) > 3 and frames_equal(fa, fb)
    va, vb = a.views[["time_s", "video_id"]], b.views[["time_s", "video_id"]]
    assert len(va) > 1000 and frames_equal(va, vb)


def test_incremental_totals_match_a_full_recount_after_failures_repairs_and_migrations():
    cfg = cluster_with_failures(workload={"view_rate": "3/min"}, migration={"check_interval": "2h"},
                                failures={"node_mttf": "5d", "rack_mttf": "20d", "rack_downtime": "2h"})
    sim = Simulation(cfg).build().start().run()
    st = sim.world.state
    again = st.recount()
    assert st.existing_slots == again["existing_slots"]
    assert (st.n_short, st.n_unavailable, st.n_lost) == (again["n_short"], again["n_unavailable"], again["n_lost"])
    assert sim.world.repair.table.to_frame().shape[0] > 100
    live = st.slot_has_data & (st.slot_node >= 0)
    assert (live.sum(axis=1) == st.exist).all()
    up = sim.world.cluster.up[np.maximum(st.slot_node, 0)]
    assert ((live & up).sum(axis=1) == st.avail).all()


class CheckedSimulation(Simulation):
    """A run that checks the ``used`` invariant at every timeline sample."""

    def _sample(self, t):
        super()._sample(t)
        w = self.world
        st, cl = w.state, w.cluster
        live = st.slot_has_data & (st.slot_node >= 0)
        slot_bytes = np.broadcast_to(st.mode_slot_bytes[st.mode][:, None], live.shape)
        held = np.bincount(st.slot_node[live], weights=slot_bytes[live], minlength=cl.n_nodes)
        expected = held.astype(np.int64) + w.stale_bytes + cl.reserved + cl.repairing
        assert (cl.used == expected).all(), (t, np.flatnonzero(cl.used != expected))
        assert int(cl.used.sum()) == w.held_bytes() + int(cl.repairing.sum())
        assert int(cl.reserved.sum()) == w.conversion_bytes
        self.samples = getattr(self, "samples", 0) + 1


failure = st.tuples(st.integers(0, 9), st.floats(0, DAY), st.sampled_from(["transient", "permanent"]),
                    st.floats(60, 6 * 3600))


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(failures=st.lists(failure, min_size=1, max_size=6), seed=st.integers(0, 2**16))
def test_used_equals_the_bytes_each_node_holds_plus_its_reserved_conversion_writes(failures, seed):
    # Scheduled failures of every kind over views that push videos across the threshold and
    # back (windowed counts), so conversions run while nodes fail, return and are replaced.
    cfg = config({
        "run": {"seed": seed, "duration": "1d"},
        "catalog": {"videos": 24, "chunks_per_video": 3, "chunk_size": 30_000, "hot_fraction": 0.2,
                    "zipf_alpha": 0.3},
        "cluster": {"nodes": 10, "racks": 5},
        "repair": {"bandwidth": "100kB/s"},
        "migration": {"check_interval": "30min", "popularity_measure": "windowed", "window": "2h",
                      "window_resolution": "30min", "conversion_rate": "20kB/s"},
        "workload": {"view_rate": "0.3/s"},
        "failures": {"detection_timeout": "20min", "replacement_delay": "3h",
                     "scheduled": [fail(at, n, kind, d) for n, at, kind, d in failures]},
        "outputs": {"timeline_interval": "10min"},
    })
    sim = CheckedSimulation(cfg).build().start().run().finalize()
    assert sim.samples > 100
    assert len(sim.migrator.table) > 0


def concurrency(intervals: np.ndarray) -> int:
    """Most intervals [start, end) open at one instant (an end before a start at equal times)."""
    if not len(intervals):
        return 0
    events = np.concatenate([np.c_[intervals[:, 0], np.ones(len(intervals))],
                             np.c_[intervals[:, 1], -np.ones(len(intervals))]])
    events = events[np.lexsort((events[:, 1], events[:, 0]))]
    return int(np.cumsum(events[:, 1]).max())


def test_per_node_repair_caps_hold_at_every_instant_in_both_directions():
    cfg = config({
        "run": {"duration": "3d"},
        "catalog": {"videos": 150, "chunks_per_video": 8, "hot_fraction": 0.2},
        "cluster": {"nodes": 20, "racks": 5},
        "repair": {"streams_per_node": 2, "source_streams_per_node": 3, "bandwidth": "100MB/s"},
        "failures": {"scheduled": [fail(3600, 0), fail(3700, 7, "transient", "2h")], "replacement_delay": "1d"},
    })
    r = simulate(cfg)
    rep = r.repairs
    assert len(rep) > 300 and r.summary["durability"]["chunks_lost"] == 0
    assert (rep["start_s"] <= rep["transfer_start_s"]).all()
    assert (rep["transfer_start_s"] < rep["transfer_end_s"]).all() and (rep["transfer_end_s"] < rep["end_s"]).all()
    span = rep[["transfer_start_s", "transfer_end_s"]].to_numpy()
    worst_in = max(concurrency(span[(rep["target_node"] == n).to_numpy()]) for n in range(20))
    sources = rep["source_nodes"].map(lambda x: [int(n) for n in x.split()])
    worst_out = max(concurrency(span[sources.map(lambda ns, n=n: n in ns).to_numpy()]) for n in range(20))
    assert worst_in == 2 and worst_out == 3          # the caps are reached, never exceeded
    # Incoming repair bytes/s of each node, at every instant: the sum of its open transfers' rates.
    rate = rep["bytes_read"] / (rep["transfer_end_s"] - rep["transfer_start_s"])
    for n in range(20):
        mine = (rep["target_node"] == n).to_numpy()
        if not mine.any():
            continue
        t = np.unique(span[mine, 0])
        open_at = (span[mine, 0][None, :] <= t[:, None]) & (t[:, None] < span[mine, 1][None, :])
        assert (open_at @ rate[mine].to_numpy()).max() <= 100e6 * (1 + 1e-9)


def test_a_repair_whose_source_is_destroyed_mid_read_restarts_from_other_sources():
    base = one_stripe(8, repair={"bandwidth": "10B/s", "streams_per_node": 0,    # 3 x 1001 bytes take 300 s
                                 "source_choice": "primary"})
    nodes = layout(config(base))
    declared = DAY + 900
    # Slot 4 fails; its rebuild reads slots 0, 1, 2 (primary: data first); slot 0's node is
    # destroyed 100 s into the transfer. The job starts again from slots 1, 2, 3.
    cfg = config(base, {"failures": {"scheduled": [fail(DAY, nodes[4]), fail(declared + 100, nodes[0])],
                                     "replacement_delay": "30d"}})
    r = simulate(cfg)
    rep = r.repairs.set_index("slot")
    assert sorted(rep.index) == [0, 4]
    assert rep.loc[4, "start_s"] == declared + 100 and rep.loc[4, "failure_id"] == 0
    assert rep.loc[4, "source_nodes"] == " ".join(str(nodes[j]) for j in (1, 2, 3))
    assert nodes[0] not in [int(n) for n in rep.loc[0, "source_nodes"].split()]
    assert r.summary["durability"]["chunks_lost"] == 0
    assert r.summary["payload_audit"]["repairs_verified"] == 2
    assert r.summary["payload_audit"]["chunks_recovered"] == 1


def one_replica_repair(io_model):
    base = {"run": {"duration": "1d"},
            "catalog": {"videos": 1, "chunks_per_video": 1, "hot_fraction": 1.0, "chunk_size": 2 * 2**20},
            "cluster": {"nodes": 4, "racks": 4},
            "redundancy": {"policy": "replication"},
            "repair": {"io_model": io_model}}
    holder = layout(config(base))[0]
    rep = simulate(config(base, {"failures": {"detection_timeout": 60,
                                              "scheduled": [fail(100.0, holder, "permanent", "1h")]}})).repairs
    assert len(rep) == 1
    return rep["start_s"].iloc[0], rep["end_s"].iloc[0]


def test_pipelined_repair_overlaps_read_transfer_and_write_and_serial_adds_them():
    S, disk, nic, stream, lat = 2 * 2**20, 50e6, 1.25e9, 100e6 / 2, 0.004
    read = lat + S / disk
    start, end = one_replica_repair("pipelined")
    assert start == 160.0
    # The write starts when the data still to come takes as long as writing it: at 160 + 4 ms.
    assert end - start == pytest.approx(max(read, S / stream) - S / disk + read, abs=1e-9)
    start, end = one_replica_repair("serial")
    assert end - start == pytest.approx(read + S / nic + S / stream + read, abs=1e-9)
