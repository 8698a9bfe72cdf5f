"""Hedged reads (reads.hedge_after) by hand: one chunk with a replica on each of 3 nodes, views reading it at the
same instant on one-slot disks (the cases of test_replica_choice), a hedge after 70 ms."""

import numpy as np
import pytest

from tests.builders import config, fail, layout
from vstack_sim.model.read_hedge import EVERY
from vstack_sim.model.simulation import Simulation, simulate

S = 2 * 2**20
DISK_BW, REQ_LAT, CLIENT_BW, NET_LAT, NIC_BW = 50e6, 0.004, 1.25e8, 0.0005, 1.25e9
SERVICE = REQ_LAT + S / DISK_BW                   # one replica read on its disk (45.9 ms)
TAIL = S / NIC_BW + S / CLIENT_BW + NET_LAT       # out of the node's NIC, through the reader's link (19.0 ms)
AFTER = 0.07                                      # above one unqueued read (64.9 ms), below two in line


def reads_at_once(n_views: int, choice: str, after=AFTER):
    return config({
        "run": {"duration": 3600},
        "catalog": {"videos": 1, "chunks_per_video": 1, "hot_fraction": 1.0},
        "cluster": {"nodes": 3, "racks": 2, "io_slots": 1, "client_bandwidth": CLIENT_BW},
        "redundancy": {"policy": "replication"},
        "reads": {"replica_choice": choice, "hedge_after": after},
        "workload": {"scheduled_views": [{"at": 10.0, "video": 0}] * n_views}})


def run(cfg, draws=()):
    """Latencies (s) by view, and the summary's hedges; ``draws``: the reads stream's next U[0, 1) values."""
    sim = Simulation(cfg).build()
    sim.reads._rand = list(reversed(draws))       # fixed draws: the pump pops from the end
    r = sim.start().run().finalize().collect()
    reads = r.reads.sort_values("view_id")
    assert (reads["kind"] == "replication").all()
    return list(reads["latency_ms"] / 1000.0), r.summary["reads"]["hedges"]


def test_a_hedge_that_wins_and_one_that_loses():
    # Primary reads: all three views queue on slot 0's disk, answering at 1, 2 and 3 services + the tail.
    # View 0 answers before 70 ms: no hedge. Views 1 and 2 hedge at 10.07 s, to slot 1 (U = 0.0 of slots
    # [1, 2]) and slot 2 (U = 0.9), both idle: each hedge answers at 10.07 + SERVICE + TAIL = 10.1349 s.
    # View 1's primary answers first (10.1108 s): its hedge loses, having started (spent). View 2's primary
    # would answer at 10.1568 s: its hedge wins; that primary had started at 10 + 2 SERVICE = 10.0919 s.
    got, hedges = run(reads_at_once(3, "primary"), [0.0, 0.9])
    assert got == pytest.approx([SERVICE + TAIL, 2 * SERVICE + TAIL, AFTER + SERVICE + TAIL], abs=1e-12)
    assert hedges == {"after": AFTER, "sent": 2, "won": 1, "lost": 1, "cancelled": 0, "unanswered": 0,
                      "primary_not_withdrawn": 0, "primary_withdrawn": 0, "withdraw": "exact", "extra_bytes": 2 * S,
                      "requests_held": 0, "delay_ms_at_end": 70.0}


def test_a_hedge_cancelled_before_it_starts():
    # Random choice: views 0-2 to slot 0 (U = 0.0), views 3-4 to slot 1 (U = 0.4). Hedges at 10.07 s for
    # views 1, 2 (slot 0, 2nd and 3rd in line) and 4 (slot 1, 2nd), in that order.
    # View 1 -> slot 2 (U = 0.9 of [1, 2]): idle, answers at 10.1349 s, after its primary (10.1108 s): lost.
    # View 2 -> slot 2 (U = 0.9): starts when view 1's hedge is done (10.07 + SERVICE = 10.1159 s), before its
    # primary answers (10.1568 s), so it is spent; it would answer at 10.1808 s: lost.
    # View 4 -> slot 0 (U = 0.0 of [0, 2]): busy until 10 + 3 SERVICE = 10.1378 s, after view 4's primary
    # answers (10.1108 s): cancelled before it starts, so it takes no disk time.
    got, hedges = run(reads_at_once(5, "random"), [0.0, 0.0, 0.0, 0.4, 0.4, 0.9, 0.9, 0.0])
    assert got == pytest.approx([SERVICE + TAIL, 2 * SERVICE + TAIL, 3 * SERVICE + TAIL, SERVICE + TAIL,
                                 2 * SERVICE + TAIL], abs=1e-12)
    assert (hedges["sent"], hedges["won"], hedges["lost"], hedges["cancelled"]) == (3, 0, 2, 1)
    assert hedges["extra_bytes"] == 2 * S


def test_a_cancelled_hedge_takes_no_disk_time():
    # As above, and a sixth view at 10.12 s reads slot 0 (U = 0.0): it queues behind views 0-2 only
    # (10.1378 s), as if view 4's hedge had never been sent, so it answers at 10.1378 + SERVICE + TAIL.
    cfg = reads_at_once(5, "random")
    cfg = config(cfg.model_dump(), {"workload": {"scheduled_views": [{"at": 10.0, "video": 0}] * 5
                                                 + [{"at": 10.12, "video": 0}]}})
    got, hedges = run(cfg, [0.0, 0.0, 0.0, 0.4, 0.4, 0.9, 0.9, 0.0, 0.0])
    assert got[5] == pytest.approx(3 * SERVICE - 0.12 + SERVICE + TAIL, abs=1e-12)
    assert hedges["cancelled"] == 1


def test_a_read_to_a_silent_node_is_hedged_before_its_timeout():
    # Primary reads; the primary's node fails at 10.02 s; readers learn of it at 20.02 s, time out after 2 s.
    # View 0, sent at 10.0 s, is in flight at the failure: its hedge fires at 10.5 s (not its timeout, 12 s).
    # View 1, sent to the silent node at 11 s, hedges at 11.5 s (not 13 s). Each hedge is the failover: a
    # fresh read of another replica.
    base = {"run": {"duration": 3600}, "catalog": {"videos": 1, "chunks_per_video": 1, "hot_fraction": 1.0},
            "cluster": {"nodes": 3, "racks": 3, "client_bandwidth": CLIENT_BW},
            "redundancy": {"policy": "replication"},
            "reads": {"replica_choice": "primary", "failure_timeout": 2.0, "failure_detection": 10.0,
                      "hedge_after": 0.5}}
    primary = layout(config(base))[0]
    r = simulate(config(base, {
        "failures": {"detection_timeout": "30d", "scheduled": [fail(10.02, primary, "transient", "1h")]},
        "workload": {"scheduled_views": [{"at": 10.0, "video": 0}, {"at": 11.0, "video": 0}]}}))
    fresh = SERVICE + TAIL
    reads = r.reads.sort_values("view_id")
    assert list(reads["latency_ms"] / 1000.0) == pytest.approx([0.5 + fresh, 0.5 + fresh], abs=1e-9)
    assert list(reads["failed_over"]) == [True, True]
    h = r.summary["reads"]["hedges"]
    assert (h["sent"], h["won"]) == (2, 2)


def test_the_percentile_delay_follows_the_last_reads():
    sim = Simulation(reads_at_once(1, "random", after="p90")).build()
    reads = sim.reads
    assert reads.hedge_delay == np.inf                 # no hedge before the first recomputation
    xs = np.random.default_rng(1).exponential(0.05, 3 * EVERY)
    for i, x in enumerate(xs):
        reads.observe(float(x))
        if i == EVERY - 2:
            assert reads.hedge_delay == np.inf
    assert reads.hedge_delay == pytest.approx(np.percentile(xs, 90))


def test_hedging_off_adds_nothing_to_the_summary():
    r = simulate(reads_at_once(3, "primary", after=None))
    assert "hedges" not in r.summary["reads"]


def test_every_hedge_is_accounted_for_under_load():
    r = simulate(config({
        "run": {"duration": 120}, "catalog": {"videos": 50, "chunks_per_video": 5, "hot_fraction": 1.0},
        "cluster": {"nodes": 6, "io_slots": 1}, "redundancy": {"policy": "replication"},
        "reads": {"hedge_after": "p80"}, "workload": {"view_rate": 20}}))
    h = r.summary["reads"]["hedges"]
    assert h["sent"] > 100
    assert h["sent"] == h["won"] + h["lost"] + h["cancelled"] + h["unanswered"]
    # A primary withdrawn for its winning hedge read nothing: that hedge's bytes are the read's, not extra.
    assert h["extra_bytes"] == (h["won"] + h["lost"] - h["primary_withdrawn"]) * S
    assert h["primary_not_withdrawn"] == 0 and 0 < h["primary_withdrawn"] <= h["won"]


def five_replicas(withdraw: str):
    """Five replicas on five one-slot disks; views 0-3 at 10 s and view 4 at 10.08 s, every primary on slot 0."""
    views = [{"at": 10.0, "video": 0}] * 4 + [{"at": 10.08, "video": 0}]
    return config({
        "run": {"duration": 3600},
        "catalog": {"videos": 1, "chunks_per_video": 1, "hot_fraction": 1.0},
        "cluster": {"nodes": 5, "racks": 5, "io_slots": 1, "client_bandwidth": CLIENT_BW},
        "redundancy": {"policy": "replication", "replication_factor": 5},
        "reads": {"replica_choice": "primary", "hedge_after": AFTER, "hedge_withdraw": withdraw},
        "workload": {"scheduled_views": views}})


def test_a_waiting_primary_is_withdrawn_and_the_read_behind_it_moves_up():
    # Primaries on slot 0's disk start at 10 + i SERVICE (view i). Views 1-3 hedge at 10.07 s, to slots 1, 2, 3
    # (U = 0.0, 0.3, 0.6 of four others), all idle: each hedge answers at 10.07 + SERVICE + TAIL = 10.1349 s.
    # View 1: its primary answers first (10.1108 s); the hedge started at once: lost, spent.
    # View 2: the hedge wins; its primary started at 10.0919 s, before 10.1349 s: spent.
    # View 3: the hedge wins; its primary would start at 10 + 3 SERVICE = 10.1378 s, after 10.1349 s: withdrawn,
    # so slot 0's disk is free from 10.1378 s. View 4 (10.08 s) starts there and answers at 10 + 4 SERVICE + TAIL
    # (10.2027 s), before its hedge (sent at 10.15 s to idle slot 4, U = 0.9, answering at 10.2149 s): lost.
    # Its latency, 10 + 4 SERVICE + TAIL - 10.08 s = 122.7 ms, shows the withdrawn primary's disk time given back.
    got, hedges = run(five_replicas("exact"), [0.0, 0.3, 0.6, 0.9])
    hedged = AFTER + SERVICE + TAIL
    assert got == pytest.approx([SERVICE + TAIL, 2 * SERVICE + TAIL, hedged, hedged,
                                 4 * SERVICE + TAIL - 0.08], abs=1e-12)
    assert hedges == {"after": AFTER, "sent": 4, "won": 2, "lost": 2, "cancelled": 0, "unanswered": 0,
                      "primary_not_withdrawn": 0, "primary_withdrawn": 1, "withdraw": "exact", "extra_bytes": 3 * S,
                      "requests_held": 1, "delay_ms_at_end": 70.0}


def test_keep_spends_the_waiting_primary():
    # The same with hedge_withdraw keep: view 3's primary keeps slot 0's disk until 10 + 4 SERVICE, so view 4
    # starts there and would answer at 10 + 5 SERVICE + TAIL = 10.2487 s; its hedge (10.2149 s) wins instead.
    got, hedges = run(five_replicas("keep"), [0.0, 0.3, 0.6, 0.9])
    hedged = AFTER + SERVICE + TAIL
    assert got == pytest.approx([SERVICE + TAIL, 2 * SERVICE + TAIL, hedged, hedged, hedged], abs=1e-12)
    assert (hedges["won"], hedges["lost"], hedges["primary_not_withdrawn"], hedges["primary_withdrawn"]) == (3, 1, 1, 0)
    assert hedges["extra_bytes"] == 4 * S


def test_reads_waiting_behind_a_hold_at_the_end_of_the_run_get_their_latency():
    # The run ends at 10.05 s, before any hedge is due (10.07 s): view 2's primary holds slot 0's disk (it would
    # start at 10.0919 s, after its hedge is due) and view 3's waits behind it. At the end what holds a disk is
    # taken as served, as the reads that joined their disks have their latencies beyond the end: view 3's primary
    # starts at 10 + 3 SERVICE and answers at 10 + 4 SERVICE + TAIL.
    cfg = config(five_replicas("exact").model_dump(), {"run": {"duration": 10.05},
                                                       "workload": {"scheduled_views": [{"at": 10.0, "video": 0}] * 4}})
    got, hedges = run(cfg)
    assert got == pytest.approx([SERVICE + TAIL, 2 * SERVICE + TAIL, 3 * SERVICE + TAIL, 4 * SERVICE + TAIL],
                                abs=1e-12)
    assert (hedges["sent"], hedges["requests_held"]) == (0, 1)
