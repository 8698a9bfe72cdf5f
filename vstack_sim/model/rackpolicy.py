"""The rack-outage repair policy: whether a wholly-down rack is rebuilt at once or waited for.

When every node of a rack is down, the cause is usually the rack (a switch or
a power feed), and it usually comes back with all its data. Rebuilding a whole
rack's worth of slots elsewhere would move a rack's worth of bytes for
nothing. Ceph therefore does not mark out the OSDs of a subtree that is down
as a whole (``mon_osd_down_out_subtree_limit``, by default ``rack``).

* ``rebuild``: a node of a wholly-down rack is declared dead after the
  detection timeout, like any node (the model's behaviour before this policy).
* ``wait``: while the whole rack is down its nodes are not declared, however
  long the detection timeout has passed. They are declared when the rack is
  no longer wholly down (one of its nodes is back: the others are then single
  node failures whose timeout has long passed) or ``rack_wait_timeout`` after
  the rack went down, whichever comes first; then repair rebuilds them.

The world tells the policy when a node goes down or comes back, and asks it
at each detection whether to defer the declaration. The policy declares the
deferred nodes itself, through the world, when their wait ends.
"""

from __future__ import annotations

import math


class RackOutagePolicy:
    """Defers the declaration of nodes in a wholly-down rack (``failures.rack_outage_repair: wait``)."""

    def __init__(self, world):
        self.w = world
        cfg = world.cfg.failures
        self.wait = cfg.rack_outage_repair == "wait"
        self.timeout = float(cfg.rack_wait_timeout)
        r = world.cluster.n_racks
        self.down_since = [math.nan] * r     # when the rack's last serving node went down (NaN: not wholly down)
        self.expired = [False] * r           # the wait of the current outage is over: declare as usual
        self.outage = [0] * r                # counts wholly-down episodes, so a stale timer does nothing
        self.deferred: list[dict[int, int]] = [{} for _ in range(r)]   # node -> failure id waiting

    def _rack_down(self, rack: int) -> bool:
        return not self.w.cluster.up[self.w.cluster.rack_nodes[rack]].any()

    def node_down(self, node: int) -> None:
        """A node stopped serving: if that leaves its rack wholly down, the rack's wait starts now."""
        if not self.wait:
            return
        rack = int(self.w.cluster.node_rack[node])
        if math.isnan(self.down_since[rack]) and self._rack_down(rack):
            env = self.w.env
            self.down_since[rack] = env.now
            self.expired[rack] = False
            self.outage[rack] += 1
            timer = env.timeout(self.timeout)
            timer.callbacks.append(lambda _e, r=rack, o=self.outage[rack]: self._timed_out(r, o))

    def node_up(self, node: int) -> None:
        """A node serves again: its rack is no longer wholly down, so the nodes still down are declared."""
        if not self.wait:
            return
        rack = int(self.w.cluster.node_rack[node])
        if not math.isnan(self.down_since[rack]):
            self.down_since[rack] = math.nan
            self.expired[rack] = False
            self.deferred[rack].pop(node, None)    # it is back: nothing to declare
            # Released after the events already due now, so that nodes of a rack coming back together
            # (one outage) are all back before the others' declarations are decided.
            self.w.env.timeout(0).callbacks.append(lambda _e, r=rack: self._release(r))

    def defer(self, node: int, fid: int) -> bool:
        """At the node's detection: True if its declaration waits for the rack (and is now queued here)."""
        if not self.wait:
            return False
        rack = int(self.w.cluster.node_rack[node])
        if math.isnan(self.down_since[rack]) or self.expired[rack]:
            return False
        self.deferred[rack][node] = fid
        return True

    def _timed_out(self, rack: int, outage: int) -> None:
        if self.outage[rack] == outage and not math.isnan(self.down_since[rack]):
            self.expired[rack] = True
            self._release(rack)

    def _release(self, rack: int) -> None:
        """Declare every deferred node of the rack that is still down with the same failure."""
        if not math.isnan(self.down_since[rack]) and not self.expired[rack]:
            return                               # wholly down again meanwhile: they wait for this outage
        waiting, self.deferred[rack] = self.deferred[rack], {}
        cl = self.w.cluster
        for node, fid in sorted(waiting.items()):
            if cl.failure_id[node] == fid and cl.failed[node] and not cl.dead[node]:
                self.w.declare(node, fid)
