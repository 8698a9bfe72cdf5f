"""The cluster's sections of the scenario schema: nodes, racks and devices (``cluster``), failures of nodes,
racks and disks (``failures``) and the repair that follows (``repair``).

Part of :class:`~vstack_sim.scenario.schema.Config`; kept in a module of their own because together they
describe the machine and its faults, while :mod:`.schema` describes the workload and the policy.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field, model_validator

from vstack_sim.scenario.devices import fill_profile
from vstack_sim.scenario.pools_schema import PoolConfig, check_pools, device_keys, fill_pools
from vstack_sim.scenario.reads_schema import SourceChoice
from vstack_sim.scenario.sections import (
    Bytes,
    BytesPerSecond,
    ModeName,
    ScheduledFailure,
    Seconds,
    Section,
)


class ClusterConfig(Section):
    """Storage nodes, racks, disks and links."""

    nodes: int = Field(20, ge=1)
    """Number of storage nodes N."""
    racks: int = Field(4, ge=1)
    """Number of racks (failure domains) R; node i is in rack i mod R."""
    node_capacity: Bytes = Field(4 * 10**12, gt=0)
    """Bytes each node can hold."""
    io_slots: int = Field(4, ge=1)
    """Parallel FIFO servers of each disk (default from cluster.device)."""
    disk_bandwidth: BytesPerSecond = Field(50e6, gt=0)
    """Transfer rate of one I/O slot (bytes/s; default from cluster.device)."""
    request_latency: Seconds = Field(0.004, ge=0)
    ("Mean positioning time of a disk request (seek + rotation, or flash latency); service = positioning + bytes / "
     "disk_bandwidth (default from cluster.device).")
    network_bandwidth: BytesPerSecond = Field(1.25e9, gt=0)
    ("Each node's NIC (default from cluster.device: 2 x 10 GbE for hdd, 2 x 25 GbE ssd, 2 x 100 GbE nvme, 10 GbE "
     "custom): a FIFO egress queue for the bytes it sends (reads, repair and conversion "
     "sources); also caps the rate of one repair or conversion transfer into a node.")
    client_bandwidth: BytesPerSecond = Field(1.25e9, gt=0)
    ("The reader's link (default 10 Gbit/s: a front-end or CDN fill node, as Netflix's Open Connect appliances "
     "fill over 10 to 100 GbE); all bytes of one chunk read share it.")
    network_latency: Seconds = Field(0.0005, ge=0)
    """Fixed network latency added to every chunk read."""
    # Devices (vstack_sim.model.devices): a profile fills the keys below and io_slots,
    # disk_bandwidth and request_latency above, unless the scenario sets them itself.
    device: Literal["hdd", "ssd", "nvme", "custom"] = "hdd"
    ("Device profile: hdd, ssd or nvme (values and their sources in vstack_sim.model.devices), or custom (one disk per "
     "node, four 50 MB/s slots, 4 ms fixed positioning: the model before profiles). Keys set explicitly override the "
     "profile.")
    disks_per_node: int = Field(1, ge=1)
    ("Disks in each node, each its own FIFO queue of io_slots servers; a node's capacity (node_capacity) is split "
     "evenly over them (default from cluster.device).")
    shared_disk_bandwidth: bool = False
    ("Transfers on one disk take turns at disk_bandwidth while positioning overlaps over the io_slots (flash behind "
     "one link); false: every slot transfers at disk_bandwidth in parallel (default from cluster.device).")
    positioning_time: Literal["deterministic", "lognormal", "gamma"] = "deterministic"
    ("Distribution of the per-request positioning time, with mean request_latency and coefficient of variation "
     "positioning_cv; the transfer part stays bytes / disk_bandwidth (default from cluster.device).")
    positioning_cv: float = Field(0.0, ge=0)
    ("Coefficient of variation (sd / mean) of the positioning time; 0 with any distribution is deterministic (default "
     "from cluster.device).")
    cpu_cores_per_node: int = Field(0, ge=0, le=4096)
    ("Cores of each node's storage daemon: every disk operation of every class (client read, repair and conversion "
     "reads and writes) first takes cpu_per_op + bytes x cpu_per_byte on one of them (FIFO), then queues at its disk. "
     "0 (default): no CPU stage, the model before issue 22.")
    cpu_per_op: Seconds = Field(0.0, ge=0)
    """CPU time of one disk operation on one core (default from cluster.device: 0.5 ms, Ceph's hardware guidance)."""
    cpu_per_byte: float = Field(0.0, ge=0)
    """CPU seconds per byte of a disk operation (default from cluster.device: 1 / 350 MB/s, Ceph's guidance)."""
    pools: tuple[PoolConfig, ...] = ()
    ("Named pools of nodes, each with its own device, capacity and storage price (scenario/pools_schema.py), e.g. "
     "an ssd pool for replicas and an hdd pool for fragments, as Haystack and f4 split hot and warm BLOBs. Empty "
     "(default): every node is one pool with the keys above. With pools, nodes and disks_per_node default to the "
     "pools' and the device keys above are not used.")
    mode_pools: dict[ModeName, str] = Field(default_factory=dict)
    ("With pools: the pool each mode's slots live on, e.g. {replication: ssd, erasure_coding: hdd}. Placement, "
     "repair, uploads and conversions stay in the mode's pool; a conversion moves a chunk between pools.")

    @model_validator(mode="before")
    @classmethod
    def _device_profile(cls, data):
        return fill_profile(fill_pools(data)) if isinstance(data, dict) else data

    @model_validator(mode="after")
    def _pools_agree(self):
        check_pools(self)
        return self

    def pool_list(self) -> list[tuple[str, int, int, dict]]:
        """The pools as ``(name, first node, end node, device keys)``; without pools, one pool ``all`` of every
        node with the cluster's own device keys."""
        if not self.pools:
            return [("all", 0, self.nodes, {**device_keys(self), "node_capacity": self.node_capacity})]
        out, first = [], 0
        for pool in self.pools:
            keys = {**device_keys(pool), "node_capacity": pool.node_capacity or self.node_capacity}
            out.append((pool.name, first, first + pool.nodes, keys))
            first += pool.nodes
        return out

    def pool_of_mode(self, mode: str) -> int:
        """The index in :meth:`pool_list` of the pool that holds ``mode``'s slots (0 without pools)."""
        if not self.pools:
            return 0
        return [p.name for p in self.pools].index(self.mode_pools[mode])

    def pool_prices(self) -> dict[str, float]:
        """Mode -> dollars per GB-month of the pool that holds it, for the pools that name a price."""
        by_name = {p.name: p.storage_per_gb_month for p in self.pools if p.storage_per_gb_month is not None}
        return {mode: by_name[name] for mode, name in self.mode_pools.items() if name in by_name}

    def mode_nodes(self, mode: str) -> int:
        """How many nodes may hold ``mode``'s slots."""
        _, first, end, _ = self.pool_list()[self.pool_of_mode(mode)]
        return end - first

    def mode_capacity(self, mode: str) -> int:
        """The bytes the pool of ``mode`` holds."""
        _, first, end, keys = self.pool_list()[self.pool_of_mode(mode)]
        return (end - first) * int(keys["node_capacity"])

    def total_capacity(self) -> int:
        """The bytes every node holds together."""
        return sum((end - first) * int(keys["node_capacity"]) for _, first, end, keys in self.pool_list())

    @model_validator(mode="after")
    def _disks_hold_data(self):
        if self.node_capacity < self.disks_per_node:
            # Both keys are named, so the error points at the --set that made the setup impossible.
            raise ValueError(f"cluster.disks_per_node: {self.disks_per_node} disks cannot share "
                             f"cluster.node_capacity of {self.node_capacity} bytes")
        return self


class FailuresConfig(Section):
    """Node and rack failures."""

    node_mttf: Seconds = Field(30 * 86400.0, ge=0)
    """Mean time to failure of each node (0 = no random node failures)."""
    ttf_distribution: Literal["exponential", "weibull"] = "exponential"
    """Distribution of time to failure; Weibull's scale is set so that its mean is node_mttf."""
    weibull_shape: float = Field(1.0, gt=0)
    """Weibull shape (below 1: infant mortality, above 1: wear-out)."""
    permanent_fraction: float = Field(0.2, ge=0, le=1)
    """Fraction of node failures that destroy the node's data."""
    transient_downtime: Seconds = Field(360.0, ge=0)
    ("Mean downtime of a transient failure (exponential); most come back before detection, as in Ford et al. "
     "(OSDI'10).")
    replacement_delay: Seconds = Field(4 * 3600.0, ge=0)
    """Time from a permanent failure until an empty replacement node joins."""
    rack_mttf: Seconds = Field(0.0, ge=0)
    """Mean time between outages of each rack (0 = none)."""
    rack_downtime: Seconds = Field(3600.0, ge=0)
    """Mean downtime of a rack outage (exponential)."""
    rack_permanent: bool = False
    """Rack outages destroy data (default: transient, nodes come back with their data)."""
    detection_timeout: Seconds = Field(900.0, ge=0)
    """Time before a down node is declared dead and repaired; a node back sooner is a transient failure."""
    scheduled: tuple[ScheduledFailure, ...] = ()
    """Failures at fixed times (at, node or rack, kind, duration)."""
    trace: str | None = None
    ("CSV failure log to replay (columns time, node or rack, disk, kind, duration), in addition to scheduled; a "
     "relative path is relative to the scenario file.")
    start_new: bool = False
    ("Every node starts brand new (age 0); default: Weibull nodes start at an equilibrium age, so the first failures "
     "come at the stationary rate (exponential lifetimes are memoryless, so nothing changes for them).")
    rack_outage_repair: Literal["rebuild", "wait"] = "rebuild"
    ("When every node of a rack is down: rebuild (declare each node after detection_timeout, as for any node) or wait "
     "(no re-replication while the whole rack is down, like Ceph's mon_osd_down_out_subtree_limit, until "
     "rack_wait_timeout).")
    rack_wait_timeout: Seconds = Field(86400.0, ge=0)
    ("Under rack_outage_repair: wait, how long after the whole rack went down its nodes are declared dead and rebuilt "
     "anyway.")
    disk_mttf: Seconds = Field(0.0, ge=0)
    ("Mean time to failure of each disk (0 = disks fail only with their node). A failed disk loses its slots, its node "
     "stays up; SimEDC's Weibull(1.12, 87,600 h) has a mean of 84,038 h.")
    disk_ttf_distribution: Literal["exponential", "weibull"] = "exponential"
    """Distribution of a disk's time to failure; Weibull's scale is set so that its mean is disk_mttf."""
    disk_weibull_shape: float = Field(1.12, gt=0)
    """Weibull shape of disk lifetimes (1.12: SimEDC's, from field data)."""
    disk_replacement_delay: Seconds = Field(86400.0, ge=0)
    """Time from a disk failure until an empty disk takes its place in the node."""

    @model_validator(mode="after")
    def _weibull_mean_exists(self):
        # The scale is mttf / Gamma(1 + 1/shape): a tiny shape overflows Gamma (shape < ~0.0058).
        for key in ("weibull_shape", "disk_weibull_shape"):
            shape = getattr(self, key)
            try:
                math.gamma(1.0 + 1.0 / shape)
            except (OverflowError, ZeroDivisionError):
                raise ValueError(f"failures.{key}: {shape!r} is too small: the Weibull mean "
                                 f"(Gamma(1 + 1/shape)) overflows; use a shape of at least 0.01") from None
        return self


class RepairConfig(Section):
    """How lost slots are rebuilt."""

    streams_per_node: int = Field(2, ge=0)
    ("Repair jobs a node may receive at once, like Ceph's osd_max_backfills (0 = unlimited: fully parallel repair, no "
     "cap in either direction).")
    source_streams_per_node: int | None = Field(None, ge=0)
    """Repair reads a node may serve at once (an EC repair reads k sources); unset = streams_per_node, 0 = unlimited."""
    bandwidth: BytesPerSecond = Field(100e6, ge=0)
    """Cap on each node's incoming repair traffic, shared by its streams (0 = no cap)."""
    time_model: Literal["io", "exponential"] = "io"
    ("io: a job's time comes from disk queues and transfers; exponential: Exp(mttr) per job (for validation against "
     "Markov models).")
    mttr: Seconds = Field(3600.0, gt=0)
    """Mean repair time of one job when time_model is exponential."""
    source_choice: SourceChoice = "random"
    ("Which live copies a repair or a conversion reads (among nodes with a free source stream). random (default): "
     "uniform, as the HDFS NameNode picks a replication source among the eligible DataNodes "
     "(BlockManager.chooseSourceDatanodes); primary: placement order (a coded chunk: data fragments first), as a "
     "Ceph primary recovers from its own copy; least_loaded: the fewest repair reads the node already serves, ties "
     "random (the scheduler's own count); oracle: the copies whose disks would start soonest (perfect knowledge of "
     "every queue: an idealised bound, the rule before issue 21).")
    budget: float = Field(1.0, gt=0, le=1)
    ("Share of each disk's time repairs may take over io.budget_window while the disk has no free server (client "
     "reads waiting); a disk with a free server takes them regardless. 1 = no budget.")
    io_model: Literal["pipelined", "serial"] = "pipelined"
    ("pipelined: a job's reads, transfer (and decode) and write overlap as the data streams (as HDFS and Ceph recovery "
     "do), so it takes about as long as its slowest stage; serial: read everything, then transfer, then write.")
    restart: Literal["restart", "resume", "complete"] = "restart"
    ("What a running rebuild does when one of its sources or its target fails (time_model io). restart (default): it "
     "goes back to the queue and starts over, new sources and new target, as HDFS schedules a block whose copy did not "
     "complete again from a source chosen afresh (PendingReconstructionBlocks); resume: a source's failure keeps the "
     "rounds (catalog.chunk_weight W > 1) whose data has reached the target, and the job goes on from the next round "
     "on the same target, from other sources, as a Ceph backfill resumes from its target's last_backfill (at W = 1 a "
     "job is one round, so it restarts; a target's failure loses what the target held, so the job starts over); "
     "complete: neither a source's failure nor its target going down stops the job, which ends when it would have "
     "(SimEDC's rule, for comparisons). complete is idealised: the job goes on reading data that no longer exists "
     "(the report flags the run); only a target whose data is destroyed sends the job back.")
    exponential_per: Literal["job", "failure"] = "job"
    ("What one Exp(mttr) draw covers when time_model is exponential. job (default): each repair job draws its own "
     "time, so a failure's recovery is the longest of its jobs' draws; failure: one draw per node or disk failure, "
     "made when its first job starts, and every job of that failure ends then (one that starts later ends as it "
     "starts; one that restarts draws its own), the Markov model's and SimEDC's reading: one repair time per failed "
     "component.")
