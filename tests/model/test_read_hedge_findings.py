"""Regressions from a red-team pass on hedged reads (reads.hedge_after) and the daemons' CPU stage
(cluster.cpu_cores_per_node).

Each test failed on the first version of these features (its docstring says what that version gave) and states
the expected number with its hand computation.
The small cases reuse test_read_hedge's: one chunk with a replica on each of 3 nodes, one-slot disks, views at
10.0 s, a hedge after 70 ms; SERVICE = 4 ms + 2 MiB / 50 MB/s (45.94 ms), TAIL = NIC + client link + latency
(18.95 ms).
"""

import pytest

from tests.builders import config, fail, layout
from tests.model.test_migration import crowd
from tests.model.test_read_hedge import AFTER, SERVICE, TAIL, reads_at_once, run
from vstack_sim.model.reads import ReadPath
from vstack_sim.model.simulation import Simulation, simulate


def test_a_failover_hedge_with_no_replica_to_go_to_is_not_sent_nor_won():
    """Replicas on a, b, c (primary choice). a and c fail at 5 s and readers know at 6 s (failure_detection 1 s);
    b fails at 9.99 s, unknown until 10.99 s. The view's read at 10 s goes to b (the only replica it believes up)
    and never answers. A hedge needs "another live replica the reader believes up": there is none, so no hedge
    is sent, and the read fails over at min(10 + failure_timeout 2, 10.99) = 10.99 s (990 ms lost), unavailable.
    Got: hedge_instead_of_timeout counts a hedge sent and *won* and fails the read over at 10.5 s (500 ms)."""
    base = {"run": {"duration": 3600}, "catalog": {"videos": 1, "chunks_per_video": 1, "hot_fraction": 1.0},
            "cluster": {"nodes": 3, "racks": 3, "client_bandwidth": 1.25e8},
            "redundancy": {"policy": "replication"},
            "reads": {"replica_choice": "primary", "failure_timeout": 2.0, "failure_detection": 1.0,
                      "hedge_after": 0.5}}
    a, b, c = layout(config(base))
    r = simulate(config(base, {
        "failures": {"detection_timeout": "30d", "scheduled": [
            fail(5.0, a, "transient", "1h"), fail(5.0, c, "transient", "1h"), fail(9.99, b, "transient", "1h")]},
        "workload": {"scheduled_views": [{"at": 10.0, "video": 0}]}}))
    assert r.reads["reason"].tolist() == ["unavailable"]
    h = r.summary["reads"]["hedges"]
    assert (h["sent"], h["won"]) == (0, 0)
    assert r.summary["reads"]["failover_lost_ms"]["max"] == pytest.approx(990.0, abs=1e-6)


def test_cpu_utilisation_counts_only_the_runs_time():
    """One core, 10 s per operation, ten reads of one chunk at 10 s on its primary's node, a 60 s run: the core
    is busy from 10 s to the end, 50 s of the run's 60 s, so that node's utilisation is 50 / 60 = 0.833 (and no
    utilisation can exceed 1). Got: every operation taken counts in full, work scheduled up to 110 s included:
    busy_s 100, utilisation_max 1.667."""
    cfg = config({"run": {"duration": 60}, "catalog": {"videos": 1, "chunks_per_video": 1, "hot_fraction": 1.0},
                  "cluster": {"nodes": 3, "racks": 3, "cpu_cores_per_node": 1, "cpu_per_op": 10.0, "cpu_per_byte": 0},
                  "redundancy": {"policy": "replication"}, "reads": {"replica_choice": "primary"},
                  "workload": {"scheduled_views": [{"at": 10.0, "video": 0}] * 10}})
    cpu = simulate(cfg).summary["cpu"]
    assert cpu["utilisation_max"] <= 1.0
    assert cpu["utilisation_max"] == pytest.approx(50.0 / 60.0, abs=1e-6)


def test_a_hedge_cancelled_at_its_disk_has_still_spent_its_cpu():
    """test_a_hedge_cancelled_before_it_starts with one core per node and 1 ms per operation (no per-byte cost).
    Five reads at 10 s: their CPU work is done by 10.003 s. Three hedges at 10.07 s (views 1, 2, 4); view 4's goes
    to slot 0's node: its CPU work runs 10.070-10.071 s, then it would wait for slot 0's disk (busy until
    10.001 + 3 SERVICE = 10.1388 s), after view 4's primary answers (10.001 + 2 SERVICE + TAIL = 10.1118 s):
    cancelled at its disk, as the rule says. But it had passed the CPU 41 ms before the withdrawal, so that core
    time is spent: 5 reads + 3 hedges = 8 ms. Got 7 ms: a cancelled hedge is charged no CPU (would_finish), so
    the docstring's "exact: leaves every request behind it where it would have been" does not hold for the CPU."""
    cfg = config(reads_at_once(5, "random").model_dump(),
                 {"cluster": {"cpu_cores_per_node": 1, "cpu_per_op": 0.001, "cpu_per_byte": 0},
                  "reads": {"hedge_withdraw": "keep"}})        # the exact queue has no CPU stage
    sim = Simulation(cfg).build()
    sim.reads._rand = list(reversed([0.0, 0.0, 0.0, 0.4, 0.4, 0.9, 0.9, 0.0]))
    r = sim.start().run().finalize().collect()
    h = r.summary["reads"]["hedges"]
    assert (h["sent"], h["lost"], h["cancelled"]) == (3, 2, 1)          # as hand-computed above
    assert r.summary["cpu"]["busy_s"] == pytest.approx(0.008, abs=1e-9)


def test_a_hedge_in_flight_answers_when_its_primarys_node_fails():
    """test_a_hedge_that_wins_and_one_that_loses, with the primary's node failing at 10.08 s (transient; readers
    learn at 20.08 s, timeout 2 s). View 1's hedge went at 10.07 s to slot 1 (idle) and answers at
    10.07 + SERVICE + TAIL = 10.1349 s; its primary (due at 10.1108 s, not yet out of the NIC at 10.08 s) now
    never answers. So the hedge wins: view 1's latency 134.9 ms, the same as view 2's. Got: the read is failed
    over at 10.08 s as a fresh read, which goes to slot 1 too and queues behind its own hedge:
    10.07 + SERVICE + SERVICE + TAIL = 180.8 ms, and that re-read is hedged once more (3 hedges sent, not 2)."""
    cfg0 = reads_at_once(3, "primary")
    primary = layout(cfg0)[0]
    cfg = config(cfg0.model_dump(), {
        "reads": {"failure_timeout": 2.0, "failure_detection": 10.0},
        "failures": {"detection_timeout": "30d", "scheduled": [fail(10.08, primary, "transient", "1h")]}})
    got, h = run(cfg, [0.0, 0.9])
    assert got == pytest.approx([SERVICE + TAIL, AFTER + SERVICE + TAIL, AFTER + SERVICE + TAIL], abs=1e-9)
    assert h["sent"] == 2


def test_a_pending_hedge_does_not_read_a_chunk_converted_to_ec(monkeypatch):
    """Video 10 converts back to RS(3,2) at 9 h (test_migration's crowd); views read it meanwhile, hedged after
    50 ms. A hedge due when its chunk's conversion has just completed reads the layout of *now*: an
    erasure-coded one, sending a whole-chunk request (2 MiB) to a fragment's slot (the fragment is 0.7 MB),
    which may even 'win' and become the read's replica slot. Expected: a hedge goes only to a replica (of the
    layout the primary read). Got: about two dozen hedges fired on erasure-coded chunks."""
    fired_on_ec = []
    orig = ReadPath.fire_hedge

    def spy(self, vid, v, due, t):
        c = int(self.w.catalog.first_chunk[v[0]]) + v[1] - 1
        before = self.hedges_sent
        orig(self, vid, v, due, t)
        if self.w.state.mode[c] != 0 and self.hedges_sent > before:
            fired_on_ec.append((t, c))

    monkeypatch.setattr(ReadPath, "fire_hedge", spy)
    views = [{"at": 32400 + 0.01 * i, "video": 10} for i in range(1500)]
    r = simulate(crowd("windowed", hysteresis=0.5, migration={"conversion_rate": "2MB/s"},
                       reads={"hedge_after": 0.05}, workload={"scheduled_views": views}))
    assert ((r.migrations["video_id"] == 10) & (r.migrations["to_mode"] == "erasure_coding")).any()
    assert fired_on_ec == []


def test_the_oracle_sees_the_cpu_queue_too():
    """Two nodes, two disks each, one core, 50 ms per operation; chunk 0 on nodes [0, 1], chunk 1 on [1, 0], every
    disk idle. View 0 reads chunk 0 at 10 s on node 0 (tie kept, U = 0.9): node 0's core is busy until 10.05 s.
    View 1 reads chunk 1 at 10 s: both disks idle, but node 0's operation would start at its disk only at
    10.10 s, node 1's at 10.05 s. The oracle ("the replica whose disk would start it soonest, perfect knowledge of
    every queue") takes node 1 whatever the tie draw: both views 50 ms + SERVICE' + TAIL = 114.9 ms. Got: the
    oracle compares the disks' free times only, breaks the tie towards node 0 (U = 0.1), and view 1 takes
    164.9 ms, waiting at a CPU it was supposed to see."""
    cfg = config({"run": {"duration": 3600}, "catalog": {"videos": 2, "chunks_per_video": 1, "hot_fraction": 1.0},
                  "cluster": {"nodes": 2, "racks": 2, "disks_per_node": 2, "io_slots": 1, "cpu_cores_per_node": 1,
                              "cpu_per_op": 0.05, "cpu_per_byte": 0},
                  "redundancy": {"policy": "replication", "replication_factor": 2},
                  "reads": {"replica_choice": "oracle"},
                  "workload": {"scheduled_views": [{"at": 10.0, "video": 0}, {"at": 10.0, "video": 1}]}})
    sim = Simulation(cfg).build()
    assert sim.world.state.slot_node[:2, :2].tolist() == [[0, 1], [1, 0]]
    sim.reads._rand = list(reversed([0.9, 0.1]))
    r = sim.start().run().finalize().collect()
    lat = r.reads.sort_values("view_id")["latency_ms"].tolist()
    assert lat[1] == pytest.approx(lat[0], abs=1e-9)
