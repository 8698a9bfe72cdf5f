"""Exposure to loss: chunk-seconds one data-destroying failure from loss, and the losses they imply.

A chunk is **one failure from loss** when it is not lost and exactly ``need`` of its slots still hold
data (``exist == need``: 1 replica, or k fragments), whether or not their nodes are up: a node that is
down but will return still holds its data, so a transient outage does not expose a chunk, only a slot
destroyed (a permanent node failure, a disk failure) does. While it is, any one of its surviving slots
destroyed loses it. A slot on a node that is up is destroyed at the per-slot hazard
``permanent_fraction / node_mttf + 1 / disk_mttf`` (:func:`slot_hazard`); a node that is down does not
fail, and its disks' clocks wait for it (``failures.py``, ``disk_failures.py``), so a slot on a down
node has no hazard. The hazard of a chunk one failure from loss is therefore (its surviving slots on up
nodes) x the per-slot hazard.

:class:`Exposure` integrates, between the moments the state changes (the state's histogram does the
same), the chunks one failure from loss per mode and the **slot-seconds at risk**: the sum over them of
their surviving slots on up nodes. Expected losses = slot-seconds at risk x per-slot hazard. With
exponential lifetimes this is the compensator of the loss count: every loss is a chunk one failure from
loss losing one more slot (a node or a disk holds at most one slot of a chunk), so the expected direct
count and the expected estimate are equal (docs/model.md, "Exposure to loss").

Its interval comes from **exposure episodes**: maximal spans with at least one chunk one failure from
loss. Episodes start with failures and end when repair (or a loss) closes them; taken as independent
and as arriving at random, the total is a compound Poisson sum whose variance is estimated by the sum
of the episodes' squares. The direct count's interval is built the same way from the chunks lost in each
episode (a loss outside any episode, several slots of a chunk destroyed at once, counts on its own).
"""

from __future__ import annotations

import math

import numpy as np

from vstack_sim.analysis.durability import slot_hazard_parts

Z95 = 1.959964
"""The standard normal's 97.5 % quantile: two-sided 95 % intervals."""


def slot_hazard(failures) -> dict:
    """Per-slot rate (per second) of data-destroying failures of the slot's node (permanent ones) and disk, for a
    ``failures`` section (:func:`~vstack_sim.analysis.durability.slot_hazard_parts`). Permanent rack outages are
    left out: one destroys several slots of a chunk at once, which this first-order estimate does not model."""
    parts = slot_hazard_parts(failures)
    return {"node_permanent": parts["node_permanent"], "disk": parts["disk"],
            "total": parts["node_permanent"] + parts["disk"]}


class Exposure:
    """Chunks one failure from loss (per mode), their slots at risk, and both integrated over time."""

    def __init__(self):
        self.critical = [0, 0]          # chunks one failure from loss, per mode
        self.at_risk = 0                # their surviving slots on up nodes
        self.critical_seconds = [0.0, 0.0]
        self.at_risk_seconds = 0.0
        self.open = False               # an episode is under way
        self.episode = 0.0              # slot-seconds at risk of the episode under way
        self.episodes = 0               # episodes closed
        self.episode_squares = 0.0      # sum of the closed episodes' slot-seconds at risk, squared
        self.episode_lost = 0           # chunks lost during the episode under way
        self.lost_squares = 0           # sum of the chunks lost per episode (or per loss outside one), squared

    @property
    def n_critical(self) -> int:
        return self.critical[0] + self.critical[1]

    def advance(self, dt: float) -> None:
        """The counts held for ``dt`` seconds; an episode with nothing exposed any more ends where they began
        (so chunks lost at the moment the last exposed one went still belong to it)."""
        if self.open:
            if not (self.critical[0] or self.critical[1]):
                self.close()
                return
            self.critical_seconds[0] += self.critical[0] * dt
            self.critical_seconds[1] += self.critical[1] * dt
            x = self.at_risk * dt
            self.at_risk_seconds += x
            self.episode += x

    def shift(self, modes: np.ndarray, avail: np.ndarray, sign: int) -> None:
        """Chunks one failure from loss (their modes, available slots) join (+1) or leave (-1) the counts."""
        n_ec = int(np.count_nonzero(modes))
        self.critical[1] += sign * n_ec
        self.critical[0] += sign * (len(modes) - n_ec)
        self.at_risk += sign * int(avail.sum())

    def shift_one(self, mode: int, avail: int, sign: int) -> None:
        """:meth:`shift` for one chunk."""
        self.critical[mode] += sign
        self.at_risk += sign * avail

    def settle(self) -> None:
        """After a change: an episode opens when chunks became exposed."""
        if self.critical[0] or self.critical[1]:
            self.open = True

    def lose(self, n: int) -> None:
        """``n`` chunks were lost now: they count in the episode under way, or on their own outside one."""
        if self.open:
            self.episode_lost += n
        else:
            self.lost_squares += n * n

    def close(self) -> None:
        """Close the episode under way (the end of the run closes one still open)."""
        if self.open:
            self.episodes += 1
            self.episode_squares += self.episode * self.episode
            self.lost_squares += self.episode_lost * self.episode_lost
            self.episode = 0.0
            self.episode_lost = 0
            self.open = False


def _interval(value: float, variance: float) -> list[float] | None:
    if value <= 0:
        return None
    half = Z95 * math.sqrt(variance)
    return [float(f"{max(0.0, value - half):.6g}"), float(f"{value + half:.6g}")]


def exposure_summary(exposure: Exposure, failures, weight: int, chunks_lost: int) -> dict:
    """The summary's ``durability.exposure`` block (chunk counts are real chunks: x ``weight``)."""
    hazard = slot_hazard(failures)
    scale = hazard["total"] * weight
    expected = exposure.at_risk_seconds * scale
    return {
        "one_failure_from_loss_chunk_seconds": {
            mode: round(exposure.critical_seconds[code] * weight, 3)
            for code, mode in enumerate(("replication", "erasure_coding"))},
        "slot_seconds_at_risk": round(exposure.at_risk_seconds * weight, 3),
        "slot_hazard_per_s": {k: float(f"{v:.9g}") for k, v in hazard.items()},
        "episodes": int(exposure.episodes),
        "expected_chunks_lost": float(f"{expected:.6g}"),
        "expected_chunks_lost_95": _interval(expected, exposure.episode_squares * scale * scale),
        "chunks_lost_95": _interval(chunks_lost, exposure.lost_squares * weight * weight),
    }


class Margins:
    """Stored chunks counted by **margin**: slots whose data exists minus slots needed (0: one failure from loss;
    -1: lost, for the moment before it is marked). The smallest margin is the state that importance sampling by
    hazard scaling keys its factor on (:mod:`vstack_sim.model.hazard_clock`); ``on_change`` is called when it moves.
    """

    def __init__(self, width: int, on_change):
        self.count = np.zeros(width + 2, dtype=np.int64)   # index: margin + 1
        self.low: int | None = None                       # the smallest margin of a stored chunk (None: none)
        self.on_change = on_change

    @classmethod
    def attach(cls, state, on_change) -> "Margins":
        """Count a ChunkState's stored chunks from its arrays now, and keep counting them as they change."""
        margins = cls(state.width, on_change)
        c = np.flatnonzero(~state.lost)
        margins.move(state.exist[c] - state.mode_need[state.mode[c]], +1)
        state.margins = margins
        margins.settle()
        return margins

    def move(self, margins: np.ndarray, sign: int) -> None:
        """Chunks of these margins join (+1) or leave (-1) the counts."""
        np.add.at(self.count, np.asarray(margins, dtype=np.int64) + 1, sign)

    def move_one(self, margin: int, sign: int) -> None:
        self.count[margin + 1] += sign

    def settle(self) -> None:
        """After a change: tell ``on_change`` if the smallest margin moved."""
        held = np.flatnonzero(self.count)
        low = int(held[0]) - 1 if len(held) else None
        if low != self.low:
            self.low = low
            self.on_change()

