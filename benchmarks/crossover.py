"""Read-latency crossover: p99 of all-replication against all-EC over offered load, on HDD and SSD.

For each device profile (its values untouched: vstack_sim.model.devices), the same catalog,
cluster and seed are run under both policies at a grid of offered loads (chunk reads per
second; common random numbers, so both policies see the same viewers). The load axis is also
given as the utilisation of all-EC's bottleneck, computed from the parameters:

    disk:  reads/s x k x (positioning + fragment / disk_bandwidth) / disks   (one-slot HDD)
           reads/s x k x fragment / disk_bandwidth / disks                   (shared-path flash)
    NIC:   reads/s x k x fragment / network_bandwidth / nodes

The crossover is the load at which replication's p99 drops below EC's (interpolated between
grid points). If the two do not cross below saturation, the script says so; a profile is never
changed to produce one. Utilisation here is the mean over disks: Zipf popularity makes the
disks holding popular EC chunks busier than that. A replicated read goes to the replica that
reads.replica_choice picks (default random, as HDFS; --choices oracle is the least busy of its r
disks, the rule before issue 21, which no client can know). EC reads are striped (k positionings).

Each replica choice (reads.replica_choice) and chunk size gets its own table; the EC runs do not
depend on the choice, so they run once per chunk size and device.

    python benchmarks/crossover.py [--reads 120000] [--choices random,oracle] [--chunk-sizes 256KiB,2MiB,8MiB]

Not yet here (issue 21): hedging, a cache, hottest-disk utilisation on the x-axis, and "no
difference" where two curves are within their confidence intervals (one seed per point).
"""

from __future__ import annotations

import argparse

from vstack_sim.model.simulation import simulate
from vstack_sim.scenario.schema import Config

NODES, CHUNKS_PER_VIDEO = 6, 10
LOADS = (0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)


CHOICES = ("random", "primary", "nearest", "least_loaded", "oracle")


def config(device: str, policy: str, reads_per_s: float, n_reads: int, choice: str = "random",
           chunk_size: str = "2MiB") -> Config:
    return Config.model_validate({
        "name": f"crossover-{device}-{policy}", "run": {"duration": n_reads / reads_per_s, "seed": 17},
        "catalog": {"videos": 600, "chunks_per_video": CHUNKS_PER_VIDEO, "hot_fraction": 0.05,
                    "chunk_size": chunk_size},
        "reads": {"replica_choice": choice},
        "cluster": {"device": device, "nodes": NODES, "racks": NODES, "node_capacity": "40TB"},
        "redundancy": {"policy": policy},
        "failures": {"node_mttf": 0}, "migration": {"check_interval": 0},
        "workload": {"view_rate": reads_per_s / CHUNKS_PER_VIDEO},
        "outputs": {"reads_table_sample": 1000, "timeline_interval": "1d"}})


def ec_capacity(cfg: Config) -> tuple[float, str]:
    """All-EC chunk reads/s at which its busiest resource reaches utilisation 1, and which one."""
    cl, k = cfg.cluster, cfg.redundancy.data_shards
    frag = -(-cfg.catalog.chunk_size // k)
    disks = cl.nodes * cl.disks_per_node
    if cl.shared_disk_bandwidth and cl.io_slots > 1:
        disk_time = k * frag / cl.disk_bandwidth                 # positioning overlaps over the slots
    else:
        disk_time = k * (cl.request_latency + frag / cl.disk_bandwidth) / cl.io_slots
    disk_cap = disks / disk_time
    nic_cap = cl.nodes * cl.network_bandwidth / (k * frag)
    return (disk_cap, "disk") if disk_cap < nic_cap else (nic_cap, "NIC")


def p99(summary: dict, kind: str) -> float:
    block = summary["reads"]["latency_ms"][kind]
    return float("nan") if block is None else block["p99"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reads", type=int, default=120_000, help="chunk reads per run (default 120000)")
    ap.add_argument("--choices", default=",".join(CHOICES), help="replica choices (default: all five)")
    ap.add_argument("--chunk-sizes", default="2MiB", help="chunk sizes, e.g. 256KiB,2MiB,8MiB (default 2MiB)")
    args = ap.parse_args()
    print("EC reads are striped: k positionings, the slowest of k (docs/model.md; reports say so in their "
          "ec_striped caveat).")
    for device in ("hdd", "ssd"):
        for size in args.chunk_sizes.split(","):
            ec_runs = {}
            for choice in args.choices.split(","):
                table(device, size, choice, args.reads, ec_runs)


def table(device: str, size: str, choice: str, n_reads: int, ec_runs: dict) -> None:
    """One crossover table: all-replication under ``choice`` against all-EC (run once, kept in ``ec_runs``)."""
    cap, where = ec_capacity(config(device, "erasure_coding", 1.0, 1, chunk_size=size))
    print(f"{device}, {size} chunks, replica choice {choice}: {NODES} nodes; all-EC saturates its {where} "
          f"at {cap:,.0f} chunk reads/s")
    print(f"  {'EC util':>7} {'reads/s':>8} {'rep p50':>8} {'rep p99':>8} {'EC p50':>8} {'EC p99':>8}")
    crossed, before = None, None
    for load in LOADS:
        rate = load * cap
        rep = simulate(config(device, "replication", rate, n_reads, choice, size)).summary
        if load not in ec_runs:
            ec_runs[load] = simulate(config(device, "erasure_coding", rate, n_reads, chunk_size=size)).summary
        ec = ec_runs[load]
        r50, r99 = rep["reads"]["latency_ms"]["replication"]["p50"], p99(rep, "replication")
        e50, e99 = ec["reads"]["latency_ms"]["erasure_coding"]["p50"], p99(ec, "erasure_coding")
        print(f"  {load:7.2f} {rate:8.0f} {r50:8.1f} {r99:8.1f} {e50:8.1f} {e99:8.1f}")
        gap = r99 - e99
        if crossed is None and gap < 0:
            # Linear interpolation of the p99 gap between the last two loads.
            crossed = load if before is None else before[0] + (load - before[0]) * before[1] / (before[1] - gap)
        before = (load, gap)
    if crossed is None:
        print(f"  {device}: no crossover below saturation: all-EC's p99 stays at or below all-replication's")
    else:
        print(f"  {device}: crossover at an all-EC utilisation of about {crossed:.2f} "
              f"({crossed * cap:,.0f} chunk reads/s, interpolated): replication's p99 is lower above it")


if __name__ == "__main__":
    main()
