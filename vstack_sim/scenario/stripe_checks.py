"""What replicated durability runs (``run.replications``, ``run.estimator``) can run: above all the one-stripe model.

The model (:mod:`vstack_sim.model.stripe_durability`) simulates one stripe's slots, their node failures and
their rebuilds, nothing else. A scenario that asks it for anything more is refused here, when the scenario
is read, with the key that it cannot honour, instead of giving an estimate of a different system.
"""

from __future__ import annotations


def check_stripe_model(config) -> None:
    """Raise ValueError naming the first key the one-stripe model cannot honour (nothing when it is off)."""
    run = config.run
    if run.replications == 0:
        if run.estimator == "importance":
            raise ValueError("run.estimator: importance sampling weighs independent replications; set "
                             "run.replications to their number (at least 2)")
        if run.replication_model != "one_stripe":
            raise ValueError("run.replication_model: names what each replication simulates; set run.replications "
                             "to their number (at least 2)")
        return
    if run.failure_bias is not None and run.estimator != "importance":
        raise ValueError("run.failure_bias: biases importance sampling only; set run.estimator: importance or "
                         "leave it out")
    if run.replications < 2:
        raise ValueError("run.replications: an estimate with an interval needs at least 2 replications "
                         "(0 runs the full world once)")
    if run.replication_model == "world":
        _check_world_replications(config)
        return
    cat, f, rep = config.catalog, config.failures, config.repair
    refuse = [
        (cat.videos != 1 or cat.chunks_per_video != 1 or cat.chunk_count_distribution != "fixed"
         or cat.source is not None, "catalog.videos",
         "the one-stripe durability model simulates one chunk: catalog.videos 1 and catalog.chunks_per_video 1"),
        (cat.chunk_weight != 1, "catalog.chunk_weight", "the one-stripe durability model needs 1"),
        (len(config.assignable_modes()) != 1, "redundancy.policy",
         "the one-stripe durability model needs one mode: replication or erasure_coding"),
        (f.node_mttf <= 0, "failures.node_mttf", "the one-stripe durability model needs node failures (> 0)"),
        (f.permanent_fraction != 1, "failures.permanent_fraction",
         "the one-stripe durability model counts data-destroying failures only; it needs 1"),
        (f.rack_mttf > 0, "failures.rack_mttf", "the one-stripe durability model has no racks; it needs 0"),
        (f.disk_mttf > 0, "failures.disk_mttf", "the one-stripe durability model fails nodes only; it needs 0"),
        (bool(f.scheduled), "failures.scheduled", "the one-stripe durability model has no scheduled failures"),
        (f.trace is not None, "failures.trace", "the one-stripe durability model replays no trace"),
        (rep.time_model != "exponential", "repair.time_model",
         "the one-stripe durability model draws repair times: it needs exponential (for I/O-timed repair set "
         "run.replication_model: world)"),
        (rep.streams_per_node != 0, "repair.streams_per_node",
         "the one-stripe durability model repairs every lost slot at once (rate i x 1/mttr): it needs 0"),
        (config.workload.view_rate > 0 or config.workload.flash_crowds or config.workload.scheduled_views,
         "workload.view_rate", "the one-stripe durability model simulates no viewers; it needs 0"),
        (config.workload.uploads.rate > 0, "workload.uploads.rate",
         "the one-stripe durability model has a fixed catalog; it needs 0"),
        (config.workload.deletes.rate > 0, "workload.deletes.rate",
         "the one-stripe durability model has a fixed catalog; it needs 0"),
        (config.codec.verify_payloads, "codec.verify_payloads", "the one-stripe durability model carries no bytes"),
    ]
    for bad, key, why in refuse:
        if bad:
            raise ValueError(f"{key}: with run.replications {run.replications}, {why}")


def _check_world_replications(config) -> None:
    """What replications of the full world need: failures that destroy data, for importance sampling to scale."""
    f = config.failures
    destroys = (f.node_mttf > 0 and f.permanent_fraction > 0) or f.disk_mttf > 0
    if config.run.estimator == "importance" and not destroys:
        raise ValueError("failures.node_mttf: importance sampling in the world scales the hazard of random "
                         "data-destroying failures; set node failures with permanent_fraction > 0, or disk_mttf")
