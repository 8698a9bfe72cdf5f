"""Storage pools (cluster.pools): each mode's slots stay in its pool through ingest, repairs, uploads and
conversions; a conversion moves its bytes from one pool to the other; each pool's device times its reads; each
pool's price bills its storage."""

import numpy as np
import pytest

from tests.builders import config
from vstack_sim.model.simulation import Simulation, simulate
from vstack_sim.scenario.schema import Config

S = 2 * 2**20
F = 699_051
HOUR = 3600.0
CLIENT_BW, NET_LAT = 1.25e8, 0.0005

# Two pools of the plain device (fixed positioning, one disk a node), a fast one and a slow one.
SSD = {"name": "ssd", "nodes": 4, "device": "custom", "disk_bandwidth": "500MB/s", "request_latency": "0.1ms",
       "network_bandwidth": "5GB/s", "storage_per_gb_month": 0.08}
HDD = {"name": "hdd", "nodes": 8, "device": "custom", "disk_bandwidth": "100MB/s", "request_latency": "8ms",
       "network_bandwidth": "1.25GB/s", "storage_per_gb_month": 0.015}
POOLS = {"cluster": {"racks": 4, "pools": [SSD, HDD],
                     "mode_pools": {"replication": "ssd", "erasure_coding": "hdd"}}}


def crowd(**extra):
    """Video 10 gets a crowd, converts to replication (onto ssd) and back to RS(3,2) (onto hdd)."""
    return config(POOLS, {
        "run": {"duration": "18h"},
        "catalog": {"videos": 20, "chunks_per_video": 5, "hot_fraction": 0.1},
        "redundancy": {"hysteresis": 0.5},
        "migration": {"check_interval": "1h", "popularity_measure": "windowed", "window": "6h",
                      "window_resolution": "1h"},
        "workload": {"flash_crowds": [{"video": 10, "start": "1h", "duration": "2h", "view_rate": "0.5/s"}]},
    }, extra)


def pool_of_node(cfg: Config) -> np.ndarray:
    out = []
    for name, first, end, _ in cfg.cluster.pool_list():
        out += [name] * (end - first)
    return np.array(out)


def misplaced(world) -> list[tuple[int, int, int]]:
    """(chunk, slot, node) of every live slot outside its chunk's mode's pool, or on a disk of another node."""
    st, cfg, dk = world.state, world.cfg.cluster, world.cluster.disks
    pools = pool_of_node(world.cfg)
    want = np.array([cfg.mode_pools["replication"], cfg.mode_pools["erasure_coding"]])[st.mode]
    c, s = np.nonzero(st.slot_has_data & (st.slot_node >= 0))
    node = st.slot_node[c, s]
    bad = (pools[node] != want[c]) | (dk.disk_node[dk.slot_disk[c, s]] != node)
    return list(zip(c[bad].tolist(), s[bad].tolist(), node[bad].tolist(), strict=True))


def watch(sim: Simulation, every: float, probe) -> list:
    """Call ``probe(world)`` every ``every`` simulated seconds of the run; returns [(t, probe's answer)]."""
    seen = []

    def proc(env):
        while True:
            seen.append((env.now, probe(sim.world)))
            yield env.timeout(every)

    sim.world.env.process(proc(sim.world.env))
    return seen


def test_pools_default_nodes_and_check_their_names():
    cfg = config(POOLS)
    assert cfg.cluster.nodes == 12 and cfg.cluster.mode_nodes("replication") == 4
    assert [(n, a, b) for n, a, b, _ in cfg.cluster.pool_list()] == [("ssd", 0, 4), ("hdd", 4, 12)]
    with pytest.raises(ValueError, match=r"cluster.mode_pools.erasure_coding: 'ssd2' is not a pool"):
        config(POOLS, {"cluster": {"mode_pools": {"replication": "ssd", "erasure_coding": "ssd2"}}})
    with pytest.raises(ValueError, match=r"cluster.nodes: 13, but cluster.pools hold 12"):
        config(POOLS, {"cluster": {"nodes": 13}})
    with pytest.raises(ValueError, match=r"cluster.pools\[1\].disks_per_node"):
        config(POOLS, {"cluster": {"pools": [SSD, {**HDD, "disks_per_node": 2}]}})
    with pytest.raises(ValueError, match=r"redundancy.replication_factor: 3 replicas need 3 distinct nodes, "
                                         r"cluster.pools\['ssd'\] has 2"):
        config(POOLS, {"cluster": {"pools": [{**SSD, "nodes": 2}, HDD]},
                       "catalog": {"videos": 20, "chunks_per_video": 1}})
    with pytest.raises(ValueError, match=r"cluster.mode_pools: names pools, but cluster.pools defines none"):
        config({"cluster": {"mode_pools": {"replication": "ssd"}}})


def test_a_device_profile_fills_each_pool():
    cfg = config({"cluster": {"pools": [{"name": "fast", "nodes": 6, "device": "ssd"},
                                        {"name": "slow", "nodes": 6, "device": "hdd"}],
                              "mode_pools": {"replication": "fast", "erasure_coding": "slow"}}})
    (_, _, _, fast), (_, _, _, slow) = cfg.cluster.pool_list()
    assert fast["io_slots"] == 32 and slow["io_slots"] == 1
    assert cfg.cluster.disks_per_node == 12


def test_a_conversion_moves_its_bytes_from_one_pool_to_the_other():
    cfg = crowd()
    sim = Simulation(cfg).build().start()
    pools = pool_of_node(cfg)
    ssd, hdd = pools == "ssd", pools == "hdd"
    seen = watch(sim, 600.0, lambda w: (int(w.cluster.used[ssd].sum()), int(w.cluster.used[hdd].sum()),
                                        misplaced(w)))
    r = sim.run().finalize().collect()
    m = r.migrations[r.migrations["video_id"] == 10].reset_index(drop=True)
    assert list(m["to_mode"]) == ["replication", "erasure_coding"]
    assert all(not bad for _, (_, _, bad) in seen)

    def around(i):
        before = [u for t, u in seen if t < m.loc[i, "start_s"]][-1]
        after = [u for t, u in seen if t > m.loc[i, "end_s"]][0]
        return after[0] - before[0], after[1] - before[1]

    assert around(0) == (5 * 3 * S, -5 * 5 * F)          # RS(3,2) on hdd -> 3 replicas on ssd
    assert around(1) == (-5 * 3 * S, 5 * 5 * F)          # and back


def test_no_slot_leaves_its_pool_through_failures_repairs_uploads_and_conversions():
    cfg = crowd(run={"duration": "2d", "seed": 3},
                failures={"node_mttf": "2d", "permanent_fraction": 0.5, "detection_timeout": "10min",
                          "replacement_delay": "1h", "disk_mttf": "6d"},
                workload={"view_rate": "0.2/s", "uploads": {"rate": "10/h", "chunks_per_video": 2, "mean_views": 50}})
    sim = Simulation(cfg).build().start()
    seen = watch(sim, 1800.0, misplaced)
    r = sim.run().finalize().collect()
    s = r.summary
    assert len(r.repairs) > 0 and s["uploads"]["uploaded"] > 0 and len(r.migrations) > 0
    assert len(seen) > 90 and all(not bad for _, bad in seen)


def test_each_pool_device_times_its_own_reads():
    views = [{"at": 10.0, "video": 0}, {"at": 20.0, "video": 19}]
    r = simulate(config(POOLS, {"run": {"duration": 60}, "catalog": {"videos": 20, "chunks_per_video": 1},
                                "workload": {"scheduled_views": views}}))
    lat = r.reads.set_index("video_id")["latency_ms"] / 1000.0
    replica = 1e-4 + S / 500e6 + S / 5e9 + S / CLIENT_BW + NET_LAT              # from the ssd pool
    coded = 8e-3 + F / 100e6 + F / 1.25e9 + 3 * F / CLIENT_BW + NET_LAT         # from the hdd pool
    assert r.reads.set_index("video_id")["kind"].to_dict() == {0: "replication", 19: "erasure_coding"}
    assert abs(lat[0] - replica) < 1e-9 and abs(lat[19] - coded) < 1e-9


def test_each_pool_bills_its_storage_at_its_own_price():
    r = simulate(config(POOLS, {"run": {"duration": "30d"}, "catalog": {"videos": 20, "chunks_per_video": 5}}))
    cost = r.summary["cost"]
    assert cost["prices"]["storage_per_gb_month"] == {"replication": 0.08, "erasure_coding": 0.015}
    # A fixed catalog for 30 days (one month): bytes x price, by hand (the summary keeps 9 decimals of a dollar).
    hot, cold = 1 * 5, 19 * 5
    assert cost["storage_dollars_by_pool"]["ssd"] == pytest.approx(hot * 3 * S / 1e9 * 0.08, abs=5e-10)
    assert cost["storage_dollars_by_pool"]["hdd"] == pytest.approx(cold * 5 * F / 1e9 * 0.015, abs=5e-10)


def test_the_cost_policy_and_the_service_price_each_mode_at_its_pools_price():
    cfg = config(POOLS, {"redundancy": {"policy": "cost"}, "migration": {"popularity_measure": "windowed"},
                         "prices": {"storage_per_gb_month_by_mode": {"replication": 0.5}}})
    table = cfg.policy_object().prices
    assert (table.storage_replication, table.storage_erasure_coding) == (0.08, 0.015)    # the pools' prices win
    assert cfg.effective_prices().storage_per_gb_month_by_mode == {"replication": 0.08, "erasure_coding": 0.015}


def test_the_one_device_withdrawable_queues_refuse_disks_of_two_pools():
    from vstack_sim.model.disk_queue import DiskQueues
    disks = Simulation(config(POOLS, {"catalog": {"videos": 20, "chunks_per_video": 1}})).build().world.cluster.disks
    with pytest.raises(ValueError, match="2 pools' devices"):
        DiskQueues.like(disks)
