"""Up-front resource checks: refuse, before anything is allocated, a run that cannot fit or cannot end.

:func:`estimate` gives a scenario's expected peak memory (bytes) and number of
simulation events, from the sizes of the model's arrays and tables and the
rates of its processes. :func:`check` refuses a setup whose estimate is above
:data:`MAX_EVENTS` events or half of this machine's memory, unless the user
says ``--allow-huge``. It works from the config alone: the checks that need the
catalog as drawn (capacity, the payload budget) are the world's own, made once
when a run builds its world, and by :mod:`vstack_sim.model.preflight` for
``vstack-sim validate``, so validate accepts exactly what run accepts. Some limits hold whatever the
flag says, because the model's arrays could not represent the setup
(:data:`HARD_LIMITS`) and numbers would silently wrap.

The estimates are deliberately rough (a factor of two either way); they exist to
turn "the machine swaps for an hour" or "the run never ends" into one line.
docs/limits.md states the limits for users.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

from vstack_sim.scenario.horizon import horizon as simulated_span
from vstack_sim.scenario.schema import Config
from vstack_sim.system.codec import fragment_size

MAX_EVENTS = 10**9
"""Most simulation events a run may be expected to take without --allow-huge (about an hour of wall time)."""

MAX_MEMORY_FRACTION = 0.5
"""Largest share of the machine's physical memory a run's estimated peak may take without --allow-huge."""

INT16_MAX = 2**15 - 1
INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1

HARD_LIMITS = {
    "slots per chunk (replicas or data + parity fragments)": INT16_MAX,  # per-chunk counters are int16
    "cluster.nodes": INT32_MAX,                                           # slot -> node ids are int32
    "disks (cluster.nodes x cluster.disks_per_node)": INT32_MAX,          # slot -> disk ids are int32
    "chunks": INT32_MAX,                                                  # chunk ids are int32
    "bytes": 2**62,                                                       # byte counters are int64
}

# Bytes per element, from the model's arrays and tables (vstack_sim/model): per chunk, per slot of a
# chunk, per video, per read and view (records plus their DataFrame at the end), per timeline sample.
_PER_CHUNK = 8 + 24 + 16          # state counters, unavailability clock, catalog ids (+ temporaries)
_PER_SLOT = 6 + 8                 # slot_node int32, slot_live, job; placement temporaries
_PER_VIDEO = 96                   # catalog, video_stats, migration flags, the videos table
_PER_READ = 160                   # 59 B of record, its DataFrame and the summary's arrays
_PER_VIEW = 120
_PER_SAMPLE = 1200                # one timeline row (a dict of ~20 numbers)
_PER_IO_SLOT = 8                  # a list entry of a disk's queue
_PER_DISK = 120                   # a disk's queue list, its capacity, use and failure counters
_PER_REPAIR = 320                 # a repairs-table row (10 numbers, the source nodes as text: ~150 B), its
                                  # DataFrame and the summary's arrays at the end (issue 19: 50 M chunks, ~33 M
                                  # repairs, peaked 10 GiB above the per-chunk state); issue 20 left ~230 B
                                  # (5 M chunks, 3.7 M repairs: 1,354 MB peak, 510 MB after the build), kept
                                  # as a margin
_BASE = 100 * 2**20               # the interpreter, NumPy, pandas, SimPy (a tiny simulate() peaks at 89 MiB)
_FIGURES = 100 * 2**20            # matplotlib and the figures, with outputs.figures


@dataclass(frozen=True)
class Estimate:
    """A run's expected peak memory and event count, with the largest contributions named."""

    memory_bytes: int
    events: int
    memory_parts: dict
    event_parts: dict

    def biggest(self, parts: dict) -> str:
        return max(parts, key=parts.get) if parts else ""


def machine_memory() -> int:
    """Physical memory of this machine in bytes (0 if unknown)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 0


def _width(config: Config) -> int:
    red = config.redundancy
    return max(red.replication_factor if "replication" in config.assignable_modes() else 0,
               red.data_shards + red.parity_shards if "erasure_coding" in config.assignable_modes() else 0)


def _outlasts(detection: float, downtime: float) -> float:
    """Share of outages (exponential downtime) that last beyond the detection timeout, so they are repaired."""
    if downtime <= 0:
        return 1.0 if detection <= 0 else 0.0
    return math.exp(-detection / downtime)


def repaired_slots(config: Config, horizon: float, chunks: float, width: int) -> tuple[float, float]:
    """Expected repair jobs (rows of the repairs table) over ``horizon`` simulated seconds: after node
    failures (and rack outages), and after disk failures.

    Every slot of a node that is declared dead is rebuilt: permanent failures, transient ones and rack
    outages that outlast ``failures.detection_timeout``, scheduled failures (counted as declared); a disk
    failure rebuilds its share of the node's slots.
    """
    fl, cl = config.failures, config.cluster
    declared = float(len(fl.scheduled))
    if fl.node_mttf > 0:
        share = fl.permanent_fraction + (1 - fl.permanent_fraction) * _outlasts(fl.detection_timeout,
                                                                                 fl.transient_downtime)
        declared += cl.nodes * horizon / fl.node_mttf * share
    if fl.rack_mttf > 0:
        share = 1.0 if fl.rack_permanent else _outlasts(fl.detection_timeout, fl.rack_downtime)
        declared += cl.racks * horizon / fl.rack_mttf * (cl.nodes / cl.racks) * share
    disks = cl.nodes * horizon / fl.disk_mttf if fl.disk_mttf > 0 else 0.0  # nodes x disks, each 1 / disks
    per_node = chunks * width / cl.nodes
    return declared * per_node, disks * per_node


def expected_uploads(config: Config) -> float:
    """Uploads a run draws, at 4 standard deviations above the mean (they are drawn over the whole duration)."""
    mean = config.workload.uploads.rate * config.run.duration
    return mean + 4.0 * math.sqrt(mean) if mean > 0 else 0.0


def estimate(config: Config) -> Estimate:
    """Expected peak memory and event count of a run of ``config``."""
    cat, cl, red, wl = config.catalog, config.cluster, config.redundancy, config.workload
    mig, fl, out = config.migration, config.failures, config.outputs
    horizon = simulated_span(config)  # the duration, or about the first loss with run.stop_at_first_loss
    uploads = expected_uploads(config)
    chunks = config.expected_chunks() + uploads * wl.uploads.chunks_per_video   # arrays hold the uploads from the start
    width = _width(config)

    views = wl.view_rate * horizon + sum(fc.view_rate * min(fc.duration, horizon) for fc in wl.flash_crowds)
    views += len(wl.scheduled_views) + uploads * wl.uploads.mean_views   # at most each upload's lifetime views
    reads = views * max(1.0, cat.chunks_per_video * wl.watch_fraction)
    samples = horizon / out.timeline_interval + 2
    checks = horizon / mig.check_interval if mig.check_interval > 0 else 0.0
    # Node failures lose about chunks x width / nodes slots each; each slot is a repair with a few events.
    node_failures = cl.nodes * horizon / fl.node_mttf if fl.node_mttf > 0 else 0.0
    rack_outages = cl.racks * horizon / fl.rack_mttf if fl.rack_mttf > 0 else 0.0
    failures = node_failures + rack_outages * cl.nodes / cl.racks + len(fl.scheduled)
    # A disk failure loses 1 / disks_per_node of a node's slots; with chunk_weight W each job runs W rounds.
    disk_failures = cl.nodes * cl.disks_per_node * horizon / fl.disk_mttf if fl.disk_mttf > 0 else 0.0
    repairs = failures * chunks * width / cl.nodes
    disk_repairs = disk_failures / cl.disks_per_node * chunks * width / cl.nodes
    rounds = 1.0 if cat.chunk_weight == 1 else 2.0 * cat.chunk_weight
    buckets = (math.ceil(mig.window / mig.window_resolution) + 1
               if mig.popularity_measure == "windowed" else 0)
    event_parts = {
        "chunk reads": 3.0 * reads, "views": 2.0 * views, "timeline samples": samples,
        "popularity checks": checks * max(1.0, cat.videos / 1e4),  # a check is vectorised over the videos
        "repairs": 4.0 * repairs * rounds, "failures": 6.0 * failures,
        "disk repairs": 4.0 * disk_repairs * rounds, "disk failures": 6.0 * disk_failures,
        "popularity window buckets": (horizon / mig.window_resolution if buckets else 0.0),
        "uploads": 4.0 * uploads * width, "deletes": 2.0 * (uploads + wl.deletes.rate * horizon),
    }
    node_jobs, disk_jobs = repaired_slots(config, horizon, chunks, width)
    payload = 0
    if config.codec.verify_payloads:
        per_chunk = max(red.replication_factor * cat.chunk_size,
                        fragment_size(cat.chunk_size, red.data_shards) * (red.data_shards + red.parity_shards))
        payload = chunks * (cat.chunk_size + per_chunk)
    memory_parts = {
        "chunk state": chunks * (_PER_CHUNK + width * _PER_SLOT),
        "videos": (cat.videos + uploads) * _PER_VIDEO,
        "reads table": reads * _PER_READ + views * _PER_VIEW,
        "repairs table": node_jobs * _PER_REPAIR,
        "disk repairs table": disk_jobs * _PER_REPAIR,
        "storage timeline": samples * _PER_SAMPLE,
        "popularity window": buckets * (cat.videos + uploads) * 8,
        "disk queues": sum((end - first) * keys["io_slots"] for _, first, end, keys in cl.pool_list())
        * cl.disks_per_node * _PER_IO_SLOT,
        "disks": cl.nodes * cl.disks_per_node * _PER_DISK,
        "payload bytes": payload,
        "base": _BASE + (_FIGURES if out.figures else 0),
    }
    return Estimate(int(min(sum(memory_parts.values()), 2**80)), int(min(sum(event_parts.values()), 2**80)),
                    memory_parts, event_parts)


class ResourceError(ValueError):
    """A setup refused before it runs; the message is one line with the estimate and the limit."""


def _hard_checks(config: Config) -> None:
    red, cat = config.redundancy, config.catalog
    width = _width(config)
    if width > HARD_LIMITS["slots per chunk (replicas or data + parity fragments)"]:
        key = "redundancy.replication_factor" if red.replication_factor >= width else "redundancy.data_shards"
        raise ResourceError(f"{key}: {width:,} slots per chunk; the model's per-chunk counters hold at most "
                            f"{INT16_MAX:,}")
    if config.cluster.nodes > HARD_LIMITS["cluster.nodes"]:
        raise ResourceError(f"cluster.nodes: {config.cluster.nodes:,} nodes; node ids hold at most {INT32_MAX:,}")
    disks = config.cluster.nodes * config.cluster.disks_per_node
    if disks > HARD_LIMITS["disks (cluster.nodes x cluster.disks_per_node)"]:
        raise ResourceError(f"cluster.disks_per_node: {config.cluster.nodes:,} nodes x "
                            f"{config.cluster.disks_per_node:,} disks = {disks:,} disks; disk ids hold at most "
                            f"{INT32_MAX:,}")
    up = config.workload.uploads
    upload_chunks = expected_uploads(config) * up.chunks_per_video
    if up.rate > 0 and upload_chunks + config.expected_chunks() > HARD_LIMITS["chunks"]:
        raise ResourceError(f"workload.uploads.rate: about {expected_uploads(config):,.0f} uploads of "
                            f"{up.chunks_per_video:,} chunks with the starting catalog's {config.expected_chunks():,}; "
                            f"chunk ids hold at most {INT32_MAX:,}")
    chunks = config.expected_chunks()
    if chunks > HARD_LIMITS["chunks"]:
        if cat.source is not None:
            raise ResourceError(f"catalog.source: {cat.source}: {cat.videos:,} videos of {chunks:,} chunks in all; "
                                f"chunk ids hold at most {INT32_MAX:,}")
        raise ResourceError(f"catalog.videos: {cat.videos:,} videos x {cat.chunks_per_video:,} chunks = {chunks:,} "
                            f"chunks; chunk ids hold at most {INT32_MAX:,}")
    physical = chunks * cat.chunk_weight * width * max(cat.chunk_size, fragment_size(cat.chunk_size, red.data_shards))
    total_capacity = config.cluster.total_capacity()
    for what, value, key in (("the catalog's physical bytes", physical, "catalog.chunk_size"),
                             ("the cluster's capacity", total_capacity, "cluster.node_capacity")):
        if value > HARD_LIMITS["bytes"]:
            raise ResourceError(f"{key}: {what} ({value:.3g} bytes) exceed the model's byte counters "
                                f"(at most 2^62 bytes)")


def _never_ends(config: Config) -> str | None:
    cl, cat, red = config.cluster, config.catalog, config.redundancy
    for mode in sorted(config.assignable_modes()):
        width = red.replication_factor if mode == "replication" else red.data_shards + red.parity_shards
        slot = (cat.chunk_size if mode == "replication" else fragment_size(cat.chunk_size, red.data_shards)) \
            * cat.chunk_weight
        disk = int(cl.pool_list()[cl.pool_of_mode(mode)][3]["node_capacity"]) // cl.disks_per_node
        if slot > disk:                  # a slot lives on one disk: it could never be placed or rebuilt
            key = "catalog.chunk_weight" if cat.chunk_weight > 1 else "catalog.chunk_size"
            return (f"{key}: each {mode} slot is {slot:,} bytes (one of a chunk's {width}, x chunk_weight "
                    f"{cat.chunk_weight}) is larger than a disk ({disk:,} bytes: node_capacity / disks_per_node), "
                    "so it could never be placed or rebuilt")
    fl = config.failures
    if (config.run.stop_at_first_loss and fl.node_mttf == 0 and fl.rack_mttf == 0 and fl.disk_mttf == 0
            and not fl.scheduled and fl.trace is None):
        return ("run.stop_at_first_loss: no failure source (failures.node_mttf, failures.rack_mttf, "
                "failures.disk_mttf, failures.scheduled and failures.trace are all off), so no loss can end the run")
    return None


def check(config: Config, allow_huge: bool = False, memory: int | None = None) -> Estimate:
    """Refuse (:class:`ResourceError`) a setup that cannot fit or cannot end; returns the estimate.

    ``allow_huge`` lifts the memory and event limits, never the hard ones. ``memory`` is the machine's
    memory in bytes (default: this machine's).
    """
    _hard_checks(config)
    reason = _never_ends(config)
    if reason:
        raise ResourceError(reason)
    est = estimate(config)
    if allow_huge:
        return est
    memory = machine_memory() if memory is None else memory
    limit = int(memory * MAX_MEMORY_FRACTION)
    if memory and est.memory_bytes > limit:
        part = est.biggest(est.memory_parts)
        raise ResourceError(f"{_MEMORY_KEYS.get(part, 'catalog.videos')}: the run would need about "
                            f"{_gib(est.memory_bytes)} of memory (mostly {part}, over {_span(config)}), "
                            f"over the limit of {_gib(limit)} "
                            f"(half of this machine's); make it smaller or pass --allow-huge")
    if est.events > MAX_EVENTS:
        part = est.biggest(est.event_parts)
        raise ResourceError(f"{_EVENT_KEYS.get(part, 'run.duration')}: the run would take about {est.events:.2g} "
                            f"simulation events (mostly {part}), over the limit of {MAX_EVENTS:.0e}; shorten it or "
                            "pass --allow-huge")
    return est


_EVENT_KEYS = {
    "chunk reads": "workload.view_rate", "views": "workload.view_rate", "timeline samples": "outputs.timeline_interval",
    "popularity checks": "migration.check_interval", "repairs": "failures.node_mttf", "failures": "failures.node_mttf",
    "disk failures": "failures.disk_mttf", "disk repairs": "failures.disk_mttf",
    "popularity window buckets": "migration.window_resolution", "uploads": "workload.uploads.rate",
    "deletes": "workload.deletes.rate",
}

_MEMORY_KEYS = {
    "chunk state": "catalog.videos", "videos": "catalog.videos", "reads table": "workload.view_rate",
    "repairs table": "failures.node_mttf", "disk repairs table": "failures.disk_mttf",
    "storage timeline": "outputs.timeline_interval", "popularity window": "migration.window_resolution",
    "disk queues": "cluster.io_slots", "disks": "cluster.disks_per_node", "payload bytes": "codec.verify_payloads",
}


def _span(config: Config) -> str:
    from vstack_sim.scenario.units import format_duration

    return f"{format_duration(config.run.duration)} simulated"


def _gib(n: int) -> str:
    return f"{n / 2**30:,.1f} GiB"
