"""The I/O scheduler between client reads and background I/O: hand-computed cases under fifo, priority and mclock,
and the budgets.

One disk of one server; a request of b bytes takes 1 s of positioning plus b s of transfer (1 byte per second), so
every time below is an exact integer. Client reads join the disk's queue when issued, as the read pump does;
background requests go through the arbiter. Generated streams check the invariants: under priority no background
request starts while a client read waits and the disk never idles while it holds one; under every scheduler each
request is served once, never before it is issued, and the server's services never overlap.
"""

import numpy as np
import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from vstack_sim.model.disk_queue import CONVERSION, REPAIR
from vstack_sim.model.disks import Disks
from vstack_sim.model.io_arbiter import BackgroundIo, Join
from vstack_sim.scenario.cluster_schema import ClusterConfig


def one_disk():
    cfg = ClusterConfig(nodes=1, racks=1, device="custom", io_slots=1, request_latency=1.0, disk_bandwidth=1.0,
                        network_bandwidth=1e12)
    return Disks(cfg, 1, np.random.default_rng(0))


def play(events, scheduler="fifo", budgets=None, window=1.0, mclock=None):
    """events: (t, name, class or "client", bytes). Returns {name: (start, finish)} and the arbiter."""
    env, dk = simpy.Environment(), one_disk()
    arb = None if scheduler is None else BackgroundIo(env, dk, scheduler, budgets or {}, window, mclock)
    done = {}

    def issue(t, name, cls, nbytes):
        yield env.timeout(t)
        if cls == "client" or arb is None:
            done[name] = dk.submit(0, env.now, nbytes)
        else:
            arb.submit(0, env.now, nbytes, cls, lambda s, f, _now: done.__setitem__(name, (s, f)))

    for ev in events:
        env.process(issue(*ev))
    env.run()
    return done, arb


# A: a client read being served; R: a repair read issued while A is served; B: a client read after R.
CASE = [(0, "A", "client", 9), (1, "R", REPAIR, 9), (2, "B", "client", 4)]


def test_fifo_serves_in_issue_order():
    done, _ = play(CASE, scheduler=None)
    assert done == {"A": (0, 10), "R": (10, 20), "B": (20, 25)}


def test_priority_lets_the_client_read_go_first():
    done, arb = play(CASE, scheduler="priority")
    # R waits while a client read is queued: A ends at 10, B (issued at 2) is served 10-15, then R 15-25.
    assert done == {"A": (0, 10), "B": (10, 15), "R": (15, 25)}
    assert arb.summary()["repair"] == {"requests": 1, "held": 1, "held_mean_ms": 14000.0, "held_max_ms": 14000.0}


def test_priority_is_non_preemptive_and_serves_repairs_before_conversions():
    events = [(0, "C", CONVERSION, 9), (1, "R", REPAIR, 9), (2, "X", CONVERSION, 1), (3, "A", "client", 4)]
    done, _ = play(events, scheduler="priority")
    # C found the disk idle and started at once; A (a client) cannot preempt it, but goes before the held
    # repair, which goes before the held conversion.
    assert done == {"C": (0, 10), "A": (10, 15), "R": (15, 25), "X": (25, 27)}


def test_mclock_reservation_lets_a_repair_join_behind_queued_clients():
    # Repair reservation 0.5 of the disk: a 10 s request earns a slot every 20 s. R1's tag is its issue time,
    # so it joins the queue at once (behind A). R2's tag is 1 + 10 / 0.5 = 21: until then it joins only if
    # the disk has a free server, which it never has (clients B and C keep it busy to 30), so it joins at 21,
    # behind C.
    events = [(0, "A", "client", 9), (1, "R1", REPAIR, 9), (1, "R2", REPAIR, 9), (2, "B", "client", 4),
              (3, "C", "client", 4)]
    mclock = {REPAIR: (0.5, 1.0, 1.0), CONVERSION: (0.0, 1.0, 1.0)}
    done, _ = play(events, scheduler="mclock", mclock=mclock)
    assert done == {"A": (0, 10), "R1": (10, 20), "B": (20, 25), "C": (25, 30), "R2": (30, 40)}
    # The same under priority: both repairs wait for the clients.
    done, _ = play(events, scheduler="priority")
    assert done == {"A": (0, 10), "B": (10, 15), "C": (15, 20), "R1": (20, 30), "R2": (30, 40)}


def test_mclock_limit_holds_a_class_even_on_an_idle_disk():
    # Conversion limit 0.25: a 10 s request's L tag moves 40 s. X1 (L = 1) goes at once; X2 (L = 41) waits
    # for its limit although the disk is idle from 11.
    events = [(1, "X1", CONVERSION, 9), (1, "X2", CONVERSION, 9)]
    mclock = {REPAIR: (0.0, 1.0, 1.0), CONVERSION: (0.0, 1.0, 0.25)}
    done, _ = play(events, scheduler="mclock", mclock=mclock)
    assert done == {"X1": (1, 11), "X2": (41, 51)}


def test_mclock_weights_share_an_idle_disk_between_the_background_classes():
    # No reservations, no limits: on a free server the head with the smallest P tag goes. Repair weight 2,
    # conversion weight 1: tags advance 5 and 10 per 10 s request, so the repairs go two to one.
    events = [(0, "A", "client", 9)] + [(1, f"R{i}", REPAIR, 9) for i in range(4)] + \
        [(1, f"X{i}", CONVERSION, 9) for i in range(2)]
    mclock = {REPAIR: (0.0, 2.0, 1.0), CONVERSION: (0.0, 1.0, 1.0)}
    done, _ = play(events, scheduler="mclock", mclock=mclock)
    order = sorted((s, n) for n, (s, f) in done.items() if n != "A")
    # P tags: R0..R3 = 1, 6, 11, 16; X0, X1 = 1, 11. Ties go to the class listed first (repairs).
    assert [n for _, n in order] == ["R0", "X0", "R1", "R2", "X1", "R3"]
    assert [s for s, _ in order] == [10, 20, 30, 40, 50, 60]


def test_a_budget_holds_a_class_while_the_disk_is_busy_and_not_when_it_is_idle():
    # Budget 0.5 over a 20 s window: 10 s of repair disk time per window while the disk is busy. R1 (10 s)
    # fits and joins behind A; R2 would make 20 s: it waits until the disk has a free server (B ends at 25),
    # not until R1 leaves the window (30).
    events = [(0, "A", "client", 9), (1, "R1", REPAIR, 9), (1, "R2", REPAIR, 9), (2, "B", "client", 4)]
    done, arb = play(events, scheduler="fifo", budgets={REPAIR: 0.5}, window=20.0)
    assert done == {"A": (0, 10), "R1": (10, 20), "B": (20, 25), "R2": (25, 35)}


def test_a_budget_frees_room_as_the_window_slides():
    # Client reads of 1 s every 0.5 s keep the disk busy. Three repairs of 2 s issued at 0, budget 0.25 over
    # 8 s (2 s of repair time per window). R0 fits: it joins at 0 and starts at 1. R1 joins when R0's start
    # leaves the window, at 1 + 8 = 9, behind the 19 client reads issued by then (start 2 + 19 = 21). R2 joins
    # at 21 + 8 = 29, behind 59 client reads (start 4 + 59 = 63).
    events = [(0.5 * i, f"C{i}", "client", 0) for i in range(61)] + [(0, f"R{i}", REPAIR, 1) for i in range(3)]
    done, arb = play(events, scheduler="fifo", budgets={REPAIR: 0.25}, window=8.0)
    assert [done[f"R{i}"] for i in range(3)] == [(1, 3), (21, 23), (63, 65)]
    assert arb.summary()["repair"]["held"] == 2


def test_join_calls_on_the_last_one():
    got = []
    j = Join(3, 5.0, lambda a, b: got.append((a, b)))
    j.add(7.0, 9.0)
    j.add(6.0, 8.0)
    assert got == []
    j.add(8.0, 12.0)
    assert got == [(6.0, 12.0)]


def test_bad_arguments_name_themselves():
    env, dk = simpy.Environment(), one_disk()
    with pytest.raises(ValueError, match="scheduler"):
        BackgroundIo(env, dk, "wfq", {}, 1.0)
    with pytest.raises(ValueError, match="window"):
        BackgroundIo(env, dk, "fifo", {}, 0.0)


# -- properties over generated streams (one disk, one server, integer times and sizes) -------------------------

STREAMS = st.lists(st.tuples(st.integers(0, 60), st.sampled_from(["client", REPAIR, CONVERSION]),
                             st.integers(0, 9)), min_size=1, max_size=40)


def named(stream):
    return [(t, f"{i}", cls, nbytes) for i, (t, cls, nbytes) in enumerate(stream)]


@settings(max_examples=150, deadline=None)
@given(STREAMS)
def test_priority_never_starts_a_background_request_while_a_client_read_waits(stream):
    events = named(stream)
    done, _ = play(events, scheduler="priority")
    kind = {name: cls for _, name, cls, _ in events}
    issued = {name: t for t, name, _, _ in events}
    clients = [n for n in done if kind[n] == "client"]
    for b in (n for n in done if kind[n] != "client"):
        s = done[b][0]
        # A client issued strictly before b started, and started strictly after: it waited while b started.
        assert not any(issued[c] < s < done[c][0] for c in clients), (b, done)


@settings(max_examples=150, deadline=None)
@given(STREAMS)
def test_priority_keeps_the_disk_busy_while_it_holds_a_request(stream):
    # Work conservation: from a background request's issue to its start the disk's one server never idles.
    events = named(stream)
    done, _ = play(events, scheduler="priority")
    busy = sorted(done.values())
    for t, name, cls, _ in events:
        if cls == "client":
            continue
        start = done[name][0]
        covered = t
        for s, f in busy:
            if s <= covered < f:
                covered = f
        assert covered >= start, (name, t, start, busy)


@settings(max_examples=100, deadline=None)
@given(STREAMS, st.sampled_from([None, "priority", "mclock"]))
def test_every_request_is_served_once_and_the_server_never_overlaps(stream, scheduler):
    events = named(stream)
    mclock = {REPAIR: (0.3, 2.0, 1.0), CONVERSION: (0.0, 1.0, 0.5)}
    done, _ = play(events, scheduler=scheduler, mclock=mclock if scheduler == "mclock" else None)
    assert set(done) == {name for _, name, _, _ in events}
    spans = sorted(done.values())
    assert all(f0 <= s1 for (_, f0), (s1, _) in zip(spans, spans[1:], strict=False))
    issued = {name: t for t, name, _, _ in events}
    assert all(done[n][0] >= issued[n] for n in done)
