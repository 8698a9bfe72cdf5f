"""Client timeouts (reads.failure_timeout, reads.failure_detection): hand-computed failovers and the latency
spike of a node failure."""

import numpy as np
import pytest

from tests.builders import config, fail, layout, one_stripe
from vstack_sim.model.read_failover import NO_DEAD_NODES
from vstack_sim.model.simulation import Simulation, simulate

S = 2 * 2**20
DISK_BW, REQ_LAT, CLIENT_BW, NET_LAT, NIC_BW = 50e6, 0.004, 1.25e8, 0.0005, 1.25e9
FRESH = REQ_LAT + S / DISK_BW + S / NIC_BW + S / CLIENT_BW + NET_LAT


def primary_reads(views, timeout=2.0, detection=10.0):
    """Three replicas on three nodes in three racks (reader of view v: rack v mod 3); primary reads; the
    primary's node fails at 10.02 s."""
    base = {"run": {"duration": 3600},
            "catalog": {"videos": 1, "chunks_per_video": 1, "hot_fraction": 1.0},
            "cluster": {"nodes": 3, "racks": 3, "client_bandwidth": CLIENT_BW},
            "redundancy": {"policy": "replication"},
            "reads": {"replica_choice": "primary", "failure_timeout": timeout, "failure_detection": detection}}
    primary = layout(config(base))[0]
    return simulate(config(base, {
        "failures": {"detection_timeout": "30d", "scheduled": [fail(10.02, primary, "transient", "1h")]},
        "workload": {"scheduled_views": [{"at": t, "video": 0} for t in views]}}))


def test_reads_to_a_failed_node_wait_for_their_timeout_or_the_readers_detection():
    r = primary_reads([10.0, 11.0, 19.0, 21.0])
    reads = r.reads.sort_values("view_id")
    lost = [2.0, 2.0, 1.02, 0.0]
    # view 0 (reader 0): in flight at the failure, its timeout fires 2 s after sending it (12.0 s);
    # view 1 (reader 1): sent to the failed node at 11 s, times out at 13 s;
    # view 2 (reader 2): sent at 19 s, its reader learns at 20.02 s (before its timeout at 21 s);
    # view 3 (reader 0): its reader learned at 12 s: straight to the next replica.
    assert list(reads["latency_ms"] / 1000.0) == pytest.approx([x + FRESH for x in lost], abs=1e-9)
    assert list(reads["failed_over"]) == [True, True, True, False]
    assert r.summary["reads"]["failover_lost_ms"]["max"] == pytest.approx(2000.0)


def test_zero_delays_are_the_instant_failover():
    r = primary_reads([10.0, 11.0], timeout=0.0, detection=0.0)
    reads = r.reads.sort_values("view_id")
    assert list(reads["latency_ms"] / 1000.0) == pytest.approx([0.02 + FRESH, FRESH], abs=1e-9)


# The failure spike (issue 21, "What it must show"). 30 views/s of 10 chunks on 6 nodes of twelve HDDs:
# about 300 reads/s, so a minute holds ~18,000 reads and its p99.9 is ~18 reads deep, not one outlier.
# Random replica choice sends 1/6 of reads to the failed node until readers learn of it (20 s, the default
# failure_detection): ~1,000 reads, ~5 % of the minute, each waiting the timeout (5 s, the default).
SPIKE_AT, SPIKE_TIMEOUT, SPIKE_DETECTION = 600.0, 5.0, 20.0
# "Near baseline": afterwards the five surviving nodes carry 6/5 of the reads. At this load (each disk ~6 %
# busy) that moves p99.9 by a few per cent (measured: 50.6 ms before, 52.2 ms after); 1.2x allows for it and
# is still 1/80 of the spike a single timeout makes.
NEAR_BASELINE = 1.2


def spike_windows(timeout: float) -> dict:
    """p99.9 read latency (ms) and read count: before the failure, the minute after it, and from when the
    readers know of it (failure_detection, plus one timeout for the last timed-out reads) to the end."""
    cfg = config({
        "run": {"duration": "20min", "seed": 5},
        "catalog": {"videos": 200, "chunks_per_video": 10, "hot_fraction": 1.0},
        "cluster": {"nodes": 6, "racks": 3, "device": "hdd", "client_bandwidth": "10Gbps"},
        "redundancy": {"policy": "replication"},
        "reads": {"replica_choice": "random", "failure_timeout": timeout, "failure_detection": SPIKE_DETECTION},
        "failures": {"detection_timeout": "30d", "scheduled": [fail(SPIKE_AT, 2, "transient", "1h")]},
        "workload": {"view_rate": "30/s"}, "outputs": {"reads_table_sample": 0}})
    reads = simulate(cfg).reads
    t, lat = reads["time_s"].to_numpy(), reads["latency_ms"].to_numpy()

    def p999(lo, hi):
        inside = (t >= lo) & (t < hi)
        return float(np.percentile(lat[inside], 99.9)), int(inside.sum())

    return {"baseline": p999(0.0, SPIKE_AT), "minute": p999(SPIKE_AT, SPIKE_AT + 60.0),
            "after": p999(SPIKE_AT + SPIKE_DETECTION + timeout, 1200.0)}


def test_a_node_failure_is_a_latency_spike_until_readers_learn_of_it():
    w = spike_windows(SPIKE_TIMEOUT)
    (baseline, n0), (minute, n1), (after, n2) = w["baseline"], w["minute"], w["after"]
    assert min(n0, n1, n2) >= 15_000                                # p99.9 at least 15 reads deep
    assert minute > SPIKE_TIMEOUT * 1000.0                          # the minute after the failure
    assert after < NEAR_BASELINE * baseline                          # readers know: back near baseline
    assert baseline < 100.0


def test_the_spike_comes_from_the_timeout():
    """With failure_timeout 0 (readers still learn after 20 s), the same minute has no spike: the test above
    fails on its first latency assertion."""
    w = spike_windows(0.0)
    assert w["minute"][0] < NEAR_BASELINE * w["baseline"][0] < SPIKE_TIMEOUT * 1000.0


def test_a_view_avoids_every_node_it_timed_out_on():
    """Primary reads; the first two replicas' nodes fail at once (readers learn 20 s later). The read times out
    at the first (2 s), then at the second (2 s more), and then reads the third: it does not go back to the
    first, which it has timed out on already (HDFS's per-stream set of dead nodes)."""
    base = {"run": {"duration": 3600},
            "catalog": {"videos": 1, "chunks_per_video": 1, "hot_fraction": 1.0},
            "cluster": {"nodes": 3, "racks": 3, "client_bandwidth": CLIENT_BW},
            "redundancy": {"policy": "replication"},
            "reads": {"replica_choice": "primary", "failure_timeout": 2.0, "failure_detection": 20.0}}
    a, b, _ = layout(config(base))
    r = simulate(config(base, {
        "failures": {"detection_timeout": "30d",
                     "scheduled": [fail(10.0, a, "transient", "1h"), fail(10.0, b, "transient", "1h")]},
        "workload": {"scheduled_views": [{"at": 11.0, "video": 0}]}}))
    (read,) = r.reads.itertuples()
    assert read.failed_over and read.latency_ms / 1000.0 == pytest.approx(4.0 + FRESH, abs=1e-9)
    assert r.summary["reads"]["timed_out"] == 2


def test_a_cache_hit_in_flight_is_not_requeued_by_a_node_failure():
    """A cache hit (slots -2) reads no node: a failure does not requeue it, even when slot -2 of its chunk (an
    EC chunk's first parity slot) is on the failed node."""
    sim = Simulation(config(one_stripe(5), {"cache": {"capacity": "16MiB"}})).build()
    reads = sim.reads
    reads.serve_until = lambda horizon: None         # only the requeueing is under test
    parity_node = int(sim.world.state.slot_node[0, -2])
    # view 0 of video 0: its chunk 0 read from the cache, in flight until 1 s
    reads.active[0] = [0, 1, 1, 0.0, 1, 3001, 1, 1.0, 0, -2, 0.0, 0.0, NO_DEAD_NODES]
    reads.node_failed(parity_node)
    assert reads.active[0][1] == 1 and not reads.heap
