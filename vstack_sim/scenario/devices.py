"""Storage device profiles: the cluster keys that ``cluster.device`` fills in, each value with its source.

A disk serves a request in two parts: **positioning** (an HDD's seek and
rotation, a flash device's command and read latency), drawn per request from
a distribution with a configured mean and coefficient of variation, and
**transfer**, bytes / bandwidth, fixed. ``cluster.device`` picks a profile
(:data:`PROFILES`); it fills the cluster keys a scenario does not set itself,
so an explicit key always wins. ``custom`` is the model as it was before
profiles: four parallel slots of 50 MB/s, 4 ms fixed positioning, one disk
per node.

Each profile value carries its source in its docstring. Where a value is an
assumption of this model rather than a measured figure, the docstring says so.
The profiles are plain data, so the schema can fill them without the model;
:mod:`vstack_sim.model.devices` draws the positioning times.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

DISTRIBUTIONS = ("deterministic", "lognormal", "gamma")
"""Positioning-time distributions a profile may name."""


class DeviceProfile(BaseModel):
    """The cluster keys a device profile sets (each documented with its source in a subclass)."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    disks_per_node: int
    io_slots: int
    disk_bandwidth: float
    shared_disk_bandwidth: bool
    request_latency: float
    positioning_time: str
    positioning_cv: float
    network_bandwidth: float
    cpu_per_op: float = 0.0005
    """0.5 ms of one core per disk operation, and (cpu_per_byte) 1 s per 350 MB: the storage daemon's cost, the
    same for every device profile (it is software, not the device): Ceph's upstream hardware guidance of one core
    per 1,000-3,000 IOPS and per 200-500 MB/s (M. Nelson, "Ceph OSD CPU Scaling - Part 1", ceph.io, 2022), taken
    near the middle of each range. Used only when cluster.cpu_cores_per_node > 0."""
    cpu_per_byte: float = 1.0 / 350e6
    """1 / 350 MB/s of one core per byte moved: Ceph's guidance of one core per 200-500 MB/s (see cpu_per_op)."""


class HddProfile(DeviceProfile):
    """A 7200 rpm nearline SATA/SAS hard disk (e.g. Seagate Exos X18), twelve to a node."""

    disks_per_node: int = 12
    """12: a 2U server with twelve 3.5" bays, the common throughput-oriented Ceph/HDFS storage node
    (Red Hat Ceph Storage hardware guide); the issue's range is 12 to 60, and Backblaze's Storage
    Pod 6.0 holds 60."""
    io_slots: int = 1
    """1: one actuator positions one head stack, so a disk serves one request at a time (NCQ only
    reorders). Source: Ruemmler and Wilkes, "An Introduction to Disk Drive Modeling", IEEE Computer
    27(3), 1994, section 2; dual-actuator drives (Seagate MACH.2) are the exception."""
    disk_bandwidth: float = 200e6
    """200 MB/s: Seagate Exos X18 data sheet, maximum sustained transfer 270 MB/s at the outer
    diameter, falling towards the inner tracks (zoned recording, Ruemmler and Wilkes section 2);
    200 MB/s is the middle of the issue's 150-250 MB/s range."""
    shared_disk_bandwidth: bool = True
    """True: one head stack, one data path (with one slot it changes nothing)."""
    request_latency: float = 0.008
    """8 ms mean positioning: half a revolution at 7200 rpm is 4.17 ms (Exos X18 data sheet: average
    latency 4.16 ms) plus an average seek of about 4 ms; data-sheet full-stroke-random seeks are
    8-8.5 ms, and Ruemmler and Wilkes show real workloads seek a fraction of that distance. Within the
    issue's 4-12 ms."""
    positioning_time: str = "gamma"
    """gamma: a sum of two non-negative, light-tailed parts (seek and rotation)."""
    positioning_cv: float = 0.4
    """0.4, derived: rotational latency is uniform on [0, 8.33 ms] (sd 2.41 ms); seek times spread
    over roughly 0.5-8 ms (sd about 2 ms, from the seek-time curves in Ruemmler and Wilkes); the
    two are independent, so the sd of the sum is about 3.1 ms on a mean of 8 ms."""
    network_bandwidth: float = 2.5e9
    """2 x 10 GbE (2.5 GB/s): twelve disks stream 12 x 200 MB/s = 2.4 GB/s, which one 10 GbE port
    (1.25 GB/s) would halve; the Red Hat Ceph Storage hardware guide asks for 10 GbE at least on HDD
    OSD nodes and bonded ports for throughput-oriented ones."""


class SsdProfile(DeviceProfile):
    """A SATA flash SSD (e.g. Samsung 870 EVO / PM893 class), twelve to a node."""

    disks_per_node: int = 12
    """12: the same 2U twelve-bay chassis as the HDD profile (Red Hat Ceph Storage hardware guide)."""
    io_slots: int = 32
    """32: SATA native command queueing holds 32 outstanding commands (Serial ATA revision 2.6, NCQ;
    AHCI 1.3 section 1), and flash serves them on parallel channels."""
    disk_bandwidth: float = 550e6
    """550 MB/s: Samsung 870 EVO data sheet, sequential read up to 560 MB/s, the SATA 6 Gb/s link's
    limit (600 MB/s after 8b/10b encoding)."""
    shared_disk_bandwidth: bool = True
    """True: every command's data crosses the one SATA link, so transfers take turns at
    disk_bandwidth while their positioning overlaps."""
    request_latency: float = 0.0001
    """0.1 ms: Samsung 870 EVO data sheet, 4 KiB random read at queue depth 1 up to 13,000 IOPS,
    i.e. about 77-100 us per request; sub-millisecond as the issue says."""
    positioning_time: str = "lognormal"
    """lognormal: flash latency has a long upper tail from garbage collection, read retries and
    internal contention (Hao et al., "The Tail at Store", FAST 2016)."""
    positioning_cv: float = 1.0
    """1.0: an assumption of this model for that tail (Hao et al. show the tail, not one CV), fixed
    before any crossover was measured."""
    network_bandwidth: float = 6.25e9
    """2 x 25 GbE (6.25 GB/s): twelve SATA SSDs stream 12 x 550 MB/s = 6.6 GB/s; 25 GbE is the
    Red Hat Ceph Storage hardware guide's step up from 10 GbE for flash OSD nodes."""


class NvmeProfile(DeviceProfile):
    """A PCIe 3.0 x4 NVMe data-centre SSD (e.g. Intel DC P4510), ten to a node."""

    disks_per_node: int = 10
    """10: a 1U server with ten U.2 NVMe bays (e.g. Dell PowerEdge R650 10 x 2.5in NVMe
    configuration; PCIe lanes limit 1U NVMe servers to about ten drives)."""
    io_slots: int = 64
    """64: an assumption for the device's internal parallelism; NVMe allows 64 K queues of 64 K
    commands (NVM Express base specification 1.4, section 1.4), flash packages serve tens at once."""
    disk_bandwidth: float = 3.2e9
    """3.2 GB/s: Intel DC P4510 product brief, sequential read up to 3,200 MB/s (PCIe 3.0 x4 carries
    3.94 GB/s)."""
    shared_disk_bandwidth: bool = True
    """True: the PCIe link is one data path; transfers take turns at disk_bandwidth."""
    request_latency: float = 0.00008
    """80 us: Intel DC P4510 product brief, random read latency 77 us (4 KiB, queue depth 1)."""
    positioning_time: str = "lognormal"
    """lognormal: the same flash tail as the SSD profile (Hao et al., FAST 2016)."""
    positioning_cv: float = 1.0
    """1.0: the same assumption as the SSD profile."""
    network_bandwidth: float = 25e9
    """2 x 100 GbE (25 GB/s): ten drives stream 10 x 3.2 GB/s = 32 GB/s, so even 2 x 100 GbE keeps
    the node NIC-bound for large sequential reads; all-NVMe Ceph reference architectures (e.g. Micron's
    and Intel's) use 2 x 100 GbE per node, and issue 21 asks for 2 x 25 GbE at least."""


class CustomProfile(DeviceProfile):
    """The model before device profiles: one disk per node with four 50 MB/s slots, 4 ms fixed positioning."""

    disks_per_node: int = 1
    """1: one disk per node, as in the earlier model."""
    io_slots: int = 4
    """4: the earlier model's four parallel servers per disk."""
    disk_bandwidth: float = 50e6
    """50 MB/s per slot: the earlier model's value."""
    shared_disk_bandwidth: bool = False
    """False: slots transfer in parallel, each at disk_bandwidth (the earlier model)."""
    request_latency: float = 0.004
    """4 ms: the earlier model's fixed request latency."""
    positioning_time: str = "deterministic"
    """deterministic: the earlier model has no service-time variance."""
    positioning_cv: float = 0.0
    """0: the earlier model has no service-time variance."""
    network_bandwidth: float = 1.25e9
    """10 GbE (1.25 GB/s): the earlier model's node NIC."""
    cpu_per_op: float = 0.0
    """0: the earlier model has no CPU cost."""
    cpu_per_byte: float = 0.0
    """0: the earlier model has no CPU cost."""


PROFILES: dict[str, DeviceProfile] = {
    "hdd": HddProfile(), "ssd": SsdProfile(), "nvme": NvmeProfile(), "custom": CustomProfile()}
"""Device name -> the cluster keys it sets (keys a scenario gives explicitly override these)."""

PROFILE_KEYS = tuple(DeviceProfile.model_fields)


def fill_profile(data: dict) -> dict:
    """The cluster section with the device profile's values for every profile key it does not set."""
    device = data.get("device", "hdd")
    profile = PROFILES.get(device) if isinstance(device, str) else None
    if profile is None:
        return data          # the Literal field reports the bad name
    out = dict(data)
    for key in PROFILE_KEYS:
        if key not in out:
            out[key] = getattr(profile, key)
    return out
