"""A run of the one-stripe durability model: what ``simulate()`` returns when ``run.replications`` is set.

The replications (:mod:`.stripe_durability`) draw from the run's ``durability`` stream, so the same seed
gives the same estimate and the same per-replication table. The summary is small: the estimator, the
stripe, and ``loss_estimate``, P(loss within ``run.duration``) with its relative error and its 99 % interval
(:func:`vstack_sim.analysis.weighted.weighted_estimate`). The table ``replications`` holds each
replication's outcome and weight (its likelihood ratio; 1 under plain Monte Carlo), so the estimate can be
recomputed from the folder: the mean of ``lost x weight``.

Under importance sampling the paths are drawn from a biased measure: the failures, repairs and times along
them are not estimates of the real system, and the run has no reads, storage or latency at all. The
summary says so in ``outputs_note`` and reports none of them.
"""

from __future__ import annotations

import time

import numpy as np

from vstack_sim.analysis.weighted import weighted_estimate
from vstack_sim.model.streams import RandomStreams
from vstack_sim.model.stripe_durability import Stripe, replicate

BIASED_NOTE = ("importance sampling: the replications ran under a biased measure; only loss_estimate (each "
               "replication weighted by its likelihood ratio) estimates the real system. Failure counts, repair "
               "times and loss times along the biased paths are not estimates, and the one-stripe model has no "
               "reads, storage or latency outputs.")
PLAIN_NOTE = ("plain Monte Carlo of the one-stripe model: loss_estimate is the fraction of replications with a "
              "loss; the model has no reads, storage or latency outputs.")


def run_stripe(config) -> tuple[dict, dict, dict]:
    """``(summary, tables, timings)`` of ``config.run.replications`` replications of its stripe."""
    t0 = time.perf_counter()
    run = config.run
    stripe = Stripe.of(config)
    rng = RandomStreams(run.seed).durability
    out = replicate(stripe, run.replications, rng, run.estimator, run.failure_bias)
    lost, weight = out["lost"], out["weight"]
    est = weighted_estimate(np.where(lost, weight, 0.0), 0.99, weighted=out["method"] != "plain")
    estimator = {"kind": run.estimator, "method": out["method"], "replications": run.replications}
    if run.estimator == "importance":
        estimator["failure_bias"] = out["bias"]
        if out["method"] == "hazard_scaling":
            estimator["hazard_factors"] = out["hazard_factors"]
    life = stripe.lifetime
    summary = {
        "model": "one_stripe",
        "run": {"name": config.name, "seed": run.seed, "policy": config.redundancy.policy,
                "duration_s": run.duration, "replications": run.replications},
        "estimator": estimator,
        "stripe": {"mode": stripe.mode, "width": stripe.width, "need": stripe.need,
                   "node_mttf_s": life.mean, "ttf_distribution": "exponential" if life.shape is None else "weibull",
                   "weibull_shape": life.shape, "start_new": stripe.start_new, "mttr_s": stripe.mttr,
                   "detection_s": stripe.detection},
        "loss_estimate": {
            "mission_s": stripe.mission,
            "probability": est["estimate"],
            "std_error": est["std_error"],
            "relative_error": est["relative_error"],
            "interval_99": est["interval"],
            "losses_observed": int(np.count_nonzero(lost)),
        },
        "outputs_note": BIASED_NOTE if run.estimator == "importance" else PLAIN_NOTE,
    }
    import pandas as pd

    tables = {"replications": pd.DataFrame({
        "replication": np.arange(run.replications), "lost": lost, "loss_time_s": out["loss_time_s"],
        "weight": weight, "events": out["events"]})}
    return summary, tables, {"run_s": time.perf_counter() - t0}
