"""Replications of the full world: P(loss within the mission) with every rule on (``run.replication_model: world``).

The one-stripe model (:mod:`.stripe_durability`) is fast because it draws repair times; a rebuild timed by the
disks and the network, with its queues, caps and restart rule, needs the world. This runs ``run.replications``
independent worlds, one after another, each from its own seed (a named child of ``run.seed``:
:func:`replication_seed`) and each a whole run of the scenario: catalog, placement, failures, repairs, viewers.

* **plain**: the real measure; each replication's weight is 1.
* **importance** (hazard scaling): each world's node and disk lifetimes run on a
  :class:`~vstack_sim.model.hazard_clock.ScaledHazardClock`, so data-destroying failures come faster while a
  chunk is degraded; the replication's weight is its likelihood ratio up to its end.

Each replication records whether it lost a chunk, how many (real chunks), when first, its weight and its
failures. ``loss_estimate`` is P(any chunk lost within ``run.duration``) with its relative error and 99 %
interval (:func:`vstack_sim.analysis.weighted.weighted_estimate`), and ``chunks_lost_estimate`` the expected
chunks lost in the mission (none when ``run.stop_at_first_loss`` ends a world at its first loss, which makes
the probability cheaper). Under importance sampling ``loss_estimate.mean_weight`` checks the weights
(:data:`WEIGHTS_OK`). No timeline is sampled and no per-run summary is built: under importance sampling
the worlds' reads, storage and repairs come from a biased measure and estimate nothing, and under plain
Monte Carlo a user who wants them runs the world once.
"""

from __future__ import annotations

import math

import numpy as np

from vstack_sim.analysis.weighted import weighted_estimate
from vstack_sim.model.hazard_plan import all_up_factor, failure_bias
from vstack_sim.scenario.horizon import rebuild_window

REPLICATION_KEY = 2_000_003
"""The spawn key under which replication r's seed is derived from ``run.seed`` (apart from the named streams)."""

BIASED_NOTE = ("importance sampling: the worlds ran under a biased measure (node and disk failure hazards scaled, "
               "most while a chunk was degraded); only the weighted estimates (each replication weighted by its "
               "likelihood ratio) estimate the real system. Failure counts and loss times along the biased paths "
               "are not estimates, and no read, storage or latency outputs are given.")
PLAIN_NOTE = ("plain Monte Carlo of the full world: loss_estimate is the fraction of replications with a loss; "
              "no read, storage or latency outputs are given (run the world once, run.replications 0, for those).")


WEIGHTS_OK = (0.5, 2.0)
"""The mean weight over all replications is 1 in expectation under any valid biasing. ``weights_ok`` asks that it sit
within 3 standard errors of 1 and inside this band. Otherwise the weights have heavy tails: a few rare, heavy paths
carry the estimate, it and its interval are too low or too high, and a lower ``run.failure_bias`` is needed.
(Measured: well-behaved runs of 500 to 3,000 worlds gave 0.74 to 1.38, within 3 standard errors; heavy-tailed ones
gave 0.02, 0.17 and 11.)"""


def replication_seed(seed: int, replication: int) -> np.random.SeedSequence:
    """The seed of replication ``replication``: a child of ``seed`` named by :data:`REPLICATION_KEY`."""
    return np.random.SeedSequence(seed, spawn_key=(REPLICATION_KEY, replication))


class Replications:
    """The outcome of each world, in order: :meth:`record` one after its run, then :meth:`summary` and
    :meth:`table`. The worlds themselves are run by :func:`vstack_sim.model.simulation.simulate`."""

    COLUMNS = ("lost", "chunks_lost", "first_loss_s", "weight", "log_weight", "failures", "peak_scale", "end_s")

    def __init__(self, config):
        self.config = config
        self.rows = {k: [] for k in self.COLUMNS}

    def record(self, world) -> None:
        """A world that has run: its losses (real chunks), its weight (1 under plain Monte Carlo), its failures."""
        weight = world.clock.weight_now()
        # The losses table, not state.n_lost: a delete takes a lost chunk out of n_lost, and it was lost all the same.
        lost = int(world.losses.column("chunks").sum()) if len(world.losses) else 0
        row = self.rows
        row["lost"].append(lost > 0)
        row["chunks_lost"].append(lost)
        row["first_loss_s"].append(float(world.losses.get("time_s", 0)) if len(world.losses) else math.nan)
        row["weight"].append(weight)
        row["log_weight"].append(float(world.clock.log_weight))   # exact where the weight underflows to 0
        row["failures"].append(len(world.failures))
        row["peak_scale"].append(float(getattr(world.clock, "peak_scale", 1.0)))
        row["end_s"].append(float(world.env.now))

    def table(self):
        import pandas as pd

        return pd.DataFrame({"replication": np.arange(len(self.rows["lost"])), **self.rows})

    def summary(self) -> dict:
        return _summary(self.config, self.rows)


def _weights_ok(weight: np.ndarray) -> bool:
    """The weights' mean is 1 within 3 standard errors and within :data:`WEIGHTS_OK`."""
    mean, se = float(weight.mean()), float(weight.std(ddof=1) / math.sqrt(len(weight)))
    return bool(abs(mean - 1.0) <= 3.0 * se and WEIGHTS_OK[0] <= mean <= WEIGHTS_OK[1])


def _block(values: np.ndarray, weighted: bool, level: float = 0.99) -> dict:
    est = weighted_estimate(values, level, weighted=weighted)
    return {"value": est["estimate"], "std_error": est["std_error"], "relative_error": est["relative_error"],
            "interval_99": est["interval"]}


def _summary(config, rows: dict) -> dict:
    run, f, rep, cl = config.run, config.failures, config.repair, config.cluster
    importance = run.estimator == "importance"
    lost = np.asarray(rows["lost"], dtype=bool)
    weight = np.asarray(rows["weight"], dtype=np.float64)
    estimator = {"kind": run.estimator, "method": "hazard_scaling" if importance else "plain",
                 "replications": run.replications}
    if importance:
        bias = failure_bias(run)
        estimator.update({
            "failure_bias": bias, "factor_all_up": all_up_factor(config), "rebuild_window_s": rebuild_window(config),
            "peak_scale": max(rows["peak_scale"]),
            "plan": "all up: every node and disk x factor_all_up; degraded: the holders of the worst chunks' surviving "
                    "slots x max(1, b / (1 - b) / (their destroying rate x rebuild_window_s)); a node's factor f "
                    "counts as 1 + (f - 1) x permanent_fraction"})
    p = weighted_estimate(np.where(lost, weight, 0.0), 0.99, weighted=importance)
    chunks = None
    if not run.stop_at_first_loss:
        chunks = _block(np.asarray(rows["chunks_lost"], dtype=np.float64) * weight, weighted=True)
    return {
        "model": "world_replications",
        "run": {"name": config.name, "seed": run.seed, "policy": config.redundancy.policy,
                "duration_s": run.duration, "replications": run.replications,
                "stop_at_first_loss": run.stop_at_first_loss},
        "estimator": estimator,
        "world": {"nodes": cl.nodes, "disks_per_node": cl.disks_per_node, "chunks": config.expected_chunks(),
                  "modes": sorted(config.assignable_modes()), "node_mttf_s": f.node_mttf,
                  "permanent_fraction": f.permanent_fraction, "ttf_distribution": f.ttf_distribution,
                  "disk_mttf_s": f.disk_mttf, "disk_ttf_distribution": f.disk_ttf_distribution,
                  "repair_time_model": rep.time_model, "repair_restart": rep.restart},
        "loss_estimate": {
            "mission_s": run.duration,
            "probability": p["estimate"],
            "std_error": p["std_error"],
            "relative_error": p["relative_error"],
            "interval_99": p["interval"],
            "losses_observed": int(np.count_nonzero(lost)),
            "mean_weight": float(weight.mean()),
            "mean_weight_std_error": float(weight.std(ddof=1) / math.sqrt(len(weight))),
            "weights_ok": _weights_ok(weight) if importance else True,
        },
        "chunks_lost_estimate": chunks,
        "outputs_note": BIASED_NOTE if importance else PLAIN_NOTE,
    }
