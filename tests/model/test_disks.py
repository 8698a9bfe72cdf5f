"""Disks per node: capacity, the slot -> disk map and its balance, shared transfer paths, NIC egress."""

import numpy as np

from tests.builders import config, fail
from vstack_sim.model.disks import Disks
from vstack_sim.model.simulation import Simulation, simulate
from vstack_sim.scenario.cluster_schema import ClusterConfig

S = 2 * 2**20


def test_a_nodes_capacity_is_the_sum_of_its_disks():
    d = Disks(ClusterConfig(node_capacity=1003, disks_per_node=4), 3, np.random.default_rng(0))
    assert d.capacity.tolist()[:4] == [251, 251, 251, 250]
    assert d.node_capacity().tolist() == [1003, 1003, 1003]
    assert d.disk_node.tolist() == [0] * 4 + [1] * 4 + [2] * 4


def test_pick_takes_the_disk_with_most_free_space():
    d = Disks(ClusterConfig(node_capacity=400, disks_per_node=4), 2, np.random.default_rng(0))
    d.used[4:8] = [50, 10, 10, 70]
    assert d.pick(1) == 5
    assert d.pick(0) == 0


def slot_bytes_of(w):
    return w.state.mode_slot_bytes[w.state.mode][:, None] * np.ones(w.state.width, dtype=np.int64)


def check_disk_map(w):
    st, dk = w.state, w.cluster.disks
    held = st.slot_node >= 0
    assert ((dk.slot_disk >= 0) == held).all()
    assert (dk.disk_node[dk.slot_disk[held]] == st.slot_node[held]).all()
    live = st.slot_has_data
    per_disk = np.bincount(dk.slot_disk[live], weights=slot_bytes_of(w)[live], minlength=dk.n_disks)
    assert np.array_equal(per_disk.astype(np.int64), dk.used)


def test_ingest_deals_each_nodes_slots_evenly_over_its_disks():
    cfg = config({"catalog": {"videos": 200, "chunks_per_video": 10},
                  "cluster": {"device": "hdd", "nodes": 8, "racks": 4, "node_capacity": "1TB"}})
    w = Simulation(cfg).build().world
    check_disk_map(w)
    dk = w.cluster.disks
    for mode in (0, 1):
        rows = w.state.mode == mode
        counts = np.bincount(dk.slot_disk[rows][dk.slot_disk[rows] >= 0], minlength=dk.n_disks).reshape(8, 12)
        assert (counts.max(axis=1) - counts.min(axis=1) <= 1).all()


def test_repairs_and_conversions_keep_the_disk_map_and_free_space_exact():
    cfg = config({
        "run": {"duration": "2d", "seed": 4},
        "catalog": {"videos": 60, "chunks_per_video": 10, "hot_fraction": 0.1},
        "cluster": {"device": "hdd", "nodes": 8, "racks": 4, "disks_per_node": 3, "node_capacity": "1TB"},
        "failures": {"detection_timeout": "10min", "scheduled": [fail(3600, 2, "permanent", "2h"),
                                                                 fail(7200, 5, "transient", "3h")]},
        "migration": {"check_interval": "1h"},
        "workload": {"view_rate": "0.2/s", "flash_crowds": [{"video": 30, "start": "1h", "duration": "6h",
                                                             "view_rate": "0.5/s"}]}})
    sim = Simulation(cfg).build().start().run()
    sim.finalize()
    r = sim.collect()
    assert r.summary["recovery"]["repairs"] > 0
    assert r.summary["migrations"]["to_replication"] > 0
    check_disk_map(sim.world)


def single_node_two_slots(**cluster):
    return config({
        "run": {"duration": 3600},
        "catalog": {"videos": 1, "chunks_per_video": 1, "hot_fraction": 1.0},
        "cluster": {"nodes": 1, "racks": 1, "io_slots": 2, **cluster},
        "redundancy": {"policy": "replication", "replication_factor": 1},
        "workload": {"scheduled_views": [{"at": 10.0, "video": 0}, {"at": 10.0, "video": 0}]}})


def test_a_shared_transfer_path_overlaps_positioning_but_not_transfers():
    r = simulate(single_node_two_slots(shared_disk_bandwidth=True))
    a, b = sorted(r.reads["latency_ms"] / 1000.0)
    assert abs((b - a) - S / 50e6) < 1e-9
    r = simulate(single_node_two_slots(shared_disk_bandwidth=False))
    a, b = sorted(r.reads["latency_ms"] / 1000.0)
    assert abs((b - a) - S / 1.25e9) < 1e-9          # parallel slots: only the NIC queues


def test_a_hot_nodes_nic_saturates():
    # Ten fast disks on one node: the disks keep up with 100 MB/s of reads, the 50 MB/s NIC cannot.
    base = {"run": {"duration": 600, "seed": 2},
            "catalog": {"videos": 50, "chunks_per_video": 5, "hot_fraction": 1.0},
            "cluster": {"nodes": 1, "racks": 1, "disks_per_node": 10, "io_slots": 1, "disk_bandwidth": 1e9,
                        "request_latency": 0.0001},
            "redundancy": {"policy": "replication", "replication_factor": 1},
            "workload": {"view_rate": 100e6 / S / 5, "watch_distribution": "fixed"},
            "outputs": {"reads_table_sample": 0}}
    fast = simulate(config(base, {"cluster": {"network_bandwidth": 1e9}})).summary["reads"]["latency_ms"]["all"]
    slow = simulate(config(base, {"cluster": {"network_bandwidth": 50e6}})).summary["reads"]["latency_ms"]["all"]
    assert fast["p99"] < 60 and slow["p50"] > 10 * fast["p50"]


def nic_only(nic_bw=1.0):
    return Disks(ClusterConfig(network_bandwidth=nic_bw), 1, np.random.default_rng(0))


def test_nic_in_arrival_order_is_exactly_a_fifo_queue():
    d = nic_only()
    rng = np.random.default_rng(5)
    arrive = np.cumsum(rng.exponential(1.0, 5000))
    size = rng.exponential(0.8, 5000)
    free, expected = 0.0, []
    for a, y in zip(arrive, size, strict=False):
        free = max(free, a) + y
        expected.append(free)
    got = [d.reserve(0, a, y, a) for a, y in zip(arrive, size, strict=False)]
    assert np.allclose(got, expected, rtol=0, atol=1e-9)


def test_nic_serves_an_early_arrival_in_a_gap_before_a_later_one():
    d = nic_only()
    assert d.reserve(0, 10.0, 1.0, 0.0) == 11.0   # issued first, its disk finishes late
    assert d.reserve(0, 2.0, 1.0, 0.5) == 3.0     # issued later, arrives earlier: not held behind it
    assert d.reserve(0, 9.5, 1.0, 0.6) == 12.0    # the gap before 10 is too short
    assert d.reserve(0, 3.0, 1.0, 0.7) == 4.0     # adjoins [2, 3)
    assert d.nic_start[0] == [2.0, 10.0] and d.nic_end[0] == [4.0, 12.0]
    assert d.send(0, 20.0, 2.0, 1.0, begin=13.0) == 20.0   # pipelined: sends from 13, done when the data is


def test_a_write_reserves_its_bytes_so_a_concurrent_write_to_the_node_takes_another_disk():
    # Issue 19: a disk's free space changed only when a repair finished, so two jobs to one node picked one disk.
    d = Disks(ClusterConfig(node_capacity=400, disks_per_node=2), 1, np.random.default_rng(0))
    first, token = d.reserve_space(0, 30)
    second, _ = d.reserve_space(0, 30)
    assert (first, second) == (0, 1) and d.used.tolist() == [30, 30]
    d.release_space(first, 30, token)                         # that write will not happen
    assert d.used.tolist() == [0, 30]
    third, token = d.reserve_space(0, 30)
    d.fail(third)                                             # reset meanwhile: nothing left to release
    d.release_space(third, 30, token)
    assert d.used.tolist() == [0, 30]
    # A finished write places its slot without counting the reserved bytes twice: the free-space invariant of
    # test_repairs_and_conversions_keep_the_disk_map_and_free_space_exact holds with reservations.
