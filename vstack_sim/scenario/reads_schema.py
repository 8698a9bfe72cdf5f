"""The read path's section of the scenario schema (``reads``): how a client picks the replica it reads.

Part of :class:`~vstack_sim.scenario.schema.Config`; kept in a module of its own because it describes the
client's side of a read, while :mod:`.schema` describes the workload and the policy. Each rule's real
system is named in docs/model.md ("Reads").
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field

from vstack_sim.scenario.sections import Bytes, BytesPerSecond, Seconds, Section
from vstack_sim.scenario.units import parse_duration

ReplicaChoice = Literal["primary", "random", "nearest", "least_loaded", "oracle"]
SourceChoice = Literal["primary", "random", "least_loaded", "oracle"]
_PERCENTILE_RE = re.compile(r"^p(\d+(?:\.\d+)?)$")


def parse_hedge_after(value):
    """``reads.hedge_after``: None (no hedging), a delay (``20ms``, ``0.05``) as seconds, or a latency percentile
    tracked online (``p95``, ``p99.9``) kept as its text."""
    if value is None:
        return None
    m = _PERCENTILE_RE.match(str(value).strip()) if isinstance(value, str) else None
    if m:
        q = float(m.group(1))
        if not 0.0 < q < 100.0:
            raise ValueError(f"a percentile must be between p0 and p100 (exclusive), got {value!r}")
        return f"p{m.group(1)}"
    try:
        return parse_duration(value)
    except ValueError:
        raise ValueError(f"not a delay or a percentile: {value!r} (use e.g. 20ms, 0.05 or p95)") from None


HedgeAfter = Annotated[float | str | None, BeforeValidator(parse_hedge_after)]


class ReadsConfig(Section):
    """The client's side of a read."""

    replica_choice: ReplicaChoice = "random"
    ("Which live replica a replicated read goes to. random (default): uniform among live replicas, as an HDFS "
     "client reads when every replica is at the same network distance (the block locations are shuffled); primary: "
     "the first live replica in placement order, as Ceph reads; nearest: a replica in the reader's rack, else "
     "random (reader of view v in rack v mod cluster.racks); least_loaded: the fewest of the reader's own requests "
     "in flight per node, ties random; oracle: the replica whose disk would start it soonest (perfect knowledge of "
     "every queue: an idealised upper bound, the rule before issue 21).")
    failure_timeout: Seconds = Field(5.0, ge=0)
    ("How long a request to a node that is down waits before the reader fails it over (its timeout, from "
     "sending it); it fails over sooner if the reader learns of the failure first (failure_detection). Default "
     "5 s: Cassandra's read_request_timeout (5,000 ms). 0: a read fails over at once, as failure_detection 0 does.")
    failure_detection: Seconds = Field(20.0, ge=0)
    ("How long after a node fails its readers learn of it (a heartbeat grace and a new cluster map); until then "
     "they keep sending it reads, each of which times out. Capped by failures.detection_timeout. Default 20 s: "
     "Ceph's osd_heartbeat_grace (an OSD silent for 20 s is reported down and clients get a new OSD map).")
    hedge_after: HedgeAfter = None
    ("Hedged reads of replicated chunks: when a read's response has not come back this long after it was sent, a "
     "second request goes to another live replica and the first response wins; the loser is cancelled if it has "
     "not started at its disk. A delay (e.g. 20ms), or a percentile of the replicated reads' latency tracked online "
     "(e.g. p95: over the last 4,096 replicated reads, recomputed every 1,024; no hedge before the first 1,024), as "
     "Cassandra's speculative_retry (99p) and HDFS's dfs.client.hedged.read.threshold.millis. Default none: no "
     "hedging (HDFS ships it off).")
    hedge_withdraw: Literal["exact", "keep"] = "exact"
    ("How a hedged pair's loser that has not started at its disk leaves it. exact (default): it is withdrawn "
     "when the winner answers, and the requests queued behind it move up (the disk holds their times until then: "
     "docs/model.md); needs no CPU stage (cluster.cpu_cores_per_node 0). keep: a losing primary still "
     "waiting keeps its disk and NIC time (the rule before the exact queue; counted as "
     "hedges.primary_not_withdrawn, and reports say so).")


class CacheConfig(Section):
    """A cache in front of the store (a CDN or front-end cache): whole chunks, LRU."""

    capacity: Bytes = Field(0, ge=0)
    ("Bytes the cache holds (0 = no cache, the engine's default; else at least catalog.chunk_size); whole chunks, "
     "least recently used evicted.")
    hit_latency: Seconds = Field(0.0005, ge=0)
    """Fixed time of a hit (a request to a cache server on the same network as the reader)."""
    bandwidth: BytesPerSecond = Field(1.25e9, gt=0)
    """The cache's link to the reader (default 10 Gbit/s): a hit takes hit_latency + chunk bytes / bandwidth."""


def hedge_percentile(config) -> float | None:
    """The percentile of ``reads.hedge_after`` (95.0 for ``p95``), or None when it is a fixed delay or unset."""
    h = config.reads.hedge_after
    return float(h[1:]) if isinstance(h, str) else None


def effective_failure_detection(config) -> float:
    """Seconds after a node's failure when its readers learn of it: ``reads.failure_detection``, no later than
    ``failures.detection_timeout`` (the failure is declared then). The one rule the read path and the
    results' caveats use (a scenario may set failure_detection above a short detection_timeout)."""
    return min(config.reads.failure_detection, config.failures.detection_timeout)
