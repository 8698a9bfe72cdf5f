"""Queueing checks: the read path's mean latency against Pollaczek-Khinchine.

The setups are the theory tests' (``tests/model/test_theory_md1.py``, ``tests/model/test_theory_mg1.py``, which
build them here): one node, one disk, one I/O slot, Poisson reads of one chunk.

* **M/D/1:** a 2 MiB chunk on the plain device (fixed 4 ms positioning + 2 MiB at 50 MB/s): the mean
  sojourn 1/mu + rho / (2 mu (1 - rho)), plus the fixed network terms (the NIC never queues).
* **M/G/1:** a 64 KiB chunk, lognormal positioning of mean 8 ms and CV 1 plus the fixed transfer; E[S] and
  E[S^2] from the configured distribution (``model.devices.PositioningTimes``).

The simulated mean is over independent seeds, each a run of ``reads / seeds`` expected reads from an empty
queue, with Student's t 99 % interval over the seeds (shown, not judged: the world's mean sits a few tenths
of a percent above the closed form at rho 0.5, inside the theory tests' rule but outside a 25,000-read
interval). The rule is the theory tests': within 3 % of the closed form.
"""

from __future__ import annotations

import numpy as np

from vstack_sim.analysis.stats import mean_interval
from vstack_sim.analysis.theory import md1_mean_sojourn, mg1_mean_sojourn
from vstack_sim.validation.check import CheckSpec, Measurement, Rule

QUIET = {
    "cluster": {"device": "custom", "client_bandwidth": "1Gbps"},
    "reads": {"failure_timeout": 0, "failure_detection": 0},
    "failures": {"node_mttf": 0},
    "workload": {"view_rate": 0},
    "migration": {"check_interval": 0},
}
"""The theory tests' quiet base (``tests/builders.QUIET``): no failures, views or checks, the plain device."""

TOLERANCE = 0.03
PK = ("Pollaczek-Khinchine mean sojourn (Kleinrock, Queueing Systems I, 1975, §5.5) plus the fixed network "
      "terms")

MD1_CHUNK = 2 * 2**20
MD1_SERVICE = 0.004 + MD1_CHUNK / 50e6
MD1_NETWORK = MD1_CHUNK / 1.25e9 + MD1_CHUNK / 1.25e8 + 0.0005

MG1_CHUNK = 64 * 1024
DISK_BW, NIC_BW, CLIENT_BW, NET_LAT, MEAN_POS = 200e6, 1.25e9, 1.25e8, 0.0005, 0.008

# rho -> (seeds, expected reads per seed) by size; the loaded queues run in the full size only (at 4 seeds of
# 100,000 reads their 99 % interval is about +-5 %, wider than the 3 % rule)
SIZES = {
    "md1": {0.5: {"quick": (4, 25_000), "full": (10, 30_000)}, 0.9: {"full": (10, 100_000)}},
    "mg1": {0.5: {"quick": (8, 25_000), "full": (10, 30_000)}, 0.8: {"full": (10, 100_000)}},
}


def _merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for key, value in over.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def md1_scenario(rate: float, duration: float, seed: int) -> dict:
    return _merge(QUIET, {
        "run": {"duration": duration, "seed": seed},
        "catalog": {"videos": 1, "chunks_per_video": 1, "hot_fraction": 1.0},
        "cluster": {"nodes": 1, "racks": 1, "io_slots": 1},
        "redundancy": {"policy": "replication", "replication_factor": 1},
        "workload": {"view_rate": rate},
        "outputs": {"timeline_interval": "1d", "reads_table_sample": 1000},
    })


def mg1_device(kind: str = "lognormal", cv: float = 1.0) -> dict:
    """One disk, one slot, random positioning of mean 8 ms (``kind``, ``cv``) and fixed transfers."""
    return {"device": "hdd", "disks_per_node": 1, "io_slots": 1, "disk_bandwidth": DISK_BW,
            "request_latency": MEAN_POS, "positioning_time": kind, "positioning_cv": cv,
            "network_bandwidth": NIC_BW, "client_bandwidth": CLIENT_BW, "network_latency": NET_LAT}


def mg1_scenario(rate: float, duration: float, seed: int) -> dict:
    return _merge(QUIET, {
        "run": {"duration": duration, "seed": seed},
        "catalog": {"videos": 1, "chunks_per_video": 1, "hot_fraction": 1.0, "chunk_size": MG1_CHUNK},
        "cluster": {"nodes": 1, "racks": 1, **mg1_device()},
        "redundancy": {"policy": "replication", "replication_factor": 1},
        "workload": {"view_rate": rate},
        "outputs": {"timeline_interval": "1d", "reads_table_sample": 1000},
    })


def mg1_moments() -> tuple[float, float]:
    """E[S] and E[S^2] of the M/G/1 check's service: lognormal positioning (CV 1) plus the fixed transfer."""
    from vstack_sim.model.devices import PositioningTimes
    m1, m2 = PositioningTimes("lognormal", MEAN_POS, 1.0, np.random.default_rng(0)).moments()
    transfer = MG1_CHUNK / DISK_BW
    return m1 + transfer, m2 + 2 * m1 * transfer + transfer ** 2


def _measure(scenario, rate: float, sizes: dict):
    def measure(size: str) -> Measurement:
        from vstack_sim.model.simulation import simulate
        from vstack_sim.scenario.schema import Config
        seeds, reads = sizes[size]
        means = []
        for seed in range(seeds):
            s = simulate(Config.model_validate(scenario(rate, reads / rate, 100 + seed))).summary["reads"]
            if s["count"] < 0.97 * reads:
                raise RuntimeError(f"queue check: seed {100 + seed} made {s['count']} reads of about {reads}")
            means.append(s["latency_ms"]["all"]["mean"])
        ci = mean_interval(means, 0.99)
        return Measurement(ci.estimate, ci.lo, ci.hi, f"99 % t over {seeds} seeds",
                           parameters={"seeds": seeds, "reads_per_seed": reads})
    return measure


def queue_checks() -> list[CheckSpec]:
    out = []
    for rho in SIZES["md1"]:
        rate = rho / MD1_SERVICE
        expected = (md1_mean_sojourn(rate, MD1_SERVICE) + MD1_NETWORK) * 1000.0
        out.append(CheckSpec(
            f"md1-rho{rho}", "Pollaczek-Khinchine (M/D/1)", PK,
            {"rho": rho, "service_ms": round(MD1_SERVICE * 1000, 4), "chunk": "2 MiB", "slots": 1},
            expected, "ms", Rule(rel=TOLERANCE), _measure(md1_scenario, rate, SIZES["md1"][rho]),
            sizes=tuple(SIZES["md1"][rho])))
    es, es2 = mg1_moments()
    fixed = MG1_CHUNK / NIC_BW + MG1_CHUNK / CLIENT_BW + NET_LAT
    for rho in SIZES["mg1"]:
        rate = rho / es
        expected = (mg1_mean_sojourn(rate, es, es2) + fixed) * 1000.0
        out.append(CheckSpec(
            f"mg1-rho{rho}", "Pollaczek-Khinchine (M/G/1)", PK,
            {"rho": rho, "positioning": "lognormal, mean 8 ms, CV 1", "chunk": "64 KiB", "slots": 1},
            expected, "ms", Rule(rel=TOLERANCE), _measure(mg1_scenario, rate, SIZES["mg1"][rho]),
            sizes=tuple(SIZES["mg1"][rho])))
    return out
