"""Placement: which nodes get the r replicas or k+m fragments of a chunk.

The rules (docs/model.md), shared by ingest, repair and conversion:

* the copies of one layout go on distinct nodes;
* they are spread over racks as evenly as possible: at most ceil(n / R) per
  rack (so one per rack when R >= n), counting copies the chunk already has;
* placement is balanced by free space: nodes are drawn with probability
  proportional to their free bytes (weighted sampling without replacement);
* only eligible nodes (up, not declared dead, room for the copy) are used.

The world asks one :class:`Placement`, with one entry point per use:

* :meth:`Placement.fresh`: whole new layouts (ingest, conversions), by
  :func:`place_fresh`, which picks racks among "rack slots" (ceil(n/R) per
  rack), then a node inside each chosen rack by inverse CDF, so its cost does
  not grow with the number of nodes;
* :meth:`Placement.sampler`: a :class:`NodeSampler` whose ``draw`` gives one
  replacement slot (repair), exactly distributed as :func:`place_one`, from one
  variate; :meth:`Placement.repair_target` draws from it, checked against the
  free space now.

:func:`place_exact` (Gumbel keys for every (row, node) pair) is the reference
the fast paths are tested against, and :func:`place_fresh`'s fallback.
"""

from __future__ import annotations

import numpy as np


def rack_cap(width: int, n_racks: int) -> int:
    """Most copies of one chunk allowed in one rack: ceil(n / R)."""
    return -(-width // n_racks)


def place_exact(rng: np.random.Generator, existing: np.ndarray, n_new: int, weights: np.ndarray,
                node_rack: np.ndarray, n_racks: int, width: int) -> np.ndarray:
    """Choose ``n_new`` more nodes for each row of ``existing`` (node ids, -1 for none).

    ``weights`` are per-node sampling weights (free bytes; 0 = ineligible). Returns an
    int64 array (rows, n_new), with -1 rows where no placement satisfies the rules.
    """
    rows, n_nodes = existing.shape[0], weights.shape[0]
    cap = rack_cap(width, n_racks)
    cand = np.broadcast_to(weights > 0, (rows, n_nodes)).copy()
    held = existing >= 0
    r_idx, c_idx = np.nonzero(held)
    cand[r_idx, existing[r_idx, c_idx]] = False
    rack_used = np.zeros((rows, n_racks), dtype=np.int64)
    np.add.at(rack_used, (r_idx, node_rack[existing[r_idx, c_idx]]), 1)
    room = cap - rack_used
    # Gumbel-top-k over log-weights is weighted sampling without replacement.
    with np.errstate(divide="ignore"):
        keys = np.log(weights)[None, :] + rng.gumbel(size=(rows, n_nodes))
    keys[~cand] = -np.inf
    order = np.argsort(-keys, axis=1, kind="stable")
    out = np.full((rows, n_new), -1, dtype=np.int64)
    # Walk each row's nodes in key order, taking a node while its rack has room.
    sorted_keys = np.take_along_axis(keys, order, axis=1)
    sorted_racks = node_rack[order]
    taken = np.zeros(rows, dtype=np.int64)
    for j in range(n_nodes):
        live = (taken < n_new) & np.isfinite(sorted_keys[:, j])
        if not live.any():
            if (taken >= n_new).all() or not np.isfinite(sorted_keys[:, j:]).any():
                break
            continue
        rk = sorted_racks[:, j]
        ok = live & (room[np.arange(rows), rk] > 0)
        idx = np.flatnonzero(ok)
        out[idx, taken[idx]] = order[idx, j]
        room[idx, rk[idx]] -= 1
        taken[idx] += 1
    out[taken < n_new] = -1
    return out


class RackLayout:
    """What :func:`place_fresh` needs of the racks that does not change between calls: the nodes in rack-major
    order, each rack's span in it, and the virtual rack slots of a layout of ``width`` (ceil(width / R) per rack)."""

    def __init__(self, node_rack: np.ndarray, n_racks: int, width: int):
        self.node_rack, self.n_racks, self.width = node_rack, n_racks, width
        self.cap = rack_cap(width, n_racks)
        self.order = np.argsort(node_rack, kind="stable")          # rack-major node order
        rack_of_sorted = node_rack[self.order]
        self.rack_start = np.searchsorted(rack_of_sorted, np.arange(n_racks), side="left")
        self.rack_end = np.searchsorted(rack_of_sorted, np.arange(n_racks), side="right")
        self.spans = list(zip(self.rack_start.tolist(), self.rack_end.tolist(), strict=True))
        self.first_rack = self.rack_start == 0
        self.before_start = np.maximum(self.rack_start - 1, 0)
        self.vs_rack = np.repeat(np.arange(n_racks), self.cap)
        self.vs_j = np.tile(np.arange(self.cap), n_racks)

    def fits(self, node_rack: np.ndarray, n_racks: int, width: int) -> bool:
        return node_rack is self.node_rack and n_racks == self.n_racks and width == self.width


def place_fresh(rng: np.random.Generator, rows: int, width: int, weights: np.ndarray,
                node_rack: np.ndarray, n_racks: int, max_tries: int = 20,
                layout: RackLayout | None = None) -> np.ndarray:
    """Choose ``width`` distinct nodes for each of ``rows`` new layouts, in one vectorised pass.

    Returns int64 (rows, width), -1 rows where the rules cannot be met. ``layout``: the racks' fixed part, kept
    by the caller between calls (built here when None or for other racks).
    """
    if layout is None or not layout.fits(node_rack, n_racks, width):
        layout = RackLayout(node_rack, n_racks, width)
    cap, order, rack_end = layout.cap, layout.order, layout.rack_end
    w_order = weights[order]
    w_sorted = np.where(w_order > 0, w_order, 0.0)
    cum = np.cumsum(w_sorted)
    base = np.where(layout.first_rack, 0.0, cum[layout.before_start])
    rack_weight = np.array([w_sorted[s:e].sum() for s, e in layout.spans])
    eligible_in_rack = np.array([np.count_nonzero(w_sorted[s:e]) for s, e in layout.spans])
    room = np.minimum(cap, eligible_in_rack)
    if room.sum() < width:
        return np.full((rows, width), -1, dtype=np.int64)
    # Virtual rack slots: slot j of rack r exists when j < room[r]; each carries its rack's weight share.
    vs_rack = layout.vs_rack
    vs_rack = vs_rack[layout.vs_j < room[vs_rack]]
    with np.errstate(divide="ignore"):
        vs_logw = np.log(rack_weight[vs_rack] / room[vs_rack])
    out = np.empty((rows, width), dtype=np.int64)
    todo = np.arange(rows)
    for _ in range(max_tries):
        n = len(todo)
        keys = vs_logw[None, :] + rng.gumbel(size=(n, len(vs_rack)))
        pick = np.argpartition(-keys, width - 1, axis=1)[:, :width] if len(vs_rack) > width else \
            np.broadcast_to(np.arange(width), (n, width))
        racks = vs_rack[pick]
        u = rng.random((n, width))
        target = base[racks] + u * rack_weight[racks]
        pos = np.searchsorted(cum, target, side="right")
        pos = np.minimum(pos, rack_end[racks] - 1)
        nodes = order[pos]
        srt = np.sort(nodes, axis=1)
        dup = (srt[:, 1:] == srt[:, :-1]).any(axis=1) if width > 1 else np.zeros(n, dtype=bool)
        good = ~dup
        perm = np.argsort(rng.random((int(good.sum()), width)), axis=1)
        out[todo[good]] = np.take_along_axis(nodes[good], perm, axis=1)
        todo = todo[dup]
        if not len(todo):
            return out
    # Rows that kept drawing the same node twice in a rack: place them exactly.
    out[todo] = place_exact(rng, np.full((len(todo), 0), -1, dtype=np.int64), width, weights,
                            node_rack, n_racks, width)
    return out


def place_one(rng: np.random.Generator, existing, weights: np.ndarray, node_rack: np.ndarray,
              rack_nodes: list[np.ndarray], width: int, exclude=()) -> int:
    """One more node for a chunk whose other copies sit on ``existing`` (a repair); -1 if none fits.

    The same rules as :func:`place_exact` for a single new copy, at a fraction of the
    cost: exclude the chunk's nodes, full racks and ``exclude``, then draw by free space.
    """
    cap = rack_cap(width, len(rack_nodes))
    w = weights.copy()
    if exclude:
        w[list(exclude)] = 0.0
    held = [n for n in existing if n >= 0]
    if held:
        w[held] = 0.0
        per_rack: dict[int, int] = {}
        for n in held:
            r = int(node_rack[n])
            per_rack[r] = per_rack.get(r, 0) + 1
        for r, c in per_rack.items():
            if c >= cap:
                w[rack_nodes[r]] = 0.0
    cum = np.cumsum(w)
    total = cum[-1]
    if total <= 0.0:
        return -1
    return int(np.searchsorted(cum, rng.random() * total, side="right"))


class NodeSampler:
    """Repeated single-copy placements (repairs) against one set of weights.

    A draw takes one uniform variate and no rejection: the weight of the nodes the
    chunk may not use (holding a copy, in a full rack, or excluded) comes off the
    total, and the variate steps over their intervals of the cumulative weights, in
    node order. The distribution is exactly that of :func:`place_one` (by free space
    over the allowed nodes), and the cost grows with the number of nodes ruled out,
    not with how little weight is left: rejection sampling drew up to 32 times, then
    fell back to place_one, when most of the weight sat on busy or full nodes.
    """

    def __init__(self, weights: np.ndarray, node_rack: np.ndarray, rack_nodes: list[np.ndarray]):
        import bisect

        self.weights = weights
        self.w = weights.tolist()
        self.cum = np.cumsum(weights).tolist()
        self.total = self.cum[-1] if self.cum else 0.0
        self.node_rack = node_rack.tolist()
        self._node_rack_arr = node_rack
        self.rack_nodes = rack_nodes
        self.rack_members = [r.tolist() for r in rack_nodes]
        self.rack_weight = [sum(self.w[n] for n in members) for members in self.rack_members]
        self._bisect = bisect.bisect_right

    def draw(self, rng: np.random.Generator, held: list[int], width: int, exclude=frozenset()) -> int:
        """A node for one more copy of a chunk on ``held``, never one in ``exclude``; -1 if the rules
        allow none, -2 if they allow only nodes in ``exclude``."""
        if self.total <= 0.0:
            return -1
        cap = rack_cap(width, len(self.rack_nodes))
        node_rack, w = self.node_rack, self.w
        per_rack: dict[int, int] = {}
        for n in held:
            r = node_rack[n]
            per_rack[r] = per_rack.get(r, 0) + 1
        out = set(held)
        # Weights are whole byte counts well below 2**53, so these sums and differences are exact (and
        # do not depend on the order they are taken in).
        allowed = self.total
        for n in out:
            if per_rack[node_rack[n]] < cap:
                allowed -= w[n]
        for r, c in per_rack.items():
            if c >= cap:
                out.update(self.rack_members[r])
                allowed -= self.rack_weight[r]
        if allowed <= 0.0:
            return -1
        if exclude:
            busy = [n for n in exclude if n not in out and w[n] > 0.0]
            if busy:
                out.update(busy)
                allowed -= sum(w[n] for n in busy)
                if allowed <= 0.0:
                    return -2
        u = rng.random() * allowed
        cum = self.cum
        for n in sorted(out):
            wn = w[n]
            if wn > 0.0:
                if cum[n] - wn <= u:
                    u += wn            # step over the ruled-out node's interval
                else:
                    break
        n = self._bisect(cum, u)
        if n >= len(cum) or n in out:  # not reached with exact sums; kept as a guard
            n = place_one(rng, held, self.weights, self._node_rack_arr, self.rack_nodes, width, exclude)
        return n


REFRESH_PLACEMENTS = 64


class Placement:
    """The placement service of one run: free-space weights of the cluster's eligible nodes, and
    the entry points ingest, conversions and repairs use. Draws come from the ``placement`` stream."""

    def __init__(self, cluster, rng: np.random.Generator):
        self.cluster = cluster
        self.rng = rng
        self._samplers: dict = {}
        self._layouts: dict = {}      # width -> RackLayout, the racks' fixed part of place_fresh
        # With cluster.pools, mode code -> the nodes of its pool; None: every node may hold every mode.
        self.pool_nodes = None if cluster.n_pools == 1 else \
            {mode: cluster.node_pool == cluster.mode_pool[mode] for mode in (0, 1)}

    def weights(self, slot_bytes: int, mode: int | None = None) -> np.ndarray:
        """Free bytes of each eligible node (up, not declared dead, room for one more slot, in ``mode``'s pool);
        else 0."""
        cl = self.cluster
        free = (cl.capacity - cl.used).astype(np.float64)
        ok = cl.up & ~cl.dead & (free >= slot_bytes)
        if self.pool_nodes is not None:
            if mode is None:
                raise ValueError("mode: with cluster.pools a placement must name the mode it places")
            ok &= self.pool_nodes[mode]
        return np.where(ok, free, 0.0)

    def fresh(self, rows: int, width: int, slot_bytes: int, mode: int | None = None) -> np.ndarray:
        """``rows`` new layouts of ``width`` slots of ``slot_bytes`` for ``mode`` (in its pool); -1 rows where
        the rules cannot be met."""
        cl = self.cluster
        layout = self._layouts.get(width)
        if layout is None or not layout.fits(cl.node_rack, cl.n_racks, width):
            layout = self._layouts[width] = RackLayout(cl.node_rack, cl.n_racks, width)
        return place_fresh(self.rng, rows, width, self.weights(slot_bytes, mode), cl.node_rack, cl.n_racks,
                           layout=layout)

    def forget_samplers(self) -> None:
        """Drop the cached samplers: the next one is built from the free space now."""
        self._samplers.clear()

    def sampler(self, slot_bytes: int, mode: int | None = None) -> NodeSampler:
        """A sampler for one replacement slot of ``slot_bytes``, over current weights; rebuilt when
        nodes change state or every REFRESH_PLACEMENTS uses (free space drifts slowly; a node within
        that many slots of full is treated as full, so the cache never overfills a node; :meth:`repair_target`
        asks the free space now when that leaves the slot no node)."""
        cl = self.cluster
        key = (cl.version, slot_bytes)
        which = slot_bytes if self.pool_nodes is None else (slot_bytes, mode)
        cached = self._samplers.get(which)
        if cached is None or cached[0] != key or cached[1] <= 0:
            weights = self.weights(slot_bytes * REFRESH_PLACEMENTS, mode)
            cached = [key, REFRESH_PLACEMENTS, NodeSampler(weights, cl.node_rack, cl.rack_nodes)]
            self._samplers[which] = cached
        cached[1] -= 1
        return cached[2]

    def repair_target(self, slot_bytes: int, mode: int, held: list[int], width: int, exclude=frozenset()) -> int:
        """A repair target for one more slot of ``slot_bytes`` of a chunk on ``held``, with room for it now;
        -1 or -2 as :meth:`NodeSampler.draw`."""
        cl = self.cluster
        sampler = self.sampler(slot_bytes, mode)
        target = sampler.draw(self.rng, held, width, exclude)
        if target >= 0 and cl.capacity[target] - cl.used[target] < slot_bytes:
            # The cached weights predate other reservations (conversions, the other slot size):
            # draw again from the free space now, so a repair never overfills its target.
            self.forget_samplers()
            sampler = self.sampler(slot_bytes, mode)
            target = sampler.draw(self.rng, held, width, exclude)
        if target == -1:
            # The cache's margin leaves out nodes with room for the slot but not for REFRESH_PLACEMENTS of
            # them: every node once a slot is over 1/64 of a node (a large chunk_weight), and the job would
            # wait for a node to join, for ever. Draw once from the free space now, if it has such a node.
            # A slot goes on one disk, and the node's free bytes are spread over its disks (some promised to
            # repairs not yet written): room for a slot per disk leaves one disk room for it, as the margin did.
            exact = self.weights(slot_bytes * cl.disks.per_node, mode)
            if np.any((exact > 0) & (sampler.weights == 0)):
                target = NodeSampler(exact, cl.node_rack, cl.rack_nodes).draw(self.rng, held, width, exclude)
        return target
