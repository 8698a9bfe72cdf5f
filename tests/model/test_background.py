"""Background I/O rounds: timing of the read -> move -> write pipeline, and interleaving with reads."""

import numpy as np
import pytest
import simpy

from vstack_sim.model.background import DEPTH, BackgroundJob
from vstack_sim.model.disks import Disks
from vstack_sim.scenario.cluster_schema import ClusterConfig

LAT = 0.004
BW = 50e6


def disks(nodes=3):
    """Real next-free-time disk queues, one disk of one I/O slot per node: service = LAT + bytes / BW."""
    cfg = ClusterConfig(nodes=nodes, racks=1, device="custom", io_slots=1, request_latency=LAT, disk_bandwidth=BW)
    return Disks(cfg, nodes, np.random.default_rng(0))


def job(env, cl, rounds, unit, move_s, log, check=None):
    """A job reading ``unit`` bytes from node 0, moving them in ``move_s``, writing them to node 1."""
    def read(t, then):
        then(*cl.submit(0, t, unit))

    def write(t, then):
        log.append(("write", t))
        then(cl.submit(1, t, unit)[1])

    def done(first, end):
        log.append(("done", first, end))

    return BackgroundJob(env, rounds, read, lambda t: t + move_s, write, done, check)


def service(unit):
    return LAT + unit / BW


def test_one_round_is_one_read_one_move_one_write():
    env, cl, log = simpy.Environment(), disks(), []
    job(env, cl, 1, 1_000_000, 0.01, log).start()
    env.run()
    s = service(1_000_000)
    assert log[0] == ("write", s + 0.01)
    assert log[1] == ("done", 0.0, pytest.approx(2 * s + 0.01, abs=1e-12))


@pytest.mark.parametrize("move_s", [0.001, 0.024, 0.05])     # read/write-bound, balanced, move-bound
@pytest.mark.parametrize("rounds", [2, 7, 40])
def test_an_uncontended_job_takes_the_sum_of_stages_plus_w_minus_1_bottlenecks(rounds, move_s):
    env, cl, log = simpy.Environment(), disks(), []
    unit = 1_000_000
    job(env, cl, rounds, unit, move_s, log).start()
    env.run()
    s = service(unit)
    first, end = log[-1][1], log[-1][2]
    assert first == 0.0
    assert end == pytest.approx(2 * s + move_s + (rounds - 1) * max(s, move_s), rel=1e-12)
    assert sum(1 for e in log if e[0] == "write") == rounds


def test_a_read_arriving_mid_job_waits_for_at_most_one_background_request():
    env, cl, log = simpy.Environment(), disks(), []
    unit = 4_000_000                                  # 84 ms per request; 100 rounds hold the disk 8.4 s
    job(env, cl, 100, unit, 0.0, log).start()
    waits = []

    def viewer():
        for _ in range(30):
            yield env.timeout(0.137)
            start, _ = cl.submit(0, env.now, 100_000)
            waits.append(start - env.now)

    env.process(viewer())
    env.run()
    assert max(waits) <= service(unit) + 1e-12
    assert max(waits) > 0                             # it did meet the background requests
    assert log[-1][0] == "done"


def test_check_false_stops_the_job_before_its_next_round():
    env, cl, log = simpy.Environment(), disks(), []
    asked = []

    def check(t):
        asked.append(t)
        return len(asked) < 3

    j = job(env, cl, 10, 1_000_000, 0.0, log, check).start()
    env.run()
    assert len(asked) == 3 and j.read_rounds == 3
    assert all(e[0] != "done" for e in log)


def test_a_cancelled_job_does_nothing_more():
    env, cl, log = simpy.Environment(), disks(), []
    j = job(env, cl, 5, 1_000_000, 0.0, log).start()
    env.run(until=0.05)
    j.cancel()
    env.run()
    assert all(e[0] != "done" for e in log) and j.written_rounds < 5


def test_rounds_must_be_positive():
    with pytest.raises(ValueError, match="rounds"):
        BackgroundJob(simpy.Environment(), 0, None, None, None, None)


def test_a_slow_target_throttles_the_reads_instead_of_collecting_writes():
    # The write stage is three requests per round (three times the read stage): reads are held back so
    # that at most DEPTH rounds are in flight, and the makespan is still sum + (W - 1) x the write stage.
    env, cl = simpy.Environment(), disks()
    unit, rounds = 1_000_000, 20
    reads, writes = [], []

    def read(t, then):
        begin, end = cl.submit(0, t, unit)
        reads.append(t)
        then(begin, end)

    def write(t, then):
        end = max(cl.submit(1, t, unit)[1] for _ in range(3))
        writes.append((t, end))
        then(end)

    log = []
    BackgroundJob(env, rounds, read, lambda t: t, write, lambda a, b: log.append(b)).start()
    env.run()
    s = service(unit)
    assert log == [pytest.approx(s + 3 * s + (rounds - 1) * 3 * s, rel=1e-12)]
    for i, t in enumerate(reads):
        in_flight = sum(1 for j, (_, end) in enumerate(writes) if j < i and end > t) + \
            sum(1 for j in range(i) if j >= len(writes) or writes[j][0] > t)
        assert in_flight <= DEPTH - 1, i
    assert max(reads[i + 1] - reads[i] for i in range(rounds - 1)) > s      # held back
