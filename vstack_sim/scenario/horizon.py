"""How much simulated time a run is expected to cover, for the up-front estimate (:mod:`.limits`).

A run covers ``run.duration``, unless ``run.stop_at_first_loss`` ends it at its first loss. The suite's own
MTTDL runs have durations of 1e15 s and end after hours of simulated time, so for such a run the estimate
uses :func:`horizon` = min(duration, :data:`FIRST_LOSS_MULTIPLE` x the expected time to the first loss).

:func:`expected_first_loss` is exact when the scenario is the birth-death chain of one stripe
(:func:`vstack_sim.analysis.durability.stripe_mttdl`). Otherwise it applies the same chain to the catalog:
each slot is lost at the rate of permanent data loss of its node (permanent node failures, disk failures,
permanent rack outages: :func:`vstack_sim.analysis.durability.slot_hazard`) and repaired in about the
detection timeout plus the time to rebuild one node's data; the catalog's first loss comes no later than
C independent stripes' (the chain's MTTDL / C) and no sooner than f + 1 of its nodes down at once (the
chain over the nodes). It is a rough figure, like the rest of the estimate: it tells a run that ends in
days from one that never ends.
"""

from __future__ import annotations

import math

import numpy as np

from vstack_sim.analysis.durability import mttdl, slot_hazard, stripe_mttdl
from vstack_sim.scenario.schema import Config
from vstack_sim.system.codec import fragment_size

FIRST_LOSS_MULTIPLE = 10.0
"""A stop_at_first_loss run is estimated to last at most this many times its expected time to the first loss
(the time to a first loss is about exponential: a run lasts longer than 10 x its mean once in 22,000)."""


def _node_rebuild_time(config: Config, width: int, sources: int, slot_bytes: int, chunks: int) -> float:
    """About how long the cluster takes to rebuild the slots of one lost node (seconds)."""
    cl, rep = config.cluster, config.repair
    helpers = max(1, cl.nodes - 1)
    jobs = chunks * width / cl.nodes
    if rep.time_model == "exponential":
        if rep.streams_per_node == 0:
            return rep.mttr
        return rep.mttr * max(1.0, jobs / (helpers * rep.streams_per_node))
    node_bytes = jobs * slot_bytes * config.catalog.chunk_weight
    # With pools, the slowest pool's devices (an estimate that errs towards a longer rebuild).
    disk = min(keys["disk_bandwidth"] for *_, keys in cl.pool_list())
    net = min(keys["network_bandwidth"] for *_, keys in cl.pool_list())
    incoming = min(rep.bandwidth if rep.bandwidth > 0 else math.inf, net, disk)
    return max(node_bytes / (helpers * incoming), sources * node_bytes / (helpers * disk))


def _layouts(config: Config) -> list[tuple[int, int, int, int]]:
    """(width, tolerated, sources read by a rebuild, slot bytes) of each mode the scenario can assign."""
    cat, red, modes = config.catalog, config.redundancy, config.assignable_modes()
    layouts = []
    if "replication" in modes:
        layouts.append((red.replication_factor, red.replication_factor - 1, 1, cat.chunk_size))
    if "erasure_coding" in modes:
        layouts.append((red.data_shards + red.parity_shards, red.parity_shards, red.data_shards,
                        fragment_size(cat.chunk_size, red.data_shards)))
    return layouts


def rebuild_window(config: Config) -> float:
    """About how long (seconds) a failed node's slots stay missing: the detection timeout plus the rebuild of its
    data, the longest over the scenario's modes. Rough, as the rest of this module; importance sampling sizes its
    hazard factors with it (:func:`vstack_sim.model.hazard_clock.hazard_factors`)."""
    chunks = max(1, config.expected_chunks())
    rebuild = max((_node_rebuild_time(config, width, sources, slot_bytes, chunks)
                   for width, _, sources, slot_bytes in _layouts(config)), default=0.0)
    return config.failures.detection_timeout + rebuild


def expected_first_loss(config: Config) -> float:
    """Expected simulated seconds to the first lost chunk (``math.inf`` when no random failure destroys data)."""
    exact = stripe_mttdl(config)
    if exact is not None:
        return exact
    lam = slot_hazard(config)
    if lam <= 0:
        return math.inf
    nodes, chunks = config.cluster.nodes, max(1, config.expected_chunks())
    first = math.inf
    with np.errstate(all="ignore"):
        for width, tolerated, sources, slot_bytes in _layouts(config):
            if tolerated >= width or width > nodes:
                continue
            repair = config.failures.detection_timeout + _node_rebuild_time(config, width, sources, slot_bytes, chunks)
            mu = 1.0 / repair if repair > 0 else 1e12 * lam
            stripes = mttdl(width, tolerated, lam, mu) / chunks
            together = mttdl(nodes, tolerated, lam, mu) if nodes > tolerated else 0.0
            first = min(first, max(stripes, together))
    return first if math.isfinite(first) and first > 0 else math.inf


def horizon(config: Config) -> float:
    """Simulated seconds the estimate covers: the duration, or with stop_at_first_loss about the first loss."""
    duration = config.run.duration
    if not config.run.stop_at_first_loss:
        return duration
    return min(duration, FIRST_LOSS_MULTIPLE * expected_first_loss(config))
