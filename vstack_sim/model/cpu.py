"""Each node's storage-daemon CPU: the stage every disk operation passes before its disk (issue 22).

A node has ``cpu_cores_per_node`` cores serving operations first come, first served, kept as a min-heap of the
cores' next-free times (Lindley's recursion, exact for FIFO because operations arrive in time order; the same
shape as a disk's servers in :mod:`.disks`). An operation of ``b`` bytes takes ``cpu_per_op + b x cpu_per_byte``
of one core: a Ceph OSD's per-operation work (messenger, placement-group lock, object store) and its per-byte
work (checksums, copies), with the values of Ceph's hardware guidance (:mod:`vstack_sim.scenario.devices`).

The operation reaches its disk when its CPU work is done; the disk serves operations in the order they were
issued, each no earlier than that (:meth:`.disks.Disks.submit`). With one core and operations of one size the
two orders agree; with several cores a small operation issued after a large one may finish its CPU work first
and still wait for it at the disk (an OSD's op queue is ordered on arrival). Decode of a degraded read stays on
the reader's side, as before.
"""

from __future__ import annotations

import heapq

import numpy as np


class NodeCpus:
    """The cores of every node, and the CPU seconds each node has spent."""

    def __init__(self, n_nodes: int, cores: int, per_op: float, per_byte: float):
        if cores < 1:
            raise ValueError(f"cores: must be >= 1, got {cores}")
        if per_op < 0 or per_byte < 0:
            raise ValueError(f"per_op, per_byte: must be >= 0, got {per_op}, {per_byte}")
        self.cores = cores
        self.per_op = float(per_op)
        self.per_byte = float(per_byte)
        self.free_at: list[list[float]] = [[0.0] * cores for _ in range(n_nodes)]
        self.busy = np.zeros(n_nodes)          # CPU seconds spent per node

    def take(self, node: int, t: float, nbytes: float) -> float:
        """An operation of ``nbytes`` issued at ``t`` on ``node``: returns when its CPU work is done."""
        heap = self.free_at[node]
        service = self.per_op + nbytes * self.per_byte
        start = heap[0] if heap[0] > t else t
        heapq.heapreplace(heap, start + service)
        self.busy[node] += service
        return start + service

    def start_time(self, node: int, t: float) -> float:
        """When an operation issued now on ``node`` would start its CPU work."""
        h = self.free_at[node][0]
        return h if h > t else t

    def would_finish(self, node: int, t: float, nbytes: float) -> float:
        """When an operation issued now would finish its CPU work, without issuing it."""
        h = self.free_at[node][0]
        return (h if h > t else t) + self.per_op + nbytes * self.per_byte

    def busy_by(self, end: float) -> np.ndarray:
        """Each node's CPU seconds spent by ``end``: the work taken, less what its cores still hold after ``end``.
        Operations arrive no later than ``end``, so a core busy at ``end`` is busy without a gap until it frees."""
        late = np.array([sum(f - end for f in heap if f > end) for heap in self.free_at])
        return self.busy - late

    def utilisation(self, end: float) -> np.ndarray:
        """Each node's share of its cores' time spent on operations from 0 to ``end``."""
        return self.busy_by(end) / (self.cores * end) if end > 0 else np.zeros_like(self.busy)

    def __repr__(self) -> str:
        return (f"NodeCpus(nodes={len(self.free_at)}, cores={self.cores}, per_op={self.per_op}, "
                f"per_byte={self.per_byte})")
