"""Disks held by a request that may be withdrawn: hand-computed holds, withdrawals and releases, the NIC
calendar's undo, and agreement with the event-driven withdrawable queue (disk_queue.py) over generated streams.

Hand-computed cases use one byte per second and dyadic times, so every sum is exact.
"""

import heapq
import math

import numpy as np
import pytest

from vstack_sim.model.disk_holds import DiskHolds, Holder, unreserve
from vstack_sim.model.disk_queue import CLIENT, STARTED, DiskQueues, DiskRequest
from vstack_sim.model.disks import Disks
from vstack_sim.scenario.cluster_schema import ClusterConfig


def one_disk(io_slots: int = 1, shared: bool = False, disk_bandwidth: float = 1.0) -> Disks:
    cfg = ClusterConfig(device="custom", nodes=3, disks_per_node=1, io_slots=io_slots, shared_disk_bandwidth=shared,
                        disk_bandwidth=disk_bandwidth, network_bandwidth=4.0)
    return Disks(cfg, 1, np.random.default_rng(0))


def held_disk():
    """r0 at 0 (positioning 0.5, 1 byte) runs 0-1.5; h at 0.25 (0.25, 1 byte) would run 1.5-2.75 and then leave
    the NIC 2.75-3.0 (1 byte at 4 B/s): it holds the disk. r2 at 0.5 (0.5, 2 bytes) and r3 at 0.75 (0.25, 1 byte)
    wait behind it."""
    dk = one_disk()
    holds = DiskHolds(dk, None)
    got = {}
    holds.submit(0, 0.0, 1, 0.5, lambda s, f: got.__setitem__("r0", (s, f)))
    holds.submit(0, 0.25, 1, 0.25, lambda s, f: got.__setitem__("h", (s, f)))
    before = holds.before
    assert got["h"] == (1.5, 2.75) and before == (1.5, 0.0)
    out = dk.reserve(0, 2.75, 0.25, 0.25)
    holder = Holder(0, before[0], before[1], 2.75, 0, out, 0.25)
    holds.hold(holder)
    for name, t, n, pos in (("r2", 0.5, 2, 0.5), ("r3", 0.75, 1, 0.25)):
        assert holds.submit(0, t, n, pos, lambda s, f, name=name: got.__setitem__(name, (s, f))) is not None
    assert "r2" not in got and "r3" not in got
    return dk, holds, holder, got


def test_a_withdrawn_holder_gives_its_disk_and_nic_back():
    dk, holds, holder, got = held_disk()
    holds.withdraw(holder)
    # As if h had never come: r2 starts when r0 is done (1.5) and runs to 1.5 + 0.5 + 2 = 4.0; r3 4.0-5.25.
    assert (got["r2"], got["r3"]) == ((1.5, 4.0), (4.0, 5.25))
    assert dk.free_at[0] == [5.25]
    assert (dk.nic_start[0], dk.nic_end[0]) == ([0.0], [0.0])      # the NIC calendar as it was
    assert holds.held[0] is None and not holds.lines and holds.withdrawn == 1


def test_a_released_holder_keeps_its_place():
    dk, holds, holder, got = held_disk()
    holds.release(holder)                   # it started: the requests behind it wait for it
    assert (got["r2"], got["r3"]) == ((2.75, 5.25), (5.25, 6.5))
    assert (dk.nic_start[0], dk.nic_end[0]) == ([2.75], [3.0])
    assert holds.withdrawn == 0


def test_a_waiting_request_can_hold_the_disk_again():
    dk, holds, holder, got = held_disk()
    holders = []

    def joined(s, f):                        # r4 may be withdrawn too: it holds the disk when it joins
        got["r4"] = (s, f)
        h = Holder(0, holds.before[0], holds.before[1], f, 0, dk.reserve(0, f, 0.25, 0.0), 0.25)
        holders.append(h)
        holds.hold(h)

    holds.submit(0, 0.875, 1, 0.25, joined)
    holds.submit(0, 1.0, 1, 0.5, lambda s, f: got.__setitem__("r5", (s, f)))
    holds.withdraw(holder)
    assert got["r4"] == (5.25, 6.5) and "r5" not in got           # r5 waits behind r4
    holds.withdraw(holders[0])
    assert got["r5"] == (5.25, 6.75)
    assert dk.free_at[0] == [6.75]


def test_a_withdrawn_waiting_request_never_joins():
    dk, holds, holder, got = held_disk()
    entry = holds.lines[0][0]               # r2
    entry.live = False
    holds.withdraw(holder)
    assert "r2" not in got and got["r3"] == (1.5, 2.75)


def test_one_held_disk_does_not_hold_another():
    cfg = ClusterConfig(device="custom", nodes=3, disks_per_node=2, io_slots=1, disk_bandwidth=1.0)
    dk = Disks(cfg, 1, np.random.default_rng(0))
    holds = DiskHolds(dk, None)
    holds.submit(0, 0.0, 1, 0.5, lambda s, f: None)
    holds.hold(Holder(0, 0.0, 0.0, 1.5, 0, 2.0, 0.0))
    got = []
    assert holds.submit(1, 0.25, 1, 0.5, lambda s, f: got.append((s, f))) is None
    assert got == [(0.25, 1.75)]
    with pytest.raises(ValueError, match="disk 0: already held"):
        holds.hold(Holder(0, 0.0, 0.0, 1.5, 0, 2.0, 0.0))


@pytest.mark.parametrize(("starts", "ends", "end", "length", "want"), [
    ([0.0], [1.0], 1.0, 1.0, ([0.0], [0.0])),                             # the only interval: back to empty
    ([0.0, 2.0], [1.0, 3.0], 3.0, 1.0, ([0.0], [1.0])),                   # a whole interval
    ([0.0], [3.0], 3.0, 1.0, ([0.0], [2.0])),                             # the tail of merged ones
    ([0.0], [3.0], 1.0, 1.0, ([1.0], [3.0])),                             # the head
    ([0.0], [3.0], 2.0, 1.0, ([0.0, 2.0], [1.0, 3.0])),                   # the middle: split
])
def test_unreserve(starts, ends, end, length, want):
    unreserve(starts, ends, end, length)
    assert (starts, ends) == want


def test_unreserve_refuses_an_interval_not_reserved():
    with pytest.raises(ValueError, match="is not reserved"):
        unreserve([0.0, 2.0], [1.0, 3.0], 2.0, 1.0)


# -- against the event-driven withdrawable queue ----------------------------------------------------

def stream(rng, n: int):
    """Requests (t, positioning, bytes, deadline): a request not started by its deadline is withdrawn
    (inf: never)."""
    t = np.cumsum(rng.exponential(0.4, n))
    pos = rng.uniform(0.05, 0.5, n)
    nbytes = rng.integers(1, 4, n).astype(float) * 0.25
    deadline = np.where(rng.random(n) < 0.4, t + rng.exponential(1.5, n), np.inf)
    return list(zip(t.tolist(), pos.tolist(), nbytes.tolist(), deadline.tolist(), strict=True))


def by_queue(reqs, io_slots, shared):
    """The reference: an event-driven queue, each withdrawable request withdrawn at its deadline if waiting."""
    q = DiskQueues(1, io_slots, per_byte=1.0, shared=shared)
    rs = [DiskRequest(i, 0, CLIENT, n, t, p) for i, (t, p, n, _) in enumerate(reqs)]
    actions = sorted([(t, 0, i) for i, (t, _, _, _) in enumerate(reqs)] +
                     [(d, 1, i) for i, (_, _, _, d) in enumerate(reqs) if d < math.inf])
    for at, kind, i in actions:
        if q.next_event_time() <= at:
            q.advance(at)
        if kind == 0:
            q.submit(at, rs[i])
        else:
            q.withdraw(i, at)
    q.advance(math.inf)
    return {i: (r.start, r.finish) for i, r in enumerate(rs) if r.state == STARTED}


def by_holds(reqs, io_slots, shared):
    """The same stream through next-free-time disks with holds: a withdrawable request that joins before its start
    and would still be waiting at its deadline holds the disk until it starts or its deadline comes."""
    dk = one_disk(io_slots, shared)
    holds = DiskHolds(dk, None)
    events = [(t, 0, i) for i, (t, _, _, _) in enumerate(reqs)]    # (time, kind, i): 0 submit, 1 deadline, 2 start
    heapq.heapify(events)
    done, holders, entries = {}, {}, {}

    def joined(i, s, f):
        done[i] = (s, f)
        t, _, _, deadline = reqs[i]
        if s > holds.now and deadline < s:           # it will still be waiting at its deadline
            holders[i] = Holder(0, holds.before[0], holds.before[1], f, 0, dk.reserve(0, f, 0.0, 0.0), 0.0)
            holds.hold(holders[i])
            heapq.heappush(events, (s, 2, i))

    while events:
        at, kind, i = heapq.heappop(events)
        holds.now = at
        t, pos, n, deadline = reqs[i]
        if kind == 0:
            entries[i] = holds.submit(0, t, n, pos, lambda s, f, i=i: joined(i, s, f))
            if deadline < math.inf:
                heapq.heappush(events, (deadline, 1, i))
        elif kind == 1:
            if entries[i] is not None and i not in done:
                entries[i].live = False               # withdrawn while it waits behind a holder
            elif i in holders and holders[i].active:
                holds.withdraw(holders[i])
                del done[i]
        elif holders[i].active:
            holds.release(holders[i])
    return done


@pytest.mark.parametrize(("io_slots", "shared"), [(1, False), (2, False), (3, True)])
def test_holds_agree_with_the_event_driven_queue(io_slots, shared):
    rng = np.random.default_rng(5)
    withdrawn = 0
    for _ in range(60):
        reqs = stream(rng, 80)
        want = by_queue(reqs, io_slots, shared)
        got = by_holds(reqs, io_slots, shared)
        assert got == want
        withdrawn += len(reqs) - len(want)
    assert withdrawn > 200                            # the streams do withdraw waiting requests
