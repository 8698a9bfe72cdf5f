"""Disk failures: one disk of a node fails and loses its slots; the node stays up.

Disks fail far more often than whole nodes, and a rebuild after a disk is what
a production cluster mostly does. Each disk has its own process and its own
random stream (children of the ``disk_failures`` stream), so disk failures do
not shift any other draw. Time to failure is exponential (mean ``disk_mttf``)
or Weibull with that mean (shape ``disk_weibull_shape``; SimEDC uses
Weibull(1.12, 87,600 h)); Weibull disks start at an equilibrium age unless
``start_new``, with the same residual-life draw as nodes.

A failure, at once:

* destroys the disk's slots (the chunks lose a copy or a fragment; one left
  with too few is lost), and the node loses the disk's bytes and capacity;
* sends reads in flight on the disk to other copies, and restarts the repair
  jobs and conversions that were reading one of its slots or writing to it.

After ``detection_timeout`` the failure is declared and each lost slot becomes
a repair job under the same per-node caps as a dead node's. The node itself
may receive the rebuilt slots, on its other disks: a chunk's slots still sit
on distinct nodes. After ``disk_replacement_delay`` an empty disk takes the
failed one's place and the node has its capacity back. The failures table
records a disk failure with ``component`` ``disk`` and the disk's id
(``node x disks_per_node + index``).

A disk whose time comes while its node is down fails only if the node comes
back: its clock restarts then, as a node's does (a permanent node failure
brings new disks anyway). A disk does not fail again before it is replaced.
"""

from __future__ import annotations

import numpy as np

from vstack_sim.model.world import COMPONENTS, FAILURE_KINDS, FAILURE_SOURCES


class DiskFailures:
    """Fails disks at random (or when scheduled) and carries out the disk events on the world."""

    def __init__(self, world):
        self.w = world
        self.cfg = world.cfg.failures
        self.n_disks = world.cluster.disks.n_disks
        self.per_node = world.cluster.disks.per_node
        self.rngs = world.rng.substreams("disk_failures", self.n_disks) if self.cfg.disk_mttf > 0 else []
        self.replaced = [None] * self.n_disks      # event fired when a failed disk is replaced
        self.count = 0                              # disk failures so far

    def start(self) -> None:
        if self.cfg.disk_mttf > 0:
            for disk in range(self.n_disks):
                self.w.env.process(self._disk(disk))

    def _disk(self, disk: int):
        w, rng = self.w, self.rngs[disk]
        node, first = disk // self.per_node, True
        while True:
            yield w.clock.life("disk", disk, rng, first)
            first = False
            if w.cluster.failed[node]:         # its node is down: the disk's clock restarts when it is back
                yield w.node_back[node]
            else:
                back = self.fail(disk, "random", self.cfg.disk_replacement_delay)
                if back is not None:
                    yield back

    # -- events -------------------------------------------------------------------------------------
    def fail(self, disk: int, source: str, replacement_delay: float):
        """Disk ``disk`` fails now; returns an event fired when it is replaced (None: nothing happened,
        because the disk is already out or its node is down)."""
        w = self.w
        cl, st, t = w.cluster, w.state, w.env.now
        node = disk // self.per_node
        if cl.disks.failed[disk] or cl.failed[node]:
            return None
        fid = len(w.failures)
        w.failures.append(fid, t, node, int(cl.node_rack[node]), FAILURE_KINDS.index("permanent"),
                          FAILURE_SOURCES.index(source), False, np.nan, np.nan, np.nan, np.nan, 0, 0,
                          np.nan, np.nan, False, COMPONENTS.index("disk"), disk)
        self.count += 1
        c, s = cl.disks.slots_on(disk)
        held = st.slot_has_data[c, s]
        c, s = c[held], s[held]
        cl.fail_disk(disk)
        w.placement.forget_samplers()              # the node's free space changed
        affected = np.unique(c)
        lost = st.destroy_slots(c, s, available=True, t=t)
        if w.payloads is not None:
            w.payloads.destroy_slots(c, s)
        for hook in w.on_disk_failed:
            hook(disk)
        w.repair.disk_failed(disk)
        w.repair.reprioritise(affected)
        if len(lost):
            w.lose(lost)
        w.env.timeout(w.cfg.failures.detection_timeout).callbacks.append(lambda _e: self._declare(disk, fid))
        back = self.replaced[disk] = w.env.event()
        w.env.timeout(replacement_delay).callbacks.append(lambda _e: self._replace(disk, fid, back))
        return back

    def _declare(self, disk: int, fid: int) -> None:
        """Detection: the disk's lost slots become repair jobs (those its node's own failure has not queued)."""
        w = self.w
        st = w.state
        c, s = w.cluster.disks.slots_on(disk)
        gone = ~st.slot_has_data[c, s]
        w.declare_slots(fid, c[gone], s[gone])

    def _replace(self, disk: int, fid: int, back) -> None:
        w = self.w
        w.cluster.replace_disk(disk)
        w.placement.forget_samplers()
        w.failures.set("back_s", fid, w.env.now)
        w.repair.node_changed()                    # room for blocked jobs, perhaps
        back.succeed()

