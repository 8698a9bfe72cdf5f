"""Recoveries: a failure's recovery lasts until every chunk it left short is fully redundant again or lost.

A mixin of :class:`~vstack_sim.model.world.World`: it keeps the open recoveries and writes each one's detection,
repair and recovery times into the failures table when it closes (or, at the end of the run, as censored).
"""

from __future__ import annotations

import numpy as np


class Recovery:
    """An open recovery: the chunks of a declared-dead node not yet fully redundant or lost."""

    __slots__ = ("failure_id", "t_fail", "pending", "remaining")

    def __init__(self, failure_id: int, t_fail: float, n_chunks: int, chunks: np.ndarray):
        self.failure_id = failure_id
        self.t_fail = t_fail
        self.pending = np.zeros(n_chunks, dtype=bool)
        self.pending[chunks] = True
        self.remaining = int(len(chunks))


class Recoveries:
    """The open recoveries of a world (``self.recoveries``) and how they close."""

    def chunks_settled(self, chunks: np.ndarray) -> None:
        """Chunks now fully redundant or lost: advance the recoveries that wait for them."""
        if not self.recoveries:
            return
        t = self.env.now
        still = []
        for rec in self.recoveries:
            hit = chunks[rec.pending[chunks]]
            if len(hit):
                rec.pending[hit] = False
                rec.remaining -= len(hit)
            if rec.remaining <= 0:
                self._close_recovery(rec.failure_id, rec.t_fail, t)
            else:
                still.append(rec)
        self.recoveries = still

    def chunk_settled(self, c: int) -> None:
        """Scalar form of :meth:`chunks_settled` for the repair loop."""
        if not self.recoveries:
            return
        closed = False
        for rec in self.recoveries:
            if rec.pending[c]:
                rec.pending[c] = False
                rec.remaining -= 1
                closed |= rec.remaining <= 0
        if closed:
            t = self.env.now
            for rec in self.recoveries:
                if rec.remaining <= 0:
                    self._close_recovery(rec.failure_id, rec.t_fail, t)
            self.recoveries = [r for r in self.recoveries if r.remaining > 0]

    def _close_recovery(self, fid: int, t_fail: float, t_end: float) -> None:
        """Recovery = detection (failure to declaration) + repair (declaration to fully redundant or lost)."""
        self.failures.set("recovery_end_s", fid, t_end)
        self.failures.set("recovery_time_s", fid, t_end - t_fail)
        self.failures.set("repair_s", fid, max(0.0, t_end - self.failures.get("declared_s", fid)))

    def censor_open_recoveries(self, t_end: float) -> None:
        """End of run: recoveries still open get their times so far, flagged ``censored`` (lower
        bounds); ``recovery_end_s`` stays empty."""
        for rec in self.recoveries:
            fid = rec.failure_id
            self.failures.set("recovery_time_s", fid, t_end - rec.t_fail)
            self.failures.set("repair_s", fid, t_end - self.failures.get("declared_s", fid))
            self.failures.set("censored", fid, True)
