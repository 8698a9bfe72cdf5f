"""Erasure-coded reads of any k fragments: degraded reads and late binding (docs/model.md, "Reads").

A part of :class:`~vstack_sim.model.reads.ReadPath`, kept apart from the pump's hot loop, which inlines
only the common reads (a replica, or the k data fragments, all up).

* Degraded: some data fragment is down: read any k live fragments (data first), add decode time =
  bytes / decode throughput.
* Late binding (``late_binding_extra`` = d): request k + d live fragments, data first, and use the first
  k to arrive. All k + d move and cross the client link; the read is degraded (and pays decode) when one
  of the first k is parity. A fragment on a node that is down, the reader not knowing, never arrives: the
  read uses the first k of the others, and times out only when fewer than k of them remain.
"""

from __future__ import annotations

import heapq

from vstack_sim.model.kofn import choose, decode_time
from vstack_sim.model.read_failover import believes_up
from vstack_sim.system.codec import needs_decode


class AnyKReads:
    """The any-k read of the read path (mixed into ReadPath, whose state it uses)."""

    def read_any_k(self, c: int, mode: int, t: float, dead, vid: int = -1) -> tuple:
        """Read k of chunk ``c``'s fragments at ``t`` among those the reader believes up
        (:func:`.read_failover.believes_up`; ``dead``: the nodes this view timed out on). Returns (reason,
        kind, bytes, latency, out, spec, dead): ``reason`` 1 or 2 when too few, ``dead`` a chosen node that
        is down (the read times out; nothing is read). A read of view ``vid`` with a fragment on a held disk
        (:mod:`.read_holds`) waits: its latency is NaN and its out infinite until its last piece is out."""
        w = self.w
        st, up, dk = w.state, w.cluster.up, w.cluster.disks
        k, F = w.k, w.fragment_bytes
        nodes = st.slot_node[c].tolist()
        live = st.slot_has_data[c].tolist()
        width = int(st.mode_width[mode])
        known = self.known_at
        usable = [j for j in range(width) if live[j] and believes_up(up, known, nodes[j], t, dead)]
        if len(usable) < k:
            return ((3 if st.absent[c] else 2) if st.lost[c] else 1), 3, 0, 0.0, t, -1, -1
        chosen = choose(mode, usable, k, extra=self.extra)
        down = [j for j in chosen if not up[nodes[j]]]
        if down:
            # Late binding uses the first k to arrive: a fragment on a node that is down (the reader does not
            # know) never arrives, and the read times out only when fewer than k of the others remain.
            chosen = [j for j in chosen if up[nodes[j]]]
            if len(chosen) < k:
                return 0, 3, 0, 0.0, t, -1, nodes[down[0]]
        free_at, xfer, device_of = dk.free_at, dk.xfer_free, dk.device_of_disk
        holds = self.holds
        if holds is not None and any(holds.held[int(dk.slot_disk[c, j])] is not None for j in chosen):
            positionings = []
            for j in chosen:
                pos = device_of[int(dk.slot_disk[c, j])].positioning
                positionings.append(pos.mean if pos.deterministic else pos.take())
            self.defer_pieces(vid, c, mode, t, chosen, positionings, F)
            self.late_extra_fragments += len(chosen) - k
            return 0, 1, len(chosen) * F, float("nan"), float("inf"), tuple(chosen), -1
        finishes = []
        for j in chosen:
            d = int(dk.slot_disk[c, j])
            dev = device_of[d]                     # its pool's device: every fragment of a chunk is in one pool
            pos = dev.positioning
            h = free_at[d]
            ready = t if dk.cpu is None else dk.cpu.take(nodes[j], t, F)   # the node's daemon first (cpu.py)
            start = h[0] if h[0] > ready else ready
            if dev.shared:
                start += pos.mean if pos.deterministic else pos.take()
                if xfer[d] > start:
                    start = xfer[d]
                finish = xfer[d] = start + F * dev.per_byte
            else:
                finish = start + (pos.mean if pos.deterministic else pos.take()) + F * dev.per_byte
            heapq.heapreplace(h, finish)
            finishes.append((dk.reserve(nodes[j], finish, F * dev.nic_per_byte, t), j))
        finishes.sort()
        first_k = finishes[:k]
        slowest = first_k[-1][0]
        used = [j for _, j in first_k]
        parity_used = needs_decode(used, k)
        # Every fragment requested moves (late binding: k + extra) and crosses the client link; a read
        # that used a parity fragment decoded, so it is degraded.
        nbytes = len(chosen) * F
        self.late_extra_fragments += len(chosen) - k
        latency = slowest - t + nbytes * self.client_per_byte + self.net_latency
        latency += decode_time(mode, used, k, k * F, self.decode_per_byte)
        if w.payloads is not None and parity_used:
            w.payloads.degraded_read(c, used)
        return 0, (2 if parity_used else 1), nbytes, latency, slowest, tuple(used), -1
