"""Nodes, racks and FIFO disk queues computed as next-free times.

Each node's disk has ``io_slots`` FIFO servers. Instead of SimPy resources,
each node keeps a min-heap of its slots' next-free times (Lindley's
recursion): a request submitted at time t starts at max(t, earliest free slot)
and finishes ``request_latency + bytes / disk_bandwidth`` later. This is exact
for FIFO servers as long as requests are submitted in time order, which the
discrete-event clock guarantees, and it is about 20x cheaper than a SimPy
``Resource`` (docs/model.md). Reads, repairs and conversions share these queues.
"""

from __future__ import annotations

import heapq

import numpy as np

from ..config import ClusterConfig


class Cluster:
    """Node flags and disk queues. Node i sits in rack i mod R."""

    def __init__(self, cfg: ClusterConfig):
        self.cfg = cfg
        n = cfg.nodes
        self.n_nodes = n
        self.n_racks = cfg.racks
        self.node_rack = np.arange(n, dtype=np.int64) % cfg.racks
        self.rack_nodes = [np.flatnonzero(self.node_rack == r) for r in range(cfg.racks)]
        self.capacity = np.full(n, cfg.node_capacity, dtype=np.int64)
        self.used = np.zeros(n, dtype=np.int64)          # bytes held (live slots, stale copies) + reserved
        self.reserved = np.zeros(n, dtype=np.int64)      # bytes of conversion writes under way to the node
        self.repairing = np.zeros(n, dtype=np.int64)     # bytes of repair writes under way to the node
        self.up = np.ones(n, dtype=bool)                  # serving requests
        self.dead = np.zeros(n, dtype=bool)               # declared dead, awaiting return or replacement
        self.failed = np.zeros(n, dtype=bool)             # down (failed, not yet back), declared or not
        self.failure_id = np.full(n, -1, dtype=np.int64)  # the open failure record of a down node
        self.version = 0                                   # bumped whenever a node's up/dead state changes
        self.disk_free: list[list[float]] = [[0.0] * cfg.io_slots for _ in range(n)]
        self.latency = float(cfg.request_latency)
        self.per_byte = 1.0 / float(cfg.disk_bandwidth)

    def submit(self, node: int, t: float, nbytes: float) -> tuple[float, float]:
        """Queue a request of ``nbytes`` at time ``t``; returns (service start, finish)."""
        heap = self.disk_free[node]
        start = heap[0] if heap[0] > t else t
        finish = start + self.latency + nbytes * self.per_byte
        heapq.heapreplace(heap, finish)
        return start, finish

    def wait(self, node: int, t: float) -> float:
        """How long a request submitted now would wait before service."""
        w = self.disk_free[node][0] - t
        return w if w > 0.0 else 0.0

    def nodes_up(self) -> int:
        return int(self.up.sum())

    def __repr__(self) -> str:
        return f"Cluster(nodes={self.n_nodes}, racks={self.n_racks}, up={self.nodes_up()})"
