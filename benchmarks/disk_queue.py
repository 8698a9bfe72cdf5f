"""Speed of the withdrawable disk queue (vstack_sim.model.disk_queue) against Disks.submit's next-free times.

The same stream of disk requests (Poisson arrivals, uniform over the disks, 2 MiB and 1 MiB reads, the
`hdd` profile's lognormal positioning) goes through:

  * Disks.submit, the next-free-time queue the model uses today;
  * DiskQueues, fifo, no withdrawals (the caller's loop: advance when an event is due, draw, submit);
  * DiskQueues, fifo, 10 % of requests withdrawn a fixed delay after submit (a hedge's loser, cancelled);
  * DiskQueues, priority, the same withdrawals, with 80 % client, 15 % repair and 5 % conversion requests.

at a light and a heavy mean disk load. It prints requests per second (best of --repeat) and the ratio to
Disks.submit, and how many withdrawals succeeded. No target: the figures size what integrating the queue
costs (issue 21 asks to measure it; issue 22 wants reads kept fast).

    python benchmarks/disk_queue.py [--requests 200000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import heapq
import math
import time

import numpy as np

from vstack_sim.model.disk_queue import CLIENT, CONVERSION, REPAIR, DiskQueues, DiskRequest
from vstack_sim.model.disks import Disks
from vstack_sim.scenario.cluster_schema import ClusterConfig

NODES = 20
SIZES = (2 * 2**20, 2**20)
WITHDRAW_DELAY = 0.010          # seconds after submit: a hedge sent after 10 ms, its loser cancelled


def stream(cfg: ClusterConfig, n_disks: int, n: int, load: float, seed: int = 1):
    """(times, disks, bytes, classes, withdraw flags) for a mean disk load ``load``."""
    rng = np.random.default_rng(seed)
    mean_service = cfg.request_latency + np.mean(SIZES) / cfg.disk_bandwidth
    rate = load * n_disks * cfg.io_slots / mean_service
    t = np.cumsum(rng.exponential(1.0 / rate, n)).tolist()
    disks = rng.integers(0, n_disks, n).tolist()
    nbytes = np.array(SIZES, dtype=float)[rng.integers(0, len(SIZES), n)].tolist()
    cls = rng.choice([CLIENT, REPAIR, CONVERSION], n, p=[0.80, 0.15, 0.05]).tolist()
    withdraw = (rng.random(n) < 0.10).tolist()
    return t, disks, nbytes, cls, withdraw


def run_disks(cfg, s) -> float:
    d = Disks(cfg, NODES, np.random.default_rng(2))
    submit = d.submit
    t0 = time.perf_counter()
    for t, disk, b in zip(s[0], s[1], s[2], strict=True):
        submit(disk, t, b)
    return time.perf_counter() - t0


def run_queue(cfg, s, discipline: str, withdrawals: bool) -> tuple[float, int, int]:
    """The caller's loop: before acting at t, advance the queue if an event is due; cancel due withdrawals."""
    d = Disks(cfg, NODES, np.random.default_rng(2))
    q = DiskQueues.like(d, discipline)
    take = d.positioning.take
    submit, withdraw, advance, next_event = q.submit, q.withdraw, q.advance, q.next_event_time
    pending: list[tuple[float, int]] = []      # (when, request id) to withdraw
    cancelled = tried = 0
    classes = s[3] if discipline != "fifo" else [CLIENT] * len(s[0])
    t0 = time.perf_counter()
    for i, (t, disk, b, c, w) in enumerate(zip(s[0], s[1], s[2], classes, s[4], strict=True)):
        while pending and pending[0][0] <= t:
            tw, rid = heapq.heappop(pending)
            if next_event() <= tw:
                advance(tw)
            tried += 1
            cancelled += withdraw(rid, tw)
        if next_event() <= t:
            advance(t)
        submit(t, DiskRequest(i, disk, c, b, t, take()))
        if withdrawals and w:
            heapq.heappush(pending, (t + WITHDRAW_DELAY, i))
    advance(math.inf)
    return time.perf_counter() - t0, tried, cancelled


def run_queue_inline(cfg, s) -> tuple[float, list[float]]:
    """fifo, no withdrawals, with submit's first branch inlined as the read path inlines Disks.submit today:
    a request that finds a free server and nobody waiting starts at once and needs no DiskRequest (nothing
    can withdraw it); only a request that must wait becomes one. The event check reads the calendar's top,
    a lower bound (a stale entry costs one empty advance). Returns the wall time and every finish."""
    d = Disks(cfg, NODES, np.random.default_rng(2))
    q = DiskQueues.like(d)
    take = d.positioning.take
    free_at, n_waiting, events, per_byte = q.free_at, q.n_waiting, q.events, q.per_byte
    submit, advance = q.submit, q.advance
    heapreplace = heapq.heapreplace
    finishes = [0.0] * len(s[0])
    queued = []
    t0 = time.perf_counter()
    for i, (t, disk, b) in enumerate(zip(s[0], s[1], s[2], strict=True)):
        if events and events[0][0] <= t:
            advance(t)
        h = free_at[disk]
        if h[0] <= t and not n_waiting[disk]:
            finishes[i] = f = t + take() + b * per_byte
            heapreplace(h, f)
        else:
            r = DiskRequest(i, disk, CLIENT, b, t, take())
            submit(t, r)
            queued.append(r)
    advance(math.inf)
    wall = time.perf_counter() - t0
    for r in queued:
        finishes[r.id] = r.finish
    return wall, finishes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    cfg = ClusterConfig(device="hdd")
    n_disks = NODES * cfg.disks_per_node
    n = args.requests
    print(f"{n:,} requests over {n_disks} disks of {cfg.io_slots} slots (hdd profile: "
          f"{cfg.positioning_time} positioning, mean {cfg.request_latency * 1e3:g} ms, CV {cfg.positioning_cv:g}; "
          f"{cfg.disk_bandwidth / 1e6:g} MB/s); best of {args.repeat}")
    for load in (0.3, 0.8):
        s = stream(cfg, n_disks, n, load)
        base = min(run_disks(cfg, s) for _ in range(args.repeat))
        print(f"\nmean disk load {load:.0%}")
        print(f"  {'Disks.submit (next-free times)':46s} {n / base:>12,.0f} req/s")
        runs = [run_queue_inline(cfg, s) for _ in range(args.repeat)]
        wall = min(r[0] for r in runs)
        ref = Disks(cfg, NODES, np.random.default_rng(2))
        same = runs[0][1] == [ref.submit(disk, t, b)[1] for t, disk, b in zip(s[0], s[1], s[2], strict=True)]
        print(f"  {'DiskQueues fifo, fast path inlined':46s} {n / wall:>12,.0f} req/s   {wall / base:4.2f}x "
              f"Disks.submit's time   finishes {'identical to' if same else 'DIFFER FROM'} Disks.submit's")
        for label, disc, wd in (("DiskQueues fifo", "fifo", False),
                                ("DiskQueues fifo, 10 % withdrawn", "fifo", True),
                                ("DiskQueues priority, 10 % withdrawn", "priority", True)):
            runs = [run_queue(cfg, s, disc, wd) for _ in range(args.repeat)]
            wall = min(r[0] for r in runs)
            _, tried, ok = runs[0]
            extra = f"   withdrawals: {ok:,} of {tried:,} before start" if wd else ""
            print(f"  {label:46s} {n / wall:>12,.0f} req/s   {wall / base:4.2f}x Disks.submit's time{extra}")


if __name__ == "__main__":
    main()
