"""Migration: popularity checks through the real manager, conversions, and their traffic."""

import numpy as np

from tests.builders import config, fail, layout, one_stripe
from vstack_sim.model.simulation import Simulation, simulate

S = 2 * 2**20
F = 699_051
HOUR = 3600.0


def crowd(measure="cumulative", hysteresis=0.0, **extra):
    return config({
        "run": {"duration": "18h"},
        "catalog": {"videos": 20, "chunks_per_video": 5, "hot_fraction": 0.1},
        "cluster": {"nodes": 8, "racks": 4},
        "redundancy": {"hysteresis": hysteresis},
        "migration": {"check_interval": "1h", "popularity_measure": measure, "window": "6h",
                      "window_resolution": "1h"},
        "workload": {"flash_crowds": [{"video": 10, "start": "1h", "duration": "2h", "view_rate": "0.5/s"}]},
    }, extra)


def test_flash_crowd_video_crosses_the_threshold_and_ends_replicated():
    r = simulate(crowd())
    v = r.videos.set_index("video_id").loc[10]
    assert v["starting_views"] <= 1000 < v["view_count"]
    assert v["mode"] == "replication"
    m = r.migrations
    assert list(m["video_id"]) == [10] and m["to_mode"].iloc[0] == "replication"
    # The check that saw the crowd past the threshold is an hourly one.
    assert m["start_s"].iloc[0] % HOUR == 0
    assert r.summary["storage"]["replication_chunks"] == r.summary["storage_initial"]["replication_chunks"] + 5


def test_windowed_popularity_with_hysteresis_returns_to_ec_without_flapping():
    r = simulate(crowd("windowed", hysteresis=0.5))
    m = r.migrations[r.migrations["video_id"] == 10]
    assert list(m["to_mode"]) == ["replication", "erasure_coding"]
    assert m["start_s"].iloc[1] > 3 * HOUR + 6 * HOUR - HOUR      # after the crowd left the window
    assert r.videos.set_index("video_id").loc[10, "mode"] == "erasure_coding"


def test_bytes_moved_match_the_arithmetic():
    r = simulate(crowd("windowed", hysteresis=0.5))
    m = r.migrations[r.migrations["video_id"] == 10].reset_index(drop=True)
    assert (m["chunks"] == 5).all()
    assert m.loc[0, "bytes_read"] == 5 * 3 * F and m.loc[0, "bytes_written"] == 5 * 3 * S    # EC -> 3 replicas
    assert m.loc[1, "bytes_read"] == 5 * S and m.loc[1, "bytes_written"] == 5 * 5 * F        # replica -> RS(3,2)
    s = r.summary["migrations"]
    assert s["bytes_read"] == r.migrations["bytes_read"].sum()
    assert s["to_replication"] == int((r.migrations["to_mode"] == "replication").sum())


def test_windowed_check_at_time_zero_reproduces_the_ingest_modes():
    sim = Simulation(crowd("windowed", hysteresis=0.0, catalog={"videos": 500, "chunks_per_video": 1},
                           workload={"flash_crowds": []})).build()
    w = sim.world
    ingest = w.video_mode.copy()
    counts = sim.migrator.popularity(0.0)
    assert np.array_equal(counts, w.catalog.starting_views)
    assert len(sim.migrator.check()) == 0
    assert np.array_equal(w.video_mode, ingest)
    assert (ingest == 0).sum() == 50


def test_both_layouts_count_in_held_bytes_while_a_chunk_converts():
    r = simulate(crowd(migration={"conversion_rate": "1MB/s"}, outputs={"timeline_interval": "1s"},
                       run={"duration": "2.1h"}))
    m = r.migrations.iloc[0]
    tl = r.storage_timeline
    during = tl[(tl["time_s"] > m["start_s"]) & (tl["time_s"] < m["end_s"])]
    assert len(during) >= 5
    assert (during["held_bytes"] >= during["total_physical_bytes"] + 3 * S).any()
    assert tl["held_bytes"].iloc[-1] == tl["total_physical_bytes"].iloc[-1]


def test_the_old_layout_serves_reads_until_the_new_one_is_complete():
    r = simulate(crowd(migration={"conversion_rate": "1MB/s"}, run={"duration": "3h"}))
    m = r.migrations.iloc[0]
    reads = r.reads[r.reads["video_id"] == 10]
    converting = reads[(reads["time_s"] > m["start_s"] + 5) & (reads["time_s"] < m["end_s"] - 5)]
    assert len(converting) > 0 and (converting["kind"] != "failed").all()
    after = reads[reads["time_s"] > m["end_s"]]
    assert (after["mode"] == "replication").all() and len(after) > 0


def one_chunk_conversion(**extra):
    """One cold one-chunk video (1000 views) that one more view at 10 s makes hot: the check at 1h
    converts it to replication, on idle disks."""
    return config(one_stripe(8, "adaptive", codec={"verify_payloads": False}), {
        "run": {"duration": "4h"},
        "catalog": {"chunk_size": S},
        "migration": {"check_interval": "1h"},
        "workload": {"scheduled_views": [{"at": 10.0, "video": 0}]},
    }, extra)


def test_a_conversion_pays_disk_and_network_time_for_its_reads_and_its_writes():
    r = simulate(one_chunk_conversion())
    m = r.migrations.iloc[0]
    assert m["start_s"] == HOUR and m["to_mode"] == "replication"
    rate, net_bw, net_lat, disk_bw, req_lat = 100e6, 1.25e9, 0.0005, 50e6, 0.004
    read = req_lat + F / disk_bw + F / net_bw + 3 * F / rate   # disk, the source NIC, the converter
    send = max(3 * S / rate, S / net_bw) + net_lat
    write = req_lat + S / disk_bw
    assert abs(m["duration_s"] - (read + send + write)) < 1e-9


def test_a_chunk_lost_while_it_converts_stays_lost_and_is_never_read_again():
    base = one_chunk_conversion(catalog={"chunk_size": 3001}, codec={"verify_payloads": True},
                                migration={"conversion_rate": "10B/s"})   # the read transfer takes 300 s
    nodes = layout(base)
    sched = [fail(HOUR + 50 + 10 * i, nodes[j]) for i, j in enumerate((0, 3, 4))]
    views = [{"at": 10.0, "video": 0}] + [{"at": HOUR + t, "video": 0} for t in (200, 400, 1000, 5000)]
    r = simulate(config(base.model_dump(), {"failures": {"scheduled": sched, "replacement_delay": "30d"},
                                            "workload": {"scheduled_views": views}}))
    assert list(r.losses["time_s"]) == [HOUR + 70]
    later = r.reads[r.reads["time_s"] > HOUR + 70]
    assert len(later) == 4 and (later["reason"] == "lost").all()
    assert r.summary["durability"]["chunks_lost"] == 1
    assert r.summary["payload_audit"]["lost_chunks_unrecoverable"] == 1
    assert r.summary["storage"]["total_physical_bytes"] == 0


def test_concurrent_videos_far_above_the_catalog_starts_one_worker_per_queued_video():
    # issue 19: concurrent_videos 1,000,000,000 on 40 videos started a billion SimPy processes (>5 min, 16 GB).
    for concurrent in (10_000, 1_000_000_000):
        sim = Simulation(crowd(migration={"concurrent_videos": concurrent})).build()
        started, worker = [], sim.migrator._worker
        sim.migrator._worker = lambda worker=worker, started=started: started.append(1) or worker()
        sim.start().run()
        assert len(started) == 1 == len(sim.migrator.table)   # one video converted, by one worker
    huge = simulate(crowd(migration={"concurrent_videos": 1_000_000_000}))
    assert huge.migrations.equals(simulate(crowd()).migrations)
