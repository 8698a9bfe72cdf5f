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
