"""Disk bytes by I/O class and direction in time buckets: what every disk request carried.

The classes are those of :mod:`.disk_queue` (client, repair, conversion), each read or written. A request
counts in the bucket of the instant it joins its disk's queue (``[i x bucket, (i + 1) x bucket)``; a request
at the run's very end counts in the last bucket):

* **background requests** (repairs and conversions: :meth:`.cluster.Cluster.read_slot` and
  :meth:`.cluster.Cluster.write`) are counted there, when they join: at once, or when the I/O scheduler
  admits them (:mod:`.io_arbiter`); a request whose owner has given up still joins and counts;
* **client reads** are not counted in the read path's hot loop, which drives the queues inline and where
  every operation costs: their bytes come afterwards from the reads' columns (:meth:`IoLedger.table`), each
  read's bytes (a replica, k fragments, or k + Δ with late binding; none for a cache hit or a failed read)
  in the bucket of the time the read was first requested. The client requests those columns do not hold are
  counted here as they are sent: hedges (:mod:`.read_hedge`) and the attempts that a node or disk failure
  interrupted before they answered (:mod:`.read_failover`; the retry's bytes are the row's).

* **uploads** (:mod:`.lifecycle`) are client writes, counted as each upload's append joins its disk's queue.
"""

from __future__ import annotations

import numpy as np

from vstack_sim.model.disk_queue import CLASSES, CLIENT

COLUMNS = tuple(f"{cls}_{op}" for cls in CLASSES for op in ("read", "written"))
"""The ledger's columns: ``client_read``, ``client_written``, ``repair_read``, ... (class x 2 + written)."""
SLICE = 1 << 22
"""Reads binned at a time from their columns."""


class IoLedger:
    """Bytes per bucket and column, grown as requests come (a list of small lists: a few hundred buckets)."""

    def __init__(self, bucket: float):
        if not bucket > 0:
            raise ValueError(f"bucket: must be > 0, got {bucket}")
        self.bucket = float(bucket)
        self.rows: list[list[int]] = []

    def add(self, cls: int, written: bool, t: float, nbytes) -> None:
        """A request of ``nbytes`` of class ``cls`` (a write if ``written``) joined its disk's queue at ``t``."""
        i = int(t // self.bucket)
        rows = self.rows
        while len(rows) <= i:
            rows.append([0] * len(COLUMNS))
        rows[i][2 * cls + written] += int(nbytes)

    def buckets(self, t_end: float) -> int:
        """Buckets from 0 to ``t_end``: the last one may be shorter, and is never empty of time."""
        return max(1, int(np.ceil(t_end / self.bucket)))

    def table(self, t_end: float, times: np.ndarray, nbytes: np.ndarray, kind: np.ndarray,
              no_disk_kind: int | None = None) -> np.ndarray:
        """Bytes per bucket (rows) and :data:`COLUMNS` up to ``t_end``, the client reads' from their columns
        (``times``, ``nbytes``, ``kind``; reads of ``no_disk_kind``, cache hits, touched no disk)."""
        n = self.buckets(t_end)
        out = np.zeros((n, len(COLUMNS)), dtype=np.int64)
        if self.rows:
            rows = np.asarray(self.rows, dtype=np.int64)
            last = min(len(rows), n) - 1        # requests at t_end (or later) go in the last bucket
            out[:last + 1] += rows[:last + 1]
            out[last] += rows[last + 1:].sum(axis=0)
        client = np.zeros(n)
        for lo in range(0, len(times), SLICE):    # a slice at a time: no temporaries the size of the reads
            hi = lo + SLICE
            weights = nbytes[lo:hi]
            if no_disk_kind is not None:
                weights = np.where(kind[lo:hi] == no_disk_kind, 0, weights)
            idx = np.minimum((times[lo:hi] // self.bucket).astype(np.int64), n - 1)
            client += np.bincount(idx, weights=weights, minlength=n)
        # float64 sums of integers are exact below 2**53 bytes (8 PB) a bucket
        out[:, 2 * CLIENT] += np.rint(client).astype(np.int64)
        return out

    def lengths(self, t_end: float) -> np.ndarray:
        """Each bucket's length in seconds (the last one ends at ``t_end``)."""
        n = self.buckets(t_end)
        starts = np.arange(n) * self.bucket
        return np.minimum(starts + self.bucket, t_end) - starts
