"""Durability checks: the exact birth-death chain against the simulated world's MTTDL, the importance
estimates of the one-stripe model and of replicated full worlds against the exact transient chain, and the
Backblaze calculator's published rows against :mod:`vstack_sim.analysis.durability`.

The scenarios are the theory tests' (``tests/model/test_theory_mttdl.py`` and
``tests/builders.stripe_scenario`` build them here; the Backblaze rows are ``tests/analysis/test_durability.py``'s):
one stripe on a cluster with 3 spare nodes, every node failure permanent, no detection delay, an empty
replacement at once, exponential repair.

**Serial repair in the world.** ``repair.streams_per_node: 1`` with ``source_streams_per_node: 1`` lets each
node serve one repair read at a time. An RS(3,2) rebuild reads 3 fragments; with two slots down only 3
survive, so the second rebuild waits for every one of them: one rebuild at a time, the serial chain (rate mu
in every state). For 3 replicas it is not: a rebuild holds the stream of the replica it chose, and when that
replica's node fails the rebuild goes on (the exponential model reads its sources as it ends) while the
second rebuild finds the surviving replica free, so two run at once. The world cannot give serial repair of
a replicated stripe, and the one-stripe fast path repairs in parallel only (``stripe_checks``); that check
is reported as not checkable.
"""

from __future__ import annotations

import math

import numpy as np

from vstack_sim.analysis import durability as chain
from vstack_sim.validation.check import CheckSpec, Measurement, Rule

Z99 = 2.5758
DAY = 86400.0
MTTR_H = 3600.0
RATIO = 10
"""node MTTF / MTTR of the MTTDL checks (the theory test's first ratio)."""
MTTDL_SEEDS = {"quick": 30, "full": 300}
IMPORTANCE_REPLICATIONS = {"quick": 4000, "full": 100_000}
WORLD_REPLICATIONS = {"quick": 2000, "full": 10_000}
"""Full worlds of the importance check through the world (about 4 ms each)."""
WIDTH = {"replication": 3, "erasure_coding": 5}
LABEL = {"replication": "3rep", "erasure_coding": "rs32"}
TEXT = {"replication": "3 replicas", "erasure_coding": "RS(3,2)"}


def mttdl_scenario(policy: str, seed: int, repair: str = "parallel", ratio: float = RATIO) -> dict:
    """One stripe until its first loss: the chain with exponential failures and repairs (as a dict)."""
    rep = {"streams_per_node": 0, "bandwidth": 0, "time_model": "exponential", "mttr": MTTR_H}
    if repair == "serial":
        rep.update(streams_per_node=1, source_streams_per_node=1)
    return {
        "name": "mttdl",
        "run": {"seed": seed, "duration": 1e15, "stop_at_first_loss": True},
        "catalog": {"videos": 1, "chunks_per_video": 1, "chunk_size": 3000, "hot_fraction": 0.0},
        "cluster": {"nodes": WIDTH[policy] + 3, "racks": 1},
        "redundancy": {"policy": policy},
        "migration": {"check_interval": 0},
        "workload": {"view_rate": 0},
        "failures": {"node_mttf": ratio * MTTR_H, "permanent_fraction": 1.0, "detection_timeout": 0,
                     "replacement_delay": 0},
        "repair": rep,
        "outputs": {"timeline_interval": 1e15},
    }


def stripe_scenario(policy: str, replications: int) -> dict:
    """Issue 26's importance check: node MTTF 3,650 d, MTTR 1 d, parallel repair, a 365-day mission."""
    return {
        "name": "stripe",
        "run": {"seed": 1, "duration": 365 * DAY, "replications": replications, "estimator": "importance"},
        "catalog": {"videos": 1, "chunks_per_video": 1, "chunk_size": 3000, "hot_fraction": 0.0},
        "cluster": {"nodes": WIDTH[policy] + 3, "racks": 1},
        "redundancy": {"policy": policy},
        "migration": {"check_interval": 0},
        "workload": {"view_rate": 0},
        "failures": {"node_mttf": 3650 * DAY, "permanent_fraction": 1.0, "detection_timeout": 0,
                     "replacement_delay": 0},
        "repair": {"streams_per_node": 0, "bandwidth": 0, "time_model": "exponential", "mttr": DAY},
    }


def _simulate(data: dict):
    from vstack_sim.model.simulation import simulate
    from vstack_sim.scenario.schema import Config
    return simulate(Config.model_validate(data))


def _measure_mttdl(policy: str, repair: str):
    n, lam, mu = WIDTH[policy], 1.0 / (RATIO * MTTR_H), 1.0 / MTTR_H
    sd = chain.ttdl_std(n, 2, lam, mu, repair)

    def measure(size: str) -> Measurement:
        seeds = MTTDL_SEEDS[size]
        times = []
        for seed in range(seeds):
            s = _simulate(mttdl_scenario(policy, seed, repair)).summary["durability"]
            if s["chunks_lost"] != 1:
                raise RuntimeError(f"mttdl check: seed {seed} ended without its one loss")
            times.append(s["first_loss_s"] / 3600.0)
        mean = float(np.mean(times))
        half = Z99 * sd / 3600.0 / math.sqrt(seeds)
        return Measurement(mean, mean - half, mean + half,
                           f"99 %: {Z99} x the chain's exact sd ({sd / 3600:.1f} h) / sqrt({seeds})",
                           parameters={"seeds": seeds})
    return measure


def mttdl_checks() -> list[CheckSpec]:
    out = []
    for policy in ("replication", "erasure_coding"):
        for repair in chain.REPAIRS:
            n = WIDTH[policy]
            exact = chain.mttdl(n, 2, 1.0 / (RATIO * MTTR_H), 1.0 / MTTR_H, repair) / 3600.0
            params = {"code": TEXT[policy], "repair": repair, "node_mttf_h": RATIO, "mttr_h": 1.0,
                      "repair_model": "exponential", "world": "one stripe, 3 spare nodes, stop_at_first_loss"}
            cannot = policy == "replication" and repair == "serial"
            out.append(CheckSpec(
                f"mttdl-{LABEL[policy]}-{repair}", "exact chain",
                f"birth-death chain with {repair} repair (analysis/durability.mttdl; Xorbas, PVLDB 2013, §4)",
                params, exact, "h", Rule(in_interval=True),
                None if cannot else _measure_mttdl(policy, repair),
                "the world gives serial repair of one stripe only when every rebuild needs every survivor "
                "(RS(3,2)); a replica rebuild whose source fails runs on beside the next one, and the one-stripe "
                "fast path repairs in parallel only" if cannot else ""))
    return out


def _measure_importance(policy: str):
    def measure(size: str) -> Measurement:
        reps = IMPORTANCE_REPLICATIONS[size]
        est = _simulate(stripe_scenario(policy, reps)).summary["loss_estimate"]
        lo, hi = est["interval_99"]
        return Measurement(est["probability"], lo, hi, f"99 %, {reps} replications, balanced failure biasing",
                           est["relative_error"], {"replications": reps})
    return measure


def _measure_world_importance(size: str) -> Measurement:
    reps = WORLD_REPLICATIONS[size]
    data = stripe_scenario("erasure_coding", reps)
    data["run"].update(replication_model="world", failure_bias=0.7)
    est = _simulate(data).summary["loss_estimate"]
    lo, hi = est["interval_99"]
    return Measurement(est["probability"], lo, hi, f"99 %, {reps} full worlds, hazard scaling (bias 0.7); "
                       f"mean weight {est['mean_weight']:.3f}", est["relative_error"], {"replications": reps})


def importance_checks() -> list[CheckSpec]:
    out = [CheckSpec(
        "importance-world-rs32", "exact transient chain",
        "[exp(QT)] from all up to lost (issue 26: 2.239e-7), through replications of the full world",
        {"code": "RS(3,2)", "node_mttf_d": 3650, "mttr_d": 1, "mission_d": 365, "repair": "parallel",
         "estimator": "importance", "replication_model": "world"},
        chain.loss_probability(5, 2, 1.0 / (3650 * DAY), 1.0 / DAY, 365 * DAY), "P(loss)",
        Rule(in_interval=True), _measure_world_importance)]
    for policy in ("erasure_coding", "replication"):
        exact = chain.loss_probability(WIDTH[policy], 2, 1.0 / (3650 * DAY), 1.0 / DAY, 365 * DAY)
        out.append(CheckSpec(
            f"importance-{LABEL[policy]}", "exact transient chain",
            "[exp(QT)] from all up to lost (scipy expm; issue 26: 2.239e-7 RS(3,2), 2.240e-8 3 replicas)",
            {"code": TEXT[policy], "node_mttf_d": 3650, "mttr_d": 1, "mission_d": 365, "repair": "parallel",
             "estimator": "importance"},
            exact, "P(loss)", Rule(in_interval=True, max_relative_error=0.10), _measure_importance(policy)))
    return out


BACKBLAZE = "Backblaze erasure-coding-durability calculator, durability.py"
BACKBLAZE_ROWS = [
    # name, k, m, AFR, window days, at least (None: m + 1), published
    ("backblaze-4+2", 4, 2, 0.10, 1.0, None, 1.500e-7),
    ("backblaze-4+2-ge4", 4, 2, 0.10, 1.0, 4, 3.082e-11),
    ("backblaze-4+2-ge5", 4, 2, 0.10, 1.0, 5, 3.377e-15),
    ("backblaze-17+3", 17, 3, 0.00405, 6.5, None, 7.354e-12),
]


def _backblaze_measure(k: int, m: int, afr: float, days: float, at_least: int | None):
    def measure(size: str) -> Measurement:
        return Measurement(chain.annual_loss_probability(k, m, afr, days, at_least), interval="computed")
    return measure


def backblaze_checks() -> list[CheckSpec]:
    out = []
    for name, k, m, afr, days, at_least, published in BACKBLAZE_ROWS:
        cite = (f"{BACKBLAZE} {k} {m} {afr} {days:g}" + ("" if at_least is None else f", row >= {at_least}")
                + ("; Backblaze's 17+3 vault" if k == 17 else ""))
        params = {"data_shards": k, "parity_shards": m, "afr": afr, "rebuild_days": days,
                  "failed_at_least": m + 1 if at_least is None else at_least}
        out.append(CheckSpec(name, "Backblaze calculator", cite, params, published, "P(loss)/yr",
                             Rule(sig_figs=4), _backblaze_measure(k, m, afr, days, at_least)))
    return out
