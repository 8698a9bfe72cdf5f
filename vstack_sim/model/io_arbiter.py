"""The I/O scheduler at every disk: when a background request (a repair's or a conversion's read or write) may join
its disk's queue, given the client reads there and the classes' budgets.

A disk serves requests from the next-free times of its servers (:mod:`.disks`): a request's start and finish are
fixed when it joins the queue. Client reads join the moment they are issued (the read path drives the queues
inline). A background request goes to :meth:`BackgroundIo.submit`, which either lets it join at once or *holds*
it in a line of its disk and class, and lets it join later, at an instant the scheduler picks; from then on it is
served like any request, and nothing preempts it. The owner learns its start and finish through a continuation,
``then(start, finish, now)``; with ``fifo`` and no budget nothing is held, the world keeps no arbiter, and the
continuation runs inline (the rule before issue 22, byte-identical).

**priority** (strict, non-preemptive; Ceph's op priorities, Linux's idle I/O class): a held request joins when a
server of its disk is free, repairs before conversions, each class in issue order. Client reads join the queue
when they arrive, so a server is free exactly when no client read waits: a background request never starts while
a client read waits, and a client read waits at most for one background request in service per server. A client
read issued at the very instant a server frees may come before or after the wake-up, in SimPy's event order (with
continuous service times such ties have probability zero). With a CPU stage the rule holds at the disk's door:
an admitted request still takes its node's CPU first, and a client read that reaches the disk sooner waits
behind it, because a disk serves requests in the order they were issued (:mod:`.disks`).

**mclock** (an approximation of dmClock, Gulati, Merchant and Varman, OSDI'10, as Ceph's mClock scheduler uses it):
each background class has a reservation r, a weight w and a limit l, as shares of the disk's time. A request of
cost s (its positioning time, drawn when it is issued, plus its transfer) gets the tags R = max(R' + s/r, t),
P = max(P' + s/w, t) and L = max(L' + s/l, t) from its class's previous ones. A request whose R has come joins the
disk's queue at once, behind whatever is queued there (the reservation phase). Otherwise, when a server is free,
the class heads whose L has come compete by smallest P (the weight phase), and a request admitted that way moves
its class's later R tags back by s/r, as dmClock does. The approximation: client reads are never held (their
weight is in effect unbounded and they have no limit), and a reserved request joins the queue's tail rather than
overtaking client reads already queued, because a queue of next-free times cannot reorder what has joined it.

**Budgets** (``repair.budget``, ``migration.budget``; PACEMAKER, OSDI'20, caps transition I/O as a share): over a
sliding window of ``io.budget_window``, a class may add a request to a disk with no free server only while its
requests starting in the window, this one included, take at most budget x window x servers of disk time.
Requests admitted to a disk with a free server count too, so the rule is conservative; a disk with a free server
takes a background request regardless (up to its limit when idle). Budgets apply under every scheduler (under
``priority`` nothing joins a busy disk anyway). A budget of 1 is no budget. The NIC is not budgeted: each repair
stream's rate (``repair.bandwidth``) and the converters' ``migration.conversion_rate`` cap it already.

A request held when its owner gives up (a failed source, a cancelled job) still joins and uses its disk, as a
request queued before the change would have; its continuation finds the job gone and does nothing.
"""

from __future__ import annotations

from collections import deque

from vstack_sim.model.disk_queue import CLASSES, CONVERSION, REPAIR

INF = float("inf")
BACKGROUND = (REPAIR, CONVERSION)
"""The classes this module holds, in priority order; client reads are never held."""


class Held:
    """One background request waiting for its disk."""

    __slots__ = ("seq", "cls", "nbytes", "positioning", "cost", "then", "t", "r", "p", "l")

    def __init__(self, seq, cls, nbytes, positioning, cost, then, t):
        self.seq, self.cls, self.nbytes, self.positioning, self.cost = seq, cls, nbytes, positioning, cost
        self.then, self.t = then, t
        self.r = self.p = self.l = t


class Join:
    """Gathers the (start, out) of ``n`` requests issued at ``t`` and calls ``then(first start, last out)`` when
    the last is in: at once when none is held."""

    __slots__ = ("n", "first", "last", "then")

    def __init__(self, n: int, t: float, then):
        self.n, self.first, self.last, self.then = n, INF, t, then

    def add(self, start: float, out: float) -> None:
        self.first = min(self.first, start)
        self.last = max(self.last, out)
        self.n -= 1
        if not self.n:
            self.then(self.first, self.last)


class BackgroundIo:
    """Holds background requests per disk and class and admits them by the scheduler and the budgets."""

    def __init__(self, env, disks, scheduler: str, budgets: dict[int, float], window: float,
                 mclock: dict[int, tuple[float, float, float]] | None = None):
        if scheduler not in ("fifo", "priority", "mclock"):
            raise ValueError(f"scheduler: must be fifo, priority or mclock, got {scheduler!r}")
        if not window > 0:
            raise ValueError(f"window: must be > 0, got {window}")
        self.env, self.disks, self.scheduler, self.window = env, disks, scheduler, float(window)
        n = disks.n_disks
        # Budget per class as server time per window and server (inf: no budget); a disk has its pool's servers.
        self.allowance = {c: (budgets.get(c, 1.0) * self.window if budgets.get(c, 1.0) < 1.0 else INF)
                          for c in BACKGROUND}
        self.servers = [len(h) for h in disks.free_at]
        self.mclock = mclock or {}
        self.untagged = scheduler != "mclock"      # no per-request tags: a free server admits at once
        self.lines = [{c: deque() for c in BACKGROUND} for _ in range(n)]
        self.tags = [{c: [-INF, -INF, -INF] for c in BACKGROUND} for _ in range(n)]   # R', P', L' per class
        self.used = [{c: deque() for c in BACKGROUND} for _ in range(n)]              # (start, cost) in window
        self.used_sum = [dict.fromkeys(BACKGROUND, 0.0) for _ in range(n)]
        self.armed = [INF] * n
        self.seq = 0
        self.issued = dict.fromkeys(BACKGROUND, 0)
        self.held = dict.fromkeys(BACKGROUND, 0)
        self.held_time = dict.fromkeys(BACKGROUND, 0.0)
        self.held_max = dict.fromkeys(BACKGROUND, 0.0)
        self.log: list | None = None       # tests: [(disk, cls, admitted, start, cost, busy)]
        self.holds = None                  # the read path's disk holds (hedge_withdraw exact), or None

    # -- the owners' operation ------------------------------------------------------------------
    def submit(self, disk: int, t: float, nbytes: float, cls: int, then) -> None:
        """A background request of ``nbytes`` on ``disk``, issued at ``t``: ``then(start, finish, now)`` once it
        has joined the disk's queue (at once, inline, when the scheduler lets it)."""
        dk = self.disks
        dev = dk.device_of_disk[disk]
        positioning = dev.positioning.take()
        cost = positioning + nbytes * dev.per_byte
        self.issued[cls] += 1
        lines = self.lines[disk]
        if self.untagged and not lines[REPAIR] and not lines[CONVERSION] and dk.free_at[disk][0] <= t:
            # Nothing held here and a server free: fifo and priority both admit it now (as _pick would).
            self._join(disk, cls, t, nbytes, positioning, cost, then, False)
            return
        req = Held(self.seq, cls, nbytes, positioning, cost, then, t)
        self.seq += 1
        if not self.untagged:
            self._tag(disk, req)
        lines[cls].append(req)
        self._drain(disk, t)

    # -- admission ------------------------------------------------------------------------------
    def _tag(self, disk: int, req: Held) -> None:
        prev = self.tags[disk][req.cls]
        res, wgt, lim = self.mclock[req.cls]
        t, s = req.t, req.cost
        req.r = max(prev[0] + s / res, t) if res > 0 else INF
        req.p = max(prev[1] + s / wgt, t)
        req.l = max(prev[2] + s / lim, t)
        prev[0], prev[1], prev[2] = req.r, req.p, req.l

    def _within_budget(self, disk: int, cls: int, now: float, cost: float) -> bool:
        allowance = self.allowance[cls]
        if allowance == INF:
            return True
        q, sums, window = self.used[disk][cls], self.used_sum[disk], self.window
        while q and q[0][0] + window <= now:     # the expression _budget_frees wakes at, so a wake-up frees it
            sums[cls] -= q.popleft()[1]
        if not q:
            sums[cls] = 0.0               # no drift from the running sum
        return sums[cls] + cost <= allowance * self.servers[disk]

    def _budget_frees(self, disk: int, cls: int) -> float:
        """When the oldest request counted in the class's window leaves it."""
        q = self.used[disk][cls]
        return q[0][0] + self.window if q else INF

    def _pick(self, disk: int, now: float) -> tuple[Held | None, float]:
        """The request to admit now, or None and when to look again."""
        lines = self.lines[disk]
        free = self.disks.free_at[disk][0]
        idle = free <= now
        wake = INF if idle else free
        if self.scheduler == "priority":
            for c in BACKGROUND:
                if lines[c]:
                    return (lines[c][0], now) if idle else (None, wake)
            return None, INF
        if self.scheduler == "mclock":
            best = None
            for c in BACKGROUND:                          # reservation phase: due R tags join at once
                if lines[c]:
                    req = lines[c][0]
                    if req.r <= now:
                        if idle or self._within_budget(disk, c, now, req.cost):
                            if best is None or req.r < best.r:
                                best = req
                        else:
                            wake = min(wake, self._budget_frees(disk, c))
                    else:
                        wake = min(wake, req.r)
            if best is not None:
                return best, now
            if idle:                                      # weight phase: heads under their limit, smallest P
                for c in BACKGROUND:
                    if lines[c]:
                        req = lines[c][0]
                        if req.l <= now:
                            if best is None or req.p < best.p:
                                best = req
                        else:
                            wake = min(wake, req.l)
                if best is not None:
                    return best, now
            return None, wake
        best = None                                       # fifo with budgets: issue order among admissible heads
        for c in BACKGROUND:
            if lines[c]:
                req = lines[c][0]
                if idle or self._within_budget(disk, c, now, req.cost):
                    if best is None or req.seq < best.seq:
                        best = req
                else:
                    wake = min(wake, self._budget_frees(disk, c))
        return (best, now) if best is not None else (None, wake)

    def _drain(self, disk: int, now: float) -> None:
        while True:
            req, wake = self._pick(disk, now)
            if req is None:
                break
            self._admit(disk, req, now)
        if wake < self.armed[disk]:
            self.armed[disk] = wake
            self.env.timeout(wake - now).callbacks.append(lambda _e, d=disk, at=wake: self._wake(d, at))

    def _wake(self, disk: int, at: float) -> None:
        if self.armed[disk] != at:
            return                        # superseded by an earlier wake-up
        self.armed[disk] = INF
        self._drain(disk, at)

    def _admit(self, disk: int, req: Held, now: float) -> None:
        cls = req.cls
        self.lines[disk][cls].popleft()
        dk = self.disks
        busy = dk.free_at[disk][0] > now
        if self.scheduler == "mclock" and req.r > now:    # admitted on weight: the class's later R tags move back
            res = self.mclock[cls][0]
            if res > 0:
                back = req.cost / res
                for other in self.lines[disk][cls]:
                    other.r -= back
                self.tags[disk][cls][0] -= back
        if now > req.t:
            self.held[cls] += 1
            self.held_time[cls] += now - req.t
            self.held_max[cls] = max(self.held_max[cls], now - req.t)
        self._join(disk, cls, now, req.nbytes, req.positioning, req.cost, req.then, busy)

    def _join(self, disk: int, cls: int, now: float, nbytes: float, positioning: float, cost: float, then,
              busy: bool) -> None:
        """The request joins its disk's queue now: counted against its class's budget, then its continuation.
        A disk held by a hedged read that may be withdrawn (:mod:`.disk_holds`) keeps it in line until the
        holder starts or leaves; it counts against its budget from now."""
        holds = self.holds
        if holds is not None and holds.held[disk] is not None:
            self._count(disk, cls, now, now, cost, busy)
            holds.submit_background(disk, now, nbytes, positioning, lambda s, f: then(s, f, now))
            return
        start, finish = self.disks.submit(disk, now, nbytes, positioning)
        self._count(disk, cls, now, start, cost, busy)
        then(start, finish, now)

    def _count(self, disk: int, cls: int, now: float, start: float, cost: float, busy: bool) -> None:
        if self.allowance[cls] != INF:
            self.used[disk][cls].append((start, cost))
            self.used_sum[disk][cls] += cost
        if self.log is not None:
            self.log.append((disk, cls, now, start, cost, busy))

    def summary(self) -> dict:
        """Per class: requests issued, how many were held, and for how long."""
        out = {"scheduler": self.scheduler, "budget_window_s": self.window}
        for c in BACKGROUND:
            n = self.held[c]
            out[CLASSES[c]] = {"requests": self.issued[c], "held": n,
                               "held_mean_ms": round(1e3 * self.held_time[c] / n, 3) if n else 0.0,
                               "held_max_ms": round(1e3 * self.held_max[c], 3)}
        return out

    def __repr__(self) -> str:
        return f"BackgroundIo({self.scheduler}, window={self.window}, held={sum(map(len, self._lines()))})"

    def _lines(self):
        for per_disk in self.lines:
            yield from per_disk.values()


def background_io(env, disks, config) -> BackgroundIo | None:
    """The world's I/O scheduler from a scenario, or None under ``fifo`` with no budget (nothing is ever held)."""
    io = config.io
    budgets = {REPAIR: config.repair.budget, CONVERSION: config.migration.budget}
    if io.scheduler == "fifo" and all(b >= 1.0 for b in budgets.values()):
        return None
    mclock = {REPAIR: (io.mclock.repair.reservation, io.mclock.repair.weight, io.mclock.repair.limit),
              CONVERSION: (io.mclock.conversion.reservation, io.mclock.conversion.weight, io.mclock.conversion.limit)}
    return BackgroundIo(env, disks, io.scheduler, budgets, io.budget_window, mclock)
