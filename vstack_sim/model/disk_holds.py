"""Disks held by a request that may yet be withdrawn (``reads.hedge_withdraw: exact``; docs/model.md, "Reads").

:class:`~.disks.Disks` fixes each request's start and finish when it is submitted (next-free times, Lindley's
recursion). That is exact for a FIFO disk as long as nothing leaves the queue. A hedged read's request can leave:
the loser of a hedged pair is withdrawn if it has not started at its disk when the winner answers ("The Tail at
Scale", Dean and Barroso, CACM 2013). Every request queued behind it would then start earlier, so none of their
times can be fixed while it may still be withdrawn.

**The hold.** A request that may be withdrawn and has not started *holds* its disk: it is submitted (its start,
finish and NIC time are those of a FIFO disk with everything ahead of it final) and remembered with what it
changed (:class:`Holder`). Until it starts or is withdrawn, every later request to that disk, of every class,
waits in the disk's line with its arrival time and its positioning time, drawn when it was issued
(:class:`Deferred`). Then the hold is *released*: the waiting requests join the disk in their arrival order, each
with its own arrival time, so each gets the start and finish a FIFO disk gives it (they all start after the
holder would have, so joining later changes nothing but when their times are known), and each caller's
continuation runs. A waiting request that may itself be withdrawn holds the disk again, and the rest wait on.

**Withdrawal** puts the disk back as it was before the holder joined: its server's next-free time, the shared
data path, and the holder's interval on its node's NIC. Nothing else has joined that disk since, so this is
exact for the disk. At the NIC, requests of the node's other disks that joined meanwhile keep the places they
took around the withdrawn interval (at most one chunk's NIC time later than they could have been: docs/model.md).

Only the read path's hedged pairs hold disks; with ``hedge_withdraw: keep`` or without hedging nothing is ever
held, and the read pump's inline next-free-time path is unchanged.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left
from collections import deque


class Deferred:
    """A request waiting behind a holder: issued at ``t`` with its positioning drawn then. ``then(start, finish)``
    runs when it joins the disk; a withdrawn one (``live`` False) never joins."""

    __slots__ = ("t", "nbytes", "positioning", "then", "live")

    def __init__(self, t: float, nbytes: float, positioning: float, then):
        self.t = t
        self.nbytes = nbytes
        self.positioning = positioning
        self.then = then
        self.live = True


class Holder:
    """What a request that may be withdrawn changed at its disk and NIC: the server's next-free time before it
    (``free_before``) and the one it set (``finish``), the shared data path before it, and its NIC interval."""

    __slots__ = ("disk", "free_before", "xfer_before", "finish", "node", "nic_end", "nic_time", "active")

    def __init__(self, disk: int, free_before: float, xfer_before: float, finish: float, node: int,
                 nic_end: float, nic_time: float):
        self.disk = disk
        self.free_before = free_before
        self.xfer_before = xfer_before
        self.finish = finish
        self.node = node
        self.nic_end = nic_end
        self.nic_time = nic_time
        self.active = True


class DiskHolds:
    """The holds and waiting lines of every disk of a :class:`~.disks.Disks`."""

    def __init__(self, disks, env):
        self.disks = disks
        self.env = env
        self.now = 0.0              # the simulated time of the event being served (a release happens then)
        self.held: list[Holder | None] = [None] * disks.n_disks
        self.lines: dict[int, deque[Deferred]] = {}
        self.count = 0              # disks held now
        self.deferred = 0           # requests that waited behind a holder
        self.withdrawn = 0          # holders withdrawn before they started
        self.before = (0.0, 0.0)

    def submit(self, disk: int, t: float, nbytes: float, positioning: float, then) -> Deferred | None:
        """A request issued at ``t``: it joins ``disk`` now (``then(start, finish)`` inline; None), or waits behind
        the disk's holder (returns its :class:`Deferred`, to withdraw it). :attr:`before` holds the disk's
        (next-free time, data path) from just before the last request joined, for a :class:`Holder`."""
        if self.held[disk] is None:
            then(*self._join(disk, t, nbytes, positioning))
            return None
        entry = Deferred(t, nbytes, positioning, then)
        line = self.lines.get(disk)
        if line is None:
            line = self.lines[disk] = deque()
        line.append(entry)
        self.deferred += 1
        return entry

    def _join(self, disk: int, t: float, nbytes: float, positioning: float) -> tuple[float, float]:
        dk = self.disks
        self.before = (dk.free_at[disk][0], dk.xfer_free[disk])
        return dk.submit(disk, t, nbytes, positioning)

    def submit_background(self, disk: int, t: float, nbytes: float, positioning: float, then) -> None:
        """:meth:`submit` for a caller that lives on the simulation clock (a repair, a conversion, an upload):
        ``then(start, finish)`` inline if the request joins now, else at the simulated time of its release."""
        if self.held[disk] is None:
            then(*self._join(disk, t, nbytes, positioning))
        else:
            self.submit(disk, t, nbytes, positioning, lambda start, finish: self.at_release(then, start, finish))

    def at_release(self, then, start: float, finish: float) -> None:
        """Run a continuation of a request that waited at the simulated time of its release (:attr:`now`): the read
        path releases disks as it serves its own heap, ahead of the clock."""
        delay = self.now - self.env.now
        if delay > 0:
            self.env.timeout(delay).callbacks.append(lambda _e: then(start, finish))
        else:
            then(start, finish)

    def hold(self, holder: Holder) -> None:
        if self.held[holder.disk] is not None:
            raise ValueError(f"disk {holder.disk}: already held")
        self.held[holder.disk] = holder
        self.count += 1

    def release(self, holder: Holder) -> None:
        """The holder has started (or was withdrawn): the requests behind it join in arrival order, until one of
        them holds the disk again."""
        holder.active = False
        disk = holder.disk
        if self.held[disk] is not holder:
            return
        self.held[disk] = None
        self.count -= 1
        line = self.lines.get(disk)
        while line and self.held[disk] is None:
            entry = line.popleft()
            if entry.live:
                entry.then(*self._join(disk, entry.t, entry.nbytes, entry.positioning))
        if line is not None and not line and self.lines.get(disk) is line:
            del self.lines[disk]

    def withdraw(self, holder: Holder) -> None:
        """The holder leaves before it starts: its disk and NIC are as they were before it joined; then the
        requests behind it join."""
        dk = self.disks
        h = dk.free_at[holder.disk]
        h[h.index(holder.finish)] = holder.free_before
        heapq.heapify(h)
        if dk.device_of_disk[holder.disk].shared:
            dk.xfer_free[holder.disk] = holder.xfer_before
        unreserve(dk.nic_start[holder.node], dk.nic_end[holder.node], holder.nic_end, holder.nic_time)
        self.withdrawn += 1
        self.release(holder)

    def __repr__(self) -> str:
        return (f"DiskHolds(held={sum(h is not None for h in self.held)}, deferred={self.deferred}, "
                f"withdrawn={self.withdrawn})")


def unreserve(starts: list[float], ends: list[float], e: float, length: float) -> None:
    """Take the busy interval of ``length`` that ends at ``e`` out of a NIC calendar (sorted disjoint intervals,
    :meth:`.Disks.reserve`, which returned ``e``; adjoining reservations are merged there, so it may be part of
    one). The calendar is never left empty."""
    i = bisect_left(ends, e)
    s = e - length
    if i == len(ends) or starts[i] > s + 1e-9 * max(1.0, abs(e)):
        raise ValueError(f"NIC interval [{s}, {e}) is not reserved")
    a, b = starts[i], ends[i]
    if s < a or s - a < 1e-12 * max(1.0, abs(e)):     # its start, up to the rounding of (start + length) - length
        s = a
    if a == s and b == e:
        if len(ends) == 1:
            starts[0] = ends[0] = 0.0
        else:
            del starts[i], ends[i]
    elif a == s:
        starts[i] = e
    elif b == e:
        ends[i] = s
    else:
        ends[i] = s
        starts.insert(i + 1, e)
        ends.insert(i + 1, b)
