"""The disks' I/O scheduler section of the scenario schema (``io``): how client reads, repairs and conversions share
each disk.

Part of :class:`~vstack_sim.scenario.schema.Config`. The classes' budgets live with the classes
(``repair.budget``, ``migration.budget``); this section holds what arbitrates between them at every disk. The
rules and the real systems they follow are in docs/model.md ("I/O classes at the disks").
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from vstack_sim.scenario.sections import Seconds, Section


class MclockClass(Section):
    """One background class's mClock settings, as shares of a disk's time (dmClock, Gulati, Merchant and Varman,
    OSDI'10; Ceph's ``osd_mclock_scheduler_background_*_res/_wgt/_lim``)."""

    reservation: float = Field(0.0, ge=0, le=1)
    """Share of the disk's time the class is guaranteed: its requests join the disk's queue at that pace even while
    client reads wait (0 = none)."""
    weight: float = Field(1.0, gt=0)
    """Its weight against the other background class when a disk has a free server."""
    limit: float = Field(1.0, gt=0, le=1)
    """Most of a disk's time the class may take when it is admitted on weight (1 = no limit)."""

    @model_validator(mode="after")
    def _reservation_within_limit(self):
        if self.reservation > self.limit:
            raise ValueError(f"reservation: {self.reservation} is above the limit {self.limit}")
        return self


class MclockConfig(Section):
    """mClock settings per background class. The defaults follow Ceph's ``balanced`` profile (Reef's mClock config
    reference): background recovery is reserved half of an OSD's capacity; best-effort work (backfill, here
    conversions) is reserved none and limited to 90 %."""

    repair: MclockClass = MclockClass(reservation=0.5, weight=1.0, limit=1.0)
    """Repairs (Ceph's background recovery)."""
    conversion: MclockClass = MclockClass(reservation=0.0, weight=1.0, limit=0.9)
    """Conversions between modes (Ceph's background best effort)."""


class IoConfig(Section):
    """The I/O scheduler at every disk, between client reads and background I/O (repairs and conversions)."""

    scheduler: Literal["fifo", "priority", "mclock"] = "fifo"
    ("fifo: every request joins its disk's queue when issued, in issue order (the rule before issue 22); "
     "priority: a background request waits until a server of its disk is free, so it never starts while a client "
     "read waits (strict, non-preemptive; repairs before conversions), as Ceph's op priorities and Linux's idle I/O "
     "class; mclock: per-class reservation, weight and limit (io.mclock), an approximation of dmClock in which client "
     "reads are never held (docs/model.md).")
    mclock: MclockConfig = MclockConfig()
    """Per-class settings of the mclock scheduler."""
    budget_window: Seconds = Field(1.0, gt=0)
    ("Sliding window over which repair.budget and migration.budget are counted (seconds): about a hundred HDD "
     "operations, short enough that a class over its budget is held back within a second.")
