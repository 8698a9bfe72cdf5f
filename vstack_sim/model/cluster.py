"""Nodes and racks: the flags of each node, and the I/O of slots through its disks and NIC.

The queues themselves (a FIFO of ``io_slots`` servers per disk, ``disks_per_node``
disks per node, one NIC egress queue per node) live in :mod:`.disks`; this module
gives repairs and conversions their two operations on a slot: read it (its disk,
then its node's NIC) and write one onto a disk, through the I/O scheduler when there
is one (:mod:`.io_arbiter`). The read path drives the same queues inline, for speed.
Reads, repairs and conversions share every queue (docs/model.md). Both operations count their bytes in the
I/O ledger (:mod:`.io_ledger`) when the request joins its disk's queue.
"""

from __future__ import annotations

import numpy as np

from vstack_sim.model.disks import Disks
from vstack_sim.model.io_ledger import IoLedger
from vstack_sim.scenario.cluster_schema import ClusterConfig


class Cluster:
    """Node flags, disks and NICs. Node i sits in rack i mod R."""

    def __init__(self, cfg: ClusterConfig, service_rng: np.random.Generator, io_bucket: float = 3600.0):
        self.cfg = cfg
        n = cfg.nodes
        self.n_nodes = n
        self.n_racks = cfg.racks
        self.node_rack = np.arange(n, dtype=np.int64) % cfg.racks
        self.rack_nodes = [np.flatnonzero(self.node_rack == r) for r in range(cfg.racks)]
        pools = cfg.pool_list()
        self.n_pools = len(pools)
        self.node_pool = np.repeat(np.arange(self.n_pools, dtype=np.int64), [end - a for _, a, end, _ in pools])
        # Mode code -> index of the pool that holds its slots (cluster.mode_pools; 0 without pools).
        self.mode_pool = [cfg.pool_of_mode(m) for m in ("replication", "erasure_coding")]
        self.disks = Disks(cfg, n, service_rng)
        self.capacity = self.disks.node_capacity()           # the sum of each node's disks
        self.used = np.zeros(n, dtype=np.int64)          # bytes held (live slots, stale copies) + reserved
        self.reserved = np.zeros(n, dtype=np.int64)      # bytes of conversion writes under way to the node
        self.repairing = np.zeros(n, dtype=np.int64)     # bytes of repair writes under way to the node
        self.up = np.ones(n, dtype=bool)                  # serving requests
        self.dead = np.zeros(n, dtype=bool)               # declared dead, awaiting return or replacement
        self.failed = np.zeros(n, dtype=bool)             # down (failed, not yet back), declared or not
        self.failure_id = np.full(n, -1, dtype=np.int64)  # the open failure record of a down node
        self.version = 0                                   # bumped whenever a node's up/dead state changes
        self.arbiter = None       # the I/O scheduler holding background requests (io_arbiter.py); None: fifo, no budget
        self.holds = None         # disks held by a hedged read that may be withdrawn (disk_holds.py); None: none ever
        self.io = IoLedger(io_bucket)   # disk bytes by class and bucket (io_ledger.py)

    def slot_wait(self, chunk: int, slot: int, t: float) -> float:
        """How long a read of this slot submitted now would wait for its disk."""
        return self.disks.wait(int(self.disks.slot_disk[chunk, slot]), t)

    def read_slot(self, chunk: int, slot: int, t: float, nbytes: float, pipelined: bool, cls: int, then) -> None:
        """A background read of a slot, issued at ``t``: its disk, then out of its node's NIC. ``then(disk start,
        bytes out)`` once it has joined its disk's queue: inline, unless the I/O scheduler holds it
        (:mod:`.io_arbiter`).

        Pipelined, the NIC sends while the disk reads (it finishes no earlier than the disk);
        otherwise it sends once the disk is done (store and forward).
        """
        d = self.disks
        disk = int(d.slot_disk[chunk, slot])
        node = int(d.disk_node[disk])

        def joined(start, finish, now):
            self.io.add(cls, False, now, nbytes)
            then(start, d.send(node, finish, nbytes, now, begin=start if pipelined else None))

        self._join(disk, t, nbytes, cls, joined)

    def write(self, disk: int, t: float, nbytes: float, cls: int, then) -> None:
        """A background write to ``disk``, issued at ``t``: ``then(start, finish)`` once it has joined the disk's
        queue (inline unless the I/O scheduler holds it)."""
        def joined(start, finish, now):
            self.io.add(cls, True, now, nbytes)
            then(start, finish)

        self._join(disk, t, nbytes, cls, joined)

    def _join(self, disk: int, t: float, nbytes: float, cls: int, joined) -> None:
        """The request joins ``disk``'s queue: at once (``joined(start, finish, t)`` inline), or when the I/O
        scheduler admits it."""
        if self.arbiter is not None:
            self.arbiter.submit(disk, t, nbytes, cls, joined)
        elif self.holds is not None:
            self.client_write(disk, t, nbytes, lambda start, finish: joined(start, finish, t))
        else:
            joined(*self.disks.submit(disk, t, nbytes), t)

    def client_write(self, disk: int, t: float, nbytes: float, then) -> None:
        """A request issued at ``t`` that no I/O scheduler holds (an upload's write, or any request while hedged
        reads hold disks): ``then(start, finish)`` when it joins the disk, inline unless the disk is held
        (:mod:`.disk_holds`; then at the simulated time of the release)."""
        holds = self.holds
        if holds is None:
            then(*self.disks.submit(disk, t, nbytes))
            return
        holds.submit_background(disk, t, nbytes, self.disks.device_of_disk[disk].positioning.take(), then)

    def fail_disk(self, disk: int) -> int:
        """A disk fails: its node loses the disk's bytes and capacity until it is replaced. Returns its node."""
        node = int(self.disks.disk_node[disk])
        self.used[node] -= self.disks.fail(disk)
        self.capacity[node] -= self.disks.capacity[disk]
        return node

    def replace_disk(self, disk: int) -> None:
        """An empty disk takes the failed one's place: the node has its capacity back."""
        if self.disks.failed[disk]:
            self.disks.replace(disk)
            self.capacity[int(self.disks.disk_node[disk])] += self.disks.capacity[disk]

    def nodes_up(self) -> int:
        return int(self.up.sum())

    def __repr__(self) -> str:
        return f"Cluster(nodes={self.n_nodes}, racks={self.n_racks}, up={self.nodes_up()}, {self.disks!r})"


def rows_that_fit(nodes: np.ndarray, slot_bytes: int, free: np.ndarray) -> int:
    """How many leading rows of ``nodes`` (layouts, -1 = unplaceable) fit in ``free`` bytes per node."""
    if not len(nodes):
        return 0
    rows = np.flatnonzero((nodes < 0).any(axis=1))
    limit = int(rows[0]) if len(rows) else len(nodes)
    flat = nodes[:limit].ravel()
    if not len(flat):
        return 0
    # The k-th copy (in row order) placed on a node needs k x slot_bytes free there.
    order = np.argsort(flat, kind="stable")
    sorted_nodes = flat[order]
    first = np.searchsorted(sorted_nodes, sorted_nodes, side="left")
    rank = np.empty(len(flat), dtype=np.int64)
    rank[order] = np.arange(len(flat)) - first + 1
    over = np.flatnonzero(rank * slot_bytes > free[flat])
    return min(limit, int(over[0]) // nodes.shape[1]) if len(over) else limit
