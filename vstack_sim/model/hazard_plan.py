"""How importance sampling scales the world's failure hazards: a plan keyed on its worst chunk.

Hazard scaling (:class:`~vstack_sim.model.hazard_clock.ScaledHazardClock`) is valid for any scale known from
the past; this plan picks one that makes losses common without wasting weight on failures that cannot cause one.

* **All up** (every stored chunk whole): every node and disk is scaled by f_0 = max(1, 2 / (D T)), D the
  cluster's rate of data-destroying failures at the mean lifetimes and T the mission, so that about two come
  in the mission.
* **Degraded** (some chunk has lost a slot): the *worst* chunks are those with the smallest margin (slots whose
  data exists minus slots needed). Only the components that hold a surviving slot of one of them are scaled
  (their failure brings a loss nearer; any other failure would only add noise to the weight), for
  :data:`WINDOWS` rebuild windows W (:func:`~vstack_sim.scenario.horizon.rebuild_window`) from the moment the
  smallest margin moved, by f = max(1, b / (1 - b) / (R x WINDOWS x W)), R their rate of data-destroying
  failures: another one among them comes within that span with probability about b, ``run.failure_bias``.
  Then the hazards are real again until the smallest margin moves once more. Without that bound a rebuild that
  restarts keeps the chunk degraded, the scaled failures come on and on, and the weights grow heavy tails
  (measured: nearly every replication lost and the mean weight, 1 in expectation, at 0.02 to 0.26); with it,
  one span adds at most b / (1 - b) to the log of the weight. A span of one window was too short for repairs
  drawn from Exp(mttr), whose tail runs past it: losses after it kept their real, rare probability and heavy
  weight (the issue 26 stripe as a world: 1.3e-7 against the exact 2.24e-7, over 8,000 worlds).

A kind whose failures destroy data only with probability p (a node: ``failures.permanent_fraction``) is scaled by
1 + (f - 1) p instead, so transient failures, which lose nothing, are hardly sped up. The plan is recomputed
when the smallest margin moves (:class:`~vstack_sim.model.exposure.Margins`); between such moments it stays as it
was, also when repairs of the worst chunks complete; it depends on the past alone. The scales change only
the variance of the estimate, never its mean.
"""

from __future__ import annotations

import numpy as np

from vstack_sim.analysis.durability import slot_hazard_parts
from vstack_sim.model.exposure import Margins
from vstack_sim.model.hazard_clock import ScaledHazardClock
from vstack_sim.model.stripe_durability import DEFAULT_BIAS
from vstack_sim.scenario.horizon import rebuild_window

WINDOWS = 4.0
"""How many rebuild windows a degraded scale lasts (see the module's docstring): four cover an Exp(mttr) repair
but for e^-4 = 2 % of its mass."""


def destroying_rates(config, nodes: int, disks: int) -> tuple[np.ndarray, np.ndarray]:
    """Per component (nodes, then disks): the share of its failures that destroy data, and its rate (per second)
    of data-destroying failures at its mean lifetime."""
    share = np.concatenate([np.full(nodes, float(config.failures.permanent_fraction)), np.ones(disks)])
    rate = slot_hazard_parts(config.failures)   # the one rule for a slot's hazard, by cause
    return share, np.concatenate([np.full(nodes, rate["node_permanent"]), np.full(disks, rate["disk"])])


def all_up_factor(config) -> float:
    """f_0: about two data-destroying failures in the mission."""
    cl = config.cluster
    _, rate = destroying_rates(config, cl.nodes, cl.nodes * cl.disks_per_node)
    total = float(rate.sum())
    if total <= 0:
        raise ValueError("failures: importance sampling scales the hazard of data-destroying failures, and no random "
                         "node (permanent_fraction > 0) or disk failure destroys data")
    return max(1.0, 2.0 / (total * config.run.duration))


class WorstChunkPlan:
    """The scales of every node and disk of ``world`` under ``run.failure_bias`` ``bias``."""

    def __init__(self, world, bias: float):
        cfg, cl = world.cfg, world.cluster
        self.w, self.bias = world, bias
        self.n_nodes, self.n_disks = cl.n_nodes, cl.disks.n_disks
        self.share, self.rate = destroying_rates(cfg, self.n_nodes, self.n_disks)
        self.disks_fail = cfg.failures.disk_mttf > 0
        self.window = rebuild_window(cfg)
        self.all_up = all_up_factor(cfg)
        self.low, self.since = None, 0.0   # the worst chunk's margin when last asked, and since when

    def _scaled(self, factor: float, which) -> np.ndarray:
        scale = np.ones(len(self.share))
        scale[which] = 1.0 + (factor - 1.0) * self.share[which]
        return scale

    def __call__(self, now: float) -> tuple[np.ndarray, float]:
        """Every component's scale now, and when the plan expires (inf: when the worst chunk changes)."""
        st = self.w.state
        low = st.margins.low
        if low != self.low:              # the worst chunk changed: a new window starts now
            self.low, self.since = low, now
        worst = np.zeros(0, dtype=np.int64) if low is None else \
            np.flatnonzero(~st.lost & (st.exist - st.mode_need[st.mode] == low))
        if not len(worst) or np.all(st.exist[worst] == st.mode_width[st.mode[worst]]):
            return self._scaled(self.all_up, slice(None)), np.inf
        until = self.since + WINDOWS * self.window
        if now >= until or self.window <= 0:    # the window is over: real hazards until the worst chunk changes
            return np.ones(len(self.share)), np.inf
        rows, cols = np.nonzero(st.slot_has_data[worst])
        chunks = worst[rows]
        relevant = np.zeros(len(self.share), dtype=bool)
        relevant[st.slot_node[chunks, cols]] = True
        if self.disks_fail:
            disks = self.w.cluster.disks.slot_disk[chunks, cols]
            relevant[self.n_nodes + disks[disks >= 0]] = True
        rate = float(self.rate[relevant].sum())
        if rate <= 0:
            return np.ones(len(self.share)), np.inf
        return self._scaled(max(1.0, self.bias / (1.0 - self.bias) / (rate * WINDOWS * self.window)), relevant), until


def failure_bias(run) -> float:
    """The bias b of the world's plan: ``run.failure_bias``, or hazard scaling's default."""
    return DEFAULT_BIAS["hazard_scaling"] if run.failure_bias is None else run.failure_bias


def scaled_clock(world, bias: float) -> ScaledHazardClock:
    """The world's clock under hazard scaling by :class:`WorstChunkPlan`, told when the worst chunk changes."""
    cl, fl = world.cluster, world.cfg.failures
    clock = ScaledHazardClock(world.env, world.clock.lifetimes, {"node": cl.n_nodes, "disk": cl.disks.n_disks},
                              fl.start_new, WorstChunkPlan(world, bias))
    Margins.attach(world.state, clock.replan)
    return clock
