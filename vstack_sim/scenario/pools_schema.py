"""Storage pools (``cluster.pools``): named groups of nodes, each with its own device profile, capacity and
storage price, and the mode each pool holds (``cluster.mode_pools``).

Haystack keeps hot BLOBs replicated on one set of machines and f4 (OSDI'14) keeps warm ones erasure-coded on
another; Ceph expresses the same as CRUSH device classes, one pool per class (``ceph osd crush rule
create-replicated ... ssd`` and an erasure-coded pool on ``hdd``). A pool here is that: a contiguous range of
node ids (the first pool's nodes come first), with the device keys of :class:`ClusterConfig` of its own.
Without pools every node forms one pool, exactly as before pools existed.

One limit of the model: every pool has the same number of disks per node (disk ids are node x disks + i), so a
pool's ``disks_per_node`` must equal the others'.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from vstack_sim.scenario.devices import PROFILE_KEYS, PROFILES
from vstack_sim.scenario.sections import Bytes, BytesPerSecond, Seconds, Section


class PoolConfig(Section):
    """One pool: its nodes, their device and capacity, and what a GB stored on it costs."""

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    """The pool's name (letters, digits, '_', '-', '.'), as cluster.mode_pools names it."""
    nodes: int = Field(ge=1)
    """Nodes in the pool; pools take consecutive node ids in the order listed."""
    node_capacity: Bytes | None = Field(None, gt=0)
    """Bytes each node of the pool holds (default: cluster.node_capacity)."""
    storage_per_gb_month: float | None = Field(None, ge=0, allow_inf_nan=False)
    ("Dollars per GB-month stored on this pool: the price of every mode the pool holds (default: the prices "
     "section's price for that mode). E.g. 0.08 for gp3 SSD block storage, 0.045 for st1 HDD (AWS EBS list prices, "
     "us-east-1, 2024).")
    device: Literal["hdd", "ssd", "nvme", "custom"] = "hdd"
    """Device profile of the pool's disks, as cluster.device; the keys below default from it."""
    disks_per_node: int = Field(1, ge=1)
    """Disks in each node (default from device); must be the same in every pool."""
    io_slots: int = Field(4, ge=1)
    """Parallel FIFO servers of each disk (default from device), as cluster.io_slots."""
    disk_bandwidth: BytesPerSecond = Field(50e6, gt=0)
    """Transfer rate of one I/O slot (default from device), as cluster.disk_bandwidth."""
    request_latency: Seconds = Field(0.004, ge=0)
    """Mean positioning time of a disk request (default from device), as cluster.request_latency."""
    network_bandwidth: BytesPerSecond = Field(1.25e9, gt=0)
    """Each node's NIC (default from device), as cluster.network_bandwidth."""
    shared_disk_bandwidth: bool = False
    """Transfers of one disk take turns on one data path (default from device), as cluster.shared_disk_bandwidth."""
    positioning_time: Literal["deterministic", "lognormal", "gamma"] = "deterministic"
    """Distribution of the positioning time (default from device), as cluster.positioning_time."""
    positioning_cv: float = Field(0.0, ge=0)
    """Coefficient of variation of the positioning time (default from device), as cluster.positioning_cv."""

    @model_validator(mode="before")
    @classmethod
    def _device_profile(cls, data):
        return fill_pool_profile(data) if isinstance(data, dict) else data


DEVICE_KEYS = tuple(key for key in PROFILE_KEYS if not key.startswith("cpu_"))
"""The device keys a pool carries of its own: the profile's, except the CPU's (a daemon's cost, cluster-wide)."""


def fill_pool_profile(data: dict) -> dict:
    """A pool with its device profile's value for every device key it does not set (as the cluster section's)."""
    profile = PROFILES.get(data.get("device", "hdd")) if isinstance(data.get("device", "hdd"), str) else None
    if profile is None:
        return data          # custom (the field defaults), or a bad name the Literal field reports
    return {**{key: getattr(profile, key) for key in DEVICE_KEYS}, **data}


def device_keys(source) -> dict:
    """The device keys of a pool or of the cluster section (which has the same keys), as a dict."""
    return {key: getattr(source, key) for key in DEVICE_KEYS}


def fill_pools(data: dict) -> dict:
    """The cluster section before validation: with pools, ``nodes`` and ``disks_per_node`` default to the pools'
    (their sum, their common value), so a scenario need not say them twice."""
    pools = data.get("pools")
    if not pools or not isinstance(pools, (list, tuple)) or not all(isinstance(p, dict) for p in pools):
        return data
    out = dict(data)
    try:
        if "nodes" not in out:
            out["nodes"] = sum(int(p["nodes"]) for p in pools)
        if "disks_per_node" not in out:
            out["disks_per_node"] = fill_pool_profile(pools[0]).get("disks_per_node", 1)
    except (KeyError, TypeError, ValueError):
        pass                      # the pool's own validation names the bad key
    return out


def check_pools(cluster) -> None:
    """Pools and their mode mapping agree with the cluster section; a ValueError names the key that does not."""
    pools, mapping = cluster.pools, cluster.mode_pools
    if not pools:
        if mapping:
            raise ValueError("cluster.mode_pools: names pools, but cluster.pools defines none")
        return
    names = [p.name for p in pools]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise ValueError(f"cluster.pools[{i}].name: {name!r} names two pools")
    total = sum(p.nodes for p in pools)
    if cluster.nodes != total:
        raise ValueError(f"cluster.nodes: {cluster.nodes}, but cluster.pools hold {total} nodes (leave cluster.nodes "
                         f"out to take the pools' sum)")
    for i, pool in enumerate(pools):
        if pool.disks_per_node != cluster.disks_per_node:
            raise ValueError(f"cluster.pools[{i}].disks_per_node: {pool.disks_per_node}, but every pool must have "
                             f"cluster.disks_per_node = {cluster.disks_per_node} disks per node (a limit of the model)")
    for mode in ("replication", "erasure_coding"):
        if mode not in mapping:
            raise ValueError(f"cluster.mode_pools.{mode}: with cluster.pools, every mode must name its pool "
                             f"(one of {', '.join(names)})")
        if mapping[mode] not in names:
            raise ValueError(f"cluster.mode_pools.{mode}: {mapping[mode]!r} is not a pool (pools: {', '.join(names)})")
