"""Replica choice (reads.replica_choice) by hand: 3 nodes in 2 racks, one chunk with a replica on each,
three views reading it at the same instant on one-slot disks. Reader of view v: rack v mod 2."""

import numpy as np
import pytest

from tests.builders import config, layout
from vstack_sim.model.simulation import Simulation

S = 2 * 2**20
DISK_BW, REQ_LAT, CLIENT_BW, NET_LAT, NIC_BW = 50e6, 0.004, 1.25e8, 0.0005, 1.25e9
SERVICE = REQ_LAT + S / DISK_BW                   # one replica read on its disk
TAIL = S / NIC_BW + S / CLIENT_BW + NET_LAT       # out of the node's NIC, through the reader's link


def three_reads(choice: str):
    return config({
        "run": {"duration": 3600},
        "catalog": {"videos": 1, "chunks_per_video": 1, "hot_fraction": 1.0},
        "cluster": {"nodes": 3, "racks": 2, "io_slots": 1, "client_bandwidth": CLIENT_BW},
        "redundancy": {"policy": "replication"},
        "reads": {"replica_choice": choice},
        "workload": {"scheduled_views": [{"at": 10.0, "video": 0}] * 3}})


def run(choice: str, draws=()):
    """Latencies (s) of views 0, 1, 2; ``draws`` are the reads stream's next U[0, 1) values, in order."""
    sim = Simulation(three_reads(choice)).build()
    sim.reads._rand = list(reversed(draws))       # fixed draws: the pump pops from the end
    r = sim.start().run().finalize().collect()
    reads = r.reads.sort_values("view_id")
    assert list(reads["view_id"]) == [0, 1, 2] and (reads["kind"] == "replication").all()
    return list(reads["latency_ms"] / 1000.0)


def expect(got, queue_positions):
    """Each read waits for the reads before it on its disk: position p finishes at p x SERVICE."""
    assert got == pytest.approx([p * SERVICE + TAIL for p in queue_positions], abs=1e-12)


def test_primary_sends_every_read_to_the_first_replica():
    expect(run("primary"), [1, 2, 3])


def test_random_uses_the_draws():
    # live slots [0, 1, 2]: U = 0.0 -> slot 0, 0.0 -> slot 0, 0.9 -> slot 2
    expect(run("random", [0.0, 0.0, 0.9]), [1, 2, 1])
    expect(run("random", [0.0, 0.5, 0.9]), [1, 1, 1])


def test_nearest_reads_in_the_readers_rack():
    nodes = layout(three_reads("nearest"))
    assert sorted(n % 2 for n in nodes) == [0, 0, 1]
    # Views 0 and 2 read from rack 0 (two replicas: one draw each), view 1 from rack 1 (one replica, no draw).
    expect(run("nearest", [0.0, 0.0]), [1, 1, 2])
    expect(run("nearest", [0.0, 0.9]), [1, 1, 1])


def test_least_loaded_counts_only_the_readers_own_requests():
    # View 0 (reader 0): nothing in flight, U = 0 -> slot 0. View 1 (reader 1) does not see reader 0's
    # request: U = 0 -> slot 0 again, and waits. View 2 (reader 0) avoids slot 0's node: U = 0 -> slot 1.
    expect(run("least_loaded", [0.0, 0.0, 0.0]), [1, 2, 1])


def test_oracle_sends_each_read_to_an_idle_disk():
    expect(run("oracle"), [1, 1, 1])
# -- under random choice, replicated p99 grows with load (the crossover's shape, benchmarks/crossover.py)

def crossover():
    """benchmarks/crossover.py, loaded from its file (benchmarks/ is not a package)."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "benchmarks" / "crossover.py"
    spec = importlib.util.spec_from_file_location("crossover", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_random_choice_replicated_p99_grows_with_load_with_intervals():
    from vstack_sim.analysis.stats import mean_interval
    from vstack_sim.model.simulation import simulate
    from vstack_sim.scenario.schema import Config

    bench = crossover()
    # All-EC's disk capacity (crossover.py's axis): 72 disks / (3 x (8 ms + 699,051 B / 200 MB/s)) = 2,087 reads/s.
    cap, where = bench.ec_capacity(bench.config("hdd", "erasure_coding", 1.0, 1))
    assert where == "disk" and cap == pytest.approx(72 / (3 * (0.008 + 699_051 / 200e6)))

    def p99(load: float, seed: int) -> float:
        """crossover.py's all-replication HDD run at ``load`` of all-EC's capacity, 20,000 reads, this seed."""
        data = bench.config("hdd", "replication", load * cap, 20_000, "random").model_dump()
        data["run"]["seed"] = seed
        return simulate(Config.model_validate(data)).summary["reads"]["latency_ms"]["replication"]["p99"]

    low, high = (mean_interval([p99(load, seed) for seed in range(1, 5)]) for load in (0.05, 0.7))
    assert low.hi < high.lo, (low, high)


def test_crossover_axis_gives_mean_and_hottest_disk_and_its_verdict_says_no_difference_inside_the_interval():
    from vstack_sim.analysis.theory import che_lru_hit_ratio

    bench = crossover()
    cap, _ = bench.ec_capacity(bench.config("hdd", "erasure_coding", 1.0, 1))
    mean, hottest = bench.disk_utilisation(bench.config("hdd", "erasure_coding", 0.3 * cap, 1000), 0.3 * cap)
    assert mean == pytest.approx(0.3, rel=1e-9) and hottest > 1.2 * mean      # the axis, and Zipf's hot disks
    cached = bench.config("hdd", "erasure_coding", 0.3 * cap, 1000, cache=True)
    c_mean, _ = bench.disk_utilisation(cached, 0.3 * cap)
    chunk = np.repeat(1.0 / np.arange(1, bench.VIDEOS + 1), bench.CHUNKS_PER_VIDEO)   # all-EC: misses pay alike
    assert c_mean == pytest.approx(0.3 * (1 - che_lru_hit_ratio(chunk, cached.cache.capacity // 2**21)), rel=1e-6)
    assert bench.verdict([1.0, 1.1, 0.9]) == "EC lower" and bench.verdict([-2.0, -2.1, -1.9]) == "rep lower"
    assert bench.verdict([-1.0, 1.0, 0.1]) == "no difference"
    rows = [(0.1, "EC lower"), (0.2, "no difference"), (0.3, "rep lower")]
    assert "between EC util 0.10 and 0.30: no difference at 0.20" in bench.crossing(rows)
    assert bench.crossing(rows + [(0.4, "no difference")]).endswith("; but not lower at 0.40 (no difference)")


def test_least_loaded_counts_a_request_to_a_dead_node_until_it_times_out():
    """A node fails at 10 s; readers learn of it only after 60 s. Each of the 3 readers (view v: rack v mod 3)
    sends one read there and waits its 5 s timeout; until then that request is in flight, so least_loaded
    sends the reader's next reads (0.3 s apart, each done in ~60 ms) to the two live replicas. Before, the dead
    node had no request in flight and kept being among the least loaded: about a third of the reads timed out."""
    base = {"run": {"duration": 3600},
            "catalog": {"videos": 1, "chunks_per_video": 1, "hot_fraction": 1.0},
            "cluster": {"nodes": 3, "racks": 3, "client_bandwidth": CLIENT_BW},
            "redundancy": {"policy": "replication"},
            "reads": {"replica_choice": "least_loaded", "failure_timeout": 5.0, "failure_detection": 60.0}}
    dead = layout(config(base))[0]
    r = Simulation(config(base, {
        "failures": {"detection_timeout": "30d", "scheduled": [{"at": 10.0, "node": dead, "kind": "transient",
                                                                "duration": "1h"}]},
        "workload": {"scheduled_views": [{"at": 11.0 + 0.1 * i, "video": 0} for i in range(40)]}})).build().start()
    res = r.run().finalize().collect()
    assert res.summary["reads"]["count"] == 40
    assert res.summary["reads"]["timed_out"] <= 3            # one per reader, in the 4 s before any timeout fires
