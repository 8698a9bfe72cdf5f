"""The read pump's clock: its one SimPy process, and waking it for requests pushed from outside it.

A part of :class:`~vstack_sim.model.reads.ReadPath`. The pump owns a heap of pending requests, each at its own
simulated time (view arrivals, chunk requests, retries, hedges, held disks' events). Its process sleeps until the
earliest, then serves (:meth:`~.reads.ReadPath.serve_until`) every request due no later than the next other event
in the simulation. A request pushed from outside the pump (a failure's retry, a pair decided at a failure) may be
due before the pump wakes: :meth:`PumpClock.wake` serves it then.
"""

from __future__ import annotations

import heapq


class PumpClock:
    """Sources, the pump process and its wake-ups (mixed into ReadPath, whose state it uses)."""

    # -- wiring ---------------------------------------------------------------------------------
    def add_source(self, source) -> None:
        idx = len(self.sources)
        self.sources.append(source)
        item = source.next()
        if item is not None:
            self._push_arrival(idx, item)

    def _push_arrival(self, idx: int, item) -> None:
        self._seq += 1
        heapq.heappush(self.heap, (item[0], self._seq, -1 - idx, item))

    def start(self) -> None:
        if self.heap:
            self._pump_proc = self.env.process(self._pump())

    def _pump(self):
        env, heap = self.env, self.heap
        while heap:
            t_next = heap[0][0]
            if t_next > env.now:
                self._pump_wake = t_next
                yield env.timeout(t_next - env.now)
            horizon = env.peek()
            if heap[0][0] > horizon:
                yield env.timeout(0)
                continue
            self.serve_until(horizon)

    def flush(self, t_end: float) -> None:
        """End of run: serve what is due by ``t_end`` and close views still in flight."""
        self.serve_until(t_end)
        if self.holds is not None:
            self.flush_holds(t_end)
        for vid in sorted(self.active):
            self._end_view(vid, failed=False)

    # -- waking the pump for requests pushed while it sleeps ------------------------------------------
    def wake(self, at: float) -> None:
        """Serve the heap at ``at``: a retry pushed from outside the pump may be due before the pump wakes."""
        if at >= self._pump_wake and self._pump_proc is not None and self._pump_proc.is_alive:
            return
        ev = self.env.timeout(at - self.env.now)
        ev.callbacks.append(self._woken)

    def _woken(self, _event) -> None:
        self.serve_until(self.env.now)
        if not self.heap:
            return
        if self._pump_proc is None or not self._pump_proc.is_alive:
            self._pump_proc = self.env.process(self._pump())
        elif self.heap[0][0] < self._pump_wake:
            self.wake(self.heap[0][0])

    def _uniform(self) -> float:
        if not self._rand:
            self._rand = self.rng.random(4096).tolist()
        return self._rand.pop()
