"""Disks inside nodes and the nodes' NICs, as FIFO queues computed from next-free times.

Each node holds ``disks_per_node`` disks; disk ``d`` belongs to node
``d // disks_per_node``. Every slot of every chunk sits on one disk
(:attr:`Disks.slot_disk`, the same shape as the chunk state's ``slot_node``;
-1: no slot). Slots are placed on a disk of their node balanced by free space:
ingest deals each node's new slots round-robin over its disks (all disks
start empty and a batch's slots are the same size, so this is "most free
first"), a repair, conversion or upload write goes to the node's working disk
with the most free bytes. A node's capacity is the sum of its disks' (node_capacity split
evenly).

**A disk** is a FIFO queue of ``io_slots`` servers, kept as a min-heap of the
servers' next-free times (Lindley's recursion; exact for FIFO because requests
are submitted in time order). A request starts at max(t, earliest free server);
its service is a positioning time drawn from the device's distribution plus
bytes / disk_bandwidth. With ``shared_disk_bandwidth`` the transfers of one
disk also take turns on one data path (flash behind one link): positioning
overlaps over the servers, transfers do not.

**The CPU** (``cluster.cpu_cores_per_node`` > 0, :mod:`.cpu`): every request first takes its node's daemon CPU
and reaches its disk when that is done; the disk still serves requests in the order they were issued.

**A NIC** is one server per node for the bytes the node sends (reads, and
the sources of repairs and conversions), at ``network_bandwidth``. A request
reaches it when its disk part is done, which for the disks of one node need
not be the order the requests were issued in. So the NIC keeps a calendar of
the intervals it has promised, and a request takes the first gap at or after
its arrival long enough for its bytes. When requests reach the NIC in the
order they were issued (one disk per node, or one slot and one disk) this is
exactly FIFO; otherwise a request that arrives earlier is not held behind one
issued earlier that arrives later (a single next-free time would do that, and
couple all the disks of a node).
"""

from __future__ import annotations

import heapq
from bisect import bisect_right

import numpy as np

from vstack_sim.model.cpu import NodeCpus
from vstack_sim.model.devices import PositioningTimes
from vstack_sim.scenario.cluster_schema import ClusterConfig


class DiskDevice:
    """The device of one pool's disks and NICs: its transfer times, positioning draws and servers per disk."""

    def __init__(self, keys: dict, rng: np.random.Generator):
        self.io_slots = int(keys["io_slots"])
        self.per_byte = 1.0 / float(keys["disk_bandwidth"])
        self.nic_per_byte = 1.0 / float(keys["network_bandwidth"])
        self.shared = bool(keys["shared_disk_bandwidth"] and self.io_slots > 1)
        self.positioning = PositioningTimes(keys["positioning_time"], keys["request_latency"],
                                            keys["positioning_cv"], rng)

    def __repr__(self) -> str:
        return (f"DiskDevice(io_slots={self.io_slots}, bandwidth={1.0 / self.per_byte:.4g}, "
                f"shared={self.shared}, {self.positioning!r})")


class Disks:
    """Per-disk queues, free space and slot map, and per-node NIC queues."""

    def __init__(self, cfg: ClusterConfig, n_nodes: int, rng: np.random.Generator):
        if n_nodes < 1:
            raise ValueError(f"n_nodes: must be >= 1, got {n_nodes}")
        per = cfg.disks_per_node
        self.per_node = per
        self.n_disks = n_nodes * per
        self.disk_node = np.repeat(np.arange(n_nodes, dtype=np.int64), per)
        pools = cfg.pool_list() if cfg.pools else [("all", 0, n_nodes, cfg.pool_list()[0][3])]
        # One device per pool (cluster.pools); the first draws its positioning from ``rng`` as the single device
        # did before pools, the others from children of it, so a run without pools is unchanged.
        streams = [rng] + (rng.spawn(len(pools) - 1) if len(pools) > 1 else [])
        self.devices = [DiskDevice(keys, s) for (_, _, _, keys), s in zip(pools, streams, strict=True)]
        self.device_of_node: list[DiskDevice] = []
        cap = np.zeros((n_nodes, per), dtype=np.int64)
        for (_, first, end, keys), dev in zip(pools, self.devices, strict=True):
            base, rest = divmod(int(keys["node_capacity"]), per)
            cap[first:end] = base
            cap[first:end, :rest] += 1                       # node capacity = sum of its disks exactly
            self.device_of_node += [dev] * (end - first)
        self.device_of_disk: list[DiskDevice] = [self.device_of_node[n] for n in self.disk_node.tolist()]
        self.capacity = cap.ravel()
        self.used = np.zeros(self.n_disks, dtype=np.int64)   # nominal bytes of live slots on the disk
        self.free_at: list[list[float]] = [[0.0] * dev.io_slots for dev in self.device_of_disk]
        self.xfer_free: list[float] = [0.0] * self.n_disks  # the shared data path, when shared
        # Each NIC's calendar: sorted, disjoint busy intervals [start, end), never empty (an old
        # interval, or the empty one at 0, stays last when the NIC is idle).
        self.nic_start: list[list[float]] = [[0.0] for _ in range(n_nodes)]
        self.nic_end: list[list[float]] = [[0.0] for _ in range(n_nodes)]
        self.nic_per_byte_of: list[float] = [dev.nic_per_byte for dev in self.device_of_node]
        # The first pool's device: the only one without pools (the withdrawable queues, disk_queue.py, and tests
        # read it); code that serves several pools asks device_of_disk or device_for(mode).
        first = self.devices[0]
        self.per_byte, self.nic_per_byte = first.per_byte, first.nic_per_byte
        self.shared, self.positioning = first.shared, first.positioning
        # Each node's daemon CPU, before its disks (cpu.py); None: no CPU stage (cluster.cpu_cores_per_node 0).
        self.cpu = NodeCpus(n_nodes, cfg.cpu_cores_per_node, cfg.cpu_per_op, cfg.cpu_per_byte) \
            if cfg.cpu_cores_per_node > 0 else None
        self.node_of_disk: list[int] = self.disk_node.tolist()
        self._next_rr = np.zeros(n_nodes, dtype=np.int64)
        self.slot_disk = np.zeros((0, 0), dtype=np.int32)
        self.failed = np.zeros(self.n_disks, dtype=bool)          # out of its node until replaced
        self.failures = np.zeros(self.n_disks, dtype=np.int64)    # how often each disk has failed
        # Bumped whenever a disk's bytes are reset (it failed, was replaced, or its node's data was lost), so a
        # reservation made before knows it no longer holds.
        self.epoch = np.zeros(self.n_disks, dtype=np.int64)
        self._mode_pool = {}
        for i, mode in enumerate(("replication", "erasure_coding")):    # by name and by the state's mode code
            self._mode_pool[mode] = self._mode_pool[i] = cfg.pool_of_mode(mode)

    def device_for(self, mode: str | int) -> DiskDevice:
        """The device of the pool that holds ``mode``'s slots (every slot of a chunk is in its mode's pool)."""
        return self.devices[self._mode_pool[mode]]

    def slot_rate(self) -> float:
        """Bytes per second every disk can transfer at once (all its slots busy, or its one shared data path)."""
        counts = {}
        for dev in self.device_of_disk:
            counts[id(dev)] = counts.get(id(dev), 0) + 1
        # count x slots / per_byte per device: with one pool exactly the product it was before pools
        return sum(counts.get(id(dev), 0) * (1 if dev.shared else dev.io_slots) / dev.per_byte
                   for dev in self.devices)

    def attach(self, n_chunks: int, width: int) -> None:
        """Size the slot map for the chunk state."""
        self.slot_disk = np.full((n_chunks, width), -1, dtype=np.int32)

    def node_capacity(self) -> np.ndarray:
        return self.capacity.reshape(-1, self.per_node).sum(axis=1)

    # -- queues ---------------------------------------------------------------------------------
    def submit(self, disk: int, t: float, nbytes: float, positioning: float | None = None) -> tuple[float, float]:
        """Queue a request of ``nbytes`` at time ``t`` on ``disk`` (after its node's CPU, when there is one);
        returns (service start, finish). ``positioning``: drawn already (a request the I/O scheduler held,
        :mod:`.io_arbiter`), else drawn now."""
        dev = self.device_of_disk[disk]
        if positioning is None:
            positioning = dev.positioning.take()
        if self.cpu is not None:
            t = self.cpu.take(self.node_of_disk[disk], t, nbytes)
        heap = self.free_at[disk]
        start = heap[0] if heap[0] > t else t
        if dev.shared:
            begin = start + positioning
            free = self.xfer_free[disk]
            if free > begin:
                begin = free
            finish = begin + nbytes * dev.per_byte
            self.xfer_free[disk] = finish
        else:
            finish = start + positioning + nbytes * dev.per_byte
        heapq.heapreplace(heap, finish)
        return start, finish

    def wait(self, disk: int, t: float) -> float:
        """How long a request submitted now would wait before service."""
        w = self.free_at[disk][0] - t
        return w if w > 0.0 else 0.0

    def send(self, node: int, ready: float, nbytes: float, now: float, begin: float | None = None) -> float:
        """Bytes leave ``node`` through its NIC; returns when the last byte is out.

        ``ready``: when the data is all there (store and forward). With ``begin`` (pipelined
        I/O) the NIC may start at ``begin`` as the data streams in, finishing no earlier than
        ``ready``.
        """
        y = nbytes * self.nic_per_byte_of[node]
        if begin is None:
            return self.reserve(node, ready, y, now)
        out = self.reserve(node, begin, y, now)
        return out if out > ready else ready

    def reserve(self, node: int, arrive: float, y: float, now: float) -> float:
        """The NIC's first gap of length ``y`` at or after ``arrive``; returns its end.

        ``now`` is the simulated time of the request (requests come in time order, and
        arrive no earlier than now), so intervals over by then are forgotten.
        """
        starts, ends = self.nic_start[node], self.nic_end[node]
        n = len(ends)
        if n > 32:
            j = bisect_right(ends, now)
            if j > 16:
                j = min(j, n - 1)                       # keep one: the calendar is never empty
                del starts[:j], ends[:j]
                n -= j
        if ends[-1] <= now:                             # idle: the last interval can be reused
            starts[-1] = arrive
            ends[-1] = arrive + y
            return arrive + y
        if arrive >= ends[-1]:                          # nothing promised after arrival
            if arrive == ends[-1]:
                ends[-1] = arrive + y
            else:
                starts.append(arrive)
                ends.append(arrive + y)
            return arrive + y
        i = bisect_right(ends, arrive)
        s = arrive
        while i < n and starts[i] < s + y:
            if ends[i] > s:
                s = ends[i]
            i += 1
        e = s + y
        if i > 0 and ends[i - 1] == s:                  # adjoins the interval before: extend it
            ends[i - 1] = e
            if i < n and starts[i] == e:
                ends[i - 1] = ends[i]
                del starts[i], ends[i]
        elif i < n and starts[i] == e:
            starts[i] = s
        else:
            starts.insert(i, s)
            ends.insert(i, e)
        return e

    # -- where slots live -----------------------------------------------------------------------
    def assign_fresh(self, chunks: np.ndarray, nodes: np.ndarray, slot_bytes: int) -> None:
        """New layouts (ingest): each node's new slots go round-robin over its disks."""
        per = self.per_node
        flat = nodes.ravel().astype(np.int64)
        if per == 1:
            disks = flat
        else:
            order = np.argsort(flat, kind="stable")
            sorted_nodes = flat[order]
            first = np.searchsorted(sorted_nodes, sorted_nodes, side="left")
            rank = np.empty_like(flat)
            rank[order] = np.arange(len(flat)) - first
            disks = flat * per + (self._next_rr[flat] + rank) % per
            counts = np.bincount(flat, minlength=len(self._next_rr))
            self._next_rr = (self._next_rr + counts) % per
        w = nodes.shape[1]
        self.slot_disk[chunks, :w] = disks.reshape(nodes.shape)
        self.slot_disk[chunks, w:] = -1
        np.add.at(self.used, disks, slot_bytes)

    def assign_each(self, chunks: np.ndarray, nodes: np.ndarray, slot_bytes: int) -> None:
        """New layouts written while the run goes on (uploads): each slot on its node's working disk with the
        most free bytes then, as a repair's write. Round-robin (:meth:`assign_fresh`) is that only while a node's
        disks are all empty and working, as at ingest; later a disk may have failed or been replaced empty."""
        w = nodes.shape[1]
        for c, row in zip(chunks.tolist(), nodes.tolist(), strict=True):
            for j, node in enumerate(row):
                disk = self.pick(node)
                self.slot_disk[c, j] = disk
                self.used[disk] += slot_bytes
        self.slot_disk[chunks, w:] = -1

    def pick(self, node: int) -> int:
        """The working disk of ``node`` with the most free bytes (lowest index on ties)."""
        lo = node * self.per_node
        if self.per_node == 1:
            return lo
        free = self.capacity[lo:lo + self.per_node] - self.used[lo:lo + self.per_node]
        if self.failed[lo:lo + self.per_node].any():
            free = np.where(self.failed[lo:lo + self.per_node], np.iinfo(np.int64).min, free)
        return lo + int(np.argmax(free))

    def reserve_space(self, node: int, nbytes: int, disk: int | None = None) -> tuple[int, int]:
        """Pick the disk of ``node`` for a slot about to be written (or take ``disk``, one of the node's: a resumed
        rebuild goes on where its rounds are) and count its bytes there now, so the next write to the node sees
        them (two concurrent writes would otherwise pick the same disk). Returns ``(disk, token)``;
        :meth:`release_space` or :meth:`place_slot` with the token settles it."""
        if disk is None:
            disk = self.pick(node)
        self.used[disk] += nbytes
        return disk, int(self.epoch[disk])

    def release_space(self, disk: int, nbytes: int, token: int) -> None:
        """A reserved write will not happen: its bytes leave the disk (unless the disk was reset meanwhile)."""
        if self.epoch[disk] == token:
            self.used[disk] -= nbytes

    def slots_on(self, disk: int) -> tuple[np.ndarray, np.ndarray]:
        """(chunks, slots) of every slot that names ``disk``: one vectorised scan."""
        width = self.slot_disk.shape[1]
        flat = np.flatnonzero(self.slot_disk.ravel() == disk)
        return flat // width, flat % width

    def fail(self, disk: int) -> int:
        """The disk fails: its data is gone and it takes no writes. Returns the bytes it held."""
        held = int(self.used[disk])
        self.used[disk] = 0
        self.epoch[disk] += 1
        self.failed[disk] = True
        self.failures[disk] += 1
        return held

    def replace(self, disk: int) -> None:
        """An empty disk takes the failed one's place."""
        self.failed[disk] = False
        self.used[disk] = 0
        self.epoch[disk] += 1

    def place_slot(self, chunk: int, slot: int, disk: int, nbytes: int, old_was_live: bool,
                   token: int | None = None) -> None:
        """A rebuilt slot now lives on ``disk``; a live old copy's bytes leave its disk. With the ``token`` of a
        :meth:`reserve_space` still valid, its bytes are on the disk already."""
        old = int(self.slot_disk[chunk, slot])
        if old_was_live and old >= 0:
            self.used[old] -= nbytes
        self.slot_disk[chunk, slot] = disk
        if token is None or self.epoch[disk] != token:
            self.used[disk] += nbytes

    def replace_layout(self, chunk: int, old_live: np.ndarray, old_bytes: int, disks: np.ndarray,
                       live: np.ndarray, new_bytes: int) -> None:
        """A conversion completed: the chunk's slots are now on ``disks`` (the old ones are freed)."""
        old = self.slot_disk[chunk, :len(old_live)]
        np.subtract.at(self.used, old[old_live], old_bytes)
        self.slot_disk[chunk, :] = -1
        self.slot_disk[chunk, :len(disks)] = disks
        np.add.at(self.used, disks[live], new_bytes)

    def free_slots(self, disks: np.ndarray, nbytes: np.ndarray) -> None:
        """Deleted slots' bytes leave their disks."""
        np.subtract.at(self.used, disks, nbytes)

    def clear_node(self, node: int) -> None:
        """The node's data is gone: its disks are empty (a failed one stays out until replaced)."""
        self.used[node * self.per_node:(node + 1) * self.per_node] = 0
        self.epoch[node * self.per_node:(node + 1) * self.per_node] += 1

    def __repr__(self) -> str:
        return f"Disks(disks={self.n_disks}, per_node={self.per_node}, {self.positioning!r})"
