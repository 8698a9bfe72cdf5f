"""catalog.chunk_weight W: storage, repair, conversion and losses scale exactly by W; background I/O goes
out as W chunk-sized requests, so recovery takes what the pipeline arithmetic says."""

import pytest

from tests.builders import config, fail, layout, one_stripe
from vstack_sim.model.simulation import Simulation, simulate
from vstack_sim.scenario.schema import Config

DAY = 86400.0
S = 2 * 2**20
F = 699_051            # ceil(2 MiB / 3)


def catalog(weight, **extra):
    return config({"run": {"duration": "2d"},
                   "catalog": {"videos": 40, "chunks_per_video": 6, "hot_fraction": 0.2, "chunk_weight": weight},
                   "cluster": {"nodes": 10, "racks": 5}}, extra)


@pytest.mark.parametrize("weight", [3, 1000])
def test_storage_figures_scale_exactly_by_w(weight):
    one, many = simulate(catalog(1)), simulate(catalog(weight))
    for block in ("storage_initial", "storage"):
        a, b = one.summary[block], many.summary[block]
        for key in ("replication_chunks", "erasure_coded_chunks", "total_logical_bytes", "total_physical_bytes",
                    "replication_overhead_bytes", "erasure_overhead_bytes"):
            assert b[key] == weight * a[key], (block, key)
        assert b["storage_savings_percent"] == a["storage_savings_percent"]
    assert many.summary["held_bytes_end"] == weight * one.summary["held_bytes_end"]
    assert many.summary["run"]["chunks"] == weight * one.summary["run"]["chunks"] == weight * 240
    ta, tb = one.storage_timeline, many.storage_timeline
    for col in ("total_physical_bytes", "held_bytes", "live_chunks"):
        assert (tb[col] == weight * ta[col]).all(), col
    # Placement balances free space, which W changes, so nodes may differ; the bytes placed do not.
    wa, wb = Simulation(catalog(1)).build().world, Simulation(catalog(weight)).build().world
    assert wb.cluster.used.sum() == weight * wa.cluster.used.sum() == wb.held_bytes()


def test_repair_bytes_scale_exactly_by_w():
    weight = 50
    runs = {w: simulate(catalog(w, failures={"scheduled": [fail(DAY, 3)]})) for w in (1, weight)}
    a, b = runs[1], runs[weight]
    ra, rb = a.repairs, b.repairs
    assert len(ra) == len(rb) > 20
    assert (sorted(zip(ra["chunk_id"], ra["slot"], strict=False))
            == sorted(zip(rb["chunk_id"], rb["slot"], strict=False)))
    for mode, read, written in (("erasure_coding", 3 * F, F), ("replication", S, S)):
        rows = rb[rb["mode"] == mode]
        assert len(rows) > 0
        assert (rows["bytes_read"] == weight * read).all() and (rows["bytes_written"] == weight * written).all()
    for key in ("repair_bytes_read", "repair_bytes_written", "repairs"):
        assert b.summary["recovery"][key] == weight * a.summary["recovery"][key], key
    assert b.failures["chunks_affected"].iloc[0] == weight * a.failures["chunks_affected"].iloc[0]


def test_conversion_bytes_scale_exactly_by_w():
    def crowd(weight):
        return config({"run": {"duration": "6h"},
                       "catalog": {"videos": 20, "chunks_per_video": 5, "hot_fraction": 0.1, "chunk_weight": weight},
                       "cluster": {"nodes": 8, "racks": 4}, "migration": {"check_interval": "1h"},
                       "workload": {"flash_crowds": [{"video": 10, "start": "1h", "duration": "2h",
                                                      "view_rate": "0.5/s"}]}})
    a, b = simulate(crowd(1)), simulate(crowd(40))
    ma, mb = a.migrations, b.migrations
    assert list(ma["video_id"]) == list(mb["video_id"]) == [10]
    assert mb["chunks"].iloc[0] == 40 * 5
    assert mb["bytes_read"].iloc[0] == 40 * ma["bytes_read"].iloc[0] == 40 * 5 * 3 * F
    assert mb["bytes_written"].iloc[0] == 40 * ma["bytes_written"].iloc[0] == 40 * 5 * 3 * S
    assert b.summary["storage"]["replication_chunks"] == 40 * a.summary["storage"]["replication_chunks"]


@pytest.mark.parametrize("weight", [2, 30])
def test_one_fragment_rebuild_takes_what_the_pipeline_arithmetic_says(weight):
    # (W = 1 streams within the one chunk instead: test_model_repair checks that arithmetic.)
    # One RS(3,2) chunk, one fragment's node fails for good; a spare takes the rebuild. Nothing else runs,
    # so each of the W rounds is: read F from 3 nodes in parallel (r = latency + F / disk), move 3F over
    # the stream (bandwidth / streams) and decode it (x), write F (w = r). A pipeline of W rounds:
    # r + x + w + (W - 1) max(r, x, w).
    base = one_stripe(6, codec={"verify_payloads": False}, catalog={"chunk_size": S, "chunk_weight": weight})
    nodes = layout(config(base))
    cfg = config(base, {"failures": {"scheduled": [fail(DAY, nodes[0])], "replacement_delay": "30d"}})
    r = simulate(cfg)
    cl, rep, codec = cfg.cluster, cfg.repair, cfg.codec
    read = cl.request_latency + F / cl.disk_bandwidth
    move = 3 * F / (rep.bandwidth / rep.streams_per_node) + 3 * F / codec.decode_throughput
    expected = read + move + read + (weight - 1) * max(read, move)
    f = r.failures.iloc[0]
    assert f["declared_s"] == DAY + cfg.failures.detection_timeout
    assert f["recovery_end_s"] - f["declared_s"] == pytest.approx(expected, rel=1e-9)
    assert r.repairs["bytes_written"].iloc[0] == weight * F


def test_reads_during_a_weighted_rebuild_wait_for_one_request_not_w():
    # One RS(3,2) chunk standing for W = 2000 chunks; its fragment 0 is rebuilt onto the spare node as 2000
    # rounds (~86 s: 2000 x the 43 ms stream stage). A viewer reads the chunk every 0.4 s from the same disks
    # (degraded: any 3 of the 4 left). Each of its reads waits behind at most one repair request per
    # source (io_slots 1), never behind W of them.
    base = one_stripe(6, codec={"verify_payloads": False}, catalog={"chunk_size": S, "chunk_weight": 2000},
                      cluster={"io_slots": 1}, run={"duration": "2h"},
                      workload={"scheduled_views": [{"at": 665 + 0.4 * i, "video": 0} for i in range(180)]})
    node = layout(config(base))[0]
    cfg = config(base, {"failures": {"scheduled": [fail(600, node)], "detection_timeout": 60,
                                     "replacement_delay": "30d"}})
    r = simulate(cfg)
    rep = r.repairs
    assert len(rep) == 1
    t0, t1 = rep["start_s"].iloc[0], rep["end_s"].iloc[0]
    assert t1 - t0 > 80                                    # the rebuild outlasts the viewers
    reads = r.reads[(r.reads["time_s"] > t0) & (r.reads["time_s"] < t1)]
    assert len(reads) == 180 and (reads["kind"] == "degraded").all()
    cl = cfg.cluster
    fragment_read = cl.request_latency + F / cl.disk_bandwidth          # one repair request, ~18 ms
    alone = (fragment_read + F / cl.network_bandwidth + 3 * F / cl.client_bandwidth + cl.network_latency
             + 3 * F / cfg.codec.decode_throughput)                    # a degraded read on idle disks and NICs
    extra_ms = reads["latency_ms"] - 1000 * alone
    assert extra_ms.max() <= 1000 * fragment_read * (1 + 1e-9)        # at most one request's wait
    assert extra_ms.max() > 0.5 * 1000 * fragment_read                # and some did wait that long


def test_a_lost_chunk_counts_w_chunks_and_w_times_its_bytes():
    base = one_stripe(7, codec={"verify_payloads": False}, catalog={"chunk_weight": 25})
    nodes = layout(config(base))
    cfg = config(base, {"failures": {"scheduled": [fail(DAY, nodes[0]), fail(DAY + 10, nodes[1]),
                                                   fail(DAY + 20, nodes[4])]}})
    r = simulate(cfg)
    assert len(r.losses) == 1 and r.losses["chunks"].iloc[0] == 25
    d = r.summary["durability"]
    assert d["chunks_lost"] == 25 and d["bytes_lost"] == 25 * 3001
    assert r.storage_timeline["lost_chunks"].iloc[-1] == 25


def test_verify_payloads_needs_chunk_weight_1():
    with pytest.raises(ValueError, match="catalog.chunk_weight: codec.verify_payloads"):
        Config.model_validate({"catalog": {"chunk_weight": 2}, "codec": {"verify_payloads": True}})


def test_capacity_check_counts_w():
    # The check takes the costlier mode (3 replicas, 6.3 MB a chunk): 50,000 chunks x W = 10 need 3.1 TB
    # of the 20 x 4 TB; W = 1000 would need 315 TB.
    Config.model_validate({"catalog": {"chunk_weight": 10}})
    with pytest.raises(ValueError, match="cluster.node_capacity"):
        Config.model_validate({"catalog": {"chunk_weight": 1000}})
