"""Lifetime clocks: when each node and disk of the world fails next, under the real or a scaled hazard.

The failure processes (:mod:`.failures`, :mod:`.disk_failures`) ask a clock for an event that fires when a
component's current life ends, and wait on it. Two clocks:

* :class:`PlainClock` draws the life from :class:`~vstack_sim.model.lifetimes.Lifetime` and waits it out:
  the real measure, and exactly the draws the processes made before clocks existed (same calls, same order).
* :class:`ScaledHazardClock` is importance sampling by **hazard scaling**: every armed component's hazard h
  is scaled to h' = g h, its scale g (>= 1) set by a *plan* from the state whenever the state may have moved
  (:mod:`.hazard_plan` keys it on the world's worst chunk). Any scale known from the past alone gives a valid
  sampling measure. A life is an Exp(1) budget of scaled cumulative hazard: it ends when sum g dH reaches the
  budget, recomputed whenever g changes. The run's likelihood ratio is prod h/h' x exp(-int (h - h')) =
  g^-(each failure, at its g) x exp(sum (g - 1) dH) over every armed component's exposure. Repairs, failure
  kinds and downtimes keep their real laws, so they add nothing to it.

A component is *armed* from the moment its life starts (its node is back, its disk replaced) to its failure,
as in the plain processes, whose timeout also runs while a rack outage holds the node down.
"""

from __future__ import annotations

import math

import numpy as np

from vstack_sim.model.lifetimes import Lifetime


class PlainClock:
    """The real measure: a life drawn from the component kind's lifetime, waited out."""

    log_weight = 0.0      # the real measure's likelihood ratio is 1

    def __init__(self, env, lifetimes: dict[str, Lifetime], start_new: bool):
        self.env, self.lifetimes, self.start_new = env, lifetimes, start_new

    def draw(self, kind: str, rng: np.random.Generator, first: bool) -> float:
        """A life's length: the first one a residual life unless start_new, then fresh ones."""
        life = self.lifetimes[kind]
        return life.first(rng, self.start_new) if first else life.draw(rng)

    def life(self, kind: str, component: int, rng: np.random.Generator, first: bool):
        """An event fired when the component's life ends."""
        return self.env.timeout(self.draw(kind, rng, first))

    def weight_now(self) -> float:
        """The likelihood ratio of the real measure: 1."""
        return 1.0


class ScaledHazardClock:
    """Lives under hazards scaled by a plan of the state, with the run's likelihood ratio.

    ``components``: how many of each kind, in order (``{"node": N, "disk": D}``); component ``j`` of kind ``k`` is
    index ``offset[k] + j``. ``plan(now)`` returns every component's scale (an array >= 1, one per index) and the time
    they expire (inf: never); the world calls :meth:`replan` when the state may have moved.
    """

    def __init__(self, env, lifetimes: dict[str, Lifetime], components: dict[str, int], start_new: bool, plan):
        self.env, self.start_new, self.plan = env, start_new, plan
        self.kinds = list(components)
        sizes = [components[k] for k in self.kinds]
        self.offset = dict(zip(self.kinds, np.cumsum([0] + sizes)[:-1].tolist(), strict=True))
        self.kind_of = np.repeat(np.arange(len(self.kinds), dtype=np.int8), sizes)
        self.life_of = [lifetimes[k] for k in self.kinds]
        n = int(sum(sizes))
        self.armed = np.zeros(n, dtype=bool)
        self.age = np.zeros(n)
        self.budget = np.zeros(n)
        self.scale = np.ones(n)
        self.events: list = [None] * n
        self.t = 0.0
        self.log_weight = 0.0
        self.failures = 0
        self.peak_scale = 1.0
        self._wake = env.event()
        env.process(self._run())

    # -- what the world and the failure processes call ------------------------------------------
    def life(self, kind: str, component: int, rng: np.random.Generator, first: bool):
        """Arm a component: its age (an equilibrium age for a first life unless start_new; else 0) and an Exp(1)
        budget, drawn from its own stream; returns the event fired when the life ends."""
        i = self.offset[kind] + component
        self._advance(self.env.now)
        life = self.life_of[self.kind_of[i]]
        self.age[i] = float(life.age(rng, self.start_new or not first, 1)[0])
        self.budget[i] = float(rng.exponential())
        self.armed[i] = True
        event = self.events[i] = self.env.event()
        self._poke()
        return event

    def replan(self, _event=None) -> None:   # _event: called back by the timeout of an expiring plan
        """The state may have moved, or the plan's time is up: accrue at the old scales up to now, then take the
        plan's, and ask again when they expire."""
        now = self.env.now
        scale, until = self.plan(now)
        scale = np.asarray(scale, dtype=float)
        if scale.shape != self.scale.shape or not np.all(scale >= 1.0) or not np.all(np.isfinite(scale)):
            raise ValueError(f"plan: one finite scale >= 1 per component ({len(self.scale)}), got {scale!r}")
        if not np.array_equal(scale, self.scale):
            self._advance(now)
            self.scale = scale
            self.peak_scale = max(self.peak_scale, float(scale.max(initial=1.0)))
            self._poke()
        if math.isfinite(until) and until > now:
            self.env.timeout(until - now).callbacks.append(self.replan)

    def weight_now(self) -> float:
        """The run's likelihood ratio up to now (real over scaled measure)."""
        self._advance(self.env.now)
        return math.exp(self.log_weight)

    # -- the clock ----------------------------------------------------------------------------------
    def _poke(self) -> None:
        if not self._wake.triggered:
            self._wake.succeed()

    def _by_kind(self, method: str, idx: np.ndarray, x: np.ndarray) -> np.ndarray:
        out = np.empty(len(idx))
        kinds = self.kind_of[idx]
        for k, life in enumerate(self.life_of):
            sel = kinds == k
            if sel.any():
                out[sel] = getattr(life, method)(x[sel])
        return out

    def _advance(self, now: float) -> None:
        """Every armed life ages to ``now`` at its scale; the weight takes (g - 1) dH."""
        dt = now - self.t
        self.t = now
        if dt <= 0:
            return
        idx = np.flatnonzero(self.armed)
        if not len(idx):
            return
        a, g = self.age[idx], self.scale[idx]
        dh = self._by_kind("cumulative_hazard", idx, a + dt) - self._by_kind("cumulative_hazard", idx, a)
        self.log_weight += float(((g - 1.0) * dh).sum())
        self.budget[idx] -= g * dh
        self.age[idx] = a + dt

    def _next(self) -> tuple[float, int]:
        """(time, component) of the next failure at the current scales; (inf, -1) with nothing armed."""
        idx = np.flatnonzero(self.armed)
        if not len(idx):
            return math.inf, -1
        a = self.age[idx]
        left = np.maximum(self.budget[idx], 0.0) / self.scale[idx]
        at = self._by_kind("age_at_hazard", idx, self._by_kind("cumulative_hazard", idx, a) + left) - a
        j = int(np.argmin(at))
        return self.t + max(float(at[j]), 0.0), int(idx[j])

    def _run(self):
        env = self.env
        while True:
            at, who = self._next()
            wake = self._wake
            scale = float(self.scale[who]) if who >= 0 else 1.0
            if math.isfinite(at):
                timer = env.timeout(at - env.now)
                yield env.any_of([timer, wake])
            else:
                timer = None
                yield wake
            if wake.triggered:
                self._wake = env.event()
            self._advance(env.now)
            if timer is not None and timer.processed and self.armed[who]:
                self._fire(who, scale)   # the scale in force when it ran out, not a change at the same instant

    def _fire(self, i: int, scale: float) -> None:
        self.log_weight -= math.log(scale)
        self.failures += 1
        self.armed[i] = False
        self.budget[i] = 0.0
        self.events[i].succeed()
