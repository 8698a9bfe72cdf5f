"""Small scenario builders shared by the model tests."""

from __future__ import annotations

import copy

import numpy as np

from vstack_sim.model.simulation import Simulation
from vstack_sim.scenario.schema import Config
from vstack_sim.validation.durability_checks import stripe_scenario as checked_stripe  # the one check-model runs
from vstack_sim.validation.queue_checks import QUIET as VALIDATION_QUIET

# The hand-computed tests use the plain device (one disk, fixed service); tests of devices set their own.
# They were written for a 1 Gbit/s reader link and failures known at once (the defaults before issue 21);
# the tests of those rules set their own. One copy: the validation checks build on the same quiet base.
QUIET = VALIDATION_QUIET


def merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def config(*layers: dict) -> Config:
    """A quiet scenario (no random failures, views or checks) with the given layers merged in."""
    data = copy.deepcopy(QUIET)
    for layer in layers:
        data = merge(data, layer)
    return Config.model_validate(data)


def one_stripe(nodes: int, policy: str = "erasure_coding", **extra) -> dict:
    """One video of one small chunk on ``nodes`` nodes, one per rack, carrying real bytes."""
    return merge({
        "run": {"duration": "10d"},
        "catalog": {"videos": 1, "chunks_per_video": 1, "chunk_size": 3001,
                    "hot_fraction": 1.0 if policy == "replication" else 0.0},
        "cluster": {"nodes": nodes, "racks": nodes},
        "redundancy": {"policy": policy},
        "codec": {"verify_payloads": True},
    }, extra)


def layout(cfg: Config, chunk: int = 0) -> list[int]:
    """The nodes that hold a chunk's slots right after ingest (placement does not depend on failures)."""
    w = Simulation(cfg).build().world
    row = w.state.slot_node[chunk]
    return [int(n) for n in row if n >= 0]


def fail(at, node, kind="permanent", duration=None) -> dict:
    f = {"at": at, "node": node, "kind": kind}
    if duration is not None:
        f["duration"] = duration
    return f


def frames_equal(a, b) -> bool:
    return a.shape == b.shape and bool(np.all((a == b) | (a.isna() & b.isna())))


DAY = 86400.0


def stripe_scenario(policy: str = "erasure_coding", run: dict | None = None, failures: dict | None = None,
                    **sections) -> Config:
    """One stripe for the one-stripe durability model (``run.replications``): the exact chain's setting of the
    issue 26 checks: node MTTF 3,650 d, every failure permanent, no detection delay, parallel Exp(1 d) repair,
    a 365-day mission, importance sampling over 4,000 replications unless ``run`` says otherwise."""
    data = merge(checked_stripe(policy, 4000), {"run": run or {}, "failures": failures or {}})
    return Config.model_validate(merge(data, sections))
