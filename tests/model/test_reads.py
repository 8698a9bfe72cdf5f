"""The read path: hand-computed latencies, failures during reads, and reads agreeing with a SimPy Resource model."""

import numpy as np
import pytest
import simpy

from tests.builders import config, fail, layout, one_stripe
from vstack_sim.model.simulation import simulate

S = 2 * 2**20
F = 699_051
DISK_BW, REQ_LAT, CLIENT_BW, NET_LAT, NIC_BW = 50e6, 0.004, 1.25e8, 0.0005, 1.25e9
DECODE = 2.7e9
DAY = 86400.0


def single_node(views, io_slots=1):
    return config({
        "run": {"duration": 3600},
        "catalog": {"videos": 1, "chunks_per_video": 1, "hot_fraction": 1.0},
        "cluster": {"nodes": 1, "racks": 1, "io_slots": io_slots},
        "redundancy": {"policy": "replication", "replication_factor": 1},
        "workload": {"scheduled_views": [{"at": t, "video": 0} for t in views]},
    })


def test_one_replicated_read_without_contention_is_the_formula():
    r = simulate(single_node([10.0]))
    expected = REQ_LAT + S / DISK_BW + S / NIC_BW + S / CLIENT_BW + NET_LAT
    assert abs(r.reads["latency_ms"].iloc[0] - expected * 1000.0) < 1e-9
    assert r.reads["kind"].iloc[0] == "replication"
    assert abs(r.views["startup_latency_ms"].iloc[0] - expected * 1000.0) < 1e-9


def test_second_of_two_simultaneous_reads_waits_exactly_one_service_time():
    r = simulate(single_node([10.0, 10.0]))
    service = REQ_LAT + S / DISK_BW
    first, second = sorted(r.reads["latency_ms"] / 1000.0)
    assert abs((second - first) - service) < 1e-9


def test_two_io_slots_serve_two_simultaneous_reads_in_parallel_and_the_nic_sends_them_in_turn():
    r = simulate(single_node([10.0, 10.0], io_slots=2))
    a, b = sorted(r.reads["latency_ms"] / 1000.0)
    assert abs((b - a) - S / NIC_BW) < 1e-9       # the disks overlap; the node's NIC egress queues


def ec_stripe(views, **extra):
    return config(one_stripe(5, **extra), {"catalog": {"chunk_size": S},
                                           "codec": {"verify_payloads": False},
                                           "workload": {"scheduled_views": views}})


def test_ec_read_waits_for_the_slowest_of_k_data_fragments():
    # Two one-chunk EC videos read at the same instant on one-slot disks: the second read's
    # fragments on disks shared with the first wait one service time, the others none.
    frag_service = REQ_LAT + F / DISK_BW
    net = F / NIC_BW + 3 * F / CLIENT_BW + NET_LAT
    for seed in range(20):
        cfg = config({"run": {"duration": 3600, "seed": seed},
                      "catalog": {"videos": 2, "chunks_per_video": 1, "hot_fraction": 0},
                      "cluster": {"nodes": 6, "racks": 6, "io_slots": 1},
                      "workload": {"scheduled_views": [{"at": 10.0, "video": 0}, {"at": 10.0, "video": 1}]}})
        first, second = layout(cfg, 0)[:3], layout(cfg, 1)[:3]
        shared = len(set(first) & set(second))
        if 0 < shared < 3:
            break
    r = simulate(cfg)
    lat = r.reads.set_index("video_id")["latency_ms"] / 1000.0
    assert abs(lat[0] - (frag_service + net)) < 1e-9
    assert abs(lat[1] - (2 * frag_service + net)) < 1e-9     # the slowest of its 3 fragments waited
    assert set(r.reads["kind"]) == {"erasure_coding"}


def test_degraded_read_adds_the_decode_time():
    nodes = layout(ec_stripe([]))
    cfg = ec_stripe([{"at": DAY, "video": 0}],
                    failures={"detection_timeout": "30d", "scheduled": [fail(DAY - 10, nodes[1], "transient", "1h")]})
    r = simulate(cfg)
    read = r.reads.iloc[0]
    expected = REQ_LAT + F / DISK_BW + F / NIC_BW + 3 * F / CLIENT_BW + NET_LAT + 3 * F / DECODE
    assert read["kind"] == "degraded"
    assert abs(read["latency_ms"] / 1000.0 - expected) < 1e-9


def test_unavailable_read_is_counted_and_the_view_abandoned():
    nodes = layout(ec_stripe([]))
    sched = [fail(DAY - 10, n, "transient", "1h") for n in nodes[:3]]
    cfg = ec_stripe([{"at": DAY, "video": 0}, {"at": DAY + 7200, "video": 0}],
                    failures={"detection_timeout": "30d", "scheduled": sched})
    r = simulate(cfg)
    s = r.summary["reads"]
    assert s["count"] == 2 and s["failed"] == 1 and s["failed_unavailable"] == 1 and s["failed_lost"] == 0
    assert r.reads["reason"].iloc[0] == "unavailable" and np.isnan(r.reads["latency_ms"].iloc[0])
    assert list(r.views["failed"]) == [True, False]
    assert r.summary["views"]["count"] == 2                      # the failed view still counts


def test_one_late_binding_read_moves_k_plus_extra_fragments_through_the_client_link():
    r = simulate(ec_stripe([{"at": DAY, "video": 0}], workload={"late_binding_extra": 1}))
    read = r.reads.iloc[0]
    # Four idle disks finish together; the first k by slot are the data fragments: no decode.
    expected = REQ_LAT + F / DISK_BW + F / NIC_BW + 4 * F / CLIENT_BW + NET_LAT   # each node NIC sends its one fragment
    assert read["kind"] == "erasure_coding" and read["bytes"] == 4 * F
    assert abs(read["latency_ms"] / 1000.0 - expected) < 1e-9
    # Its extra I/O, in the summary beside hedging's: one fragment beyond k.
    assert r.summary["reads"]["late_binding"] == {"extra": 1, "extra_fragments": 1, "extra_bytes": F}


def test_late_binding_reads_past_a_fragment_on_a_node_down_that_the_reader_does_not_know_of():
    """k + 1 fragments requested, the first data fragment's node is down (readers learn only after 60 s): the
    other three arrive, the read is degraded (parity used), and nothing waits for the 5 s timeout."""
    nodes = layout(ec_stripe([]))
    cfg = ec_stripe([{"at": DAY, "video": 0}], workload={"late_binding_extra": 1},
                    reads={"failure_timeout": 5.0, "failure_detection": 60.0},
                    failures={"detection_timeout": "30d", "scheduled": [fail(DAY - 1, nodes[0], "transient", "1h")]})
    r = simulate(cfg)
    read = r.reads.iloc[0]
    expected = REQ_LAT + F / DISK_BW + F / NIC_BW + 3 * F / CLIENT_BW + NET_LAT + 3 * F / DECODE
    assert read["kind"] == "degraded" and read["bytes"] == 3 * F and not read["failed_over"]
    assert r.summary["reads"]["late_binding"]["extra_fragments"] == 0   # the fourth never arrived: no extra I/O
    assert read["latency_ms"] / 1000.0 == pytest.approx(expected, abs=1e-9)
    assert r.summary["reads"]["timed_out"] == 0


def test_late_binding_times_out_when_fewer_than_k_fragments_can_arrive():
    nodes = layout(ec_stripe([]))
    sched = [fail(DAY - 1, n, "transient", "1h") for n in nodes[:2]]
    cfg = ec_stripe([{"at": DAY, "video": 0}], workload={"late_binding_extra": 1},
                    reads={"failure_timeout": 5.0, "failure_detection": 60.0},
                    failures={"detection_timeout": "30d", "scheduled": sched})
    r = simulate(cfg)
    read = r.reads.iloc[0]
    assert read["failed_over"] and r.summary["reads"]["timed_out"] >= 1
    assert read["latency_ms"] / 1000.0 > 5.0


def test_late_binding_reads_that_used_a_parity_fragment_are_labelled_degraded():
    cfg = config({"run": {"duration": "2h"}, "catalog": {"videos": 30, "chunks_per_video": 2, "chunk_size": 30_000,
                                                          "hot_fraction": 0},
                  "cluster": {"nodes": 6, "racks": 6, "io_slots": 1, "disk_bandwidth": "5MB/s"},
                  "codec": {"verify_payloads": True},
                  "workload": {"view_rate": "5/s", "late_binding_extra": 2}})
    r = simulate(cfg)
    kinds = r.reads["kind"].value_counts()
    assert kinds["degraded"] > 0 and kinds["erasure_coding"] > 0
    # Every read that decoded (it used a parity fragment) says so, and only those.
    assert r.summary["payload_audit"]["degraded_reads_verified"] == kinds["degraded"]
    ok = r.reads[r.reads["kind"] != "failed"]
    assert (ok["bytes"] == 5 * 10_000).all()


def rs_video(chunks, down, duration="1h"):
    base = one_stripe(5, catalog={"chunks_per_video": chunks, "chunk_size": 30_000})
    nodes = layout(config(base))
    sched = [fail(DAY - 10, nodes[j], "transient", duration) for j in down]
    return config(base, {"failures": {"detection_timeout": "30d", "scheduled": sched},
                         "workload": {"scheduled_views": [{"at": DAY, "video": 0}]}}), nodes


def test_rs32_video_with_two_nodes_down_serves_every_read_degraded_and_decodes_for_real():
    cfg, nodes = rs_video(1, down=[0, 2])
    r = simulate(cfg)
    assert r.summary["reads"]["failed"] == 0
    assert set(r.reads["kind"]) == {"degraded"}
    assert r.summary["payload_audit"]["degraded_reads_verified"] == 1


def test_rs32_video_with_three_nodes_down_fails_reads_as_unavailable():
    cfg, _ = rs_video(1, down=[0, 2, 4])
    r = simulate(cfg)
    assert r.summary["reads"]["failed_unavailable"] == 1
    assert r.summary["durability"]["chunks_lost"] == 0


def test_views_read_chunks_in_order_each_when_the_previous_arrived():
    cfg = config({
        "run": {"duration": 3600}, "catalog": {"videos": 2, "chunks_per_video": 4, "hot_fraction": 0},
        "cluster": {"nodes": 6, "racks": 3},
        "workload": {"scheduled_views": [{"at": 5.0, "video": 1}]}})
    r = simulate(cfg)
    reads = r.reads
    assert list(reads["chunk_index"]) == [0, 1, 2, 3]
    arrive = reads["time_s"] + reads["latency_ms"] / 1000.0
    assert np.allclose(reads["time_s"].iloc[1:].to_numpy(), arrive.iloc[:-1].to_numpy(), rtol=0, atol=1e-9)
    v = r.videos.set_index("video_id").loc[1]
    assert v["view_count"] == v["starting_views"] + 1 and v["last_viewed"] == 5.0
    assert v["total_bytes_served"] == 4 * S


def test_playback_pacing_delays_later_chunks():
    cfg = config({
        "run": {"duration": 3600}, "catalog": {"videos": 1, "chunks_per_video": 3, "hot_fraction": 0},
        "cluster": {"nodes": 5, "racks": 5},
        "workload": {"chunk_playback_time": "4s", "scheduled_views": [{"at": 5.0, "video": 0}]}})
    r = simulate(cfg)
    assert list(r.reads["time_s"]) == [5.0, 9.0, 13.0]


def test_fast_disk_queues_match_a_simpy_resource_model_on_a_contended_workload():
    cfg = config({
        "run": {"duration": "20min", "seed": 3},
        "catalog": {"videos": 30, "chunks_per_video": 5, "hot_fraction": 1.0},
        # A NIC too fast to queue: this compares the disk queues alone with the Resource model.
        "cluster": {"nodes": 4, "racks": 2, "io_slots": 2, "network_bandwidth": 1e18},
        "redundancy": {"policy": "replication", "replication_factor": 1},
        "workload": {"view_rate": "12/s", "watch_distribution": "uniform"}})
    r = simulate(cfg)
    reads = r.reads
    assert len(reads) > 10_000
    nodes = layout_all(cfg)
    service = REQ_LAT + S / DISK_BW
    # Reference: one SimPy Resource per node, one process per read, submitted at each read's time.
    env = simpy.Environment()
    disks = [simpy.Resource(env, capacity=2) for _ in range(4)]
    done = np.zeros(len(reads))

    def one(i, t, node):
        yield env.timeout(t - env.now)
        with disks[node].request() as req:
            yield req
            yield env.timeout(service)
        done[i] = env.now

    order = np.argsort(reads["time_s"].to_numpy(), kind="stable")
    times = reads["time_s"].to_numpy()
    chunk_node = nodes[reads["chunk_id"].to_numpy()]

    def feeder():
        for i in order:
            t = times[i]
            if t > env.now:
                yield env.timeout(t - env.now)
            env.process(one(i, t, chunk_node[i]))

    env.process(feeder())
    env.run()
    reference = (done - times) + S / CLIENT_BW + NET_LAT
    assert np.allclose(reads["latency_ms"].to_numpy() / 1000.0, reference, rtol=0, atol=1e-9)
    waited = reference > service + S / CLIENT_BW + NET_LAT + 1e-9
    assert waited.mean() > 0.05                                   # the workload really contends


def layout_all(cfg):
    from vstack_sim.model.simulation import Simulation
    return Simulation(cfg).build().world.state.slot_node[:, 0]


def late_binding_run(extra, kind, cv, load, duration, views=None):
    """RS(3,2) on ten one-slot HDD-like disks; ``load`` is the disks' utilisation without late binding."""
    service = 0.008 + F / 200e6
    chunk_rate = load * 10 / (3 * service)
    workload = {"late_binding_extra": extra}
    workload.update({"scheduled_views": views} if views else {"view_rate": chunk_rate / 20})
    return simulate(config({
        "run": {"duration": duration, "seed": 3},
        "catalog": {"videos": 200, "chunks_per_video": 20, "hot_fraction": 0.0},
        "cluster": {"device": "hdd", "nodes": 10, "racks": 5, "disks_per_node": 1,
                    "positioning_time": kind, "positioning_cv": cv},
        "redundancy": {"policy": "erasure_coding"},
        "workload": workload, "outputs": {"reads_table_sample": 0}}))


def test_late_binding_lowers_ec_p99_with_variable_service_at_moderate_load():
    # The EC-Cache shape: with lognormal positioning (CV 1) at 25 % utilisation, reading k + 1
    # fragments and keeping the first k cuts the tail, although it adds a third more disk work.
    p99 = [late_binding_run(extra, "lognormal", 1.0, 0.25, "15min").summary["reads"]["latency_ms"]
           ["erasure_coding"]["p99"] for extra in (0, 1)]
    assert p99[1] < 0.9 * p99[0]


def test_late_binding_changes_nothing_on_the_disks_with_deterministic_service_at_negligible_load():
    # Every fragment takes the same time, so the first k to arrive are the data fragments: no
    # decode, no degraded read, the same disk part. What remains is moving the spare fragment,
    # which crosses the client link (every fragment requested moves): exactly F / client_bandwidth.
    views = [{"at": 10.0 + 5.0 * i, "video": i} for i in range(50)]   # one view at a time
    runs = [late_binding_run(extra, "deterministic", 0.0, 0.0, "1h", views) for extra in (0, 1)]
    a, b = (r.reads for r in runs)
    assert len(a) == 50 * 20 and set(a["kind"]) == set(b["kind"]) == {"erasure_coding"}
    extra_ms = (b["latency_ms"] - a["latency_ms"]).to_numpy()
    assert np.allclose(extra_ms, F / CLIENT_BW * 1000.0, rtol=0, atol=1e-9)
    assert (b["bytes"] == 4 * F).all() and (a["bytes"] == 3 * F).all()


def replica_read_with_failure(node, at):
    # Three replicas; node 0 is down from t = 5, so the read at t = 10 goes to node 1 or 2.
    return simulate(config({
        "run": {"duration": 3600},
        "catalog": {"videos": 1, "chunks_per_video": 1, "hot_fraction": 1.0},
        "cluster": {"nodes": 3, "racks": 3},
        "redundancy": {"policy": "replication"},
        "failures": {"detection_timeout": "30d", "scheduled": [fail(5.0, 0, "transient", "1h"),
                                                               fail(at, node, "transient", "1h")]},
        "workload": {"scheduled_views": [{"at": 10.0, "video": 0}]}}))


def test_a_replicated_read_in_flight_when_its_node_fails_completes_from_another_replica():
    fresh = REQ_LAT + S / DISK_BW + S / NIC_BW + S / CLIENT_BW + NET_LAT
    runs = [replica_read_with_failure(n, 10.02) for n in (1, 2)]
    over = [r for r in runs if r.summary["reads"]["failed_over"] == 1]
    assert len(over) == 1                                   # exactly the node that served it
    other = next(r for r in runs if r is not over[0])
    assert other.reads["latency_ms"].iloc[0] == pytest.approx(fresh * 1000.0, abs=1e-9)
    read = over[0].reads.iloc[0]
    assert read["failed_over"] and read["kind"] == "replication" and read["time_s"] == 10.0
    assert read["latency_ms"] == pytest.approx((0.02 + fresh) * 1000.0, abs=1e-9)   # the lost 20 ms count
    assert over[0].summary["reads"]["failover_lost_ms"]["mean"] == pytest.approx(20.0)
    assert over[0].summary["reads"]["failed"] == 0 and len(over[0].reads) == 1
    # Failing once its bytes have left the node (during the client transfer) changes nothing.
    served_by = 1 if over[0] is runs[0] else 2
    late = replica_read_with_failure(served_by, 10.0 + fresh - S / CLIENT_BW / 2)
    assert late.summary["reads"]["failed_over"] == 0
    assert late.reads["latency_ms"].iloc[0] == pytest.approx(fresh * 1000.0, abs=1e-9)


def test_an_ec_read_in_flight_when_a_data_fragment_node_fails_becomes_degraded():
    nodes = layout(ec_stripe([]))
    cfg = ec_stripe([{"at": DAY, "video": 0}],
                    failures={"detection_timeout": "30d", "scheduled": [fail(DAY + 0.01, nodes[0], "transient", "1h")]})
    r = simulate(cfg)
    read = r.reads.iloc[0]
    degraded = REQ_LAT + F / DISK_BW + F / NIC_BW + 3 * F / CLIENT_BW + NET_LAT + 3 * F / DECODE
    assert read["kind"] == "degraded" and read["failed_over"]
    assert read["latency_ms"] / 1000.0 == pytest.approx(0.01 + degraded, abs=1e-9)
    assert r.views["startup_latency_ms"].iloc[0] == read["latency_ms"]


def test_a_read_that_cannot_fail_over_fails_and_ends_its_view():
    base = one_stripe(5, catalog={"chunks_per_video": 3, "chunk_size": S}, codec={"verify_payloads": False})
    nodes = layout(config(base))
    sched = [fail(DAY - 10, nodes[3], "transient", "1h"), fail(DAY - 10, nodes[4], "transient", "1h"),
             fail(DAY + 0.01, nodes[0], "transient", "1h")]
    r = simulate(config(base, {"failures": {"detection_timeout": "30d", "scheduled": sched},
                               "workload": {"scheduled_views": [{"at": DAY, "video": 0}]}}))
    assert len(r.reads) == 1
    read = r.reads.iloc[0]
    assert read["kind"] == "failed" and read["reason"] == "unavailable" and read["failed_over"]
    assert r.summary["reads"]["failed"] == 1 and bool(r.views["failed"].iloc[0])
    assert r.videos["total_bytes_served"].iloc[0] == 0
