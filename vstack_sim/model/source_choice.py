"""Which live copies a repair job or a conversion reads (``repair.source_choice``).

The candidates are the chunk's live slots on up nodes (for a repair, on nodes with a free source stream).
The order returned is the reading preference; :func:`~vstack_sim.model.kofn.choose` keeps the first
1 (a replica) or k (fragments) of it.

* ``random``: a uniform order, from the ``sources`` stream, as the HDFS NameNode picks a replication
  source at random among the DataNodes under their replication-stream limit
  (``BlockManager.chooseSourceDatanodes``).
* ``primary``: placement order (a coded chunk: the codec's systematic order, data first), as a Ceph primary
  OSD recovers from its own copy.
* ``least_loaded``: the fewest repair reads the node serves now (the repair queue's own count,
  ``RepairQueue.serving``), ties in random order: what a scheduler knows without asking the disks.
* ``oracle``: the copies whose disks would start soonest (every queue's future known): an idealised bound,
  the rule before issue 21.
"""

from __future__ import annotations

from vstack_sim.model.kofn import choose


def source_order(world, chunk: int, usable, t: float) -> list[int] | None:
    """The slots of ``usable`` ((slot, node) pairs) in reading order, or None for placement order."""
    choice = world.cfg.repair.source_choice
    if choice == "oracle":
        cl = world.cluster
        return [j for _, j in sorted((cl.slot_wait(chunk, j, t), j) for j, _ in usable)]
    if choice == "primary":
        return None
    keys = world.rng.sources.random(len(usable)).tolist()
    if choice == "least_loaded":
        serving = world.repair.queue.serving
        ranked = sorted((int(serving[n]), key, j) for (j, n), key in zip(usable, keys, strict=True))
    else:
        ranked = sorted((key, 0, j) for (j, _), key in zip(usable, keys, strict=True))
    return [j for *_, j in ranked]


def sources_now(world, c: int, s: int, mode: int) -> list[tuple[int, int]]:
    """The exponential repair time model's sources, read as the job ends: live slots on up nodes, no caps, in
    ``repair.source_choice``'s order (only which nodes are recorded, and which fragments rebuild the payload,
    depend on it: the job's time is drawn, not read from the disks)."""
    st, cl = world.state, world.cluster
    width = int(st.mode_width[mode])
    nodes = st.slot_node[c, :width].tolist()
    usable = [(j, nodes[j]) for j in range(width) if j != s and st.slot_has_data[c, j] and cl.up[nodes[j]]]
    preferred = source_order(world, c, usable, world.env.now)
    return [(j, nodes[j]) for j in choose(mode, [j for j, _ in usable], int(st.mode_need[mode]),
                                          preferred=preferred)]
