"""The withdrawable per-disk queue: hand-computed cases, withdrawal, priority, identity with Disks.submit, and
the invariants (servers never overlap, FIFO among the requests that stay) over generated streams.

Hand-computed cases use a bandwidth of one byte per second and dyadic times, so every sum is exact.
"""

import heapq
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vstack_sim.model.disk_queue import (
    CLIENT,
    CONVERSION,
    REPAIR,
    STARTED,
    WITHDRAWN,
    DiskQueues,
    DiskRequest,
)
from vstack_sim.model.disks import Disks
from vstack_sim.scenario.cluster_schema import ClusterConfig

SUBMIT, WITHDRAW = 0, 1


def drive(q: DiskQueues, actions: list[tuple]) -> tuple[dict, list[DiskRequest]]:
    """A pump: actions (t, SUBMIT, request) or (t, WITHDRAW, id), in time order; the queue's events at or
    before t are processed before the action at t. Returns ({id: withdraw result}, requests in start order)."""
    results, started = {}, []
    for t, kind, x in actions:
        if q.next_event_time() <= t:
            started += q.advance(t)
        if kind == SUBMIT:
            if q.submit(t, x) is not None:
                started.append(x)
        else:
            results[x] = q.withdraw(x, t)
    started += q.advance(math.inf)
    assert q.next_event_time() == math.inf and not q.waiting
    return results, started


def req(i, t, pos, nbytes, disk=0, cls=CLIENT):
    return DiskRequest(i, disk, cls, nbytes, t, pos)


def times(reqs):
    return [(r.start, r.finish) for r in reqs]


# -- hand-computed --------------------------------------------------------------------------------

def test_one_server_three_requests():
    q = DiskQueues(1, 1, per_byte=1.0)
    r0, r1, r2 = req(0, 0.0, 0.5, 1.0), req(1, 0.25, 0.25, 2.0), req(2, 1.0, 0.5, 0.5)
    assert q.submit(0.0, r0) == 1.5                         # free: starts at once, 0 + 0.5 + 1
    assert q.submit(0.25, r1) is None                       # busy until 1.5: waits
    assert q.next_event_time() == 1.5
    assert q.advance(1.0) == []
    assert q.submit(1.0, r2) is None
    assert q.advance(1.5) == [r1]                           # 1.5 + 0.25 + 2 = 3.75
    assert q.next_event_time() == 3.75
    assert q.advance(10.0) == [r2]                          # 3.75 + 0.5 + 0.5 = 4.75
    assert times([r0, r1, r2]) == [(0.0, 1.5), (1.5, 3.75), (3.75, 4.75)]
    assert q.next_event_time() == math.inf


def test_two_servers_three_requests():
    q = DiskQueues(1, 2, per_byte=1.0)
    r0, r1, r2 = req(0, 0.0, 0.5, 1.0), req(1, 0.25, 0.25, 2.0), req(2, 1.0, 0.5, 1.0)
    assert q.submit(0.0, r0) == 1.5
    assert q.submit(0.25, r1) == 2.5                        # the second server: 0.25 + 0.25 + 2
    assert q.submit(1.0, r2) is None                        # both busy (until 1.5 and 2.5)
    assert q.next_event_time() == 1.5
    assert q.advance(2.0) == [r2]                           # the first to free: 1.5 + 0.5 + 1 = 3
    assert times([r0, r1, r2]) == [(0.0, 1.5), (0.25, 2.5), (1.5, 3.0)]


def test_a_server_freeing_on_a_disk_with_nobody_waiting_is_no_event():
    q = DiskQueues(2, 1, per_byte=1.0)
    assert q.submit(0.0, req(0, 0.0, 0.5, 1.0, disk=0)) == 1.5
    assert q.next_event_time() == math.inf
    assert q.submit(2.0, req(1, 2.0, 0.5, 1.0, disk=0)) == 3.5   # the free server is seen through the heap


def test_a_withdrawal_before_start_gives_its_time_to_the_requests_behind():
    q = DiskQueues(1, 1, per_byte=1.0)
    r0, r1, r2 = req(0, 0.0, 0.5, 1.0), req(1, 0.25, 0.25, 2.0), req(2, 0.5, 0.5, 0.5)
    results, started = drive(q, [(0.0, SUBMIT, r0), (0.25, SUBMIT, r1), (0.5, SUBMIT, r2), (1.0, WITHDRAW, 1)])
    assert results == {1: True}
    assert r1.state == WITHDRAWN and math.isnan(r1.start)
    assert started == [r0, r2]
    assert times([r0, r2]) == [(0.0, 1.5), (1.5, 2.5)]     # without the withdrawal r2 ran 3.75 to 4.75


def test_a_withdrawal_after_start_is_refused_and_changes_nothing():
    def run(withdrawals):
        q = DiskQueues(1, 1, per_byte=1.0)
        rs = [req(0, 0.0, 0.5, 1.0), req(1, 0.25, 0.25, 2.0), req(2, 0.5, 0.5, 0.5)]
        acts = [(r.t, SUBMIT, r) for r in rs] + withdrawals
        results, _ = drive(q, sorted(acts, key=lambda a: a[0]))
        return results, times(rs), q
    results, after, q = run([(1.0, WITHDRAW, 0), (2.0, WITHDRAW, 1)])
    assert results == {0: False, 1: False}                 # r0 started at 0, r1 at 1.5
    _, before, _ = run([])
    assert after == before == [(0.0, 1.5), (1.5, 3.75), (3.75, 4.75)]
    assert q.withdraw(1, 5.0) is False and q.withdraw(99, 5.0) is False


def test_at_equal_times_the_order_of_the_calls_decides():
    for advance_first, withdrawn in ((False, True), (True, False)):
        q = DiskQueues(1, 1, per_byte=1.0)
        q.submit(0.0, req(0, 0.0, 0.5, 1.0))
        r1 = req(1, 0.25, 0.25, 2.0)
        q.submit(0.25, r1)
        if advance_first:
            assert q.advance(1.5) == [r1]
        assert q.withdraw(1, 1.5) is withdrawn


def test_acting_past_an_unprocessed_event_is_refused():
    q = DiskQueues(1, 1, per_byte=1.0)
    q.submit(0.0, req(0, 0.0, 0.5, 1.0))
    q.submit(0.25, req(1, 0.25, 0.25, 2.0))
    with pytest.raises(ValueError, match="advance"):
        q.withdraw(1, 2.0)                                  # r1 started at 1.5: the queue must say so first
    with pytest.raises(ValueError, match="advance"):
        q.submit(2.0, req(2, 2.0, 0.5, 0.5))


def test_priority_serves_the_client_read_before_the_repair_read():
    # A conversion in service until 1.5; a repair read at 0.25 and a client read at 0.5 wait for it.
    def run(discipline):
        q = DiskQueues(1, 1, per_byte=1.0, discipline=discipline)
        c = req(0, 0.0, 0.5, 1.0, cls=CONVERSION)
        r = req(1, 0.25, 0.25, 2.0, cls=REPAIR)
        x = req(2, 0.5, 0.5, 0.5, cls=CLIENT)
        _, started = drive(q, [(a.t, SUBMIT, a) for a in (c, r, x)])
        return [a.id for a in started], times([c, r, x])
    assert run("fifo") == ([0, 1, 2], [(0.0, 1.5), (1.5, 3.75), (3.75, 4.75)])
    # priority: the client read takes the server at 1.5 (1.5 + 0.5 + 0.5 = 2.5), the repair follows
    # (2.5 + 0.25 + 2 = 4.75); the conversion in service is not interrupted.
    assert run("priority") == ([0, 2, 1], [(0.0, 1.5), (2.5, 4.75), (1.5, 2.5)])


def test_unknown_discipline_is_refused():
    with pytest.raises(ValueError, match="discipline"):
        DiskQueues(1, 1, 1.0, discipline="mclock")


# -- identity with Disks.submit --------------------------------------------------------------------

@pytest.mark.parametrize("io_slots,shared", [(1, False), (2, False), (4, False), (2, True), (4, True)])
def test_fifo_without_withdrawals_is_byte_identical_to_disks_submit(io_slots, shared):
    cfg = ClusterConfig(device="custom", disks_per_node=2, io_slots=io_slots, shared_disk_bandwidth=shared,
                        disk_bandwidth=200e6, request_latency=0.004, positioning_time="lognormal",
                        positioning_cv=1.0)
    n_nodes = 3
    old = Disks(cfg, n_nodes, np.random.default_rng(7))
    new_draws = Disks(cfg, n_nodes, np.random.default_rng(7))      # the same service stream, for the new queue
    q = DiskQueues.like(new_draws)
    assert (q.n_disks, q.io_slots, q.shared) == (6, io_slots, shared)
    rng = np.random.default_rng(11)
    n = 4000
    sizes = np.array([2 * 2**20, 2**19, 2**20])
    mean_service = 0.004 + sizes.mean() / 200e6
    arrivals = np.cumsum(rng.exponential(mean_service / (0.95 * io_slots * old.n_disks), n))
    disks = rng.integers(0, old.n_disks, n)
    nbytes = sizes[rng.integers(0, len(sizes), n)]
    expected, reqs, queued = [], [], 0
    for i in range(n):
        t, d, b = float(arrivals[i]), int(disks[i]), float(nbytes[i])
        expected.append(old.submit(d, t, b))
        if q.next_event_time() <= t:
            q.advance(t)
        r = DiskRequest(i, d, CLIENT, b, t, new_draws.positioning.take())
        queued += q.submit(t, r) is None
        reqs.append(r)
    q.advance(math.inf)
    assert queued > n // 4                                  # the stream does queue
    assert times(reqs) == expected
    assert old.positioning.take() == new_draws.positioning.take()   # the same draws were consumed


# -- invariants over generated streams -------------------------------------------------------------

def lindley(reqs, n_disks, io_slots, shared, per_byte):
    """Disks.submit's recursion over the given requests (in submit order), with their own draws."""
    free = [[0.0] * io_slots for _ in range(n_disks)]
    xfer = [0.0] * n_disks
    out = []
    for r in reqs:
        h = free[r.disk]
        start = h[0] if h[0] > r.t else r.t
        if shared:
            begin = max(start + r.positioning, xfer[r.disk])
            finish = xfer[r.disk] = begin + r.nbytes * per_byte
        else:
            finish = start + r.positioning + r.nbytes * per_byte
        heapq.heapreplace(h, finish)
        out.append((start, finish))
    return out


quarter = st.integers(0, 8).map(lambda k: k / 4)          # dyadic: exact sums, and many ties
streams = st.lists(st.tuples(quarter, st.integers(0, 2), quarter, quarter, st.sampled_from([CLIENT, REPAIR,
                   CONVERSION]), st.none() | quarter), min_size=1, max_size=40)


def build(stream, n_disks):
    t, reqs, acts = 0.0, [], []
    for i, (gap, disk, pos, nbytes, cls, withdraw_after) in enumerate(stream):
        t += gap
        r = DiskRequest(i, disk % n_disks, cls, nbytes, t, pos)
        reqs.append(r)
        acts.append((t, SUBMIT, r))
        if withdraw_after is not None:
            acts.append((t + withdraw_after, WITHDRAW, i))
    acts.sort(key=lambda a: a[0])                           # stable: submits stay in order at equal times
    return reqs, acts


def assert_servers_never_overlap(reqs, io_slots):
    for d in {r.disk for r in reqs}:
        served = [r for r in reqs if r.disk == d and r.state == STARTED and r.finish > r.start]  # not empty
        edges = sorted([(r.finish, -1) for r in served] + [(r.start, 1) for r in served])
        busy = 0
        for _, step in edges:                               # at equal times, a finish frees before a start
            busy += step
            assert 0 <= busy <= io_slots


@settings(max_examples=300, deadline=None)
@given(streams, st.integers(1, 3), st.integers(1, 3), st.booleans())
def test_fifo_invariants(stream, n_disks, io_slots, shared):
    reqs, acts = build(stream, n_disks)
    q = DiskQueues(n_disks, io_slots, per_byte=1.0, shared=shared)
    results, started = drive(q, acts)
    withdrawn = [r for r in reqs if r.state == WITHDRAWN]
    assert sorted(r.id for r in withdrawn) == sorted(i for i, ok in results.items() if ok)
    stay = [r for r in reqs if r.state != WITHDRAWN]
    assert all(r.state == STARTED and r.start >= r.t for r in stay)
    assert [r.start for r in started] == sorted(r.start for r in started)   # reported in start order
    for i, ok in results.items():                           # refused: it had started by then
        if not ok:
            assert reqs[i].start <= next(t for t, kind, x in acts if kind == WITHDRAW and x == i)
    assert_servers_never_overlap(reqs, io_slots)
    for d in range(n_disks):                                # FIFO among the requests that stay
        starts = [r.start for r in stay if r.disk == d]
        assert starts == sorted(starts)
    # A request withdrawn before it started leaves no trace: the rest is the recursion without it.
    assert times(stay) == lindley(stay, n_disks, io_slots, shared, 1.0)


@settings(max_examples=300, deadline=None)
@given(streams, st.integers(1, 3), st.integers(1, 3))
def test_priority_invariants(stream, n_disks, io_slots):
    reqs, acts = build(stream, n_disks)
    q = DiskQueues(n_disks, io_slots, per_byte=1.0, discipline="priority")
    drive(q, acts)
    withdraw_at = {x: t for t, kind, x in acts if kind == WITHDRAW}
    assert_servers_never_overlap(reqs, io_slots)
    stay = [r for r in reqs if r.state == STARTED]
    for s in stay:
        for o in reqs:
            if o.disk != s.disk or o.t >= s.start:
                continue
            waiting_then = (o.start > s.start if o.state == STARTED else withdraw_at[o.id] >= s.start)
            if waiting_then:                                # o waited while s took a server
                assert o.cls >= s.cls                       # strict priority
                if o.cls == s.cls:
                    assert o.id > s.id                      # FIFO within a class
