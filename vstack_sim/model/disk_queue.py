"""Per-disk queues that can withdraw a request that has not started, and reorder waiting requests by class.

:class:`~.disks.Disks` computes each disk as a FIFO of ``io_slots`` servers from next-free times (Lindley's
recursion): a request's start and finish are fixed the moment it is submitted. That is exact and fast, but
nothing can leave the queue or overtake once submitted. Two things need that: a hedged read whose loser is
cancelled if it has not started at its disk (issue 21; "The Tail at Scale", Dean and Barroso, CACM 2013, and
Cassandra's speculative retry, which cancel the slower duplicate), and I/O classes served in an order other
than arrival (issue 22; Ceph's op priorities and its mClock scheduler, Linux's I/O priority classes in
CFQ/BFQ).

**The concept.** Each disk keeps the same min-heap of its servers' next-free times as :class:`~.disks.Disks`,
plus a *waiting line* of requests that found every server busy (or others already waiting). A request that
finds a server free and nobody waiting starts at once, exactly as in ``Disks.submit``. A waiting request's
start is not decided until a server frees: that instant is an *event*, and only then does the discipline pick
which waiting request takes the server. A request is non-preemptive: once started, its finish is fixed
(start + positioning + bytes / disk_bandwidth; with ``shared`` the transfer also waits for the disk's one
data path, in start order, as ``Disks.submit`` does) and its disk time is spent. Until it starts it can be
withdrawn, and the requests behind it move up.

**Identity with Disks.** A request carries its positioning time, drawn by the caller *at submit*, so the
stream of draws does not depend on when a request starts or whether it is withdrawn. With ``fifo`` and no
withdrawals, starts and finishes are the same floating-point numbers ``Disks.submit`` gives for the same
stream and the same draws (tests/model/test_disk_queue.py checks this, shared data path included).

**Driving time.** The caller owns the clock and processes its own events in time order; the queue only says
when it next needs attention (:meth:`DiskQueues.next_event_time`: the earliest time a server frees on a disk
with someone waiting) and catches up when asked (:meth:`DiskQueues.advance`). The contract is the one the
read pump (:mod:`.reads`), which serves its own heap in time order, keeps anyway: before acting at time t,
call ``advance(t)`` if ``next_event_time() <= t`` (submit and withdraw refuse, with a ValueError, to act past
an event they depend on). At equal times the order of the calls decides: a request whose server frees at t
has started by t once ``advance(t)`` ran, and can still be withdrawn (or overtaken, under ``priority``)
before. A server that frees on a disk with nobody waiting is no event at all: the next submit sees it free
through the heap, as in ``Disks``, so an unloaded disk costs no events.

``advance`` *returns a list* of the requests it started, in start order, each with ``start`` and ``finish``
set, rather than calling a callback: a pump's hot loop keeps its state in local variables, and iterating a
returned list inline costs no Python call per event and no closure over that state; most calls return an
empty list. There is no separate "finished" report: a request's finish is fixed when it starts, so the start
report carries it (and ``submit`` returns it for a request that starts at once); the caller schedules
whatever follows the finish (the NIC, the read's completion, cancelling a hedge's loser) in its own heap.

**Disciplines** (:data:`DISCIPLINES`) are the waiting lines: ``fifo`` (submit order) and ``priority`` (strict
by class, :data:`CLASSES` order, client first; FIFO within a class; non-preemptive: a repair in service is
never interrupted). A line has ``push(request)``, ``pop(t)`` (the next live request to start at ``t``; withdrawn
ones are skipped, lazily) and ``clear()``; a new discipline (mClock's tags, say) is a new line class that takes
the time of the start into account, registered in :data:`DISCIPLINES`.
"""

from __future__ import annotations

import heapq
from collections import deque

CLASSES = ("client", "repair", "conversion")
"""Request classes, in ``priority`` order (client first)."""
CLIENT, REPAIR, CONVERSION = range(len(CLASSES))

WAITING, STARTED, WITHDRAWN = 0, 1, 2
INF = float("inf")


class DiskRequest:
    """One request at one disk. ``positioning`` is drawn by the caller when it submits the request.

    ``start`` and ``finish`` are set when it starts (``nan`` until then); ``state`` is :data:`WAITING`,
    :data:`STARTED` or :data:`WITHDRAWN`.
    """

    __slots__ = ("id", "disk", "cls", "nbytes", "t", "positioning", "start", "finish", "state")

    def __init__(self, id: int, disk: int, cls: int, nbytes: float, t: float, positioning: float):
        self.id = id
        self.disk = disk
        self.cls = cls
        self.nbytes = nbytes
        self.t = t
        self.positioning = positioning
        self.start = self.finish = float("nan")
        self.state = WAITING

    def __repr__(self) -> str:
        return (f"DiskRequest(id={self.id}, disk={self.disk}, {CLASSES[self.cls]}, nbytes={self.nbytes}, "
                f"t={self.t}, start={self.start}, finish={self.finish}, state={self.state})")


class FifoLine:
    """Waiting requests in submit order."""

    __slots__ = ("q",)

    def __init__(self):
        self.q: deque[DiskRequest] = deque()

    def push(self, req: DiskRequest) -> None:
        self.q.append(req)

    def pop(self, t: float) -> DiskRequest:
        """The next waiting request (the caller knows one is waiting)."""
        popleft = self.q.popleft
        req = popleft()
        while req.state:                           # withdrawn: skipped here, not searched for at withdrawal
            req = popleft()
        return req

    def clear(self) -> None:
        self.q.clear()


class PriorityLine:
    """Strict priority by class (client, repair, conversion), FIFO within a class, non-preemptive."""

    __slots__ = ("lanes",)

    def __init__(self):
        self.lanes: tuple[deque[DiskRequest], ...] = tuple(deque() for _ in CLASSES)

    def push(self, req: DiskRequest) -> None:
        self.lanes[req.cls].append(req)

    def pop(self, t: float) -> DiskRequest:
        for lane in self.lanes:
            while lane:
                req = lane.popleft()
                if not req.state:
                    return req
        raise IndexError("pop from an empty line")

    def clear(self) -> None:
        for lane in self.lanes:
            lane.clear()


DISCIPLINES = {"fifo": FifoLine, "priority": PriorityLine}
"""Waiting-line classes by scheduler name; ``mclock`` (issue 22) slots in here."""


class DiskQueues:
    """The queues of ``n_disks`` disks, each with ``io_slots`` servers, driven by the caller's clock.

    ``per_byte`` is 1 / disk_bandwidth (seconds per byte). ``shared``: the transfers of one disk take turns on
    one data path (``cluster.shared_disk_bandwidth``), positioning overlaps over the servers.
    """

    def __init__(self, n_disks: int, io_slots: int, per_byte: float, shared: bool = False,
                 discipline: str = "fifo"):
        if n_disks < 1:
            raise ValueError(f"n_disks: must be >= 1, got {n_disks}")
        if io_slots < 1:
            raise ValueError(f"io_slots: must be >= 1, got {io_slots}")
        if not per_byte >= 0:
            raise ValueError(f"per_byte: must be >= 0, got {per_byte}")
        if discipline not in DISCIPLINES:
            raise ValueError(f"discipline: must be one of {tuple(DISCIPLINES)}, got {discipline!r}")
        self.n_disks = n_disks
        self.io_slots = io_slots
        self.per_byte = per_byte
        self.shared = bool(shared)
        self.discipline = discipline
        self.free_at: list[list[float]] = [[0.0] * io_slots for _ in range(n_disks)]
        self.xfer_free: list[float] = [0.0] * n_disks       # the shared data path, when shared
        line = DISCIPLINES[discipline]
        self.lines = [line() for _ in range(n_disks)]
        self.n_waiting = [0] * n_disks                      # live (not withdrawn) waiting requests per disk
        self.waiting: dict[int, DiskRequest] = {}           # id -> request, for withdraw
        # The event calendar: (time, disk) when a server of a disk with waiters frees. A disk has at most one
        # live entry, the one whose time is armed_at[disk]; others are stale and skipped.
        self.events: list[tuple[float, int]] = []
        self.armed_at = [INF] * n_disks

    @classmethod
    def like(cls, disks, discipline: str = "fifo") -> DiskQueues:
        """Queues for the same disks as a :class:`~.disks.Disks` (its count, servers, bandwidth, data path). These
        queues model one device, so disks of several pools (``cluster.pools``) are refused, not timed as the first."""
        if len(disks.devices) > 1:
            raise ValueError(f"disks: {len(disks.devices)} pools' devices; DiskQueues models one device")
        return cls(disks.n_disks, len(disks.free_at[0]), disks.per_byte, disks.shared, discipline)

    # -- the caller's operations ------------------------------------------------------------------
    def submit(self, t: float, req: DiskRequest) -> float | None:
        """Submit ``req`` at ``t``. Returns its finish if it started at once (a server free at ``t`` and nobody
        waiting), else None: it waits, and :meth:`advance` reports its start."""
        d = req.disk
        h = self.free_at[d]
        if not self.n_waiting[d] and h[0] <= t:
            req.start = t
            req.state = STARTED
            if self.shared:
                begin = t + req.positioning
                free = self.xfer_free[d]
                if free > begin:
                    begin = free
                finish = begin + req.nbytes * self.per_byte
                self.xfer_free[d] = finish
            else:
                finish = t + req.positioning + req.nbytes * self.per_byte
            req.finish = finish
            heapq.heapreplace(h, finish)
            return finish
        if self.n_waiting[d] and h[0] < t:
            raise ValueError(f"disk {d}: a server freed at {h[0]} with requests waiting; advance({t}) first")
        if req.id in self.waiting:
            raise ValueError(f"request {req.id}: already waiting")
        self.lines[d].push(req)
        self.n_waiting[d] += 1
        self.waiting[req.id] = req
        if self.armed_at[d] != h[0]:
            self.armed_at[d] = h[0]
            heapq.heappush(self.events, (h[0], d))
        return None

    def withdraw(self, request_id: int, t: float) -> bool:
        """Take the request out if it has not started by ``t``: True. False if it started (its disk time is
        spent), or is not waiting here (already withdrawn, or never submitted)."""
        req = self.waiting.get(request_id)
        if req is None:
            return False
        d = req.disk
        if self.free_at[d][0] < t:
            raise ValueError(f"disk {d}: a server freed at {self.free_at[d][0]} with requests waiting; "
                             f"advance({t}) first")
        del self.waiting[request_id]
        req.state = WITHDRAWN
        self.n_waiting[d] -= 1
        if not self.n_waiting[d]:
            self.lines[d].clear()                   # drop the withdrawn entries; the event goes stale
        return True

    def next_event_time(self) -> float:
        """The earliest time a server frees on a disk with requests waiting (inf: none)."""
        events, armed, n_waiting = self.events, self.armed_at, self.n_waiting
        while events:
            f, d = events[0]
            if n_waiting[d] and armed[d] == f:
                return f
            heapq.heappop(events)
            if armed[d] == f:
                armed[d] = INF
        return INF

    def advance(self, until: float) -> list[DiskRequest]:
        """Process every event at or before ``until`` in time order: each freed server starts the waiting
        request its discipline picks. Returns the requests started, in start order, with start and finish."""
        events, armed, n_waiting = self.events, self.armed_at, self.n_waiting
        started: list[DiskRequest] = []
        if not events or events[0][0] > until:
            return started
        free_at, lines, waiting, xfer = self.free_at, self.lines, self.waiting, self.xfer_free
        shared, per_byte = self.shared, self.per_byte
        heappop, heappush, heapreplace = heapq.heappop, heapq.heappush, heapq.heapreplace
        while events and events[0][0] <= until:
            f, d = heappop(events)
            if armed[d] != f:                       # stale: the disk was re-armed at a later time
                continue
            armed[d] = INF
            if not n_waiting[d]:                    # everyone waiting there was withdrawn
                continue
            h, line = free_at[d], lines[d]
            while h[0] <= f:                        # every server free at f takes a waiting request
                req = line.pop(f)
                del waiting[req.id]
                req.state = STARTED
                req.start = f
                if shared:
                    begin = f + req.positioning
                    if xfer[d] > begin:
                        begin = xfer[d]
                    finish = xfer[d] = begin + req.nbytes * per_byte
                else:
                    finish = f + req.positioning + req.nbytes * per_byte
                req.finish = finish
                heapreplace(h, finish)
                started.append(req)
                n_waiting[d] -= 1
                if not n_waiting[d]:
                    line.clear()
                    break
            else:
                armed[d] = h[0]
                heappush(events, (h[0], d))
        return started

    def __repr__(self) -> str:
        return (f"DiskQueues(disks={self.n_disks}, io_slots={self.io_slots}, {self.discipline}, "
                f"shared={self.shared}, waiting={len(self.waiting)})")
