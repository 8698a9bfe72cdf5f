"""The cache in front of the store (cache): LRU of whole chunks, checked against Che's approximation."""

import numpy as np
import pytest

from tests.builders import config, fail
from vstack_sim.analysis.theory import che_lru_hit_ratio
from vstack_sim.model.cache import ChunkCache
from vstack_sim.model.simulation import Simulation, simulate

VIDEOS, ALPHA, SLOTS, CHUNK = 2000, 0.8, 200, 65536


def one_chunk_views(rate="100/s", duration="2000s", capacity=SLOTS * CHUNK, **extra):
    """One chunk a video, so each view is one independent Zipf request: the independent reference model."""
    return config({
        "run": {"duration": duration, "seed": 11},
        "catalog": {"videos": VIDEOS, "chunks_per_video": 1, "chunk_size": CHUNK, "zipf_alpha": ALPHA,
                    "hot_fraction": 0.05},
        "cluster": {"nodes": 10, "racks": 5},
        "cache": {"capacity": capacity},
        "workload": {"view_rate": rate}, "outputs": {"reads_table_sample": 0}}, extra)


def test_lru_hit_ratio_under_irm_matches_che_within_one_point():
    r = simulate(one_chunk_views())
    reads = r.reads
    warm = reads["time_s"] > 200.0                 # the cache starts empty: leave the first 20,000 requests out
    hit = (reads.loc[warm, "kind"] == "cache").to_numpy()
    che = che_lru_hit_ratio(np.arange(1, VIDEOS + 1, dtype=float) ** -ALPHA, SLOTS)
    # Tolerance 0.01: Che's approximation is within a fraction of a point for Zipf catalogs of thousands
    # of items (Fricker, Robert and Roberts, ITC 2012); the sampling error of 180,000 requests is 0.001.
    assert len(hit) > 150_000
    assert hit.mean() == pytest.approx(che, abs=0.01), (hit.mean(), che)
    c = r.summary["reads"]["cache"]
    assert c["hits"] + c["misses"] == r.summary["reads"]["count"]
    assert c["by_mode"]["replication"]["hits"] + c["by_mode"]["erasure_coding"]["hits"] == c["hits"]


def test_a_hit_is_the_hit_latency_plus_the_cache_link_and_touches_no_disk():
    r = simulate(one_chunk_views(rate=0, duration="1h", capacity=CHUNK,
                                 workload={"scheduled_views": [{"at": 10.0, "video": 0}, {"at": 20.0, "video": 0}]}))
    first, second = r.reads.sort_values("time_s").itertuples()
    assert first.kind != "cache" and second.kind == "cache"
    assert second.latency_ms == pytest.approx((0.0005 + CHUNK / 1.25e9) * 1000.0, abs=1e-9)
    assert r.summary["reads"]["latency_ms"]["cache"]["count"] == 1


def test_no_cache_by_default():
    r = simulate(config({"catalog": {"videos": 10, "chunks_per_video": 2},
                         "workload": {"scheduled_views": [{"at": 1.0, "video": 0}] * 3}, "run": {"duration": 60}}))
    assert "cache" not in r.summary["reads"] and (r.reads["kind"] != "cache").all()


def test_lru_evicts_the_least_recently_used_chunk_first():
    cache = ChunkCache(capacity=3 * CHUNK + CHUNK // 2, chunk_bytes=CHUNK)     # three whole chunks
    for c in (1, 2, 3):
        assert not cache.lookup(c, 0)
        cache.admit(c)
    assert list(cache.lru) == [1, 2, 3]
    assert cache.lookup(1, 1)                      # a hit makes 1 the most recent: 2 is now the least
    cache.admit(4)
    assert list(cache.lru) == [3, 1, 4]
    assert not cache.lookup(2, 0) and cache.lookup(3, 0)
    cache.admit(5)                                 # 1 is the least recent now (3 was just hit)
    assert list(cache.lru) == [4, 3, 5]
    assert cache.hits == [1, 1] and cache.misses == [4, 0]


def test_a_miss_admits_nothing_until_it_is_admitted():
    cache = ChunkCache(capacity=2 * CHUNK, chunk_bytes=CHUNK)
    assert not cache.lookup(7, 0) and not cache.lookup(7, 0)
    assert not cache.lru and cache.misses == [2, 0]


def test_a_failed_read_does_not_put_its_chunk_in_the_cache():
    """Three replicas on three nodes, all fail at 5 s: the read at 10 s fails (lost); the read at 20 s is a
    failed read again, not a cache hit of a chunk the store never delivered."""
    cfg = one_chunk_views(rate=0, duration="1h", capacity=4 * CHUNK,
                          catalog={"videos": 1, "hot_fraction": 1.0}, cluster={"nodes": 3, "racks": 3},
                          redundancy={"policy": "replication"},
                          failures={"scheduled": [fail(5.0, n) for n in range(3)]},
                          workload={"scheduled_views": [{"at": 10.0, "video": 0}, {"at": 20.0, "video": 0}]})
    sim = Simulation(cfg).build().start().run().finalize()
    r = sim.collect()
    reads = r.reads.sort_values("time_s")
    assert list(reads["kind"]) == ["failed", "failed"]
    assert not sim.reads.cache.lru                  # a failed read leaves the cache empty
    assert r.summary["reads"]["cache"]["hits"] == 0
