"""Failure processes: node failures, rack outages and scheduled failures (disks: :mod:`.disk_failures`).

Each node has its own process and its own random stream (a child of the
``failures`` stream), so failure times do not depend on anything else in the
run: two policies with the same seed see the same failures. Time to failure is
exponential (mean ``node_mttf``) or Weibull with the same mean; the clock for
the next failure starts when the node (or its replacement) is back. A failure
is permanent with probability ``permanent_fraction``: the data is destroyed
and an empty replacement joins after ``replacement_delay``. Otherwise the
node returns with its data after an exponential downtime.

**Stationary start.** A cluster in production is not a batch of new nodes: its
nodes have run for a while. Unless ``start_new``, a node's first time to failure
is its *residual* life at an equilibrium age, so failures come at the stationary
rate 1/mu from the first day on. The distributions and that draw are
:class:`~vstack_sim.model.lifetimes.Lifetime`'s, shared with the one-stripe
durability model. The world's lifetime clock (:mod:`.hazard_clock`) draws and waits out each life: the real
one, or under importance sampling one whose hazard is scaled.
"""

from __future__ import annotations

import numpy as np

from vstack_sim.scenario.failure_trace import load_trace


class FailureProcesses:
    """Starts the SimPy processes that fail nodes and racks."""

    def __init__(self, world):
        self.w = world
        cfg = world.cfg.failures
        self.cfg = cfg
        n, r = world.cluster.n_nodes, world.cluster.n_racks
        streams = world.rng.substreams("failures", n + r)
        self.node_rng = streams[:n]
        self.rack_rng = streams[n:]

    def start(self) -> None:
        env = self.w.env
        if self.cfg.node_mttf > 0:
            for node in range(self.w.cluster.n_nodes):
                env.process(self._node(node))
        if self.cfg.rack_mttf > 0:
            for rack in range(self.w.cluster.n_racks):
                env.process(self._rack(rack))
        for f in sorted(self.cfg.scheduled, key=lambda f: f.at):
            env.process(self._scheduled(f))

    def schedule(self, f) -> None:
        """Carry out one ScheduledFailure-shaped event at its time (replayed traces use this)."""
        self.w.env.process(self._scheduled(f))

    def _downtime(self, rng: np.random.Generator, kind: str) -> float:
        if kind == "permanent":
            return self.cfg.replacement_delay
        mean = self.cfg.transient_downtime
        return float(rng.exponential(mean)) if mean > 0 else 0.0

    def _node(self, node: int):
        rng, first = self.node_rng[node], True
        while True:
            yield self.w.clock.life("node", node, rng, first)   # the next lifetime starts when the node is back
            first = False
            kind = "permanent" if rng.random() < self.cfg.permanent_fraction else "transient"
            downtime = self._downtime(rng, kind)
            back = self.w.fail_node(node, kind, "random", downtime)
            if back is not None:
                yield back
            else:   # already down for another reason: the clock restarts when it is back
                yield self.w.node_back[node]

    def _rack(self, rack: int):
        env, rng = self.w.env, self.rack_rng[rack]
        kind = "permanent" if self.cfg.rack_permanent else "transient"
        while True:
            yield env.timeout(float(rng.exponential(self.cfg.rack_mttf)))
            if kind == "permanent":
                downtime = self.cfg.replacement_delay
            else:
                downtime = float(rng.exponential(self.cfg.rack_downtime)) if self.cfg.rack_downtime > 0 else 0.0
            # A node already down stays down for the outage too; the rack is back when all its nodes are.
            nodes = self.w.cluster.rack_nodes[rack].tolist()
            backs = [self.w.fail_node(int(n), kind, "rack", downtime) or self.w.node_back[n] for n in nodes]
            backs = [b for b in backs if not b.triggered]
            if backs:
                yield env.all_of(backs)

    def _scheduled(self, f):
        env = self.w.env
        yield env.timeout(f.at)
        if f.disk is not None:
            delay = self.cfg.disk_replacement_delay if f.duration is None else f.duration
            self.w.disk_failures.fail(f.node * self.w.cluster.disks.per_node + f.disk, "scheduled", delay)
            return
        if f.duration is not None:
            duration = f.duration
        elif f.kind == "permanent":
            duration = self.cfg.replacement_delay
        else:
            duration = self.cfg.transient_downtime
        nodes = [f.node] if f.node is not None else self.w.cluster.rack_nodes[f.rack].tolist()
        for n in nodes:
            self.w.fail_node(int(n), f.kind, "scheduled", duration)


def replay_trace(failures, path, nodes: int, racks: int) -> int:
    """Schedule every event of the log through ``failures`` (a FailureProcesses); returns how many."""
    # Read and checked by the scenario layer (cached): the same arguments as the scenario's check.
    events = load_trace(path, nodes, racks, failures.w.cluster.disks.per_node)
    for event in sorted(events, key=lambda e: e.at):
        failures.schedule(event)
    return len(events)
