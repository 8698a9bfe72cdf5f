"""scenarios/rebuild-interference.yaml: a rebuild that takes what its arithmetic says and raises read p99.

The shipped scenario rebuilds 11.15 TB in about 4.2 h (benchmarks/rebuild.py runs it whole). Here it runs
with chunk_weight 5 instead of 50, so the failed node holds 1/10 of the data and the rebuild lasts about
24 min. The same jobs run, each for 5 rounds instead of 50, so the rates and disk loads are the file's,
except that each job's pipeline fills and drains once: an uncontended job holds its stream for
sum(stages) + (W - 1) x max(stages) (model/background.py), 3 % more than W moves at W = 5, 0.3 % at W = 50.
Every expected value below is derived from the config, and compared with the number the file's header gives.
"""

import functools
from pathlib import Path

import numpy as np
import pytest

from vstack_sim import load_scenario, simulate
from vstack_sim.analysis.interference import p99_ratio
from vstack_sim.analysis.theory import mg1_mean_sojourn
from vstack_sim.results import plots
from vstack_sim.system.codec.fragment import fragment_size

SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "rebuild-interference.yaml"
W = 5
SHORT = {"catalog.chunk_weight": W, "run.duration": "1.3h"}
FAIL, DECLARED = 30 * 60.0, 45 * 60.0
ORACLE = {"reads.replica_choice": "oracle", "repair.source_choice": "oracle"}


@functools.cache
def cfg():
    return load_scenario(SCENARIO, overrides=SHORT)


@functools.cache
def run():
    return simulate(cfg())


@functools.cache
def oracle_run():
    """The rules before issue 21: reads and repairs go to the disks that would start them soonest. The
    rebuild's rate and disk load are checked on this run, where the pipeline's arithmetic is what limits it
    (with random sources, the default, rounds also wait behind busy source disks: see the rate test)."""
    return simulate(load_scenario(SCENARIO, overrides={**SHORT, **ORACLE}))


def stages():
    """Seconds of each stage of one round, (read, move, write), per mode, from the config."""
    c = cfg()
    S, k = c.catalog.chunk_size, c.redundancy.data_shards
    F = fragment_size(S, k)

    def disk(nbytes):
        return c.cluster.request_latency + nbytes / c.cluster.disk_bandwidth

    stream = c.repair.bandwidth / c.repair.streams_per_node
    return {"replication": (disk(S), S / stream, disk(S)),
            "erasure_coding": (disk(F), k * F / stream + k * F / c.codec.decode_throughput, disk(F))}


def test_the_shipped_file_is_70_percent_full_of_single_hdd_16_tb_nodes():
    c = load_scenario(SCENARIO)
    assert c.ingest_physical_bytes() / (c.cluster.nodes * c.cluster.node_capacity) == pytest.approx(0.70, abs=0.001)
    assert c.cluster.node_capacity == 16 * 10**12 and c.cluster.nodes == 40
    assert c.cluster.device == "hdd" and c.cluster.disks_per_node == 1 and c.cluster.io_slots == 1


def test_the_service_times_and_the_read_load_are_the_headers():
    st = stages()
    assert st["erasure_coding"][0] == pytest.approx(0.0220, abs=5e-5)     # 22.0 ms a fragment
    assert st["replication"][0] == pytest.approx(0.0499, abs=5e-5)        # 49.9 ms a replica
    r, c = run(), cfg()
    s = r.summary
    duration = c.run.duration
    # 2 views/s of 50 chunks: Poisson, 9,360 expected views, sd 1 %; 3 % is 3 sd.
    assert s["views"]["count"] == pytest.approx(c.workload.view_rate * duration, rel=0.03)
    assert s["reads"]["count"] / s["views"]["count"] == pytest.approx(50, rel=0.01)
    # The hot 5 % take H(616) / H(12320) = 70.0 % of the reads; views (not reads) are the independent
    # draws, so over ~9,400 views the share has sd 0.5 %; 2 % is 4 sd.
    reads = r.reads
    assert (reads["mode"] == "replication").mean() == pytest.approx(0.700, abs=0.02)
    # Read utilisation before the failure: 100 x 54.7 ms / 40 disks = 0.14.
    per_read = 0.7 * st["replication"][0] + 0.3 * 3 * st["erasure_coding"][0]
    assert per_read == pytest.approx(0.0547, abs=1e-4)
    assert 2 * 50 * per_read / 40 == pytest.approx(0.14, abs=0.005)
    # An unqueued replica read: 49.9 ms + NIC + reader's link + latency = 63.9 ms.
    S = c.catalog.chunk_size
    unqueued = st["replication"][0] + S / c.cluster.network_bandwidth + S / c.cluster.client_bandwidth \
        + c.cluster.network_latency
    assert unqueued == pytest.approx(0.0639, abs=1e-4)
    # Under the default replica choice (random, as HDFS) a replica read waits at its disk like a request to
    # an M/G/1 queue at the read load above (Pollaczek-Khinchine): the requests are a replica or one of an EC
    # read's k fragments, each with the positioning's variance; 3.2 ms, so 67.0 ms (67.2 measured).
    k = c.redundancy.data_shards
    mix = ((0.7, st["replication"][0]), (0.3 * k, st["erasure_coding"][0]))
    n = sum(w for w, _ in mix)
    var = (c.cluster.positioning_cv * c.cluster.request_latency) ** 2
    lam = c.workload.view_rate * c.catalog.chunks_per_video * n / c.cluster.nodes
    mean_s, second = sum(w * t for w, t in mix) / n, sum(w * (t * t + var) for w, t in mix) / n
    wait = mg1_mean_sojourn(lam, mean_s, second) - mean_s
    assert wait == pytest.approx(0.0032, abs=1e-4)
    before = reads[(reads["time_s"] < FAIL) & (reads["kind"] == "replication")]["latency_ms"]
    assert before.mean() == pytest.approx((unqueued + wait) * 1e3, rel=0.01)
    # The rule before issue 21 (oracle: the replica whose disk starts soonest, which no client knows):
    # before the failure they barely queue (1 % allowed).
    ideal = oracle_run().reads
    before = ideal[(ideal["time_s"] < FAIL) & (ideal["kind"] == "replication")]["latency_ms"]
    assert before.mean() == pytest.approx(unqueued * 1e3, rel=0.01)


def rebuild_rate(r) -> tuple[float, float, float]:
    """The run's rebuild rate, the rate the streams allow (the arithmetic at the top), and the disk load."""
    c = cfg()
    rep = r.repairs
    start, end = rep["start_s"].min(), rep["end_s"].max()
    assert start == DECLARED
    assert r.summary["recovery"]["unfinished"] == 0 and r.summary["durability"]["chunks_lost"] == 0
    written = r.summary["recovery"]["repair_bytes_written"]
    assert written == pytest.approx(11.15e12 / 10, rel=0.01)            # 1/10 of the header's 11.15 TB
    streams = (c.cluster.nodes - 1) * c.repair.streams_per_node          # 78
    st = stages()
    # This run: every stream busy, each job holding its stream for sum(stages) + (W - 1) x max(stages).
    jobs = rep.groupby("mode", observed=True).size()
    held = sum(n * (sum(st[m]) + (W - 1) * max(st[m])) for m, n in jobs.items())
    expected = written / (held / streams)
    assert expected == pytest.approx(794e6, rel=0.005)                   # the header's 794 MB/s at W = 5
    disk_time = sum(n * W * (st[m][0] * (3 if m == "erasure_coding" else 1) + st[m][2]) for m, n in jobs.items())
    return written / (end - start), expected, disk_time / ((c.cluster.nodes - 1) * (end - start))


def test_the_rebuild_runs_at_the_rate_the_arithmetic_at_the_top_gives():
    c = cfg()
    streams = (c.cluster.nodes - 1) * c.repair.streams_per_node          # 78
    st = stages()
    # The header's rates (W = 50, the fill and drain left out): the move is the slowest stage.
    frag, rep_ = st["erasure_coding"], st["replication"]
    assert frag[1] == max(frag) and rep_[1] == max(rep_)
    F = fragment_size(c.catalog.chunk_size, c.redundancy.data_shards)
    assert frag[1] == pytest.approx(0.2827, abs=1e-4)
    assert streams * F / frag[1] == pytest.approx(771e6, rel=0.001)
    assert streams * c.catalog.chunk_size / rep_[1] == pytest.approx(2.34e9, rel=0.005)
    # With the sources whose disks start soonest (oracle, the rule before issue 21), measured 0.965: a
    # round's reads and writes wait in disk queues at 0.76 utilisation, and the waits the pipeline does not
    # hide (those at a job's first and last round, and reads slower than a move) slow it. Waits can only
    # slow the streams, never speed them up.
    rate, expected, load = rebuild_rate(oracle_run())
    assert 0.93 * expected <= rate <= 1.002 * expected, (rate, expected)
    # The rebuild keeps the disks 0.62 busy at the header's rate (88 ms of disk a fragment round), plus the
    # reads' 0.14: not the bottleneck. This run is 6 % slower than that (fill and drain, waits): 0.58 measured.
    assert 0.55 <= load <= 0.62, load
    # The shipped defaults read random sources (the HDFS NameNode's rule) and send reads to random replicas:
    # a round's source is then often a disk busy with reads or other rounds, and more of its waits show.
    # Measured 0.917 of the streams' rate (0.939 with random sources alone, 0.959 with random replicas
    # alone): below the oracle's, and still never above the streams'.
    default_rate, default_expected, _ = rebuild_rate(run())
    assert default_rate <= 1.002 * default_expected
    assert default_rate / default_expected < rate / expected


def test_read_p99_during_the_rebuild_is_at_least_1_5x_with_a_bootstrap_lower_bound_of_1_2():
    r = run()
    rep = r.repairs
    out = p99_ratio(r.reads, (0.0, FAIL), (rep["start_s"].min(), rep["end_s"].max()), window=60.0)
    assert out["before_windows"] == 30 and out["during_windows"] >= 22
    assert out["ratio"] >= 1.5, out
    assert out["low"] >= 1.2, out
    # The header's figures for this run (random replica choice and sources): 112 ms before, 344 ms during,
    # 3.08 [2.90, 3.35] (oracle: 77, 142, 1.85).
    assert out["before_ms"] == pytest.approx(112, rel=0.03), out
    assert out["during_ms"] == pytest.approx(344, rel=0.06), out
    assert np.isfinite(out["high"]) and out["low"] <= out["ratio"] <= out["high"]


def test_the_p99_figure_shades_the_rebuild():
    fig = plots.read_p99_over_time(run())
    ax = fig.axes[0]
    assert ax.get_ylabel() == "read latency p99 (ms)"
    assert any(p.get_label() == "rebuild" for p in ax.patches)
