"""What conversions cost (the summary's ``conversions`` block): each figure recomputed from the run's records, and
on small runs whose numbers are worked out by hand (scheduled views forcing a conversion at a known time)."""

from pathlib import Path

import numpy as np
import pytest

from tests.builders import config, fail, layout, one_stripe
from tests.model.test_migration import HOUR, F, S, crowd, one_chunk_conversion
from vstack_sim.model.conversion_cost import ConversionClock, reversals
from vstack_sim.model.simulation import simulate

# The plain device of the hand-computed tests (docs/scenario-reference.md): 4 slots of 50 MB/s, 4 ms positioning.
RATE, NET_BW, NET_LAT, DISK_BW, REQ_LAT, SLOTS = 100e6, 1.25e9, 0.0005, 50e6, 0.004, 4


def conversion_time(rate: float = RATE) -> float:
    """One RS(3,2) chunk to 3 replicas on idle disks (test_migration: read, send, write)."""
    return (REQ_LAT + F / DISK_BW + F / NET_BW + 3 * F / rate) + (max(3 * S / rate, S / NET_BW) + NET_LAT) \
        + (REQ_LAT + S / DISK_BW)


def bandwidth(cfg) -> float:
    cl = cfg.cluster
    return cl.nodes * cl.disks_per_node * cl.io_slots * cl.disk_bandwidth


def test_the_shares_recomputed_from_the_records_equal_the_summary():
    # Viewers all along (so no hour is conversions alone), every read kept in the table.
    cfg = crowd("windowed", hysteresis=0.5, workload={"view_rate": "0.02/s"}, outputs={"reads_table_sample": 0})
    r = simulate(cfg)
    c = r.summary["conversions"]
    m, reads = r.migrations, r.reads
    assert r.summary["migrations"]["first_wave"]["unfinished_at_end"] == 0 and len(m) >= 3
    # Every conversion finished and nothing failed: the conversions' disk bytes are the table's.
    assert c["bytes_read"] == m["bytes_read"].sum() and c["bytes_written"] == m["bytes_written"].sum()
    assert c["disk_bytes"]["conversion_read"] == c["bytes_read"]
    client = int(reads.loc[reads["kind"] != "cache", "bytes"].sum())
    assert c["disk_bytes"]["client_read"] == client
    assert c["disk_bytes"]["repair_read"] == c["disk_bytes"]["repair_written"] == c["disk_bytes"]["client_written"] == 0
    conv = c["bytes_read"] + c["bytes_written"]
    assert c["io_share"]["mean"] == pytest.approx(conv / (conv + client), abs=1e-9)
    # Per hour: each conversion started at a check and ended within the hour, so its bytes are in that hour.
    assert ((m["start_s"] // HOUR) == (m["end_s"] // HOUR)).all()
    hours = int(np.ceil(cfg.run.duration / HOUR))
    conv_h = np.bincount((m["start_s"] // HOUR).astype(int), weights=m["bytes_read"] + m["bytes_written"],
                         minlength=hours)
    client_h = np.bincount((reads["time_s"] // HOUR).astype(int), weights=reads["bytes"], minlength=hours)
    assert (client_h > 0).all()
    share = conv_h / (conv_h + client_h)
    assert 0 < share.max() < 1
    assert c["io_share"]["peak"] == pytest.approx(share.max(), abs=1e-9)
    assert c["io_share"]["peak_at_s"] == HOUR * int(np.argmax(share))
    of_bw = conv_h / (bandwidth(cfg) * HOUR)
    assert c["bandwidth_share"]["peak"] == pytest.approx(of_bw.max(), abs=1e-9)
    assert c["bandwidth_share"]["peak_at_s"] == HOUR * int(np.argmax(of_bw))
    assert c["bandwidth_share"]["mean"] == pytest.approx(conv / (bandwidth(cfg) * cfg.run.duration), abs=1e-9)
    # Chunk-seconds mid-conversion: each video's chunks convert one after another, so they sum to its duration.
    assert c["converting_chunk_seconds"] == pytest.approx(m["duration_s"].sum(), abs=1e-6)


def test_one_conversion_at_a_known_time_by_hand():
    # One cold RS(3,2) chunk; the view at 10 s makes it hot, the check at 1 h replicates it in D seconds.
    cfg = one_chunk_conversion()
    r = simulate(cfg)
    c = r.summary["conversions"]
    m = r.migrations.iloc[0]
    d = conversion_time()
    assert m["decided_s"] == m["start_s"] == HOUR and m["duration_s"] == pytest.approx(d, abs=1e-9)
    assert c["bytes_read"] == 3 * F and c["bytes_written"] == 3 * S
    assert c["disk_bytes"]["client_read"] == 3 * F                      # the one view: k fragments
    # Hour 0 holds the client read only, hour 1 the conversion only.
    assert c["io_share"] == {"peak": 1.0, "peak_at_s": HOUR,
                             "mean": pytest.approx((3 * F + 3 * S) / (6 * F + 3 * S), abs=1e-9)}
    bw = 8 * SLOTS * DISK_BW
    assert bandwidth(cfg) == bw
    assert c["bandwidth_share"]["peak"] == pytest.approx((3 * F + 3 * S) / (bw * HOUR), abs=1e-9)
    assert c["bandwidth_share"]["peak_at_s"] == HOUR
    assert c["bandwidth_share"]["mean"] == pytest.approx((3 * F + 3 * S) / (bw * 4 * HOUR), abs=1e-9)
    assert c["converting_chunk_seconds"] == pytest.approx(d, abs=1e-9)
    assert c["ec_reads_while_hot"] == 0                                  # nobody read it while it converted
    assert c["flaps"] == {"reversals": 0, "videos": 0}
    tl = r.storage_timeline
    assert list(tl["replicated_fraction"]) == [0.0, 0.0, 1.0, 1.0, 1.0]  # samples at 0, 1, 2, 3 and 4 h
    rf = c["replicated_fraction"]
    assert (rf["start"], rf["end"]) == (0.0, 1.0)
    assert rf["steady_state"] == {"reached": False, "mean": None, "lo": None, "hi": None, "from_s": None,
                                  "why": "too short"}


def test_a_steady_replicated_fraction_is_found_after_the_conversion():
    r = simulate(one_chunk_conversion(outputs={"timeline_interval": "1min"}))
    ss = r.summary["conversions"]["replicated_fraction"]["steady_state"]
    assert ss["reached"] and ss["mean"] == ss["lo"] == ss["hi"] == 1.0
    assert ss["from_s"] > HOUR + conversion_time()          # the samples before the conversion are cut


def test_ec_reads_while_hot_count_the_wait_in_the_queue_and_the_conversion():
    # Two equally popular videos (1000 views each) made hot at 10 s; one converter, so video 1 waits for video 0.
    rate = 1e5                                               # 100 KB/s: a conversion takes D = 85 s
    d = conversion_time(rate)
    views = [{"at": 10.0, "video": 0}, {"at": 10.0, "video": 1},
             {"at": HOUR - 100, "video": 1},                  # before the check: not counted
             {"at": HOUR + 10, "video": 0},                   # video 0 converting: counted
             {"at": HOUR + 20, "video": 1},                   # video 1 waiting for the converter: counted
             {"at": HOUR + d + 30, "video": 1},               # video 1 converting: counted
             {"at": HOUR + d + 40, "video": 0},               # video 0 replicated already: not counted
             {"at": HOUR + 2 * d + 60, "video": 1}]           # video 1 replicated: not counted
    cfg = config(one_stripe(8, "adaptive", codec={"verify_payloads": False}), {
        "run": {"duration": "3h"},
        "catalog": {"videos": 2, "chunk_size": S, "starting_views": "total", "total_views": 2000, "zipf_alpha": 0.0},
        "migration": {"check_interval": "1h", "concurrent_videos": 1, "conversion_rate": rate},
        "workload": {"scheduled_views": views}})
    r = simulate(cfg)
    m = r.migrations.set_index("video_id")
    assert list(m["decided_s"]) == [HOUR, HOUR]
    assert m.loc[0, "start_s"] == HOUR and m.loc[1, "start_s"] == pytest.approx(HOUR + d, abs=1e-6)
    assert m.loc[1, "end_s"] == pytest.approx(HOUR + 2 * d, abs=1e-6)
    kinds = r.reads.set_index("time_s")["kind"]
    assert (kinds.loc[[HOUR + 10, HOUR + 20, HOUR + d + 30]] == "erasure_coding").all()
    assert (kinds.loc[[HOUR + d + 40, HOUR + 2 * d + 60]] == "replication").all()
    assert r.summary["conversions"]["ec_reads_while_hot"] == 3
    # Both chunks were mid-conversion D seconds each (the wait in the queue is not mid-conversion).
    assert r.summary["conversions"]["converting_chunk_seconds"] == pytest.approx(2 * d, abs=1e-6)


def test_client_disk_bytes_count_hedges_and_attempts_a_failure_interrupted():
    # Two replicated reads, each hedged 1 ms after it was sent (idle disks: the hedge is sent, and spends S).
    base = one_stripe(8, "replication", codec={"verify_payloads": False}, catalog={"chunk_size": S})
    views = {"scheduled_views": [{"at": 10.0, "video": 0}, {"at": 20.0, "video": 0}]}
    hedged = simulate(config(base, {"reads": {"hedge_after": "1ms"}, "workload": views}))
    assert hedged.summary["reads"]["hedges"]["extra_bytes"] == 2 * S
    assert hedged.summary["conversions"]["disk_bytes"]["client_read"] == 2 * S + 2 * S
    # An EC read of the data fragments at 10 s, whose first fragment's node fails 10 ms later, before the read
    # is out: its 3 fragments were read for nothing, and the retry reads 3 others (degraded).
    ec = config(one_stripe(8, "erasure_coding", codec={"verify_payloads": False}, catalog={"chunk_size": S}),
                {"workload": {"scheduled_views": [{"at": 10.0, "video": 0}]}})
    cut = simulate(config(ec.model_dump(), {"failures": {"scheduled": [fail(10.01, layout(ec)[0])]}}))
    row = cut.reads.iloc[0]
    assert (row["kind"], row["bytes"], bool(row["failed_over"])) == ("degraded", 3 * F, True)
    assert cut.summary["conversions"]["disk_bytes"]["client_read"] == 3 * F + 3 * F


def test_requests_the_io_scheduler_held_count_when_they_join():
    # A conversion budget puts every conversion request through the I/O scheduler (io_arbiter.py).
    r = simulate(one_chunk_conversion(migration={"budget": 0.05}))
    assert "io" in r.summary and r.summary["io"]["conversion"]["requests"] == 6
    c = r.summary["conversions"]
    assert (c["bytes_read"], c["bytes_written"]) == (3 * F, 3 * S)
    assert c["io_share"]["peak_at_s"] == HOUR


def flapping(views_after: list[float]):
    """One cold chunk (threshold 5, 5 starting views) counted over a 1 h window, checked hourly: 6 views in the
    first hour make it hot at the 1 h check; it goes back to EC at the first check that sees fewer than 6."""
    views = [{"at": 100.0 * (i + 1), "video": 0} for i in range(6)] + [{"at": t, "video": 0} for t in views_after]
    return simulate(one_chunk_conversion(
        run={"duration": "5h"}, redundancy={"popularity_threshold": 5},
        migration={"popularity_measure": "windowed", "window": "1h", "window_resolution": "1h"},
        workload={"scheduled_views": views}))


def test_a_conversion_taken_back_at_the_next_check_is_a_flap_and_one_taken_back_later_is_not():
    flap = flapping([])
    m = flap.migrations
    assert list(m["to_mode"]) == ["replication", "erasure_coding"]
    assert list(m["decided_s"]) == [HOUR, 2 * HOUR]             # back at the first check after it finished
    assert flap.summary["conversions"]["flaps"] == {"reversals": 1, "videos": 1}
    steady = flapping([HOUR + 100.0 * (i + 1) for i in range(6)])   # still hot in the second hour
    m = steady.migrations
    assert list(m["to_mode"]) == ["replication", "erasure_coding"]
    assert list(m["decided_s"]) == [HOUR, 3 * HOUR]             # two check intervals in the new mode
    assert steady.summary["conversions"]["flaps"] == {"reversals": 0, "videos": 0}


def test_reversals_and_the_clock_by_hand():
    video = np.array([3, 3, 3, 5, 5, 7])
    decided = np.array([0.0, 3600.0, 9000.0, 100.0, 7300.0, 50.0])
    end = np.array([100.0, 3700.0, np.nan, 200.0, 7400.0, 60.0])
    # video 3: decided 3600, 3500 s after the end at 100 (a flap at window 3600); 9000 is 5300 s after 3700.
    # video 5: 7100 s after: not at 3600, a flap at 7200. The order of the rows does not matter.
    assert reversals(video, decided, end, 3600.0) == {"reversals": 1, "videos": 1}
    assert reversals(video[::-1], decided[::-1], end[::-1], 7200.0) == {"reversals": 3, "videos": 2}
    assert reversals(video, decided, end, 0.0) == {"reversals": 0, "videos": 0}
    clock = ConversionClock()
    clock.begin(1, 10.0)
    clock.begin(1, 20.0)                    # a retry keeps the first start
    clock.end(1, 30.0)
    clock.end(2, 40.0)                      # never began: nothing
    clock.begin(4, 50.0)
    assert clock.seconds(100.0) == 20.0 + 50.0


def test_every_key_of_the_block_is_in_docs_results_md():
    text = (Path(__file__).resolve().parents[2] / "docs" / "results.md").read_text(encoding="utf-8")
    c = simulate(one_chunk_conversion(run={"duration": "1h"})).summary["conversions"]

    def keys(block):
        for k, v in block.items():
            yield k
            if isinstance(v, dict):
                yield from keys(v)

    assert "**`conversions`**" in text
    assert [k for k in keys(c) if f"`{k}`" not in text] == []
    assert "`decided_s`" in text and "`replicated_fraction`" in text
