"""The read path's section of the scenario schema (``reads``): how a client picks the replica it reads.

Part of :class:`~vstack_sim.scenario.schema.Config`; kept in a module of its own because it describes the
client's side of a read, while :mod:`.schema` describes the workload and the policy. Each rule's real
system is named in docs/model.md ("Reads").
"""

from __future__ import annotations

from typing import Literal

from vstack_sim.scenario.sections import Section

ReplicaChoice = Literal["primary", "random", "nearest", "least_loaded", "oracle"]
SourceChoice = Literal["primary", "random", "least_loaded", "oracle"]


class ReadsConfig(Section):
    """The client's side of a read."""

    replica_choice: ReplicaChoice = "oracle"
    ("Which live replica a replicated read goes to. random: uniform among live replicas, as an HDFS "
     "client reads when every replica is at the same network distance (the block locations are shuffled); primary: "
     "the first live replica in placement order, as Ceph reads; nearest: a replica in the reader's rack, else "
     "random (reader of view v in rack v mod cluster.racks); least_loaded: the fewest of the reader's own requests "
     "in flight per node, ties random; oracle: the replica whose disk would start it soonest (perfect knowledge of "
     "every queue: an idealised upper bound, the rule before issue 21).")
