"""Read-latency crossover: p99 of all-replication against all-EC over offered load, on HDD and SSD.

For each device profile (its values untouched: vstack_sim.model.devices), the same catalog,
cluster and seeds are run under both policies at a grid of offered loads (chunk reads per
second; common random numbers, so both policies see the same viewers). The grid is the
utilisation of all-EC's bottleneck with no cache, computed from the parameters:

    disk:  reads/s x k x (positioning + fragment / disk_bandwidth) / disks   (one-slot HDD)
           reads/s x k x fragment / disk_bandwidth / disks                   (shared-path flash)
    NIC:   reads/s x k x fragment / network_bandwidth / nodes

Each row also gives the disks' utilisation for each policy, mean and hottest disk, from the
placement at ingest and the catalog's popularity (every view reads its whole video, so a chunk's
reads are its video's Zipf share over its chunks): a replicated read on one of its r disks at
random (primary: the first; the other choices move load between replicas at run time, so their
hottest disk is given as under random), an EC read on its k data fragments' disks; with a cache,
each chunk's reads less its hits by Che's approximation. Zipf popularity makes the disks holding
the popular chunks busier than the mean.

The p99s are of the reads that reach the store (kinds replication and erasure_coding); with a cache,
its hits (summary reads.latency_ms.cache) are left out, since they are the same under both policies.

Each point runs --seeds seeds (the same seeds under both policies). The p99s are the mean over
seeds with a 95 % t interval, and the verdict is the paired difference (replication - EC) per
seed: "rep lower" or "EC lower" when its 95 % interval excludes 0, else "no difference". The
crossover is where the verdict goes from "EC lower" to "rep lower"; a change through "no
difference" is reported as a range, and if replication is never lower the script says so. A
profile is never changed to produce one.

A replicated read goes to the replica that reads.replica_choice picks (default random, as HDFS;
--choices oracle is the least busy of its r disks, the rule before issue 21, which no client can
know). EC reads are striped (k positionings). Each replica choice, chunk size and cache setting
gets its own table; the EC runs do not depend on the choice, so they run once per chunk size,
device and cache setting. --cache runs every table without and with a cache of 5 % of the
catalog's bytes (the shipped scenarios' basis, docs/model.md "The cache in the shipped
scenarios").

    python benchmarks/crossover.py [--reads 120000] [--seeds 3] [--choices random,oracle]
                                   [--chunk-sizes 256KiB,2MiB,8MiB] [--devices hdd,ssd]
                                   [--loads 0.05,0.2,0.5,0.8] [--cache] [--hedges none,p95]
                                   [--cpu-cores 0]

--hedges runs each replicated table without hedging and with reads.hedge_after (default none,p95: hedged
after the replicated reads' online p95, Cassandra's speculative retry; hedging adds load to the replicas, so
the hottest-disk utilisation above is of the unhedged reads). EC reads have late binding as their counterpart
(workload.late_binding_extra, off here as in the shipped scenarios).

--cpu-cores N gives every node's storage daemon N cores (cluster.cpu_cores_per_node): each disk operation
first costs the profile's CPU time, so an EC read's k operations cost k times a replica read's. The x-axis
stays the disks' and NICs' utilisation (the CPU's is in each run's summary). Hedged runs with a CPU stage keep
a losing primary (reads.hedge_withdraw: keep): the exact withdrawal needs no CPU stage.
"""

from __future__ import annotations

import argparse

import numpy as np

from vstack_sim.analysis.stats import mean_interval
from vstack_sim.analysis.theory import che_lru_hit_probabilities
from vstack_sim.model.simulation import Simulation, simulate
from vstack_sim.scenario.schema import Config

NODES, VIDEOS, CHUNKS_PER_VIDEO = 6, 600, 10
LOADS = (0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
CACHE_FRACTION = 0.05          # of the catalog's bytes, as the shipped scenarios (docs/model.md)
FIRST_SEED = 17

CHOICES = ("random", "primary", "nearest", "least_loaded", "oracle")


def config(device: str, policy: str, reads_per_s: float, n_reads: int, choice: str = "random",
           chunk_size: str = "2MiB", cache: bool = False, seed: int = FIRST_SEED, hedge: str | None = None,
           cpu_cores: int = 0) -> Config:
    data = {
        "name": f"crossover-{device}-{policy}", "run": {"duration": n_reads / reads_per_s, "seed": seed},
        "catalog": {"videos": VIDEOS, "chunks_per_video": CHUNKS_PER_VIDEO, "hot_fraction": 0.05,
                    "chunk_size": chunk_size},
        # Exact withdrawal of a hedge's loser needs no CPU stage (docs/model.md): with one, the loser is kept.
        "reads": {"replica_choice": choice, "hedge_after": hedge, "hedge_withdraw": "keep" if cpu_cores else "exact"},
        "cluster": {"device": device, "nodes": NODES, "racks": NODES, "node_capacity": "40TB",
                    "cpu_cores_per_node": cpu_cores},
        "redundancy": {"policy": policy},
        "failures": {"node_mttf": 0}, "migration": {"check_interval": 0},
        "workload": {"view_rate": reads_per_s / CHUNKS_PER_VIDEO},
        "outputs": {"reads_table_sample": 1000, "timeline_interval": "1d"}}
    if cache:
        chunk_bytes = Config.model_validate(data).catalog.chunk_size
        data["cache"] = {"capacity": int(CACHE_FRACTION * VIDEOS * CHUNKS_PER_VIDEO) * chunk_bytes}
    return Config.model_validate(data)


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


def disk_utilisation(cfg: Config, reads_per_s: float) -> tuple[float, float]:
    """Mean and hottest disk's utilisation at ``reads_per_s`` offered chunk reads (module docstring)."""
    w = Simulation(cfg).build().world
    cl, cat, st = cfg.cluster, w.catalog, w.state
    video = np.asarray(cat.chunk_video)
    per_chunk = cat.popularity[video] / np.bincount(video, minlength=len(cat.popularity))[video]
    if cfg.cache.capacity > 0:
        per_chunk = per_chunk * (1.0 - che_lru_hit_probabilities(per_chunk, cfg.cache.capacity // w.chunk_size))
    busy = np.zeros(w.cluster.disks.n_disks)
    slot_disk = w.cluster.disks.slot_disk
    for mode in (0, 1):
        chunks = np.flatnonzero(st.mode == mode)
        if len(chunks) == 0:
            continue
        nbytes = int(st.mode_request_bytes[mode])
        if cl.shared_disk_bandwidth and cl.io_slots > 1:
            service = nbytes / cl.disk_bandwidth
        else:
            service = (cl.request_latency + nbytes / cl.disk_bandwidth) / cl.io_slots
        if mode == 0:                   # one of r replicas: random spreads evenly, primary reads the first
            slots = [0] if cfg.reads.replica_choice == "primary" else list(range(int(st.mode_width[0])))
        else:                           # the k data fragments
            slots = list(range(int(st.mode_need[1])))
        spread = len(slots) if mode == 0 else 1         # a replicated read is on one of its slots
        share = reads_per_s * per_chunk[chunks] * service / spread
        for j in slots:
            np.add.at(busy, slot_disk[chunks, j], share)
    return float(busy.mean()), float(busy.max())


def p99s(summaries: list[dict], kind: str) -> np.ndarray:
    return np.array([np.nan if s["reads"]["latency_ms"][kind] is None else s["reads"]["latency_ms"][kind]["p99"]
                     for s in summaries])


def verdict(diff) -> str:
    """The paired difference's interval: which is lower, or "no difference" when it holds 0."""
    iv = mean_interval(diff)
    if not (np.isfinite(iv.lo) and np.isfinite(iv.hi)):
        return "no interval"
    return "rep lower" if iv.hi < 0 else "EC lower" if iv.lo > 0 else "no difference"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reads", type=int, default=120_000, help="chunk reads per run (default 120000)")
    ap.add_argument("--seeds", type=int, default=3, help="seeds per point, paired across policies (default 3)")
    ap.add_argument("--choices", default=",".join(CHOICES), help="replica choices (default: all five)")
    ap.add_argument("--chunk-sizes", default="2MiB", help="chunk sizes, e.g. 256KiB,2MiB,8MiB (default 2MiB)")
    ap.add_argument("--devices", default="hdd,ssd", help="device profiles (default hdd,ssd)")
    ap.add_argument("--loads", default=",".join(map(str, LOADS)), help="all-EC utilisations of the grid")
    ap.add_argument("--cache", action="store_true", help="every table without and with a cache (5 %% of the catalog)")
    ap.add_argument("--hedges", default="none,p95",
                    help="reads.hedge_after of the replicated runs, none = no hedging (default none,p95)")
    ap.add_argument("--cpu-cores", type=int, default=0,
                    help="cluster.cpu_cores_per_node of every run (default 0: no CPU stage)")
    args = ap.parse_args()
    if args.seeds < 2:
        ap.error("--seeds: at least 2, for an interval")
    loads = [float(x) for x in args.loads.split(",")]
    print("EC reads are striped: k positionings, the slowest of k (docs/model.md; reports say so in their "
          "ec_striped caveat).")
    for device in args.devices.split(","):
        for size in args.chunk_sizes.split(","):
            for cache in (False, True) if args.cache else (False,):
                ec_runs: dict = {}
                for choice in args.choices.split(","):
                    for hedge in args.hedges.split(","):
                        table(device, size, choice, cache, loads, args.reads, args.seeds, ec_runs,
                              None if hedge == "none" else hedge, args.cpu_cores)


def table(device: str, size: str, choice: str, cache: bool, loads: list[float], n_reads: int, seeds: int,
          ec_runs: dict, hedge: str | None = None, cpu_cores: int = 0) -> None:
    """One crossover table: all-replication under ``choice`` (and ``hedge``) against all-EC (run once, kept in
    ``ec_runs``)."""
    cap, where = ec_capacity(config(device, "erasure_coding", 1.0, 1, chunk_size=size))
    cpu = f", {cpu_cores} daemon cores per node" if cpu_cores else ""
    print(f"\n{device}{cpu}, {size} chunks, replica choice {choice}, hedging {hedge or 'off'}, cache "
          f"{'on (5 % of the catalog)' if cache else 'off'}: {NODES} nodes; all-EC saturates its {where} at "
          f"{cap:,.0f} chunk reads/s (no cache)")
    print(f"  {'EC':>5} {'reads/s':>8} | {'disk util rep':>13} {'disk util EC':>13} | {'rep p99 (95 % CI)':>22} "
          f"{'EC p99 (95 % CI)':>22} | verdict")
    print(f"  {'util':>5} {'':>8} | {'mean hottest':>13} {'mean hottest':>13} |")
    rows = []
    for load in loads:
        rate = load * cap
        run_seeds = range(FIRST_SEED, FIRST_SEED + seeds)
        rep = [simulate(config(device, "replication", rate, n_reads, choice, size, cache, s, hedge,
                               cpu_cores)).summary for s in run_seeds]
        if load not in ec_runs:
            ec_runs[load] = [simulate(config(device, "erasure_coding", rate, n_reads, chunk_size=size,
                                             cache=cache, seed=s, cpu_cores=cpu_cores)).summary for s in run_seeds]
        r99, e99 = p99s(rep, "replication"), p99s(ec_runs[load], "erasure_coding")
        ri, ei = mean_interval(r99), mean_interval(e99)
        rm, rh = disk_utilisation(config(device, "replication", rate, n_reads, choice, size, cache), rate)
        em, eh = disk_utilisation(config(device, "erasure_coding", rate, n_reads, chunk_size=size, cache=cache), rate)
        v = verdict(r99 - e99)
        rows.append((load, v))
        print(f"  {load:5.2f} {rate:8.0f} | {rm:6.2f} {rh:6.2f} {em:6.2f} {eh:6.2f} | "
              f"{ri.estimate:7.1f} [{ri.lo:6.1f}, {ri.hi:6.1f}] {ei.estimate:7.1f} [{ei.lo:6.1f}, {ei.hi:6.1f}] | {v}",
              flush=True)
    print("  " + crossing(rows))


def crossing(rows: list[tuple[float, str]]) -> str:
    """Where the verdict goes from "EC lower" to "rep lower", in the grid's EC utilisation, and the loads above
    it where replication is not lower after all (near saturation the seeds' p99s spread wide)."""
    text = first_crossing(rows)
    if "rep lower" in [v for _, v in rows]:
        at = next(load for load, v in rows if v == "rep lower")
        later = [f"{load:.2f} ({v})" for load, v in rows if load > at and v != "rep lower"]
        if later:
            text += f"; but not lower at {', '.join(later)}"
    return text


def first_crossing(rows: list[tuple[float, str]]) -> str:
    last_ec = None
    for load, v in rows:
        if v == "EC lower":
            last_ec = load
        elif v == "rep lower":
            if last_ec is None:
                return (f"replication's p99 is lower from {load:.2f}; below it no difference (EC's is never "
                        "lower on this grid)")
            between = [x for x, w in rows if last_ec < x < load]
            if between:
                return (f"crossover somewhere between EC util {last_ec:.2f} and {load:.2f}: no difference "
                        f"at {', '.join(f'{x:.2f}' for x in between)}")
            return f"crossover between EC util {last_ec:.2f} and {load:.2f}: replication's p99 is lower above it"
    if last_ec is None:
        return "no difference at any load: no crossover"
    return "no crossover: all-EC's p99 is lower, or no different, at every load"


if __name__ == "__main__":
    main()
